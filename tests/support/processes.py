"""Starting and stopping real processes (Celery workers, the platform) from tests."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent.parent


def wait_until(condition: Callable[[], object], *, timeout: float, interval: float = 0.5) -> object:
    """Poll `condition` until it returns something truthy; fail the test after `timeout` seconds."""
    deadline = time.monotonic() + timeout
    while True:
        result = condition()
        if result:
            return result
        if time.monotonic() > deadline:
            pytest.fail(f"condition not met within {timeout}s")
        time.sleep(interval)


def worker_env(database_url: str, **extra: str) -> dict[str, str]:
    """The environment of a worker process on the test database (at `database_url`, from
    :func:`subprocess_database_url`), broker and var dir, with `extra` variables."""
    from django.conf import settings

    env = dict(os.environ)
    env.update(
        DJANGO_SETTINGS_MODULE="hdrsite.settings_test",
        HDR_VAR_DIR=str(settings.VAR_DIR),
        DATABASE_URL=database_url,
        CELERY_BROKER_URL=settings.CELERY_BROKER_URL,
        CELERY_RESULT_BACKEND=settings.CELERY_RESULT_BACKEND,
        # The tests' webhook receivers listen on loopback.
        HDR_WEBHOOK_ALLOW_PRIVATE="true",
        **extra,
    )
    return env


def worker_start(env: dict[str, str], *, hostname: str, log_path: Path) -> subprocess.Popen:
    """Start a real Celery worker process consuming both queues (solo pool: tasks run in it)."""
    log = log_path.open("wb")
    return subprocess.Popen(
        [sys.executable, "-m", "celery", "-A", "worker", "worker", "--pool", "solo",
         "--queues", "cpu,gpu", "--hostname", hostname, "--loglevel", "INFO", "--without-heartbeat",
         "--without-mingle", "--without-gossip"],
        cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True,
    )  # fmt: skip


def worker_stop(proc: subprocess.Popen) -> None:
    if proc.poll() is None:
        os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()


def subprocess_database_url() -> str:
    """The URL of the database the tests use, for processes that must share it."""
    from django.db import connection

    conf = connection.settings_dict
    if conf["ENGINE"].endswith("sqlite3"):
        return f"sqlite:///{conf['NAME']}"
    return (
        f"postgres://{conf['USER']}:{conf['PASSWORD']}@{conf['HOST'] or '127.0.0.1'}:"
        f"{conf['PORT'] or 5432}/{conf['NAME']}"
    )
