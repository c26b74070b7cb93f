"""Continuous learning: samples from reviews, a tiny retraining run, the gate, promotion,
rollback, cancel, the schedule, workers picking up the new version, and who may do it."""

from __future__ import annotations

import io
import json
import threading
import time
from datetime import timedelta
from pathlib import Path

import numpy as np
import pytest
import torch
from django.core.files.base import ContentFile
from django.utils import timezone
from rest_framework.test import APIClient

from ml.checkpoint import checkpoint_save
from ml.export import onnx_export
from ml.models import create_model
from recognition.errors import ConflictError
from recognition.inference import recognizers_active
from recognition.models import (
    DocumentStatus,
    FieldStatus,
    JobStatus,
    LearningSettings,
    ModelVersion,
    RetrainingJob,
    TrainingSample,
)
from recognition.roles import Role
from recognition.services import retraining
from recognition.services.model_versions import model_version_activate
from recognition.services.retraining import (
    gate_decide,
    retraining_cancel,
    retraining_due,
    retraining_reap_stuck,
    retraining_request,
    retraining_run,
)
from recognition.services.review import field_review
from recognition.services.samples import image_to_png, png_to_image, samples_from_field
from tests.factories import DocumentFactory, FieldFactory, PageFactory, UserFactory, api_for

DIGITS = Path(__file__).resolve().parent.parent / "ml" / "fixtures" / "mnist_test_300.npz"


@pytest.fixture
def mnist():
    with np.load(DIGITS) as stored:
        return stored["images"].astype(np.float32) / 255.0, stored["labels"].astype(np.int64)


@pytest.fixture
def base_version(db, tmp_path):
    """An active digit model with its training checkpoint beside the ONNX file."""
    torch.manual_seed(0)
    model = create_model("lenet5").eval()
    onnx_path = tmp_path / "base.onnx"
    onnx_export(model, onnx_path, example=torch.rand(4, 1, 28, 28))
    checkpoint_save(onnx_path.with_suffix(".pt"), model, architecture="lenet5", args={})
    version = ModelVersion.objects.create(
        kind="digits", version="base", onnx_path=str(onnx_path), accept_threshold=0.9
    )
    return model_version_activate(model_version=version)


def _samples(mnist, count: int, *, holdout: bool, start: int = 0):
    images, labels = mnist
    for i in range(start, start + count):
        data = image_to_png(images[i])
        sample = TrainingSample(
            kind="digits",
            label=str(labels[i]),
            sha256=f"{'h' if holdout else 't'}{i:063d}",
            is_holdout=holdout,
            corrected=i % 3 == 0,
        )
        sample.image.save("s.png", ContentFile(data), save=False)
        sample.save()


def test_a_reviewed_comb_field_becomes_labelled_samples_once(
    db, mnist, django_capture_on_commit_callbacks
):
    images, _ = mnist
    crops = io.BytesIO()
    np.savez_compressed(crops, f0=images[:3])
    document = DocumentFactory(status=DocumentStatus.NEEDS_REVIEW)
    page = PageFactory(document=document)
    page.crops.save("crops.npz", ContentFile(crops.getvalue()))
    field = FieldFactory(
        page=page,
        index=0,
        value="42",
        machine_value="42",
        status=FieldStatus.NEEDS_REVIEW,
        boxes=[{"bbox": [0, 0, 9, 9], "empty": False}, {"bbox": [9, 0, 9, 9], "empty": True},
               {"bbox": [18, 0, 9, 9], "empty": False}],
    )  # fmt: skip
    reviewer = UserFactory(roles=[Role.REVIEWER])

    with django_capture_on_commit_callbacks(execute=True):
        field_review(field_id=field.pk, reviewer=reviewer, revision=0, value="47")

    samples = list(TrainingSample.objects.order_by("label"))
    assert [(s.label, s.corrected) for s in samples] == [("4", False), ("7", True)]
    # The stored image is the normalized crop the model saw (the empty middle box is skipped).
    with samples[1].image.open("rb") as handle:
        stored = png_to_image(handle.read())
    assert np.abs(stored - images[2]).max() <= 1 / 255 + 1e-6
    assert samples_from_field(field_id=field.pk) == 0  # the same images are stored once


def test_a_tiny_retraining_run_registers_a_gated_candidate(base_version, mnist, monkeypatch):
    monkeypatch.delenv("HDR_DATA_DIR", raising=False)
    _samples(mnist, 60, holdout=False)
    _samples(mnist, 20, holdout=True, start=100)
    job = retraining_request(kind="digits")

    finished = retraining_run(job_id=job.pk, epochs=2)

    assert finished.status == JobStatus.SUCCEEDED, finished.error
    assert [row["epoch"] for row in finished.progress] == [1, 2]
    assert all(0 <= row["holdout_accuracy"] <= 1 for row in finished.progress)
    candidate = finished.candidate
    assert candidate.parent == base_version and not candidate.is_active
    assert (
        Path(candidate.onnx_path).exists() and Path(candidate.onnx_path).with_suffix(".pt").exists()
    )
    assert candidate.metrics["holdout"]["size"] == 20
    assert set(finished.gate) >= {"passed", "reasons", "candidate", "active", "promoted"}
    assert finished.gate["promoted"] is False  # auto promotion is off by default
    # Its confusion matrix and error-reject curve on the base test set are served to admins.
    report = candidate.card["report"]
    assert set(report["files"]) == {"confusion.png", "error_reject.png", "report.json"}
    admin = api_for(UserFactory(roles=[Role.ADMIN]))
    png = admin.get(f"/api/v1/models/{candidate.pk}/report/confusion.png")
    assert png.status_code == 200 and b"".join(png.streaming_content)[:4] == b"\x89PNG"
    figures = admin.get(f"/api/v1/models/{candidate.pk}/report/report.json")
    matrix = json.loads(b"".join(figures.streaming_content))["confusion_matrix"]
    assert sum(map(sum, matrix)) == 300
    assert admin.get(f"/api/v1/models/{candidate.pk}/report/secrets.txt").status_code == 404
    # The candidate is a working model file.
    from ml.infer import DigitRecognizer

    readings = DigitRecognizer(candidate.onnx_path).predict(mnist[0][:4])
    assert len(readings) == 4


def test_the_gate_promotes_only_a_candidate_that_is_not_worse():
    active = {"holdout": {"accuracy": 0.90}, "base_test": {"accuracy": 0.9900}}
    better = {"holdout": {"accuracy": 0.95}, "base_test": {"accuracy": 0.9897}}
    worse_holdout = {"holdout": {"accuracy": 0.85}, "base_test": {"accuracy": 0.9950}}
    worse_base = {"holdout": {"accuracy": 0.99}, "base_test": {"accuracy": 0.9890}}

    assert gate_decide(better, active)["passed"]
    refused = gate_decide(worse_holdout, active)
    assert not refused["passed"] and "worse on the correction holdout" in refused["reasons"][0]
    refused = gate_decide(worse_base, active)
    assert not refused["passed"] and "more than 0.05 points below" in refused["reasons"][1]


def test_promote_refuses_a_refused_candidate_and_rollback_restores_an_earlier_version(
    base_version,
):
    admin = UserFactory(roles=[Role.ADMIN])
    passed = ModelVersion.objects.create(
        kind="digits", version="good", onnx_path=base_version.onnx_path, parent=base_version,
        metrics={"gate": {"passed": True, "reasons": ["ok"]}},
    )  # fmt: skip
    refused = ModelVersion.objects.create(
        kind="digits", version="bad", onnx_path=base_version.onnx_path, parent=base_version,
        metrics={"gate": {"passed": False, "reasons": ["worse on the correction holdout"]}},
    )  # fmt: skip
    client = api_for(admin)

    answer = client.post(f"/api/v1/models/{refused.pk}/promote/")
    assert (
        answer.status_code == 400
        and "worse on the correction holdout" in answer.json()["error"]["message"]
    )
    assert client.post(f"/api/v1/models/{passed.pk}/promote/").json()["is_active"]
    assert ModelVersion.objects.get(is_active=True) == passed
    back = client.post(f"/api/v1/models/{base_version.pk}/rollback/")

    assert back.status_code == 200
    assert ModelVersion.objects.get(is_active=True) == base_version
    versions = client.get("/api/v1/models/").json()
    # The list holds the shipped models too; listing them leaves the admin's choice active.
    assert {"base", "good", "bad", "digits-cnn-v1"} <= {v["version"] for v in versions}
    assert [v["version"] for v in versions if v["is_active"]] == ["base"]


def test_a_process_loads_each_active_model_once(base_version):
    first = recognizers_active()
    second = recognizers_active()

    assert first.digits.recognizer is second.digits.recognizer
    assert first.strings.recognizer is second.strings.recognizer


def test_workers_switch_to_the_newly_active_version_without_a_restart(base_version, tmp_path):
    first = recognizers_active().digits
    other_path = tmp_path / "other.onnx"
    onnx_export(create_model("lenet5").eval(), other_path, example=torch.rand(2, 1, 28, 28))
    other = ModelVersion.objects.create(kind="digits", version="other", onnx_path=str(other_path))

    model_version_activate(model_version=other)
    second = recognizers_active().digits

    assert first.version == base_version and second.version == other
    assert second.recognizer is not first.recognizer
    assert str(second.recognizer.onnx_path) == str(other_path)


def test_a_job_requested_while_the_broker_is_down_is_kept_and_can_be_cancelled(
    base_version, mnist, broker, django_capture_on_commit_callbacks
):
    _samples(mnist, 10, holdout=False)
    broker.down = True

    with django_capture_on_commit_callbacks(execute=True):
        job = retraining_request(kind="digits")

    assert RetrainingJob.objects.get(pk=job.pk).status == JobStatus.QUEUED
    assert retraining_cancel(job_id=job.pk).status == JobStatus.CANCELLED
    broker.down = False
    with django_capture_on_commit_callbacks(execute=True):
        again = retraining_request(kind="digits")
    assert broker.sent == [("hdr.retrain", [str(again.pk)])]


def test_cancel_stops_a_queued_job_at_once_and_a_running_one_at_its_next_epoch(
    base_version, mnist, monkeypatch
):
    monkeypatch.delenv("HDR_DATA_DIR", raising=False)
    _samples(mnist, 10, holdout=False)
    queued = retraining_request(kind="digits")
    assert retraining_cancel(job_id=queued.pk).status == JobStatus.CANCELLED

    running = retraining_request(kind="digits")
    RetrainingJob.objects.filter(pk=running.pk).update(cancel_requested=True)
    finished = retraining_run(job_id=running.pk, epochs=3)

    assert finished.status == JobStatus.CANCELLED
    assert finished.candidate is None
    assert ModelVersion.objects.count() == 1


def test_a_running_job_whose_heartbeat_stopped_is_failed_and_no_longer_blocks_its_kind(
    base_version, mnist
):
    _samples(mnist, 10, holdout=False)
    dead = retraining_request(kind="digits")
    silent_since = timezone.now() - timedelta(minutes=40)
    RetrainingJob.objects.filter(pk=dead.pk).update(
        status=JobStatus.RUNNING, started_at=silent_since, heartbeat_at=silent_since
    )
    with pytest.raises(ConflictError, match="already running"):
        retraining_request(kind="digits")

    assert retraining_reap_stuck(stale_after=timedelta(minutes=30)) == {"failed": 1, "resent": 0}

    dead.refresh_from_db()
    assert dead.status == JobStatus.FAILED and dead.finished_at is not None
    assert "no heartbeat since" in dead.error and "request the job again" in dead.error
    assert retraining_request(kind="digits").status == JobStatus.QUEUED


def test_a_running_job_that_still_beats_is_left_running(base_version, mnist):
    _samples(mnist, 10, holdout=False)
    job = retraining_request(kind="digits")
    long_ago, just_now = timezone.now() - timedelta(hours=3), timezone.now()
    RetrainingJob.objects.filter(pk=job.pk).update(
        status=JobStatus.RUNNING, started_at=long_ago, heartbeat_at=just_now
    )

    assert retraining_reap_stuck(stale_after=timedelta(minutes=30)) == {"failed": 0, "resent": 0}
    assert RetrainingJob.objects.get(pk=job.pk).status == JobStatus.RUNNING


def test_a_queued_job_whose_message_was_lost_is_sent_again_once_per_wait(
    base_version, mnist, broker, django_capture_on_commit_callbacks
):
    _samples(mnist, 10, holdout=False)
    job = retraining_request(kind="digits")
    RetrainingJob.objects.filter(pk=job.pk).update(
        heartbeat_at=timezone.now() - timedelta(minutes=31)
    )
    broker.sent.clear()

    with django_capture_on_commit_callbacks(execute=True):
        first = retraining_reap_stuck(stale_after=timedelta(minutes=30))
        second = retraining_reap_stuck(stale_after=timedelta(minutes=30))

    assert first == {"failed": 0, "resent": 1} and second == {"failed": 0, "resent": 0}
    assert broker.sent == [("hdr.retrain", [str(job.pk)])]
    assert RetrainingJob.objects.get(pk=job.pk).status == JobStatus.QUEUED


@pytest.mark.django_db(transaction=True)
def test_the_heartbeat_beats_from_its_own_thread_while_the_run_works(base_version, mnist):
    _samples(mnist, 10, holdout=False)
    job = retraining_request(kind="digits")
    started = timezone.now() - timedelta(minutes=5)
    RetrainingJob.objects.filter(pk=job.pk).update(status=JobStatus.RUNNING, heartbeat_at=started)

    with retraining._heartbeat(job.pk, every_s=0.05):
        deadline = time.monotonic() + 10
        while RetrainingJob.objects.get(pk=job.pk).heartbeat_at == started:
            assert time.monotonic() < deadline, "no heartbeat within 10 s"
            time.sleep(0.02)

    assert RetrainingJob.objects.get(pk=job.pk).heartbeat_at > started
    assert not [t for t in threading.enumerate() if t.name == f"retrain-{job.pk}-heartbeat"]


def test_a_run_reaped_while_it_trained_stops_and_registers_nothing(
    base_version, mnist, monkeypatch
):
    monkeypatch.delenv("HDR_DATA_DIR", raising=False)
    _samples(mnist, 30, holdout=False)
    _samples(mnist, 10, holdout=True, start=100)
    job = retraining_request(kind="digits")
    save_progress = retraining._save_progress

    def reaped_after_the_first_epoch(job_id, row):
        save_progress(job_id, row)
        RetrainingJob.objects.filter(pk=job_id).update(status=JobStatus.FAILED, error="reaped")

    monkeypatch.setattr(retraining, "_save_progress", reaped_after_the_first_epoch)

    finished = retraining_run(job_id=job.pk, epochs=3)

    assert finished.status == JobStatus.FAILED and finished.error == "reaped"
    assert [row["epoch"] for row in finished.progress] == [1]  # it stopped at the next epoch
    assert finished.candidate is None and ModelVersion.objects.count() == 1


def test_a_run_reaped_after_its_last_epoch_registers_and_promotes_nothing(
    base_version, mnist, monkeypatch
):
    monkeypatch.delenv("HDR_DATA_DIR", raising=False)
    _samples(mnist, 60, holdout=False)
    _samples(mnist, 20, holdout=True, start=100)
    learning = LearningSettings.current()
    learning.auto_promote = True
    learning.save()
    job = retraining_request(kind="digits")
    decide = retraining.gate_decide

    def reaped_while_the_gate_decides(candidate, active):
        RetrainingJob.objects.filter(pk=job.pk).update(status=JobStatus.FAILED, error="reaped")
        return {**decide(candidate, active), "passed": True}

    monkeypatch.setattr(retraining, "gate_decide", reaped_while_the_gate_decides)

    finished = retraining_run(job_id=job.pk, epochs=2)

    assert finished.status == JobStatus.FAILED and finished.error == "reaped"
    assert finished.candidate is None
    assert list(ModelVersion.objects.values_list("version", "is_active")) == [("base", True)]


def test_a_candidate_that_reaches_the_target_error_nowhere_fails_with_that_reason(
    base_version, mnist, monkeypatch
):
    import ml.finetune
    from ml.evaluation.calibration import RejectPoint

    monkeypatch.delenv("HDR_DATA_DIR", raising=False)
    _samples(mnist, 60, holdout=False)
    _samples(mnist, 20, holdout=True, start=100)
    # What threshold_for_error answers when every threshold leaves too many errors.
    monkeypatch.setattr(
        ml.finetune, "threshold_for_error", lambda *args: RejectPoint(1.0 + 1e-9, 1.0, 0.0)
    )
    job = retraining_request(kind="digits")

    finished = retraining_run(job_id=job.pk, epochs=1)

    assert finished.status == JobStatus.FAILED
    assert "would send every reading to review" in finished.error
    assert ModelVersion.objects.count() == 1


def test_one_job_at_a_time_and_the_schedule_waits_for_enough_new_samples(base_version, mnist):
    settings = LearningSettings.current()
    settings.min_new_samples = 15
    settings.save()
    _samples(mnist, 10, holdout=False)
    assert retraining_due() == []

    _samples(mnist, 10, holdout=False, start=50)
    started = retraining_due()

    assert len(started) == 1 and started[0].trigger == "schedule"
    assert retraining_due() == []  # a job is queued already


@pytest.mark.parametrize("role", [Role.CLERK, Role.REVIEWER])
def test_only_admins_reach_learning(db, client, role):
    user = UserFactory(roles=[role])
    api = api_for(user)
    client.force_login(user)

    for path in ("/api/v1/retraining/", "/api/v1/models/", "/api/v1/learning/"):
        assert api.get(path).status_code == 403
    assert api.post("/api/v1/retraining/", {"kind": "digits"}).status_code == 403
    assert client.get("/learning/").status_code == 403


def test_the_dashboard_shows_versions_jobs_and_the_drift_check(base_version, mnist):
    admin = UserFactory(roles=[Role.ADMIN])
    api = api_for(admin)

    body = api.get("/api/v1/learning/").json()
    page = APIClient()
    page.force_login(admin)

    assert body["samples"]["digits"] == {"train": 0, "holdout": 0}
    # The base model's card has no validation reject rate: the check says so, with no alarm.
    assert body["drift"]["status"] == "the model card has no validation reject rate to compare with"
    assert body["drift"]["alarm"] is False
    assert page.get("/learning/").status_code == 200


def test_drift_alarm_and_production_accuracy_from_reviews(base_version):
    from django.utils import timezone

    from recognition.models import FieldReview
    from recognition.selectors.learning import confidence_drift, production_accuracy

    base_version.card = {"test_metrics": {"reject": {"validation_reject_rate": 0.03}}}
    base_version.save()
    page = PageFactory(recognized_at=timezone.now())
    for i in range(30):
        # 10 digits per field, 4 of them below the 0.9 threshold: 40% where 3% is expected.
        characters = [{"char": "1", "confidence": 0.5 if j < 4 else 0.99} for j in range(10)]
        FieldFactory(page=page, index=i, characters=characters, model_version=base_version)

    drift = confidence_drift(min_digits=100)

    assert drift["digits"] == 300 and drift["observed_below_threshold"] == 0.4
    assert drift["alarm"] and drift["status"].startswith("drift:")

    reviewer = UserFactory(roles=[Role.REVIEWER])
    field = page.fields.first()
    for action, sampled in [("confirm", False), ("correct", False), ("correct", True)]:
        FieldReview.objects.create(
            field=field, action=action, old_value="1", new_value="1", old_status="needs_review",
            new_status="confirmed", reviewer=reviewer, model_version=base_version, sampled=sampled,
        )  # fmt: skip
    (row,) = production_accuracy()
    assert row["reviewed"] == 3 and row["machine_right"] == round(1 / 3, 4)
    assert row["sampled"] == 1 and row["sampled_error"] == 1.0


def test_a_tiny_string_retraining_run_registers_a_candidate(db, tmp_path, monkeypatch):
    from ml.strings.export import string_onnx_export
    from ml.strings.fixtures import string_fixture_read

    monkeypatch.delenv("HDR_DATA_DIR", raising=False)
    torch.manual_seed(0)
    model = create_model("string_crnn").eval()
    onnx_path = tmp_path / "strings-base.onnx"
    string_onnx_export(model, onnx_path)
    checkpoint_save(
        onnx_path.with_suffix(".pt"), model, architecture="string_crnn", args={},
        classes=[str(d) for d in range(10)] + ["<blank>"],
    )  # fmt: skip
    base = model_version_activate(
        model_version=ModelVersion.objects.create(
            kind="strings", version="strings-base", onnx_path=str(onnx_path), accept_threshold=0.5
        )
    )
    strips, texts = string_fixture_read(
        Path(__file__).resolve().parent.parent / "ml" / "strings" / "fixtures" / "strings_80.npz"
    )
    for i, (strip, text) in enumerate(zip(strips[:24], texts[:24], strict=True)):
        sample = TrainingSample(
            kind="strings",
            label=text,
            sha256=f"s{i:063d}",
            is_holdout=i >= 18,
            corrected=i % 2 == 0,
        )
        sample.image.save("s.png", ContentFile(image_to_png(strip)), save=False)
        sample.save()
    job = retraining_request(kind="strings")

    finished = retraining_run(job_id=job.pk, epochs=1, string_steps=3)

    assert finished.status == JobStatus.SUCCEEDED, finished.error
    assert len(finished.progress) == 1
    candidate = finished.candidate
    assert candidate.kind == "strings" and candidate.parent == base
    assert candidate.metrics["holdout"]["size"] == 6
    assert candidate.metrics["base_test"]["size"] == 300
    assert candidate.accept_threshold == 0.5  # calibration carried over from the base
    from ml.infer import StringRecognizer

    assert len(StringRecognizer(candidate.onnx_path).recognize(strips[:2])) == 2


@pytest.fixture
def base_version_with_reject(db, tmp_path):
    """An active 11-class digit model beside the shipped (active) string model."""
    from recognition.services.model_versions import model_versions_register_builtin

    model_versions_register_builtin()
    torch.manual_seed(0)
    model = create_model("lenet5", num_classes=11)
    # A few seconds of training on the fixture digits and generated negatives (class 10), so
    # that a rule meeting the targets exists on validation.
    from ml.negatives import negatives_generate

    with np.load(DIGITS) as stored:
        digits, labels = stored["images"], stored["labels"].astype(np.int64)
    made = negatives_generate(200, split="train", digits=digits, labels=labels, seed=0)
    x = torch.cat([torch.from_numpy(digits).float().div(255), torch.from_numpy(made.images)])
    y = torch.cat([torch.from_numpy(labels), torch.full((len(made.images),), 10)])
    optimizer = torch.optim.Adam(model.parameters(), lr=3e-3)
    for _ in range(60):
        loss = torch.nn.functional.cross_entropy(model(x.unsqueeze(1)), y)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
    model.eval()
    onnx_path = tmp_path / "base11.onnx"
    onnx_export(model, onnx_path, example=torch.rand(4, 1, 28, 28))
    checkpoint_save(
        onnx_path.with_suffix(".pt"), model, architecture="lenet5", args={"num_classes": 11},
        classes=[str(d) for d in range(10)] + ["not a digit"],
    )  # fmt: skip
    version = ModelVersion.objects.create(
        kind="digits", version="base11", onnx_path=str(onnx_path), accept_threshold=0.9
    )
    return model_version_activate(model_version=version)


def _retrain_with_reject(mnist, monkeypatch, data_dir: Path | None) -> RetrainingJob:
    """One epoch of retraining the 11-class base on 30 samples (10 held out), with MNIST from
    ``data_dir`` (validation cut to 60 digits) or without data."""
    if data_dir is None:
        monkeypatch.delenv("HDR_DATA_DIR", raising=False)
    else:
        monkeypatch.setenv("HDR_DATA_DIR", str(data_dir))
        monkeypatch.setattr(retraining, "BASE_VALIDATION_SIZE", 60)
    _samples(mnist, 30, holdout=False)
    _samples(mnist, 10, holdout=True, start=100)
    finished = retraining_run(job_id=retraining_request(kind="digits").pk, epochs=1)
    assert finished.status == JobStatus.SUCCEEDED, finished.error
    return finished


def test_a_digit_candidate_with_the_reject_class_gets_its_string_rule_measured(
    base_version_with_reject, mnist, monkeypatch, tiny_mnist
):
    monkeypatch.setattr(retraining, "STRING_RULE_STRINGS", 30)

    finished = _retrain_with_reject(mnist, monkeypatch, tiny_mnist)

    candidate = finished.candidate
    rule = candidate.card["string_reject"]
    assert {"glyph_threshold", "min_aspect", "field_threshold"} <= set(rule)
    assert rule["string_model"] == "strings-crnn-v2"
    # The recognizers read the card beside the ONNX file: it holds the rule too.
    on_disk = json.loads(Path(candidate.onnx_path).with_suffix(".json").read_text())
    assert on_disk["string_reject"] == rule and 0 <= on_disk["reject_threshold"] <= 1
    assert not any("string reject rule" in reason for reason in finished.gate["reasons"])


def test_without_data_the_gate_says_string_marks_will_not_be_scored(
    base_version_with_reject, mnist, monkeypatch
):
    finished = _retrain_with_reject(mnist, monkeypatch, None)

    assert "string_reject" not in finished.candidate.card
    assert any(
        "string reject rule was not measured (HDR_DATA_DIR is not set)" in reason
        for reason in finished.gate["reasons"]
    )


def test_a_string_rule_that_cannot_be_measured_leaves_a_usable_candidate_and_says_why(
    base_version_with_reject, mnist, monkeypatch, tiny_mnist
):
    import ml.strings.reject_eval
    from ml.errors import MLError

    def fails(*args, **kwargs):
        raise MLError("no font for the letters")

    monkeypatch.setattr(ml.strings.reject_eval, "string_reject_evaluate", fails)

    finished = _retrain_with_reject(mnist, monkeypatch, tiny_mnist)

    assert "string_reject" not in finished.candidate.card
    assert any(
        "not measured (MLError: no font for the letters)" in reason
        for reason in finished.gate["reasons"]
    )
