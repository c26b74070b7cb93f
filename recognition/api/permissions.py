"""Role checks for the API; the pages use the same functions (recognition.roles)."""

from rest_framework.permissions import BasePermission

from recognition.roles import user_is_admin, user_is_reviewer


class IsReviewer(BasePermission):
    message = "only reviewers and admins may do this"

    def has_permission(self, request, view) -> bool:
        return user_is_reviewer(request.user)


class IsAdmin(BasePermission):
    message = "only admins may do this"

    def has_permission(self, request, view) -> bool:
        return user_is_admin(request.user)
