"""Figures for the learning dashboard: versions side by side, accuracy measured in production
from reviews, and drift of the confidence of recent readings."""

from __future__ import annotations

import math
from datetime import timedelta

from django.db.models import Count, Q
from django.db.models.functions import TruncDate
from django.utils import timezone

from recognition.models import (
    Field,
    FieldKind,
    FieldReview,
    ModelKind,
    ModelVersion,
    ReviewAction,
)


def versions_side_by_side(kind: str = ModelKind.DIGITS) -> list[dict]:
    rows = []
    for version in ModelVersion.objects.filter(kind=kind).order_by("-created_at"):
        card = version.card or {}
        metrics = version.metrics or card.get("test_metrics", {})
        base = metrics.get("base_test", {}).get("accuracy", metrics.get("test_accuracy"))
        gate = metrics.get("gate", {})
        rows.append(
            {
                "id": version.pk,
                "version": version.version,
                "is_active": version.is_active,
                "parent": version.parent.version if version.parent_id else None,
                "created_at": version.created_at,
                "activated_at": version.activated_at,
                "activated_by_default": version.activated_by_default,
                "base_test_accuracy": base,
                "holdout_accuracy": metrics.get("holdout", {}).get("accuracy"),
                "accept_threshold": version.accept_threshold,
                "temperature": version.temperature,
                "gate_passed": gate.get("passed"),
                "report_files": card.get("report", {}).get("files", []),
                "gate_reasons": gate.get("reasons", []),
            }
        )
    return rows


def production_accuracy(*, days: int = 30) -> list[dict]:
    """Per day and model version: fields people reviewed, and the share they found right (the
    machine's reading confirmed). Sampled accepted fields are reported apart: they measure the
    error of what is accepted without a person."""
    since = timezone.now() - timedelta(days=days)
    reviews = (
        FieldReview.objects.filter(
            created_at__gte=since, action__in=[ReviewAction.CONFIRM, ReviewAction.CORRECT]
        )
        .annotate(day=TruncDate("created_at"))
        .values("day", "model_version__version")
        .annotate(
            reviewed=Count("id"),
            confirmed=Count("id", filter=Q(action=ReviewAction.CONFIRM)),
            # Not named "sampled": an annotation must not shadow the field its filter reads.
            in_sample=Count("id", filter=Q(sampled=True)),
            sample_wrong=Count("id", filter=Q(sampled=True, action=ReviewAction.CORRECT)),
        )
        .order_by("day", "model_version__version")
    )
    return [
        {
            "day": row["day"].isoformat(),
            "model_version": row["model_version__version"],
            "reviewed": row["reviewed"],
            "machine_right": round(row["confirmed"] / row["reviewed"], 4),
            "sampled": row["in_sample"],
            "sampled_error": round(row["sample_wrong"] / row["in_sample"], 4)
            if row["in_sample"]
            else None,
        }
        for row in reviews
    ]


def confidence_drift(*, days: int = 7, min_digits: int = 200) -> dict:
    """Compare the share of recent digits read below the active model's accept threshold with
    the share its validation predicts (from its card). An alarm when the recent share is higher
    beyond chance (a one-sided binomial z-test at z > 3) and at least 1.5 times the expected."""
    version = ModelVersion.objects.filter(kind=ModelKind.DIGITS, is_active=True).first()
    if version is None:
        return {"status": "no active model"}
    reject = (version.card or {}).get("test_metrics", {}).get("reject", {})
    expected = reject.get("validation_reject_rate")
    since = timezone.now() - timedelta(days=days)
    confidences = []
    fields = Field.objects.filter(
        kind=FieldKind.DIGITS, model_version=version, page__recognized_at__gte=since
    ).values_list("characters", flat=True)
    for characters in fields.iterator():
        confidences.extend(
            float(c["confidence"]) for c in characters or () if not c.get("reviewed")
        )
    n = len(confidences)
    below = sum(c < version.accept_threshold for c in confidences)
    observed = below / n if n else None
    result = {
        "model_version": version.version,
        "days": days,
        "digits": n,
        "accept_threshold": version.accept_threshold,
        "observed_below_threshold": round(observed, 4) if observed is not None else None,
        "expected_below_threshold": expected,
        "mean_confidence": round(sum(confidences) / n, 4) if n else None,
        "alarm": False,
    }
    if expected is None:
        result["status"] = "the model card has no validation reject rate to compare with"
    elif n < min_digits:
        result["status"] = f"too few recent digits to judge ({n} of {min_digits})"
    else:
        spread = math.sqrt(max(expected * (1 - expected), 1e-9) / n)
        z = (observed - expected) / spread
        result["z"] = round(z, 2)
        result["alarm"] = bool(z > 3 and observed > 1.5 * expected)
        result["status"] = (
            f"drift: {observed:.1%} of recent digits fell below the threshold, validation "
            f"predicts {expected:.1%}"
            if result["alarm"]
            else "no drift"
        )
    return result
