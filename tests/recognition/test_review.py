"""Human review: the queue and its claims, confirmations and corrections with their audit,
conflicts, reverts, grid review, documents and batches settling, figures, and who may do what."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from recognition.models import (
    Batch,
    DocumentStatus,
    Field,
    FieldKind,
    FieldReview,
    FieldStatus,
    ModelVersion,
    Template,
    TemplateField,
)
from recognition.roles import Role
from recognition.services.pipeline import document_sums_check
from recognition.services.templates import template_fields_match
from tests.factories import DocumentFactory, FieldFactory, PageFactory, UserFactory, api_for


@pytest.fixture
def model_version(db):
    return ModelVersion.objects.create(
        kind="digits", version="test-v1", onnx_path="x.onnx", accept_threshold=0.99
    )


def waiting_field(document=None, *, confidence=0.6, value="42", model_version=None, **extra):
    document = document or DocumentFactory(status=DocumentStatus.NEEDS_REVIEW)
    page = PageFactory(document=document)
    return FieldFactory(
        page=page,
        status=FieldStatus.NEEDS_REVIEW,
        value=value,
        machine_value=value,
        confidence=confidence,
        characters=[
            {"char": c, "confidence": confidence, "alternatives": [["7", 0.3]]} for c in value
        ],
        boxes=[{"bbox": [i * 10, 0, 10, 10], "empty": False} for i in range(len(value))],
        model_version=model_version,
        **extra,
    )


@pytest.fixture
def reviewer(db):
    return UserFactory(roles=[Role.REVIEWER])


@pytest.fixture
def admin(db):
    return UserFactory(roles=[Role.ADMIN])


def test_the_queue_serves_the_least_sure_field_first_and_claims_it(reviewer, model_version):
    sure = waiting_field(confidence=0.9, model_version=model_version)
    unsure = waiting_field(confidence=0.3, model_version=model_version)

    response = api_for(reviewer).get("/api/v1/review/next/")

    assert response.status_code == 200
    assert response.json()["id"] == unsure.pk
    assert response.json()["threshold"] == 0.99
    unsure.refresh_from_db()
    assert unsure.claimed_by == reviewer and unsure.claimed_until > timezone.now()
    # Skipping it gives the next one.
    skipped = api_for(reviewer).get(f"/api/v1/review/next/?skip={unsure.pk}")
    assert skipped.json()["id"] == sure.pk


def test_two_reviewers_never_get_the_same_field_and_cannot_save_each_others(reviewer):
    other = UserFactory(roles=[Role.REVIEWER])
    field = waiting_field()

    first = api_for(reviewer).get("/api/v1/review/next/")
    second = api_for(other).get("/api/v1/review/next/")

    assert first.json()["id"] == field.pk
    assert second.status_code == 204  # the only field is claimed
    refused = api_for(other).post(
        f"/api/v1/fields/{field.pk}/confirm/", {"revision": 0}, format="json"
    )
    assert refused.status_code == 409
    assert refused.json()["error"]["message"] == "another reviewer is working on this field"
    # An expired claim frees the field for the other reviewer.
    Field.objects.filter(pk=field.pk).update(claimed_until=timezone.now() - timedelta(seconds=1))
    assert api_for(other).get("/api/v1/review/next/").json()["id"] == field.pk


def test_a_stale_save_is_a_conflict_and_changes_nothing(reviewer):
    field = waiting_field()
    client = api_for(reviewer)
    assert (
        client.post(
            f"/api/v1/fields/{field.pk}/correct/", {"revision": 0, "value": "47"}, format="json"
        ).status_code
        == 200
    )

    stale = client.post(
        f"/api/v1/fields/{field.pk}/correct/", {"revision": 0, "value": "99"}, format="json"
    )

    assert stale.status_code == 409
    assert stale.json()["error"]["details"]["value"] == "47"
    field.refresh_from_db()
    assert field.value == "47" and field.revision == 1


def test_correction_is_final_audited_and_settles_the_document_and_batch(
    reviewer, model_version, broker, django_capture_on_commit_callbacks
):
    owner = UserFactory()
    batch = Batch.objects.create(owner=owner, callback_url="http://receiver.example/")
    document = DocumentFactory(owner=owner, batch=batch, status=DocumentStatus.NEEDS_REVIEW)
    batch.completed_at = timezone.now()
    batch.save()
    first = waiting_field(document, value="42", model_version=model_version)
    second = waiting_field(document, value="13", model_version=model_version)
    client = api_for(reviewer)

    confirmed = client.post(
        f"/api/v1/fields/{first.pk}/confirm/",
        {"revision": 0, "seconds_spent": 1.5, "keystrokes": 1, "mode": "field"},
        format="json",
    )
    document.refresh_from_db()
    assert confirmed.json()["status"] == "confirmed"
    assert document.status == DocumentStatus.NEEDS_REVIEW  # one field still waits

    with django_capture_on_commit_callbacks(execute=True):
        corrected = client.post(
            f"/api/v1/fields/{second.pk}/correct/",
            {"revision": 0, "value": "18", "seconds_spent": 2.0, "keystrokes": 3},
            format="json",
        )
    body = corrected.json()
    assert body["status"] == "corrected" and body["value"] == "18" and body["confidence"] == 1.0
    assert [c["confidence"] for c in body["characters"]] == [1.0, 1.0]
    assert body["machine_value"] == "13"
    review = FieldReview.objects.get(field=second)
    assert (review.action, review.old_value, review.new_value) == ("correct", "13", "18")
    assert review.reviewer == reviewer and review.keystrokes == 3 and review.seconds_spent == 2.0
    assert review.model_version == model_version
    document.refresh_from_db()
    batch.refresh_from_db()
    assert document.status == DocumentStatus.DONE
    assert batch.done_at is not None
    assert broker.sent == [("hdr.batch_webhook_deliver", [str(batch.pk), "batch.done"])]


@pytest.mark.parametrize(
    ("value", "message"),
    [("4a", "digits only"), ("123", "has 3 digits but the field has 2 boxes")],
)
def test_a_bad_correction_is_refused_with_the_reason(reviewer, value, message):
    field = waiting_field(value="42")

    response = api_for(reviewer).post(
        f"/api/v1/fields/{field.pk}/correct/", {"revision": 0, "value": value}, format="json"
    )

    assert response.status_code == 400
    assert message in response.json()["error"]["message"]
    field.refresh_from_db()
    assert field.value == "42" and field.status == FieldStatus.NEEDS_REVIEW


def test_an_admin_reverts_a_review_and_the_document_waits_again(reviewer, admin):
    field = waiting_field(value="42", confidence=0.6)
    document = field.page.document
    api_for(reviewer).post(
        f"/api/v1/fields/{field.pk}/correct/", {"revision": 0, "value": "47"}, format="json"
    )
    document.refresh_from_db()
    assert document.status == DocumentStatus.DONE

    assert (
        api_for(reviewer)
        .post(f"/api/v1/fields/{field.pk}/revert/", {"revision": 1}, format="json")
        .status_code
        == 403
    )
    reverted = api_for(admin).post(
        f"/api/v1/fields/{field.pk}/revert/", {"revision": 1}, format="json"
    )

    assert reverted.status_code == 200
    field.refresh_from_db()
    document.refresh_from_db()
    assert field.value == "42" and field.status == FieldStatus.NEEDS_REVIEW
    assert field.confidence == 0.6 and field.characters[0]["confidence"] == 0.6
    assert document.status == DocumentStatus.NEEDS_REVIEW
    assert list(field.reviews.values_list("action", flat=True)) == ["revert", "correct"]
    history = api_for(admin).get(f"/api/v1/fields/{field.pk}/").json()["reviews"]
    assert [h["action"] for h in history] == ["revert", "correct"]


def test_grid_review_settles_fields_whose_doubtful_digits_are_all_checked(reviewer, model_version):
    # "42": only the 2 is doubtful; "12": both doubtful, but only the 2 is on the grid for "2".
    first = waiting_field(value="42", model_version=model_version)
    first.characters[0]["confidence"] = 0.999
    first.save()
    second = waiting_field(value="12", model_version=model_version)
    client = api_for(reviewer)

    items = client.get("/api/v1/review/grid/?digit=2").json()["items"]

    assert {(i["field"], i["position"]) for i in items} == {(first.pk, 1), (second.pk, 1)}
    assert all(i["digit"] == "2" for i in items)
    answers = [
        {**i, "digit": "7" if i["field"] == first.pk else i["digit"]}
        for i in items  # the reviewer marks the first field's 2 as a 7
    ]
    saved = client.post(
        "/api/v1/review/grid/",
        {"items": answers, "seconds_spent": 4, "keystrokes": 2},
        format="json",
    )

    assert saved.json() == {"settled": 1, "waiting": 1}
    first.refresh_from_db()
    second.refresh_from_db()
    assert (first.value, first.status) == ("47", FieldStatus.CORRECTED)
    assert second.status == FieldStatus.NEEDS_REVIEW and second.characters[1]["reviewed"]
    assert FieldReview.objects.get(field=first).mode == "grid"
    # The checked digit does not come back on the grid; the other doubtful one of "12" does.
    remaining = client.get("/api/v1/review/grid/").json()["items"]
    assert [(i["field"], i["position"]) for i in remaining] == [(second.pk, 0)]


def test_figures_measure_the_error_of_auto_accepted_fields_from_the_sample(reviewer):
    document = DocumentFactory(status=DocumentStatus.NEEDS_REVIEW)
    for _ in range(3):
        FieldFactory(page=PageFactory(document=document), status=FieldStatus.ACCEPTED)
    sampled_right = waiting_field(document, sampled=True, confidence=0.999)
    sampled_wrong = waiting_field(document, sampled=True, confidence=0.999)
    client = api_for(reviewer)
    client.post(f"/api/v1/fields/{sampled_right.pk}/confirm/", {"revision": 0, "keystrokes": 1})
    client.post(
        f"/api/v1/fields/{sampled_wrong.pk}/correct/",
        {"revision": 0, "value": "43", "keystrokes": 3, "seconds_spent": 6},
    )

    stats = client.get("/api/v1/review/stats/").json()

    assert stats["accepted_error"]["sampled_reviewed"] == 2
    assert stats["accepted_error"]["wrong"] == 1 and stats["accepted_error"]["rate"] == 0.5
    assert stats["fields"]["total"] == 5 and stats["fields"]["accepted"] == 3
    assert stats["fields"]["straight_through_rate"] == 0.6
    assert stats["queue"]["depth"] == 0
    assert stats["reviewing"]["keystrokes_per_field"] == 2.0
    row = stats["reviewing"]["reviewers"][0]
    assert row["reviewer"] == reviewer.username and row["fields"] == 2
    assert row["fields_per_minute"] == 20.0  # 2 fields in 6 recorded seconds


def test_a_total_that_does_not_add_up_goes_to_review(db):
    template = Template.objects.create(name="invoice")
    item = TemplateField.objects.create(
        template=template, name="item", kind=FieldKind.DIGITS, bbox=[0, 0, 0.1, 0.1]
    )
    total = TemplateField.objects.create(
        template=template,
        name="total",
        kind=FieldKind.DIGITS,
        bbox=[0, 0.5, 0.1, 0.1],
        rule={"sum_of": ["item"]},
    )
    document = DocumentFactory(status=DocumentStatus.PROCESSING, template=template)
    page = PageFactory(document=document)
    FieldFactory(page=page, name="item", template_field=item, value="42")
    total_field = FieldFactory(page=page, name="total", template_field=total, value="47")

    assert document_sums_check(document) == 1

    total_field.refresh_from_db()
    assert total_field.status == FieldStatus.NEEDS_REVIEW
    assert total_field.review_reason == "the total is 47, but item = 42"


def test_detected_fields_take_the_names_of_the_template_fields_they_overlap(db):
    template = Template.objects.create(name="form")
    account = TemplateField.objects.create(
        template=template, name="account", kind="digits", bbox=[0.1, 0.1, 0.5, 0.05]
    )
    amount = TemplateField.objects.create(
        template=template, name="amount", kind="string", bbox=[0.1, 0.5, 0.4, 0.05]
    )
    detected = [
        ("string", (105, 1010, 790, 95)),  # amount, slightly shifted
        ("digits", (210, 205, 980, 100)),  # account
        ("digits", (100, 1800, 300, 100)),  # nothing in the template there
    ]

    matched = template_fields_match([account, amount], detected, page_width=2000, page_height=2000)

    assert matched == {0: amount, 1: account}


PAGES = [("/review/", 200), ("/review/grid/", 200), ("/review/figures/", 200)]


@pytest.mark.parametrize(
    ("role", "api_status", "page_status", "revert_status"),
    [
        (None, 401, 302, 401),
        (Role.CLERK, 403, 403, 403),
        (Role.REVIEWER, 200, 200, 403),
        (Role.ADMIN, 200, 200, 200),
    ],
)
def test_permission_matrix_for_review_endpoints_and_pages(
    db, client, role, api_status, page_status, revert_status
):
    user = UserFactory(roles=[role]) if role else None
    reviewed = waiting_field()
    reviewed.status = FieldStatus.CORRECTED
    reviewed.save()
    FieldReview.objects.create(
        field=reviewed,
        action="correct",
        old_value="41",
        new_value="42",
        old_status="needs_review",
        new_status="corrected",
        reviewer=UserFactory(roles=[Role.REVIEWER]),
    )
    waiting = waiting_field()
    api = api_for(user)
    if user is not None:
        client.force_login(user)

    ok_or = {200: (200, 204)}.get(api_status, (api_status,))
    assert api.get("/api/v1/review/next/").status_code in ok_or
    assert api.get("/api/v1/review/grid/").status_code == api_status
    assert api.get("/api/v1/review/stats/").status_code == api_status
    assert api.get(f"/api/v1/fields/{waiting.pk}/").status_code == api_status
    assert (
        api.post(f"/api/v1/fields/{waiting.pk}/confirm/", {"revision": 0}).status_code == api_status
    )
    assert api.post(f"/api/v1/fields/{reviewed.pk}/revert/", {"revision": 0}).status_code == (
        revert_status
    )
    for url, _ in PAGES:
        assert client.get(url).status_code == page_status


def test_a_clerk_sees_crops_of_their_own_documents_only(db):
    clerk, other = UserFactory(roles=[Role.CLERK]), UserFactory(roles=[Role.CLERK])
    own = waiting_field(DocumentFactory(owner=clerk))
    foreign = waiting_field(DocumentFactory(owner=other))
    Field.objects.filter(pk__in=[own.pk, foreign.pk]).update(crop="")

    assert api_for(clerk).get(f"/api/v1/fields/{own.pk}/crop?box=0").status_code == 200
    assert api_for(clerk).get(f"/api/v1/fields/{foreign.pk}/crop?box=0").status_code == 404
