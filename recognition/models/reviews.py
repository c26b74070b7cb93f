"""The audit trail of human review: every confirmation, correction and revert."""

from __future__ import annotations

from django.conf import settings
from django.db import models


class ReviewAction(models.TextChoices):
    CONFIRM = "confirm"
    CORRECT = "correct"
    REVERT = "revert"


class FieldReview(models.Model):
    field = models.ForeignKey("recognition.Field", on_delete=models.CASCADE, related_name="reviews")
    action = models.CharField(max_length=8, choices=ReviewAction.choices)
    old_value = models.CharField(max_length=64, blank=True)
    new_value = models.CharField(max_length=64, blank=True)
    old_status = models.CharField(max_length=16)
    new_status = models.CharField(max_length=16)
    # What the field held before, so that an admin's revert restores it exactly.
    old_confidence = models.FloatField(null=True, blank=True)
    old_characters = models.JSONField(default=list, blank=True)
    reviewer = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="field_reviews"
    )
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)
    seconds_spent = models.FloatField(null=True, blank=True)
    keystrokes = models.PositiveIntegerField(null=True, blank=True)
    # "field" (one field at a time), "grid" (many digits at once) or "api".
    mode = models.CharField(max_length=8, default="field")
    model_version = models.ForeignKey(
        "recognition.ModelVersion",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )
    # Whether the machine's reading was auto-accepted and sent to review only as a quality sample.
    sampled = models.BooleanField(default=False)

    class Meta:
        ordering = ["-created_at"]
        indexes = [models.Index(fields=["reviewer", "-created_at"])]

    def __str__(self) -> str:
        return f"{self.action} {self.old_value!r} -> {self.new_value!r}"
