"""The cached public view follows every committed change, and Redis is never required."""
import redis
from sqlalchemy import select

from tests.api.helpers import new_report


def test_committed_change_is_visible_at_once(app, client, device):
    from api.db import db
    from api.reports.models import Report
    code = new_report(client, device)["code"]
    assert client.get(f"/api/v1/reports/{code}").json["description"].startswith("Đèn")
    with app.app_context(), db.unit_of_work() as session:
        report = session.scalar(select(Report).where(Report.code == code))
        report.description = "Đã cập nhật mô tả"
    assert client.get(f"/api/v1/reports/{code}").json["description"] == "Đã cập nhật mô tả"


def test_reads_work_without_redis(app, client, device):
    code = new_report(client, device)["code"]
    working = app.extensions["redis"]
    app.extensions["redis"] = redis.Redis(unix_socket_path="/nonexistent/redis.sock",
                                          socket_connect_timeout=0.1)
    try:
        r = client.get(f"/api/v1/reports/{code}")
        assert r.status_code == 200 and r.json["code"] == code
    finally:
        app.extensions["redis"] = working


def test_etag_changes_with_content(app, client, device):
    from api.db import db
    from api.reports.models import Report
    code = new_report(client, device)["code"]
    etag = client.get(f"/api/v1/reports/{code}").headers["ETag"]
    with app.app_context(), db.unit_of_work() as session:
        session.scalar(select(Report).where(Report.code == code)).address = "Số 1 Lý Thái Tổ"
    r = client.get(f"/api/v1/reports/{code}", headers={"If-None-Match": etag})
    assert r.status_code == 200 and r.headers["ETag"] != etag
