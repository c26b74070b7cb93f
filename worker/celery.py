"""The Celery application. Configuration lives in Django settings under the CELERY_ prefix."""

import os

from celery import Celery
from celery.signals import task_postrun, task_prerun, worker_process_init

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "hdrsite.settings")

app = Celery("hdr")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks(["worker"])


@worker_process_init.connect
def _threads_limit(**_) -> None:
    """Each pool process keeps OpenCV to HDR_WORKER_THREADS threads (ONNX Runtime sessions get
    the same when they load): the pool already runs one process per core."""
    import cv2
    from django.conf import settings

    cv2.setNumThreads(settings.HDR_WORKER_THREADS)


@task_prerun.connect
@task_postrun.connect
def _connections_tidy(sender=None, **_) -> None:
    """Around each task, what Django does around each request: a connection past CONN_MAX_AGE, or
    broken by an error, is closed, and a healthy one is kept for the next task.

    Celery's own Django fix-up closes every connection before and after every task unless
    CELERY_DB_REUSE_MAX is set (the settings set it out of reach): on PostgreSQL that was a new
    connection, a server process with cold caches, for every task. A task run eagerly runs in
    its caller, whose connection (and transaction) is the caller's own: it is left alone.
    """
    if getattr(getattr(sender, "request", None), "is_eager", False):
        return
    from django.db import close_old_connections

    close_old_connections()
