"""Reading a drawing from the playground with the same normalization and models as scans."""

from __future__ import annotations

import cv2
import numpy as np

from forms_ocr.normalize import box_is_empty, crop_normalize_mnist
from recognition.errors import ApplicationError
from recognition.inference import recognizers_active, require
from recognition.reading import (
    FieldReading,
    readings_to_field,
    string_read_by_components,
    strings_read,
)

MAX_DRAWING_BYTES = 2 * 1024 * 1024
MAX_DRAWING_PIXELS = 4_000_000


def drawing_decode(data: bytes) -> np.ndarray:
    if not data:
        raise ApplicationError("the drawing is empty")
    if len(data) > MAX_DRAWING_BYTES:
        raise ApplicationError(f"the drawing is larger than {MAX_DRAWING_BYTES} bytes")
    image = cv2.imdecode(np.frombuffer(data, np.uint8), cv2.IMREAD_GRAYSCALE)
    if image is None:
        raise ApplicationError("the drawing is not a PNG or JPEG image")
    if image.size > MAX_DRAWING_PIXELS:
        raise ApplicationError(f"the drawing has more than {MAX_DRAWING_PIXELS} pixels")
    return image


def drawing_read(*, data: bytes, mode: str) -> tuple[FieldReading, str]:
    """Read one digit (`mode="digit"`) or a number (`mode="number"`); return (reading, model)."""
    if mode not in ("digit", "number"):
        raise ApplicationError("mode must be 'digit' or 'number'")
    image = drawing_decode(data)
    recognizers = recognizers_active()
    digits = require(recognizers.digits, "digit")
    if box_is_empty(image):
        return FieldReading(value="", characters=[], confidence=None), digits.version.version
    if mode == "digit":
        reading = readings_to_field(digits.recognizer.predict(crop_normalize_mnist(image)[None]))
        return reading, digits.version.version
    if recognizers.strings is not None:
        return strings_read(recognizers.strings.recognizer, [image])[
            0
        ], recognizers.strings.version.version
    return string_read_by_components(digits.recognizer, image), digits.version.version
