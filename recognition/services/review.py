"""Human review: the queue with claims, confirmations, corrections, reverts, and grid review.

Every change goes through here and leaves a `FieldReview` row. A save names the field revision
it was made against: a stale one is a conflict (HTTP 409), never a lost update. Fields are
claimed by one reviewer for HDR_REVIEW_CLAIM_S seconds so two reviewers never do the same work.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import timedelta

from django.conf import settings
from django.db import transaction
from django.db.models import F, Q
from django.utils import timezone

from recognition.errors import ApplicationError, ConflictError, NotFoundError
from recognition.models import (
    Document,
    DocumentStatus,
    Field,
    FieldKind,
    FieldReview,
    FieldStatus,
    ReviewAction,
)
from recognition.services.batches import batch_done_if_final
from recognition.services.routing import field_threshold
from recognition.services.samples import samples_from_field
from recognition.validation import rule_check

MAX_VALUE_LENGTH = 64
SETTLED_BY_REVIEW = (FieldStatus.CONFIRMED, FieldStatus.CORRECTED)


def _claim_expiry():
    return timezone.now() + timedelta(seconds=settings.HDR_REVIEW_CLAIM_S)


def _claimable(reviewer) -> Q:
    return Q(claimed_by__isnull=True) | Q(claimed_until__lt=timezone.now()) | Q(claimed_by=reviewer)


def review_queue(reviewer=None):
    """Fields waiting for a person, lowest confidence first, then oldest document first."""
    queue = Field.objects.filter(status=FieldStatus.NEEDS_REVIEW).exclude(
        page__document__status=DocumentStatus.FAILED
    )
    if reviewer is not None:
        queue = queue.filter(_claimable(reviewer))
    return queue.order_by(
        F("confidence").asc(nulls_first=True), "page__document__created_at", "page_id", "index"
    )


def review_next(*, reviewer, skip: Iterable[int] = (), kind: str | None = None) -> Field | None:
    """Claim and return the next field for `reviewer` (their own live claim first), or None.

    The claim is a conditional UPDATE, so two reviewers asking at once never get the same field.
    `skip` holds fields the reviewer passed over (Esc) in this sitting.
    """
    skip = [int(s) for s in skip]
    now = timezone.now()
    held = (
        Field.objects.filter(
            status=FieldStatus.NEEDS_REVIEW, claimed_by=reviewer, claimed_until__gte=now
        )
        .exclude(pk__in=skip)
        .order_by("claimed_until")
        .first()
    )
    if held is not None:
        Field.objects.filter(pk=held.pk).update(claimed_until=_claim_expiry())
        return Field.objects.select_related("page", "page__document", "model_version").get(
            pk=held.pk
        )
    queue = review_queue(reviewer).exclude(pk__in=skip)
    if kind:
        queue = queue.filter(kind=kind)
    for candidate in queue.values_list("pk", flat=True)[:20]:
        taken = (
            Field.objects.filter(pk=candidate, status=FieldStatus.NEEDS_REVIEW)
            .filter(_claimable(reviewer))
            .update(claimed_by=reviewer, claimed_until=_claim_expiry())
        )
        if taken:
            return Field.objects.select_related("page", "page__document", "model_version").get(
                pk=candidate
            )
    return None


def review_release(*, field_id: int, reviewer) -> None:
    """Give a claimed field back to the queue (the reviewer skipped it)."""
    Field.objects.filter(pk=field_id, claimed_by=reviewer).update(
        claimed_by=None, claimed_until=None
    )


def _locked_field(field_id: int, *, reviewer, revision: int | None) -> Field:
    field = (
        Field.objects.select_for_update(of=("self",))
        .select_related("page", "page__document", "model_version")
        .filter(pk=field_id)
        .first()
    )
    if field is None:
        raise NotFoundError("no such field")
    if revision is not None and field.revision != revision:
        raise ConflictError(
            f"the field changed since you opened it (revision {field.revision}, yours {revision}); "
            "reload it",
            extra={"revision": field.revision, "value": field.value, "status": field.status},
        )
    if (
        field.claimed_by_id not in (None, reviewer.pk)
        and field.claimed_until
        and field.claimed_until >= timezone.now()
    ):
        raise ConflictError(
            "another reviewer is working on this field",
            extra={"claimed_until": field.claimed_until.isoformat()},
        )
    return field


def value_clean(value: object, field: Field) -> str:
    if not isinstance(value, str):
        raise ApplicationError("value must be a string of digits")
    value = value.strip()
    if value and not value.isdigit():
        raise ApplicationError("value may hold digits only")
    if len(value) > MAX_VALUE_LENGTH:
        raise ApplicationError(f"value is longer than {MAX_VALUE_LENGTH} digits")
    if field.kind == FieldKind.DIGITS and field.boxes and len(value) > len(field.boxes):
        raise ApplicationError(
            f"value has {len(value)} digits but the field has {len(field.boxes)} boxes"
        )
    return value


@dataclass(frozen=True)
class Effort:
    seconds_spent: float | None = None
    keystrokes: int | None = None
    mode: str = "field"


def _audit(
    field: Field, *, action: str, new_value: str, new_status: str, reviewer, effort: Effort
) -> FieldReview:
    return FieldReview.objects.create(
        field=field,
        action=action,
        old_value=field.value,
        new_value=new_value,
        old_status=field.status,
        new_status=new_status,
        old_confidence=field.confidence,
        old_characters=field.characters,
        reviewer=reviewer,
        seconds_spent=effort.seconds_spent,
        keystrokes=effort.keystrokes,
        mode=effort.mode,
        model_version=field.model_version,
        sampled=field.sampled,
    )


def _settle(field: Field, *, value: str, reviewer, effort: Effort) -> FieldReview:
    confirm = value == field.value
    review = _audit(
        field,
        action=ReviewAction.CONFIRM if confirm else ReviewAction.CORRECT,
        new_value=value,
        new_status=FieldStatus.CONFIRMED if confirm else FieldStatus.CORRECTED,
        reviewer=reviewer,
        effort=effort,
    )
    field.value = value
    field.status = review.new_status
    # A value a person settled is final: every character is certain.
    field.characters = [{"char": c, "confidence": 1.0, "alternatives": []} for c in value]
    field.confidence = 1.0
    field.revision += 1
    field.claimed_by = None
    field.claimed_until = None
    field.reviewed_at = timezone.now()
    field.save()
    field_id = field.pk
    # What a person settled becomes training data; a failure there never undoes the review.
    transaction.on_commit(lambda: samples_from_field(field_id=field_id), robust=True)
    return review


def _document_settle_if_reviewed(document_id) -> None:
    """A document in review is done once no field of it waits for a person."""
    with transaction.atomic():
        document = Document.objects.select_for_update().filter(pk=document_id).first()
        if document is None or document.status != DocumentStatus.NEEDS_REVIEW:
            return
        if Field.objects.filter(page__document=document, status=FieldStatus.NEEDS_REVIEW).exists():
            return
        document.status = DocumentStatus.DONE
        document.finished_at = timezone.now()
        document.save(update_fields=["status", "finished_at", "updated_at"])
        batch_id = document.batch_id
    if batch_id:
        batch_done_if_final(batch_id=batch_id)


def field_review(
    *, field_id: int, reviewer, revision: int | None, value: str | None, effort: Effort = Effort()
) -> FieldReview:
    """Confirm the field's value (value None or unchanged) or correct it; settles the document
    when this was its last field waiting for a person."""
    with transaction.atomic():
        field = _locked_field(field_id, reviewer=reviewer, revision=revision)
        if field.page.document.status == DocumentStatus.FAILED:
            raise ApplicationError("the document failed; its fields cannot be reviewed")
        new_value = field.value if value is None else value_clean(value, field)
        review = _settle(field, value=new_value, reviewer=reviewer, effort=effort)
        document_id = field.page.document_id
    _document_settle_if_reviewed(document_id)
    return review


def field_revert(*, field_id: int, admin, revision: int | None) -> FieldReview:
    """Undo the field's last review (an admin's decision): its value, confidence and status go
    back to what they were, and its document waits for review again when the field does."""
    with transaction.atomic():
        field = _locked_field(field_id, reviewer=admin, revision=revision)
        last = field.reviews.exclude(action=ReviewAction.REVERT).order_by("-pk").first()
        if last is None or field.status not in SETTLED_BY_REVIEW:
            raise ApplicationError("the field has no review to revert")
        review = _audit(
            field,
            action=ReviewAction.REVERT,
            new_value=last.old_value,
            new_status=last.old_status,
            reviewer=admin,
            effort=Effort(mode="admin"),
        )
        field.value = last.old_value
        field.status = last.old_status
        field.confidence = last.old_confidence
        field.characters = last.old_characters
        field.revision += 1
        field.reviewed_at = None
        field.save()
        document = field.page.document
        if field.status == FieldStatus.NEEDS_REVIEW and document.status == DocumentStatus.DONE:
            Document.objects.filter(pk=document.pk).update(status=DocumentStatus.NEEDS_REVIEW)
    return review


# --- grid review: many doubtful digits at once ------------------------------------------------


@dataclass(frozen=True)
class GridItem:
    field_id: int
    revision: int
    position: int  # index into the field's characters (its filled boxes, in order)
    box: int  # index into the field's boxes
    bbox: list
    digit: str
    confidence: float


def _filled_boxes(field: Field) -> list[int]:
    return [i for i, box in enumerate(field.boxes) if not box.get("empty")]


def _field_threshold(field: Field) -> float:
    """Without a model that read it, every digit of a field counts as doubtful."""
    threshold = field_threshold(field)
    return 1.0 if threshold is None else threshold


def grid_items(*, reviewer, digit: str | None = None, limit: int = 48) -> list[GridItem]:
    """Doubtful digits of comb fields waiting for review, the model's reading `digit` (all digits
    when None), claimed for `reviewer`; least sure first."""
    items: list[GridItem] = []
    fields = (
        review_queue(reviewer)
        .filter(kind=FieldKind.DIGITS)
        .select_related("template_field", "model_version")
    )
    for field in fields[: limit * 4]:
        threshold = _field_threshold(field)
        filled = _filled_boxes(field)
        doubtful = [
            GridItem(
                field_id=field.pk,
                revision=field.revision,
                position=position,
                box=filled[position],
                bbox=field.boxes[filled[position]]["bbox"],
                digit=character["char"],
                confidence=float(character["confidence"]),
            )
            for position, character in enumerate(field.characters)
            if position < len(filled)
            and not character.get("reviewed")
            and float(character["confidence"]) < threshold
            and (digit is None or character["char"] == digit)
        ]
        if not doubtful or len(items) + len(doubtful) > limit:
            continue
        taken = (
            Field.objects.filter(pk=field.pk, status=FieldStatus.NEEDS_REVIEW)
            .filter(_claimable(reviewer))
            .update(claimed_by=reviewer, claimed_until=_claim_expiry())
        )
        if taken:
            items.extend(doubtful)
    return sorted(items, key=lambda item: item.confidence)


def grid_submit(
    *,
    reviewer,
    items: list[dict],
    seconds_spent: float | None = None,
    keystrokes: int | None = None,
) -> dict:
    """Settle a screen of grid items: each {"field", "revision", "position", "digit"}, where
    `digit` is what the reviewer says the box holds (the model's digit when they did not mark it).

    A field whose doubtful digits are all settled this way, and whose rule passes, is confirmed
    or corrected; otherwise it keeps waiting (in field mode) with the settled digits certain.
    All fields of the screen are saved together or not at all.
    """
    by_field: dict[int, list[dict]] = {}
    for item in items:
        try:
            key = int(item["field"])
            position = int(item["position"])
            revision = int(item["revision"])
        except (KeyError, TypeError, ValueError) as exc:
            raise ApplicationError("each item needs field, revision, position and digit") from exc
        digit = str(item.get("digit", ""))
        if len(digit) != 1 or not digit.isdigit():
            raise ApplicationError(f"field {key} position {position}: digit must be one digit")
        by_field.setdefault(key, []).append(
            {"position": position, "revision": revision, "digit": digit}
        )
    if not by_field:
        raise ApplicationError("no items to save")
    per_field_seconds = seconds_spent / len(by_field) if seconds_spent else None
    per_field_keys = round(keystrokes / len(by_field)) if keystrokes else None
    settled, waiting, documents = 0, 0, set()
    with transaction.atomic():
        for field_id, changes in sorted(by_field.items()):
            revisions = {c["revision"] for c in changes}
            if len(revisions) != 1:
                raise ApplicationError(f"field {field_id}: items name different revisions")
            field = _locked_field(field_id, reviewer=reviewer, revision=revisions.pop())
            if field.status != FieldStatus.NEEDS_REVIEW or field.kind != FieldKind.DIGITS:
                raise ConflictError(f"field {field_id} no longer waits for review")
            characters = [dict(c) for c in field.characters]
            for change in changes:
                if not 0 <= change["position"] < len(characters):
                    raise ApplicationError(
                        f"field {field_id} has no digit at position {change['position']}"
                    )
                characters[change["position"]] = {
                    "char": change["digit"],
                    "confidence": 1.0,
                    "alternatives": [],
                    "reviewed": True,
                }
            value = "".join(c["char"] for c in characters)
            threshold = _field_threshold(field)
            still_doubtful = any(
                not c.get("reviewed") and float(c["confidence"]) < threshold for c in characters
            )
            rule = field.template_field.rule if field.template_field_id else {}
            if not still_doubtful and rule_check(rule or {}, value) is None:
                _settle(
                    field,
                    value=value,
                    reviewer=reviewer,
                    effort=Effort(per_field_seconds, per_field_keys, "grid"),
                )
                settled += 1
                documents.add(field.page.document_id)
            else:
                _audit(
                    field,
                    action=ReviewAction.CONFIRM if value == field.value else ReviewAction.CORRECT,
                    new_value=value,
                    new_status=field.status,
                    reviewer=reviewer,
                    effort=Effort(per_field_seconds, per_field_keys, "grid"),
                )
                field.value = value
                field.characters = characters
                field.confidence = min(
                    (float(c["confidence"]) for c in characters), default=field.confidence
                )
                field.revision += 1
                field.claimed_by = None
                field.claimed_until = None
                field.save()
                waiting += 1
    for document_id in documents:
        _document_settle_if_reviewed(document_id)
    return {"settled": settled, "waiting": waiting}
