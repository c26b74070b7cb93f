"""The recognizers of the active model versions, loaded once per process.

Worker processes (the recognize task) and web processes (the playground) call
`recognizers_active()` before each unit of work: one cheap query tells whether an admin activated
another version, and only then is the new ONNX file loaded. Loading happens under a lock, so the
threads of one process share a single copy of each model.
"""

from __future__ import annotations

import logging
import threading
from dataclasses import dataclass
from typing import Any

from django.conf import settings

from recognition.errors import ApplicationError
from recognition.models import ModelKind, ModelVersion
from recognition.services.model_versions import (
    model_version_onnx_path,
    model_versions_builtin_ensure,
)

logger = logging.getLogger(__name__)

_lock = threading.Lock()
# kind -> (cache key, recognizer); the string recognizer's key includes the digit version it uses.
_loaded: dict[str, tuple[tuple, Any]] = {}


@dataclass(frozen=True)
class LoadedModel:
    version: ModelVersion
    recognizer: Any


@dataclass(frozen=True)
class ActiveRecognizers:
    digits: LoadedModel | None
    strings: LoadedModel | None


def _string_marker(digits: LoadedModel | None) -> LoadedModel | None:
    """The digit model that scores the marks of string fields (words, scribbles: review), or
    None: with `HDR_STRING_REJECT`, a digit model with a "not a digit" class whose card holds the
    string rule measured with it (`python -m ml strings reject-eval --write-card`); an unmeasured
    one could send most genuine numbers to review."""
    if not settings.HDR_STRING_REJECT or digits is None:
        return None
    recognizer = digits.recognizer
    return digits if recognizer.has_reject_class and recognizer.card.get("string_reject") else None


def _recognizer_load(version: ModelVersion, marker: LoadedModel | None = None):
    # Imported here: web processes that never read a digit never pay for ONNX Runtime.
    import ml.infer

    path = model_version_onnx_path(version)
    threads = settings.HDR_WORKER_THREADS
    if version.kind == ModelKind.DIGITS:
        return ml.infer.DigitRecognizer(path, temperature=version.temperature, threads=threads)
    # The string recognizer calibrates with the temperature of its own model card.
    return ml.infer.StringRecognizer(
        path, digit_recognizer=marker.recognizer if marker else None, threads=threads
    )


def recognizers_active() -> ActiveRecognizers:
    """The active digit and string recognizers (None for a kind with no model at all)."""
    # Models this release ships and the database lacks are registered, and a kind without an
    # active version gets the committed default, if the code ships one.
    model_versions_builtin_ensure()
    versions = {v.kind: v for v in ModelVersion.objects.filter(is_active=True)}
    loaded: dict[str, LoadedModel | None] = {}
    with _lock:
        # Digits first: the string recognizer may use the digit model's reject class.
        for kind in (ModelKind.DIGITS, ModelKind.STRINGS):
            version = versions.get(kind)
            if version is None:
                loaded[kind] = None
                continue
            marker = (
                _string_marker(loaded.get(ModelKind.DIGITS)) if kind == ModelKind.STRINGS else None
            )
            key = (version.pk, marker.version.pk if marker else None)
            cached = _loaded.get(kind)
            if cached is None or cached[0] != key:
                logger.info("loading %s model %s", kind, version.version)
                _loaded[kind] = (key, _recognizer_load(version, marker))
            loaded[kind] = LoadedModel(version, _loaded[kind][1])
    return ActiveRecognizers(digits=loaded[ModelKind.DIGITS], strings=loaded[ModelKind.STRINGS])


def require(model: LoadedModel | None, kind: str) -> LoadedModel:
    if model is None:
        raise ApplicationError(f"no {kind} model is installed; train and register one first")
    return model
