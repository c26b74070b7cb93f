"""ONNX Runtime sessions and model cards, shared by every recognizer.

Only numpy and onnxruntime are imported here, never torch: web and worker processes that just
run inference stay small and start fast.
"""

from __future__ import annotations

import json
import logging
from pathlib import Path
from typing import Any

import numpy as np
from numpy.typing import NDArray

from ml.errors import CheckpointError, InputShapeError

logger = logging.getLogger(__name__)

CPU_PROVIDER = "CPUExecutionProvider"
CUDA_PROVIDER = "CUDAExecutionProvider"


def providers_choose(prefer_cuda: bool = True) -> list[str]:
    """CUDA first when this onnxruntime build has it and `prefer_cuda`, the CPU always last."""
    import onnxruntime

    available = onnxruntime.get_available_providers()
    chosen = [CUDA_PROVIDER] if prefer_cuda and CUDA_PROVIDER in available else []
    return [*chosen, CPU_PROVIDER]


def onnx_session_create(
    path: str | Path,
    *,
    providers: list[str] | None = None,
    threads: int | None = None,
    spin: bool = True,
):
    """An InferenceSession on `path` (graph optimizations on; `threads` caps intra-op threads).

    ``spin=False`` stops idle intra-op threads from busy-waiting for the next run, for a session
    that shares the cores with other work between its runs (a teacher inside a torch training).
    """
    import onnxruntime

    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"no ONNX model at {path}")
    options = onnxruntime.SessionOptions()
    options.graph_optimization_level = onnxruntime.GraphOptimizationLevel.ORT_ENABLE_ALL
    if threads:
        options.intra_op_num_threads = threads
    if not spin:
        options.add_session_config_entry("session.intra_op.allow_spinning", "0")
    session = onnxruntime.InferenceSession(
        str(path), sess_options=options, providers=providers or providers_choose()
    )
    logger.info("loaded %s on %s", path.name, session.get_providers()[0])
    return session


def model_card_load(onnx_path: str | Path) -> dict[str, Any]:
    """The JSON model card beside an ONNX file (`x.onnx` -> `x.json`); empty when there is none."""
    card_path = Path(onnx_path).with_suffix(".json")
    if not card_path.exists():
        return {}
    try:
        return json.loads(card_path.read_text())
    except json.JSONDecodeError as exc:
        raise CheckpointError(f"{card_path}: model card is not valid JSON: {exc}") from exc


def softmax(logits: NDArray[np.float32], temperature: float = 1.0) -> NDArray[np.float32]:
    """Row-wise softmax of `logits / temperature` over the last axis, numerically stable."""
    scaled = logits.astype(np.float64) / temperature
    scaled -= scaled.max(axis=-1, keepdims=True)
    exp = np.exp(scaled)
    return (exp / exp.sum(axis=-1, keepdims=True)).astype(np.float32)


def images_check(
    images: object, *, height: int, width: int | None, name: str = "images"
) -> NDArray[np.float32]:
    """Validate a batch of normalized crops and return it as float32 [N,1,H,W].

    Accepts [N,H,W] or [N,1,H,W] float32 arrays in [0,1]; `width=None` allows any width that is a
    multiple of 4. Raises InputShapeError (a ValueError) naming what is wrong.
    """
    if not isinstance(images, np.ndarray):
        raise InputShapeError(f"{name} must be a numpy array, got {type(images).__name__}")
    if images.dtype != np.float32:
        raise InputShapeError(f"{name} must be float32 in [0,1], got dtype {images.dtype}")
    if images.ndim == 3:
        images = images[:, None]
    expected = f"[N,{height},{width or 'W'}] or [N,1,{height},{width or 'W'}]"
    if images.ndim != 4 or images.shape[1] != 1 or images.shape[2] != height:
        raise InputShapeError(f"{name} must have shape {expected}, got {list(images.shape)}")
    if width is not None and images.shape[3] != width:
        raise InputShapeError(f"{name} must have shape {expected}, got {list(images.shape)}")
    if images.size and (not np.isfinite(images).all() or images.min() < 0 or images.max() > 1):
        raise InputShapeError(f"{name} values must be finite and within [0,1]")
    return np.ascontiguousarray(images)
