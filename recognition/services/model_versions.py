"""Model versions: the built-in models shipped in ml/weights, and which version is active."""

from __future__ import annotations

import functools
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
    """Register the committed models, new ones included, and keep each kind on its default.

    A kind with no active version gets its built-in default (see `builtin_default`). A kind
    whose active version was itself activated as the default moves to a newer default when a
    release ships one; a version an admin chose stays, and the new default waits in the list
    for an admin to promote it. Returns every built-in version.
    """
    registered = []
    for kind in ModelKind.values:
        for onnx_path, card in builtin_cards(kind):
            version, created = ModelVersion.objects.update_or_create(
                kind=kind,
                version=_card_version(onnx_path, card),
                defaults={
                    "onnx_path": str(onnx_path.relative_to(WEIGHTS_DIR)),
                    "card": card,
                    "temperature": card_temperature(card),
                    "accept_threshold": float(card.get("accept_threshold", 0.99)),
                },
            )
            if created:
                logger.info("registered the built-in model %s %s", kind, version.version)
            registered.append(version)
        default = builtin_default(kind)
        if default is None:
            continue
        default_version = ModelVersion.objects.get(kind=kind, version=_card_version(*default))
        active = ModelVersion.objects.select_for_update().filter(kind=kind, is_active=True).first()
        if active is None:
            model_version_activate(model_version=default_version, by_default=True)
        elif active.pk != default_version.pk:
            if active.activated_by_default:
                logger.info(
                    "%s: the built-in default is now %s; it replaces %s, which was active as "
                    "the earlier default",
                    kind,
                    default_version.version,
                    active.version,
                )
                model_version_activate(model_version=default_version, by_default=True)
            elif default_version.activated_at is None:
                logger.info(
                    "%s: the built-in default is now %s; %s stays active because an admin "
                    "chose it (promote the new default to use it)",
                    kind,
                    default_version.version,
                    active.version,
                )
    return registered


def _card_version(onnx_path: Path, card: dict) -> str:
    return str(card.get("version") or onnx_path.stem)


@functools.cache
def _builtin_shipped() -> frozenset[tuple[str, str]]:
    """(kind, version) of every committed model: the files do not change while a process runs."""
    return frozenset(
        (kind, _card_version(path, card))
        for kind in ModelKind.values
        for path, card in builtin_cards(kind)
    )


def model_versions_builtin_ensure() -> None:
    """Register any committed model the database does not know yet (two small queries when it
    knows them all).

    A release that ships new models reaches an existing installation through this: `migrate`
    is followed by `manage.py models_builtin`, and the web and worker processes call this before
    they list or load models.
    """
    shipped = _builtin_shipped()
    known = set(ModelVersion.objects.values_list("kind", "version"))
    active = set(ModelVersion.objects.filter(is_active=True).values_list("kind", flat=True))
    if not shipped <= known or any(kind not in active for kind, _ in shipped):
        model_versions_register_builtin()


@transaction.atomic
def model_version_activate(
    *, model_version: ModelVersion, by_default: bool = False
) -> ModelVersion:
    """Make this version the one every worker uses for its kind (they reload on their next page).

    ``by_default`` says the built-in default was activated without a person's choice.
    """
    ModelVersion.objects.select_for_update().filter(
        kind=model_version.kind, is_active=True
    ).exclude(pk=model_version.pk).update(is_active=False)
    model_version.is_active = True
    model_version.activated_at = timezone.now()
    model_version.activated_by_default = by_default
    model_version.save(update_fields=["is_active", "activated_at", "activated_by_default"])
    logger.info("model %s %s is now active", model_version.kind, model_version.version)
    return model_version


def model_version_onnx_path(model_version: ModelVersion) -> Path:
    path = Path(model_version.onnx_path)
    return path if path.is_absolute() else WEIGHTS_DIR / path
