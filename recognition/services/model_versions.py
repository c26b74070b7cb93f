"""Model versions: the built-in models shipped in ml/weights, and which version is active."""

from __future__ import annotations

import json
import logging
from pathlib import Path

from django.db import transaction
from django.utils import timezone

import ml
from recognition.models import ModelKind, ModelVersion

logger = logging.getLogger(__name__)

WEIGHTS_DIR = Path(ml.__file__).resolve().parent / "weights"


def builtin_cards(kind: str) -> list[tuple[Path, dict]]:
    """(onnx path, card) of every committed model of `kind`, newest version last."""
    found = []
    for card_path in sorted((WEIGHTS_DIR / kind).glob("*.json")):
        onnx_path = card_path.with_suffix(".onnx")
        if onnx_path.exists():
            found.append((onnx_path, json.loads(card_path.read_text())))
    return found


def builtin_default(kind: str) -> tuple[Path, dict] | None:
    """The committed model a new installation activates: the newest whose card does not say
    `"default_active": false` (a model kept for opting in, not yet for everyone)."""
    eligible = [
        (path, card) for path, card in builtin_cards(kind) if card.get("default_active", True)
    ]
    return eligible[-1] if eligible else None


def card_temperature(card: dict) -> float:
    """The calibration temperature: top level (string cards) or under "calibration" (digit cards)."""
    value = card.get("temperature", card.get("calibration", {}).get("temperature"))
    return float(value) if isinstance(value, int | float) else 1.0


@transaction.atomic
def model_versions_register_builtin() -> list[ModelVersion]:
    """Register the committed models; when a kind has no active version, activate its default
    (see `builtin_default`)."""
    registered = []
    for kind in ModelKind.values:
        cards = builtin_cards(kind)
        for onnx_path, card in cards:
            version, _ = ModelVersion.objects.update_or_create(
                kind=kind,
                version=str(card.get("version") or onnx_path.stem),
                defaults={
                    "onnx_path": str(onnx_path.relative_to(WEIGHTS_DIR)),
                    "card": card,
                    "temperature": card_temperature(card),
                    "accept_threshold": float(card.get("accept_threshold", 0.99)),
                },
            )
            registered.append(version)
        has_active = ModelVersion.objects.filter(kind=kind, is_active=True).exists()
        default = builtin_default(kind)
        if default is not None and not has_active:
            _, card = default
            model_version_activate(
                model_version=ModelVersion.objects.get(
                    kind=kind, version=str(card.get("version") or default[0].stem)
                )
            )
    return registered


@transaction.atomic
def model_version_activate(*, model_version: ModelVersion) -> ModelVersion:
    """Make this version the one every worker uses for its kind (they reload on their next page)."""
    ModelVersion.objects.select_for_update().filter(
        kind=model_version.kind, is_active=True
    ).exclude(pk=model_version.pk).update(is_active=False)
    model_version.is_active = True
    model_version.activated_at = timezone.now()
    model_version.save(update_fields=["is_active", "activated_at"])
    logger.info("model %s %s is now active", model_version.kind, model_version.version)
    return model_version


def model_version_onnx_path(model_version: ModelVersion) -> Path:
    path = Path(model_version.onnx_path)
    return path if path.is_absolute() else WEIGHTS_DIR / path
