"""Storm: the citizen-facing mix on loopback, concurrency ramped step by step to the limit.

    .venv/bin/python bench/storm.py [--seconds 300] [--steps 1,2,4,8,16,24,32,48] [--seed 150]

The stack of ``make run`` on private servers: embedded PostgreSQL and Redis, the API under
gunicorn (2 workers × 4 threads), one Celery worker (concurrency 2) routing and publishing
what is sent, loopback stand-ins for Nominatim, FCM and the chatbot (Rasa's REST channel:
the real bot is measured by bench/chat.py). ``--seed`` reports are sent first.

Each virtual user is a closed loop (no think time) with its own keep-alive connection,
picking one of (weights in brackets):
  report  [10]  upload a photo (POST /api/v1/photos), then POST /api/v1/reports with it
  status  [30]  GET /api/v1/reports/{code}
  list    [12]  GET /api/v1/reports?status=…&limit=20
  map     [10]  GET /api/v1/reports?format=geojson&bbox=… (the app's map)
  ioc     [5]   GET /api/v1/ioc/reports?format=geojson&open=true (the IOC wall, dispatcher)
  open311 [13]  GET /open311/v2/requests.json?page_size=50
  chat    [10]  POST /api/v1/chat
The concurrency goes up step by step (``--steps``), each step ``--seconds`` / steps long.
Per step: reports/s, requests/s, p50/p95/p99 per kind, error rate (any non-2xx or no
answer). Saturation: the first step where requests/s is within 5 % of the run's peak
(throughput stopped growing), or p95 over all requests > 1 s, or errors > 1 %. The load generator runs on the same two
cores as the system under test: its figures are a floor for a separate client machine.
Last line: one JSON object.
"""
from __future__ import annotations

import argparse
import json
import os
import random
import subprocess
import sys
import threading
import time
from collections import defaultdict

from harness import ROOT, Client, Stack, percentile, photo_upload_body

from tests.stubs.fcm import FcmStub  # noqa: E402
from tests.stubs.nominatim import NominatimStub  # noqa: E402
from tests.stubs.rasa import RasaRestStub  # noqa: E402

PASSWORD = "BacNinh@2026"
MIX = {"report": 10, "status": 30, "list": 12, "map": 10, "ioc": 5, "open311": 13, "chat": 10}
BBOXES = ["106.05,21.17,106.10,21.20", "106.07,21.18,106.08,21.19", "105.9,21.0,106.3,21.4"]
STATUSES = ["new", "routed", "accepted", "in_progress"]


class Shared:
    def __init__(self, port: int, ioc_auth: str) -> None:
        self.port, self.ioc_auth = port, ioc_auth
        self.codes: list[str] = []
        self.lock = threading.Lock()
        self.seq = 0

    def next_seed(self) -> int:
        with self.lock:
            self.seq += 1
            return self.seq


def _report(client: Client, shared: Shared, device: str) -> tuple[int, list[tuple[str, float, int]]]:
    """Upload, then send; both timed (as 'photo' and 'report')."""
    seed = shared.next_seed()
    body, headers = photo_upload_body(seed)
    t0 = time.perf_counter()
    status, raw = client.request("POST", "/api/v1/photos", body, headers | {"X-Device-Id": device})
    t1 = time.perf_counter()
    samples = [("photo", (t1 - t0) * 1000, status)]
    if status != 201:
        return status, samples
    report = json.dumps({"category": "streetlight_out", "description": f"Storm {seed}",
                         "lat": 21.1861 + (seed % 700) * 1e-5, "lon": 106.0763 + (seed % 13) * 1e-4,
                         "photo_ids": [json.loads(raw)["id"]]})
    status, raw = client.request("POST", "/api/v1/reports", report, {
        "Content-Type": "application/json", "X-Device-Id": device,
        "Idempotency-Key": f"storm-{os.getpid()}-{seed}"})
    samples.append(("report", (time.perf_counter() - t1) * 1000, status))
    if status == 201:
        with shared.lock:
            shared.codes.append(json.loads(raw)["code"])
    return status, samples


def _one(kind: str, client: Client, shared: Shared, device: str, rng: random.Random
         ) -> list[tuple[str, float, int]]:
    if kind == "report":
        return _report(client, shared, device)[1]
    if kind == "status":
        method, path, body, headers = "GET", f"/api/v1/reports/{rng.choice(shared.codes)}", None, {}
    elif kind == "list":
        method, path, body, headers = ("GET", f"/api/v1/reports?status={rng.choice(STATUSES)}"
                                       "&limit=20", None, {})
    elif kind == "map":
        method, path, body, headers = ("GET", "/api/v1/reports?format=geojson&limit=200&bbox="
                                       + rng.choice(BBOXES), None, {})
    elif kind == "ioc":
        method, path, body, headers = ("GET", "/api/v1/ioc/reports?format=geojson&open=true",
                                       None, {"Authorization": shared.ioc_auth})
    elif kind == "open311":
        method, path, body, headers = "GET", "/open311/v2/requests.json?page_size=50", None, {}
    else:  # chat
        method, path = "POST", "/api/v1/chat"
        body = json.dumps({"sender": f"storm-{device}", "message": rng.choice(
            ["xin chào", "làm sao để gửi phản ánh", "cảm ơn"])})
        headers = {"Content-Type": "application/json", "X-Device-Id": device}
    t0 = time.perf_counter()
    status, _raw = client.request(method, path, body, headers)
    return [(kind, (time.perf_counter() - t0) * 1000, status)]


def user(n: int, shared: Shared, stop: threading.Event, sink: list) -> None:
    rng = random.Random(n)
    kinds, weights = list(MIX), list(MIX.values())
    client = Client(shared.port, timeout=30)
    device = f"storm-device-{os.getpid()}-{n}"
    while not stop.is_set():
        kind = rng.choices(kinds, weights)[0]
        try:
            samples = _one(kind, client, shared, device, rng)
        except Exception:  # no answer (timeout, reset): an error of that kind
            client.conn.close()
            samples = [(kind, 30_000.0, 0)]
        sink.extend(samples)  # list.append is atomic under the GIL


def run_step(concurrency: int, seconds: float, shared: Shared) -> dict:
    stop, sink = threading.Event(), []
    threads = [threading.Thread(target=user, args=(i, shared, stop, sink), daemon=True)
               for i in range(concurrency)]
    started = time.perf_counter()
    for t in threads:
        t.start()
    time.sleep(seconds)
    stop.set()
    elapsed = time.perf_counter() - started
    for t in threads:
        t.join(35)
    samples = list(sink)
    by_kind: dict[str, list[float]] = defaultdict(list)
    errors: dict[str, int] = defaultdict(int)
    for kind, ms, status in samples:
        by_kind[kind].append(ms)
        if not 200 <= status < 300:
            errors[kind] += 1
    every = sorted(ms for _k, ms, _s in samples)
    reports = sum(1 for k, _ms, s in samples if k == "report" and s == 201)
    return {
        "concurrency": concurrency, "seconds": round(elapsed, 1), "requests": len(samples),
        "req_per_s": round(len(samples) / elapsed, 1), "reports_per_s": round(reports / elapsed, 2),
        "p50_ms": percentile(every, 50) if every else None,
        "p95_ms": percentile(every, 95) if every else None,
        "p99_ms": percentile(every, 99) if every else None,
        "error_rate": round(sum(errors.values()) / max(1, len(samples)), 4),
        "kinds": {k: {"n": len(v), "p50_ms": percentile(sorted(v), 50),
                      "p95_ms": percentile(sorted(v), 95), "p99_ms": percentile(sorted(v), 99),
                      "errors": errors.get(k, 0)} for k, v in sorted(by_kind.items())},
    }


def saturation(steps: list[dict]) -> dict | None:
    """The first step where the system stops giving more: throughput within 5 % of the
    run's peak (the plateau; more users from there on only wait longer), p95 over all
    requests above 1 s, or more than 1 % errors. On a shared machine one step's req/s can
    dip; the plateau against the peak is steadier than step-over-step growth."""
    peak = max(s["req_per_s"] for s in steps)
    found = []
    for i, step in enumerate(steps):
        reasons = []
        if step["req_per_s"] >= 0.95 * peak and i + 1 < len(steps):
            reasons.append(f"throughput plateau: {step['req_per_s']} req/s, peak {peak}")
        if step["p95_ms"] is not None and step["p95_ms"] > 1000:
            reasons.append(f"p95 {step['p95_ms']} ms > 1 s")
        if step["error_rate"] > 0.01:
            reasons.append(f"errors {step['error_rate'] * 100:.2f} % > 1 %")
        if reasons:
            found.append((i, reasons))
    if not found:
        return None
    i, reasons = found[0]
    later = {"p95_over_1s_at": next((s["concurrency"] for s in steps if s["p95_ms"] > 1000), None),
             "errors_over_1pct_at": next((s["concurrency"] for s in steps
                                          if s["error_rate"] > 0.01), None)}
    return {"concurrency": steps[i]["concurrency"], "reasons": reasons,
            "req_per_s": steps[i]["req_per_s"], "reports_per_s": steps[i]["reports_per_s"],
            "p95_ms": steps[i]["p95_ms"], **later}


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--seconds", type=float, default=300, help="whole ramp (s)")
    parser.add_argument("--steps", default="1,2,4,8,16,24,32,48", help="concurrency per step")
    parser.add_argument("--seed", type=int, default=150, help="reports sent before the ramp")
    args = parser.parse_args()
    steps = [int(s) for s in args.steps.split(",")]
    fcm, nominatim, rasa = FcmStub("ioc-storm"), NominatimStub(), RasaRestStub()
    rasa.replies = [{"recipient_id": "x", "text": "Xin chào! Tôi có thể giúp gì cho bạn?"}]
    stack = Stack(embedded=True, prefix="ioc-storm-")
    stack.env.update(FCM_URL=fcm.url, FCM_STATIC_TOKEN="storm-static-token",
                     FIREBASE_PROJECT_ID="ioc-storm", DEMO_STAFF_PASSWORD=PASSWORD,
                     NOMINATIM_URL=nominatim.url, RASA_URL=rasa.url, WORKER_METRICS_PORT="0")
    stack.env.pop("PROMETHEUS_MULTIPROC_DIR", None)
    subprocess.run([sys.executable, "-m", "flask", "--app", "api", "ref", "load", "--demo"],
                   cwd=ROOT, env=stack.env, check=True, capture_output=True)
    results: list[dict] = []
    load_before = os.getloadavg()
    try:
        port = stack.gunicorn()
        stack.celery_worker()
        client = Client(port)
        status, raw = client.request("POST", "/api/v1/auth/login", json.dumps(
            {"email": "dispatcher@bacninh-ioc.test", "password": PASSWORD}),
            {"Content-Type": "application/json"})
        assert status == 200, raw
        shared = Shared(port, f"Bearer {json.loads(raw)['access_token']}")
        print(f"==> seeding {args.seed} reports", flush=True)
        for n in range(args.seed):
            status, _s = _report(client, shared, f"storm-seed-{n % 20:02d}-device")
            assert status == 201, status
        per_step = args.seconds / len(steps)
        print(f"==> ramp {steps}, {per_step:.0f} s per step", flush=True)
        print(f"{'users':>5} {'req/s':>7} {'rep/s':>6} {'p50':>7} {'p95':>8} {'p99':>8} {'err%':>6}"
              "   p95 by kind (ms)", flush=True)
        for concurrency in steps:
            step = run_step(concurrency, per_step, shared)
            results.append(step)
            kinds = " ".join(f"{k}={v['p95_ms']:.0f}" for k, v in step["kinds"].items())
            print(f"{concurrency:>5} {step['req_per_s']:>7} {step['reports_per_s']:>6}"
                  f" {step['p50_ms']:>7} {step['p95_ms']:>8} {step['p99_ms']:>8}"
                  f" {step['error_rate'] * 100:>6.2f}   {kinds}", flush=True)
    finally:
        stack.close()
        for stub in (fcm, nominatim, rasa):
            stub.stop()
    sat = saturation(results)
    best = max(results, key=lambda s: s["req_per_s"])
    summary = {
        "machine": {"cpus": os.cpu_count(),
                    "mem_gib": round(os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
                                     / 2**30, 1),
                    "loadavg_1m_before": round(load_before[0], 2),
                    "loadavg_1m_after": round(os.getloadavg()[0], 2)},
        "gunicorn": "2x4", "celery_worker_concurrency": 2, "bot": "rasa-rest-stand-in",
        "seconds": args.seconds, "mix": MIX, "steps": results, "saturation": sat,
        "peak_req_per_s": best["req_per_s"], "peak_at_concurrency": best["concurrency"],
        "peak_reports_per_s": max(s["reports_per_s"] for s in results),
    }
    if sat:
        print(f"saturation at {sat['concurrency']} users: {'; '.join(sat['reasons'])}; "
              f"{sat['reports_per_s']} reports/s, p95 {sat['p95_ms']} ms; p95 > 1 s from "
              f"{sat['p95_over_1s_at']} users, errors > 1 % from {sat['errors_over_1pct_at']}")
    else:
        print("no saturation within the steps")
    print(json.dumps(summary, ensure_ascii=False))
    return 0


if __name__ == "__main__":
    sys.exit(main())
