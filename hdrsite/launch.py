"""Run the whole platform in the foreground: migrations, demo users, web server, worker and beat.

`make run` calls this. Ctrl-C (or SIGTERM) stops every process it started and waits for them.
Children run in their own process groups so that one Ctrl-C becomes one orderly shutdown: the web
server and the worker each get a single SIGTERM (Celery's warm shutdown finishes running tasks).
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from hdrsite.env import env_int

ROOT = Path(__file__).resolve().parent.parent
STOP_GRACE_S = 30


def worker_concurrency_default() -> int:
    """Worker processes when HDR_WORKER_CONCURRENCY is unset: one per core this process may
    run on, plus one that takes the core a process leaves while it waits for the disk (the
    flushes of stored files) or the database. On two cores, two processes kept the cores
    87-94% busy through the pipeline bench, three kept them 93-98% busy
    (docs/pipeline-throughput.md)."""
    try:
        cores = len(os.sched_getaffinity(0))
    except AttributeError:  # not offered on every platform
        cores = os.cpu_count() or 1
    return cores + 1


def _manage(*args: str) -> None:
    subprocess.run([sys.executable, "manage.py", *args], cwd=ROOT, check=True)


def _spawn(*args: str) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-m", *args], cwd=ROOT, process_group=0)


def _stop(children: dict[str, subprocess.Popen]) -> None:
    for proc in children.values():
        if proc.poll() is None:
            proc.send_signal(signal.SIGTERM)
    deadline = time.monotonic() + STOP_GRACE_S
    for name, proc in children.items():
        try:
            proc.wait(timeout=max(0.1, deadline - time.monotonic()))
        except subprocess.TimeoutExpired:
            print(f"hdr: {name} did not stop in {STOP_GRACE_S}s, killing it", flush=True)
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()


def main() -> int:
    port = env_int("PORT", 8000)
    concurrency = env_int("HDR_WORKER_CONCURRENCY", worker_concurrency_default())
    prefetch = env_int("HDR_WORKER_PREFETCH", 4)
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "hdrsite.settings")

    _manage("migrate", "--noinput", "-v", "0")
    _manage("models_builtin")
    _manage("collectstatic", "--noinput", "-v", "0")
    print("hdr: demo accounts (role, username / password):", flush=True)
    _manage("demo_users")
    _manage("seed_demo")

    stopping = False

    def request_stop(signum, frame):
        nonlocal stopping
        stopping = True

    signal.signal(signal.SIGINT, request_stop)
    signal.signal(signal.SIGTERM, request_stop)

    children = {
        "web": _spawn(
            "gunicorn",
            "-c",
            "python:hdrsite.gunicorn_conf",
            "hdrsite.wsgi",
            "--bind",
            f"127.0.0.1:{port}",
            "--workers",
            str(env_int("HDR_WEB_WORKERS", 2)),
            "--threads",
            str(env_int("HDR_WEB_THREADS", 4)),
            "--access-logfile",
            "-",
        ),
        # One embedded worker serves both queues and runs beat: a laptop has one node.
        "worker": _spawn(
            "celery",
            "-A",
            "worker",
            "worker",
            "--beat",
            "--queues",
            "cpu,gpu",
            "--concurrency",
            str(concurrency),
            # Alone on the machine, the worker reserves a few messages per process, so a
            # process that finishes a page starts the next at once instead of waiting for the
            # broker (about 15% more pages per minute on 2 cores). A lost reservation is re-sent
            # by the reaper; the gpu worker of a cluster keeps prefetch 1.
            "--prefetch-multiplier",
            str(prefetch),
            "--hostname",
            "embedded@%h",
            "--loglevel",
            "INFO",
        ),
    }
    pids = ", ".join(f"{name} pid {proc.pid}" for name, proc in children.items())
    print(f"hdr: running at http://127.0.0.1:{port}/ ({pids}); Ctrl-C stops", flush=True)

    crashed = None
    while not stopping:
        for name, proc in children.items():
            if proc.poll() is not None:
                crashed = name
                stopping = True
        time.sleep(0.2)

    _stop(children)
    if crashed:
        print(f"hdr: {crashed} exited unexpectedly; everything is stopped", flush=True)
        return 1
    print("hdr: stopped cleanly", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
