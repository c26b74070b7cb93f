"""Continuous learning: training samples from reviewed fields, and retraining jobs."""

from __future__ import annotations

from django.conf import settings
from django.db import models

from recognition.models.model_versions import ModelKind


def sample_upload_to(sample: TrainingSample, filename: str) -> str:
    return f"samples/{sample.kind}/{sample.sha256[:2]}/{sample.sha256}.png"


class TrainingSample(models.Model):
    """One reviewed digit box (28x28, MNIST-normalized) or digit string (height 32), labelled by
    a person. Deduplicated by the hash of the normalized image; a fixed share, chosen once by that
    hash, is a frozen holdout that is never trained on."""

    kind = models.CharField(max_length=16, choices=ModelKind.choices)
    image = models.FileField(upload_to=sample_upload_to, max_length=300)
    label = models.CharField(max_length=64)
    sha256 = models.CharField(max_length=64)
    is_holdout = models.BooleanField(default=False, db_index=True)
    field = models.ForeignKey(
        "recognition.Field", on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    # Whether a person changed the machine's reading (a correction weighs more in training).
    corrected = models.BooleanField(default=False)
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)

    class Meta:
        ordering = ["-created_at"]
        constraints = [
            models.UniqueConstraint(fields=["kind", "sha256"], name="training_sample_unique"),
        ]

    def __str__(self) -> str:
        return f"{self.kind} sample {self.label!r}"


class JobStatus(models.TextChoices):
    QUEUED = "queued"
    RUNNING = "running"
    SUCCEEDED = "succeeded"
    FAILED = "failed"
    CANCELLED = "cancelled"


class RetrainingJob(models.Model):
    kind = models.CharField(max_length=16, choices=ModelKind.choices)
    status = models.CharField(
        max_length=16, choices=JobStatus.choices, default=JobStatus.QUEUED, db_index=True
    )
    # "admin" (the UI or the API) or "schedule" (celery beat).
    trigger = models.CharField(max_length=16, default="admin")
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    base_version = models.ForeignKey(
        "recognition.ModelVersion", on_delete=models.PROTECT, null=True, blank=True,
        related_name="+",
    )  # fmt: skip
    candidate = models.ForeignKey(
        "recognition.ModelVersion", on_delete=models.SET_NULL, null=True, blank=True,
        related_name="+",
    )  # fmt: skip
    config = models.JSONField(default=dict, blank=True)
    # One entry per epoch as it finishes: {"epoch", "loss", "accuracy", "holdout_accuracy", ...}.
    progress = models.JSONField(default=list, blank=True)
    # The gate's decision: {"promoted": bool, "reasons": [...], "metrics": {...}}.
    gate = models.JSONField(default=dict, blank=True)
    error = models.TextField(blank=True)
    cancel_requested = models.BooleanField(default=False)
    created_at = models.DateTimeField(auto_now_add=True)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    # The job's last sign of life: when it was (last) sent to the queue, then, while it runs,
    # the run's heartbeat. The reaper fails a running job whose heartbeat stopped (its worker
    # died) and sends a queued one whose message seems lost again (services.retraining).
    heartbeat_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"retrain {self.kind} #{self.pk} ({self.status})"


class LearningSettings(models.Model):
    """The one row of retraining settings, edited in the admin."""

    min_new_samples = models.PositiveIntegerField(
        default=200, help_text="A scheduled run starts only when this many new samples arrived."
    )
    holdout_percent = models.PositiveSmallIntegerField(
        default=10, help_text="Share of samples (by hash) kept as the frozen holdout."
    )
    auto_promote = models.BooleanField(
        default=False, help_text="Promote a candidate that passes the gate without an admin."
    )
    epochs = models.PositiveSmallIntegerField(default=3)
    correction_weight = models.FloatField(
        default=5.0, help_text="How much more a corrected sample weighs than a base sample."
    )

    class Meta:
        verbose_name = "learning settings"
        verbose_name_plural = "learning settings"

    def __str__(self) -> str:
        return "learning settings"

    @classmethod
    def current(cls) -> LearningSettings:
        return cls.objects.get_or_create(pk=1)[0]
