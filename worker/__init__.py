"""The Celery app, task routing and the thin tasks that call `recognition` services."""

from worker.celery import app

__all__ = ["app"]
