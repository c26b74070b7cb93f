from __future__ import annotations

from django.db import models


class ModelKind(models.TextChoices):
    DIGITS = "digits", "Digit classifier"
    STRINGS = "strings", "Digit-string model"


class ModelVersion(models.Model):
    """One trained model file with its card; exactly one version per kind is active."""

    kind = models.CharField(max_length=16, choices=ModelKind.choices)
    version = models.CharField(max_length=64)
    # Path of the ONNX file: relative to the project's ml/weights for built-in models, absolute or
    # relative to MEDIA_ROOT for models trained on this installation.
    onnx_path = models.CharField(max_length=500)
    card = models.JSONField(default=dict)
    temperature = models.FloatField(default=1.0)
    accept_threshold = models.FloatField(default=0.99)
    is_active = models.BooleanField(default=False)
    created_at = models.DateTimeField(auto_now_add=True)
    activated_at = models.DateTimeField(null=True, blank=True)
    # Activated because it was the built-in default, not by a person's choice: when a release
    # ships a new default, registration moves such an installation to it. A version an admin
    # promoted or rolled back to stays active until an admin changes it.
    activated_by_default = models.BooleanField(default=False)
    # Versions trained on this installation: the version they were fine-tuned from, and their
    # metrics on the base test set and on the correction holdout.
    parent = models.ForeignKey(
        "self", on_delete=models.SET_NULL, null=True, blank=True, related_name="children"
    )
    metrics = models.JSONField(default=dict, blank=True)

    class Meta:
        ordering = ["kind", "-created_at"]
        constraints = [
            models.UniqueConstraint(fields=["kind", "version"], name="model_version_unique"),
            models.UniqueConstraint(
                fields=["kind"], condition=models.Q(is_active=True), name="model_version_one_active"
            ),
            models.CheckConstraint(
                condition=models.Q(accept_threshold__gte=0) & models.Q(accept_threshold__lte=1),
                name="model_version_threshold_is_probability",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.kind} {self.version}{' (active)' if self.is_active else ''}"
