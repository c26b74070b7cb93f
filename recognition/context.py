"""Template context: the roles the navigation and pages need."""

from recognition.roles import user_is_admin, user_is_reviewer


def roles(request) -> dict:
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {"is_reviewer": False, "is_admin": False}
    return {"is_reviewer": user_is_reviewer(user), "is_admin": user_is_admin(user)}
