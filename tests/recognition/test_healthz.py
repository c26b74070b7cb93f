"""/healthz tells a load balancer and an operator whether the platform can do work, and if not, why."""

from __future__ import annotations

import socket

import pytest
from celery import current_app
from django.db import connection


def _closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.mark.slow
def test_all_parts_up_answers_200_with_each_check(client, live_worker, transactional_db):
    response = client.get("/healthz")

    body = response.json()
    assert response.status_code == 200, body
    assert body["status"] == "ok" and body["failing"] == []
    assert set(body["checks"]) == {"database", "broker", "workers"}
    assert live_worker["hostname"] in body["checks"]["workers"]["workers"]
    for queue in ("cpu", "gpu"):
        assert live_worker["hostname"] in body["checks"]["workers"]["queues"][queue]


@pytest.mark.slow
def test_a_queue_without_consumer_answers_503_naming_workers(client, live_worker, settings, db):
    """A worker answers, but no worker serves the (newly required) archive queue."""
    settings.HDR_QUEUES = ("cpu", "gpu", "archive")

    response = client.get("/healthz")

    body = response.json()
    assert response.status_code == 503
    assert body["failing"] == ["workers"]
    assert body["checks"]["workers"]["error"] == "no worker consumes queue archive"


def test_broker_down_answers_503_naming_broker_and_workers(client, db, monkeypatch):
    monkeypatch.setattr(current_app.conf, "broker_url", f"redis://127.0.0.1:{_closed_port()}/0")
    # Celery prefers this variable over its configuration (CI sets it to the live Redis).
    monkeypatch.delenv("CELERY_BROKER_URL", raising=False)

    response = client.get("/healthz")

    body = response.json()
    assert response.status_code == 503
    assert body["failing"] == ["broker", "workers"]
    assert body["checks"]["broker"]["ok"] is False and body["checks"]["broker"]["error"]
    assert body["checks"]["database"]["ok"] is True


def test_database_down_answers_503_naming_database(client, django_db_blocker):
    """The database stops answering: the check names it instead of raising a 500."""
    conf = connection.settings_dict
    saved = {key: conf[key] for key in ("NAME", "PORT", "HOST")}
    with django_db_blocker.unblock():
        connection.close()
        if connection.vendor == "sqlite":
            conf["NAME"] = "/nonexistent-dir/hdr.sqlite3"
        else:
            conf.update(HOST="127.0.0.1", PORT=str(_closed_port()))
        try:
            response = client.get("/healthz?check=database")
        finally:
            connection.close()
            conf.update(saved)

    body = response.json()
    assert response.status_code == 503
    assert body["failing"] == ["database"]
    assert body["checks"]["database"]["error"]


def test_check_parameter_limits_the_probe(client, db):
    response = client.get("/healthz?check=database,broker")

    assert response.status_code == 200
    assert set(response.json()["checks"]) == {"database", "broker"}


def test_unknown_check_is_a_400_with_a_message(client, db):
    response = client.get("/healthz?check=database,disk")

    assert response.status_code == 400
    assert "unknown health check disk" in response.json()["error"]["message"]


def test_healthz_only_answers_get(client, db):
    assert client.post("/healthz").status_code == 405
