import os

import cv2
from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError

from forms_ocr.synth import SAMPLE_DIGITS, digits_from_npz, digits_load, synth_page
from recognition.services.builtin_templates import cheque_page, cheque_template_ensure
from recognition.services.documents import Upload, document_create


class Command(BaseCommand):
    help = (
        "Generate synthetic form and cheque scans and ingest them for a user (cheques with the "
        "built-in cheque template), so the demo shows results."
    )

    def add_arguments(self, parser):
        parser.add_argument("--user", default="clerk")
        parser.add_argument("--count", type=int, default=3)
        parser.add_argument("--cheques", type=int, default=2)
        parser.add_argument(
            "--digits", help="MNIST IDX folder (default: $HDR_DATA_DIR, else a sample)"
        )

    def handle(self, *args, user, count, cheques, digits, **options):
        owner = get_user_model().objects.filter(username=user).first()
        if owner is None:
            raise CommandError(f"no user named {user!r} (run manage.py demo_users first)")
        folder = digits or os.environ.get("HDR_DATA_DIR")
        images = digits_load(folder) if folder else digits_from_npz(SAMPLE_DIGITS)
        created = 0
        for seed in range(count):
            page = synth_page("form", images, seed=seed, degradations=("rotation", "noise"))
            data = cv2.imencode(".png", page.image)[1].tobytes()
            # The key makes the command idempotent: a second run finds the same documents.
            _, is_new = document_create(
                owner=owner,
                upload=Upload(f"demo-form-{seed + 1}.png", data),
                idempotency_key=f"demo-{seed}",
            )
            created += is_new
        template, _ = cheque_template_ensure()
        for hand_seed in range(1, cheques + 1):
            page = cheque_page(
                hand_seed=hand_seed, degradations=("rotation", "noise"), digits=images
            )
            data = cv2.imencode(".png", page.image)[1].tobytes()
            _, is_new = document_create(
                owner=owner,
                upload=Upload(f"demo-cheque-{hand_seed}.png", data),
                idempotency_key=f"demo-cheque-{hand_seed}",
                template=template,
            )
            created += is_new
        total = count + cheques
        self.stdout.write(
            f"  {created} demo scans queued for {user} ({total - created} already there)"
        )
