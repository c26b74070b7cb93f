"""docker-compose.yml deploys what the settings describe (no Docker engine runs the tests)."""

from __future__ import annotations

import re

import pytest
import yaml
from django.conf import settings

from tests.support.processes import ROOT


@pytest.fixture(scope="module")
def compose() -> dict:
    return yaml.safe_load((ROOT / "docker-compose.yml").read_text())


def _command(service: dict) -> str:
    command = service["command"]
    return " ".join(command) if isinstance(command, list) else command


def _queues_of(command: str) -> set[str]:
    match = re.search(r"--queues[ =](\S+)", command)
    assert match, f"worker command names no queues: {command}"
    return set(match.group(1).split(","))


def test_production_services_are_all_there(compose):
    assert {"postgres", "redis", "web", "worker-cpu", "worker-gpu", "beat"} <= set(
        compose["services"]
    )


def test_every_queue_of_the_settings_has_a_worker_and_every_worker_queue_exists(compose):
    commands = [_command(s) for s in compose["services"].values() if "command" in s]
    worker_commands = [c for c in commands if c.startswith("celery -A worker worker")]
    consumed = set().union(*(_queues_of(c) for c in worker_commands))
    routed = {route["queue"] for route in settings.CELERY_TASK_ROUTES.values()}

    assert consumed == set(settings.HDR_QUEUES)
    assert routed <= consumed
    assert _queues_of(_command(compose["services"]["worker-cpu"])) == {"cpu"}
    assert _queues_of(_command(compose["services"]["worker-gpu"])) == {"gpu"}


def test_gpu_worker_holds_one_gpu_one_process_one_message(compose):
    gpu = compose["services"]["worker-gpu"]
    command = _command(gpu)

    assert "--concurrency 1" in command and "--prefetch-multiplier 1" in command
    devices = gpu["deploy"]["resources"]["reservations"]["devices"]
    assert devices[0]["driver"] == "nvidia" and "gpu" in devices[0]["capabilities"]
    assert gpu["build"]["args"]["ONNXRUNTIME_SPEC"] == "onnxruntime-gpu"


def test_app_services_use_postgres_redis_and_the_env_file(compose):
    for name in ("web", "worker-cpu", "worker-gpu", "beat"):
        service = compose["services"][name]
        assert service["env_file"] == ".env"
        assert service["environment"]["DATABASE_URL"].startswith("postgres://")
        assert service["environment"]["CELERY_BROKER_URL"].startswith("redis://redis:")
        assert {"postgres", "redis"} <= set(service["depends_on"])
        assert any(volume.endswith(":/var/lib/hdr") for volume in service["volumes"])


def test_web_runs_gunicorn_after_migrations_and_beat_uses_the_database_schedule(compose):
    web = _command(compose["services"]["web"])
    beat = _command(compose["services"]["beat"])

    assert web.index("migrate") < web.index("gunicorn -c python:hdrsite.gunicorn_conf hdrsite.wsgi")
    assert "celery -A worker beat" in beat
    assert settings.CELERY_BEAT_SCHEDULER in beat


def test_long_running_services_have_healthchecks(compose):
    for name in ("postgres", "redis", "web", "worker-cpu", "worker-gpu"):
        assert compose["services"][name]["healthcheck"]["test"], name
    assert "/healthz" in " ".join(compose["services"]["web"]["healthcheck"]["test"])


def test_dockerfile_copies_every_package_the_project_installs():
    dockerfile = (ROOT / "Dockerfile").read_text()
    for package in ("hdrsite", "recognition", "forms_ocr", "ml", "worker", "templates", "static"):
        assert f"COPY {package} ./{package}" in dockerfile
