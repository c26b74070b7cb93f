from django.core.management.base import BaseCommand

from recognition.models import ModelVersion
from recognition.services.model_versions import model_versions_register_builtin


class Command(BaseCommand):
    help = (
        "Register the models this release ships (ml/weights); a kind still on an earlier "
        "built-in default moves to the new one, a version an admin chose stays."
    )

    def handle(self, *args, **options):
        registered = model_versions_register_builtin()
        self.stdout.write(f"  {len(registered)} built-in model versions registered")
        for version in ModelVersion.objects.filter(is_active=True).order_by("kind"):
            how = "the built-in default" if version.activated_by_default else "chosen by an admin"
            self.stdout.write(f"  {version.kind}: {version.version} is active ({how})")
