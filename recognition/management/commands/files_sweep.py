import json
from datetime import timedelta

from django.core.management.base import BaseCommand, CommandError

from recognition.services.maintenance import SWEPT_FOLDERS, media_orphans_sweep


class Command(BaseCommand):
    help = (
        "List (or with --delete, remove) stored files that no row names: left by a crash between "
        f"a file and its row, or by rows deleted in the admin. Looks in {', '.join(SWEPT_FOLDERS)}."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--older-than-hours",
            type=float,
            default=24.0,
            help="only files last written this long ago (default 24): a file whose row is "
            "about to be written is never taken",
        )
        parser.add_argument("--delete", action="store_true", help="delete them (default: list)")

    def handle(self, *args, older_than_hours, delete, **options):
        if older_than_hours < 1:
            raise CommandError("--older-than-hours must be at least 1")
        report = media_orphans_sweep(older_than=timedelta(hours=older_than_hours), delete=delete)
        for name in report.orphans:
            self.stdout.write(f"{'deleted' if delete else 'orphan'}: {name}")
        self.stdout.write(json.dumps(report.to_json()))
