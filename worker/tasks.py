"""Thin tasks: parse ids, call one service, return something JSON-serializable."""

from __future__ import annotations

import os
import socket

from celery import shared_task

from recognition.services.maintenance import sessions_clear_expired


@shared_task(name="hdr.ping")
def ping() -> dict:
    """Round trip through the broker and a worker: proves the queues are served."""
    return {"pong": True, "hostname": socket.gethostname(), "pid": os.getpid()}


@shared_task(name="hdr.device_info")
def device_info() -> dict:
    """Which inference providers this worker has (runs on the gpu queue, so a gpu node answers)."""
    import onnxruntime

    return {
        "hostname": socket.gethostname(),
        "onnxruntime_providers": onnxruntime.get_available_providers(),
    }


@shared_task(name="hdr.sessions_clear_expired")
def clear_expired_sessions() -> None:
    sessions_clear_expired()
