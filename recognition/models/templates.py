"""Form templates: named fields with their validation rules and accept thresholds.

A template says what a form's fields are called and what a valid value looks like; documents
uploaded with a template get its field names, rules and thresholds.
"""

from __future__ import annotations

from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models

from recognition.models.documents import FieldKind


class TemplateKind(models.TextChoices):
    FORM = "form"
    CHEQUE = "cheque"


class Template(models.Model):
    name = models.CharField(max_length=100, unique=True)
    kind = models.CharField(max_length=8, choices=TemplateKind.choices, default=TemplateKind.FORM)
    description = models.TextField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class TemplateField(models.Model):
    """One field of a template, located on the reference page in relative coordinates."""

    template = models.ForeignKey(Template, on_delete=models.CASCADE, related_name="fields")
    name = models.CharField(max_length=100)
    kind = models.CharField(max_length=8, choices=FieldKind.choices)
    box_count = models.PositiveIntegerField(null=True, blank=True)
    # [x, y, w, h] as fractions of the reference page's width and height.
    bbox = models.JSONField()
    # A validation rule (see recognition.validation): {"min_length": 6, "check_digit": "luhn"}.
    rule = models.JSONField(default=dict, blank=True)
    accept_threshold = models.FloatField(
        null=True,
        blank=True,
        validators=[MinValueValidator(0.0), MaxValueValidator(1.0)],
        help_text="Overrides the model's accept threshold for this field.",
    )
    required = models.BooleanField(default=False)

    class Meta:
        ordering = ["template", "name"]
        constraints = [
            models.UniqueConstraint(fields=["template", "name"], name="template_field_name_unique"),
        ]

    def __str__(self) -> str:
        return f"{self.template.name}.{self.name}"
