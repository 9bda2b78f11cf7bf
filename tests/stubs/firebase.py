"""A loopback stand-in for Google's Firebase token certificates.

It serves ``{kid: PEM certificate}`` exactly like the real endpoint, so
firebase-admin verifies our test tokens for real (signature, expiry,
audience, issuer): nothing in our code is mocked.
"""
from __future__ import annotations

import json
import threading
import time
import uuid
from datetime import datetime, timedelta, timezone
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import jwt
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.x509.oid import NameOID


def _key_and_cert():
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "securetoken.test")])
    now = datetime.now(timezone.utc)
    cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name)
            .public_key(key.public_key()).serial_number(x509.random_serial_number())
            .not_valid_before(now - timedelta(days=1)).not_valid_after(now + timedelta(days=30))
            .sign(key, hashes.SHA256()))
    return key, cert.public_bytes(serialization.Encoding.PEM).decode()


class FirebaseCertServer:
    def __init__(self, project_id: str):
        self.project_id = project_id
        self.kid = uuid.uuid4().hex
        self.key, self.cert_pem = _key_and_cert()
        self.requests = 0
        body = json.dumps({self.kid: self.cert_pem}).encode()
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self):
                outer.requests += 1
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Cache-Control", "public, max-age=3600")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *_args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_port}/certs"

    def start(self) -> "FirebaseCertServer":
        self.thread.start()
        return self

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()

    def token(self, uid: str, *, phone: str | None = "+84912345678", expires_in: int = 3600,
              audience: str | None = None, key=None, issued_ago: int = 0, name: str | None = None
              ) -> str:
        now = int(time.time()) - issued_ago
        claims = {
            "iss": f"https://securetoken.google.com/{self.project_id}",
            "aud": audience or self.project_id,
            "auth_time": now, "iat": now, "exp": now + expires_in,
            "sub": uid, "user_id": uid,
            "firebase": {"identities": {"phone": [phone]} if phone else {},
                         "sign_in_provider": "phone"},
        }
        if phone:
            claims["phone_number"] = phone
        if name:
            claims["name"] = name
        return jwt.encode(claims, key or self.key, algorithm="RS256", headers={"kid": self.kid})
