"""Reviewing with the keyboard only, in a real browser: field mode and grid mode."""

from __future__ import annotations

import pytest
from django.core.files.base import ContentFile

from recognition.models import DocumentStatus, Field, FieldReview, FieldStatus, ModelVersion
from recognition.services.users import demo_users_ensure
from tests.e2e.conftest import sign_in
from tests.factories import DocumentFactory, FieldFactory, PageFactory, png_bytes

pytestmark = pytest.mark.slow

FITS = "document.documentElement.scrollWidth <= window.innerWidth + 1"


@pytest.fixture
def queue(transactional_db):
    """Three comb fields of one document waiting for review, least sure first."""
    demo_users_ensure()
    version = ModelVersion.objects.create(
        kind="digits", version="e2e", onnx_path="x.onnx", accept_threshold=0.99
    )
    document = DocumentFactory(status=DocumentStatus.NEEDS_REVIEW)
    page = PageFactory(document=document, width=80, height=60)
    fields = []
    for index, (value, confidence) in enumerate([("42", 0.5), ("13", 0.6), ("88", 0.7)]):
        fields.append(
            FieldFactory(
                page=page,
                index=index,
                value=value,
                machine_value=value,
                status=FieldStatus.NEEDS_REVIEW,
                confidence=confidence,
                characters=[
                    {"char": value[0], "confidence": 0.999, "alternatives": []},
                    {"char": value[1], "confidence": confidence, "alternatives": [["7", 0.2]]},
                ],
                boxes=[
                    {"bbox": [0, 0, 30, 30], "empty": False},
                    {"bbox": [30, 0, 30, 30], "empty": False},
                ],
                model_version=version,
                crop=ContentFile(png_bytes(), name="crop.png"),
            )
        )
    return fields


def test_a_reviewer_works_the_queue_with_the_keyboard_only(phone_page, live_server, queue):
    first, second, third = queue
    page = phone_page
    sign_in(page, live_server, "reviewer", "hdr-reviewer-demo")
    page.goto(f"{live_server.url}/review/")

    value = page.get_by_label("Value (digits only)")
    page.wait_for_function(f"document.getElementById('value').value === '{first.value}'")
    assert page.evaluate("document.activeElement.id") == "value"
    assert page.locator("#reading .doubt").all_inner_texts() == ["2"]  # the doubtful digit
    assert page.evaluate(FITS), "the review page scrolls sideways on a phone"

    page.keyboard.type("47")  # typing replaces the selected reading
    page.keyboard.press("Enter")
    page.wait_for_function(f"document.getElementById('value').value === '{second.value}'")
    page.keyboard.press("Enter")  # confirm as read
    page.wait_for_function(f"document.getElementById('value').value === '{third.value}'")
    page.keyboard.press("Escape")  # skip
    page.locator("#empty").wait_for()
    assert value.is_hidden()
    assert page.locator("#done-count").inner_text() == "2"

    first.refresh_from_db()
    second.refresh_from_db()
    third.refresh_from_db()
    assert (first.value, first.status) == ("47", FieldStatus.CORRECTED)
    assert (second.value, second.status) == ("13", FieldStatus.CONFIRMED)
    assert third.status == FieldStatus.NEEDS_REVIEW and third.claimed_by is None
    correction = FieldReview.objects.get(field=first)
    assert correction.keystrokes >= 3 and correction.seconds_spent is not None
    assert correction.reviewer.username == "reviewer" and correction.mode == "field"


def test_grid_review_marks_a_wrong_digit_and_saves_the_screen_with_one_key(
    phone_page, live_server, queue
):
    page = phone_page
    sign_in(page, live_server, "reviewer", "hdr-reviewer-demo")
    page.goto(f"{live_server.url}/review/grid/")

    tiles = page.locator(".tile")
    tiles.nth(2).wait_for()
    assert tiles.count() == 3  # one doubtful digit per field
    assert page.evaluate(FITS), "the grid page scrolls sideways on a phone"
    assert page.evaluate("document.activeElement.classList.contains('tile')")
    page.keyboard.press("ArrowRight")  # the second least sure: the 3 of "13"
    page.keyboard.press("8")
    assert "marked" in (tiles.nth(1).get_attribute("class") or "")
    page.keyboard.press("Enter")
    page.locator("#grid-empty").wait_for()

    values = dict(Field.objects.values_list("machine_value", "value"))
    statuses = set(Field.objects.values_list("status", flat=True))
    assert values == {"42": "42", "13": "18", "88": "88"}
    assert statuses == {FieldStatus.CONFIRMED, FieldStatus.CORRECTED}
    assert FieldReview.objects.filter(mode="grid").count() == 3
