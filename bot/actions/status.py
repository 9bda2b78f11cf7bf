"""``action_check_status``: a report's progress, its unit and its deadline in words."""
from __future__ import annotations

from datetime import datetime, timezone
from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.events import SlotSet
from rasa_sdk.executor import CollectingDispatcher

from actions import api_client, cards
from actions.codes import canonical, find_in_text
from actions.language import duration, lang_of, local_moment, parse_time, pick
from actions.replies import try_again_later

# The report no longer waits for anyone: no countdown, say how the deadline went.
FINISHED = frozenset({"resolved", "closed", "rejected", "duplicate", "transferred_out"})
STATUS_LABELS_EN = {
    "new": "Received", "routed": "Sent to the responsible unit", "accepted": "Accepted by the unit",
    "in_progress": "Being handled", "waiting_citizen": "Waiting for more information from you",
    "resolved": "Resolved", "closed": "Closed", "returned": "Returned by the unit, being re-assigned",
    "rejected": "Rejected", "duplicate": "Duplicate of another report",
    "transferred_out": "Transferred to another procedure", "reopened": "Reopened",
}


def status_label(report: dict, lang: str) -> str:
    if lang == "en":
        return STATUS_LABELS_EN.get(report["status"], report["status"])
    return report.get("status_label") or report["status"]


def due_text(report: dict, now: datetime, lang: str) -> str | None:
    """"hạn xử lý: 16:30 thứ Sáu, 27/11/2026 — còn 2 ngày 3 giờ" (or "quá hạn 5 giờ")."""
    sla = report.get("sla") or {}
    due = parse_time(sla.get("due_at"))
    if due is None:
        return None
    head = pick(lang, "hạn xử lý: ", "due: ") + local_moment(due, lang)
    if report["status"] in FINISHED:
        if sla.get("status") == "met":
            return head + pick(lang, " — đã xử lý đúng hạn", " — handled on time")
        if sla.get("status") == "breached":
            return head + pick(lang, " — đã xử lý nhưng trễ hạn", " — handled late")
        return head
    if sla.get("status") == "paused":
        return head + pick(lang, " — tạm dừng trong lúc chờ bạn bổ sung thông tin",
                           " — paused while waiting for your information")
    left = due - now
    if left.total_seconds() >= 0:
        return head + pick(lang, f" — còn {duration(left, lang)}", f" — {duration(left, lang)} left")
    return head + pick(lang, f" — quá hạn {duration(-left, lang)}",
                       f" — overdue by {duration(-left, lang)}")


def requested_code(tracker: Tracker) -> str | None:
    """The code in the latest message (entity, else anywhere in the text), else the slot."""
    for value in reversed(list(tracker.get_latest_entity_values("report_code"))):
        code = canonical(str(value))
        if code:
            return code
    return find_in_text(tracker.latest_message.get("text")) or canonical(tracker.get_slot("report_code"))


def describe(report: dict, now: datetime, lang: str) -> tuple[str, dict]:
    label = status_label(report, lang)
    unit = report.get("unit") or None
    unit_name = (unit.get(f"name_{lang}") or unit.get("name_vi")) if unit else None
    due = due_text(report, now, lang)
    lines = [pick(lang, f"Phản ánh {report['code']}: {label}.", f"Report {report['code']}: {label}.")]
    if unit_name:
        lines.append(pick(lang, f"Đơn vị xử lý: {unit_name}.", f"Handled by: {unit_name}."))
    elif report["status"] not in FINISHED:
        lines.append(pick(lang, "Trung tâm IOC đang chuyển cho đơn vị phụ trách.",
                          "The IOC is assigning it to the responsible unit."))
    if due:
        lines.append(due[0].upper() + due[1:] + ".")
    sla_due = (report.get("sla") or {}).get("due_at")
    card = cards.report_status(report, status_label=label, due_at=sla_due, due_text=due, lang=lang)
    return "\n".join(lines), card


class ActionCheckStatus(Action):
    def name(self) -> str:
        return "action_check_status"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker,
                  domain: dict[str, Any]) -> list[dict[str, Any]]:
        lang = lang_of(tracker)
        code = requested_code(tracker)
        if code is None:
            dispatcher.utter_message(text=pick(
                lang, "Bạn cho mình mã phản ánh nhé (dạng PA-2026-000123, viết liền cũng được).",
                "Please give me the tracking code (like PA-2026-000123; no dashes needed)."))
            return []
        try:
            report = await api_client.get(f"/api/v1/reports/{code}")
        except api_client.ApiRefused as exc:
            if exc.status == 404:
                dispatcher.utter_message(text=pick(
                    lang, f"Mình không tìm thấy phản ánh {code}. Bạn kiểm tra lại mã nhé: mã có dạng "
                          "PA-năm-số thứ tự, ví dụ PA-2026-000123.",
                    f"I could not find report {code}. Please check the code: it looks like "
                    "PA-year-number, e.g. PA-2026-000123."))
                return [SlotSet("report_code", None)]
            try_again_later(dispatcher, lang)
            return []
        except api_client.ApiUnavailable:
            try_again_later(dispatcher, lang)
            return [SlotSet("report_code", code)]
        text, card = describe(report, datetime.now(timezone.utc), lang)
        dispatcher.utter_message(text=text)
        dispatcher.utter_message(json_message=card)
        return [SlotSet("report_code", report["code"])]
