"""A full digit training run: data, model, optimizer, schedule, early stopping, logs, checkpoints."""

from __future__ import annotations

import csv
import json
import logging
import math
import platform
import time
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import torch

from ml.checkpoint import DIGIT_CLASSES, REJECT_CLASS, checkpoint_load, checkpoint_save
from ml.data.mnist import DigitSet, mnist_load, split_train_validation
from ml.models import create_model, macs_per_sample, parameter_count
from ml.training.config import TrainConfig
from ml.training.loop import (
    EpochStats,
    ema_create,
    evaluate,
    evaluate_negatives,
    train_one_epoch,
)
from ml.training.progress import ProgressBar
from ml.training.teacher import Teacher

if TYPE_CHECKING:
    from ml.negatives.lookalike import LookalikeFilter

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class TrainResult:
    """Where a run left its outputs and how its best epoch scored on validation."""

    output_dir: Path
    best_checkpoint: Path
    best_epoch: int
    best_validation_loss: float
    best_validation_accuracy: float
    epochs_run: int
    seconds: float


def device_resolve(name: str) -> torch.device:
    """``auto`` picks CUDA when available, else the CPU; other names pass through to torch."""
    if name == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    return torch.device(name)


def hardware_describe(device: torch.device) -> str:
    """One line naming the device the run used (GPU name, or CPU model and thread count)."""
    if device.type == "cuda":
        return f"CUDA {torch.cuda.get_device_name(device)}"
    cpu = platform.processor() or platform.machine()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return f"CPU {cpu}, {torch.get_num_threads()} threads"


def digits_to_tensors(digits: DigitSet, device: torch.device) -> tuple[torch.Tensor, torch.Tensor]:
    """uint8 ``[N,28,28]`` -> float32 ``[N,1,28,28]`` in 0..1 and int64 labels, on ``device``."""
    images = torch.from_numpy(digits.images).to(device).unsqueeze(1).float().div_(255)
    return images, torch.from_numpy(digits.labels).to(device)


def _make_optimizer(model: torch.nn.Module, config: TrainConfig, lr: float):
    # No weight decay on BatchNorm and biases: decaying them only fights the normalization.
    decay = [p for p in model.parameters() if p.ndim > 1]
    no_decay = [p for p in model.parameters() if p.ndim <= 1]
    groups = [
        {"params": decay, "weight_decay": config.weight_decay},
        {"params": no_decay, "weight_decay": 0.0},
    ]
    if config.optimizer == "sgd":
        return torch.optim.SGD(groups, lr=lr, momentum=config.momentum, nesterov=True)
    return torch.optim.AdamW(groups, lr=lr)


def _log_write(output_dir: Path, rows: list[dict[str, Any]]) -> None:
    (output_dir / "log.json").write_text(json.dumps(rows, indent=1))
    with (output_dir / "log.csv").open("w", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)


def _epoch_negatives(
    train_set: DigitSet,
    count: int,
    config: TrainConfig,
    epoch: int,
    lookalikes: LookalikeFilter | None,
) -> torch.Tensor:
    """Fresh train negatives for one epoch, float ``[count,1,28,28]`` on the CPU."""
    from ml.negatives import negatives_generate

    made = negatives_generate(
        count,
        split="train",
        digits=train_set.images,
        labels=train_set.labels,
        seed=config.seed * 1000 + epoch,
    )
    if lookalikes is not None:
        made, dropped = lookalikes.apply(made)
        logger.info("epoch %d: dropped look-alike negatives %s", epoch, dropped.kind_counts())
    return torch.from_numpy(made.images).unsqueeze(1)


def _validate(
    model: torch.nn.Module,
    images: torch.Tensor,
    labels: torch.Tensor,
    negatives: torch.Tensor | None,
    config: TrainConfig,
    amp: bool,
) -> tuple[EpochStats, EpochStats | None]:
    """Validation figures of ``model``, and of its negatives when there are any.

    With negatives, the loss is that of a mixed batch (what the best epoch and early stopping
    watch); the accuracy stays that of the digits.
    """
    stats = evaluate(model, images, labels, amp=amp)
    if negatives is None:
        return stats, None
    negative_stats = evaluate_negatives(model, negatives, mode=config.negatives_mode, amp=amp)
    share = config.negatives_fraction
    mixed = (1 - share) * stats.loss + share * negative_stats.loss
    return EpochStats(mixed, stats.accuracy), negative_stats


def train_digits(
    config: TrainConfig,
    *,
    train_set: DigitSet | None = None,
    validation_set: DigitSet | None = None,
) -> TrainResult:
    """Train a digit classifier as ``config`` says and write checkpoints and logs.

    Without explicit sets, MNIST train is read from ``config.data_dir`` (or ``$HDR_DATA_DIR``)
    and split into train/validation with ``config.seed``. Writes ``best.pt`` (lowest validation
    loss), ``last.pt``, ``log.json``, ``log.csv`` and ``config.json`` into ``config.output_dir``.
    """
    started = time.perf_counter()
    torch.manual_seed(config.seed)
    np.random.seed(config.seed)
    if config.num_threads:
        torch.set_num_threads(config.num_threads)
    device = device_resolve(config.device)
    on_cuda = device.type == "cuda"
    if on_cuda:
        torch.backends.cudnn.benchmark = True
    # Loaded first, so that a wrong teacher fails before minutes of data and negatives.
    teacher = None
    if config.distill_from:
        teacher = Teacher(config.distill_from, device, threads=config.num_threads)

    if train_set is None or validation_set is None:
        full = mnist_load(config.data_dir, "train")
        train_set, validation_set = split_train_validation(
            full, validation_size=config.validation_size, seed=config.seed
        )
    if config.train_limit:
        train_set = train_set.subset(
            np.arange(min(config.train_limit, len(train_set))), train_set.name
        )
    train_x, train_y = digits_to_tensors(train_set, device)
    val_x, val_y = digits_to_tensors(validation_set, device)
    model_args = dict(config.model_args)
    if config.num_classes != 10:
        model_args["num_classes"] = config.num_classes
    validation_negatives = None
    lookalikes = None
    if config.negatives_fraction > 0:
        from ml.negatives import negatives_heldout
        from ml.negatives.fonts import fonts_missing

        if config.negatives_lookalike_threshold:
            from ml.negatives.lookalike import LookalikeFilter

            lookalikes = LookalikeFilter(threshold=config.negatives_lookalike_threshold)

        held = negatives_heldout(
            "validation",
            digits=validation_set.images,
            labels=validation_set.labels,
            count=32 if config.dry_run else config.validation_negatives,
            seed=config.seed,
        )
        if lookalikes is not None:
            held, dropped = lookalikes.apply(held)
            logger.info("validation: dropped look-alike negatives %s", dropped.kind_counts())
        validation_negatives = torch.from_numpy(held.images).unsqueeze(1).to(device)

    model = create_model(config.architecture, **model_args).to(device)
    if config.init_checkpoint:
        start, _ = checkpoint_load(config.init_checkpoint)
        model.load_state_dict(start.state_dict())
        logger.info("starting from the weights of %s", config.init_checkpoint)
    renormalized = None
    if config.renormalized_share > 0:
        from ml.data.renormalize import digits_renormalize

        renormalized = torch.from_numpy(digits_renormalize(train_set.images, config.seed))
        renormalized = renormalized.unsqueeze(1).to(device)
    params, macs = parameter_count(model), macs_per_sample(model)
    logger.info("%s: %d parameters, %d MACs per digit", config.architecture, params, macs)

    batch_size = config.cuda_batch_size if on_cuda else config.batch_size
    # Linear scaling rule: a bigger batch takes proportionally bigger steps.
    lr = config.lr * batch_size / config.batch_size
    epochs = 1 if config.dry_run else config.epochs
    max_batches = 2 if config.dry_run else None
    steps_per_epoch = math.ceil(len(train_set) / batch_size)
    if max_batches is not None:
        steps_per_epoch = min(steps_per_epoch, max_batches)
    # Negatives per batch so that they make up negatives_fraction of each mixed batch.
    per_batch = round(batch_size * config.negatives_fraction / (1 - config.negatives_fraction))
    optimizer = _make_optimizer(model, config, lr)
    batch_scheduler = None
    plateau = None
    if config.schedule == "onecycle":
        batch_scheduler = torch.optim.lr_scheduler.OneCycleLR(
            optimizer, max_lr=lr, epochs=epochs, steps_per_epoch=steps_per_epoch
        )
    else:
        plateau = torch.optim.lr_scheduler.ReduceLROnPlateau(
            optimizer, factor=config.plateau_factor, patience=config.plateau_patience
        )
    amp = config.amp and on_cuda
    scaler = torch.amp.GradScaler("cuda") if amp and not torch.cuda.is_bf16_supported() else None
    generator = torch.Generator(device=device)
    generator.manual_seed(config.seed)
    ema = ema_create(model, config.ema_decay) if config.ema_decay else None
    # The model that is validated, early-stopped on and saved.
    kept = ema.module if ema is not None else model

    output_dir = Path(config.output_dir)
    output_dir.mkdir(parents=True, exist_ok=True)
    (output_dir / "config.json").write_text(json.dumps(config.to_dict(), indent=1))
    data_info = {
        "train": train_set.name,
        "train_size": len(train_set),
        "validation": validation_set.name,
        "validation_size": len(validation_set),
        "split_seed": config.seed,
        "hashes": {**train_set.hashes, **validation_set.hashes},
    }
    if config.negatives_fraction > 0:
        data_info["negatives"] = {
            "generator": "ml.negatives",
            "mode": config.negatives_mode,
            "fraction_of_batch": config.negatives_fraction,
            "train_per_epoch": per_batch * steps_per_epoch,
            "train_seeds": f"split seed train, seed {config.seed} * 1000 + epoch",
            "validation_size": len(validation_negatives),
            "fonts_missing": fonts_missing(),
        }
        if lookalikes is not None:
            data_info["negatives"]["lookalikes_dropped"] = lookalikes.describe()
    if config.renormalized_share > 0:
        data_info["renormalized_share"] = config.renormalized_share
    if teacher is not None:
        data_info["distillation"] = {
            **teacher.describe(),
            "weight": config.distill_weight,
            "temperature": config.distill_temperature,
        }
    if config.init_checkpoint:
        data_info["init_checkpoint"] = config.init_checkpoint
    hardware = hardware_describe(device)
    classes = [*DIGIT_CLASSES, REJECT_CLASS][: config.num_classes]
    rows: list[dict[str, Any]] = []
    best_loss, best_epoch, best_acc, stale = math.inf, 0, 0.0, 0
    best_path, last_path = output_dir / "best.pt", output_dir / "last.pt"
    for epoch in range(1, epochs + 1):
        epoch_start = time.perf_counter()
        bar = ProgressBar(steps_per_epoch, f"epoch {epoch}/{epochs}")
        negatives = None
        if config.negatives_fraction > 0:
            negatives = _epoch_negatives(
                train_set, per_batch * steps_per_epoch, config, epoch, lookalikes
            )
            negatives = negatives.to(device)
        epoch_x = train_x
        if renormalized is not None:
            # A fresh draw each epoch of which digits are shown re-scanned.
            chosen = torch.rand(len(train_x), generator=generator, device=device)
            chosen = chosen < config.renormalized_share
            epoch_x = torch.where(chosen.view(-1, 1, 1, 1), renormalized, train_x)
        train_stats = train_one_epoch(
            model,
            epoch_x,
            train_y,
            optimizer=optimizer,
            batch_size=batch_size,
            generator=generator,
            augment=config.augment,
            scheduler=batch_scheduler,
            scaler=scaler,
            amp=amp,
            label_smoothing=config.label_smoothing,
            max_batches=max_batches,
            progress=bar,
            negatives=negatives,
            negatives_mode=config.negatives_mode,
            oe_weight=config.oe_weight,
            ema=ema,
            teacher=teacher,
            distill_weight=config.distill_weight,
            distill_temperature=config.distill_temperature,
        )
        val_stats, negative_stats = _validate(kept, val_x, val_y, validation_negatives, config, amp)
        # The live weights, scored the same way, show what the average adds.
        live_stats = (
            _validate(model, val_x, val_y, validation_negatives, config, amp)[0]
            if ema is not None
            else None
        )
        if plateau is not None:
            plateau.step(val_stats.loss)
        row = {
            "epoch": epoch,
            "lr": optimizer.param_groups[0]["lr"],
            "train_loss": round(train_stats.loss, 6),
            "train_accuracy": round(train_stats.accuracy, 6),
            "val_loss": round(val_stats.loss, 6),
            "val_accuracy": round(val_stats.accuracy, 6),
            **(
                {
                    "val_negatives_loss": round(negative_stats.loss, 6),
                    "val_negatives_rejected": round(negative_stats.accuracy, 6),
                }
                if negative_stats is not None
                else {}
            ),
            **(
                {
                    "live_val_loss": round(live_stats.loss, 6),
                    "live_val_accuracy": round(live_stats.accuracy, 6),
                }
                if live_stats is not None
                else {}
            ),
            "seconds": round(time.perf_counter() - epoch_start, 2),
        }
        rows.append(row)
        _log_write(output_dir, rows)
        rejected = (
            f" neg rejected {negative_stats.accuracy:.2%}" if negative_stats is not None else ""
        )
        bar.close(
            f"train loss {train_stats.loss:.4f} acc {train_stats.accuracy:.4%} | "
            f"val loss {val_stats.loss:.4f} acc {val_stats.accuracy:.4%}{rejected} | "
            f"{row['seconds']:.0f}s"
        )
        metadata = {
            "config": config.to_dict(),
            "data": data_info,
            "epoch": epoch,
            "metrics": {
                "validation_loss": val_stats.loss,
                "validation_accuracy": val_stats.accuracy,
            },
            "parameters": params,
            "macs_per_digit": macs,
            "hardware": hardware,
            "train_seconds": round(time.perf_counter() - started, 1),
        }
        checkpoint_save(
            last_path,
            kept,
            architecture=config.architecture,
            args=model_args,
            metadata=metadata,
            classes=classes,
        )
        if val_stats.loss < best_loss:
            best_loss, best_epoch, best_acc, stale = val_stats.loss, epoch, val_stats.accuracy, 0
            checkpoint_save(
                best_path,
                kept,
                architecture=config.architecture,
                args=model_args,
                metadata=metadata,
                classes=classes,
            )
        else:
            stale += 1
            if stale >= config.early_stopping_patience:
                logger.info("early stop: validation loss flat for %d epochs", stale)
                break
    return TrainResult(
        output_dir=output_dir,
        best_checkpoint=best_path,
        best_epoch=best_epoch,
        best_validation_loss=best_loss,
        best_validation_accuracy=best_acc,
        epochs_run=len(rows),
        seconds=round(time.perf_counter() - started, 1),
    )
