"""The deployment files: docker-compose.yml is valid and complete, and the Dockerfiles pass
hadolint. No Docker engine runs here: the compose file is read through docker-compose's own
parser (``config --format json``: anchors merged, variables interpolated)."""
from __future__ import annotations

import ast
import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent
SECRETS = {"POSTGRES_PASSWORD": "example-db-password", "SECRET_KEY": "s" * 40,
           "FIREBASE_PROJECT_ID": "ioc-bacninh-prod", "RASA_AUTH_TOKEN": "r" * 40}
# DESIGN §14 / issue 10: the long-running services, each with a health check.
SERVICES = {"postgres", "redis", "api", "worker", "beat", "rasa", "rasa-actions"}
API_IMAGE_SERVICES = ("migrate", "api", "worker", "beat")


def _compose(env: dict, *args: str) -> subprocess.CompletedProcess:
    # A local .env file (operators keep one beside the compose file) must not answer for `env`.
    return subprocess.run([str(BIN / "docker-compose"), "-f", str(ROOT / "docker-compose.yml"),
                           "--env-file", os.devnull, *args],
                          capture_output=True, text=True, env=env)


def _clean_env() -> dict:
    return {k: v for k, v in os.environ.items() if k not in SECRETS}


@pytest.fixture(scope="module")
def stack() -> dict:
    result = _compose(dict(_clean_env(), **SECRETS), "config", "--format", "json")
    assert result.returncode == 0, result.stdout + result.stderr
    return json.loads(result.stdout)


def _command(service: dict) -> str:
    command = service.get("command") or []
    return " ".join(command) if isinstance(command, list) else command


def test_compose_file_matches_the_compose_spec():
    result = subprocess.run([str(BIN / "check-jsonschema"), "--builtin-schema", "vendor.compose-spec",
                             str(ROOT / "docker-compose.yml")], capture_output=True, text=True)
    assert result.returncode == 0, result.stdout + result.stderr


def test_docker_compose_parses_it():
    result = _compose(dict(_clean_env(), **SECRETS), "config", "-q")
    assert result.returncode == 0, result.stdout + result.stderr


@pytest.mark.parametrize("missing", sorted(SECRETS))
def test_compose_refuses_to_run_without_each_secret(missing):
    env = dict(_clean_env(), **{k: v for k, v in SECRETS.items() if k != missing})
    result = _compose(env, "config", "-q")
    assert result.returncode != 0
    assert missing in result.stderr


def test_every_service_is_there_with_a_health_check_and_a_restart_policy(stack):
    services = stack["services"]
    assert SERVICES | {"migrate"} <= set(services)
    for name in SERVICES:
        check = services[name].get("healthcheck") or {}
        assert not check.get("disable") and check.get("test"), f"{name} has no health check"
        assert check["test"][0] in ("CMD", "CMD-SHELL") and len(check["test"]) > 1, name
        assert services[name].get("restart") in ("unless-stopped", "always"), name
    # The one-shot job runs once per `up` and is not restarted.
    assert services["migrate"].get("restart") == "no"
    for name, service in services.items():   # logs are rotated, or they fill the disk
        assert service.get("logging", {}).get("options", {}).get("max-size"), name


def test_start_order_waits_for_health_and_for_migrations(stack):
    services = stack["services"]
    assert "alembic upgrade head" in _command(services["migrate"])
    assert services["migrate"]["depends_on"]["postgres"]["condition"] == "service_healthy"
    for name in ("api", "worker", "beat", "rasa"):
        deps = services[name]["depends_on"]
        assert deps["migrate"]["condition"] == "service_completed_successfully", name
        assert deps["redis"]["condition"] == "service_healthy", name
        for dep, rule in deps.items():
            if dep != "migrate":   # every other dependency is awaited healthy, not started
                assert rule["condition"] == "service_healthy", (name, dep)
    assert services["api"]["depends_on"]["postgres"]["condition"] == "service_healthy"


def test_state_lives_in_named_volumes(stack):
    declared = set(stack.get("volumes", {}))
    mounts = {name: {m["target"]: m for m in s.get("volumes", [])}
              for name, s in stack["services"].items()}
    for service, target in (("postgres", "/var/lib/postgresql/data"), ("redis", "/data"),
                            ("api", "/data/photos"), ("worker", "/data/photos"),
                            ("beat", "/var/lib/ioc/beat")):
        mount = mounts[service].get(target)
        assert mount and mount["type"] == "volume" and mount["source"] in declared, \
            f"{service}:{target} is not a named volume"


def test_processes_are_started_as_documented(stack):
    services = stack["services"]
    assert services["api"]["command"] == ["gunicorn", "-c", "api/gunicorn_conf.py", "api.wsgi:app"]
    assert (ROOT / "api" / "gunicorn_conf.py").exists()
    assert _command(services["worker"]).startswith("celery -A workers.celery_app worker")
    assert _command(services["beat"]).startswith("celery -A workers.celery_app beat")
    rasa = _command(services["rasa"])
    for part in ("rasa run", "--enable-api", "--auth-token", "--port 5005",
                 "--endpoints endpoints.prod.yml", "--credentials credentials.yml"):
        assert part in rasa
    assert _command(services["rasa-actions"]).startswith("rasa run actions")
    # Metrics: gunicorn's and the worker's processes write samples to a per-container tmpfs.
    for name in ("api", "worker"):
        directory = services[name]["environment"]["PROMETHEUS_MULTIPROC_DIR"]
        assert directory in services[name].get("tmpfs", []), name
    port = services["worker"]["environment"]["WORKER_METRICS_PORT"]
    assert f":{port}/metrics" in " ".join(services["worker"]["healthcheck"]["test"])


def _env_names_read(path: Path, function: str | None = None) -> set[str]:
    """Environment variable names read in ``path`` (inside ``function`` when given): the
    first argument of ``_env*(…)``, ``os.environ.get(…)`` and ``os.environ[…]``."""
    tree = ast.parse(path.read_text())
    if function:
        tree = next(node for node in ast.walk(tree)
                    if isinstance(node, ast.FunctionDef) and node.name == function)
    names = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Call) and node.args and isinstance(node.args[0], ast.Constant):
            func = node.func
            if (isinstance(func, ast.Name) and func.id.startswith("_env")) or \
                    (isinstance(func, ast.Attribute) and func.attr == "get"
                     and ast.unparse(func.value) == "os.environ"):
                names.add(node.args[0].value)
        elif isinstance(node, ast.Subscript) and ast.unparse(node.value) == "os.environ" \
                and isinstance(node.slice, ast.Constant):
            names.add(node.slice.value)
    return names


def test_the_app_reads_every_variable_compose_passes(stack):
    config_names = _env_names_read(ROOT / "api" / "config.py", "from_env")
    gunicorn_names = _env_names_read(ROOT / "api" / "gunicorn_conf.py")
    assert {"DATABASE_URL", "SECRET_KEY", "RASA_URL", "METRICS_TOKEN"} <= config_names
    assert {"GUNICORN_WORKERS", "GUNICORN_THREADS", "PORT"} <= gunicorn_names
    services = stack["services"]
    for name in API_IMAGE_SERVICES:
        env = set(services[name].get("environment", {}))
        known = config_names | (gunicorn_names if name == "api" else set())
        if name == "migrate":   # read by the migrate command itself
            known |= {n for n in env if n in _command(services[name])}
        assert env - known == set(), f"{name} passes variables nothing reads"
        # Production refuses to start without these.
        assert {"APP_ENV", "DATABASE_URL", "CELERY_BROKER_URL", "SECRET_KEY",
                "FIREBASE_PROJECT_ID"} <= env, name


def test_the_api_environment_is_a_valid_production_config(stack, monkeypatch):
    from api.config import Config
    env = stack["services"]["api"]["environment"]
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    cfg = Config.from_env()
    assert cfg.APP_ENV == "production" and cfg.SECRET_KEY == SECRETS["SECRET_KEY"]
    # The addresses name compose services and their ports.
    assert cfg.RASA_URL == "http://rasa:5005" and cfg.DATABASE_URL.endswith("@postgres:5432/ioc")
    assert cfg.CELERY_BROKER_URL.startswith("redis://redis:6379/")
    assert "--port 5005" in _command(stack["services"]["rasa"])


def test_the_bot_services_get_what_their_files_read(stack):
    services = stack["services"]
    endpoints = (ROOT / "bot" / "endpoints.prod.yml").read_text()
    values = "\n".join(line.split("#", 1)[0] for line in endpoints.splitlines())
    needed = set(re.findall(r"\$\{(\w+)\}", values))
    assert "RASA_TRACKER_DB_HOST" in needed and "RASA_LOCK_REDIS_HOST" in needed
    rasa_env = services["rasa"]["environment"]
    assert needed - set(rasa_env) == set()
    assert rasa_env["RASA_TRACKER_DB_HOST"] == "postgres"
    assert rasa_env["RASA_LOCK_REDIS_HOST"] == "redis"
    assert rasa_env["ACTION_ENDPOINT_URL"] == "http://rasa-actions:5055/webhook"
    # The tracker database is created by the migrate job before Rasa starts.
    assert services["migrate"]["environment"]["RASA_DATABASE_URL"].endswith(
        f"@postgres:5432/{rasa_env['RASA_TRACKER_DB_NAME']}")
    actions_env = set(services["rasa-actions"]["environment"])
    settings = _env_names_read(ROOT / "bot" / "actions" / "settings.py")
    assert actions_env - settings == set()
    assert services["rasa-actions"]["environment"]["IOC_API_URL"] == "http://api:8000"


def test_only_the_api_is_published(stack):
    published = {name for name, s in stack["services"].items() if s.get("ports")}
    assert published == {"api"}
    assert stack["services"]["api"]["ports"][0]["host_ip"] == "127.0.0.1"


# --- Dockerfiles ------------------------------------------------------------------------

def _hadolint(path: Path) -> subprocess.CompletedProcess:
    return subprocess.run([str(BIN / "hadolint"), "--no-color", "--failure-threshold", "info",
                           str(path)], capture_output=True, text=True, cwd=ROOT)


@pytest.mark.parametrize("dockerfile", ["Dockerfile", "bot/Dockerfile"])
def test_dockerfile_passes_hadolint(dockerfile):
    result = _hadolint(ROOT / dockerfile)
    assert result.returncode == 0, result.stdout + result.stderr


def test_hadolint_does_flag_a_bad_dockerfile(tmp_path):
    bad = tmp_path / "Dockerfile"
    bad.write_text("FROM python:latest\nRUN apt-get update && apt-get install -y curl\n"
                   "RUN pip install flask\n")
    result = _hadolint(bad)
    assert result.returncode != 0
    assert {"DL3007", "DL3008", "DL3013"} <= set(re.findall(r"DL\d{4}", result.stdout))


def _instructions(path: Path) -> list[tuple[str, str]]:
    text = re.sub(r"\\\n", " ", path.read_text())
    return [(line.split(None, 1)[0].upper(), line.split(None, 1)[1] if " " in line else "")
            for line in (raw.strip() for raw in text.splitlines())
            if line and not line.startswith("#")]


def _copied(instructions) -> list[str]:
    sources = []
    for op, args in instructions:
        if op == "COPY":
            parts = [p for p in args.split() if not p.startswith("--")]
            sources += parts[:-1]
    return [s.rstrip("/") for s in sources]


def test_the_api_image_holds_every_package_the_app_imports():
    instructions = _instructions(ROOT / "Dockerfile")
    copied = set(_copied(instructions))
    packages = {p.name for p in ROOT.iterdir() if (p / "__init__.py").exists()}
    imported = set()
    for source in [*ROOT.joinpath("api").rglob("*.py"), *ROOT.joinpath("workers").rglob("*.py")]:
        for node in ast.walk(ast.parse(source.read_text())):
            if isinstance(node, ast.Import):
                imported |= {a.name.split(".")[0] for a in node.names}
            elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
                imported.add(node.module.split(".")[0])
    needed = (imported & packages) | {"api", "workers", "migrations", "alembic.ini",
                                      "requirements.txt"}
    assert "tests" not in imported & packages, "the app must not import the tests"
    assert needed - copied == set()
    ignored = (ROOT / ".dockerignore").read_text().split()
    assert not needed & set(ignored)
    assert {"**/.venv", "bot", ".data", ".env"} <= set(ignored)
    users = [args for op, args in instructions if op == "USER"]
    assert users and not users[-1].startswith(("root", "0")), "the API must not run as root"
    assert any(op == "HEALTHCHECK" and "/readyz" in args for op, args in instructions)


def test_the_bot_image_trains_on_what_shapes_the_model():
    from scripts.bot import _MODEL_INPUTS
    instructions = _instructions(ROOT / "bot" / "Dockerfile")
    train_at = next(i for i, (op, args) in enumerate(instructions)
                    if op == "RUN" and "rasa train" in args)
    before_training = set(_copied(instructions[:train_at]))
    assert set(_MODEL_INPUTS) <= before_training
    assert {"actions", "endpoints.prod.yml", "credentials.yml"} <= set(_copied(instructions))
    runs = " ".join(args for op, args in instructions if op == "RUN")
    assert "-r requirements.lock" in runs
    assert "--no-deps --ignore-requires-python rasa==3.6.21 rasa-sdk==3.6.2" in runs
    users = [args for op, args in instructions if op == "USER"]
    assert users and not users[-1].startswith(("root", "0"))
    ignored = (ROOT / "bot" / ".dockerignore").read_text().split()
    assert {".venv", "models"} <= set(ignored), "a 2.7 GB venv or a stale model in the context"
