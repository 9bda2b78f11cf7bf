"""The chatbot through the API: reply latency, training time, start-up time and memory.

    .venv/bin/python bench/chat.py [--turns 400] [--no-train]

The whole chat path on loopback: gunicorn (2×4) with POST /api/v1/chat → Rasa's REST
channel → (for action turns) the action server → the API over HTTP. Two kinds of turn:
- NLU-only: the bot answers from its domain (greetings, thanks, how to report, who are you);
- API turns: a custom action reads the API (report status by code, a place's opening hours,
  festivals, local food).
One client, keep-alive, after a warm-up; each turn is a fresh conversation or a follow-up
in the same one, as in the app. Targets (p95): NLU-only < 60 ms, API turns < 150 ms.
Training time is a fresh `rasa train` into a scratch directory (skipped with --no-train);
start-up is from spawning both servers to both answering; memory is the resident set of
the Rasa server and of the action server after the run. Last line: one JSON object.
"""
from __future__ import annotations

import argparse
import json
import os
import random
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

from harness import ROOT, Client, Stack, free_port, percentile, report_json, upload_photo

sys.path.insert(0, str(ROOT))
from scripts import bot  # noqa: E402

NLU_ONLY = ["xin chào", "chao ban", "cảm ơn nhé", "thanks", "bạn là người hay máy?",
            "lam sao de gui phan anh", "Hello!", "tạm biệt", "bạn giúp được gì"]
API_TURNS = ["tra cứu phản ánh {code}", "kiem tra {code_typed}", "Chùa Dâu mở cửa mấy giờ?",
             "chua but thap co mo cua khong", "sắp tới có lễ hội gì", "đặc sản bắc ninh là gì",
             "What time does Dau Pagoda open?"]


def _rss_mib(pid: int) -> float:
    """Resident memory of a process and its children (the servers fork helpers)."""
    total = 0
    pids = [pid]
    try:
        out = subprocess.run(["ps", "-o", "pid=", "--ppid", str(pid)], capture_output=True,
                             text=True).stdout.split()
        pids += [int(p) for p in out]
    except OSError:
        pass
    for p in pids:
        try:
            for line in Path(f"/proc/{p}/status").read_text().splitlines():
                if line.startswith("VmRSS:"):
                    total += int(line.split()[1])
        except OSError:
            continue
    return round(total / 1024, 1)


def _train_seconds() -> float:
    out = Path(tempfile.mkdtemp(prefix="bot-train-"))
    started = time.monotonic()
    subprocess.run([str(bot.RASA), "train", "--config", "config.yml", "--domain", "domain.yml",
                    "--data", "data", "--out", str(out), "--force"], cwd=bot.BOT,
                   env=bot.base_env(), check=True, stdout=subprocess.DEVNULL,
                   stderr=subprocess.DEVNULL)
    return round(time.monotonic() - started, 1)


def _chat(client: Client, sender: str, message: str) -> tuple[float, list]:
    body = json.dumps({"sender": sender, "message": message})
    t0 = time.perf_counter()
    status, raw = client.request("POST", "/api/v1/chat", body, {
        "Content-Type": "application/json", "X-Device-Id": "bench-chat-device"})
    elapsed = (time.perf_counter() - t0) * 1000
    assert status == 200, (status, raw[:300])
    return elapsed, json.loads(raw)["messages"]


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--turns", type=int, default=400, help="measured turns of each kind")
    parser.add_argument("--no-train", action="store_true", help="skip the training-time figure")
    args = parser.parse_args()
    if not bot.available():
        raise SystemExit("bot/.venv is missing: run `make install-bot`")
    model = bot.ensure_model()
    train_s = None if args.no_train else _train_seconds()
    if train_s is not None:
        print(f"==> training from scratch: {train_s} s", flush=True)

    stack = Stack()
    processes = None
    try:
        subprocess.run([sys.executable, "-m", "flask", "--app", "api", "tourism", "load"],
                       cwd=ROOT, env=stack.env, check=True, capture_output=True)
        rasa_port = free_port()
        stack.env["RASA_URL"] = f"http://127.0.0.1:{rasa_port}"
        stack.env["RATE_LIMITS_ENABLED"] = "false"
        port = stack.gunicorn()
        client = Client(port)
        photo = upload_photo(client, "bench-chat-device", 1)
        status, raw = client.request("POST", "/api/v1/reports", report_json(photo, 1), {
            "Content-Type": "application/json", "X-Device-Id": "bench-chat-device",
            "Idempotency-Key": "bench-chat-report-1"})
        assert status == 201, raw
        code = json.loads(raw)["code"]
        code_typed = code.replace("-", "").lower()

        started = time.monotonic()
        processes = bot.start(model, api_url=f"http://127.0.0.1:{port}", rasa_port=rasa_port,
                              actions_port=free_port(), log_dir=stack.scratch)
        processes.wait_ready(timeout=300)
        startup_s = round(time.monotonic() - started, 1)
        print(f"==> bot ready in {startup_s} s", flush=True)

        rng = random.Random(24)
        api_turns = [t.format(code=code, code_typed=code_typed) for t in API_TURNS]
        for message in (NLU_ONLY + api_turns) * 2:  # warm-up: every path, both gunicorn workers
            _chat(client, f"warm-{uuid.uuid4().hex}", message)
        timings: dict[str, list[float]] = {"nlu_only": [], "api": []}
        for i in range(args.turns * 2):
            kind = "nlu_only" if i % 2 == 0 else "api"
            message = rng.choice(NLU_ONLY if kind == "nlu_only" else api_turns)
            sender = f"bench-{kind}-{i // 4:05d}"  # four turns per conversation, as in the app
            elapsed, messages = _chat(client, sender, message)
            assert messages, f"no reply to {message!r}"
            timings[kind].append(elapsed)
        rss = {name: _rss_mib(proc.pid) for name, proc in processes.procs.items()}
    finally:
        if processes is not None:
            processes.stop()
        stack.close()

    results = {"machine": {"cpus": os.cpu_count()}, "turns": {k: len(v) for k, v in timings.items()},
               "training_s": train_s, "startup_s": startup_s, "rss_mib": rss}
    for kind, values in timings.items():
        values.sort()
        results[kind] = {"p50_ms": percentile(values, 50), "p95_ms": percentile(values, 95),
                         "p99_ms": percentile(values, 99), "max_ms": round(values[-1], 1)}
        target = 60 if kind == "nlu_only" else 150
        print(f"  {kind:<9} p50 {results[kind]['p50_ms']:>7} ms  p95 {results[kind]['p95_ms']:>7} ms"
              f"  (target p95 < {target} ms)")
    print(f"  start-up {startup_s} s; resident memory: rasa {rss.get('rasa')} MiB, "
          f"actions {rss.get('actions')} MiB; training {train_s} s")
    print(json.dumps(results))
    return 0


if __name__ == "__main__":
    sys.exit(main())
