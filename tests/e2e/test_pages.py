"""Pages work in a real browser at phone width: sign in, navigate, upload, draw."""

from __future__ import annotations

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
