"""Figures of the review work: straight-through rate, the queue, reviewer speed, and the measured
error of auto-accepted fields (from the quality sample)."""

from __future__ import annotations

import math
from datetime import timedelta

from django.db.models import Avg, Count, Min, Q, Sum
from django.utils import timezone

from recognition.models import (
    Document,
    DocumentStatus,
    Field,
    FieldReview,
    FieldStatus,
    ReviewAction,
)

HUMAN_STATUSES = (FieldStatus.NEEDS_REVIEW, FieldStatus.CONFIRMED, FieldStatus.CORRECTED)


def wilson_interval(errors: int, total: int, z: float = 1.96) -> tuple[float, float] | None:
    """95% Wilson score interval of a proportion; None without observations."""
    if total == 0:
        return None
    p = errors / total
    denominator = 1 + z * z / total
    centre = (p + z * z / (2 * total)) / denominator
    half = z * math.sqrt(p * (1 - p) / total + z * z / (4 * total * total)) / denominator
    return max(0.0, centre - half), min(1.0, centre + half)


def review_stats(*, since_hours: int = 24) -> dict:
    now = timezone.now()
    since = now - timedelta(hours=since_hours)

    fields = Field.objects.exclude(status="")
    counts = fields.aggregate(
        total=Count("id"),
        accepted=Count("id", filter=Q(status=FieldStatus.ACCEPTED)),
        waiting=Count("id", filter=Q(status=FieldStatus.NEEDS_REVIEW)),
        confirmed=Count("id", filter=Q(status=FieldStatus.CONFIRMED)),
        corrected=Count("id", filter=Q(status=FieldStatus.CORRECTED)),
    )
    processed = Document.objects.filter(
        status__in=[DocumentStatus.DONE, DocumentStatus.NEEDS_REVIEW]
    )
    documents_total = processed.count()
    documents_straight = (
        processed.exclude(pages__fields__status__in=HUMAN_STATUSES).distinct().count()
    )

    waiting = Field.objects.filter(status=FieldStatus.NEEDS_REVIEW).exclude(
        page__document__status=DocumentStatus.FAILED
    )
    oldest = waiting.aggregate(oldest=Min("page__document__created_at"))["oldest"]

    reviewers = []
    recent = FieldReview.objects.filter(
        created_at__gte=since, action__in=[ReviewAction.CONFIRM, ReviewAction.CORRECT]
    )
    per_reviewer = (
        recent.values("reviewer__username")
        .annotate(
            fields=Count("id"),
            corrections=Count("id", filter=Q(action=ReviewAction.CORRECT)),
            seconds=Sum("seconds_spent"),
            keystrokes=Avg("keystrokes"),
        )
        .order_by("-fields")
    )
    for row in per_reviewer:
        seconds = row["seconds"] or 0
        reviewers.append(
            {
                "reviewer": row["reviewer__username"],
                "fields": row["fields"],
                "corrections": row["corrections"],
                "fields_per_minute": round(row["fields"] / (seconds / 60), 2) if seconds else None,
                "keystrokes_per_field": round(row["keystrokes"], 2)
                if row["keystrokes"] is not None
                else None,
            }
        )
    effort = recent.aggregate(keystrokes=Avg("keystrokes"), seconds=Avg("seconds_spent"))

    sample = FieldReview.objects.filter(
        sampled=True, action__in=[ReviewAction.CONFIRM, ReviewAction.CORRECT]
    ).exclude(mode="grid")
    sample_counts = sample.aggregate(
        total=Count("id"), wrong=Count("id", filter=Q(action=ReviewAction.CORRECT))
    )
    interval = wilson_interval(sample_counts["wrong"], sample_counts["total"])

    return {
        "fields": {
            **counts,
            "straight_through_rate": round(counts["accepted"] / counts["total"], 4)
            if counts["total"]
            else None,
        },
        "documents": {
            "processed": documents_total,
            "straight_through": documents_straight,
            "straight_through_rate": round(documents_straight / documents_total, 4)
            if documents_total
            else None,
        },
        "queue": {
            "depth": waiting.count(),
            "documents": waiting.values("page__document").distinct().count(),
            "oldest_age_s": round((now - oldest).total_seconds()) if oldest else None,
        },
        "reviewing": {
            "since_hours": since_hours,
            "reviewers": reviewers,
            "keystrokes_per_field": round(effort["keystrokes"], 2)
            if effort["keystrokes"] is not None
            else None,
            "seconds_per_field": round(effort["seconds"], 2)
            if effort["seconds"] is not None
            else None,
        },
        "accepted_error": {
            "sampled_reviewed": sample_counts["total"],
            "wrong": sample_counts["wrong"],
            "rate": round(sample_counts["wrong"] / sample_counts["total"], 5)
            if sample_counts["total"]
            else None,
            "interval_95": [round(v, 5) for v in interval] if interval else None,
        },
    }
