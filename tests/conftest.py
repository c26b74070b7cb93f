"""Fixtures shared by the whole suite: free ports, subprocess environments, a real Celery worker."""

from __future__ import annotations

import os
import socket
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.support.processes import (
    subprocess_database_url,
    worker_env,
    worker_start,
    worker_stop,
)

# Variables that select a mode (or only make sense inside the test process); subprocesses that
# must run like a fresh machine drop them.
MODE_VARIABLES = (
    "DATABASE_URL",
    "CELERY_BROKER_URL",
    "CELERY_RESULT_BACKEND",
    "HDR_VAR_DIR",
    "DJANGO_ALLOW_ASYNC_UNSAFE",
)


@pytest.fixture(autouse=True)
def _api_tokens_forgotten():
    """No test sees a token another test's requests left remembered in this process."""
    yield
    from recognition.api.authentication import tokens_forget

    tokens_forget()


@pytest.fixture
def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture
def embedded_env(tmp_path: Path) -> dict[str, str]:
    """The environment of a fresh machine: no database or broker configured, a temporary var dir."""
    env = {key: value for key, value in os.environ.items() if key not in MODE_VARIABLES}
    env["HDR_VAR_DIR"] = str(tmp_path / "var")
    env["DJANGO_SETTINGS_MODULE"] = "hdrsite.settings_test"
    return env


@pytest.fixture(scope="session")
def live_worker(django_db_setup, django_db_blocker, tmp_path_factory) -> Iterator[dict]:
    """A real worker process on the configured broker (Redis in CI) and the test database."""
    from celery import current_app

    with django_db_blocker.unblock():
        env = worker_env(subprocess_database_url())
    hostname = f"test-{uuid.uuid4().hex[:8]}@localhost"
    log_path = tmp_path_factory.mktemp("worker") / "worker.log"
    proc = worker_start(env, hostname=hostname, log_path=log_path)
    try:
        deadline = time.monotonic() + 90
        while not current_app.control.ping(destination=[hostname], timeout=1.0):
            if proc.poll() is not None or time.monotonic() > deadline:
                pytest.fail(f"worker did not come up:\n{log_path.read_text()[-3000:]}")
        yield {"hostname": hostname, "pid": proc.pid, "log": log_path}
    finally:
        worker_stop(proc)


@pytest.fixture
def broker(monkeypatch):
    """The services' broker, recording what they send; `broker.down = True` makes it refuse."""
    from recognition.services import tasks
    from tests.support.broker import Broker

    broker = Broker()
    monkeypatch.setattr(tasks, "current_app", broker)
    return broker


@pytest.fixture
def tiny_mnist(tmp_path) -> Path:
    """The 300 committed MNIST test digits as an MNIST data folder: the four IDX files, 200
    training digits (gzip) and 100 test digits (raw)."""
    import numpy as np

    from ml.data import idx_write

    with np.load(Path(__file__).parent / "ml" / "fixtures" / "mnist_test_300.npz") as data:
        images, labels = data["images"], data["labels"].astype(np.uint8)
    folder = tmp_path / "mnist"
    idx_write(folder / "train-images-idx3-ubyte.gz", images[:200], compress=True)
    idx_write(folder / "train-labels-idx1-ubyte.gz", labels[:200], compress=True)
    idx_write(folder / "t10k-images-idx3-ubyte", images[200:], compress=False)
    idx_write(folder / "t10k-labels-idx1-ubyte", labels[200:], compress=False)
    return folder
