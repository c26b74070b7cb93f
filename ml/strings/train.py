"""Training of the string CRNN on generated strings, with CTC loss and a wall-clock budget."""

from __future__ import annotations

import dataclasses
import json
import logging
import math
import shutil
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import cv2
import numpy as np
import torch
import torch.nn.functional as F

from ml.augment import AugmentConfig, augment_batch
from ml.checkpoint import checkpoint_save
from ml.data.mnist import mnist_load, split_train_validation
from ml.models import create_model, parameter_count
from ml.strings import BLANK
from ml.strings.batch import strings_pad
from ml.strings.generate import StringGenerator, StringSample
from ml.training.progress import ProgressBar
from ml.training.run import hardware_describe

logger = logging.getLogger(__name__)

STRING_PREPROCESSING: dict[str, Any] = {
    "input_name": "image",
    "input_shape": [None, 1, 32, None],
    "width": "multiple of 4 in [32, 512]",
    "dtype": "float32",
    "value_range": [0.0, 1.0],
    "polarity": "white ink on black background",
    "normalization": "forms_ocr.normalize.crop_normalize_string",
    "output_name": "logits",
    "output_shape": [None, "W/4", 11],
    "blank": BLANK,
}


@dataclass(frozen=True)
class StringTrainConfig:
    """Everything that determines a string training run; saved in every checkpoint.

    The run stops at ``steps`` or after ``time_budget_s`` seconds, whichever comes first; the
    cosine learning-rate schedule follows whichever is further along, so a run cut by the
    clock still ends with a small learning rate.
    """

    data_dir: str | None = None
    output_dir: str = "var/runs/strings"
    architecture: str = "string_crnn"
    model_args: dict[str, Any] = field(default_factory=dict)
    steps: int = 6000
    time_budget_s: float | None = None
    batch_size: int = 48
    lr: float = 2e-3
    warmup_steps: int = 200
    weight_decay: float = 1e-2
    cheque_fraction: float = 0.5
    validation_size: int = 5000
    validation_strings: int = 600
    eval_every: int = 250
    early_stopping_patience: int = 8
    seed: int = 0
    num_threads: int | None = None
    # Processes that generate batches while the model trains (0: generate in the training loop).
    loader_workers: int = 1
    dry_run: bool = False
    # Continue from the weights of an earlier checkpoint of the same architecture (fine-tuning).
    init_checkpoint: str | None = None
    # Seed of the generated training strings when it should differ from ``seed`` (which also
    # fixes the train/validation split): a continued run sees new strings, the same split.
    stream_seed: int | None = None

    def to_dict(self) -> dict[str, Any]:
        """Plain-data form for logs and checkpoints."""
        return dataclasses.asdict(self)


def samples_to_tensors(
    samples: list[StringSample],
) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor, torch.Tensor]:
    """(images [N,1,32,W], frames [N], targets concatenated [sum L], target lengths [N])."""
    batch, frames = strings_pad([s.image for s in samples])
    targets = torch.tensor([int(c) for s in samples for c in s.text], dtype=torch.long)
    lengths = torch.tensor([len(s.text) for s in samples], dtype=torch.long)
    return torch.from_numpy(batch), torch.from_numpy(frames), targets, lengths


def ctc_loss(
    logits: torch.Tensor, frames: torch.Tensor, targets: torch.Tensor, lengths: torch.Tensor
) -> torch.Tensor:
    """Mean CTC loss per string of logits ``[N,T,11]``, counting only each string's own frames."""
    log_probs = F.log_softmax(logits.float(), dim=2).transpose(0, 1)
    return F.ctc_loss(
        log_probs, targets, frames, lengths, blank=BLANK, reduction="mean", zero_infinity=True
    )


def ctc_step(
    model: torch.nn.Module, optimizer: torch.optim.Optimizer, samples: list[StringSample]
) -> float:
    """One optimization step on a batch of strings; returns the loss."""
    return ctc_tensor_step(model, optimizer, samples_to_tensors(samples))


def _digit_transform(generator: torch.Generator):
    # Mild digit distortion only: the string generator already varies scale, slant and stroke.
    config = AugmentConfig(
        rotation_deg=6, scale_range=0.05, shear_deg=6, translate_px=0, thickness_prob=0
    )

    def transform(images: np.ndarray) -> np.ndarray:
        batch = torch.from_numpy(images).unsqueeze(1).float().div_(255)
        out = augment_batch(batch, config, generator)
        return (out.squeeze(1).mul_(255).round_()).to(torch.uint8).numpy()

    return transform


class StringBatches(torch.utils.data.IterableDataset):
    """Endless training batches ``(images, frames, targets, lengths)`` of generated strings.

    Strings are generated ``pool_batches`` batches at a time and sorted by width, so each batch
    holds strings of similar width and little padding; the batches of a pool are then shuffled.
    Run by a :class:`torch.utils.data.DataLoader` with worker processes, generation overlaps the
    training step instead of adding to it. Worker ``k`` uses seed ``seed + 1000 * k``, so a run
    with a given worker count is reproducible.
    """

    def __init__(
        self,
        images: np.ndarray,
        labels: np.ndarray,
        *,
        batch_size: int,
        seed: int,
        cheque_fraction: float,
        pool_batches: int = 4,
    ) -> None:
        super().__init__()
        self.images, self.labels = images, labels
        self.batch_size, self.seed = batch_size, seed
        self.cheque_fraction, self.pool_batches = cheque_fraction, pool_batches

    def __iter__(self):
        info = torch.utils.data.get_worker_info()
        seed = self.seed + 1000 * (info.id if info is not None else 0)
        if info is not None:
            # One core per generating process: OpenCV's own thread pool would fight the
            # training step for the same cores.
            cv2.setNumThreads(1)
        generator = StringGenerator(
            self.images,
            self.labels,
            seed=seed,
            cheque_fraction=self.cheque_fraction,
            digit_transform=_digit_transform(torch.Generator().manual_seed(seed)),
        )
        order_rng = np.random.default_rng(seed)
        while True:
            pool = sorted(
                generator.batch(self.batch_size * self.pool_batches),
                key=lambda s: s.image.shape[1],
            )
            chunks = [pool[i : i + self.batch_size] for i in range(0, len(pool), self.batch_size)]
            for i in order_rng.permutation(len(chunks)):
                yield samples_to_tensors(chunks[i])


def ctc_tensor_step(
    model: torch.nn.Module,
    optimizer: torch.optim.Optimizer,
    batch: tuple[torch.Tensor, torch.Tensor, torch.Tensor, torch.Tensor],
) -> float:
    """One optimization step on a tensor batch (CTC loss, gradient norm clipped at 5);
    returns the loss."""
    images, frames, targets, lengths = batch
    loss = ctc_loss(model(images), frames, targets, lengths)
    optimizer.zero_grad(set_to_none=True)
    loss.backward()
    torch.nn.utils.clip_grad_norm_(model.parameters(), 5.0)
    optimizer.step()
    return loss.item()


@torch.no_grad()
def validation_run(
    model: torch.nn.Module, samples: list[StringSample], batch_size: int = 64
) -> dict[str, float]:
    """Greedy string accuracy and CTC loss on fixed validation samples."""
    from ml.strings.decode import ctc_greedy_decode

    model.eval()
    correct, total_loss = 0, 0.0
    for start in range(0, len(samples), batch_size):
        chunk = samples[start : start + batch_size]
        images, frames, targets, lengths = samples_to_tensors(chunk)
        logits = model(images)
        total_loss += float(ctc_loss(logits, frames, targets, lengths)) * len(chunk)
        array = logits.numpy()
        for i, sample in enumerate(chunk):
            correct += ctc_greedy_decode(array[i, : int(frames[i])]).text == sample.text
    model.train()
    return {"loss": total_loss / len(samples), "accuracy": correct / len(samples)}


def train_strings(config: StringTrainConfig) -> Path:
    """Train the string model; write ``best.pt``, ``last.pt`` and ``log.json``; return best.pt."""
    started = time.perf_counter()
    torch.manual_seed(config.seed)
    if config.num_threads:
        torch.set_num_threads(config.num_threads)
    full = mnist_load(config.data_dir, "train")
    train_set, validation_set = split_train_validation(
        full, validation_size=config.validation_size, seed=config.seed
    )
    workers = 0 if config.dry_run else config.loader_workers
    batches = iter(
        torch.utils.data.DataLoader(
            StringBatches(
                train_set.images,
                train_set.labels,
                batch_size=config.batch_size,
                seed=config.seed if config.stream_seed is None else config.stream_seed,
                cheque_fraction=config.cheque_fraction,
            ),
            batch_size=None,
            num_workers=workers,
            prefetch_factor=4 if workers else None,
            # Spawned, not forked: a fork of a process whose thread pools (OpenMP, ONNX Runtime,
            # OpenCV) are running can deadlock in the child.
            multiprocessing_context="spawn" if workers else None,
        )
    )
    validation_count = 32 if config.dry_run else config.validation_strings
    validation = StringGenerator(
        validation_set.images, validation_set.labels, seed=config.seed + 1, cheque_fraction=0.5
    ).batch(validation_count)
    model = create_model(config.architecture, **config.model_args)
    if config.init_checkpoint:
        state = torch.load(config.init_checkpoint, map_location="cpu", weights_only=True)
        model.load_state_dict(state["state_dict"])
        logger.info("initialised from %s", config.init_checkpoint)
    params = parameter_count(model)
    logger.info("%s: %d parameters", config.architecture, params)
    decay = [p for p in model.parameters() if p.ndim > 1]
    no_decay = [p for p in model.parameters() if p.ndim <= 1]
    optimizer = torch.optim.AdamW(
        [
            {"params": decay, "weight_decay": config.weight_decay},
            {"params": no_decay, "weight_decay": 0.0},
        ],
        lr=config.lr,
    )
    steps = 3 if config.dry_run else config.steps
    output_dir = Path(config.output_dir)
    output_dir.mkdir(parents=True, exist_ok=True)
    (output_dir / "config.json").write_text(json.dumps(config.to_dict(), indent=1))
    metadata_base = {
        "config": config.to_dict(),
        "classes": [str(d) for d in range(10)] + ["<blank>"],
        "preprocessing": STRING_PREPROCESSING,
        "data": {
            "train": train_set.name,
            "validation": validation_set.name,
            "split_seed": config.seed,
            "hashes": dict(full.hashes),
        },
        "parameters": params,
        "hardware": hardware_describe(torch.device("cpu")),
    }
    log: list[dict[str, Any]] = []
    best_accuracy, best_loss, stale = -1.0, math.inf, 0
    best_path = output_dir / "best.pt"
    bar = ProgressBar(steps, "strings")
    running = 0.0
    for step in range(1, steps + 1):
        batch = next(batches)
        elapsed = time.perf_counter() - started
        progress = step / steps
        if config.time_budget_s:
            progress = max(progress, elapsed / config.time_budget_s)
        warm = min(1.0, step / config.warmup_steps)
        lr = config.lr * warm * 0.5 * (1 + math.cos(math.pi * min(progress, 1.0)))
        for group in optimizer.param_groups:
            group["lr"] = lr
        loss = ctc_tensor_step(model, optimizer, batch)
        running = 0.98 * running + 0.02 * loss if step > 1 else loss
        bar.update(step, loss=running)
        last = step == steps or progress >= 1.0
        if step % config.eval_every == 0 or last:
            result = validation_run(model, validation)
            row = {
                "step": step,
                "lr": lr,
                "train_loss": running,
                "seconds": round(elapsed, 1),
                **{f"val_{k}": v for k, v in result.items()},
            }
            log.append(row)
            (output_dir / "log.json").write_text(json.dumps(log, indent=1))
            logger.info("step %d: %s", step, row)
            metadata = {
                **metadata_base,
                "step": step,
                "metrics": result,
                "train_seconds": round(elapsed, 1),
            }
            last_path = checkpoint_save(
                output_dir / "last.pt",
                model,
                architecture=config.architecture,
                args=config.model_args,
                metadata=metadata,
            )
            if (result["accuracy"], -result["loss"]) > (best_accuracy, -best_loss):
                best_accuracy, best_loss, stale = result["accuracy"], result["loss"], 0
                shutil.copyfile(last_path, best_path)
            else:
                stale += 1
                if stale >= config.early_stopping_patience:
                    logger.info("early stop: validation flat for %d evaluations", stale)
                    break
        if last:
            break
    bar.close(f"best validation accuracy {best_accuracy:.4f}")
    return best_path
