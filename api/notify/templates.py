"""What a citizen reads on their phone for each change, in Vietnamese or English.

``kind`` is the report's new status; the FCM data payload (mobile_contracts/push/)
carries the same facts for the app to act on, all values as strings (FCM requires it).
"""
from __future__ import annotations

from dataclasses import dataclass

from api.common.fields import deadline_text

# The statuses a citizen hears about (DESIGN §11); other events stay on the timeline.
PUSH_KINDS = ("routed", "accepted", "in_progress", "waiting_citizen", "resolved", "closed",
              "rejected", "duplicate", "reopened")

_TITLES = {
    "vi": {
        "routed": "Phản ánh {code} đã được chuyển xử lý",
        "accepted": "Phản ánh {code} đã được tiếp nhận",
        "in_progress": "Phản ánh {code} đang được xử lý",
        "waiting_citizen": "Cần bạn bổ sung thông tin cho phản ánh {code}",
        "resolved": "Phản ánh {code} đã được xử lý",
        "closed": "Phản ánh {code} đã đóng",
        "rejected": "Phản ánh {code} không được tiếp nhận",
        "duplicate": "Phản ánh {code} trùng với phản ánh khác",
        "reopened": "Phản ánh {code} đã được mở lại",
    },
    "en": {
        "routed": "Your report {code} has been assigned",
        "accepted": "Your report {code} has been accepted",
        "in_progress": "Work has started on your report {code}",
        "waiting_citizen": "We need more information about your report {code}",
        "resolved": "Your report {code} has been resolved",
        "closed": "Your report {code} is closed",
        "rejected": "Your report {code} was not accepted",
        "duplicate": "Your report {code} duplicates another report",
        "reopened": "Your report {code} has been reopened",
    },
}

_BODIES = {
    "vi": {
        "routed": "Đơn vị xử lý: {unit}.{due}",
        "accepted": "{unit} đã tiếp nhận và sẽ xử lý.{due}",
        "in_progress": "{unit} đang xử lý phản ánh của bạn.",
        "waiting_citizen": "Vui lòng mở ứng dụng để trả lời.",
        "resolved": "Vui lòng xem kết quả và đánh giá mức độ hài lòng.",
        "closed": "Cảm ơn bạn đã phản ánh.",
        "rejected": "Vui lòng xem lý do trong ứng dụng.",
        "duplicate": "Bạn có thể theo dõi phản ánh {duplicate_of}.",
        "reopened": "Phản ánh được xử lý lại theo đề nghị của bạn.",
    },
    "en": {
        "routed": "Assigned to: {unit}.{due}",
        "accepted": "{unit} has accepted it.{due}",
        "in_progress": "{unit} is working on it.",
        "waiting_citizen": "Please open the app to reply.",
        "resolved": "Please check the result and rate it.",
        "closed": "Thank you for reporting.",
        "rejected": "See the reason in the app.",
        "duplicate": "You can follow report {duplicate_of} instead.",
        "reopened": "It will be handled again, as you asked.",
    },
}

_DUE = {"vi": " Hạn trả lời: {deadline}.", "en": " Answer due by {deadline}."}


@dataclass(frozen=True)
class Rendered:
    title: str
    body: str


def render(kind: str, locale: str, *, code: str, unit_name: str | None, note: str | None,
           due_at=None, duplicate_of: str | None = None) -> Rendered:
    lang = locale if locale in _TITLES else "vi"
    due = _DUE[lang].format(deadline=deadline_text(due_at)) if due_at and kind in (
        "routed", "accepted") else ""
    unit = unit_name or ("đơn vị xử lý" if lang == "vi" else "the responsible unit")
    title = _TITLES[lang][kind].format(code=code)
    body = _BODIES[lang][kind].format(unit=unit, due=due, duplicate_of=duplicate_of or "")
    if note and kind in ("waiting_citizen", "rejected", "resolved", "in_progress", "returned"):
        # The officer's public note is the most useful line: it goes first.
        body = f"{note.strip()} — {body}"
    if len(body) > 480:
        body = body[:477] + "…"
    return Rendered(title=title, body=body)


def data_payload(*, kind: str, code: str, status: str, event_id: int, notification_id: int,
                 report_url: str) -> dict[str, str]:
    """The FCM data block (mobile_contracts/push/data-payload.schema.json)."""
    return {"type": "report_update", "kind": kind, "code": code, "status": status,
            "event_id": str(event_id), "notification_id": str(notification_id),
            "report_url": report_url, "deep_link": f"ioc://reports/{code}"}
