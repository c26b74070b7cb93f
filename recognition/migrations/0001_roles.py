"""Create the role groups (clerk, reviewer, admin) every installation starts with."""

from django.db import migrations

ROLES = ("clerk", "reviewer", "admin")


def roles_create(apps, schema_editor):
    group_model = apps.get_model("auth", "Group")
    for name in ROLES:
        group_model.objects.get_or_create(name=name)


def roles_delete(apps, schema_editor):
    apps.get_model("auth", "Group").objects.filter(name__in=ROLES).delete()


class Migration(migrations.Migration):
    dependencies = [("auth", "0012_alter_user_first_name_max_length")]

    operations = [migrations.RunPython(roles_create, roles_delete)]
