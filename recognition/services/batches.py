"""Batch completion and its webhooks.

Two events, each delivered once: `batch.completed` when every document has been processed (done,
waiting for review, or failed), and `batch.done` when every document is final (done after any
review, or failed). A batch that needs no review gets both at once.
"""

from __future__ import annotations

import hashlib
import hmac
import ipaddress
import json
import logging
import socket
import time
import urllib.error
import urllib.parse
import urllib.request

from celery import current_app
from django.conf import settings
from django.db import transaction
from django.utils import timezone

from recognition.errors import ApplicationError
from recognition.models import Batch
from recognition.selectors.documents import batch_progress

logger = logging.getLogger(__name__)


class WebhookDeliveryError(Exception):
    """The receiver did not accept the webhook; the task retries with backoff."""


def callback_url_check(url: str) -> None:
    """Refuse callback URLs that resolve to private, loopback or link-local addresses.

    A webhook is a request our workers make on a client's behalf; without this check a client
    could make them reach services inside our network. HDR_WEBHOOK_ALLOW_PRIVATE lifts it for
    installations whose receivers live on the internal network.
    """
    parts = urllib.parse.urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ApplicationError("callback_url must be an http or https URL")
    if settings.HDR_WEBHOOK_ALLOW_PRIVATE:
        return
    try:
        addresses = {info[4][0] for info in socket.getaddrinfo(parts.hostname, parts.port or 443)}
    except OSError as exc:
        raise ApplicationError(f"callback_url host {parts.hostname!r} does not resolve") from exc
    for address in addresses:
        ip = ipaddress.ip_address(address.split("%")[0])
        if not ip.is_global:
            raise ApplicationError(
                f"callback_url host {parts.hostname!r} is a private or local address ({ip})"
            )


def webhook_signature(body: bytes, *, timestamp: str) -> str:
    """HMAC-SHA256 over "<timestamp>.<body>", hex: the receiver recomputes it with the shared secret."""
    message = timestamp.encode() + b"." + body
    return hmac.new(settings.HDR_WEBHOOK_SECRET.encode(), message, hashlib.sha256).hexdigest()


def batch_complete_if_settled(*, batch_id) -> bool:
    """Mark the batch complete when its last document settles, and queue its webhook once."""
    with transaction.atomic():
        batch = Batch.objects.select_for_update().filter(pk=batch_id).first()
        if batch is None or batch.completed_at is not None:
            return False
        if not batch_progress(batch)["complete"]:
            return False
        batch.completed_at = timezone.now()
        batch.save(update_fields=["completed_at"])
        if batch.callback_url:
            _webhook_enqueue(batch, "batch.completed")
    batch_done_if_final(batch_id=batch_id)
    return True


def _webhook_enqueue(batch: Batch, event: str) -> None:
    batch_key = str(batch.pk)
    transaction.on_commit(
        lambda: current_app.send_task("hdr.batch_webhook_deliver", args=[batch_key, event])
    )


def batch_done_if_final(*, batch_id) -> bool:
    """Mark the batch done when its last document is final (reviewed or failed), and queue its
    `batch.done` webhook once."""
    with transaction.atomic():
        batch = Batch.objects.select_for_update().filter(pk=batch_id).first()
        if batch is None or batch.done_at is not None or batch.completed_at is None:
            return False
        if not batch_progress(batch)["final"]:
            return False
        batch.done_at = timezone.now()
        batch.save(update_fields=["done_at"])
        if batch.callback_url:
            _webhook_enqueue(batch, "batch.done")
    return True


WEBHOOK_EVENTS = ("batch.completed", "batch.done")


def batch_webhook_payload(batch: Batch, event: str = "batch.completed") -> dict:
    documents = batch.documents.order_by("created_at").values(
        "id", "status", "error", "original_name"
    )
    return {
        "event": event,
        "batch": str(batch.pk),
        "completed_at": batch.completed_at.isoformat() if batch.completed_at else None,
        "done_at": batch.done_at.isoformat() if batch.done_at else None,
        "progress": batch_progress(batch),
        "documents": [{**d, "id": str(d["id"])} for d in documents],
    }


def batch_webhook_deliver(*, batch_id, event: str = "batch.completed") -> None:
    """POST the event's payload to the batch's callback URL; raise WebhookDeliveryError to retry."""
    if event not in WEBHOOK_EVENTS:
        raise ValueError(f"unknown webhook event {event!r}")
    delivered_field = (
        "webhook_delivered_at" if event == "batch.completed" else "done_webhook_delivered_at"
    )
    batch = Batch.objects.filter(pk=batch_id).first()
    if batch is None or not batch.callback_url or getattr(batch, delivered_field):
        return
    try:
        # Checked again at delivery: the name may resolve elsewhere than when the batch came in.
        callback_url_check(batch.callback_url)
    except ApplicationError as exc:
        Batch.objects.filter(pk=batch.pk).update(webhook_error=exc.message[:1000])
        logger.warning("batch %s webhook refused: %s", batch.pk, exc.message)
        return
    body = json.dumps(batch_webhook_payload(batch, event), default=str).encode()
    timestamp = str(int(time.time()))
    request = urllib.request.Request(
        batch.callback_url,
        data=body,
        method="POST",
        headers={
            "Content-Type": "application/json",
            "X-Hdr-Event": event,
            "X-Hdr-Timestamp": timestamp,
            "X-Hdr-Signature": f"sha256={webhook_signature(body, timestamp=timestamp)}",
        },
    )
    Batch.objects.filter(pk=batch.pk).update(webhook_attempts=batch.webhook_attempts + 1)
    try:
        with urllib.request.urlopen(request, timeout=settings.HDR_WEBHOOK_TIMEOUT_S) as response:
            status = response.status
    except urllib.error.HTTPError as exc:
        status = exc.code
    except (urllib.error.URLError, OSError) as exc:
        Batch.objects.filter(pk=batch.pk).update(webhook_error=str(exc)[:1000])
        raise WebhookDeliveryError(f"webhook to {batch.callback_url} failed: {exc}") from exc
    if not 200 <= status < 300:
        Batch.objects.filter(pk=batch.pk).update(webhook_error=f"HTTP {status}")
        raise WebhookDeliveryError(f"webhook to {batch.callback_url} answered {status}")
    Batch.objects.filter(pk=batch.pk).update(**{delivered_field: timezone.now()}, webhook_error="")
    logger.info("batch %s webhook %s delivered", batch.pk, event)
