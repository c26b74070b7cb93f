"""The one application error type of the recognition app.

Services raise `ApplicationError` for anything a user did wrong or asked for that cannot be done;
the API turns it into its status (400 unless a subclass says otherwise) with the message, the
views into a message on the page.
"""

from __future__ import annotations


class ApplicationError(Exception):
    status_code = 400
    code = "invalid"

    def __init__(self, message: str, *, extra: dict | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.extra = extra or {}


class NotFoundError(ApplicationError):
    status_code = 404
    code = "not_found"


class ForbiddenError(ApplicationError):
    """The caller may see the object but not do this to it."""

    status_code = 403
    code = "forbidden"


class ConflictError(ApplicationError):
    """The object changed (or is held by someone else) since the caller loaded it."""

    status_code = 409
    code = "conflict"
