"""Celery tasks; autodiscovery imports this package, which imports every task module."""

from worker.tasks import learning, maintenance, pipeline

__all__ = ["learning", "maintenance", "pipeline"]
