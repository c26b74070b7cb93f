"""Self-describing checkpoints: a state_dict plus everything needed to rebuild and trust it.

A checkpoint is a ``torch.save``-d dict of plain data (no pickled modules): the architecture
name and args (rebuilt through :func:`ml.models.create_model`), the preprocessing contract,
the class list, the training config, the data hashes and the metrics. It loads with
``weights_only=True``.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import torch
import torch.nn as nn

from ml.errors import CheckpointError
from ml.models import create_model

CHECKPOINT_FORMAT = 1

# What the model expects, shared with the ONNX model card: DESIGN.md's digit contract.
DIGIT_PREPROCESSING: dict[str, Any] = {
    "input_name": "image",
    "input_shape": [None, 1, 28, 28],
    "dtype": "float32",
    "value_range": [0.0, 1.0],
    "polarity": "white ink on black background",
    "normalization": "MNIST: digit fit in 20x20 keeping aspect ratio, centred by centre of "
    "mass in 28x28",
    "output_name": "logits",
}
DIGIT_CLASSES = [str(d) for d in range(10)]
# The 11th class of models with an explicit reject signal (class index 10).
REJECT_CLASS = "not_digit"

_REQUIRED = ("format", "architecture", "args", "state_dict", "classes", "preprocessing")


def checkpoint_save(
    path: str | Path,
    model: nn.Module,
    *,
    architecture: str,
    args: dict[str, Any],
    metadata: dict[str, Any] | None = None,
    classes: list[str] | None = None,
) -> Path:
    """Write ``model``'s weights with its description; ``metadata`` holds config, hashes, metrics.

    ``classes`` defaults to the ten digits; 11-class models add :data:`REJECT_CLASS`.
    """
    payload = {
        "format": CHECKPOINT_FORMAT,
        "architecture": architecture,
        "args": dict(args),
        "state_dict": {k: v.detach().cpu() for k, v in model.state_dict().items()},
        "classes": list(classes or DIGIT_CLASSES),
        "preprocessing": dict(DIGIT_PREPROCESSING),
        **(metadata or {}),
    }
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(path.suffix + ".tmp")
    torch.save(payload, tmp)
    # Replace atomically so a crash mid-write never leaves a truncated checkpoint.
    tmp.replace(path)
    return path


def checkpoint_load(
    path: str | Path, map_location: str = "cpu"
) -> tuple[nn.Module, dict[str, Any]]:
    """Rebuild the model of a checkpoint through the registry; return (model in eval mode, dict).

    Raises :class:`CheckpointError` when required fields are missing or the weights do not
    fit the named architecture.
    """
    payload = torch.load(Path(path), map_location=map_location, weights_only=True)
    missing = [key for key in _REQUIRED if key not in payload]
    if missing:
        raise CheckpointError(f"{path}: not a model checkpoint, missing {missing}")
    if payload["format"] != CHECKPOINT_FORMAT:
        raise CheckpointError(f"{path}: checkpoint format {payload['format']} is not supported")
    model = create_model(payload["architecture"], **payload["args"])
    try:
        model.load_state_dict(payload["state_dict"])
    except RuntimeError as exc:
        raise CheckpointError(
            f"{path}: weights do not fit {payload['architecture']}: {exc}"
        ) from exc
    model.eval()
    return model, payload
