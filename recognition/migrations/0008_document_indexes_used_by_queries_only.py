"""Drop the document indexes no query uses; every index is one more write per upload.

Gone: owner (the owner, status, created_at index starts with it), sha256 (never looked up) and
PostgreSQL's LIKE-only copies of sha256 and status. The status index is kept under a name of its
own. Done with plain DROP INDEX and a rename, so that a large table is neither re-validated
(Django would drop and re-add the owner foreign key) nor left without a status index while a
new one builds.
"""

import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models

DROPPED = {
    "recognition_document_owner_id_f35890af": "(owner_id)",
    "recognition_document_sha256_9e7cfdb5": "(sha256)",
}
DROPPED_POSTGRESQL = {
    "recognition_document_sha256_9e7cfdb5_like": "(sha256 varchar_pattern_ops)",
    "recognition_document_status_caa9c1fb_like": "(status varchar_pattern_ops)",
}
STATUS_OLD, STATUS_NEW = "recognition_document_status_caa9c1fb", "document_status_idx"


def _dropped(vendor: str) -> dict[str, str]:
    return {**DROPPED, **(DROPPED_POSTGRESQL if vendor == "postgresql" else {})}


def _rename_status_index(schema_editor, old: str, new: str) -> None:
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(f'ALTER INDEX IF EXISTS "{old}" RENAME TO "{new}"')
    else:  # SQLite cannot rename an index; its embedded tables are small
        schema_editor.execute(f'DROP INDEX IF EXISTS "{old}"')
        schema_editor.execute(f'CREATE INDEX "{new}" ON "recognition_document" ("status")')


def forwards(apps, schema_editor):
    for name in _dropped(schema_editor.connection.vendor):
        schema_editor.execute(f'DROP INDEX IF EXISTS "{name}"')
    _rename_status_index(schema_editor, STATUS_OLD, STATUS_NEW)


def backwards(apps, schema_editor):
    _rename_status_index(schema_editor, STATUS_NEW, STATUS_OLD)
    for name, columns in _dropped(schema_editor.connection.vendor).items():
        schema_editor.execute(
            f'CREATE INDEX IF NOT EXISTS "{name}" ON "recognition_document" {columns}'
        )


class Migration(migrations.Migration):
    dependencies = [
        ("recognition", "0007_batch_webhook_attempts"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            database_operations=[migrations.RunPython(forwards, backwards)],
            state_operations=[
                migrations.AlterField(
                    model_name="document",
                    name="owner",
                    field=models.ForeignKey(
                        db_index=False,
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="documents",
                        to=settings.AUTH_USER_MODEL,
                    ),
                ),
                migrations.AlterField(
                    model_name="document",
                    name="sha256",
                    field=models.CharField(max_length=64),
                ),
                migrations.AlterField(
                    model_name="document",
                    name="status",
                    field=models.CharField(
                        choices=[
                            ("queued", "Queued"),
                            ("processing", "Processing"),
                            ("needs_review", "Needs Review"),
                            ("done", "Done"),
                            ("failed", "Failed"),
                        ],
                        default="queued",
                        max_length=16,
                    ),
                ),
                migrations.AddIndex(
                    model_name="document",
                    index=models.Index(fields=["status"], name="document_status_idx"),
                ),
            ],
        ),
    ]
