"""Role checks for the pages (the API's permission classes use the same role functions)."""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied

from recognition.roles import user_is_admin, user_is_reviewer


def role_required(allowed: Callable[[object], bool], refusal: str):
    """A view decorator: sign-in first, then 403 with `refusal` unless `allowed(user)`."""

    def decorator(view):
        @wraps(view)
        @login_required
        def wrapped(request, *args, **kwargs):
            if not allowed(request.user):
                raise PermissionDenied(refusal)
            return view(request, *args, **kwargs)

        return wrapped

    return decorator


reviewer_required = role_required(user_is_reviewer, "only reviewers and admins may review")
admin_required = role_required(user_is_admin, "only admins may do this")
