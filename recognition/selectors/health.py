"""Probes of the parts the platform needs: the database, the broker and the workers."""

from __future__ import annotations

import time
from dataclasses import dataclass, field

from celery import current_app
from django.conf import settings
from django.db import connections


@dataclass(frozen=True)
class CheckResult:
    ok: bool
    latency_ms: float
    error: str | None = None
    detail: dict = field(default_factory=dict)

    def as_dict(self) -> dict:
        out: dict = {"ok": self.ok, "latency_ms": round(self.latency_ms, 1)}
        if self.error:
            out["error"] = self.error
        out.update(self.detail)
        return out


@dataclass(frozen=True)
class PlatformHealth:
    checks: dict[str, CheckResult]

    @property
    def ok(self) -> bool:
        return all(check.ok for check in self.checks.values())

    @property
    def failing(self) -> list[str]:
        return [name for name, check in self.checks.items() if not check.ok]


def _timed(probe) -> CheckResult:
    started = time.perf_counter()
    try:
        detail = probe() or {}
    except Exception as exc:  # a probe reports any failure; it never raises into the view
        return CheckResult(
            False, (time.perf_counter() - started) * 1000, f"{exc}".strip() or repr(exc)
        )
    error = detail.pop("error", None)
    return CheckResult(error is None, (time.perf_counter() - started) * 1000, error, detail)


def database_check() -> CheckResult:
    def probe() -> dict:
        connection = connections["default"]
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
            cursor.fetchone()
        return {"vendor": connection.vendor}

    return _timed(probe)


def broker_check(*, timeout: float) -> CheckResult:
    def probe() -> dict:
        with current_app.connection_for_write() as conn:
            conn.ensure_connection(max_retries=1, interval_start=0, timeout=timeout)
            return {"transport": conn.transport_cls}

    return _timed(probe)


def workers_check(*, timeout: float) -> CheckResult:
    """Ask every worker which queues it consumes; fail when a platform queue has no consumer."""

    def probe() -> dict:
        replies = current_app.control.inspect(timeout=timeout).active_queues() or {}
        consumers: dict[str, list[str]] = {queue: [] for queue in settings.HDR_QUEUES}
        for worker_name, queues in replies.items():
            for queue in queues:
                consumers.setdefault(queue["name"], []).append(worker_name)
        detail: dict = {"workers": sorted(replies), "queues": consumers}
        missing = [queue for queue in settings.HDR_QUEUES if not consumers.get(queue)]
        if not replies:
            detail["error"] = "no worker answered"
        elif missing:
            detail["error"] = f"no worker consumes queue {', '.join(missing)}"
        return detail

    return _timed(probe)


HEALTH_PARTS = ("database", "broker", "workers")


def platform_health(*, parts: tuple[str, ...] = HEALTH_PARTS) -> PlatformHealth:
    """Probe the named parts (all by default); unknown names raise ValueError."""
    unknown = sorted(set(parts) - set(HEALTH_PARTS))
    if unknown:
        raise ValueError(
            f"unknown health check {', '.join(unknown)}; known: {', '.join(HEALTH_PARTS)}"
        )
    timeout = settings.HDR_HEALTH_TIMEOUT_S
    checks: dict[str, CheckResult] = {}
    if "database" in parts:
        checks["database"] = database_check()
    broker = broker_check(timeout=timeout) if {"broker", "workers"} & set(parts) else None
    if "broker" in parts:
        checks["broker"] = broker
    if "workers" in parts:
        # Without a broker there is no way to reach a worker; say so rather than wait again.
        checks["workers"] = (
            workers_check(timeout=timeout)
            if broker.ok
            else CheckResult(False, 0.0, "broker unreachable, workers cannot be asked")
        )
    return PlatformHealth(checks)
