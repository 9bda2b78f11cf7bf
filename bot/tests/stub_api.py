"""A loopback stand-in for the IOC API, as the actions see it over HTTP.

A real ``http.server`` on 127.0.0.1 that answers the few routes the actions call with data
the test puts in it, and records every request (method, path, query, headers, JSON body).
It answers the way the API does: JSON bodies, the error envelope ``{code, status, message,
errors}`` on 4xx, and ``status_override`` makes every answer fail (e.g. 503).
"""
from __future__ import annotations

import json
import threading
import unicodedata
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit


def _fold(text: str) -> str:
    decomposed = unicodedata.normalize("NFD", (text or "").lower())
    return "".join(c for c in decomposed if unicodedata.category(c) != "Mn").replace("đ", "d")


def envelope(status: int, code: str, message: str = "") -> dict:
    return {"code": code, "status": status, "message": message or code, "errors": {}}


@dataclass
class Recorded:
    method: str
    path: str
    query: dict
    headers: dict
    body: object


@dataclass
class StubApi:
    reports: dict = field(default_factory=dict)          # code → public report
    categories: dict = field(default_factory=lambda: {"groups": []})
    places: list = field(default_factory=list)           # place details (summary fields too)
    events: list = field(default_factory=list)
    food: list = field(default_factory=list)
    # What POST /api/v1/reports answers: (status, body); None → 201 with a new report.
    create_answer: tuple | None = None
    handoff_answer: tuple | None = None
    status_override: int | None = None
    requests: list = field(default_factory=list)

    def __post_init__(self):
        stub = self

        class Handler(BaseHTTPRequestHandler):
            def _answer(self, status: int, body) -> None:
                raw = json.dumps(body, ensure_ascii=False).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(raw)))
                self.end_headers()
                self.wfile.write(raw)

            def _handle(self, method: str) -> None:
                url = urlsplit(self.path)
                length = int(self.headers.get("Content-Length") or 0)
                raw = self.rfile.read(length) if length else b""
                body = json.loads(raw) if raw else None
                stub.requests.append(Recorded(method, url.path, parse_qs(url.query),
                                              {k.lower(): v for k, v in self.headers.items()}, body))
                if stub.status_override is not None:
                    self._answer(stub.status_override, envelope(stub.status_override, "BOOM"))
                    return
                self._answer(*stub.route(method, url.path, parse_qs(url.query), body))

            def do_GET(self):
                self._handle("GET")

            def do_POST(self):
                self._handle("POST")

            def log_message(self, *_):
                pass

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        threading.Thread(target=self._server.serve_forever, daemon=True).start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self._server.server_port}"

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()

    def calls(self, method: str, path: str) -> list[Recorded]:
        return [r for r in self.requests if r.method == method and r.path == path]

    # --- the routes ---------------------------------------------------------------------

    def route(self, method: str, path: str, query: dict, body) -> tuple[int, object]:
        parts = path.strip("/").split("/")
        if method == "GET" and parts[:3] == ["api", "v1", "reports"] and len(parts) == 4:
            report = self.reports.get(parts[3])
            return (200, report) if report else (404, envelope(404, "REPORT_NOT_FOUND"))
        if method == "GET" and path == "/api/v1/categories":
            return 200, self.categories
        if method == "GET" and path == "/api/v1/places":
            return 200, self._place_page(query)
        if method == "GET" and parts[:3] == ["api", "v1", "places"] and len(parts) == 4:
            place = next((p for p in self.places if str(p["id"]) == parts[3]), None)
            return (200, place) if place else (404, envelope(404, "PLACE_NOT_FOUND"))
        if method == "GET" and path == "/api/v1/events":
            return 200, {"lang": query.get("lang", ["vi"])[0], "items": self.events}
        if method == "GET" and path == "/api/v1/food":
            return 200, {"lang": query.get("lang", ["vi"])[0], "items": self.food}
        if method == "POST" and path == "/api/v1/reports":
            if self.create_answer is not None:
                return self.create_answer
            code = f"PA-2026-{len(self.calls('POST', path)):06d}"
            return 201, {"code": code, "status": "new", "status_label": "Đã tiếp nhận",
                         "category": {"code": body["category"]}, "description": body["description"],
                         "lat": body["lat"], "lon": body["lon"], "unit": None, "sla": None,
                         "public_url": f"{self.url}/api/v1/reports/{code}", "replayed": False}
        if method == "POST" and path == "/api/v1/chat/handoffs":
            if self.handoff_answer is not None:
                return self.handoff_answer
            return 201, {"id": 7, "reference": "HT-000007", "status": "open", "lang": body["lang"],
                         "summary": body["summary"], "report_code": body.get("report_code")}
        return 404, envelope(404, "NOT_FOUND")

    def _place_page(self, query: dict) -> dict:
        items = self.places
        kinds = query.get("kind")
        if kinds:
            items = [p for p in items if p["kind"] in kinds]
        q = _fold(query.get("q", [""])[0])
        if q:
            items = [p for p in items if _fold(p["name"]) in q or q in _fold(p["name"])
                     or _fold(p.get("name_vi", "")) in q]
        limit = int(query.get("limit", ["20"])[0])
        return {"lang": query.get("lang", ["vi"])[0], "items": items[:limit], "next_offset": None}
