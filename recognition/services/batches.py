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
from dataclasses import dataclass
from datetime import timedelta

from django.conf import settings
from django.db import transaction
from django.db.models import Exists, F, OuterRef, Q
from django.utils import timezone

from recognition.errors import ApplicationError
from recognition.models import FINAL_STATUSES, SETTLED_STATUSES, Batch, Document
from recognition.selectors.documents import batch_progress
from recognition.services.tasks import task_send_on_commit

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


@dataclass(frozen=True)
class BatchEvent:
    """A point in a batch's life: when `progress_key` of `batch_progress` turns true, `reached`
    is stamped once and the webhook `name` is queued; `attempted` records its last delivery
    attempt and `delivered` its delivery. The batch reaches it when every document has one of
    `statuses` (what `progress_key` counts)."""

    name: str
    progress_key: str
    reached: str
    attempted: str
    delivered: str
    statuses: tuple[str, ...]


# In order: a batch is done only after it is complete.
BATCH_EVENTS = (
    BatchEvent(
        "batch.completed",
        "complete",
        "completed_at",
        "webhook_attempted_at",
        "webhook_delivered_at",
        SETTLED_STATUSES,
    ),
    BatchEvent(
        "batch.done",
        "final",
        "done_at",
        "done_webhook_attempted_at",
        "done_webhook_delivered_at",
        FINAL_STATUSES,
    ),
)

# How long the sweep keeps sending a webhook that was never delivered: after that, the receiver
# is taken to be gone for good, and `webhook_error` says why the last attempt failed.
WEBHOOK_GIVE_UP_AFTER = timedelta(days=3)


def _batch_event_if_reached(batch_id, event: BatchEvent) -> bool:
    with transaction.atomic():
        batch = Batch.objects.select_for_update().filter(pk=batch_id).first()
        if batch is None or getattr(batch, event.reached) is not None:
            return False
        earlier = BATCH_EVENTS[: BATCH_EVENTS.index(event)]
        if any(getattr(batch, e.reached) is None for e in earlier):
            return False
        if not batch_progress(batch)[event.progress_key]:
            return False
        setattr(batch, event.reached, timezone.now())
        batch.save(update_fields=[event.reached])
        if batch.callback_url:
            # Robust: a broker that is down must not undo the stamp nor fail the step that
            # settled the last document; the sweep sends a webhook whose message was lost.
            task_send_on_commit("hdr.batch_webhook_deliver", batch.pk, event.name)
    return True


def batch_complete_if_settled(*, batch_id) -> bool:
    """Mark the batch complete when its last document settles, and queue its webhook once (and
    mark it done at once when no document waits for review)."""
    completed = _batch_event_if_reached(batch_id, BATCH_EVENTS[0])
    if completed:
        batch_done_if_final(batch_id=batch_id)
    return completed


def batch_done_if_final(*, batch_id) -> bool:
    """Mark the batch done when its last document is final (reviewed or failed), and queue its
    `batch.done` webhook once."""
    return _batch_event_if_reached(batch_id, BATCH_EVENTS[1])


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
    known = {e.name: e for e in BATCH_EVENTS}
    if event not in known:
        raise ValueError(f"unknown webhook event {event!r}")
    delivered_field = known[event].delivered
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
    Batch.objects.filter(pk=batch.pk).update(
        webhook_attempts=F("webhook_attempts") + 1, **{known[event].attempted: timezone.now()}
    )
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


def batches_sweep(*, older_than: timedelta) -> dict[str, int]:
    """Catch up on batch events and webhooks that a crash or a broker outage cost.

    - A batch whose documents all settled without the batch being stamped (a worker killed
      between the document's commit and the batch's, a database error in between) reaches its
      event now; stamping is idempotent under the batch's row lock.
    - A webhook reached more than `older_than` ago, never delivered, and not attempted in the
      last `older_than` (its message was lost, or its retries ran out) is sent again, for up to
      WEBHOOK_GIVE_UP_AFTER after the event. Receivers get each event at least once.
    """
    reached = resent = 0
    for position, event in enumerate(BATCH_EVENTS):
        earlier = BATCH_EVENTS[:position]
        still_open = Document.objects.filter(batch=OuterRef("pk")).exclude(
            status__in=event.statuses
        )
        due = Batch.objects.filter(
            Exists(Document.objects.filter(batch=OuterRef("pk"))),
            ~Exists(still_open),
            **{f"{event.reached}__isnull": True},
            **{f"{e.reached}__isnull": False for e in earlier},
        )
        for batch_id in due.values_list("pk", flat=True):
            reached += _batch_event_if_reached(batch_id, event)

    now = timezone.now()
    for event in BATCH_EVENTS:
        lost = (
            Batch.objects.exclude(callback_url="")
            .filter(
                **{
                    f"{event.reached}__lt": now - older_than,
                    f"{event.reached}__gte": now - WEBHOOK_GIVE_UP_AFTER,
                    f"{event.delivered}__isnull": True,
                }
            )
            .filter(
                Q(**{f"{event.attempted}__isnull": True})
                | Q(**{f"{event.attempted}__lt": now - older_than})
            )
        )
        for batch_id in lost.values_list("pk", flat=True):
            with transaction.atomic():
                # Stamping the attempt keeps the next sweep from sending it again too soon.
                Batch.objects.filter(pk=batch_id).update(**{event.attempted: now})
                task_send_on_commit("hdr.batch_webhook_deliver", batch_id, event.name)
            resent += 1
    if reached or resent:
        logger.warning(
            "batch sweep: %d events reached late, %d webhooks sent again", reached, resent
        )
    return {"reached": reached, "resent": resent}
