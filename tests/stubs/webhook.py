"""A loopback IOC webhook receiver, as an IOC vendor would write one: it checks the
signature, de-duplicates on the CloudEvent id, and can be taken down and brought back
on the same port."""
from __future__ import annotations

import hashlib
import hmac
import json
import socket
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


class WebhookReceiver:
    def __init__(self, secret: str):
        self.secret = secret.encode()
        self.received: list[dict] = []  # every accepted POST (duplicates included)
        self.bad_signatures = 0
        self.status = 200  # what to answer (e.g. 500 to refuse)
        self.lock = threading.Lock()
        self.port = _free_port()
        self.server = None
        self.start()

    def _handler(self):
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
                expected = "sha256=" + hmac.new(outer.secret, body, hashlib.sha256).hexdigest()
                given = self.headers.get("X-Signature", "")
                if not hmac.compare_digest(expected, given):
                    with outer.lock:
                        outer.bad_signatures += 1
                    self.send_response(401)
                    self.end_headers()
                    return
                status = outer.status
                if status == 200:
                    event = json.loads(body)
                    with outer.lock:
                        outer.received.append({"event": event, "headers": dict(self.headers),
                                               "at": time.time()})
                self.send_response(status)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *_):
                pass

        return Handler

    def start(self) -> None:
        ThreadingHTTPServer.allow_reuse_address = True
        self.server = ThreadingHTTPServer(("127.0.0.1", self.port), self._handler())
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def stop(self) -> None:
        """Down for real: connections are refused until start()."""
        if self.server is not None:
            self.server.shutdown()
            self.server.server_close()
            self.server = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/hooks/ioc"

    def unique(self) -> dict[str, dict]:
        """Events by CloudEvent id: what a de-duplicating receiver keeps."""
        with self.lock:
            return {r["event"]["id"]: r["event"] for r in self.received}

    def count(self) -> int:
        with self.lock:
            return len(self.received)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]
