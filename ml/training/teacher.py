"""Knowledge distillation: a 10-class digit model teaches a student that learns more tasks.

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
"""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Any

import torch
import torch.nn.functional as F

from ml.errors import MLError

DIGIT_CLASS_COUNT = 10


class Teacher:
    """Logits ``[N, 10]`` of a 10-class digit model on the student's own (augmented) inputs.

    ``path`` is an ONNX model (run by ONNX Runtime, CUDA provider when the student trains on
    CUDA) or a training checkpoint (run by torch on ``device``). The teacher never trains.
    """

    def __init__(
        self, path: str | Path, device: torch.device, *, threads: int | None = None
    ) -> None:
        self.path = Path(path)
        if not self.path.is_file():
            raise MLError(f"distillation teacher not found: {self.path}")
        self._reader = None
        self._model = None
        if self.path.suffix == ".onnx":
            from ml.infer.digits import DigitRecognizer
            from ml.infer.session import providers_choose

            # Between its runs torch trains on the same cores: idle threads must not spin.
            self._reader = DigitRecognizer(
                self.path,
                providers=providers_choose(device.type == "cuda"),
                threads=threads,
                spin=False,
            )
            classes = 11 if self._reader.has_reject_class else DIGIT_CLASS_COUNT
        else:
            from ml.checkpoint import checkpoint_load

            model, _ = checkpoint_load(self.path)
            self._model = model.to(device).eval()
            classes = self.logits(torch.zeros(1, 1, 28, 28, device=device)).shape[1]
        if classes != DIGIT_CLASS_COUNT:
            raise MLError(
                f"the distillation teacher must be a 10-class digit model; {self.path.name} has "
                f"{classes} outputs"
            )

    @torch.no_grad()
    def logits(self, images: torch.Tensor) -> torch.Tensor:
        """Float32 logits ``[N, 10]`` on ``images``' device for float ``[N,1,28,28]`` in 0..1."""
        if self._model is not None:
            return self._model(images.float()).float()
        logits = self._reader.logits(images.detach().float().cpu().numpy())
        return torch.from_numpy(logits).to(images.device)

    def describe(self) -> dict[str, Any]:
        """Plain data for checkpoints and model cards: which file taught, by its sha256."""
        return {
            "teacher": self.path.name,
            "teacher_sha256": hashlib.sha256(self.path.read_bytes()).hexdigest(),
        }


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
