"""The Celery application. Configuration lives in Django settings under the CELERY_ prefix."""

import os

from celery import Celery
from celery.signals import worker_process_init

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
