"""One epoch of training and one pass of evaluation; no I/O beyond the progress bar."""

from __future__ import annotations

import contextlib
from dataclasses import dataclass

import torch
import torch.nn as nn
import torch.nn.functional as F

from ml.augment import AugmentConfig, augment_batch
from ml.training.progress import ProgressBar
from ml.training.teacher import Teacher, distillation_loss


@dataclass(frozen=True)
class EpochStats:
    """Mean loss and accuracy (0..1) over the digits seen."""

    loss: float
    accuracy: float


def _autocast(device: torch.device, amp: bool):
    if amp and device.type == "cuda":
        # bfloat16 where supported needs no loss scaling; float16 goes with the GradScaler.
        dtype = torch.bfloat16 if torch.cuda.is_bf16_supported() else torch.float16
        return torch.autocast("cuda", dtype=dtype)
    return contextlib.nullcontext()


def train_one_epoch(
    model: nn.Module,
    images: torch.Tensor,
    labels: torch.Tensor,
    *,
    optimizer: torch.optim.Optimizer,
    batch_size: int,
    generator: torch.Generator,
    augment: AugmentConfig | None,
    scheduler: torch.optim.lr_scheduler.LRScheduler | None = None,
    scaler: torch.amp.GradScaler | None = None,
    amp: bool = False,
    label_smoothing: float = 0.0,
    max_batches: int | None = None,
    progress: ProgressBar | None = None,
    negatives: torch.Tensor | None = None,
    negatives_mode: str = "reject_class",
    oe_weight: float = 0.5,
    ema: torch.optim.swa_utils.AveragedModel | None = None,
    teacher: Teacher | None = None,
    distill_weight: float = 0.5,
    distill_temperature: float = 3.0,
) -> EpochStats:
    """Train for one pass over ``images`` float ``[N,1,28,28]`` 0..1 and ``labels`` int64 ``[N]``.

    Both tensors live on the training device; batches are shuffled with ``generator`` and
    augmented there. ``scheduler`` (if given) steps once per batch, as one-cycle needs.
    ``negatives`` float ``[M,1,28,28]`` are split evenly over the batches and augmented with
    them; see :func:`negatives_loss` for how they count. Loss and accuracy are of the digits.
    ``ema`` (if given) folds the weights into their running average after every step.
    ``teacher`` (if given) reads the same augmented digits, and the digits' loss blends the
    cross-entropy with :func:`~ml.training.teacher.distillation_loss` by ``distill_weight``.
    """
    model.train()
    device = images.device
    order = torch.randperm(images.shape[0], generator=generator, device=device)
    batches = order.split(batch_size)
    if max_batches is not None:
        batches = batches[:max_batches]
    negative_batches: list[torch.Tensor | None] = [None] * len(batches)
    if negatives is not None and len(negatives):
        negative_batches = list(negatives.tensor_split(len(batches)))
    total_loss = torch.zeros((), device=device)
    total_correct = torch.zeros((), device=device, dtype=torch.long)
    seen = 0
    for step, index in enumerate(batches, start=1):
        x, y = images[index], labels[index]
        negative = negative_batches[step - 1]
        if negative is not None:
            x = torch.cat([x, negative])
        if augment is not None:
            x = augment_batch(x, augment, generator)
        with _autocast(device, amp):
            all_logits = model(x).float()
            logits = all_logits[: y.shape[0]]
            loss = F.cross_entropy(logits, y, label_smoothing=label_smoothing)
            if teacher is not None:
                taught = teacher.logits(x[: y.shape[0]])
                loss = (1 - distill_weight) * loss + distill_weight * distillation_loss(
                    logits, taught, distill_temperature
                )
            if negative is not None:
                # Weighted by the negatives' share of the batch, as one mean over all of it.
                share = negative.shape[0] / x.shape[0]
                loss = (1 - share) * loss + share * negatives_loss(
                    all_logits[y.shape[0] :], negatives_mode, oe_weight
                )
        optimizer.zero_grad(set_to_none=True)
        if scaler is not None:
            scaler.scale(loss).backward()
            scaler.step(optimizer)
            scaler.update()
        else:
            loss.backward()
            optimizer.step()
        if scheduler is not None:
            scheduler.step()
        if ema is not None:
            ema.update_parameters(model)
        total_loss += loss.detach() * y.shape[0]
        total_correct += (logits.detach().argmax(1) == y).sum()
        seen += y.shape[0]
        # Reading the loss syncs the device, so only pay for it when a bar is drawn.
        if progress is not None and progress.interactive:
            progress.update(step, loss=float(total_loss) / seen)
    return EpochStats(float(total_loss) / max(seen, 1), float(total_correct) / max(seen, 1))


def ema_create(model: nn.Module, decay: float) -> torch.optim.swa_utils.AveragedModel:
    """An exponential moving average of ``model``'s weights and BatchNorm statistics.

    After each step the average moves ``1 - decay`` of the way to the live weights, so it
    smooths the last ``1 / (1 - decay)`` steps of noise out of the weights. The average is the
    model that is validated and saved; the live weights only drive the optimizer.
    """
    if not 0.0 < decay < 1.0:
        raise ValueError(f"EMA decay must be in (0, 1), got {decay}")
    return torch.optim.swa_utils.AveragedModel(
        model, multi_avg_fn=torch.optim.swa_utils.get_ema_multi_avg_fn(decay), use_buffers=True
    )


def negatives_loss(logits: torch.Tensor, mode: str, oe_weight: float = 0.5) -> torch.Tensor:
    """The loss on negatives' logits ``[M, C]``.

    ``reject_class``: cross-entropy towards the last class (class 10, "not a digit").
    ``outlier_exposure``: ``oe_weight`` times the cross-entropy to the uniform distribution over
    the classes, which flattens the softmax on what is not a digit.
    """
    if logits.shape[0] == 0:
        return logits.sum() * 0
    if mode == "reject_class":
        target = torch.full((logits.shape[0],), logits.shape[1] - 1, device=logits.device)
        return F.cross_entropy(logits, target)
    return oe_weight * -F.log_softmax(logits, dim=1).mean(dim=1).mean()


@torch.no_grad()
def predict_logits(
    model: nn.Module, images: torch.Tensor, *, batch_size: int = 1024, amp: bool = False
) -> torch.Tensor:
    """Logits float32 ``[N, C]`` (on the images' device) for ``images`` ``[N,1,28,28]`` 0..1."""
    model.eval()
    outputs = []
    for chunk in images.split(batch_size):
        with _autocast(images.device, amp):
            outputs.append(model(chunk).float())
    if not outputs:
        return torch.zeros(0, 10, device=images.device)
    return torch.cat(outputs)


def evaluate(
    model: nn.Module, images: torch.Tensor, labels: torch.Tensor, *, amp: bool = False
) -> EpochStats:
    """Mean cross-entropy and accuracy of ``model`` on a labelled set, without augmentation."""
    logits = predict_logits(model, images, amp=amp)
    loss = F.cross_entropy(logits, labels).item()
    accuracy = (logits.argmax(1) == labels).float().mean().item()
    return EpochStats(loss, accuracy)


def evaluate_negatives(
    model: nn.Module, negatives: torch.Tensor, *, mode: str, amp: bool = False
) -> EpochStats:
    """Mean :func:`negatives_loss` and the share of ``negatives`` the model rejects.

    Rejected means argmax = the reject class for ``reject_class``; for ``outlier_exposure`` it
    is a softmax maximum below 0.5 (only a progress figure: the report picks real thresholds).
    """
    logits = predict_logits(model, negatives, amp=amp)
    loss = negatives_loss(logits, mode).item()
    if mode == "reject_class":
        rejected = (logits.argmax(1) == logits.shape[1] - 1).float().mean().item()
    else:
        rejected = (logits.softmax(1).amax(1) < 0.5).float().mean().item()
    return EpochStats(loss, rejected)
