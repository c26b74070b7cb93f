"""A real worker process executes tasks sent through a real broker, on both queues."""

from __future__ import annotations

import uuid
from pathlib import Path

import pytest
from celery import Celery

from tests.support.processes import wait_until, worker_start, worker_stop

pytestmark = pytest.mark.slow


def test_configured_broker_runs_tasks_on_both_queues(live_worker, settings):
    """Through the broker the settings name (Redis in CI), ping runs on cpu and device_info on gpu."""
    from worker.tasks.maintenance import device_info, ping

    pong = ping.delay().get(timeout=60)
    providers = device_info.delay().get(timeout=60)

    assert pong["pong"] is True
    # The solo pool runs tasks in the worker process itself: the answer came from our worker.
    assert pong["pid"] == live_worker["pid"]
    assert "CPUExecutionProvider" in providers["onnxruntime_providers"]
    log = live_worker["log"].read_text()
    assert "hdr.ping" in log and "hdr.device_info" in log


def test_tasks_are_routed_to_their_queues(settings):
    """Recognition work goes to the gpu pool, housekeeping to the cpu pool."""
    from worker.celery import app

    assert app.amqp.router.route({}, "hdr.ping")["queue"].name == "cpu"
    assert app.amqp.router.route({}, "hdr.device_info")["queue"].name == "gpu"
    assert app.amqp.router.route({}, "hdr.sessions_clear_expired")["queue"].name == "cpu"


def test_every_periodic_task_is_routed_and_stores_no_result(settings):
    """Beat's tasks exist, go to the cpu pool, and leave nothing in the result backend."""
    from worker.celery import app

    app.loader.import_default_modules()  # as a worker does at start: the tasks' modules
    for entry in settings.CELERY_BEAT_SCHEDULE.values():
        task = app.tasks[entry["task"]]
        assert app.amqp.router.route({}, task.name)["queue"].name == "cpu", task.name
        assert task.ignore_result is True, task.name


def test_embedded_filesystem_broker_round_trip(embedded_env, tmp_path: Path, monkeypatch):
    """With no broker configured, a worker and a client meet through the filesystem broker."""
    # Celery lets these variables override an app's own configuration; this client must not see
    # the ones that point the rest of the suite at Redis.
    monkeypatch.delenv("CELERY_BROKER_URL", raising=False)
    monkeypatch.delenv("CELERY_RESULT_BACKEND", raising=False)
    var = Path(embedded_env["HDR_VAR_DIR"])
    hostname = f"embedded-{uuid.uuid4().hex[:8]}@localhost"
    proc = worker_start(embedded_env, hostname=hostname, log_path=tmp_path / "worker.log")
    try:
        # The worker's settings create the broker folders under the var dir.
        wait_until(lambda: (var / "broker" / "queue").is_dir(), timeout=60)
        client = Celery(
            broker="filesystem://localhost/", backend=f"file://{var / 'celery-results'}"
        )
        client.conf.broker_transport_options = {
            "data_folder_in": str(var / "broker" / "queue"),
            "data_folder_out": str(var / "broker" / "queue"),
            "control_folder": str(var / "broker" / "control"),
        }
        wait_until(lambda: client.control.ping(destination=[hostname], timeout=1.0), timeout=60)

        result = client.send_task("hdr.ping", queue="cpu").get(timeout=60)
        gpu_result = client.send_task("hdr.device_info", queue="gpu").get(timeout=60)
    finally:
        worker_stop(proc)

    assert result["pong"] is True and result["pid"] == proc.pid
    assert "CPUExecutionProvider" in gpu_result["onnxruntime_providers"]
    assert "filesystem://" in (tmp_path / "worker.log").read_text()
