from __future__ import annotations

from dataclasses import dataclass

from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.db import transaction

from recognition.roles import Role


@dataclass(frozen=True)
class DemoUser:
    username: str
    password: str
    role: Role


# Known credentials for a local demo; the run command prints them. Never run this in production.
DEMO_USERS = (
    DemoUser("admin", "hdr-admin-demo", Role.ADMIN),
    DemoUser("reviewer", "hdr-reviewer-demo", Role.REVIEWER),
    DemoUser("clerk", "hdr-clerk-demo", Role.CLERK),
)


@transaction.atomic
def demo_users_ensure() -> list[DemoUser]:
    """Create (or reset) the demo admin, reviewer and clerk with their groups and passwords."""
    user_model = get_user_model()
    for demo in DEMO_USERS:
        user, _ = user_model.objects.get_or_create(username=demo.username)
        user.is_staff = demo.role is Role.ADMIN
        user.is_superuser = demo.role is Role.ADMIN
        user.is_active = True
        user.set_password(demo.password)
        user.save()
        group, _ = Group.objects.get_or_create(name=demo.role.value)
        user.groups.set([group])
    return list(DEMO_USERS)
