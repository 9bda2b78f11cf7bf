"""A loopback Nominatim: answers /reverse like the real server, or fails on demand."""
from __future__ import annotations

import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit


class NominatimStub:
    def __init__(self):
        self.mode = "ok"  # "ok", "error" (HTTP 500) or "empty" (no result)
        self.delay = 0.0  # seconds to wait before answering (a slow geocoder)
        self.calls: list[dict] = []
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self):
                query = {k: v[0] for k, v in parse_qs(urlsplit(self.path).query).items()}
                outer.calls.append(query)
                if outer.delay:
                    time.sleep(outer.delay)
                if outer.mode == "error":
                    self.send_response(500)
                    self.end_headers()
                    return
                body = {"error": "Unable to geocode"} if outer.mode == "empty" else {
                    "place_id": 1, "lat": query.get("lat"), "lon": query.get("lon"),
                    "display_name": "12 Nguyễn Đăng Đạo, Phường Kinh Bắc, Tỉnh Bắc Ninh, Việt Nam",
                    "address": {"road": "Nguyễn Đăng Đạo", "country": "Việt Nam"}}
                raw = json.dumps(body, ensure_ascii=False).encode()
                self.send_response(200)
                self.send_header("Content-Type", "application/json; charset=utf-8")
                self.send_header("Content-Length", str(len(raw)))
                self.end_headers()
                self.wfile.write(raw)

            def log_message(self, *_):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_port}"

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()
