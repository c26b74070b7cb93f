"""The documents pages: the list filters by status, and a failed document's page says why."""

from __future__ import annotations

import pytest

from recognition.models import DocumentStatus
from tests.factories import DocumentFactory, UserFactory


@pytest.fixture
def clerk(db):
    return UserFactory(roles=["clerk"])


@pytest.fixture
def signed_in(client, clerk):
    client.force_login(clerk)
    return client


def test_the_documents_list_shows_only_the_status_chosen(signed_in, clerk):
    DocumentFactory(owner=clerk, status=DocumentStatus.FAILED, original_name="torn.png")
    DocumentFactory(owner=clerk, status=DocumentStatus.DONE, original_name="read.png")

    failed = signed_in.get("/documents/?status=failed").content.decode()
    everything = signed_in.get("/documents/").content.decode()
    unknown = signed_in.get("/documents/?status=lost").content.decode()

    assert "torn.png" in failed and "read.png" not in failed
    assert '<a href="?status=failed" aria-current="page">' in failed
    assert "torn.png" in everything and "read.png" in everything
    assert "torn.png" in unknown and "read.png" in unknown


def test_a_failed_documents_page_says_why_it_could_not_be_read(signed_in, clerk):
    document = DocumentFactory(
        owner=clerk, status=DocumentStatus.FAILED, error="the PDF is password-protected"
    )

    page = signed_in.get(f"/documents/{document.pk}/").content.decode()

    assert '<div class="error" role="alert">' in page
    assert "This document could not be read:</strong> the PDF is password-protected" in page
