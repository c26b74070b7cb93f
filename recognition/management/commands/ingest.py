from pathlib import Path

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError

from recognition.errors import ApplicationError
from recognition.services.documents import Upload, batch_create, document_create

SCAN_SUFFIXES = {".png", ".jpg", ".jpeg", ".tif", ".tiff", ".pdf", ".zip"}


class Command(BaseCommand):
    help = "Ingest scan files or folders of scans (ZIP archives included) as documents."

    def add_arguments(self, parser):
        parser.add_argument("paths", nargs="+", help="files or folders (searched recursively)")
        parser.add_argument("--user", required=True, help="username that will own the documents")

    def handle(self, *args, paths, user, **options):
        owner = get_user_model().objects.filter(username=user).first()
        if owner is None:
            raise CommandError(f"no user named {user!r}")
        # Each file with the name it is shown by: its path below the folder given, so that
        # north/0001.png and south/0001.png stay apart, or its own name when given itself.
        files: list[tuple[Path, str]] = []
        for raw in paths:
            path = Path(raw)
            if path.is_dir():
                files.extend(
                    (p, p.relative_to(path).as_posix())
                    for p in sorted(path.rglob("*"))
                    if p.suffix.lower() in SCAN_SUFFIXES and p.is_file()
                )
            elif path.is_file():
                files.append((path, path.name))
            else:
                raise CommandError(f"{raw}: no such file or folder")
        failures = 0
        for path, name in files:
            upload = Upload(name=name, data=path.read_bytes())
            try:
                if path.suffix.lower() == ".zip":
                    batch = batch_create(owner=owner, uploads=[upload])
                    self.stdout.write(
                        f"{path}: batch {batch.pk} ({batch.documents.count()} documents)"
                    )
                else:
                    document, _ = document_create(owner=owner, upload=upload)
                    self.stdout.write(f"{path}: document {document.pk}")
            except ApplicationError as exc:
                failures += 1
                self.stderr.write(f"{path}: refused: {exc.message}")
        if failures:
            raise CommandError(f"{failures} of {len(files)} files were refused")
