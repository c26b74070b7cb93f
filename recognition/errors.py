"""The one application error type of the recognition app.

Services raise `ApplicationError` for anything a user did wrong or asked for that cannot be done;
the API turns it into a 400 with the message, the views into a message on the page.
"""

from __future__ import annotations


class ApplicationError(Exception):
    def __init__(self, message: str, *, extra: dict | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.extra = extra or {}
