"""Form templates: a blank reference page and its named fields, with validation rules and accept
thresholds.

A template says where a form's fields are, what they are called and what a valid value looks
like. Scans uploaded with a template are registered to its reference page and cut at the
template's positions. A template row is one *version*: editing a version that documents have
already used creates the next version, so old documents keep pointing at the one that read them.
"""

from __future__ import annotations

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.utils.text import slugify

from recognition.models.documents import FieldKind


class TemplateKind(models.TextChoices):
    FORM = "form"
    CHEQUE = "cheque"


def template_reference_upload_to(template: Template, filename: str) -> str:
    return f"templates/{template.name_slug()}-v{template.version}.png"


class Template(models.Model):
    name = models.CharField(max_length=100)
    version = models.PositiveIntegerField(default=1)
    # The version new uploads get; older versions stay for the documents that used them.
    is_current = models.BooleanField(default=True)
    # Offered on upload only when live; a draft can be edited and tried.
    is_live = models.BooleanField(default=False)
    kind = models.CharField(max_length=8, choices=TemplateKind.choices, default=TemplateKind.FORM)
    description = models.TextField(blank=True)
    # The blank reference page (grey PNG) scans are registered to; sizes in its pixels.
    reference = models.FileField(upload_to=template_reference_upload_to, max_length=300, blank=True)
    reference_width = models.PositiveIntegerField(null=True, blank=True)
    reference_height = models.PositiveIntegerField(null=True, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["name", "-version"]
        constraints = [
            models.UniqueConstraint(fields=["name", "version"], name="template_version_unique"),
            models.UniqueConstraint(
                fields=["name"],
                condition=models.Q(is_current=True),
                name="template_one_current_version",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.name} v{self.version}"

    def name_slug(self) -> str:
        return slugify(self.name) or "template"


class TemplateField(models.Model):
    """One field of a template, located on the reference page in relative coordinates."""

    template = models.ForeignKey(Template, on_delete=models.CASCADE, related_name="fields")
    name = models.CharField(max_length=100)
    kind = models.CharField(max_length=8, choices=FieldKind.choices)
    box_count = models.PositiveIntegerField(null=True, blank=True)
    # [x, y, w, h] as fractions of the reference page's width and height.
    bbox = models.JSONField()
    # Comb fields: each box as [x, y, w, h] fractions of the page; empty: split bbox evenly.
    boxes = models.JSONField(default=list, blank=True)
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
