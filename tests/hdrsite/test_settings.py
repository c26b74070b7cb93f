"""Settings come from the environment: embedded defaults, PostgreSQL/Redis mode, production checks."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import uuid
from pathlib import Path

import pytest
from django.core.exceptions import ImproperlyConfigured
from django.core.management import call_command

from hdrsite.env import database_from_url, env_bool
from tests.support.processes import ROOT

SHOW_SETTINGS = """
import json, django
django.setup()
from django.conf import settings
db = settings.DATABASES["default"]
print(json.dumps({
    "engine": db["ENGINE"], "name": db["NAME"], "host": db.get("HOST"), "port": db.get("PORT"),
    "options": {k: v for k, v in db.get("OPTIONS", {}).items() if k != "pool"},
    "pool": "pool" in db.get("OPTIONS", {}),
    "broker": settings.CELERY_BROKER_URL, "backend": settings.CELERY_RESULT_BACKEND,
    "transport": settings.CELERY_BROKER_TRANSPORT_OPTIONS,
    "media": str(settings.MEDIA_ROOT), "debug": settings.DEBUG,
    "task_events": settings.CELERY_WORKER_SEND_TASK_EVENTS,
}))
"""


def _settings_in(env: dict[str, str], module: str = "hdrsite.settings") -> dict:
    env = {**env, "DJANGO_SETTINGS_MODULE": module}
    out = subprocess.run(
        [sys.executable, "-c", SHOW_SETTINGS], cwd=ROOT, env=env, capture_output=True, text=True
    )
    assert out.returncode == 0, out.stderr
    return json.loads(out.stdout)


def test_embedded_defaults_use_sqlite_and_filesystem_broker_under_var_dir(embedded_env):
    var = embedded_env["HDR_VAR_DIR"]

    conf = _settings_in({**embedded_env, "DEBUG": "true"})

    assert conf["engine"] == "django.db.backends.sqlite3"
    assert conf["name"] == f"{var}/hdr.sqlite3"
    assert conf["broker"].startswith("filesystem://")
    assert conf["transport"]["data_folder_in"] == f"{var}/broker/queue"
    assert Path(conf["transport"]["control_folder"]).is_dir()
    assert conf["backend"] == f"file://{var}/celery-results"
    assert conf["media"] == f"{var}/media"
    assert conf["task_events"] is False


def test_workers_send_task_events_only_when_asked_for_a_monitor(embedded_env):
    conf = _settings_in({**embedded_env, "DEBUG": "true", "HDR_WORKER_TASK_EVENTS": "true"})

    assert conf["task_events"] is True


def test_postgres_and_redis_mode_from_urls(embedded_env):
    env = {
        **embedded_env,
        "DEBUG": "true",
        "DATABASE_URL": "postgres://hdr:s%40cret@db.internal:5433/hdr?sslmode=require",
        "CELERY_BROKER_URL": "redis://cache.internal:6379/2",
        "DATABASE_POOL": "true",
    }

    conf = _settings_in(env)

    assert conf["engine"] == "django.db.backends.postgresql"
    assert (conf["name"], conf["host"], conf["port"]) == ("hdr", "db.internal", "5433")
    assert conf["options"]["sslmode"] == "require"
    assert conf["pool"] is True
    assert conf["broker"] == "redis://cache.internal:6379/2"
    # Results go to the same Redis unless CELERY_RESULT_BACKEND says otherwise.
    assert conf["backend"] == "redis://cache.internal:6379/2"


def test_secret_key_is_required_when_debug_is_off(embedded_env):
    env = {k: v for k, v in embedded_env.items() if k not in ("SECRET_KEY", "DEBUG")}

    out = subprocess.run(
        [sys.executable, "-c", SHOW_SETTINGS],
        cwd=ROOT,
        env={**env, "DJANGO_SETTINGS_MODULE": "hdrsite.settings"},
        capture_output=True,
        text=True,
    )

    assert out.returncode != 0
    assert "SECRET_KEY must be set when DEBUG is off" in out.stderr


def test_production_settings_pass_check_deploy_without_warnings(embedded_env):
    env = {
        **embedded_env,
        "DJANGO_SETTINGS_MODULE": "hdrsite.settings",
        "DEBUG": "false",
        "SECRET_KEY": "Zx8" + uuid.uuid4().hex + uuid.uuid4().hex,
        "ALLOWED_HOSTS": "hdr.example.com",
    }

    out = subprocess.run(
        [sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
    )

    assert out.returncode == 0, out.stdout + out.stderr
    assert "no issues" in out.stdout


def test_bad_values_are_refused_with_the_variable_named(monkeypatch):
    monkeypatch.setenv("DEBUG", "maybe")
    with pytest.raises(ImproperlyConfigured, match="DEBUG must be a boolean"):
        env_bool("DEBUG", False)
    with pytest.raises(ImproperlyConfigured, match="not supported"):
        database_from_url("mysql://db/hdr", base_dir=ROOT)
    with pytest.raises(ImproperlyConfigured, match="names no database"):
        database_from_url("postgres://db:5432/", base_dir=ROOT)


def test_relative_sqlite_path_is_taken_from_the_project_root():
    assert (
        database_from_url("sqlite:///var/x.db", base_dir=Path("/srv/hdr"))["NAME"]
        == "/srv/hdr/var/x.db"
    )
    assert (
        database_from_url("sqlite:////data/x.db", base_dir=Path("/srv/hdr"))["NAME"] == "/data/x.db"
    )


ENV_READ = re.compile(
    r"""env_(?:str|bool|int|float|list)\(\s*"([A-Z0-9_]+)"|os\.environ(?:\.get)?[\[(]\s*"([A-Z0-9_]+)"|getenv\(\s*"([A-Z0-9_]+)\""""
)
# Variables set for a process rather than configuring hdr.
NOT_CONFIGURATION = {"DJANGO_SETTINGS_MODULE"}


def _documented_variables() -> set[str]:
    text = (ROOT / ".env.example").read_text()
    return set(re.findall(r"^([A-Z0-9_]+)=", text, flags=re.MULTILINE))


def test_env_example_lists_every_variable_the_code_and_compose_read():
    read: set[str] = set()
    for package in ("hdrsite", "recognition", "worker", "ml", "forms_ocr"):
        for path in (ROOT / package).rglob("*.py"):
            for match in ENV_READ.finditer(path.read_text()):
                read.add(next(group for group in match.groups() if group))
    compose = (ROOT / "docker-compose.yml").read_text()
    read |= set(re.findall(r"\$\{([A-Z0-9_]+)", compose))

    missing = read - NOT_CONFIGURATION - _documented_variables()

    assert not missing, f".env.example does not list {sorted(missing)}"
    assert {"DATABASE_URL", "CELERY_BROKER_URL", "HDR_VAR_DIR", "SECRET_KEY"} <= read


@pytest.mark.slow
def test_migrations_apply_on_a_fresh_sqlite_database(embedded_env):
    out = subprocess.run(
        [sys.executable, "manage.py", "migrate", "--noinput"],
        cwd=ROOT,
        env=embedded_env,
        capture_output=True,
        text=True,
    )

    assert out.returncode == 0, out.stderr
    assert (Path(embedded_env["HDR_VAR_DIR"]) / "hdr.sqlite3").stat().st_size > 0


@pytest.mark.slow
@pytest.mark.skipif(
    not os.environ.get("DATABASE_URL", "").startswith("postgres"),
    reason="DATABASE_URL does not point at PostgreSQL",
)
def test_migrations_apply_on_a_fresh_postgresql_database(embedded_env):
    import psycopg

    base = database_from_url(os.environ["DATABASE_URL"], base_dir=ROOT)
    params = {
        "host": base["HOST"] or "127.0.0.1",
        "port": base["PORT"] or 5432,
        "user": base["USER"],
        "password": base["PASSWORD"],
        "dbname": "postgres",
    }
    name = f"hdr_migrate_{uuid.uuid4().hex[:10]}"
    with psycopg.connect(**params, autocommit=True) as admin:
        admin.execute(f'CREATE DATABASE "{name}"')
    try:
        url = os.environ["DATABASE_URL"].rsplit("/", 1)[0] + f"/{name}"
        out = subprocess.run(
            [sys.executable, "manage.py", "migrate", "--noinput"],
            cwd=ROOT,
            env={**embedded_env, "DATABASE_URL": url},
            capture_output=True,
            text=True,
        )
        assert out.returncode == 0, out.stderr
        with psycopg.connect(**{**params, "dbname": name}) as conn:
            applied = conn.execute("SELECT count(*) FROM django_migrations").fetchone()[0]
        assert applied > 10
    finally:
        with psycopg.connect(**params, autocommit=True) as admin:
            admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def test_models_and_migrations_agree(db):
    call_command("makemigrations", "--check", "--dry-run", verbosity=0)
