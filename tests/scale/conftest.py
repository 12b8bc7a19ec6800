"""Scale test setup: its own PostgreSQL database (diptych_scale) and helpers that start real
Celery workers and a real gunicorn on loopback; the shared fixtures are in tests/fixtures.
"""
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest
from django.db import connection

from tests.databases import use_postgres_database
from tests.fixtures.platform import REDIS_PORT, reachable

use_postgres_database("diptych_scale")   # own database, so this package runs beside the others
REPO = Path(__file__).resolve().parents[2]


@pytest.fixture(autouse=True)
def _platform_settings(platform_settings):
    """Every test here runs with the platform test settings (tests/fixtures/platform.py)."""
    return platform_settings


def need_services():
    if connection.vendor != "postgresql":
        pytest.skip("PostgreSQL at 127.0.0.1:5432 is unreachable; this test needs it")
    if not reachable(REDIS_PORT):
        pytest.skip(f"Redis at 127.0.0.1:{REDIS_PORT} is unreachable; this test needs it")


def database_url() -> str:
    db = connection.settings_dict
    host = f"{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}"
    return f"postgres://{db['USER'] or 'postgres'}@{host}/{db['NAME']}"


def base_env(**extra) -> dict:
    env = {**os.environ, "DATABASE_URL": database_url(),
           "DJANGO_SETTINGS_MODULE": "diptych.settings", "MPLBACKEND": "Agg",
           "PYTHONPATH": str(REPO)}
    env.update({k: str(v) for k, v in extra.items()})
    return env


def start_process(args, env, log_path: Path) -> subprocess.Popen:
    """A child in its own process group (so the whole group can be killed), output to a log."""
    with open(log_path, "ab") as log:
        return subprocess.Popen(args, cwd=REPO, env=env, stdout=log, stderr=subprocess.STDOUT,
                                start_new_session=True)


def stop_process(process: subprocess.Popen, timeout: float = 20) -> None:
    if process.poll() is not None:
        return
    try:
        os.killpg(process.pid, signal.SIGTERM)
        process.wait(timeout=timeout)
    except (ProcessLookupError, subprocess.TimeoutExpired):
        try:
            os.killpg(process.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        process.wait()


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_for_port(port: int, process: subprocess.Popen, log_path: Path, timeout: float = 60):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            pytest.fail(f"the server exited:\n{log_path.read_text()[-4000:]}")
        if reachable(port):
            return
        time.sleep(0.2)
    pytest.fail(f"nothing listens on {port} after {timeout}s:\n{log_path.read_text()[-4000:]}")
