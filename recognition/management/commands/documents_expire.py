import json
from datetime import timedelta

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from recognition.services.maintenance import documents_expire, documents_expired


class Command(BaseCommand):
    help = (
        "List (or with --delete, remove with their results and files) the final documents, done "
        "or failed, older than --days (default: HDR_RETENTION_DAYS). Documents waiting for "
        "review are kept."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--days",
            type=float,
            default=None,
            help="age in days from upload (default: HDR_RETENTION_DAYS)",
        )
        parser.add_argument("--delete", action="store_true", help="delete them (default: list)")

    def handle(self, *args, days, delete, **options):
        days = settings.HDR_RETENTION_DAYS if days is None else days
        if days <= 0:
            raise CommandError("give --days above 0 (HDR_RETENTION_DAYS is 0: keep everything)")
        older_than = timedelta(days=days)
        if not delete:
            expired = documents_expired(older_than=older_than)
            for document in expired.values("id", "original_name", "status", "created_at"):
                self.stdout.write(
                    f"expired: {document['id']} {document['created_at']:%Y-%m-%d} "
                    f"{document['status']} {document['original_name']}"
                )
            self.stdout.write(json.dumps({"documents": expired.count(), "deleted": 0}))
            return
        counts = documents_expire(older_than=older_than)
        self.stdout.write(json.dumps({**counts, "deleted": counts["documents"]}))
