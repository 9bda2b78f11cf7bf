"""Requests/s and latency of the API on loopback, against a bare Flask ceiling.

    .venv/bin/python bench/api_load.py [--duration 10] [--connections 16] [--creations 400]

Both servers run under gunicorn with the same workers and threads on this
machine and are measured in alternating rounds (medians reported). Status reads are driven by wrk (Debian package ``wrk``); report
creation (with a pre-uploaded photo each, and an Idempotency-Key) by a Python
client with keep-alive connections, timing each request. The database is an
embedded PostgreSQL in a scratch directory unless DATABASE_URL is set.
Last line: one JSON object of the figures.
"""
from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import statistics
import subprocess
import sys
import threading
import time
import uuid

from harness import THREADS, WORKERS, Client, Stack, percentile, report_json, upload_photo


def wrk(url: str, duration: int, connections: int) -> dict:
    out = subprocess.run(["wrk", "-t2", f"-c{connections}", f"-d{duration}s", "--latency", url],
                         capture_output=True, text=True, check=True).stdout
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))

    def pct(p):
        m = re.search(rf"^\s+{p}%\s+([\d.]+)(us|ms|s)", out, re.M)
        value, unit = float(m.group(1)), m.group(2)
        return value / 1000 if unit == "us" else value * 1000 if unit == "s" else value
    errors = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    return {"rps": round(rps, 1), "p50_ms": pct(50), "p99_ms": pct(99),
            "non_2xx": int(errors.group(1)) if errors else 0}


def _median_run(runs: list[dict]) -> dict:
    return {key: statistics.median(r[key] for r in runs) for key in runs[0]}


def create_reports(port: int, count: int, concurrency: int) -> dict:
    devices = [f"bench-device-{uuid.uuid4().hex[:8]}" for _ in range(concurrency)]
    per = count // concurrency
    photo_ids = [[upload_photo(Client(port), d, i * 10_000 + n) for n in range(per)]
                 for i, d in enumerate(devices)]
    latencies: list[float] = []
    failures: list[bytes] = []
    lock = threading.Lock()

    def worker(i: int):
        c = Client(port)
        for n, pid in enumerate(photo_ids[i]):
            t = time.perf_counter()
            status, raw = c.request("POST", "/api/v1/reports", report_json(pid, n), {
                "Content-Type": "application/json", "X-Device-Id": devices[i],
                "Idempotency-Key": uuid.uuid4().hex})
            elapsed = (time.perf_counter() - t) * 1000
            with lock:
                if status == 201:
                    latencies.append(elapsed)
                else:
                    failures.append(raw)

    started = time.perf_counter()
    threads = [threading.Thread(target=worker, args=(i,)) for i in range(concurrency)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    wall = time.perf_counter() - started
    latencies.sort()
    return {"created": len(latencies), "failed": len(failures), "concurrency": concurrency,
            "rps": round(len(latencies) / wall, 1), "p50_ms": round(statistics.median(latencies), 2),
            "p99_ms": percentile(latencies, 99), "max_ms": round(latencies[-1], 2)}


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--duration", type=int, default=10)
    parser.add_argument("--connections", type=int, default=16)
    parser.add_argument("--creations", type=int, default=400)
    parser.add_argument("--creation-concurrency", type=int, nargs="+", default=[1, 2, 4],
                        help="client counts for creation; the highest saturates 2 cores")
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    if not shutil.which("wrk"):
        sys.exit("wrk not found: apt-get install wrk")

    stack = Stack()
    results: dict = {"machine": {"cpus": os.cpu_count(), "python": sys.version.split()[0]},
                     "server": {"workers": int(WORKERS), "threads": int(THREADS)}}
    try:
        port = stack.gunicorn()
        results["create"] = {}
        for clients in args.creation_concurrency:
            print(f"==> creating {args.creations} reports from {clients} client(s)", flush=True)
            results["create"][str(clients)] = create_reports(port, args.creations, clients)
        code = json.loads(Client(port).request("GET", "/api/v1/reports?limit=1")[1])["items"][0]["code"]
        bare = stack.gunicorn("bench.bare_app:app")
        # Both servers stay up and are measured in turn, several rounds: single wrk runs on
        # this VM vary by 2x from one minute to the next, so medians of alternating rounds
        # compare like with like.
        ours_runs, bare_runs = [], []
        for round_no in range(args.rounds):
            print(f"==> round {round_no + 1}/{args.rounds}: GET /api/v1/reports/{code} and the bare"
                  f" ceiling ({args.duration}s each, {args.connections} connections)", flush=True)
            ours_runs.append(wrk(f"http://127.0.0.1:{port}/api/v1/reports/{code}",
                                 args.duration, args.connections))
            bare_runs.append(wrk(f"http://127.0.0.1:{bare}/api/v1/reports/PA-2026-000001",
                                 args.duration, args.connections))
        results["status_read"] = _median_run(ours_runs)
        results["ceiling"] = _median_run(bare_runs)
        results["rounds"] = {"ours_rps": [r["rps"] for r in ours_runs],
                             "ceiling_rps": [r["rps"] for r in bare_runs]}
    finally:
        stack.close()
    results["status_read_pct_of_ceiling"] = round(
        100 * results["status_read"]["rps"] / results["ceiling"]["rps"], 1)

    print()
    print(f"{'':34}{'req/s':>10}{'p50 ms':>10}{'p99 ms':>10}")
    rows = [("GET report (ours)", results["status_read"]),
            ("GET bare Flask (ceiling)", results["ceiling"])]
    rows += [(f"POST report, {c} client(s)", r) for c, r in results["create"].items()]
    for name, r in rows:
        print(f"{name:34}{r['rps']:>10}{r['p50_ms']:>10}{r['p99_ms']:>10}")
    p99s = ", ".join(f"{c} client(s): {r['p99_ms']} ms" for c, r in results["create"].items())
    print(f"status reads at {results['status_read_pct_of_ceiling']} % of the ceiling (target ≥ 50 %);"
          f" creation p99 {p99s} (target < 50 ms)")
    print(json.dumps(results))
    return 0


if __name__ == "__main__":
    sys.exit(main())
