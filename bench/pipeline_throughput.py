"""Pipeline throughput: synthetic form pages through ingest, segment and recognize on a real
worker (prefork, both queues), on the configured database and broker (embedded by default).

    python bench/pipeline_throughput.py [--pages 40] [--concurrency N] [--prefetch-multiplier 4]

Prints JSON with hardware, versions, pages per minute (wall clock from the first upload to the
last settled page), CPU-ms per page (the worker's processes; this process, which stores the uploads
and polls) and the per-page latency distribution.
"""

from __future__ import annotations

import argparse
import atexit
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from hdrsite.launch import worker_concurrency_default  # noqa: E402


def worker_stop(worker: subprocess.Popen) -> None:
    os.killpg(worker.pid, signal.SIGTERM)
    try:
        worker.wait(timeout=30)
    except subprocess.TimeoutExpired:
        os.killpg(worker.pid, signal.SIGKILL)
        worker.wait()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pages", type=int, default=40)
    parser.add_argument(
        "--concurrency", type=int, default=worker_concurrency_default(),
        help="worker processes: by default the embedded worker's (cores + 1)",
    )  # fmt: skip
    parser.add_argument(
        "--prefetch-multiplier", type=int, default=4,
        help="messages each pool process reserves ahead: 4 as the embedded and the compose cpu "
        "worker (the settings' default is 1)",
    )  # fmt: skip
    args = parser.parse_args()

    var = Path(tempfile.mkdtemp(prefix="hdr-pipeline-bench-"))
    # Every run stores its pages anew: leave no gigabytes behind.
    atexit.register(shutil.rmtree, var, True)
    os.environ.update(
        HDR_VAR_DIR=str(var),
        # Production settings: with DEBUG on, every query is also formatted and logged in memory.
        DEBUG="false",
        SECRET_KEY=uuid.uuid4().hex * 2,
        DJANGO_SETTINGS_MODULE="hdrsite.settings",
        LOG_LEVEL="WARNING",
    )
    if os.environ.get("DATABASE_URL", "").startswith("postgres"):
        import psycopg

        name = f"hdr_bench_{uuid.uuid4().hex[:8]}"
        base = os.environ["DATABASE_URL"].rsplit("/", 1)[0]
        with psycopg.connect(f"{base}/postgres", autocommit=True) as conn:
            conn.execute(f'CREATE DATABASE "{name}"')
        os.environ["DATABASE_URL"] = f"{base}/{name}"

        def database_drop() -> None:
            from django.db import connections

            connections.close_all()
            with psycopg.connect(f"{base}/postgres", autocommit=True) as conn:
                conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')

        atexit.register(database_drop)
    if os.environ.get("CELERY_BROKER_URL", "").startswith("redis://"):
        # A database of its own, so no other worker takes these pages.
        os.environ["CELERY_BROKER_URL"] = os.environ["CELERY_BROKER_URL"].rsplit("/", 1)[0] + "/14"

    import cv2
    import django

    django.setup()
    from django.contrib.auth import get_user_model
    from django.core.management import call_command

    from bench._common import (
        emit,
        machine_cpu_seconds,
        process_tree_cpu_seconds,
        rounded,
        summary,
    )
    from forms_ocr.synth import SAMPLE_DIGITS, digits_from_npz, digits_load, synth_page
    from recognition.models import Document, DocumentStatus, Field
    from recognition.services.documents import Upload, document_create

    call_command("migrate", verbosity=0)
    owner = get_user_model().objects.create_user("bench")
    folder = os.environ.get("HDR_DATA_DIR")
    digits = digits_load(folder) if folder else digits_from_npz(SAMPLE_DIGITS)
    scans = [
        cv2.imencode(
            ".png", synth_page("form", digits, seed=s, degradations=("rotation", "noise")).image
        )[1].tobytes()
        for s in range(args.pages)
    ]
    settled = (DocumentStatus.DONE, DocumentStatus.NEEDS_REVIEW, DocumentStatus.FAILED)

    worker = subprocess.Popen(
        [sys.executable, "-m", "celery", "-A", "worker", "worker", "--queues", "cpu,gpu",
         "--concurrency", str(args.concurrency), "--prefetch-multiplier", str(args.prefetch_multiplier),
         "--loglevel", "WARNING", "--hostname", "bench@%h"],
        cwd=ROOT, env=os.environ.copy(), start_new_session=True,
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    try:
        # Warm the worker (model load) with one page that is not counted.
        warm, _ = document_create(owner=owner, upload=Upload("warm.png", scans[0]))
        while not Document.objects.filter(pk=warm.pk, status__in=settled).exists():
            time.sleep(0.5)
        started = time.perf_counter()
        worker_cpu = process_tree_cpu_seconds(worker.pid)
        bench_cpu = time.process_time()
        machine_cpu = machine_cpu_seconds()
        created = {}
        for index, data in enumerate(scans):
            document, _ = document_create(owner=owner, upload=Upload(f"page-{index}.png", data))
            created[document.pk] = time.perf_counter()
        finished: dict = {}
        while len(finished) < len(created):
            for pk in Document.objects.filter(pk__in=list(created), status__in=settled).values_list(
                "pk", flat=True
            ):
                finished.setdefault(pk, time.perf_counter())
            time.sleep(0.2)
        wall = time.perf_counter() - started
        worker_cpu = process_tree_cpu_seconds(worker.pid) - worker_cpu
        bench_cpu = time.process_time() - bench_cpu
        if machine_cpu is not None:
            machine_cpu = machine_cpu_seconds() - machine_cpu
    finally:
        worker_stop(worker)
    failed = Document.objects.filter(pk__in=list(created), status=DocumentStatus.FAILED).count()
    fields = Field.objects.filter(page__document__in=list(created))
    boxes = sum(len(f.boxes) for f in fields.filter(kind="digits"))

    latencies = [finished[pk] - created[pk] for pk in created]
    emit(
        {
            "benchmark": "pipeline_throughput",
            "database": django.db.connection.vendor,
            "broker": os.environ.get("CELERY_BROKER_URL", "filesystem"),
            "worker_concurrency": args.concurrency,
            "prefetch_multiplier": args.prefetch_multiplier,
            "pages": len(created),
            "failed": failed,
            "failure_reasons": sorted(
                set(
                    Document.objects.filter(
                        pk__in=list(created), status=DocumentStatus.FAILED
                    ).values_list("error", flat=True)
                )
            ),
            "fields_per_page": round(fields.count() / len(created), 1),
            "comb_boxes_per_page": round(boxes / len(created), 1),
            "wall_seconds": round(wall, 2),
            "pages_per_minute": round(len(created) / wall * 60, 1),
            # Where the cores went: the worker's processes, and this process storing the
            # uploads (what the web server does in production) and polling for the results.
            "cpu_ms_per_page": {
                "worker": round(worker_cpu * 1000 / len(created), 1),
                "uploads_and_polling": round(bench_cpu * 1000 / len(created), 1),
                # Everything on the machine, the database server and the broker included.
                "machine": None
                if machine_cpu is None
                else round(machine_cpu * 1000 / len(created), 1),
            },
            "page_latency_s": rounded(summary(latencies), 3),
        }
    )
    return 0 if failed == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
