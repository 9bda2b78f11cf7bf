"""Answers several actions share."""
from __future__ import annotations

from rasa_sdk.executor import CollectingDispatcher

from actions.language import pick
from actions.settings import settings


def try_again_later(dispatcher: CollectingDispatcher, lang: str) -> None:
    dispatcher.utter_message(text=pick(
        lang,
        "Xin lỗi, hệ thống đang bận nên mình chưa tra được. Bạn vui lòng thử lại sau ít phút nhé.",
        "Sorry, the system is busy and I could not look that up. Please try again in a few minutes."))


def hotline_lines(lang: str, *, chat_channel: bool = True) -> list[str]:
    """Emergency numbers (national) and the province's line when it is configured."""
    lines = [pick(lang, "• 113 — Công an (an ninh, trật tự)", "• 113 — Police"),
             pick(lang, "• 114 — Cứu hỏa, cứu nạn cứu hộ", "• 114 — Fire and rescue"),
             pick(lang, "• 115 — Cấp cứu y tế", "• 115 — Ambulance")]
    hotline = settings().province_hotline
    if hotline:
        lines.append(pick(lang, f"• {hotline} — Đường dây nóng của tỉnh Bắc Ninh (IOC)",
                          f"• {hotline} — Bac Ninh province hotline (IOC)"))
    elif chat_channel:   # no number configured (PROVINCE_HOTLINE): the province's own channel is this one
        lines.append(pick(lang, "• Việc không khẩn cấp: phản ánh ngay tại đây, hoặc nhắn \"gặp cán bộ\" "
                                "để nói chuyện với Trung tâm IOC Bắc Ninh",
                          "• Not an emergency: report it right here, or say \"talk to an officer\" to "
                          "reach the Bac Ninh IOC"))
    return lines


SUGGESTIONS = (("Tra cứu phản ánh", "Check a report", "/check_status"),
               ("Gửi phản ánh", "Report a problem", "/report_issue"),
               ("Địa điểm tham quan", "Places to visit", "/tourism_attractions"),
               ("Số điện thoại khẩn cấp", "Hotlines", "/ask_hotline"))


def suggestion_buttons(lang: str) -> list[dict]:
    return [{"title": pick(lang, vi, en), "payload": payload} for vi, en, payload in SUGGESTIONS]
