"""docker-compose.yml is valid: the Compose JSON schema and docker-compose's own parser."""
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent


def test_compose_file_matches_the_compose_spec():
    result = subprocess.run([str(BIN / "check-jsonschema"), "--builtin-schema", "vendor.compose-spec",
                             str(ROOT / "docker-compose.yml")], capture_output=True, text=True)
    assert result.returncode == 0, result.stdout + result.stderr


def test_docker_compose_parses_it():
    env = dict(os.environ, POSTGRES_PASSWORD="example", SECRET_KEY="example" * 6,
               FIREBASE_PROJECT_ID="example")
    result = subprocess.run([str(BIN / "docker-compose"), "-f", str(ROOT / "docker-compose.yml"),
                             "config", "-q"], capture_output=True, text=True, env=env)
    assert result.returncode == 0, result.stdout + result.stderr


def test_compose_refuses_to_run_without_secrets():
    env = {k: v for k, v in os.environ.items()
           if k not in ("POSTGRES_PASSWORD", "SECRET_KEY", "FIREBASE_PROJECT_ID")}
    result = subprocess.run([str(BIN / "docker-compose"), "-f", str(ROOT / "docker-compose.yml"),
                             "config", "-q"], capture_output=True, text=True, env=env)
    assert result.returncode != 0
