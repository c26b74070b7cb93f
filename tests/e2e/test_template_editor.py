"""An admin builds a template in a real browser: upload the blank form, fix fields with the
keyboard and the mouse, try it on a filled scan, save it live."""

from __future__ import annotations

import cv2
import pytest

from forms_ocr.synth import SAMPLE_DIGITS, digits_from_npz, synth_page
from recognition.models import Template
from recognition.services.users import demo_users_ensure
from tests.e2e.conftest import sign_in

pytestmark = pytest.mark.slow


def _form(path, *, hand_seed, blank=False):
    page = synth_page(
        "form", digits_from_npz(SAMPLE_DIGITS), seed=21, hand_seed=hand_seed, blank=blank,
        dpi=150, degradations=(),
    )  # fmt: skip
    cv2.imwrite(str(path), page.image)
    return path


def test_an_admin_builds_tries_and_saves_a_template(
    browser, live_server, transactional_db, tmp_path
):
    demo_users_ensure()
    blank = _form(tmp_path / "blank.png", hand_seed=1, blank=True)
    filled = _form(tmp_path / "filled.png", hand_seed=2)
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    page = context.new_page()
    page.set_default_timeout(30_000)
    sign_in(page, live_server, "admin", "hdr-admin-demo")

    page.goto(f"{live_server.url}/templates/new/")
    page.get_by_label("Name").fill("census sheet")
    page.get_by_label("Blank form (PNG, JPEG, TIFF or PDF)").set_input_files(str(blank))
    page.get_by_role("button", name="Find the fields").click()
    page.wait_for_url("**/templates/*/")
    rects = page.locator("#overlay rect.tfield")
    rects.first.wait_for()
    template = Template.objects.get(name="census sheet")
    detected = template.fields.count()
    before = template.fields.order_by("pk").first().bbox
    assert detected >= 3 and rects.count() == detected
    first_name = page.locator("#field-list li").first.get_by_label("Name")
    assert first_name.input_value() == "field_1"

    # Keyboard: rename the first field, select its box, move it right and make it taller.
    first_name.fill("account")
    first_name.press("Tab")
    page.locator("#field-list li").first.get_by_role("button", name="Select box").click()
    for _ in range(3):
        page.keyboard.press("ArrowRight")
    page.keyboard.press("Shift+ArrowDown")
    # Remove the last field with the keyboard.
    page.locator("#field-list li").last.get_by_role("button", name="Select box").click()
    page.keyboard.press("Delete")
    assert rects.count() == detected - 1
    # Mouse: draw a new field in the top margin of the page (scrolled into view first).
    page.evaluate(
        "window.scrollTo(0, document.getElementById('overlay').getBoundingClientRect().top + window.scrollY - 10)"
    )
    box = page.locator("#overlay").bounding_box()
    page.mouse.move(box["x"] + box["width"] * 0.55, box["y"] + box["height"] * 0.02)
    page.mouse.down()
    page.mouse.move(box["x"] + box["width"] * 0.85, box["y"] + box["height"] * 0.05, steps=5)
    page.mouse.up()
    assert rects.count() == detected
    new_row = page.locator("#field-list li").last
    new_row.get_by_label("Name").fill("notes")
    new_row.get_by_label("Name").press("Tab")
    page.get_by_label("Live (offered on upload)").check()
    page.get_by_role("button", name="Save").click()
    page.get_by_text("Saved.").wait_for()

    page.locator("#try-file").set_input_files(str(filled))
    page.locator("#try-results").wait_for()
    page.get_by_text("Read ").first.wait_for()
    names = page.locator("#try-results tbody tr td:first-child").all_inner_texts()
    assert names[0] == "account" and "notes" in names
    context.close()

    template.refresh_from_db()
    fields = {f.name: f for f in template.fields.all()}
    assert template.is_live and len(fields) == detected
    assert "account" in fields and "notes" in fields and "field_1" not in fields
    account = fields["account"].bbox
    assert account[0] == pytest.approx(before[0] + 3 * 0.002, abs=1e-4)  # moved right
    assert account[3] == pytest.approx(before[3] + 0.002, abs=1e-4)  # taller
    notes = fields["notes"].bbox
    assert notes[0] == pytest.approx(0.55, abs=0.02) and notes[2] == pytest.approx(0.30, abs=0.02)
