"""hdr's gunicorn settings: a threaded web process takes no more connections than it can serve."""

from __future__ import annotations

import hashlib
import http.client
import os
import socket
import subprocess
import sys
import threading
import time

import pytest
from gunicorn.config import Config

from hdrsite import gunicorn_conf
from tests.support.processes import ROOT


def _config(threads: int) -> Config:
    cfg = Config()
    cfg.set("threads", threads)
    return cfg


def test_a_process_takes_as_many_connections_as_it_has_threads_and_keeps_none_alive(monkeypatch):
    monkeypatch.delenv(gunicorn_conf.CONNECTIONS_ENV, raising=False)
    cfg = _config(4)
    assert cfg.worker_connections == 1000  # gunicorn's own default, replaced below

    gunicorn_conf.connections_apply(cfg)

    assert cfg.worker_connections == 4
    assert cfg.keepalive == 0


def test_hdr_web_connections_sets_the_limit_and_room_above_the_threads_keeps_keep_alive(
    monkeypatch,
):
    monkeypatch.setenv(gunicorn_conf.CONNECTIONS_ENV, "12")
    cfg = _config(4)
    gunicorn_conf.connections_apply(cfg)
    assert cfg.worker_connections == 12
    assert cfg.keepalive == Config().keepalive


@pytest.mark.parametrize("raw", ["many", "0", "-3", "2.5"])
def test_a_bad_hdr_web_connections_is_refused_with_its_value(monkeypatch, raw):
    monkeypatch.setenv(gunicorn_conf.CONNECTIONS_ENV, raw)
    with pytest.raises(ValueError, match=gunicorn_conf.CONNECTIONS_ENV):
        gunicorn_conf.connections_apply(_config(4))


def _gunicorn(port: int, app: str, *options: str, env: dict | None = None) -> subprocess.Popen:
    server = subprocess.Popen(
        [sys.executable, "-m", "gunicorn", "-c", "python:hdrsite.gunicorn_conf", app,
         "--bind", f"127.0.0.1:{port}", *options],
        cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, env=env,
    )  # fmt: skip
    deadline = time.monotonic() + 30
    while True:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            return server
        except OSError:
            assert server.poll() is None, server.stdout.read().decode()
            assert time.monotonic() < deadline, "gunicorn did not start"
            time.sleep(0.2)


def _stop(server: subprocess.Popen) -> None:
    server.terminate()
    server.wait(timeout=30)


def _get(port: int, path: str) -> str:
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=20)
    try:
        connection.request("GET", path)
        response = connection.getresponse()
        assert response.status == 200
        return response.read().decode()
    finally:
        connection.close()


def test_a_busy_process_leaves_new_connections_to_a_free_one(free_port, tmp_path):
    # Two processes of one thread each. While one serves a slow request, every new connection
    # goes to the other: the busy one does not accept it and queue it behind the slow request
    # (gunicorn's default of 1000 connections per process lets it, about every other time).
    started = tmp_path / "slow-started"
    server = _gunicorn(
        free_port, "tests.hdrsite.pid_app:app",
        "--workers", "2", "--worker-class", "gthread", "--threads", "1",
        env={**os.environ, "PID_APP_SLOW_STARTED": str(started)},
    )  # fmt: skip
    try:
        for _ in range(8):  # let both processes load the app before the slow request
            _get(free_port, "/")
        slow: list[str] = []
        slow_thread = threading.Thread(target=lambda: slow.append(_get(free_port, "/slow")))
        slow_thread.start()
        deadline = time.monotonic() + 20
        while not started.exists():
            assert time.monotonic() < deadline, "the slow request was not served"
            time.sleep(0.05)
        quick = [_get(free_port, "/") for _ in range(5)]
        slow_thread.join()
    finally:
        _stop(server)
    assert slow, "the slow request was not answered"
    assert slow[0] not in quick
    assert len(set(quick)) == 1


def test_gunicorn_started_with_the_config_reads_large_bodies_whole(free_port):
    server = _gunicorn(
        free_port, "tests.hdrsite.body_echo_app:app", "--workers", "1", "--threads", "2"
    )
    try:
        connection = http.client.HTTPConnection("127.0.0.1", free_port, timeout=10)
        # Two bodies in a row: keep-alive is off, so the second request opens a new connection.
        for size in (1_000_003, 70_000):
            payload = hashlib.sha256(str(size).encode()).digest() * (size // 32) + b"end\n"
            connection.request("POST", "/", body=payload)
            response = connection.getresponse()
            assert response.status == 200
            assert response.getheader("Connection") == "close"
            assert (
                response.read().decode() == f"{len(payload)} {hashlib.sha256(payload).hexdigest()}"
            )
        connection.close()
    finally:
        _stop(server)
