"""One epoch of training and one pass of evaluation; no I/O beyond the progress bar."""

from __future__ import annotations

import contextlib
from dataclasses import dataclass

import torch
import torch.nn as nn
import torch.nn.functional as F

from ml.augment import AugmentConfig, augment_batch
from ml.training.progress import ProgressBar


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
) -> EpochStats:
    """Train for one pass over ``images`` float ``[N,1,28,28]`` 0..1 and ``labels`` int64 ``[N]``.

    Both tensors live on the training device; batches are shuffled with ``generator`` and
    augmented there. ``scheduler`` (if given) steps once per batch, as one-cycle needs.
    """
    model.train()
    device = images.device
    order = torch.randperm(images.shape[0], generator=generator, device=device)
    batches = order.split(batch_size)
    if max_batches is not None:
        batches = batches[:max_batches]
    total_loss = torch.zeros((), device=device)
    total_correct = torch.zeros((), device=device, dtype=torch.long)
    seen = 0
    for step, index in enumerate(batches, start=1):
        x, y = images[index], labels[index]
        if augment is not None:
            x = augment_batch(x, augment, generator)
        with _autocast(device, amp):
            logits = model(x)
            loss = F.cross_entropy(logits.float(), y, label_smoothing=label_smoothing)
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
        total_loss += loss.detach() * y.shape[0]
        total_correct += (logits.detach().argmax(1) == y).sum()
        seen += y.shape[0]
        # Reading the loss syncs the device, so only pay for it when a bar is drawn.
        if progress is not None and progress.interactive:
            progress.update(step, loss=float(total_loss) / seen)
    return EpochStats(float(total_loss) / max(seen, 1), float(total_correct) / max(seen, 1))


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
