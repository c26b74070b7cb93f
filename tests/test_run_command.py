"""The README's run command brings the platform up on embedded defaults and Ctrl-C stops it all."""

from __future__ import annotations

import contextlib
import json
import os
import re
import signal
import sqlite3
import subprocess
import time
import urllib.error
import urllib.request

import pytest

from tests.support.processes import ROOT

pytestmark = pytest.mark.slow


def _healthz(port: int) -> tuple[int, dict] | None:
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=10) as response:
            return response.status, json.load(response)
    except urllib.error.HTTPError as exc:
        return exc.code, json.load(exc)
    except OSError:
        return None


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return True


def _demo_statuses(env: dict[str, str]) -> dict[str, str]:
    """The demo documents (name: status) in the embedded database of `env`."""
    path = os.path.join(env["HDR_VAR_DIR"], "hdr.sqlite3")
    with contextlib.closing(sqlite3.connect(f"file:{path}?mode=ro", uri=True)) as db:
        rows = db.execute(
            "SELECT original_name, status FROM recognition_document WHERE original_name LIKE 'demo-%'"
        ).fetchall()
    return dict(rows)


def _demo_read(env: dict[str, str], deadline: float) -> set[str]:
    """The demo documents read so far, once all of them are read or the deadline passes."""
    read: set[str] = set()
    while time.monotonic() < deadline:
        statuses = _demo_statuses(env)
        read = {name for name, status in statuses.items() if status in ("done", "needs_review")}
        if statuses and len(read) == len(statuses):
            break
        time.sleep(1)
    return read


def test_make_run_serves_healthz_200_and_stops_cleanly_on_ctrl_c(embedded_env, free_port, tmp_path):
    env = {**embedded_env, "PORT": str(free_port)}
    env.pop("DJANGO_SETTINGS_MODULE")  # as on a user's shell
    log_path = tmp_path / "run.log"
    with log_path.open("wb") as log:
        proc = subprocess.Popen(
            ["make", "run"], cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT,
            start_new_session=True,
        )  # fmt: skip
        try:
            deadline = time.monotonic() + 240
            answer = None
            while time.monotonic() < deadline and proc.poll() is None:
                answer = _healthz(free_port)
                if answer and answer[0] == 200:
                    break
                time.sleep(1)
            output = log_path.read_text()
            assert answer and answer[0] == 200, f"healthz: {answer}\n{output[-4000:]}"
            assert answer[1]["checks"]["database"]["vendor"] == "sqlite"
            assert answer[1]["checks"]["broker"]["transport"] == "filesystem"
            assert "admin / hdr-admin-demo" in output  # demo credentials printed
            # The demo scans seeded on first start are read by the worker, so a newcomer sees
            # results at once.
            read = _demo_read(embedded_env, deadline)
            assert read == {"demo-form-1.png", "demo-form-2.png", "demo-form-3.png",
                                "demo-cheque-1.png", "demo-cheque-2.png"}, read  # fmt: skip

            # Ctrl-C in a terminal signals the whole foreground process group.
            os.killpg(proc.pid, signal.SIGINT)
            proc.wait(timeout=60)
        finally:
            if proc.poll() is None:
                os.killpg(proc.pid, signal.SIGKILL)

    output = log_path.read_text()
    assert "hdr: stopped cleanly" in output, output[-4000:]
    started = re.search(r"web pid (\d+), worker pid (\d+)", output)
    assert started, output[-4000:]
    assert not any(_alive(int(pid)) for pid in started.groups())
    assert _healthz(free_port) is None  # nothing listens any more
