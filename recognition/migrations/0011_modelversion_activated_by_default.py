from pathlib import Path

from django.db import migrations, models

import ml


def defaults_mark(apps, schema_editor):
    """Mark the active built-in versions that no person chose.

    Before this field, an installation activated the built-in default of a kind only when it had
    no active version, and a person changed it only by promoting or rolling back, which leaves
    another version with an ``activated_at``. So an active built-in (no parent, its file shipped
    under ml/weights) is the automatic default when no other version of its kind was ever active.
    """
    weights = Path(ml.__file__).resolve().parent / "weights"
    ModelVersion = apps.get_model("recognition", "ModelVersion")
    for active in ModelVersion.objects.filter(is_active=True, parent__isnull=True):
        if Path(active.onnx_path).is_absolute() or not (weights / active.onnx_path).is_file():
            continue  # a model someone registered by hand, not one the code ships
        others_active_before = (
            ModelVersion.objects.filter(kind=active.kind, activated_at__isnull=False)
            .exclude(pk=active.pk)
            .exists()
        )
        if not others_active_before:
            active.activated_by_default = True
            active.save(update_fields=["activated_by_default"])


class Migration(migrations.Migration):
    dependencies = [
        ("recognition", "0010_document_deletion"),
    ]

    operations = [
        migrations.AddField(
            model_name="modelversion",
            name="activated_by_default",
            field=models.BooleanField(default=False),
        ),
        migrations.RunPython(defaults_mark, migrations.RunPython.noop),
    ]
