"""The one configuration dataclass of a digit training run."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from typing import Any

from ml.augment import AugmentConfig

NEGATIVE_MODES = ("reject_class", "outlier_exposure")


@dataclass(frozen=True)
class TrainConfig:
    """Everything that determines a training run; saved into every checkpoint and log.

    ``batch_size`` applies on the CPU; on CUDA ``cuda_batch_size`` is used with the learning
    rate scaled linearly. ``schedule`` is ``onecycle`` (per-batch one-cycle, ``lr`` is the peak)
    or ``plateau`` (``lr`` halves when the validation loss stops falling). Early stopping
    watches the validation loss under both.
    """

    data_dir: str | None = None
    output_dir: str = "var/runs/digits"
    architecture: str = "digit_cnn"
    model_args: dict[str, Any] = field(default_factory=dict)
    epochs: int = 24
    batch_size: int = 128
    cuda_batch_size: int = 512
    optimizer: str = "adamw"
    lr: float = 3e-3
    weight_decay: float = 1e-2
    momentum: float = 0.9
    schedule: str = "onecycle"
    label_smoothing: float = 0.0
    validation_size: int = 5000
    seed: int = 0
    early_stopping_patience: int = 6
    plateau_patience: int = 2
    plateau_factor: float = 0.5
    augment: AugmentConfig = field(default_factory=AugmentConfig)
    train_limit: int | None = None
    device: str = "auto"
    amp: bool = True
    num_threads: int | None = None
    dry_run: bool = False
    negatives_fraction: float = 0.0
    negatives_mode: str = "reject_class"
    oe_weight: float = 0.5
    validation_negatives: int = 3000
    renormalized_share: float = 0.0
    # Drop train and validation negatives that digits-cnn-v1 reads as a digit with at least
    # this probability (ml.negatives.lookalike); 0 keeps every negative.
    negatives_lookalike_threshold: float = 0.0
    init_checkpoint: str | None = None
    # Validate and save an exponential moving average of the weights (decay per step); 0 = off.
    ema_decay: float = 0.0
    # Knowledge distillation from digit models (ml.training.teacher); several read as an
    # ensemble. Empty = off.
    distill_from: tuple[str, ...] = ()
    distill_weight: float = 0.5
    distill_temperature: float = 3.0

    def __post_init__(self) -> None:
        if self.optimizer not in {"adamw", "sgd"}:
            raise ValueError(f"optimizer must be adamw or sgd, got {self.optimizer!r}")
        if self.schedule not in {"onecycle", "plateau"}:
            raise ValueError(f"schedule must be onecycle or plateau, got {self.schedule!r}")
        if self.epochs < 1 or self.batch_size < 1:
            raise ValueError("epochs and batch_size must be positive")
        if self.negatives_mode not in NEGATIVE_MODES:
            raise ValueError(
                f"negatives_mode must be one of {NEGATIVE_MODES}, got {self.negatives_mode!r}"
            )
        if not 0.0 <= self.negatives_fraction < 1.0:
            raise ValueError("negatives_fraction must be in [0, 1)")
        if not 0.0 <= self.ema_decay < 1.0:
            raise ValueError("ema_decay must be in [0, 1)")
        if not 0.0 <= self.distill_weight <= 1.0:
            raise ValueError("distill_weight must be in [0, 1]")
        if self.distill_temperature <= 0:
            raise ValueError("distill_temperature must be positive")
        # One path (as older configs and callers give it) is a one-teacher tuple.
        teachers = (self.distill_from,) if isinstance(self.distill_from, str) else self.distill_from
        object.__setattr__(self, "distill_from", tuple(teachers or ()))

    @property
    def num_classes(self) -> int:
        """11 when the model learns a "not a digit" class, else 10."""
        rejecting = self.negatives_fraction > 0 and self.negatives_mode == "reject_class"
        return 11 if rejecting else 10

    def to_dict(self) -> dict[str, Any]:
        """Plain-data form (JSON-serializable) for logs and checkpoints."""
        return dataclasses.asdict(self)
