"""API accept latency: 20 concurrent uploaders POST scans to /api/v1/documents/ on loopback.

Starts a production-like web server (gunicorn, DEBUG off) on the configured database (PostgreSQL
when DATABASE_URL points at it, a fresh SQLite file otherwise) and the configured broker, then
measures the time from request to 202 for every upload and checks that every document was stored.

    python bench/api_accept_latency.py [--uploaders 20] [--per-uploader 25]
"""

from __future__ import annotations

import argparse
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
import uuid
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import cv2
import gunicorn
import numpy as np

from bench._common import emit, process_tree_cpu_seconds, rounded, summary
from hdrsite.gunicorn_conf import connections_limit

ROOT = Path(__file__).resolve().parent.parent


def scan_png() -> bytes:
    rng = np.random.default_rng(0)
    page = np.full((1100, 850), 235, np.uint8) + rng.integers(0, 20, (1100, 850), dtype=np.uint8)
    for row in range(10):
        cv2.rectangle(page, (60, 80 + row * 90), (780, 140 + row * 90), 40, 2)
    return cv2.imencode(".png", page)[1].tobytes()


def multipart(data: bytes) -> tuple[bytes, str]:
    boundary = uuid.uuid4().hex
    body = (
        (
            f'--{boundary}\r\nContent-Disposition: form-data; name="file"; filename="scan.png"\r\n'
            f"Content-Type: image/png\r\n\r\n"
        ).encode()
        + data
        + f"\r\n--{boundary}--\r\n".encode()
    )
    return body, f"multipart/form-data; boundary={boundary}"


def upload_request(url: str, token: str, body: bytes, content_type: str) -> urllib.request.Request:
    return urllib.request.Request(
        url, data=body, method="POST",
        headers={"Authorization": f"Token {token}", "Content-Type": content_type},
    )  # fmt: skip


def upload_once(url: str, token: str, body: bytes, content_type: str) -> None:
    with urllib.request.urlopen(upload_request(url, token, body, content_type), timeout=60) as r:
        r.read()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--uploaders", type=int, default=20)
    parser.add_argument("--per-uploader", type=int, default=25)
    parser.add_argument("--web-workers", type=int, default=4)
    parser.add_argument("--web-threads", type=int, default=4)
    parser.add_argument(
        "--web-connections",
        type=int,
        default=None,
        help="connections each threaded web process takes at once (HDR_WEB_CONNECTIONS; default: "
        "its thread count; gunicorn's own default is 1000)",
    )
    args = parser.parse_args()

    var = Path(tempfile.mkdtemp(prefix="hdr-bench-"))
    env = {
        **os.environ,
        "HDR_VAR_DIR": str(var),
        "DEBUG": "false",
        "SECRET_KEY": uuid.uuid4().hex * 2,
        "ALLOWED_HOSTS": "127.0.0.1",
        "SECURE_SSL_REDIRECT": "false",
        "DJANGO_SETTINGS_MODULE": "hdrsite.settings",
        "LOG_LEVEL": "WARNING",
    }
    if env.get("CELERY_BROKER_URL", "").startswith("redis://"):
        # A database of its own, so the queued messages never reach a real worker afterwards.
        env["CELERY_BROKER_URL"] = env["CELERY_BROKER_URL"].rsplit("/", 1)[0] + "/15"
    database = "sqlite"
    created_db = None
    if env.get("DATABASE_URL", "").startswith("postgres"):
        import psycopg

        created_db = f"hdr_bench_{uuid.uuid4().hex[:8]}"
        base = env["DATABASE_URL"].rsplit("/", 1)[0]
        with psycopg.connect(f"{base}/postgres", autocommit=True) as conn:
            conn.execute(f'CREATE DATABASE "{created_db}"')
        env["DATABASE_URL"] = f"{base}/{created_db}"
        env.setdefault("DATABASE_POOL", "true")
        database = "postgresql"

    def manage(*argv: str) -> str:
        return subprocess.run(
            [sys.executable, "manage.py", *argv], cwd=ROOT, env=env, check=True,
            capture_output=True, text=True,
        ).stdout  # fmt: skip

    def documents_stored() -> int:
        return int(
            manage(
                "shell", "-c", "from recognition.models import Document; print(Document.objects.count())"
            ).split()[-1]
        )  # fmt: skip

    server = None
    try:
        manage("migrate", "--noinput")
        manage(
            "shell",
            "-c",
            "from django.contrib.auth import get_user_model; get_user_model().objects.create_user('bench', password='bench-pass-123')",
        )
        token = manage("drf_create_token", "bench").split()[2]
        with socket.socket() as sock:
            sock.bind(("127.0.0.1", 0))
            port = sock.getsockname()[1]
        if args.web_connections is not None:
            env["HDR_WEB_CONNECTIONS"] = str(args.web_connections)
        server = subprocess.Popen(
            [sys.executable, "-m", "gunicorn", "-c", "python:hdrsite.gunicorn_conf", "hdrsite.wsgi", "--bind", f"127.0.0.1:{port}",
             "--workers", str(args.web_workers), "--threads", str(args.web_threads), "--log-level", "warning"],
            cwd=ROOT, env=env,
        )  # fmt: skip
        url = f"http://127.0.0.1:{port}/api/v1/documents/"
        deadline = time.monotonic() + 60
        while True:
            try:
                urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz?check=database", timeout=2)
                break
            except OSError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.5)

        body, content_type = multipart(scan_png())
        latencies: list[float] = []
        ids: list[str] = []
        errors: list[str] = []
        lock = threading.Lock()

        def uploader() -> None:
            for _ in range(args.per_uploader):
                request = upload_request(url, token, body, content_type)
                started = time.perf_counter()
                try:
                    with urllib.request.urlopen(request, timeout=30) as response:
                        payload = response.read()
                        status = response.status
                except OSError as exc:
                    with lock:
                        errors.append(str(exc))
                    continue
                elapsed = (time.perf_counter() - started) * 1000
                with lock:
                    latencies.append(elapsed)
                    if status == 202:
                        ids.append(payload.decode())

        # Warm every web worker before measuring: one round of concurrent uploads, so that each
        # process has served an upload (its database and broker connections open) and the run
        # measures the steady state. Measured uploads are counted apart from these.
        warm_up = [
            threading.Thread(target=upload_once, args=(url, token, body, content_type))
            for _ in range(args.uploaders)
        ]
        for thread in warm_up:
            thread.start()
        for thread in warm_up:
            thread.join()
        stored_before = documents_stored()
        threads = [threading.Thread(target=uploader) for _ in range(args.uploaders)]
        web_cpu = process_tree_cpu_seconds(server.pid)
        client_cpu = time.process_time()
        started = time.perf_counter()
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        wall = time.perf_counter() - started
        client_cpu = time.process_time() - client_cpu
        web_cpu = process_tree_cpu_seconds(server.pid) - web_cpu
        stored = documents_stored() - stored_before
    finally:
        if server:
            server.terminate()
            server.wait(timeout=30)
        if env.get("CELERY_BROKER_URL", "").startswith("redis://"):
            import redis

            redis.Redis.from_url(env["CELERY_BROKER_URL"]).flushdb()
        if created_db:
            import psycopg

            with psycopg.connect(f"{base}/postgres", autocommit=True) as conn:
                conn.execute(f'DROP DATABASE IF EXISTS "{created_db}" WITH (FORCE)')
        # Each run stores every upload anew: leave no gigabytes behind.
        shutil.rmtree(var, ignore_errors=True)

    sent = args.uploaders * args.per_uploader
    emit(
        {
            "benchmark": "api_accept_latency",
            "database": database,
            "broker": env.get("CELERY_BROKER_URL", "filesystem"),
            "uploaders": args.uploaders,
            "web_server": f"gunicorn {args.web_workers} workers x {args.web_threads} threads",
            "gunicorn": gunicorn.__version__,
            "web_connections_per_process": connections_limit(args.web_threads, env),
            "uploads": sent,
            "upload_bytes": len(body),
            "accepted": len(ids),
            "stored": stored,
            "lost": sent - stored,
            "errors": errors[:5],
            "throughput_uploads_per_s": round(len(ids) / wall, 1),
            # Where the two cores went: the uploaders themselves and the web server's processes.
            "cpu_ms_per_upload": {
                "client": round(client_cpu * 1000 / sent, 2),
                "web": round(web_cpu * 1000 / sent, 2),
            },
            "latency_ms": rounded(summary(latencies), 2),
        }
    )
    return 0 if stored == sent and not errors else 1


if __name__ == "__main__":
    sys.exit(main())
