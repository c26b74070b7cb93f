"""Knowledge distillation: digit models, one or an ensemble, teach an 11-class student."""

from __future__ import annotations

import hashlib
import math
from pathlib import Path

import numpy as np
import pytest
import torch

from ml.checkpoint import checkpoint_load, checkpoint_save
from ml.data.mnist import DigitSet
from ml.errors import MLError
from ml.infer import DigitRecognizer
from ml.models import create_model
from ml.training import TrainConfig, train_digits
from ml.training.loop import train_one_epoch
from ml.training.teacher import Teacher, distillation_loss

WEIGHTS = Path(__file__).resolve().parents[2] / "ml/weights/digits"
V1 = WEIGHTS / "digits-cnn-v1.onnx"
V4 = WEIGHTS / "digits-cnn-v4.onnx"


def test_the_loss_is_the_temperature_scaled_kl_divergence_computed_by_hand():
    student = torch.tensor([[2.0, 0.0, -1.0]])
    teacher = torch.tensor([[1.0, 1.0]])  # two classes: the student has one more (reject)
    t = 2.0

    p = [0.5, 0.5, 0.0]
    exp = [math.exp(v / t) for v in (2.0, 0.0, -1.0)]
    q = [e / sum(exp) for e in exp]
    by_hand = t * t * sum(pi * math.log(pi / qi) for pi, qi in zip(p, q, strict=True) if pi)

    assert distillation_loss(student, teacher, t).item() == pytest.approx(by_hand, rel=1e-6)


def test_the_loss_vanishes_when_the_student_agrees_and_puts_nothing_on_reject():
    teacher = torch.tensor([[3.0, -1.0, 0.5], [0.0, 2.0, 1.0]])
    agreeing = torch.cat([teacher, torch.full((2, 1), -1e4)], dim=1)

    assert distillation_loss(agreeing, teacher, 3.0).item() == pytest.approx(0.0, abs=1e-6)
    assert distillation_loss(agreeing[:, [1, 0, 2, 3]], teacher, 3.0).item() > 0.1


def test_the_loss_pushes_the_students_reject_class_down_on_digits():
    student = torch.zeros(1, 11, requires_grad=True)
    distillation_loss(student, torch.zeros(1, 10), 3.0).backward()

    # Gradient descent moves against the gradient: the reject logit (last) goes down.
    assert student.grad[0, 10] > 0
    assert (student.grad[0, :10] < 0).all()


def test_the_onnx_teacher_reads_digits_as_the_recognizer_does(mnist_300):
    images = torch.from_numpy(mnist_300[0][:32]).float().div(255).unsqueeze(1)

    teacher = Teacher(V1, torch.device("cpu"), threads=1)

    expected = DigitRecognizer(V1, threads=1).logits(images.numpy())
    np.testing.assert_allclose(teacher.logits(images).numpy(), expected, atol=1e-5)
    assert teacher.describe()["teacher_sha256"] == hashlib.sha256(V1.read_bytes()).hexdigest()


def _one_epoch_run(mnist_300, output_dir: Path, **overrides) -> Path:
    """The best checkpoint of one LeNet-5 epoch on 128 fixture digits."""
    images, labels = mnist_300
    config = TrainConfig(
        output_dir=str(output_dir), architecture="lenet5", epochs=1, batch_size=32,
        num_threads=1, **overrides,
    )  # fmt: skip
    result = train_digits(
        config,
        train_set=DigitSet(images[:128], labels[:128], "fixture:train"),
        validation_set=DigitSet(images[128:192], labels[128:192], "fixture:validation"),
    )
    return result.best_checkpoint


def test_a_checkpoint_teacher_runs_in_torch(tmp_path, mnist_300):
    checkpoint = _one_epoch_run(mnist_300, tmp_path)
    model, _ = checkpoint_load(checkpoint)
    x = torch.from_numpy(mnist_300[0][:8]).float().div(255).unsqueeze(1)

    taught = Teacher(checkpoint, torch.device("cpu")).logits(x)

    torch.testing.assert_close(taught, model.eval()(x))


def test_a_teacher_with_a_reject_class_teaches_its_digit_logits_only():
    images = torch.from_numpy(np.random.default_rng(1).random((6, 1, 28, 28), np.float32))

    taught = Teacher(V4, torch.device("cpu"), threads=1).logits(images)

    expected = DigitRecognizer(V4, threads=1).logits(images.numpy())[:, :10]
    np.testing.assert_allclose(taught.numpy(), expected, atol=1e-5)


def test_several_teachers_read_as_the_mean_of_their_digit_log_probabilities():
    images = torch.from_numpy(np.random.default_rng(2).random((6, 1, 28, 28), np.float32))
    v1 = torch.from_numpy(DigitRecognizer(V1, threads=1).logits(images.numpy()))
    v4 = torch.from_numpy(DigitRecognizer(V4, threads=1).logits(images.numpy())[:, :10])

    ensemble = Teacher([V1, V4], torch.device("cpu"), threads=1)

    expected = (v1.log_softmax(1) + v4.log_softmax(1)) / 2
    torch.testing.assert_close(ensemble.logits(images), expected, atol=1e-5, rtol=0)
    described = ensemble.describe()["teachers"]
    assert [d["teacher"] for d in described] == ["digits-cnn-v1.onnx", "digits-cnn-v4.onnx"]
    assert described[1]["teacher_sha256"] == hashlib.sha256(V4.read_bytes()).hexdigest()


def test_a_teacher_that_is_not_a_digit_model_is_refused(tmp_path):
    not_digits = checkpoint_save(
        tmp_path / "twelve.pt", create_model("lenet5", num_classes=12),
        architecture="lenet5", args={"num_classes": 12}, classes=[str(i) for i in range(12)],
    )  # fmt: skip
    with pytest.raises(
        MLError, match=r"10 outputs \(11 with the reject class\); twelve\.pt has 12"
    ):
        Teacher(not_digits, torch.device("cpu"))
    with pytest.raises(MLError, match="not found"):
        Teacher([V1, tmp_path / "missing.onnx"], torch.device("cpu"))
    with pytest.raises(MLError, match="at least one"):
        Teacher([], torch.device("cpu"))


def test_bad_distillation_settings_are_refused():
    with pytest.raises(ValueError, match="distill_weight"):
        TrainConfig(distill_weight=1.5)
    with pytest.raises(ValueError, match="distill_temperature"):
        TrainConfig(distill_temperature=0)


def test_one_teacher_path_is_a_one_teacher_ensemble_in_the_config():
    assert TrainConfig(distill_from="a.onnx").distill_from == ("a.onnx",)
    assert TrainConfig(distill_from=["a.onnx", "b.pt"]).distill_from == ("a.onnx", "b.pt")
    assert TrainConfig().distill_from == ()


def test_a_student_taught_by_the_teacher_alone_moves_towards_its_readings(mnist_300):
    torch.manual_seed(0)
    images = torch.from_numpy(mnist_300[0][:96]).float().div(255).unsqueeze(1)
    teacher = Teacher(V1, torch.device("cpu"), threads=1)
    # Labels that are all wrong: with weight 1 only the teacher's readings count.
    wrong = (torch.from_numpy(mnist_300[1][:96]) + 1) % 10
    student = create_model("lenet5", num_classes=11)
    optimizer = torch.optim.AdamW(student.parameters(), lr=3e-3)

    def gap() -> float:
        student.eval()
        with torch.no_grad():
            return distillation_loss(student(images), teacher.logits(images), 3.0).item()

    before = gap()
    for _ in range(15):
        train_one_epoch(
            student, images, wrong, optimizer=optimizer, batch_size=32,
            generator=torch.Generator().manual_seed(0), augment=None, teacher=teacher,
            distill_weight=1.0,
        )  # fmt: skip

    assert gap() < before * 0.5
    student.eval()
    with torch.no_grad():
        read = student(images).argmax(1)
    assert (read == torch.from_numpy(mnist_300[1][:96])).float().mean() > 0.8


def test_a_distilled_run_records_its_teacher_in_the_checkpoint(mnist_300, tmp_path):
    checkpoint = _one_epoch_run(
        mnist_300, tmp_path, distill_from=str(V1), distill_weight=0.7, distill_temperature=2.0
    )

    _, payload = checkpoint_load(checkpoint)
    recorded = payload["data"]["distillation"]
    assert recorded["teacher"] == "digits-cnn-v1.onnx"
    assert recorded["teacher_sha256"] == hashlib.sha256(V1.read_bytes()).hexdigest()
    assert (recorded["weight"], recorded["temperature"]) == (0.7, 2.0)


def test_a_missing_teacher_fails_before_the_data_is_read(tmp_path):
    config = TrainConfig(
        data_dir=str(tmp_path / "no-data"), output_dir=str(tmp_path / "run"),
        distill_from=str(tmp_path / "missing.onnx"),
    )  # fmt: skip

    with pytest.raises(MLError, match="teacher not found"):
        train_digits(config)
