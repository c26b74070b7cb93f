"""Pages work in a real browser at phone width: sign in, navigate, upload, draw."""

from __future__ import annotations

import base64
import io
import re
import zipfile

import pytest

from recognition.services.users import demo_users_ensure
from tests.e2e.conftest import sign_in

pytestmark = pytest.mark.slow


@pytest.fixture
def clerk(transactional_db):
    demo_users_ensure()
    return "clerk", "hdr-clerk-demo"


def _fits_the_screen(page) -> bool:
    return page.evaluate("document.documentElement.scrollWidth <= window.innerWidth + 1")


def test_sign_in_and_every_page_fits_a_phone(phone_page, live_server, clerk):
    sign_in(phone_page, live_server, *clerk)

    for path, heading in [
        ("/", "Handwritten digit recognition"),
        ("/upload/", "Upload scans"),
        ("/documents/", "Documents"),
        ("/playground/", "Playground"),
    ]:
        phone_page.goto(f"{live_server.url}{path}")
        assert phone_page.get_by_role("heading", level=1).inner_text() == heading
        assert _fits_the_screen(phone_page), f"{path} scrolls sideways on a phone"


def test_wrong_password_shows_an_alert(phone_page, live_server, clerk):
    phone_page.goto(f"{live_server.url}/accounts/login/")
    phone_page.get_by_label("Username").fill("clerk")
    phone_page.get_by_label("Password").fill("wrong")
    phone_page.get_by_role("button", name="Sign in").click()

    assert "correct username and password" in phone_page.get_by_role("alert").inner_text()


def test_a_clerk_deletes_a_document_from_its_page_only_after_confirming(
    phone_page, live_server, clerk, settings, tmp_path
):
    from django.contrib.auth import get_user_model

    from recognition.models import Document
    from tests.factories import DocumentFactory

    settings.MEDIA_ROOT = tmp_path / "media"
    document = DocumentFactory(
        owner=get_user_model().objects.get(username="clerk"), original_name="cheque-9.png"
    )
    sign_in(phone_page, live_server, *clerk)
    phone_page.goto(f"{live_server.url}/documents/{document.pk}/")
    delete = phone_page.get_by_role("button", name="Delete document")

    asked = []

    def dismiss(dialog):
        asked.append(dialog.message)
        dialog.dismiss()

    phone_page.once("dialog", dismiss)
    delete.click()
    assert asked and "cannot be undone" in asked[0]
    assert phone_page.get_by_role("heading", level=1).inner_text() == "cheque-9.png"
    assert Document.objects.filter(pk=document.pk).exists()

    phone_page.once("dialog", lambda dialog: dialog.accept())
    delete.click()
    phone_page.wait_for_url(f"{live_server.url}/documents/")
    assert "Deleted cheque-9.png" in phone_page.get_by_role("status").inner_text()
    assert not Document.objects.filter(pk=document.pk).exists()
    assert not (tmp_path / "media" / document.file.name).exists()


def _drop(page, selector: str, files: dict[str, bytes]) -> None:
    """Drop `files` (name: content) on `selector` as a person dragging them from a folder does."""
    transfer = page.evaluate_handle(
        """(files) => {
            const transfer = new DataTransfer();
            for (const [name, text] of files) {
                const bytes = Uint8Array.from(atob(text), (c) => c.charCodeAt(0));
                transfer.items.add(new File([bytes], name, { type: "image/png" }));
            }
            return transfer;
        }""",
        [[name, base64.b64encode(data).decode()] for name, data in files.items()],
    )
    page.dispatch_event(selector, "drop", {"dataTransfer": transfer})


def test_files_dropped_together_each_become_a_document_of_the_chosen_template(
    phone_page, live_server, clerk, broker, settings, tmp_path
):
    from playwright.sync_api import expect

    from recognition.models import Document, DocumentStatus, Template
    from tests.factories import png_bytes

    settings.MEDIA_ROOT = tmp_path / "media"
    template = Template.objects.create(name="Payroll", is_live=True)
    sign_in(phone_page, live_server, *clerk)
    phone_page.goto(f"{live_server.url}/upload/")
    phone_page.select_option("#template", label="Payroll (form)")

    _drop(phone_page, "#dropzone", {f"week-{i}.png": png_bytes(value=250 - i) for i in range(3)})

    # Each file has its own row, linked to its document, that follows the document's status.
    expect(phone_page.locator("#progress a")).to_have_count(3)
    expect(phone_page.locator("#progress .status-queued")).to_have_count(3)
    documents = Document.objects.filter(owner__username="clerk")
    assert sorted(documents.values_list("original_name", flat=True)) == [
        "week-0.png", "week-1.png", "week-2.png",
    ]  # fmt: skip
    assert set(documents.values_list("template", flat=True)) == {template.pk}
    assert sorted(args[0] for name, args in broker.sent if name == "hdr.document_ingest") == sorted(
        str(pk) for pk in documents.values_list("pk", flat=True)
    )

    documents.update(status=DocumentStatus.DONE)
    expect(phone_page.locator("#progress .status-done")).to_have_count(3)
    expect(phone_page.locator("#upload-status")).to_have_text("All uploads settled")


def test_an_archive_shows_every_document_beyond_the_first_page_of_the_list(
    phone_page, live_server, clerk, broker, settings, tmp_path
):
    from playwright.sync_api import expect

    from recognition.models import Document, DocumentStatus
    from tests.factories import png_bytes

    settings.MEDIA_ROOT = tmp_path / "media"
    count = settings.REST_FRAMEWORK["PAGE_SIZE"] + 5
    archive = io.BytesIO()
    with zipfile.ZipFile(archive, "w") as zipped:
        for i in range(count):
            zipped.writestr(f"scans/{i:03}.png", png_bytes(value=200 + i % 50))
    (tmp_path / "scans.zip").write_bytes(archive.getvalue())
    sign_in(phone_page, live_server, *clerk)
    phone_page.goto(f"{live_server.url}/upload/")

    phone_page.set_input_files("#file-input", str(tmp_path / "scans.zip"))

    expect(phone_page.locator("#progress .status-queued")).to_have_count(count)
    shown = {name.strip() for name in phone_page.locator("#progress a").all_inner_texts()}
    assert shown == set(Document.objects.values_list("original_name", flat=True))
    assert len(shown) == count

    Document.objects.update(status=DocumentStatus.DONE)
    expect(phone_page.locator("#progress .status-done")).to_have_count(count)
    expect(phone_page.locator("#upload-status")).to_have_text("All uploads settled")


def test_a_read_documents_page_fits_a_phone_and_shades_the_unsure_digit(
    phone_page, live_server, clerk, settings, tmp_path
):
    from django.contrib.auth import get_user_model

    from recognition.models import DocumentStatus, FieldStatus
    from tests.factories import DocumentFactory, FieldFactory, PageFactory

    settings.MEDIA_ROOT = tmp_path / "media"
    document = DocumentFactory(
        owner=get_user_model().objects.get(username="clerk"), status=DocumentStatus.NEEDS_REVIEW
    )
    FieldFactory(
        page=PageFactory(document=document, index=0),
        value="47",
        status=FieldStatus.NEEDS_REVIEW,
        characters=[
            {"char": "4", "confidence": 0.99, "alternatives": [["9", 0.01]]},
            {"char": "7", "confidence": 0.35, "alternatives": [["1", 0.6]]},
        ],
    )
    sign_in(phone_page, live_server, *clerk)

    phone_page.goto(f"{live_server.url}/documents/{document.pk}/")

    assert _fits_the_screen(phone_page)
    assert phone_page.locator("svg rect.box-needs_review").count() == 1
    shades = phone_page.locator("table.fields td.value .char").evaluate_all(
        "chars => chars.map(c => getComputedStyle(c).backgroundColor)"
    )
    # The sure digit is barely shaded; the unsure one is shaded strongly.
    alphas = [float(shade.rsplit(",", 1)[1].rstrip(")")) for shade in shades]
    assert alphas[0] < 0.05 < 0.5 < alphas[1], shades


def test_a_digit_drawn_on_the_playground_is_read_and_cleared(phone_page, live_server, clerk):
    from playwright.sync_api import expect

    sign_in(phone_page, live_server, *clerk)
    phone_page.goto(f"{live_server.url}/playground/")
    pad = phone_page.locator("#pad").bounding_box()

    # A "1": one upright stroke in the middle of the pad, drawn with the pointer.
    x = pad["x"] + pad["width"] / 2
    phone_page.mouse.move(x, pad["y"] + pad["height"] * 0.15)
    phone_page.mouse.down()
    for step in range(1, 21):
        phone_page.mouse.move(x + step * 0.3, pad["y"] + pad["height"] * (0.15 + step * 0.035))
    phone_page.mouse.up()

    expect(phone_page.locator("#reading")).to_have_text(
        re.compile(r"^1 \(confidence \d+\.\d%\)$"), timeout=20_000
    )
    assert phone_page.locator("#characters tbody tr").count() == 1
    phone_page.get_by_role("button", name="Clear").click()
    expect(phone_page.locator("#reading")).to_have_text("Nothing written yet.")


def test_the_api_docs_page_lists_the_operations_without_reaching_the_internet(
    phone_page, live_server, clerk
):
    requests = []
    phone_page.on("request", lambda request: requests.append(request.url))
    sign_in(phone_page, live_server, *clerk)

    phone_page.goto(f"{live_server.url}/api/v1/docs/")

    phone_page.get_by_text("/api/v1/documents/", exact=True).first.wait_for()
    assert all(url.startswith(live_server.url) for url in requests), requests
