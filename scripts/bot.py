"""The chatbot's processes: train (cached by content), then the Rasa server and the action server.

Rasa lives in its own virtual environment (``bot/.venv``, built by the Makefile from
``bot/requirements.lock``) and is only ever run as a subprocess: its pins conflict with
the API's, and the API talks to it over HTTP.

A trained model is named after a hash of everything that shapes it (config, domain,
training data, custom NLU components), so an unchanged bot is never retrained.
"""
from __future__ import annotations

import hashlib
import os
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BOT = ROOT / "bot"
VENV = BOT / ".venv"
RASA = VENV / "bin" / "rasa"
PYTHON = VENV / "bin" / "python"
MODELS = BOT / "models"
# What shapes a trained model. Actions are not in it: they run in the action server.
_MODEL_INPUTS = ("config.yml", "domain.yml", "data", "components")


def available() -> bool:
    """Rasa is installed and the bot project is whole (config, domain, data)."""
    return RASA.exists() and all((BOT / name).exists() for name in
                                 ("config.yml", "domain.yml", "data", "endpoints.yml",
                                  "credentials.yml"))


def model_hash() -> str:
    digest = hashlib.sha256()
    for name in _MODEL_INPUTS:
        path = BOT / name
        files = sorted(p for p in path.rglob("*") if p.is_file()) if path.is_dir() else [path]
        for file in files:
            if file.suffix == ".pyc" or "__pycache__" in file.parts or not file.exists():
                continue
            digest.update(str(file.relative_to(BOT)).encode() + b"\0")
            digest.update(file.read_bytes() + b"\0")
    return digest.hexdigest()[:16]


def model_path() -> Path:
    return MODELS / f"bot-{model_hash()}.tar.gz"


def base_env(**extra: str) -> dict:
    env = dict(os.environ)
    env.pop("PYTHONPATH", None)   # the API's path must not leak into Rasa's interpreter
    env.update(RASA_TELEMETRY_ENABLED="false", TF_CPP_MIN_LOG_LEVEL="2",
               PYTHONWARNINGS="ignore", SQLALCHEMY_SILENCE_UBER_WARNING="1")
    env.update(extra)
    return env


def ensure_model(*, quiet: bool = False) -> Path:
    """The trained model for the bot as it is now; trains it when the content changed."""
    target = model_path()
    if target.exists():
        if not quiet:
            print(f"==> bot model up to date: {target.relative_to(ROOT)}", flush=True)
        return target
    if not available():
        raise SystemExit("the bot cannot be trained: bot/.venv or the bot project (config.yml, "
                         "domain.yml, data/) is missing; `make install-bot` installs Rasa")
    MODELS.mkdir(parents=True, exist_ok=True)
    print(f"==> training the bot model (content changed; 1-3 minutes on 2 cores) → "
          f"{target.relative_to(ROOT)}", flush=True)
    started = time.monotonic()
    cmd = [str(RASA), "train", "--config", "config.yml", "--domain", "domain.yml",
           "--data", "data", "--out", str(MODELS), "--fixed-model-name", target.name[:-7]]
    result = subprocess.run(cmd, cwd=BOT, env=base_env())
    if result.returncode != 0 or not target.exists():
        raise SystemExit(f"bot training failed (exit {result.returncode})")
    print(f"==> bot trained in {time.monotonic() - started:.0f} s", flush=True)
    for old in MODELS.glob("bot-*.tar.gz"):   # keep the current model only
        if old != target:
            old.unlink(missing_ok=True)
    return target


def _get(url: str, timeout: float = 2.0) -> int | None:
    try:
        with urllib.request.urlopen(url, timeout=timeout) as response:
            return response.status
    except (urllib.error.URLError, OSError):
        return None


@dataclass
class BotProcesses:
    """A running Rasa server and action server on loopback ports."""
    rasa_port: int
    actions_port: int
    procs: dict[str, subprocess.Popen] = field(default_factory=dict)

    @property
    def rasa_url(self) -> str:
        return f"http://127.0.0.1:{self.rasa_port}"

    @property
    def actions_url(self) -> str:
        return f"http://127.0.0.1:{self.actions_port}"

    def wait_ready(self, timeout: float = 180.0) -> None:
        deadline = time.monotonic() + timeout
        checks = {"actions": f"{self.actions_url}/health", "rasa": f"{self.rasa_url}/status"}
        pending = dict(checks)
        while pending:
            for name, proc in self.procs.items():
                if proc.poll() is not None:
                    raise RuntimeError(f"bot {name} exited with {proc.returncode} while starting")
            for name, url in list(pending.items()):
                if _get(url) == 200:
                    pending.pop(name)
            if pending and time.monotonic() > deadline:
                raise TimeoutError(f"bot not ready after {timeout:.0f} s: {sorted(pending)}")
            if pending:
                time.sleep(0.5)

    def stop_one(self, name: str, sig: int = signal.SIGTERM) -> None:
        proc = self.procs.get(name)
        if proc is not None and proc.poll() is None:
            os.killpg(proc.pid, sig)
            try:
                proc.wait(20)
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, signal.SIGKILL)
                proc.wait(5)

    def stop(self) -> None:
        for name in list(self.procs):
            self.stop_one(name)


def commands(model: Path, *, rasa_port: int, actions_port: int,
             endpoints: str = "endpoints.yml") -> dict[str, list[str]]:
    return {
        "actions": [str(RASA), "run", "actions", "--actions", "actions", "--port", str(actions_port)],
        "rasa": [str(RASA), "run", "--enable-api", "--model", str(model), "--port", str(rasa_port),
                 "--interface", "127.0.0.1", "--endpoints", endpoints, "--credentials",
                 "credentials.yml"],
    }


def start(model: Path, *, api_url: str, rasa_port: int = 5005, actions_port: int = 5055,
          endpoints: str = "endpoints.yml", log_dir: Path | None = None,
          extra_env: dict | None = None) -> BotProcesses:
    """Start the action server and the Rasa server (not waiting: call ``wait_ready``)."""
    env = base_env(IOC_API_URL=api_url, ACTION_ENDPOINT_URL=f"http://127.0.0.1:{actions_port}/webhook",
                   **(extra_env or {}))
    bot = BotProcesses(rasa_port, actions_port)
    for name, cmd in commands(model, rasa_port=rasa_port, actions_port=actions_port,
                              endpoints=endpoints).items():
        out = None
        if log_dir is not None:
            log_dir.mkdir(parents=True, exist_ok=True)
            out = open(log_dir / f"bot-{name}.log", "ab")
        bot.procs[name] = subprocess.Popen(cmd, cwd=BOT, env=env, stdout=out,
                                           stderr=subprocess.STDOUT if out else None,
                                           start_new_session=True)
    return bot


def production_endpoints_env(database_url: str, redis_url: str) -> dict[str, str]:
    """The variables of ``endpoints.prod.yml``: tracker store in PostgreSQL, lock store in Redis."""
    from sqlalchemy.engine import make_url
    from urllib.parse import urlsplit
    db = make_url(database_url)
    redis = urlsplit(redis_url)
    return {
        "RASA_TRACKER_DB_HOST": db.host or str(db.query.get("host", "")),
        "RASA_TRACKER_DB_PORT": str(db.port or 5432),
        "RASA_TRACKER_DB_NAME": db.database or "rasa",
        "RASA_TRACKER_DB_USER": db.username or "postgres",
        "RASA_TRACKER_DB_PASSWORD": db.password or "",
        "RASA_LOCK_REDIS_HOST": redis.hostname or "127.0.0.1",
        "RASA_LOCK_REDIS_PORT": str(redis.port or 6379),
        "RASA_LOCK_REDIS_DB": (redis.path or "/0").lstrip("/") or "0",
    }


if __name__ == "__main__":
    # `python -m scripts.bot train`: train when needed and print the model path.
    if sys.argv[1:] == ["train"]:
        print(ensure_model())
    else:
        raise SystemExit("usage: python -m scripts.bot train")
