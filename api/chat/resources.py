"""``POST /api/v1/chat`` (the app), ``POST /api/v1/chat/handoffs`` (the bot) and the
dispatchers' handoff queue."""
from __future__ import annotations

import functools
from datetime import datetime, timedelta, timezone

from flask import current_app
from flask_smorest import Blueprint
from sqlalchemy import select

from api.chat import grants, rasa
from api.chat import schemas
from api.chat.models import ChatHandoff
from api.db import db
from api.errors import ApiError
from api.identity.auth import _bearer, current_citizen, current_staff
from api.privacy import audit
from api.reports.codes import parse_code
from api.security.ratelimit import by_citizen_device_and_ip, rate_limit

blp = Blueprint("chat", __name__, url_prefix="/api/v1/chat",
                description="The chatbot (Vietnamese and English)")
staff_blp = Blueprint("chat_handoffs", __name__, url_prefix="/api/v1/staff/chat-handoffs",
                      description="Conversations the bot handed to the IOC")
CHAT_AUTH = [{}, {"firebase": []}, {"device": []}]
STAFF_AUTH = [{"staff": []}]
# The bot asking again within this time gets the conversation's open handoff back.
HANDOFF_REUSE = timedelta(hours=2)


def _caller_first(view):
    """Resolve the caller before the body is parsed: a staff token is refused as such."""
    @functools.wraps(view)
    def wrapper(*args, **kwargs):
        current_citizen(required=False)
        return view(*args, **kwargs)
    return wrapper


def _cfg():
    return current_app.config["APP"]


@blp.route("", methods=["POST"])
@rate_limit("chat", key=by_citizen_device_and_ip,
            per_minute={"citizen": "RATE_LIMIT_CHAT_PER_MINUTE",
                        "ip": "RATE_LIMIT_CHAT_PER_IP_PER_MINUTE"})
@_caller_first
@blp.arguments(schemas.ChatIn)
@blp.response(200, schemas.ChatOut)
@blp.alt_response(429, description="RATE_LIMITED (Retry-After)")
@blp.alt_response(503, description="BOT_UNAVAILABLE (Retry-After): send the message again later")
@blp.doc(security=CHAT_AUTH)
def chat(body):
    """Send one message to the bot, get its replies. Signed-in (or device) citizens can start a
    report from the chat; anyone can ask about report status, places, festivals and hotlines."""
    citizen = current_citizen(required=False)
    sender = f"c{citizen.id}:{body['sender']}" if citizen is not None else f"anon:{body['sender']}"
    cfg = _cfg()
    grant = grants.issue(current_app.config["SECRET_KEY"], sender=sender,
                         citizen_id=citizen.id if citizen is not None else None,
                         ttl_seconds=cfg.CHAT_GRANT_TTL_SECONDS)
    if citizen is not None:
        db.session.commit()  # a first-time device citizen exists before the bot acts for it
    messages = rasa.send(cfg.RASA_URL, sender=sender, message=body["message"],
                         metadata={"grant": grant, "signed_in": citizen is not None},
                         timeout=cfg.CHAT_TIMEOUT_SECONDS)
    return {"sender": body["sender"], "messages": messages}


def _grant() -> grants.Grant:
    token = _bearer()
    if not token:
        raise ApiError(401, "UNAUTHENTICATED", "Cần mã phiên trò chuyện.")
    if not grants.is_grant(token):
        raise ApiError(403, "CHAT_GRANT_ONLY", "Chỉ trợ lý ảo được gọi thao tác này.")
    return grants.decode(current_app.config["SECRET_KEY"], token)


def _grant_first(view):
    """Check the grant before the body is parsed (a refusal says who may call)."""
    @functools.wraps(view)
    def wrapper(*args, **kwargs):
        return view(*args, grant=_grant(), **kwargs)
    return wrapper


@blp.route("/handoffs", methods=["POST"])
@_grant_first
@blp.arguments(schemas.HandoffIn)
@blp.response(201, schemas.HandoffOut)
@blp.alt_response(200, schema=schemas.HandoffOut, description="The conversation's open handoff, again")
@blp.doc(security=[{"chat_grant": []}])
def create_handoff(body, grant: grants.Grant):
    """The bot hands the conversation to a person at the IOC (one open handoff per conversation)."""
    now = datetime.now(timezone.utc)
    existing = db.session.scalar(
        select(ChatHandoff).where(ChatHandoff.sender == grant.sender, ChatHandoff.status == "open",
                                  ChatHandoff.created_at > now - HANDOFF_REUSE)
        .order_by(ChatHandoff.id.desc()).limit(1))
    if existing is not None:
        return existing, 200
    code = body["report_code"]
    handoff = ChatHandoff(
        sender=grant.sender, citizen_id=grant.citizen_id, lang=body["lang"],
        summary=body["summary"], report_code=parse_code(code) if code else None,
        transcript=[{"from": line["speaker"], "text": line["text"]} for line in body["transcript"]],
        status="open")
    db.session.add(handoff)
    db.session.commit()
    return handoff, 201


@staff_blp.route("", methods=["GET"])
@staff_blp.arguments(schemas.HandoffListArgs, location="query")
@staff_blp.response(200, schemas.HandoffListOut)
@staff_blp.doc(security=STAFF_AUTH)
def list_handoffs(args):
    """Dispatchers' queue of conversations waiting for a person, oldest first."""
    current_staff("dispatcher", "admin")
    query = select(ChatHandoff)
    if args["status"] != "all":
        query = query.where(ChatHandoff.status == args["status"])
    order = ChatHandoff.created_at.asc() if args["status"] == "open" else ChatHandoff.created_at.desc()
    items = db.session.scalars(query.order_by(order, ChatHandoff.id).limit(args["limit"])).all()
    return {"items": items}


@staff_blp.route("/<int:handoff_id>/close", methods=["POST"])
@staff_blp.arguments(schemas.HandoffCloseIn)
@staff_blp.response(200, schemas.HandoffStaffOut)
@staff_blp.alt_response(404, description="HANDOFF_NOT_FOUND")
@staff_blp.alt_response(409, description="HANDOFF_CLOSED")
@staff_blp.doc(security=STAFF_AUTH)
def close_handoff(body, handoff_id):
    """The dispatcher has answered the person (by phone, in the app or in person)."""
    staff = current_staff("dispatcher", "admin")
    handoff = db.session.get(ChatHandoff, handoff_id, with_for_update=True)
    if handoff is None:
        raise ApiError(404, "HANDOFF_NOT_FOUND", "Không tìm thấy yêu cầu hỗ trợ.")
    if handoff.status == "closed":
        raise ApiError(409, "HANDOFF_CLOSED", "Yêu cầu hỗ trợ này đã đóng.")
    handoff.status = "closed"
    handoff.closed_at = datetime.now(timezone.utc)
    handoff.closed_by = staff.id
    handoff.close_note = body["note"]
    audit.record(db.session, "chat.handoff.closed", citizen_id=handoff.citizen_id,
                 actor_kind="staff", actor_id=staff.id, detail={"handoff": handoff.reference})
    db.session.commit()
    return handoff
