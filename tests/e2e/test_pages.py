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
