"""Routing rules, defaults, triage, duplicates and address text, on the real database."""
import pytest
from sqlalchemy import select, text

from api.db import db
from api.reference.models import Unit
from api.reports.models import Report, ReportEvent
from api.routing.geocode import AddressLookup
from api.routing.models import RoutingRule
from api.routing.service import route_report
from tests.api.helpers import BAC_GIANG, BAC_NINH, new_report
from tests.stubs.nominatim import NominatimStub

OFFLINE = AddressLookup(None)


@pytest.fixture()
def session(app, db_session):
    with app.app_context():
        yield db.session


def _report(session, code) -> Report:
    return session.scalar(select(Report).where(Report.code == code))


def _unit(session, code) -> Unit:
    return session.scalar(select(Unit).where(Unit.code == code))


def test_ward_level_category_goes_to_the_ward_ubnd(client, device, session):
    code = new_report(client, device)["code"]  # streetlight_out: handled by the ward
    report = _report(session, code)
    outcome = route_report(session, report.id, OFFLINE)
    assert outcome.status == "routed"
    assert outcome.unit_code == f"UBND-{report.ward_code}"
    assert report.status == "routed" and report.routed_at is not None
    event = session.scalar(select(ReportEvent).where(ReportEvent.report_id == report.id,
                                                     ReportEvent.type == "routed"))
    assert event.public and event.to_status == "routed" and "UBND" in event.note
    assert "Hạn trả lời" in event.note and event.data["resolve_due_at"]


def test_province_level_category_goes_to_its_department(client, device, session):
    code = new_report(client, device, category="bridge_damage")["code"]
    assert route_report(session, _report(session, code).id, OFFLINE).unit_code == "SXD"


def test_most_specific_rule_wins(client, device, session):
    code = new_report(client, device, category="pothole", lat=BAC_GIANG[0], lon=BAC_GIANG[1])["code"]
    report = _report(session, code)
    cat = report.category
    session.add_all([
        RoutingRule(group_code=cat.group_code, unit_id=_unit(session, "SCT").id),
        RoutingRule(category_code=cat.code, unit_id=_unit(session, "SXD").id),
        RoutingRule(category_code=cat.code, ward_code=report.ward_code, unit_id=_unit(session, "MT_BN").id),
        RoutingRule(ward_code=report.ward_code, unit_id=_unit(session, "SNNMT").id, priority=100),
    ])
    session.flush()
    assert route_report(session, report.id, OFFLINE).unit_code == "MT_BN"


def test_rule_for_another_ward_does_not_apply(client, device, session):
    code = new_report(client, device, category="pothole")["code"]
    report = _report(session, code)
    session.add(RoutingRule(category_code="pothole", ward_code="07210", unit_id=_unit(session, "SXD").id))
    session.flush()
    assert report.ward_code != "07210"
    assert route_report(session, report.id, OFFLINE).unit_code == f"UBND-{report.ward_code}"


def test_priority_breaks_ties(client, device, session):
    code = new_report(client, device, category="pothole")["code"]
    session.add_all([RoutingRule(category_code="pothole", unit_id=_unit(session, "SCT").id, priority=1),
                     RoutingRule(category_code="pothole", unit_id=_unit(session, "SXD").id, priority=5)])
    session.flush()
    assert route_report(session, _report(session, code).id, OFFLINE).unit_code == "SXD"


def test_no_unit_goes_to_ioc_triage(client, device, session):
    code = new_report(client, device)["code"]
    report = _report(session, code)
    session.execute(text("UPDATE unit SET active = false WHERE code = :c"),
                    {"c": f"UBND-{report.ward_code}"})
    outcome = route_report(session, report.id, OFFLINE)
    assert outcome.status == "triage" and outcome.unit_code == "IOC"
    assert report.status == "new"
    event = session.scalar(select(ReportEvent).where(ReportEvent.report_id == report.id,
                                                     ReportEvent.type == "triage"))
    assert event is not None and not event.public


def test_routing_twice_is_routing_once(client, device, session):
    code = new_report(client, device)["code"]
    report = _report(session, code)
    assert route_report(session, report.id, OFFLINE).status == "routed"
    assert route_report(session, report.id, OFFLINE).status == "already_done"
    events = session.scalars(select(ReportEvent).where(ReportEvent.report_id == report.id,
                                                       ReportEvent.type == "routed")).all()
    assert len(events) == 1


def test_missing_report(session):
    assert route_report(session, 10**12, OFFLINE).status == "missing"


def test_possible_duplicate_is_flagged(client, device, session):
    first = new_report(client, device)["code"]
    second = new_report(client, device, lat=BAC_NINH[0] + 0.0005)["code"]
    route_report(session, _report(session, first).id, OFFLINE)
    report = _report(session, second)
    route_report(session, report.id, OFFLINE)
    assert report.possible_duplicate_of_id == _report(session, first).id


def test_offline_address_is_ward_and_province(client, device, session):
    code = new_report(client, device)["code"]
    report = _report(session, code)
    route_report(session, report.id, OFFLINE)
    assert report.address.endswith("Tỉnh Bắc Ninh") and report.address.startswith(("Phường", "Xã"))


def test_citizen_address_is_kept(client, device, session):
    code = new_report(client, device, address="Trước cổng chợ Nhớn")["code"]
    report = _report(session, code)
    route_report(session, report.id, OFFLINE)
    assert report.address == "Trước cổng chợ Nhớn"


@pytest.fixture()
def nominatim():
    stub = NominatimStub()
    yield stub
    stub.stop()


def test_nominatim_address(client, device, session, nominatim):
    code = new_report(client, device)["code"]
    report = _report(session, code)
    route_report(session, report.id, AddressLookup(nominatim.url))
    assert report.address.startswith("12 Nguyễn Đăng Đạo")
    assert nominatim.calls and float(nominatim.calls[0]["lat"]) == pytest.approx(report.lat)


@pytest.mark.parametrize("mode", ["error", "empty"])
def test_nominatim_failure_falls_back(client, device, session, nominatim, mode):
    nominatim.mode = mode
    code = new_report(client, device)["code"]
    report = _report(session, code)
    assert route_report(session, report.id, AddressLookup(nominatim.url)).status == "routed"
    assert report.address.endswith("Tỉnh Bắc Ninh")


def test_unreachable_nominatim_falls_back(client, device, session):
    code = new_report(client, device)["code"]
    report = _report(session, code)
    route_report(session, report.id, AddressLookup("http://127.0.0.1:9", timeout=0.5))
    assert report.address.endswith("Tỉnh Bắc Ninh")
