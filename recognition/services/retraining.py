"""Retraining from reviews: jobs, the evaluation gate, promotion and rollback.

A job fine-tunes the active model on base data plus the reviewed samples (ml.finetune), registers
the result as a candidate `ModelVersion` with its metrics, and asks the gate: the candidate is
promoted only if it is at least as good as the active model on the frozen correction holdout and
no more than 0.05 points worse on the base test set. Promotion is automatic when the learning
settings say so, else an admin's click; rollback activates any earlier version. Workers switch to
the active version on their next page (recognition.inference).
"""

from __future__ import annotations

import json
import logging
import os
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import timedelta
from pathlib import Path

import numpy as np
from django.conf import settings
from django.db import DatabaseError, connections, transaction
from django.db.models.functions import Coalesce
from django.utils import timezone

from recognition.errors import ApplicationError, ConflictError
from recognition.models import (
    JobStatus,
    LearningSettings,
    ModelKind,
    ModelVersion,
    RetrainingJob,
    TrainingSample,
)
from recognition.services.model_versions import (
    card_temperature,
    model_version_activate,
    model_version_onnx_path,
)
from recognition.services.samples import samples_load
from recognition.services.tasks import task_send_on_commit

logger = logging.getLogger(__name__)

# A candidate may be this much worse on the base test set (0.05 percentage points).
BASE_TEST_TOLERANCE = 0.0005
ACTIVE_STATUSES = (JobStatus.QUEUED, JobStatus.RUNNING)
# Seconds between a running job's heartbeats; the reaper waits HDR_RETRAIN_STALE_S (many beats).
HEARTBEAT_S = 60.0
# Base test strings generated from MNIST test digits (or the packaged sample of them).
BASE_TEST_STRINGS = 300


def checkpoint_of(version: ModelVersion) -> Path:
    """The training checkpoint (.pt) beside a version's ONNX file: what fine-tuning starts from."""
    return model_version_onnx_path(version).with_suffix(".pt")


def retraining_request(*, kind: str, user=None, trigger: str = "admin") -> RetrainingJob:
    """Queue a retraining job of `kind` on the gpu queue; one job per kind at a time."""
    with transaction.atomic():
        busy = RetrainingJob.objects.select_for_update().filter(
            kind=kind, status__in=ACTIVE_STATUSES
        )
        if busy.exists():
            raise ConflictError(f"a {kind} retraining job is already {busy.first().status}")
        base = ModelVersion.objects.filter(kind=kind, is_active=True).first()
        if base is None:
            raise ApplicationError(f"no active {kind} model to fine-tune")
        if not checkpoint_of(base).exists():
            raise ApplicationError(
                f"the active model {base.version} has no training checkpoint "
                f"({checkpoint_of(base).name}) to fine-tune"
            )
        if not TrainingSample.objects.filter(kind=kind, is_holdout=False).exists():
            raise ApplicationError("no reviewed samples to learn from yet")
        learning = LearningSettings.current()
        job = RetrainingJob.objects.create(
            kind=kind,
            trigger=trigger,
            requested_by=user,
            base_version=base,
            config={"epochs": learning.epochs, "correction_weight": learning.correction_weight},
            heartbeat_at=timezone.now(),
        )
        # Robust: a broker that is down must not turn a committed job into an error page.
        task_send_on_commit("hdr.retrain", job.pk)
    return job


def retraining_due() -> list[RetrainingJob]:
    """What beat runs: a job for each kind with at least `min_new_samples` samples since its
    last successful job."""
    learning = LearningSettings.current()
    jobs = []
    for kind in ModelKind.values:
        last = (
            RetrainingJob.objects.filter(kind=kind, status=JobStatus.SUCCEEDED)
            .order_by("-created_at")
            .first()
        )
        new = TrainingSample.objects.filter(kind=kind, is_holdout=False)
        if last is not None:
            new = new.filter(created_at__gt=last.created_at)
        if new.count() < learning.min_new_samples:
            continue
        try:
            jobs.append(retraining_request(kind=kind, trigger="schedule"))
        except ApplicationError as exc:
            logger.warning("scheduled %s retraining not started: %s", kind, exc.message)
    return jobs


def retraining_reap_stuck(*, stale_after: timedelta) -> dict[str, int]:
    """Settle the jobs that nothing is working on any more.

    - A running job whose heartbeat stopped `stale_after` ago fails with the reason: its worker
      died (killed, out of memory, its node lost), and a job left `running` would refuse every
      later job of its kind. The run is not restarted: what killed it may kill it again; the
      next request or the nightly schedule starts a new job.
    - A queued job that has not started `stale_after` after it was sent is sent again (a broker
      restarted without its data loses the message). A message that was only waiting behind
      another job is harmless twice: the run starts a job only while it is queued.
    """
    cutoff = timezone.now() - stale_after
    # Filtered again in each update: a heartbeat that arrives meanwhile keeps the job as it is.
    silent = RetrainingJob.objects.annotate(
        last_sign=Coalesce("heartbeat_at", "started_at", "created_at")
    ).filter(last_sign__lt=cutoff)
    failed = resent = 0
    for job_id, last in silent.filter(status=JobStatus.RUNNING).values_list("pk", "last_sign"):
        reason = (
            f"the worker running it stopped: no heartbeat since "
            f"{timezone.localtime(last):%Y-%m-%d %H:%M:%S %Z}; request the job again"
        )
        failed += silent.filter(pk=job_id, status=JobStatus.RUNNING).update(
            status=JobStatus.FAILED, error=reason, finished_at=timezone.now()
        )
    for job_id in silent.filter(status=JobStatus.QUEUED).values_list("pk", flat=True):
        with transaction.atomic():
            # Touching the heartbeat keeps the next sweep from sending it again too soon.
            if silent.filter(pk=job_id, status=JobStatus.QUEUED).update(
                heartbeat_at=timezone.now()
            ):
                task_send_on_commit("hdr.retrain", job_id)
                resent += 1
    if failed or resent:
        logger.warning(
            "reaper: %d retraining jobs failed (no heartbeat), %d sent again", failed, resent
        )
    return {"failed": failed, "resent": resent}


@contextmanager
def _heartbeat(job_id: int, *, every_s: float = HEARTBEAT_S) -> Iterator[None]:
    """Stamp the running job's `heartbeat_at` every `every_s` seconds from a thread of its own
    while the body runs, however long an epoch takes: the reaper tells a slow run from a dead
    one by it."""
    stop = threading.Event()

    def beat() -> None:
        try:
            while not stop.wait(every_s):
                try:
                    RetrainingJob.objects.filter(pk=job_id, status=JobStatus.RUNNING).update(
                        heartbeat_at=timezone.now()
                    )
                except DatabaseError as exc:
                    # The database may be restarting; the next beat tries again.
                    logger.warning("retraining job %s: heartbeat not stored (%s)", job_id, exc)
        finally:
            connections.close_all()  # this thread's own connections

    thread = threading.Thread(target=beat, name=f"retrain-{job_id}-heartbeat", daemon=True)
    thread.start()
    try:
        yield
    finally:
        stop.set()
        thread.join()


def retraining_cancel(*, job_id: int) -> RetrainingJob:
    """Cancel a queued job at once; a running one stops at its next epoch."""
    with transaction.atomic():
        job = RetrainingJob.objects.select_for_update().filter(pk=job_id).first()
        if job is None:
            raise ApplicationError("no such job")
        if job.status == JobStatus.QUEUED:
            job.status = JobStatus.CANCELLED
            job.finished_at = timezone.now()
        elif job.status == JobStatus.RUNNING:
            job.cancel_requested = True
        else:
            raise ConflictError(f"the job is {job.status} already")
        job.save()
    return job


# --- the run ----------------------------------------------------------------------------------


def _digits(images: list, labels: list) -> object:
    from ml.finetune import LabelledDigits

    if not images:
        return LabelledDigits.empty()
    return LabelledDigits(
        np.stack(images).astype(np.float32), np.array([int(x) for x in labels], np.int64)
    )


def _mnist(split: str):
    """(images uint8 [N,28,28], labels) of MNIST `split` from HDR_DATA_DIR, or None."""
    folder = os.environ.get("HDR_DATA_DIR")
    if not folder:
        return None
    from ml.data.mnist import mnist_load

    digits = mnist_load(folder, split)
    return digits.images, digits.labels.astype(np.int64)


def _sample_test_digits():
    """The packaged sample of MNIST test digits (300), when no data folder is configured."""
    from forms_ocr.synth import SAMPLE_DIGITS, digits_from_npz

    sample = digits_from_npz(SAMPLE_DIGITS)
    return sample.images, sample.labels.astype(np.int64)


# MNIST training digits held out to calibrate candidates (the training runs' split).
BASE_VALIDATION_SIZE = 5000


def _base_digits():
    """(train, validation, test, name) base digits: MNIST from HDR_DATA_DIR when configured,
    else no base training data and the packaged test sample for both checks."""
    from ml.finetune import LabelledDigits

    def as_digits(images, labels):
        return LabelledDigits(images.astype(np.float32) / 255.0, labels.astype(np.int64))

    folder = os.environ.get("HDR_DATA_DIR")
    if folder:
        from ml.data.mnist import mnist_load, split_train_validation

        train_set, validation_set = split_train_validation(
            mnist_load(folder, "train"), validation_size=BASE_VALIDATION_SIZE, seed=0
        )
        test = _mnist("test")
        return (
            as_digits(train_set.images, train_set.labels),
            as_digits(validation_set.images, validation_set.labels),
            as_digits(*test),
            "mnist",
        )
    sample = as_digits(*_sample_test_digits())
    return LabelledDigits.empty(), sample, sample, "mnist-test-sample-300"


# Generated genuine strings and string negatives per split that re-measure the string reject
# rule for a digit candidate with the "not a digit" class (as `python -m ml strings reject-eval`).
STRING_RULE_STRINGS = 1000


def _string_rule_measure(onnx_path: Path, card: dict) -> str | None:
    """Choose the string reject rule for a digit candidate and write it into its card (the
    dict and the JSON file beside the ONNX, which the recognizers read). Without it, string
    marks would not be scored while the candidate is active. Returns a note for the gate when
    it cannot be measured."""
    folder = os.environ.get("HDR_DATA_DIR")
    strings = ModelVersion.objects.filter(kind=ModelKind.STRINGS, is_active=True).first()
    if not folder or strings is None:
        why = "HDR_DATA_DIR is not set" if not folder else "no string model is active"
        return (
            f"the string reject rule was not measured ({why}): while this candidate is active, "
            "marks in string fields are not scored"
        )
    from ml.strings.reject_eval import string_reject_evaluate

    try:
        rule = string_reject_evaluate(
            onnx_path,
            model_version_onnx_path(strings),
            data_dir=folder,
            count=STRING_RULE_STRINGS,
            validation_size=BASE_VALIDATION_SIZE,
        )
    except Exception as exc:  # the candidate stays usable; the gate says what it lacks
        logger.exception("the string reject rule of %s could not be measured", onnx_path.name)
        return (
            f"the string reject rule was not measured ({type(exc).__name__}: {exc}): while this "
            "candidate is active, marks in string fields are not scored"
        )
    card["string_reject"] = rule
    onnx_path.with_suffix(".json").write_text(json.dumps(card, indent=1))
    return None


def _base_strings():
    """(base digits for generation or None, test strips, name)."""
    from ml.strings.generate import StringGenerator

    train, test = _mnist("train"), _mnist("test")
    name = "generated from mnist test"
    if test is None:
        test, name = _sample_test_digits(), "generated from the mnist test sample"
    strips = StringGenerator(test[0], test[1], seed=7, cheque_fraction=0.5).batch(BASE_TEST_STRINGS)
    return train, [(s.image, s.text) for s in strips], name


def _save_progress(job_id: int, row: dict) -> None:
    job = RetrainingJob.objects.get(pk=job_id)
    job.progress = [*job.progress, row]
    job.save(update_fields=["progress"])


def gate_decide(candidate: dict, active: dict) -> dict:
    """The promotion gate: at least as good on the correction holdout, no more than 0.05
    points worse on the base test set. Returns {"passed", "reasons", "candidate", "active"}."""
    reasons = []
    passed = True
    c_holdout, a_holdout = candidate["holdout"]["accuracy"], active["holdout"]["accuracy"]
    if c_holdout is None:
        passed = False
        reasons.append("no correction holdout yet: the candidate cannot be compared")
    elif c_holdout < a_holdout:
        passed = False
        reasons.append(f"worse on the correction holdout: {c_holdout:.4f} < {a_holdout:.4f}")
    else:
        reasons.append(f"correction holdout: {c_holdout:.4f} >= {a_holdout:.4f}")
    c_base, a_base = candidate["base_test"]["accuracy"], active["base_test"]["accuracy"]
    if c_base < a_base - BASE_TEST_TOLERANCE:
        passed = False
        reasons.append(
            f"base test: {c_base:.4f} is more than 0.05 points below the active {a_base:.4f}"
        )
    else:
        reasons.append(f"base test: {c_base:.4f} vs active {a_base:.4f} (within 0.05 points)")
    return {"passed": passed, "reasons": reasons, "candidate": candidate, "active": active}


def retraining_run(
    *, job_id: int, epochs: int | None = None, string_steps: int | None = None
) -> RetrainingJob:
    """The task body: fine-tune, register the candidate, gate it, maybe promote it.

    `epochs` overrides the learning settings; `string_steps` the steps per string epoch."""
    with transaction.atomic():
        job = RetrainingJob.objects.select_for_update().filter(pk=job_id).first()
        if job is None or job.status != JobStatus.QUEUED:
            return job
        job.status = JobStatus.RUNNING
        job.started_at = job.heartbeat_at = timezone.now()
        job.save(update_fields=["status", "started_at", "heartbeat_at"])
    with _heartbeat(job.pk):
        _retraining_train(job, epochs=epochs, string_steps=string_steps)
    job.refresh_from_db()
    return job


def _retraining_train(job: RetrainingJob, *, epochs: int | None, string_steps: int | None) -> None:
    """The run of a job just marked running: its outcome is stored on the job, if the job is
    still running when the outcome is known (the reaper may have failed it meanwhile)."""
    import torch

    from ml.checkpoint import checkpoint_load
    from ml.finetune import FinetuneCancelled, FinetuneConfig, accuracy_of, finetune_digits

    still_running = {"pk": job.pk, "status": JobStatus.RUNNING}
    learning = LearningSettings.current()
    try:
        base = job.base_version
        train_images, train_labels, corrected = samples_load(job.kind, holdout=False)
        holdout_images, holdout_labels, _ = samples_load(job.kind, holdout=True)
        version = f"{base.version}-ft{job.pk}"
        threads = int(os.environ.get("HDR_TRAIN_THREADS", "0")) or None
        common = {
            "output_dir": Path(settings.MEDIA_ROOT) / "models" / job.kind,
            "version": version,
            "on_epoch": lambda row: _save_progress(job.pk, row),
            # Cancelled, or settled by the reaper while it ran: either way, stop.
            "should_stop": lambda: (
                not RetrainingJob.objects.filter(**still_running, cancel_requested=False).exists()
            ),
        }
        if job.kind == ModelKind.DIGITS:
            base_train, base_validation, base_test, base_name = _base_digits()
            holdout = _digits(holdout_images, holdout_labels)
            result = finetune_digits(
                checkpoint_of(base),
                corrections=_digits(train_images, train_labels),
                corrected=np.array(corrected, bool),
                base_train=base_train,
                base_validation=base_validation,
                base_test=base_test,
                holdout=holdout,
                config=FinetuneConfig(
                    epochs=epochs or learning.epochs,
                    correction_weight=learning.correction_weight,
                    num_threads=threads,
                ),
                **common,
            )
        else:
            from ml.strings.finetune import (
                StringFinetuneConfig,
                exact_accuracy,
                finetune_strings,
            )

            base_digits, base_test, base_name = _base_strings()
            holdout = list(zip(holdout_images, holdout_labels, strict=True))
            result = finetune_strings(
                checkpoint_of(base),
                corrections=list(zip(train_images, train_labels, strict=True)),
                corrected=np.array(corrected, bool),
                base_digits=base_digits,
                base_test=base_test,
                holdout=holdout,
                calibration={
                    "temperature": base.temperature,
                    "accept_threshold": base.accept_threshold,
                },
                config=StringFinetuneConfig(
                    epochs=epochs or learning.epochs,
                    steps_per_epoch=string_steps or StringFinetuneConfig.steps_per_epoch,
                    correction_weight=learning.correction_weight,
                    num_threads=threads,
                ),
                **common,
            )
        threshold = result.card["accept_threshold"]
        if not 0.0 <= threshold <= 1.0:
            # No confidence gives the target error on the base validation set: the candidate
            # would send every reading to review. Said plainly, not as a failed constraint.
            raise ApplicationError(
                f"the candidate reaches the target error at no confidence on the base "
                f"validation set (accept threshold {threshold:.6g}), so it would send every "
                "reading to review; it is not registered"
            )
        string_rule_note = None
        if job.kind == ModelKind.DIGITS and "reject_threshold" in result.card:
            string_rule_note = _string_rule_measure(result.onnx, result.card)
        active_model, _ = checkpoint_load(checkpoint_of(base))
        if job.kind == ModelKind.DIGITS:
            device = torch.device("cpu")
            active_metrics = {
                "base_test": accuracy_of(active_model, base_test, device),
                "holdout": accuracy_of(active_model, holdout, device),
            }
        else:
            active_metrics = {
                "base_test": exact_accuracy(active_model, base_test),
                "holdout": exact_accuracy(active_model, holdout),
            }
        candidate_metrics = result.card["test_metrics"]
        gate = gate_decide(candidate_metrics, active_metrics)
        gate["base_test_set"] = base_name
        if string_rule_note:
            gate["reasons"].append(string_rule_note)
        with transaction.atomic():
            current = RetrainingJob.objects.select_for_update().get(pk=job.pk)
            if current.status != JobStatus.RUNNING:
                logger.warning(
                    "retraining job %s was settled while it ran (%s); its result is dropped",
                    job.pk,
                    current.status,
                )
                return
            candidate, _ = ModelVersion.objects.update_or_create(
                kind=job.kind,
                version=version,
                defaults={
                    "onnx_path": str(result.onnx),
                    "card": result.card,
                    "temperature": card_temperature(result.card),
                    "accept_threshold": result.card["accept_threshold"],
                    "parent": base,
                    "metrics": {**candidate_metrics, "gate": gate},
                },
            )
            gate["promoted"] = False
            if gate["passed"] and learning.auto_promote:
                model_version_activate(model_version=candidate)
                gate["promoted"] = True
                gate["reasons"].append("promoted automatically (learning settings)")
            job.candidate = candidate
            job.gate = gate
            job.status = JobStatus.SUCCEEDED
            job.finished_at = timezone.now()
            job.save(update_fields=["candidate", "gate", "status", "finished_at"])
    except FinetuneCancelled:
        RetrainingJob.objects.filter(**still_running).update(
            status=JobStatus.CANCELLED, finished_at=timezone.now()
        )
    except Exception as exc:
        logger.exception("retraining job %s failed", job.pk)
        RetrainingJob.objects.filter(**still_running).update(
            status=JobStatus.FAILED,
            error=f"{type(exc).__name__}: {exc}"[:2000],
            finished_at=timezone.now(),
        )


def model_version_promote(*, version: ModelVersion) -> ModelVersion:
    """An admin promotes a candidate; only one that passed its gate."""
    gate = version.metrics.get("gate")
    if gate is not None and not gate.get("passed"):
        raise ApplicationError(
            "the candidate did not pass its gate: " + "; ".join(gate.get("reasons", []))
        )
    return model_version_activate(model_version=version)


def model_version_rollback(*, version: ModelVersion) -> ModelVersion:
    """Activate an earlier version again (no gate: it was in production before)."""
    if version.is_active:
        raise ConflictError(f"{version.version} is active already")
    if version.activated_at is None and version.parent_id is not None:
        raise ApplicationError(
            f"{version.version} was never in production; promote it instead of rolling back"
        )
    return model_version_activate(model_version=version)
