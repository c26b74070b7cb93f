"""The roles of the platform, as Django groups."""

from enum import StrEnum


class Role(StrEnum):
    CLERK = "clerk"
    REVIEWER = "reviewer"
    ADMIN = "admin"


def user_has_role(user, *roles: Role) -> bool:
    """Whether the user holds any of `roles` (superusers hold every role)."""
    if not user.is_authenticated:
        return False
    if user.is_superuser:
        return True
    return user.groups.filter(name__in=[str(r) for r in roles]).exists()


def user_is_reviewer(user) -> bool:
    """Reviewers and admins work the review queue."""
    return user_has_role(user, Role.REVIEWER, Role.ADMIN)


def user_is_admin(user) -> bool:
    return user_has_role(user, Role.ADMIN)
