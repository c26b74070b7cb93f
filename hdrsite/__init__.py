"""Project configuration: settings, URLs, WSGI/ASGI entry points."""

# Load the Celery app whenever Django starts, so `shared_task` and `current_app` use it.
from worker.celery import app as celery_app

__all__ = ["celery_app"]
