"""A loopback stand-in for Rasa's REST channel, for the proxy's own tests: it records what
the proxy sent and answers what the test asks (replies, an error status, or silence).
The real bot is exercised end to end in tests/bot/."""
from __future__ import annotations

import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


class RasaRestStub:
    def __init__(self):
        self.replies: list = []
        self.status = 200
        self.delay = 0.0
        self.calls: list[dict] = []
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                length = int(self.headers.get("Content-Length") or 0)
                body = json.loads(self.rfile.read(length) or b"{}")
                outer.calls.append({"path": self.path, "body": body})
                if outer.delay:
                    time.sleep(outer.delay)
                raw = json.dumps(outer.replies if outer.status == 200 else {"error": "boom"}).encode()
                self.send_response(outer.status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(raw)))
                self.end_headers()
                self.wfile.write(raw)

            def log_message(self, *_):
                pass

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)
        self._thread.start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self._server.server_port}"

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()
