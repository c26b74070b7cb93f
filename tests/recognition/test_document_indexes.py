"""The documents table carries only the indexes its queries use: each one is a write per upload."""

from __future__ import annotations

import pytest
from django.db import connection

from recognition.models import Document


@pytest.mark.django_db
def test_the_documents_table_has_only_the_indexes_queries_use():
    with connection.cursor() as cursor:
        constraints = connection.introspection.get_constraints(cursor, Document._meta.db_table)
    indexed = sorted(
        tuple(info["columns"])
        for info in constraints.values()
        if info["index"] or info["unique"] or info["primary_key"]
    )

    assert indexed == sorted(
        [
            ("id",),  # the primary key
            ("owner_id", "idempotency_key"),  # a retried upload finds its first document
            ("owner_id", "status", "created_at"),  # a clerk's list; owner lookups
            ("status",),  # the reaper, reviewers' lists
            ("created_at",),  # everyone's list, newest first
            ("batch_id",),  # a batch's progress
            ("template_id",),  # a template cannot be deleted while documents use it
        ]
    )
