"""A citizen's rights over their personal data (DESIGN §10; Decree 13/2023/NĐ-CP and the
Personal Data Protection Law): a copy of everything we hold about them, and erasure.

What erasure does, and why:

- Gone: the citizen's devices (push tokens), inbox (and its push deliveries), follows,
  idempotency keys (they carry the sign-in principal and would replay an old report to
  the same person signing in again), photos uploaded but never attached to a report
  (their GPS was never made public), and the comments of their ratings.
- Kept, cut from the person: their reports. A report is a public-interest record (what was
  broken, where, what the province did), so it stays with its description, location and
  photos, but its contact name/phone are set NULL, ``anonymised_at`` is set, and its owner
  becomes the shared anonymised citizen row (the one the retention job uses), as do the
  scores of their ratings. Citizen actions on those reports (the "created" event, replies,
  disputes) keep their ``actor_kind`` but lose their ``actor_id``: the timeline still reads
  the same and no longer groups the person's reports together.
- Photos on kept reports: the stored derivatives carry no metadata at all (the pipeline
  re-encodes and strips EXIF/XMP/ICC; tests/privacy checks the served bytes); the
  ``photo.lat/lon`` columns are kept because the report's location is public anyway.
  Their ``citizen_id`` is cleared.
- The citizen row itself is kept, emptied: phone, display name and Firebase uid NULL, and
  ``principal`` replaced by ``erased:<random>``. Keeping it (rather than deleting it) keeps
  every id that mentions it valid (audit-log rows, which must outlive what they describe,
  and older rows elsewhere); the new principal lies outside every namespace a caller can
  reach (``fb:`` and ``dev:`` are built by the server from a verified token or a device
  id), so the old Firebase account or device can never sign in to it again. If the same
  person signs in later, a fresh, empty citizen row is created for them.
- The audit log keeps its rows (it is the record of who saw what; it holds ids, not names).
"""
from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import datetime, timezone

from sqlalchemy import delete, func, select, tuple_, update
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.orm import Session

from api.chat.models import ChatHandoff
from api.identity.models import Citizen
from api.ioc.models import ReportRating
from api.notify.models import Device, Notification
from api.photos.models import Photo
from api.photos.urls import photo_out
from api.privacy import audit
from api.reports import queries
from api.reports.models import IdempotencyKey, Report, ReportEvent, ReportFollower
from api.reports.views import public_event, public_report

ANONYMISED_PRINCIPAL = "anon:retention"
ERASED_PREFIX = "erased:"
TOKEN_TAIL = 6


def anonymised_citizen_id(session: Session) -> int:
    """The one shared citizen row that owns anonymised reports (created on first use).

    Nobody can sign in as it: ``anon:`` is not a principal the API ever builds."""
    session.execute(insert(Citizen).values(principal=ANONYMISED_PRINCIPAL, locale="vi")
                    .on_conflict_do_nothing(index_elements=["principal"]))
    return session.scalar(select(Citizen.id).where(Citizen.principal == ANONYMISED_PRINCIPAL))


def detach_reports(session: Session, report_ids: list[int], *, now: datetime,
                   anon_id: int | None = None) -> int:
    """Cut these reports from the people who sent them; the reports themselves stay.

    Contact NULL, ``anonymised_at`` set, owner → the anonymised row; the reporter's follow,
    inbox entries, rating ownership, photo ownership and event actor ids for these reports
    go too. The caller locks the rows (or owns them). Returns how many were changed."""
    if not report_ids:
        return 0
    anon_id = anon_id if anon_id is not None else anonymised_citizen_id(session)
    owners = session.execute(select(Report.id, Report.citizen_id)
                             .where(Report.id.in_(report_ids))).all()
    pairs = [(rid, cid) for rid, cid in owners if cid != anon_id]
    if pairs:
        session.execute(delete(ReportFollower).where(
            tuple_(ReportFollower.report_id, ReportFollower.citizen_id).in_(pairs)))
        session.execute(delete(Notification).where(
            tuple_(Notification.report_id, Notification.citizen_id).in_(pairs)))
    session.execute(update(ReportRating).where(ReportRating.report_id.in_(report_ids))
                    .values(citizen_id=anon_id).execution_options(synchronize_session=False))
    events = select(ReportEvent.id).where(ReportEvent.report_id.in_(report_ids))
    session.execute(update(Photo).where(
        (Photo.report_id.in_(report_ids)) | (Photo.event_id.in_(events)),
        Photo.citizen_id.is_not(None)).values(citizen_id=None)
        .execution_options(synchronize_session=False))
    session.execute(update(ReportEvent).where(
        ReportEvent.report_id.in_(report_ids), ReportEvent.actor_kind == "citizen",
        ReportEvent.actor_id.is_not(None)).values(actor_id=None)
        .execution_options(synchronize_session=False))
    return session.execute(update(Report).where(Report.id.in_(report_ids)).values(
        contact_name=None, contact_phone=None, citizen_id=anon_id,
        # A report detached twice keeps the time it was first anonymised.
        anonymised_at=func.coalesce(Report.anonymised_at, now))
        .execution_options(synchronize_session=False)).rowcount


# --- export -----------------------------------------------------------------------------

def _tail(value: str | None) -> str | None:
    return value[-TOKEN_TAIL:] if value else None


def _photo(p: Photo) -> dict:
    return photo_out(p) | {"lat": p.lat, "lon": p.lon, "taken_at": p.taken_at,
                           "created_at": p.created_at}


def export(session: Session, citizen: Citizen) -> dict:
    """Everything we hold about this citizen, as one document (and an audit row)."""
    kind, _, rest = citizen.principal.partition(":")
    reports = list(session.scalars(select(Report).where(Report.citizen_id == citizen.id)
                                   .order_by(Report.created_at, Report.id)))
    events = list(session.scalars(select(ReportEvent).where(
        ReportEvent.report_id.in_([r.id for r in reports]), ReportEvent.public.is_(True))
        .order_by(ReportEvent.id))) if reports else []
    event_photos = queries.event_photos(session, [e.id for e in events])
    by_report: dict[int, list[dict]] = {}
    for e in events:
        by_report.setdefault(e.report_id, []).append(public_event(e, event_photos.get(e.id)))
    report_photo_ids = {p.id for r in reports for p in r.photos}
    out_reports = []
    for r in reports:
        out_reports.append(public_report(r) | {
            "contact": {"name": r.contact_name, "phone": r.contact_phone},
            "photos": [_photo(p) for p in r.photos],
            "events": by_report.get(r.id, []),
            "anonymised_at": r.anonymised_at})
    other_photos = [_photo(p) for p in session.scalars(
        select(Photo).where(Photo.citizen_id == citizen.id).order_by(Photo.created_at))
        if p.id not in report_photo_ids]
    follows = session.execute(
        select(Report.code, ReportFollower.created_at)
        .join(Report, Report.id == ReportFollower.report_id)
        .where(ReportFollower.citizen_id == citizen.id).order_by(ReportFollower.created_at)).all()
    devices = session.scalars(select(Device).where(Device.citizen_id == citizen.id)
                              .order_by(Device.id)).all()
    notifications = session.execute(
        select(Notification, Report.code).join(Report, Report.id == Notification.report_id)
        .where(Notification.citizen_id == citizen.id).order_by(Notification.id)).all()
    ratings = session.execute(
        select(ReportRating, Report.code).join(Report, Report.id == ReportRating.report_id)
        .where(ReportRating.citizen_id == citizen.id).order_by(ReportRating.created_at)).all()
    handoffs = session.scalars(select(ChatHandoff).where(ChatHandoff.citizen_id == citizen.id)
                               .order_by(ChatHandoff.id)).all()
    document = {
        "generated_at": datetime.now(timezone.utc),
        "citizen": {
            "id": citizen.id,
            "sign_in": {"fb": "firebase", "dev": "device"}.get(kind, kind),
            "firebase_uid": citizen.firebase_uid,
            "device_id_tail": _tail(rest) if kind == "dev" else None,
            "phone": citizen.phone, "display_name": citizen.display_name,
            "locale": citizen.locale, "created_at": citizen.created_at,
            "last_seen_at": citizen.last_seen_at},
        "reports": out_reports,
        "other_photos": other_photos,
        "follows": [{"code": code, "created_at": at} for code, at in follows],
        "devices": [{"id": d.id, "platform": d.platform, "locale": d.locale,
                     "app_version": d.app_version, "token_tail": _tail(d.token),
                     "created_at": d.created_at, "updated_at": d.updated_at} for d in devices],
        "notifications": [{"id": n.id, "code": code, "kind": n.kind, "title": n.title,
                           "body": n.body, "data": n.data or {}, "created_at": n.created_at,
                           "read_at": n.read_at} for n, code in notifications],
        "ratings": [{"code": code, "score": r.score, "comment": r.comment,
                     "created_at": r.created_at} for r, code in ratings],
        "chat_handoffs": [{"reference": h.reference, "status": h.status, "summary": h.summary,
                           "transcript": h.transcript, "report_code": h.report_code,
                           "created_at": h.created_at, "closed_at": h.closed_at}
                          for h in handoffs],
    }
    audit.record(session, "citizen.data.exported", citizen_id=citizen.id,
                 actor_kind="citizen", actor_id=citizen.id,
                 detail={"reports": len(out_reports), "devices": len(devices),
                         "notifications": len(notifications)})
    return document


# --- erasure ----------------------------------------------------------------------------

@dataclass(frozen=True)
class Erased:
    reports: int
    devices: int
    notifications: int
    follows: int
    ratings: int
    photos_deleted: int
    chat_handoffs: int = 0

    def as_dict(self) -> dict:
        return self.__dict__.copy()


def erase(session: Session, citizen: Citizen) -> Erased:
    """Erase the citizen's personal data (see the module docstring). Idempotent: a second
    call finds nothing left to erase. Writes ``citizen.data.deleted``."""
    now = datetime.now(timezone.utc)
    citizen_id, principal = citizen.id, citizen.principal
    # Lock the row: a concurrent request of the same person waits, then sees it erased.
    session.execute(select(Citizen.id).where(Citizen.id == citizen_id).with_for_update())
    anon_id = anonymised_citizen_id(session)
    report_ids = list(session.scalars(select(Report.id).where(Report.citizen_id == citizen_id)
                                      .order_by(Report.id).with_for_update()))
    ratings = session.execute(update(ReportRating).where(ReportRating.citizen_id == citizen_id)
                              .values(comment=None, citizen_id=anon_id)
                              .execution_options(synchronize_session=False)).rowcount
    reports = detach_reports(session, report_ids, now=now, anon_id=anon_id)
    devices = session.execute(delete(Device).where(Device.citizen_id == citizen_id)
                              .execution_options(synchronize_session=False)).rowcount
    notifications = session.execute(
        delete(Notification).where(Notification.citizen_id == citizen_id)
        .execution_options(synchronize_session=False)).rowcount
    follows = session.execute(delete(ReportFollower).where(ReportFollower.citizen_id == citizen_id)
                              .execution_options(synchronize_session=False)).rowcount
    # Conversations handed to the IOC hold what the person typed.
    chat_handoffs = session.execute(delete(ChatHandoff).where(ChatHandoff.citizen_id == citizen_id)
                                    .execution_options(synchronize_session=False)).rowcount
    # Uploaded, never attached: nothing public refers to them.
    photos_deleted = session.execute(delete(Photo).where(
        Photo.citizen_id == citizen_id, Photo.report_id.is_(None), Photo.event_id.is_(None))
        .execution_options(synchronize_session=False)).rowcount
    session.execute(update(Photo).where(Photo.citizen_id == citizen_id).values(citizen_id=None)
                    .execution_options(synchronize_session=False))
    # Citizen events exist only on the citizen's own reports (sending, replying, rating,
    # disputing): detach_reports has cleared their actor ids already.
    session.execute(delete(IdempotencyKey).where(IdempotencyKey.principal == principal)
                    .execution_options(synchronize_session=False))
    citizen.principal = f"{ERASED_PREFIX}{secrets.token_hex(16)}"
    citizen.firebase_uid = citizen.phone = citizen.display_name = None
    citizen.locale = "vi"
    result = Erased(reports=reports, devices=devices, notifications=notifications,
                    follows=follows, ratings=ratings, photos_deleted=photos_deleted,
                    chat_handoffs=chat_handoffs)
    audit.record(session, "citizen.data.deleted", citizen_id=citizen_id, actor_kind="citizen",
                 actor_id=citizen_id, detail=result.as_dict())
    session.flush()
    return result
