"""Celery tasks; autodiscovery imports this package, which imports every task module."""

from worker.tasks import maintenance, pipeline

__all__ = ["maintenance", "pipeline"]
