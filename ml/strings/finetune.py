"""Fine-tuning the CTC string model on reviewed number fields: the string retraining step.

Batches mix generated strings (from base digits, when given) with the reviewed strips, corrected
strips drawn `correction_weight` times as often, each strip varied (`strip_augment`). Each epoch reports the exact-read accuracy on the frozen
holdout; at the end the candidate is measured on the base test strings and exported with the
base version's calibration (temperature and accept threshold carry over: refitting them needs a
validation set the platform does not hold). No Django.
"""

from __future__ import annotations

import json
import platform
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np
import torch
from numpy.typing import NDArray

from ml.checkpoint import checkpoint_load, checkpoint_save
from ml.finetune import FinetuneCancelled, FinetuneResult
from ml.strings.decode import ctc_greedy_decode
from ml.strings.generate import StringGenerator, StringSample
from ml.strings.train import ctc_step, samples_to_tensors

Strip = tuple[NDArray[np.float32], str]


@dataclass
class StringFinetuneConfig:
    epochs: int = 3
    steps_per_epoch: int = 150
    batch_size: int = 32
    lr: float = 3e-4
    correction_weight: float = 5.0
    # Share of each batch taken from the reviewed strips (the rest generated from base digits).
    correction_share: float = 0.5
    seed: int = 0
    num_threads: int | None = None

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def strip_augment(image: NDArray[np.float32], rng: np.random.Generator) -> NDArray[np.float32]:
    """A reviewed strip varied the way handwriting varies: width stretched 0.85-1.15, a small
    slant and vertical shift, strokes thinner or thicker now and then. Height stays 32 and the
    width a multiple of 4 within the model's range."""
    import cv2

    from ml.strings import MAX_WIDTH, MIN_WIDTH, STRING_HEIGHT, WIDTH_PER_FRAME

    height, width = image.shape
    new_width = int(np.clip(round(width * rng.uniform(0.85, 1.15) / 4) * 4, MIN_WIDTH, MAX_WIDTH))
    shear = rng.uniform(-0.15, 0.15)
    shift = rng.uniform(-1.5, 1.5)
    matrix = np.float32([[new_width / width, shear, -shear * height / 2], [0, 1, shift]])
    out = cv2.warpAffine(
        image.astype(np.float32), matrix, (new_width, STRING_HEIGHT), flags=cv2.INTER_LINEAR
    )
    roll = rng.random()
    if roll < 0.2:
        out = cv2.dilate(out, np.ones((2, 2), np.uint8))
    elif roll < 0.4:
        out = cv2.erode(out, np.ones((2, 1), np.uint8))
    assert out.shape[1] % WIDTH_PER_FRAME == 0
    return np.clip(out, 0.0, 1.0).astype(np.float32)


def _sample(image: NDArray[np.float32], text: str) -> StringSample:
    """A reviewed strip in the generator's sample type (no raw scan: it is not needed here)."""
    return StringSample(
        image=image, text=text, raw=np.zeros((0, 0), np.uint8), layout=text, style="review"
    )


@torch.no_grad()
def exact_accuracy(model: torch.nn.Module, strips: list[Strip], batch_size: int = 64) -> dict:
    """Share of strips read exactly (greedy decoding)."""
    if not strips:
        return {"size": 0, "accuracy": None}
    model.eval()
    right = 0
    for start in range(0, len(strips), batch_size):
        chunk = [_sample(i, t) for i, t in strips[start : start + batch_size]]
        images, frames, _, _ = samples_to_tensors(chunk)
        logits = model(images).numpy()
        right += sum(
            ctc_greedy_decode(logits[i, : int(frames[i])]).text == sample.text
            for i, sample in enumerate(chunk)
        )
    return {"size": len(strips), "accuracy": round(right / len(strips), 6)}


def finetune_strings(
    base_checkpoint: str | Path,
    *,
    corrections: list[Strip],
    corrected: NDArray[np.bool_],
    base_digits: tuple[NDArray[np.uint8], NDArray[np.int64]] | None,
    base_test: list[Strip],
    holdout: list[Strip],
    calibration: dict[str, float],
    output_dir: str | Path,
    version: str,
    config: StringFinetuneConfig | None = None,
    on_epoch: Callable[[dict[str, Any]], None] | None = None,
    should_stop: Callable[[], bool] | None = None,
) -> FinetuneResult:
    """Fine-tune, measure and export a string candidate; raises FinetuneCancelled when stopped.

    `calibration` holds the base version's "temperature" and "accept_threshold"."""
    from ml.strings.export import string_onnx_export

    config = config or StringFinetuneConfig()
    started = time.perf_counter()
    torch.manual_seed(config.seed)
    rng = np.random.default_rng(config.seed)
    if config.num_threads:
        torch.set_num_threads(config.num_threads)
    model, payload = checkpoint_load(base_checkpoint)
    if not corrections:
        raise ValueError("no reviewed strings to learn from")
    weights = np.where(corrected, config.correction_weight, 1.0)
    weights = weights / weights.sum()
    generator = (
        StringGenerator(base_digits[0], base_digits[1], seed=config.seed, cheque_fraction=0.5)
        if base_digits is not None
        else None
    )
    own = max(1, round(config.batch_size * (config.correction_share if generator else 1.0)))
    optimizer = torch.optim.AdamW(model.parameters(), lr=config.lr, weight_decay=1e-4)
    history: list[dict[str, Any]] = []
    for epoch in range(1, config.epochs + 1):
        if should_stop is not None and should_stop():
            raise FinetuneCancelled(f"stopped before epoch {epoch}")
        epoch_start = time.perf_counter()
        model.train()
        total = 0.0
        for _ in range(config.steps_per_epoch):
            picks = rng.choice(len(corrections), size=own, p=weights)
            batch = [
                _sample(strip_augment(corrections[i][0], rng), corrections[i][1]) for i in picks
            ]
            if generator is not None:
                batch += generator.batch(config.batch_size - own)
            total += ctc_step(model, optimizer, batch)
        row = {
            "epoch": epoch,
            "loss": round(total / config.steps_per_epoch, 6),
            "accuracy": exact_accuracy(model, corrections[:200])["accuracy"],
            "holdout_accuracy": exact_accuracy(model, holdout)["accuracy"],
            "seconds": round(time.perf_counter() - epoch_start, 2),
        }
        history.append(row)
        if on_epoch is not None:
            on_epoch(row)
    if should_stop is not None and should_stop():
        raise FinetuneCancelled("stopped after the last epoch")

    metrics = {
        "base_test": exact_accuracy(model, base_test),
        "holdout": exact_accuracy(model, holdout),
        "corrections_trained": len(corrections),
        "corrected_trained": int(np.count_nonzero(corrected)),
    }
    output_dir = Path(output_dir)
    output_dir.mkdir(parents=True, exist_ok=True)
    model.eval()
    checkpoint = checkpoint_save(
        output_dir / f"{version}.pt",
        model,
        architecture=payload["architecture"],
        args=payload["args"],
        classes=payload["classes"],
        metadata={
            "config": {**payload.get("config", {}), "finetune": config.to_dict()},
            "preprocessing": payload.get("preprocessing"),
            "metrics": metrics,
            "train_seconds": round(time.perf_counter() - started, 1),
        },
    )
    onnx_path = output_dir / f"{version}.onnx"
    parity = string_onnx_export(model, onnx_path)
    card = {
        "version": version,
        "kind": "string",
        "architecture": payload["architecture"],
        "args": payload["args"],
        "classes": payload["classes"],
        "preprocessing": payload.get("preprocessing"),
        "fine_tuned_from": str(base_checkpoint),
        "training_config": config.to_dict(),
        "history": history,
        "temperature": calibration["temperature"],
        "accept_threshold": calibration["accept_threshold"],
        "calibration": {"fitted_on": "carried over from the base version"},
        "test_metrics": metrics,
        "onnx_parity_max_abs_diff": parity,
        "exported_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "exported_on": platform.platform(),
    }
    onnx_path.with_suffix(".json").write_text(json.dumps(card, indent=1))
    return FinetuneResult(Path(checkpoint), onnx_path, card, history)
