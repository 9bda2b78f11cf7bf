"""Status change → IOC webhook received and → FCM received, with a real worker on loopback.

    .venv/bin/python bench/push_ioc.py [--reports 150] [--rate 5] [--burst 300]

1. Reports are created and routed by the worker; each reporter registers a device.
2. Latency: an officer accepts each report over HTTP at a steady rate; latency is from
   sending the POST to the webhook receiver / FCM stub receiving that change (same clock).
   Target: p95 < 2 s for both.
3. Sustained: a burst of status changes as fast as 4 clients can send them; events per
   minute is webhook events received over the time from the first send to the last arrival.
Last line: one JSON object.
"""
from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import threading
import time
import uuid
from concurrent.futures import ThreadPoolExecutor

from harness import ROOT, Client, Stack, percentile, report_json, upload_photo

from tests.stubs.fcm import FcmStub  # noqa: E402
from tests.stubs.webhook import WebhookReceiver  # noqa: E402

SECRET = "bench-webhook-secret-0123456789"
PASSWORD = "BacNinh@2026"


def _json(client: Client, method: str, path: str, body=None, headers=None):
    status, raw = client.request(method, path, json.dumps(body) if body is not None else None,
                                 {"Content-Type": "application/json", **(headers or {})})
    return status, (json.loads(raw) if raw else None)


def _login(client: Client, email: str) -> dict:
    status, body = _json(client, "POST", "/api/v1/auth/login", {"email": email, "password": PASSWORD})
    assert status == 200, body
    return {"Authorization": f"Bearer {body['access_token']}"}


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--reports", type=int, default=150)
    parser.add_argument("--rate", type=float, default=5.0, help="status changes per second")
    parser.add_argument("--burst", type=int, default=300, help="changes in the sustained run")
    args = parser.parse_args()
    fcm, receiver = FcmStub("ioc-bench"), WebhookReceiver(SECRET)
    stack = Stack()
    stack.env.update(FCM_URL=fcm.url, FCM_STATIC_TOKEN="bench-static-token",
                     FIREBASE_PROJECT_ID="ioc-bench", DEMO_STAFF_PASSWORD=PASSWORD)
    subprocess.run([sys.executable, "-m", "flask", "--app", "api", "ref", "load", "--demo"],
                   cwd=ROOT, env=stack.env, check=True, capture_output=True)
    total = args.reports + args.burst
    try:
        port = stack.gunicorn()
        stack.celery_worker()
        client = Client(port)
        admin = _login(client, "admin@bacninh-ioc.test")
        status, _ = _json(client, "POST", "/api/v1/admin/webhooks",
                          {"url": receiver.url, "secret": SECRET, "name": "bench"}, admin)
        assert status == 201
        print(f"==> creating {total} reports, each reporter with a device", flush=True)
        reports: list[tuple[str, str]] = []  # (code, device token)
        for n in range(total):
            device = f"bench-push-{uuid.uuid4().hex[:12]}"
            token = f"bench-token-{uuid.uuid4().hex}{'z' * 100}"
            status, _ = _json(client, "POST", "/api/v1/me/devices",
                              {"token": token, "platform": "android", "locale": "vi"},
                              {"X-Device-Id": device})
            assert status == 201
            pid = upload_photo(client, device, n)
            status, raw = client.request("POST", "/api/v1/reports", report_json(pid, n), {
                "Content-Type": "application/json", "X-Device-Id": device,
                "Idempotency-Key": uuid.uuid4().hex})
            assert status == 201, raw
            reports.append((json.loads(raw)["code"], token))
        _wait(lambda: sum(1 for m in fcm.messages if m["message"]["data"]["kind"] == "routed")
              >= total, 120, "routing pushes")
        units = {}
        for code, _t in reports:
            _s, body = _json(client, "GET", f"/api/v1/reports/{code}")
            units[code] = body["unit"]["code"]
        officers = {u: _login(client, f"officer.{u.lower()}@bacninh-ioc.test")
                    for u in set(units.values())}

        print(f"==> latency: {args.reports} acceptances at {args.rate}/s", flush=True)
        sent: dict[str, float] = {}
        for code, _token in reports[:args.reports]:
            t0 = time.time()
            status, body = _json(client, "POST", f"/api/v1/staff/reports/{code}/transitions",
                                 {"to": "accepted"}, officers[units[code]])
            assert status == 200, body
            sent[code] = t0
            time.sleep(max(0.0, 1 / args.rate - (time.time() - t0)))
        tokens = dict(reports)
        _wait(lambda: len(_hook_arrivals(receiver, "accepted")) >= args.reports
              and len(_push_arrivals(fcm, "accepted")) >= args.reports, 60, "acceptances")
        hooks, pushes = _hook_arrivals(receiver, "accepted"), _push_arrivals(fcm, "accepted")
        hook_ms = sorted((hooks[c] - t) * 1000 for c, t in sent.items() if c in hooks)
        push_ms = sorted((pushes[tokens[c]] - t) * 1000 for c, t in sent.items()
                         if tokens[c] in pushes)

        print(f"==> sustained: {args.burst} changes from 4 clients", flush=True)
        burst = reports[args.reports:]
        before = receiver.count()
        started = time.time()

        def accept(item):
            code, _t = item
            c = Client(port)
            status, body = _json(c, "POST", f"/api/v1/staff/reports/{code}/transitions",
                                 {"to": "accepted"}, officers[units[code]])
            assert status == 200, body

        with ThreadPoolExecutor(4) as pool:
            list(pool.map(accept, burst))
        sent_for = time.time() - started
        # Each acceptance is one report.status_changed CloudEvent.
        _wait(lambda: receiver.count() - before >= len(burst), 120, "burst webhooks")
        _wait(lambda: len(_push_arrivals(fcm, "accepted")) >= total, 120, "burst pushes")
        last = max(r["at"] for r in receiver.received[before:])
        elapsed = last - started
    finally:
        stack.close()
        receiver.stop()
        fcm.stop()
    results = {
        "machine": {"cpus": os.cpu_count()}, "changes": args.reports, "rate_per_s": args.rate,
        "webhook_p50_ms": percentile(hook_ms, 50), "webhook_p95_ms": percentile(hook_ms, 95),
        "webhook_max_ms": round(hook_ms[-1], 1),
        "push_p50_ms": percentile(push_ms, 50), "push_p95_ms": percentile(push_ms, 95),
        "push_max_ms": round(push_ms[-1], 1),
        "burst_changes": len(burst), "burst_send_s": round(sent_for, 2),
        "burst_delivered_s": round(elapsed, 2),
        "sustained_webhook_events_per_min": round(len(burst) / elapsed * 60),
        "duplicates_at_receiver": receiver.count() - len(receiver.unique()),
    }
    print(f"webhook p50 {results['webhook_p50_ms']} ms, p95 {results['webhook_p95_ms']} ms;"
          f" push p50 {results['push_p50_ms']} ms, p95 {results['push_p95_ms']} ms"
          f" (target p95 < 2000 ms); sustained {results['sustained_webhook_events_per_min']}"
          " webhook events/min")
    print(json.dumps(results))
    return 0


def _hook_arrivals(receiver: WebhookReceiver, to_status: str) -> dict[str, float]:
    with receiver.lock:
        return {r["event"]["subject"]: r["at"] for r in receiver.received
                if r["event"]["type"] == "report.status_changed"
                and r["event"]["data"]["change"]["to_status"] == to_status}


def _push_arrivals(fcm: FcmStub, kind: str) -> dict[str, float]:
    with fcm.lock:
        return {m["message"]["token"]: m["at"] for m in fcm.messages
                if m["message"]["data"]["kind"] == kind}


def _wait(predicate, timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise RuntimeError(f"timed out waiting for {what}")
        time.sleep(0.1)


if __name__ == "__main__":
    sys.exit(main())
