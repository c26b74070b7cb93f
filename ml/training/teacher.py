"""Knowledge distillation: digit models teach a student that learns more tasks.

Each task added to the digit model (a "not a digit" class, re-scanned and blurred digits) cost
accuracy on plain digits: the 10-class ``digits-cnn-v1`` reads 99.74% of MNIST test, the
11-class models 99.54-99.64%. A teacher that only ever learnt digits gives, for every augmented
training digit, a whole distribution over the ten digits (a 7 that is a little like a 1), which
carries more than the hard label. The student learns from both (Hinton et al., 2015,
"Distilling the knowledge in a neural network"): on digits the loss is

    (1 - weight) * CE(student, label) + weight * T^2 * KL(teacher_T || student_T)

where ``_T`` is the softmax at temperature ``T``. The teacher puts no mass on the reject class,
so the KL term also pushes the student's "not a digit" down on digits. Negatives keep their own
loss: a digit reader has nothing to teach about them.

Several teachers read together as an ensemble: the mean of their log-probabilities over the ten
digits (a normalized geometric mean). A teacher with a reject class teaches only its digit
readings, the reject column dropped, so a model that saw blurred and re-scanned digits (v4) can
teach beside one that learnt digits alone (v1).
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import torch
import torch.nn.functional as F

from ml.errors import MLError

DIGIT_CLASS_COUNT = 10


class Teacher:
    """Digit logits ``[N, 10]`` of one or more digit models on the student's (augmented) inputs.

    Each path is an ONNX model (run by ONNX Runtime, CUDA provider when the student trains on
    CUDA) or a training checkpoint (run by torch on ``device``), with 10 digit outputs and
    optionally the reject class as an 11th, which is dropped. One teacher gives its own digit
    logits; several give the mean of their log-softmax over the digits. Teachers never train.
    """

    def __init__(
        self,
        paths: str | Path | Sequence[str | Path],
        device: torch.device,
        *,
        threads: int | None = None,
    ) -> None:
        if isinstance(paths, str | Path):
            paths = [paths]
        self.paths = [Path(path) for path in paths]
        if not self.paths:
            raise MLError("distillation needs at least one teacher")
        self._members = [_member_load(path, device, threads) for path in self.paths]

    @torch.no_grad()
    def logits(self, images: torch.Tensor) -> torch.Tensor:
        """Float32 logits ``[N, 10]`` on ``images``' device for float ``[N,1,28,28]`` in 0..1."""
        readings = [member(images)[:, :DIGIT_CLASS_COUNT] for member in self._members]
        if len(readings) == 1:
            return readings[0]
        return torch.stack([F.log_softmax(r, dim=1) for r in readings]).mean(0)

    def describe(self) -> dict[str, Any]:
        """Plain data for checkpoints and model cards: which files taught, by their sha256."""
        described = [
            {"teacher": path.name, "teacher_sha256": hashlib.sha256(path.read_bytes()).hexdigest()}
            for path in self.paths
        ]
        if len(described) == 1:
            return described[0]
        return {"teachers": described, "ensemble": "mean log-probability over the ten digits"}


def _member_load(
    path: Path, device: torch.device, threads: int | None
) -> Callable[[torch.Tensor], torch.Tensor]:
    """A function from images to the float32 logits ``[N, 10 or 11]`` of one teacher model."""
    if not path.is_file():
        raise MLError(f"distillation teacher not found: {path}")
    if path.suffix == ".onnx":
        from ml.infer.digits import DigitRecognizer
        from ml.infer.session import providers_choose

        # Between its runs torch trains on the same cores: idle threads must not spin.
        reader = DigitRecognizer(
            path, providers=providers_choose(device.type == "cuda"), threads=threads, spin=False
        )

        def run(images: torch.Tensor) -> torch.Tensor:
            logits = reader.logits(images.detach().float().cpu().numpy())
            return torch.from_numpy(logits).to(images.device)

    else:
        from ml.checkpoint import checkpoint_load

        model, _ = checkpoint_load(path)
        model = model.to(device).eval()

        def run(images: torch.Tensor) -> torch.Tensor:
            return model(images.float()).float()

    with torch.no_grad():
        classes = run(torch.zeros(1, 1, 28, 28, device=device)).shape[1]
    if classes not in (DIGIT_CLASS_COUNT, DIGIT_CLASS_COUNT + 1):
        raise MLError(
            f"a distillation teacher must be a digit model with 10 outputs (11 with the reject "
            f"class); {path.name} has {classes}"
        )
    return run


def distillation_loss(
    student_logits: torch.Tensor, teacher_logits: torch.Tensor, temperature: float
) -> torch.Tensor:
    """``T^2 * KL(teacher_T || student_T)``, the batch mean, for student logits ``[N, C]``
    (``C >= 10``) and teacher logits ``[N, 10]``.

    Classes the teacher lacks (the reject class) get zero teacher mass. The ``T^2`` keeps the
    gradient's size independent of ``T``, as in Hinton et al.
    """
    if student_logits.shape[0] == 0:
        return student_logits.sum() * 0
    extra = student_logits.shape[1] - teacher_logits.shape[1]
    if extra < 0:
        raise ValueError("the student has fewer classes than the teacher")
    target = F.softmax(teacher_logits.float() / temperature, dim=1)
    target = F.pad(target, (0, extra))
    log_student = F.log_softmax(student_logits.float() / temperature, dim=1)
    return F.kl_div(log_student, target, reduction="batchmean") * temperature**2
