"""Citizen identity: Firebase Authentication ID tokens, verified with firebase-admin.

Signature, expiry, issuer and audience are all checked by firebase-admin.
The certificate URL is configurable so that tests can serve their own
certificate on loopback; the Auth emulator switch (FIREBASE_AUTH_EMULATOR_HOST)
is refused outright because it turns signature checks off.
"""
from __future__ import annotations

import os
import uuid

import firebase_admin
from firebase_admin import auth, credentials

from api.errors import ApiError


class _VerifyOnly(credentials.Base):
    """Verifying ID tokens needs no Google credential: only the public certificates."""

    def get_credential(self):
        from google.auth.credentials import AnonymousCredentials
        return AnonymousCredentials()


class FirebaseVerifier:
    def __init__(self, project_id: str, certs_url: str):
        if os.environ.get("FIREBASE_AUTH_EMULATOR_HOST"):
            raise RuntimeError("FIREBASE_AUTH_EMULATOR_HOST disables token signature checks; unset it")
        self._app = firebase_admin.initialize_app(
            _VerifyOnly(), options={"projectId": project_id}, name=f"ioc-{uuid.uuid4().hex}")
        self._client = auth._get_client(self._app)
        # The verifier reads Google's certificate URL at construction; point it at ours.
        self._client._token_verifier.id_token_verifier.cert_url = certs_url

    def verify(self, token: str) -> dict:
        try:
            return self._client.verify_id_token(token, clock_skew_seconds=10)
        except auth.ExpiredIdTokenError:
            raise ApiError(401, "TOKEN_EXPIRED", "Phiên đăng nhập đã hết hạn, vui lòng đăng nhập lại.")
        except (auth.InvalidIdTokenError, ValueError) as exc:
            raise ApiError(401, "INVALID_TOKEN", "Mã xác thực không hợp lệ.",
                           {"authorization": [str(exc)[:200]]})
        except auth.CertificateFetchError:
            raise ApiError(503, "AUTH_UNAVAILABLE",
                           "Không kiểm tra được đăng nhập lúc này, vui lòng thử lại.",
                           headers={"Retry-After": "10"})
