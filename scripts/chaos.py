"""``make chaos``: faults under load, then a reconciliation against the database.

    .venv/bin/python scripts/chaos.py [--seconds 180] [--rate 4] [--clients 4] [--short]
    make chaos CHAOS_ARGS="--short"       (CI: 60 s)

A private stack in a scratch directory: embedded PostgreSQL and Redis (this script stops
and starts them), migrations and reference data (bench/harness.py ``Stack``), the API under
gunicorn, two Celery workers, beat, and loopback stand-ins for FCM, the IOC webhook
subscriber and Nominatim. The bot: the trained one (Rasa server and action server, as in
``make run``) when bot/models holds a model for the bot as it is (``--bot auto``, the
default), else a stand-in for Rasa's REST channel on a fixed port (``--bot stand-in``);
the run says which.

Several client threads, each a citizen with a registered device, send reports with photos
at ``--rate`` reports/s in total; each request is retried with the same body and
Idempotency-Key until it gets a 2xx or 4xx, waiting Retry-After on a 503. A chat client
talks to the bot all along. Meanwhile, one after the other:

1. ``kill -9`` of one worker (pool included), then a replacement worker;
2. Redis stopped, down for ``--down`` seconds (5), started again;
3. PostgreSQL stopped (fast shutdown), down 5 s, started again;
4. the bot stopped for 5 s (chat answers 503 BOT_UNAVAILABLE), started again (the real
   Rasa server then loads its model again before it answers).

Then the load stops, the system settles (outbox drained, no delivery pending) and the
database is reconciled: every acknowledged report exists once under its key, each was
routed once and has one ``created`` event; every outbox row processed; one webhook
delivery per (CloudEvent, subscriber) and one push delivery per (event, device), all sent;
the webhook receiver and the FCM stand-in got each id exactly once — a repeat of the same
id is accepted only when its first copy arrived during a worker kill or the PostgreSQL
restart (sent, then the crash before the row was marked: at-least-once by design, receivers
de-duplicate on the id); no HTTP 500 at any time; every 503 carried Retry-After. A table, then one JSON line; exit status 1 on any violation.
"""
from __future__ import annotations

import argparse
import http.client
import json
import os
import subprocess
import sys
import threading
import time
import uuid
from collections import Counter, defaultdict
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "bench"))
sys.path.insert(0, str(ROOT))

from harness import Client, Stack, free_port, percentile, photo_upload_body  # noqa: E402
from tests.stubs.fcm import FcmStub  # noqa: E402
from tests.stubs.nominatim import NominatimStub  # noqa: E402
from tests.stubs.webhook import WebhookReceiver  # noqa: E402

SECRET = "chaos-webhook-secret-0123456789"
PASSWORD = "BacNinh@2026"
PROJECT = "ioc-chaos"
LEASE_SECONDS = 5          # outbox and delivery lease: lost work is re-sent after this
GIVE_UP_SECONDS = 180      # a client stops retrying one request after this
SETTLE_SECONDS = 240       # time allowed for the system to drain after the load stops


def log(message: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {message}", flush=True)


# --- the bot: a Rasa REST stand-in that can go down and come back on the same port ----------

class BotStandIn:
    """Rasa's REST channel answered by a loopback stand-in (instant restarts)."""
    kind = "rasa-rest-stand-in"

    def __init__(self) -> None:
        self.port = free_port()
        self.server: ThreadingHTTPServer | None = None
        self.calls = 0
        self.start()

    def start(self) -> None:
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                body = json.loads(self.rfile.read(int(self.headers.get("Content-Length") or 0)))
                outer.calls += 1
                raw = json.dumps([{"recipient_id": body.get("sender"),
                                   "text": "Xin chào! Tôi có thể giúp gì cho bạn?"}]).encode()
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(raw)))
                self.end_headers()
                self.wfile.write(raw)

            def log_message(self, *_):
                pass

        ThreadingHTTPServer.allow_reuse_address = True
        self.server = ThreadingHTTPServer(("127.0.0.1", self.port), Handler)
        self.server.daemon_threads = True
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def stop(self) -> None:
        if self.server is not None:
            self.server.shutdown()
            self.server.server_close()
            self.server = None

    def launch(self, api_url: str, log_dir: Path) -> None:
        pass

    close = stop

    @property
    def state(self) -> str:
        return "up" if self.server is not None else "down"

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"


class RealBot:
    """The trained bot (bot/models, see scripts/bot.py): Rasa server and action server.
    Stopping it stops the Rasa server; starting it again waits until the model is loaded."""
    kind = "rasa"

    def __init__(self) -> None:
        from scripts import bot
        self.bot, self.model = bot, bot.model_path()
        self.rasa_port, self.actions_port = free_port(), free_port()
        self.procs = None
        self.state = "starting"  # "down" from stop() until start(); "starting" while loading
        self.api_url, self.log_dir = "", Path(".")

    @staticmethod
    def usable() -> bool:
        from scripts import bot
        return bot.available() and bot.model_path().exists()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.rasa_port}"

    def launch(self, api_url: str, log_dir: Path) -> None:
        self.api_url, self.log_dir = api_url, log_dir
        self.procs = self.bot.start(self.model, api_url=api_url, rasa_port=self.rasa_port,
                                    actions_port=self.actions_port, log_dir=log_dir)
        self.procs.wait_ready(300)
        self.state = "up"

    def stop(self) -> None:
        self.state = "down"
        self.procs.stop_one("rasa")

    def start(self) -> None:
        self.state = "starting"
        cmd = self.bot.commands(self.model, rasa_port=self.rasa_port,
                                actions_port=self.actions_port)["rasa"]
        env = self.bot.base_env(IOC_API_URL=self.api_url, ACTION_ENDPOINT_URL=(
            f"http://127.0.0.1:{self.actions_port}/webhook"))
        self.procs.procs["rasa"] = subprocess.Popen(
            cmd, cwd=self.bot.BOT, env=env, stdout=open(self.log_dir / "bot-rasa.log", "ab"),
            stderr=subprocess.STDOUT, start_new_session=True)
        self.procs.wait_ready(300)
        self.state = "up"

    def close(self) -> None:
        if self.procs is not None:
            self.procs.stop()


# --- what the clients saw ----------------------------------------------------------------------

class Ledger:
    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.t0 = time.monotonic()
        self.phase = "steady"
        self.statuses: Counter = Counter()            # (kind, status) → n
        self.by_phase: Counter = Counter()            # (phase, status) → n
        self.latency: dict = defaultdict(list)        # phase → ms of every answer
        self.acked: dict[str, str] = {}               # Idempotency-Key → report code
        self.ack_times: list[float] = []
        self.replayed = 0
        self.retries = 0
        self.unfinished: list[str] = []               # keys a client gave up on
        self.violations: list[str] = []
        self.chat: Counter = Counter()                # (bot state, status, code) → n
        self.timeline: list[dict] = []

    def now(self) -> float:
        return round(time.monotonic() - self.t0, 1)

    def violation(self, text: str) -> None:
        with self.lock:
            if len(self.violations) < 200:
                self.violations.append(f"t={self.now()}s {text}")

    def seen(self, kind: str, status: int | None, headers, ms: float = 0.0) -> None:
        with self.lock:
            self.statuses[(kind, status)] += 1
            self.by_phase[(self.phase, status)] += 1
            self.latency[self.phase].append(ms)
        if status is None:
            self.violation(f"{kind}: no HTTP answer (connection failed)")
        elif status >= 500 and status != 503:
            self.violation(f"{kind}: HTTP {status}")
        elif status == 503 and not (headers and headers.get("Retry-After")):
            self.violation(f"{kind}: 503 without Retry-After")


def call(ledger: Ledger, client: Client, kind: str, method: str, path: str, body, headers,
         *, retry: bool = True) -> tuple[int | None, bytes]:
    """One logical request: resent as it was (same body, same key) until a 2xx/4xx."""
    give_up = time.monotonic() + GIVE_UP_SECONDS
    while True:
        started = time.perf_counter()
        try:
            status, raw = client.request(method, path, body, headers)
        except (OSError, http.client.HTTPException):
            client.conn.close()
            status, raw = None, b""
        ledger.seen(kind, status, client.headers if status else None,
                    (time.perf_counter() - started) * 1000)
        if status is not None and status < 500 and status != 429:
            return status, raw
        if not retry or time.monotonic() > give_up:
            return status, raw
        with ledger.lock:
            ledger.retries += 1
        wait = 1.0
        try:
            wait = float(client.headers.get("Retry-After")) if status else 1.0
        except (TypeError, ValueError, AttributeError):
            pass
        time.sleep(min(max(wait, 0.2), 5.0))


def reporter(ledger: Ledger, port: int, n_client: int, run: str, interval: float,
             stop: threading.Event) -> None:
    client = Client(port, timeout=20)
    device = f"chaos-{run}-{n_client}"
    token = f"chaos-token-{run}-{n_client}-{'x' * 120}"
    status, raw = call(ledger, client, "device", "POST", "/api/v1/me/devices",
                       json.dumps({"token": token, "platform": "android", "locale": "vi"}),
                       {"Content-Type": "application/json", "X-Device-Id": device})
    if status not in (200, 201):
        ledger.violation(f"client {n_client}: device registration answered {status}: {raw[:200]!r}")
        return
    n = 0
    next_at = time.monotonic()
    while not stop.is_set():
        n += 1
        seed = n_client * 100_000 + n
        body, headers = photo_upload_body(seed)
        status, raw = call(ledger, client, "photo", "POST", "/api/v1/photos", body,
                           headers | {"X-Device-Id": device})
        if status != 201:
            ledger.violation(f"photo upload answered {status}: {raw[:200]!r}")
            continue
        photo_id = json.loads(raw)["id"]
        key = f"chaos-{run}-{n_client}-{n}"
        report = json.dumps({"category": "streetlight_out", "description": f"Chaos {key}",
                             "lat": 21.1861 + (seed % 500) * 1e-5, "lon": 106.0763,
                             "photo_ids": [photo_id]})
        status, raw = call(ledger, client, "report", "POST", "/api/v1/reports", report, {
            "Content-Type": "application/json", "X-Device-Id": device, "Idempotency-Key": key})
        if status in (200, 201):
            out = json.loads(raw)
            with ledger.lock:
                ledger.acked[key] = out["code"]
                ledger.ack_times.append(ledger.now())
                ledger.replayed += bool(out.get("replayed"))
            call(ledger, client, "status", "GET", f"/api/v1/reports/{out['code']}", None, {},
                 retry=False)
        elif status is None or status >= 500:
            with ledger.lock:
                ledger.unfinished.append(key)
            ledger.violation(f"report {key}: no final answer after {GIVE_UP_SECONDS}s")
        else:
            ledger.violation(f"report {key}: refused with {status}: {raw[:200]!r}")
        next_at += interval
        time.sleep(max(0.0, next_at - time.monotonic()))


def chatter(ledger: Ledger, port: int, bot, run: str, stop: threading.Event) -> None:
    client = Client(port, timeout=20)
    headers = {"Content-Type": "application/json", "X-Device-Id": f"chaos-chat-{run}"}
    while not stop.is_set():
        state_before = bot.state
        status, raw = call(ledger, client, "chat", "POST", "/api/v1/chat",
                           json.dumps({"sender": f"chaos-conv-{run}", "message": "xin chào"}), headers,
                           retry=False)
        state = state_before if bot.state == state_before else "changing"
        code = ""
        if status and status != 200:
            try:
                code = json.loads(raw).get("code", "")
            except ValueError:
                code = "?"
        with ledger.lock:
            ledger.chat[(state, status, code)] += 1
        if state == "down" and status == 200:
            ledger.violation("chat answered 200 while the bot was down")
        time.sleep(0.5)


# --- the faults ----------------------------------------------------------------------------

class Faults:
    def __init__(self, stack: Stack, ledger: Ledger, bot, workers: list,
                 down: float) -> None:
        self.stack, self.ledger, self.bot, self.workers, self.down = (
            stack, ledger, bot, workers, down)
        self.errors: list[str] = []

    def _mark(self, name: str, fn) -> None:
        started, wall_from = self.ledger.now(), time.time()
        acked_before = len(self.ledger.acked)
        log(f"fault: {name}")
        with self.ledger.lock:
            self.ledger.phase = name
        try:
            detail = fn()
        except Exception as exc:  # a fault that cannot be injected is a failed run
            detail = f"FAILED: {type(exc).__name__}: {exc}"
            self.errors.append(f"{name}: {detail}")
        with self.ledger.lock:
            self.ledger.phase = "steady"
        self.ledger.timeline.append({"fault": name, "at_s": started, "until_s": self.ledger.now(),
                                     "acked_during": len(self.ledger.acked) - acked_before,
                                     "detail": detail, "wall": (wall_from, time.time())})
        log(f"fault over: {name} ({detail})")

    def kill_worker(self) -> str:
        doomed = self.workers.pop(0)
        self.stack.kill(doomed)
        time.sleep(1)
        replacement = self.stack.celery_worker(name=f"worker{len(self.workers) + 2}")
        self.workers.append(replacement)
        return f"pid {doomed.pid} killed (-9), replacement pid {replacement.pid}"

    def restart_redis(self) -> str:
        self.stack.stop_redis()
        time.sleep(self.down)
        self.stack.start_redis()
        return f"down {self.down:g}s"

    def restart_postgres(self) -> str:
        self.stack.stop_postgres()
        time.sleep(self.down)
        self.stack.start_postgres()
        return f"down {self.down:g}s"

    def stop_bot(self) -> str:
        self.bot.stop()
        time.sleep(self.down)
        started = time.monotonic()
        self.bot.start()
        return f"{self.bot.kind} down {self.down:g}s, answering {time.monotonic() - started:.0f}s after its start"

    def run(self, seconds: float, stop: threading.Event) -> None:
        plan = [(0.15, "kill -9 worker", self.kill_worker),
                (0.35, "restart Redis", self.restart_redis),
                (0.55, "restart PostgreSQL", self.restart_postgres),
                (0.75, "stop the bot", self.stop_bot)]
        for share, name, fn in plan:
            while self.ledger.now() < share * seconds and not stop.is_set():
                time.sleep(0.2)
            if stop.is_set():
                return
            self._mark(name, fn)


# --- settling and reconciling -----------------------------------------------------------------

def _scalar_row(engine, sql: str) -> tuple:
    from sqlalchemy import text
    with engine.connect() as conn:
        return tuple(conn.execute(text(sql)).one())


def settle(engine, fcm: FcmStub, receiver: WebhookReceiver) -> tuple[bool, float, tuple]:
    """Wait until nothing is pending and the stubs have everything the database says was sent;
    then one more lease period, so a late re-send would show up as a duplicate."""
    started = time.monotonic()
    sql = ("SELECT (SELECT count(*) FROM outbox WHERE processed_at IS NULL),"
           " (SELECT count(*) FROM report WHERE routed_at IS NULL),"
           " (SELECT count(*) FROM push_delivery WHERE status = 'pending'),"
           " (SELECT count(*) FROM webhook_delivery WHERE status = 'pending'),"
           " (SELECT count(*) FROM push_delivery WHERE status = 'sent'),"
           " (SELECT count(*) FROM webhook_delivery WHERE status = 'delivered')")
    row = ()
    while time.monotonic() - started < SETTLE_SECONDS:
        try:
            row = _scalar_row(engine, sql)
        except Exception as exc:  # the database may still be recovering
            log(f"settle: {exc}")
            time.sleep(1)
            continue
        if row[:4] == (0, 0, 0, 0) and len(fcm.messages) >= row[4] and receiver.count() >= row[5]:
            time.sleep(LEASE_SECONDS * 2 + 2)
            return True, round(time.monotonic() - started, 1), row
        time.sleep(1)
    return False, round(time.monotonic() - started, 1), row


# A delivery is sent, then its row is marked sent in the same transaction that held it; if
# the worker dies or PostgreSQL goes between the two, the row is still pending and the
# message goes again with the same id (receivers de-duplicate on it). That is at-least-once
# by design, so a repeat is accepted only when its first copy arrived during such a fault.
CRASH_FAULTS = ("kill -9 worker", "restart PostgreSQL")


def repeats(arrivals: list[tuple], timeline: list[dict], margin: float = 2.0
            ) -> tuple[dict, list]:
    """Ids received more than once → the fault that explains each; and the unexplained."""
    first: dict = {}
    count: Counter = Counter()
    for key, at in arrivals:
        count[key] += 1
        first[key] = min(at, first.get(key, at))
    found, unexplained = {}, []
    for key, n in count.items():
        if n < 2:
            continue
        fault = next((f["fault"] for f in timeline if f["fault"] in CRASH_FAULTS
                      and f["wall"][0] - margin <= first[key] <= f["wall"][1] + margin), None)
        found[key] = f"{n}x, {fault or 'outside any fault'}"
        if fault is None:
            unexplained.append(key)
    return found, unexplained


def reconcile(engine, ledger: Ledger, fcm: FcmStub, receiver: WebhookReceiver, run: str
              ) -> list[dict]:
    from sqlalchemy import text
    checks: list[dict] = []

    def check(name: str, ok: bool, detail) -> None:
        checks.append({"check": name, "ok": bool(ok), "detail": detail})

    with engine.connect() as conn:
        q = lambda sql, **kw: conn.execute(text(sql), kw).all()  # noqa: E731
        keys = {k: (rid, code) for k, rid, code in q(
            "SELECT k.key, k.report_id, r.code FROM idempotency_key k"
            " LEFT JOIN report r ON r.id = k.report_id WHERE k.key LIKE :p", p=f"chaos-{run}-%")}
        acked = dict(ledger.acked)
        lost = [k for k in acked if k not in keys or keys[k][1] is None]
        wrong = [k for k in acked if k in keys and keys[k][1] not in (None, acked[k])]
        check("every acknowledged report exists under its key", not lost and not wrong,
              {"acknowledged": len(acked), "lost": lost[:10], "other_code": wrong[:10]})
        check("one report per key, one key per report",
              len(set(acked.values())) == len(acked)
              and len({rid for rid, _c in keys.values() if rid}) == sum(1 for v in keys.values() if v[0]),
              {"distinct_codes": len(set(acked.values()))})
        reports = q("SELECT count(*) FROM report")[0][0]
        unacked = [k for k, (rid, _c) in keys.items() if rid and k not in acked]
        check("no report the client never learned of", not unacked and reports == len(acked),
              {"reports_in_db": reports, "unacknowledged_keys": unacked[:10],
               "claims_without_report": sum(1 for v in keys.values() if not v[0])})

        per_report = q("SELECT r.code, r.status,"
                       " count(*) FILTER (WHERE e.type = 'created'),"
                       " count(*) FILTER (WHERE e.type IN ('routed', 'triage'))"
                       " FROM report r LEFT JOIN report_event e ON e.report_id = r.id"
                       " GROUP BY r.code, r.status")
        bad_created = [c for c, _s, n, _r in per_report if n != 1]
        bad_routed = [(c, s, r) for c, s, _n, r in per_report if r != 1 or s not in ("routed", "new")]
        check("one 'created' event per report", not bad_created, {"bad": bad_created[:10]})
        check("routed exactly once (one routed/triage event)", not bad_routed,
              {"bad": bad_routed[:10],
               "by_status": dict(Counter(s for _c, s, _n, _r in per_report))})
        clocks = q("SELECT report_id, kind, cycle, count(*) FROM sla_clock"
                   " GROUP BY report_id, kind, cycle HAVING count(*) > 1")
        check("one SLA clock per (report, kind, cycle)", not clocks, {"duplicated": len(clocks)})
        pending, dup_outbox = q(
            "SELECT (SELECT count(*) FROM outbox WHERE processed_at IS NULL),"
            " (SELECT count(*) FROM (SELECT topic, report_id, event_id FROM outbox"
            "  GROUP BY topic, report_id, event_id HAVING count(*) > 1) d)")[0]
        resent, hook_retries, push_retries = q(
            "SELECT (SELECT count(*) FROM outbox WHERE attempts > 0),"
            " (SELECT count(*) FROM webhook_delivery WHERE attempts > 1),"
            " (SELECT count(*) FROM push_delivery WHERE attempts > 1)")[0]
        check("outbox drained, one row per task", pending == 0 and dup_outbox == 0,
              {"unprocessed": pending, "duplicated": dup_outbox,
               "re-sent_by_the_relay": resent, "webhook_retried": hook_retries,
               "push_retried": push_retries})
        unpublished = q("SELECT count(*) FROM report_event e WHERE e.public AND NOT EXISTS"
                        " (SELECT 1 FROM ioc_event i WHERE i.source_event_id = e.id)")[0][0]
        check("every public event became CloudEvents", unpublished == 0,
              {"events_without_cloudevent": unpublished})

        ioc_ids = {str(i) for (i,) in q("SELECT id FROM ioc_event")}
        hooks = q("SELECT ioc_event_id, status, count(*) OVER (PARTITION BY subscription_id,"
                  " ioc_event_id) FROM webhook_delivery")
        hook_status = Counter(s for _i, s, _n in hooks)
        missing_hooks = ioc_ids - {str(i) for i, _s, _n in hooks}
        check("one webhook delivery per CloudEvent, all delivered",
              not missing_hooks and set(hook_status) <= {"delivered"}
              and all(n == 1 for _i, _s, n in hooks),
              {"cloudevents": len(ioc_ids), "deliveries": dict(hook_status),
               "without_delivery": len(missing_hooks)})
        with receiver.lock:
            arrivals = [(r["event"]["id"], r["at"]) for r in receiver.received]
        got = Counter(i for i, _t in arrivals)
        dup, unexplained = repeats(arrivals, ledger.timeline)
        check("the IOC receiver got each CloudEvent id exactly once (a repeat only across a fault)",
              set(got) == ioc_ids and not unexplained and receiver.bad_signatures == 0,
              {"received": sum(got.values()), "distinct": len(got), "repeats": dup,
               "repeats_outside_a_fault": unexplained,
               "missing": len(ioc_ids - set(got)), "unexpected": len(set(got) - ioc_ids),
               "bad_signatures": receiver.bad_signatures})

        pushes = q("SELECT d.token, p.event_id, p.status FROM push_delivery p"
                   " LEFT JOIN device d ON d.id = p.device_id")
        routed_events = q("SELECT count(*) FROM report_event WHERE type = 'routed'")[0][0]
        push_status = Counter(s for _t, _e, s in pushes)
        check("one push delivery per (routed event, device), all sent",
              len(pushes) == routed_events and set(push_status) <= {"sent"},
              {"routed_events": routed_events, "deliveries": dict(push_status)})
        expected = {(t, str(e)) for t, e, s in pushes if s == "sent"}
        with fcm.lock:
            pushed = [((m["message"]["token"], m["message"]["data"]["event_id"]), m["at"])
                      for m in fcm.messages]
        sent = Counter(k for k, _t in pushed)
        dup_push, unexplained = repeats(pushed, ledger.timeline)
        check("FCM got each (device, event) exactly once (a repeat only across a fault)",
              set(sent) == expected and not unexplained,
              {"received": sum(sent.values()), "distinct": len(sent),
               "repeats": {f"{e}@{t[-6:]}": f for (t, e), f in dup_push.items()},
               "repeats_outside_a_fault": len(unexplained),
               "missing": len(expected - set(sent))})

    five_hundreds = sum(n for (_k, s), n in ledger.statuses.items() if s and s >= 500 and s != 503)
    no_answer = sum(n for (_k, s), n in ledger.statuses.items() if s is None)
    no_retry_after = sum(1 for v in ledger.violations if "without Retry-After" in v)
    check("no HTTP 500 (or other 5xx but 503), always an answer",
          five_hundreds == 0 and no_answer == 0,
          {"5xx_not_503": five_hundreds, "no_answer": no_answer})
    check("every 503 carried Retry-After", no_retry_after == 0,
          {"503": sum(n for (_k, s), n in ledger.statuses.items() if s == 503),
           "without_retry_after": no_retry_after})
    down = sum(n for (st, s, c), n in ledger.chat.items() if st == "down" and c == "BOT_UNAVAILABLE")
    chat_200 = sum(n for (st, s, _c), n in ledger.chat.items() if st == "up" and s == 200)
    check("bot down → 503 BOT_UNAVAILABLE; up → 200",
          down > 0 and chat_200 > 0
          and not any(st == "down" and s == 200 for (st, s, _c) in ledger.chat),
          {f"{st}:{s}:{c}": n for (st, s, c), n in sorted(ledger.chat.items(), key=str)})
    return checks


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seconds", type=float, help="length of the load (default 180 s)")
    parser.add_argument("--rate", type=float, default=4.0, help="reports per second, all clients")
    parser.add_argument("--clients", type=int, default=4, help="reporting client threads")
    parser.add_argument("--down", type=float, default=5.0, help="seconds each server stays down")
    parser.add_argument("--short", action="store_true", help="CI form: 60 s unless --seconds")
    parser.add_argument("--keep", action="store_true", help="keep the scratch directory")
    parser.add_argument("--bot", choices=("auto", "real", "stand-in"), default="auto",
                        help="the trained bot when there is a model (auto), or the stand-in")
    args = parser.parse_args()
    if args.seconds is None:
        args.seconds = 60.0 if args.short else 180.0
    run = uuid.uuid4().hex[:8]

    if args.bot == "real" and not RealBot.usable():
        raise SystemExit("--bot real: no trained model for the bot as it is (make train-bot)")
    use_real = args.bot == "real" or (args.bot == "auto" and RealBot.usable())
    bot = RealBot() if use_real else BotStandIn()
    fcm, receiver, nominatim = FcmStub(PROJECT), WebhookReceiver(SECRET), NominatimStub()
    log("starting embedded PostgreSQL and Redis, migrating, loading reference data")
    stack = Stack(embedded=True, prefix="ioc-chaos-")
    stack.env.update(FCM_URL=fcm.url, FCM_STATIC_TOKEN="chaos-static-token",
                     FIREBASE_PROJECT_ID=PROJECT, DEMO_STAFF_PASSWORD=PASSWORD,
                     NOMINATIM_URL=nominatim.url, RASA_URL=bot.url,
                     CHAT_TIMEOUT_SECONDS="10" if use_real else "3",
                     OUTBOX_LEASE_SECONDS=str(LEASE_SECONDS), PUSH_RETRY_BASE_SECONDS="1",
                     WEBHOOK_RETRY_BASE_SECONDS="1", WORKER_METRICS_PORT="0")
    stack.env.pop("PROMETHEUS_MULTIPROC_DIR", None)
    subprocess.run([sys.executable, "-m", "flask", "--app", "api", "ref", "load", "--demo"],
                   cwd=ROOT, env=stack.env, check=True, capture_output=True)
    ledger = Ledger()
    stop, threads = threading.Event(), []
    result: dict = {}
    try:
        port = stack.gunicorn(log="api.log")
        log("starting two workers and beat")
        workers = [stack.celery_worker(name="worker1"), stack.celery_worker(name="worker2")]
        stack.beat()
        log(f"the bot: {bot.kind}" + (" (starting Rasa and the action server)" if use_real else ""))
        bot.launch(f"http://127.0.0.1:{port}", stack.scratch)
        client = Client(port)
        status, raw = client.request("POST", "/api/v1/auth/login", json.dumps(
            {"email": "admin@bacninh-ioc.test", "password": PASSWORD}),
            {"Content-Type": "application/json"})
        assert status == 200, raw
        admin = {"Authorization": f"Bearer {json.loads(raw)['access_token']}",
                 "Content-Type": "application/json"}
        status, raw = client.request("POST", "/api/v1/admin/webhooks", json.dumps(
            {"url": receiver.url, "secret": SECRET, "name": "chaos"}), admin)
        assert status == 201, raw

        log(f"load: {args.clients} clients, {args.rate:g} reports/s, {args.seconds:g}s, "
            f"faults at 15/35/55/75 %")
        ledger.t0 = time.monotonic()
        interval = args.clients / args.rate
        for i in range(args.clients):
            threads.append(threading.Thread(target=reporter, daemon=True,
                                            args=(ledger, port, i, run, interval, stop)))
        threads.append(threading.Thread(target=chatter, daemon=True,
                                        args=(ledger, port, bot, run, stop)))
        for t in threads:
            t.start()
        faults = Faults(stack, ledger, bot, workers, args.down)
        faults.run(args.seconds, stop)
        while ledger.now() < args.seconds:
            time.sleep(0.2)
        stop.set()
        log("load stopped; waiting for the clients' last requests")
        for t in threads:
            t.join(GIVE_UP_SECONDS + 30)
        for proc in workers:
            if proc.poll() is not None:
                faults.errors.append(f"worker pid {proc.pid} exited with {proc.returncode}")

        from sqlalchemy import create_engine
        engine = create_engine(stack.env["DATABASE_URL"])
        log("settling: outbox drained, nothing pending, stubs caught up")
        settled, settle_s, pending = settle(engine, fcm, receiver)
        checks = [{"check": "settled (outbox drained, nothing pending)", "ok": settled,
                   "detail": {"seconds": settle_s,
                              "pending[outbox,unrouted,push,webhook,sent,delivered]": pending}},
                  {"check": "every fault injected and recovered", "ok": not faults.errors,
                   "detail": faults.errors or [t["fault"] for t in ledger.timeline]}]
        checks += reconcile(engine, ledger, fcm, receiver, run)
        engine.dispose()
    finally:
        stop.set()
        stack.close(keep=args.keep)
        if args.keep:
            log(f"scratch kept: {stack.scratch}")
        bot.close()
        for stub in (fcm, receiver, nominatim):
            stub.stop()

    print("\nfaults")
    print(f"  {'fault':<20} {'from':>7} {'until':>7} {'acked during':>13}  detail")
    for t in ledger.timeline:
        print(f"  {t['fault']:<20} {t['at_s']:>6}s {t['until_s']:>6}s {t['acked_during']:>13}"
              f"  {t['detail']}")
    print("\nHTTP answers by kind")
    for (kind, status), n in sorted(ledger.statuses.items(), key=lambda kv: (kv[0][0], str(kv[0][1]))):
        print(f"  {kind:<8} {str(status):>5} {n:>7}")
    print("\nHTTP answers during each fault (latency of each answer, ms)")
    for phase in sorted(ledger.latency):
        statuses = ", ".join(f"{s}: {n}" for (ph, s), n in sorted(ledger.by_phase.items(),
                                                                 key=lambda kv: str(kv[0][1]))
                             if ph == phase)
        ms = sorted(ledger.latency[phase])
        print(f"  {phase:<20} p50 {percentile(ms, 50):>8} p95 {percentile(ms, 95):>8} "
              f"max {round(ms[-1], 1):>8}   {statuses}")
    print("\nreconciliation")
    for c in checks:
        print(f"  [{'ok' if c['ok'] else 'FAIL':>4}] {c['check']}: "
              f"{json.dumps(c['detail'], ensure_ascii=False, default=str)}")
    failed = [c["check"] for c in checks if not c["ok"]]
    if ledger.violations:
        print("\nviolations seen by the clients (first 20)")
        for v in ledger.violations[:20]:
            print(f"  {v}")
    ok = not failed and not ledger.violations
    result = {
        "ok": ok, "seconds": args.seconds, "rate": args.rate, "clients": args.clients,
        "down_s": args.down, "bot": bot.kind,
        "reports_acknowledged": len(ledger.acked), "replayed": ledger.replayed,
        "client_retries": ledger.retries,
        "http": {str(s): sum(n for (_k, st), n in ledger.statuses.items() if st == s)
                 for s in sorted({st for (_k, st) in ledger.statuses}, key=str)},
        "faults": [{k: v for k, v in t.items() if k != "wall"} for t in ledger.timeline],
        "failed_checks": failed,
        "latency_ms_by_phase": {ph: {"p50": percentile(sorted(v), 50),
                                     "p95": percentile(sorted(v), 95),
                                     "max": round(max(v), 1)}
                                for ph, v in sorted(ledger.latency.items())},
        "client_violations": len(ledger.violations),
        "cpus": os.cpu_count(),
    }
    print(json.dumps(result, ensure_ascii=False, default=str))
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
