from django.core.management.base import BaseCommand

from recognition.services.builtin_templates import cheque_template_ensure


class Command(BaseCommand):
    help = "Create the built-in templates (the cheque of the synthetic generator) if missing."

    def handle(self, *args, **options):
        template, created = cheque_template_ensure()
        self.stdout.write(f"  {template}: {'created' if created else 'already there'}")
