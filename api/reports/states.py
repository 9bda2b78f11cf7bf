"""The report lifecycle (DESIGN §4): states and the explicit transition table."""
from __future__ import annotations

STATUSES = ("new", "routed", "accepted", "in_progress", "waiting_citizen", "resolved", "closed",
            "returned", "rejected", "duplicate", "transferred_out", "reopened")

OPEN_STATUSES = ("new", "routed", "accepted", "in_progress", "waiting_citizen", "returned",
                 "reopened")
CLOSED_STATUSES = ("resolved", "closed", "rejected", "duplicate", "transferred_out")

# from → allowed targets. Anything else is 409 INVALID_TRANSITION.
TRANSITIONS: dict[str, frozenset[str]] = {
    "new": frozenset({"routed", "rejected", "duplicate", "transferred_out"}),
    "routed": frozenset({"accepted", "returned", "routed", "rejected", "duplicate",
                         "transferred_out"}),
    "returned": frozenset({"routed", "rejected", "duplicate", "transferred_out"}),
    "accepted": frozenset({"in_progress", "waiting_citizen", "resolved", "returned"}),
    "in_progress": frozenset({"waiting_citizen", "resolved", "returned"}),
    "waiting_citizen": frozenset({"in_progress", "closed"}),
    "resolved": frozenset({"closed", "reopened"}),
    "reopened": frozenset({"routed", "accepted", "in_progress"}),
    "closed": frozenset(),
    "rejected": frozenset(),
    "duplicate": frozenset(),
    "transferred_out": frozenset(),
}

# Open311 has only open/closed; the fine state goes into status_notes.
OPEN311_STATUS = {s: ("open" if s in OPEN_STATUSES else "closed") for s in STATUSES}

STATUS_LABELS_VI = {
    "new": "Mới tiếp nhận",
    "routed": "Đã chuyển đơn vị xử lý",
    "accepted": "Đơn vị đã tiếp nhận",
    "in_progress": "Đang xử lý",
    "waiting_citizen": "Chờ người dân bổ sung thông tin",
    "resolved": "Đã xử lý",
    "closed": "Đã đóng",
    "returned": "Đơn vị trả lại, chờ điều phối",
    "rejected": "Từ chối",
    "duplicate": "Trùng phản ánh khác",
    "transferred_out": "Chuyển xử lý theo thủ tục khác",
    "reopened": "Mở lại",
}


def can_transition(current: str, target: str) -> bool:
    return target in TRANSITIONS.get(current, frozenset())
