"""Sending one push through firebase-admin, and sorting its failures.

Production uses a service-account file. ``FCM_URL`` (with ``FCM_STATIC_TOKEN``)
points the library at another endpoint — the tests' loopback stub — by setting
``messaging._MessagingService.FCM_URL`` before the service is first built.
"""
from __future__ import annotations

import uuid
import warnings
from dataclasses import dataclass

import firebase_admin
from firebase_admin import credentials, exceptions, messaging

from api.config import Config


class StaticTokenCredential(credentials.Base):
    """A credential whose access token never changes (demo and test endpoints only)."""

    def __init__(self, token: str):
        self._token = token

    def get_credential(self):
        from google.oauth2.credentials import Credentials
        return Credentials(token=self._token)


@dataclass(frozen=True)
class Outcome:
    status: str  # sent | prune | retry | failed
    message_id: str | None = None
    error: str | None = None
    retry_after: int | None = None


_PRUNE = (messaging.UnregisteredError, messaging.SenderIdMismatchError)
_TRANSIENT = (exceptions.UnavailableError, exceptions.InternalError,
              exceptions.DeadlineExceededError, exceptions.ResourceExhaustedError,
              exceptions.UnknownError)


class PushSender:
    def __init__(self, cfg: Config):
        credential = None
        if cfg.FCM_CREDENTIALS_FILE:
            credential = credentials.Certificate(cfg.FCM_CREDENTIALS_FILE)
        elif cfg.FCM_STATIC_TOKEN:
            credential = StaticTokenCredential(cfg.FCM_STATIC_TOKEN)
        self.enabled = credential is not None
        self._app = None
        if self.enabled:
            if cfg.FCM_URL:
                messaging._MessagingService.FCM_URL = cfg.FCM_URL
            self._app = firebase_admin.initialize_app(
                credential, options={"projectId": cfg.FIREBASE_PROJECT_ID,
                                     "httpTimeout": 10},
                name=f"ioc-push-{uuid.uuid4().hex}")

    def send(self, *, token: str, platform: str, title: str, body: str, data: dict[str, str],
             collapse_key: str) -> Outcome:
        with warnings.catch_warnings():
            # firebase-admin 7.7 prefers installation ids (fid); FCM v1 still takes
            # registration tokens, which is what the apps send (docs/decisions.md).
            warnings.simplefilter("ignore", DeprecationWarning)
            message = self._message(token, platform, title, body, data, collapse_key)
        try:
            return Outcome("sent", message_id=messaging.send(message, app=self._app))
        except _PRUNE as exc:
            return Outcome("prune", error=_describe(exc))
        except exceptions.InvalidArgumentError as exc:
            # FCM answers 400 INVALID_ARGUMENT for a malformed registration token too.
            if "registration token" in str(exc).lower():
                return Outcome("prune", error=_describe(exc))
            return Outcome("failed", error=_describe(exc))
        except _TRANSIENT as exc:
            return Outcome("retry", error=_describe(exc), retry_after=_retry_after(exc))
        except exceptions.FirebaseError as exc:
            return Outcome("failed", error=_describe(exc))


    @staticmethod
    def _message(token, platform, title, body, data, collapse_key) -> messaging.Message:
        # A newer change of the same report replaces an undelivered older one (collapse).
        return messaging.Message(
            token=token, data=data,
            notification=messaging.Notification(title=title, body=body),
            android=messaging.AndroidConfig(priority="high", collapse_key=collapse_key,
                                            notification=messaging.AndroidNotification(
                                                channel_id="report_updates")),
            apns=messaging.APNSConfig(headers={"apns-collapse-id": collapse_key[:64]},
                                      payload=messaging.APNSPayload(aps=messaging.Aps(sound="default"))),
            webpush=(messaging.WebpushConfig(fcm_options=messaging.WebpushFCMOptions(
                link=data.get("report_url"))) if platform == "web" else None),
        )


def _describe(exc: Exception) -> str:
    return f"{type(exc).__name__}: {exc}"[:500]


def _retry_after(exc: exceptions.FirebaseError) -> int | None:
    response = getattr(exc, "http_response", None)
    value = response.headers.get("Retry-After") if response is not None else None
    return int(value) if value and value.isdigit() else None
