"""Rasa's REST channel, seen from the proxy: one POST per message, replies normalised.

Rasa answers ``[{recipient_id, text?, buttons?, image?, custom?}, …]``. The app gets
``{"type": "text", "text", "buttons"}``, ``{"type": "image", "url"}`` or the bot's cards
as they are (``custom`` with a ``type``, see ``mobile_contracts/chat/``).
"""
from __future__ import annotations

import json
import logging

import urllib3

from api.errors import ApiError

log = logging.getLogger(__name__)
_pool = urllib3.PoolManager(num_pools=4, maxsize=32, retries=False)
RETRY_AFTER_SECONDS = 5


class BotUnavailable(ApiError):
    """The bot is down, starting or too slow: 503 with Retry-After, the message can be resent."""

    def __init__(self, reason: str):
        super().__init__(503, "BOT_UNAVAILABLE",
                         "Trợ lý ảo đang tạm nghỉ, vui lòng thử lại sau ít phút.",
                         {"bot": [reason]}, headers={"Retry-After": str(RETRY_AFTER_SECONDS)})


def send(base_url: str, *, sender: str, message: str, metadata: dict, timeout: float) -> list[dict]:
    url = base_url.rstrip("/") + "/webhooks/rest/webhook"
    body = json.dumps({"sender": sender, "message": message, "metadata": metadata}).encode()
    try:
        response = _pool.request("POST", url, body=body,
                                 headers={"Content-Type": "application/json"},
                                 timeout=urllib3.Timeout(connect=min(2.0, timeout), read=timeout))
    except urllib3.exceptions.HTTPError as exc:
        log.warning("bot unreachable at %s: %s", url, exc)
        raise BotUnavailable(type(exc).__name__) from exc
    if response.status != 200:
        log.warning("bot answered %s: %s", response.status, response.data[:200])
        raise BotUnavailable(f"status {response.status}")
    try:
        replies = json.loads(response.data)
    except ValueError as exc:
        raise BotUnavailable("unreadable answer") from exc
    if not isinstance(replies, list):
        raise BotUnavailable("unexpected answer")
    return normalise(replies)


def normalise(replies: list) -> list[dict]:
    out: list[dict] = []
    for reply in replies:
        if not isinstance(reply, dict):
            continue
        if reply.get("text"):
            message = {"type": "text", "text": str(reply["text"]), "buttons": []}
            for button in reply.get("buttons") or []:
                if isinstance(button, dict) and button.get("title"):
                    message["buttons"].append({"title": str(button["title"]),
                                               "payload": str(button.get("payload") or button["title"])})
            out.append(message)
        elif reply.get("buttons"):   # buttons without text: attach to the previous text
            if out and out[-1]["type"] == "text":
                out[-1]["buttons"].extend({"title": str(b.get("title")), "payload": str(b.get("payload"))}
                                          for b in reply["buttons"] if isinstance(b, dict))
        if reply.get("image"):
            out.append({"type": "image", "url": str(reply["image"])})
        custom = reply.get("custom")
        if isinstance(custom, dict) and isinstance(custom.get("type"), str):
            out.append(custom)
    return out
