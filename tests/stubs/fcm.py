"""A loopback FCM v1 endpoint: records every message; fails for chosen tokens like FCM does.

``script[token]`` is a list of HTTP statuses to answer before answering 200; a token in
``unregistered`` gets FCM's 404 UNREGISTERED every time.
"""
from __future__ import annotations

import json
import threading
import time
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

_ERRORS = {
    404: ("NOT_FOUND", "UNREGISTERED", "Requested entity was not found."),
    429: ("RESOURCE_EXHAUSTED", "QUOTA_EXCEEDED", "Quota exceeded."),
    500: ("INTERNAL", "INTERNAL", "Internal error."),
    503: ("UNAVAILABLE", "UNAVAILABLE", "The service is currently unavailable."),
}


class FcmStub:
    def __init__(self, project_id: str):
        self.project_id = project_id
        self.messages: list[dict] = []  # accepted messages: {"message": …, "auth": …}
        self.attempts: list[dict] = []  # every request, accepted or not
        self.unregistered: set[str] = set()
        self.script: dict[str, list[int]] = {}
        self.retry_after: str | None = "1"
        self.lock = threading.Lock()
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                raw = self.rfile.read(int(self.headers.get("Content-Length", 0)))
                body = json.loads(raw)
                token = body["message"].get("token")
                record = {"path": self.path, "auth": self.headers.get("Authorization"),
                          "message": body["message"], "at": time.time()}
                with outer.lock:
                    outer.attempts.append(record)
                    status = 200
                    if token in outer.unregistered:
                        status = 404
                    elif outer.script.get(token):
                        status = outer.script[token].pop(0)
                    if status == 200:
                        outer.messages.append(record)
                if status == 200:
                    self._json(200, {"name": f"projects/{outer.project_id}/messages/"
                                             f"{uuid.uuid4().hex}"})
                    return
                grpc, code, text = _ERRORS[status]
                headers = {"Retry-After": outer.retry_after} if status == 429 and outer.retry_after else {}
                self._json(status, {"error": {"code": status, "message": text, "status": grpc,
                                              "details": [{"@type": "type.googleapis.com/google."
                                                           "firebase.fcm.v1.FcmError",
                                                           "errorCode": code}]}}, headers)

            def _json(self, status, body, headers=None):
                data = json.dumps(body).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json; charset=UTF-8")
                self.send_header("Content-Length", str(len(data)))
                for name, value in (headers or {}).items():
                    self.send_header(name, value)
                self.end_headers()
                self.wfile.write(data)

            def log_message(self, *_):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    @property
    def url(self) -> str:
        """The FCM_URL setting: firebase-admin fills ``{0}`` with the project id."""
        return f"http://127.0.0.1:{self.server.server_port}/v1/projects/{{0}}/messages:send"

    def to(self, token: str) -> list[dict]:
        with self.lock:
            return [m["message"] for m in self.messages if m["message"].get("token") == token]

    def reset(self) -> None:
        with self.lock:
            self.messages.clear()
            self.attempts.clear()
            self.unregistered.clear()
            self.script.clear()

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()
