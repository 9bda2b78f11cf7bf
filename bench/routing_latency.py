"""Submit → routed, with a real Celery worker on loopback.

    .venv/bin/python bench/routing_latency.py [--reports 200] [--rate 10]

Reports are created over HTTP at a steady rate (pre-uploaded photo each);
latency is the time from sending the POST to the ``routed`` event's commit
timestamp (same machine clock). Target: p95 < 1 s. Last line: one JSON object.
"""
from __future__ import annotations

import argparse
import json
import os
import sys
import time
import uuid
from datetime import datetime, timezone

from sqlalchemy import create_engine, text

from harness import Client, Stack, percentile, report_json, upload_photo


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--reports", type=int, default=200)
    parser.add_argument("--rate", type=float, default=10.0, help="reports per second")
    args = parser.parse_args()
    stack = Stack()
    try:
        port = stack.gunicorn()
        stack.celery_worker()
        client, device = Client(port), f"bench-route-{uuid.uuid4().hex[:8]}"
        photos = [upload_photo(client, device, n) for n in range(args.reports)]
        sent: dict[str, datetime] = {}
        print(f"==> submitting {args.reports} reports at {args.rate}/s", flush=True)
        for n, pid in enumerate(photos):
            t0 = datetime.now(timezone.utc)
            status, raw = client.request("POST", "/api/v1/reports", report_json(pid, n), {
                "Content-Type": "application/json", "X-Device-Id": device,
                "Idempotency-Key": uuid.uuid4().hex})
            assert status == 201, raw
            sent[json.loads(raw)["code"]] = t0
            time.sleep(max(0.0, 1 / args.rate - (datetime.now(timezone.utc) - t0).total_seconds()))
        engine = create_engine(stack.env["DATABASE_URL"])
        deadline = time.monotonic() + 60
        while True:
            with engine.connect() as conn:
                rows = conn.execute(text(
                    "SELECT r.code, e.created_at FROM report r JOIN report_event e"
                    " ON e.report_id = r.id AND e.type = 'routed'")).all()
            if len(rows) >= len(sent) or time.monotonic() > deadline:
                break
            time.sleep(0.2)
        engine.dispose()
    finally:
        stack.close()
    latencies = sorted((routed - sent[code]).total_seconds() * 1000 for code, routed in rows)
    results = {"machine": {"cpus": os.cpu_count()}, "reports": len(sent), "routed": len(latencies),
               "rate_per_s": args.rate, "p50_ms": percentile(latencies, 50),
               "p95_ms": percentile(latencies, 95), "p99_ms": percentile(latencies, 99),
               "max_ms": round(latencies[-1], 2) if latencies else None}
    print(f"routed {results['routed']}/{results['reports']}: p50 {results['p50_ms']} ms,"
          f" p95 {results['p95_ms']} ms (target < 1000 ms), max {results['max_ms']} ms")
    print(json.dumps(results))
    return 0


if __name__ == "__main__":
    sys.exit(main())
