"""How the console shows things: Vietnamese labels, local times, photo addresses, the
timeline's wording and the small SVG map of a report's position."""
from __future__ import annotations

import math
from datetime import datetime

from flask import current_app, request
from sqlalchemy import select
from sqlalchemy.orm import Session

from api.common.fields import LOCAL_TZ, deadline_text
from api.reference.models import Ward
from api.reports.states import STATUS_LABELS_VI

ROLE_LABELS = {"officer": "Cán bộ xử lý", "unit_head": "Lãnh đạo đơn vị",
               "dispatcher": "Điều phối viên IOC", "admin": "Quản trị hệ thống"}
SLA_STATE_LABELS = {"on_time": "Trong hạn", "due_soon": "Sắp đến hạn", "overdue": "Quá hạn",
                    "none": "Chưa tính hạn"}
SLA_CLASS_LABELS = {"urgent": "Khẩn cấp", "fix_now": "Xử lý ngay", "normal": "Thông thường",
                    "complex": "Phức tạp"}
RETURN_REASON_LABELS = {"not_our_competence": "Không thuộc thẩm quyền của đơn vị",
                        "wrong_location": "Sai vị trí", "insufficient_information": "Thiếu thông tin",
                        "duplicate": "Trùng phản ánh khác", "other": "Lý do khác"}
REJECT_REASON_LABELS = {"spam": "Tin rác, quấy rối", "not_a_problem": "Không phải sự cố",
                        "insufficient_information": "Thiếu thông tin để xử lý",
                        "outside_scope": "Ngoài phạm vi tiếp nhận", "other": "Lý do khác"}
CLOCK_LABELS = {"TRIAGE": "IOC phân loại, chuyển xử lý", "ACCEPT": "Đơn vị tiếp nhận",
                "UNIT_RESOLVE": "Đơn vị xử lý", "RESOLVE": "Trả lời người dân"}
OUTCOME_LABELS = {"met": "Đúng hạn", "breached": "Trễ hạn"}
ACTOR_KIND_LABELS = {"staff": "Cán bộ", "citizen": "Người dân", "system": "Hệ thống"}

# A status change reads as what was done, not as the state reached.
_STATUS_VERBS = {
    "routed": "Chuyển đơn vị xử lý",
    "accepted": "Đơn vị tiếp nhận",
    "in_progress": "Bắt đầu xử lý",
    "waiting_citizen": "Hỏi người dân bổ sung thông tin",
    "resolved": "Trả lời kết quả xử lý",
    "closed": "Đóng phản ánh",
    "returned": "Trả lại cho điều phối viên",
    "rejected": "Từ chối phản ánh",
    "duplicate": "Gộp vào phản ánh trùng",
    "transferred_out": "Chuyển xử lý theo thủ tục khác",
    "reopened": "Người dân chưa đồng ý, mở lại",
}
_EVENT_TITLES = {
    "created": "Người dân gửi phản ánh",
    "triage": "Chờ điều phối viên IOC phân loại",
    "routed": "Tự động chuyển đơn vị xử lý",
    "progress": "Cập nhật tiến độ",
    "assigned": "Giao cán bộ xử lý",
    "extension_requested": "Đề nghị gia hạn",
    "extension_approved": "Đồng ý gia hạn",
    "extension_refused": "Không đồng ý gia hạn",
    "recategorised": "Phân loại lại",
    "class_changed": "Đổi mức độ xử lý",
    "rated": "Người dân đánh giá",
}


# --- times --------------------------------------------------------------------------------

def local_time(value: datetime | None) -> str:
    """"14:05 12/03/2026" in Vietnam time."""
    if value is None:
        return "—"
    return f"{value.astimezone(LOCAL_TZ):%H:%M %d/%m/%Y}"


def iso(value: datetime | None) -> str:
    return value.astimezone(LOCAL_TZ).isoformat(timespec="seconds") if value else ""


def due_text(value: datetime | None) -> str:
    """A deadline as written in Vietnam ("24:00 ngày 12/03/2026")."""
    return deadline_text(value) if value is not None else "—"


# --- photos -------------------------------------------------------------------------------

def local_url(url: str | None) -> str | None:
    """Photo addresses are absolute (PUBLIC_BASE_URL); the console asks its own origin for
    them (this app serves /media/), so the page never calls another host and the
    Content-Security-Policy can stay at 'self'."""
    if not url:
        return url
    base = current_app.config.get("PUBLIC_BASE_URL", "").rstrip("/")
    if base and url.startswith(base + "/"):
        return request.script_root + url[len(base):]
    return url


# --- the timeline -------------------------------------------------------------------------

def event_title(event: dict) -> str:
    kind = event["type"]
    data = event.get("data") or {}
    if kind == "status_changed":
        if event.get("to_status") == "in_progress" and data.get("reply"):
            return "Người dân bổ sung thông tin"
        if event.get("to_status") == "closed" and event.get("actor_kind") == "system":
            return "Tự động đóng phản ánh"
        return _STATUS_VERBS.get(event.get("to_status"), STATUS_LABELS_VI.get(
            event.get("to_status"), "Chuyển trạng thái"))
    if kind == "assigned" and data.get("officer_name"):
        return f"Giao cho {data['officer_name']}"
    if kind == "class_changed":
        return (f"Đổi mức độ: {SLA_CLASS_LABELS.get(data.get('from'), data.get('from') or '—')} → "
                f"{SLA_CLASS_LABELS.get(data.get('to'), data.get('to') or '—')}")
    if kind == "rated" and data.get("score") is not None:
        return f"Người dân đánh giá {data['score']}/5"
    return _EVENT_TITLES.get(kind, kind)


def event_details(event: dict, unit_names: dict[str, str],
                  category_names: dict[str, str]) -> list[tuple[str, str]]:
    """(label, value) lines from the event's data worth showing an officer."""
    data = event.get("data") or {}
    out: list[tuple[str, str]] = []
    reason = data.get("reason_code")
    if reason:
        labels = RETURN_REASON_LABELS if event.get("to_status") == "returned" else REJECT_REASON_LABELS
        out.append(("Lý do", labels.get(reason, reason)))
    if data.get("suggested_unit"):
        out.append(("Đơn vị đề xuất", unit_names.get(data["suggested_unit"], data["suggested_unit"])))
    if data.get("unit_code") and event.get("to_status") == "routed":
        out.append(("Đơn vị xử lý", unit_names.get(data["unit_code"], data["unit_code"])))
    if data.get("resolve_due_at"):
        try:
            out.append(("Hạn trả lời", deadline_text(datetime.fromisoformat(data["resolve_due_at"]))))
        except (TypeError, ValueError):
            pass
    if event.get("type") == "recategorised" and data.get("from"):
        out.append(("Loại trước đó", category_names.get(data["from"], data["from"])))
    if data.get("possible_duplicate_of"):
        out.append(("Có thể trùng với", data["possible_duplicate_of"]))
    return out


# --- the map ------------------------------------------------------------------------------

MAP_W, MAP_H, MAP_PAD = 360, 240, 18
_M_PER_DEG_LAT = 110_574.0
_STEPS = (50, 100, 200, 500, 1000, 2000, 5000, 10_000, 20_000)
_MAX_HALF_SPAN_M = 15_000.0
_MIN_HALF_SPAN_M = 400.0


def _rings(geometry: dict | None) -> list[list[list[float]]]:
    """The outer rings of a GeoJSON (Multi)Polygon."""
    if not geometry:
        return []
    kind, coords = geometry.get("type"), geometry.get("coordinates") or []
    if kind == "Polygon":
        return coords[:1]
    if kind == "MultiPolygon":
        return [polygon[0] for polygon in coords if polygon]
    return []


def _distance_label(meters: float) -> str:
    return f"{meters / 1000:g} km" if meters >= 1000 else f"{meters:g} m"


def point_map(session: Session, lat: float, lon: float, ward_code: str) -> dict:
    """Everything the template needs to draw the report's point as SVG: the point in the
    middle, the ward's outline (when boundaries are loaded) or centroid with its name, the
    neighbouring wards' centroids, a metric grid and a scale bar. No tiles: nothing to fetch."""
    kx = 111_320.0 * math.cos(math.radians(lat))

    def meters(plat: float, plon: float) -> tuple[float, float]:
        return (plon - lon) * kx, (plat - lat) * _M_PER_DEG_LAT

    ward = session.get(Ward, ward_code)
    rings = [[meters(p[1], p[0]) for p in ring if len(p) >= 2] for ring in _rings(
        ward.boundary if ward is not None else None)]
    centre = meters(ward.lat, ward.lon) if ward is not None and ward.lat is not None else None
    reach = [abs(v) for ring in rings for x, y in ring for v in (x, y * MAP_W / MAP_H)]
    if centre is not None:
        reach += [abs(centre[0]), abs(centre[1]) * MAP_W / MAP_H]
    half_w = min(max([_MIN_HALF_SPAN_M] + [r * 1.15 for r in reach]), _MAX_HALF_SPAN_M)
    scale = (MAP_W / 2 - MAP_PAD) / half_w  # px per metre

    def px(x: float, y: float) -> tuple[float, float]:
        return round(MAP_W / 2 + x * scale, 1), round(MAP_H / 2 - y * scale, 1)

    step = next((s for s in _STEPS if s * scale >= 60), _STEPS[-1])
    grid_x = [px(k * step, 0)[0] for k in range(-40, 41) if 0 < px(k * step, 0)[0] < MAP_W]
    grid_y = [px(0, k * step)[1] for k in range(-40, 41) if 0 < px(0, k * step)[1] < MAP_H]

    paths = []
    for ring in rings:
        points, last = [], None
        for x, y in ring:
            p = px(x, y)
            if p != last:
                points.append(p)
                last = p
        if len(points) >= 3:
            paths.append("M" + " L".join(f"{a} {b}" for a, b in points) + " Z")

    ward_point = None
    if centre is not None:
        cx, cy = px(*centre)
        if 0 <= cx <= MAP_W and 0 <= cy <= MAP_H and (abs(centre[0]) > 1 or abs(centre[1]) > 1):
            ward_point = {"x": cx, "y": cy}

    neighbours = []
    dlat = half_w * MAP_H / MAP_W / _M_PER_DEG_LAT
    dlon = half_w / kx
    if ward is not None:
        rows = session.execute(select(Ward.code, Ward.name_short, Ward.lat, Ward.lon).where(
            Ward.province_code == ward.province_code, Ward.code != ward.code,
            Ward.lat.between(lat - dlat, lat + dlat), Ward.lon.between(lon - dlon, lon + dlon))
            .limit(12)).all()
        for row in rows:
            x, y = px(*meters(row.lat, row.lon))
            if MAP_PAD / 2 < x < MAP_W - MAP_PAD / 2 and MAP_PAD / 2 < y < MAP_H - MAP_PAD / 2:
                neighbours.append({"x": x, "y": y, "name": row.name_short})

    bar_px = round(step * scale, 1)
    return {
        "width": MAP_W, "height": MAP_H, "point": {"x": MAP_W / 2, "y": MAP_H / 2},
        "grid_x": grid_x, "grid_y": grid_y, "outlines": paths, "ward_point": ward_point,
        "ward_name": ward.name if ward is not None else ward_code, "neighbours": neighbours,
        "scale": {"x": MAP_PAD, "y": MAP_H - 12, "width": bar_px, "label": _distance_label(step)},
        "lat": lat, "lon": lon,
    }
