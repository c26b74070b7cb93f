"""Training samples from reviewed fields: what a person confirmed or corrected teaches the models.

A sample is the normalized crop the model saw (a 28x28 box, or a height-32 string strip) with the
person's label. The same image is stored once (a later review of it updates its label), and a
fixed share of samples, chosen once by the image's hash, is the frozen holdout that measures every
candidate model and is never trained on.
"""

from __future__ import annotations

import hashlib
import logging

import cv2
import numpy as np
from django.core.files.base import ContentFile
from django.db import IntegrityError, transaction

from forms_ocr.normalize import crop_normalize_string
from recognition.models import (
    Field,
    FieldKind,
    FieldStatus,
    LearningSettings,
    ModelKind,
    TrainingSample,
)
from recognition.services.pipeline import page_crops_load

logger = logging.getLogger(__name__)


def holdout_by_hash(sha256: str, percent: int) -> bool:
    return int(sha256[:8], 16) % 100 < percent


def image_to_png(image: np.ndarray) -> bytes:
    """A float [0,1] normalized crop as 8-bit PNG (what is stored and trained on)."""
    pixels = np.clip(np.rint(np.asarray(image, np.float32) * 255), 0, 255).astype(np.uint8)
    ok, encoded = cv2.imencode(".png", pixels)
    if not ok:
        raise ValueError("cannot encode sample as PNG")
    return encoded.tobytes()


def png_to_image(data: bytes) -> np.ndarray:
    pixels = cv2.imdecode(np.frombuffer(data, np.uint8), cv2.IMREAD_GRAYSCALE)
    return pixels.astype(np.float32) / 255.0


def _labelled_images(field: Field) -> list[tuple[str, np.ndarray, str]]:
    """(kind, normalized image, label) for what the field shows."""
    array = page_crops_load(field.page).get(f"f{field.index}")
    if array is None or not field.value:
        return []
    if field.kind == FieldKind.DIGITS:
        filled = [i for i, box in enumerate(field.boxes) if not box.get("empty")]
        if len(filled) != len(field.value) or len(array) != len(field.boxes):
            # The person's digits do not line up with the boxes the machine found filled.
            return []
        return [
            (ModelKind.DIGITS, array[i], char) for i, char in zip(filled, field.value, strict=True)
        ]
    return [(ModelKind.STRINGS, crop_normalize_string(array), field.value)]


def samples_from_field(*, field_id: int) -> int:
    """Store the samples of a field a person settled; returns how many are new."""
    field = Field.objects.select_related("page").filter(pk=field_id).first()
    if field is None or field.status not in (FieldStatus.CONFIRMED, FieldStatus.CORRECTED):
        return 0
    settings = LearningSettings.current()
    corrected = field.status == FieldStatus.CORRECTED
    machine = field.machine_value
    created = 0
    for position, (kind, image, label) in enumerate(_labelled_images(field)):
        data = image_to_png(image)
        digest = hashlib.sha256(data).hexdigest()
        changed = corrected and (
            kind == ModelKind.STRINGS or position >= len(machine) or machine[position] != label
        )
        existing = TrainingSample.objects.filter(kind=kind, sha256=digest).first()
        if existing is not None:
            if existing.label != label:
                TrainingSample.objects.filter(pk=existing.pk).update(
                    label=label, corrected=changed, field=field
                )
            continue
        sample = TrainingSample(
            kind=kind,
            label=label,
            sha256=digest,
            is_holdout=holdout_by_hash(digest, settings.holdout_percent),
            field=field,
            corrected=changed,
        )
        sample.image.save("sample.png", ContentFile(data), save=False)
        try:
            with transaction.atomic():
                sample.save()
        except IntegrityError:  # the same image arrived from another review just now
            sample.image.delete(save=False)
            continue
        created += 1
    return created


def samples_load(
    kind: str, *, holdout: bool, since=None
) -> tuple[list[np.ndarray], list[str], list[bool]]:
    """(images, labels, corrected flags) of the training or holdout samples of `kind`."""
    samples = TrainingSample.objects.filter(kind=kind, is_holdout=holdout).order_by("pk")
    if since is not None:
        samples = samples.filter(created_at__gte=since)
    images, labels, corrected = [], [], []
    for sample in samples:
        with sample.image.open("rb") as handle:
            images.append(png_to_image(handle.read()))
        labels.append(sample.label)
        corrected.append(sample.corrected)
    return images, labels, corrected
