"""One error shape for the whole API: {"error": {"code": ..., "message": ..., "details": ...}}."""

from __future__ import annotations

from django.core.exceptions import ObjectDoesNotExist, PermissionDenied
from django.core.exceptions import ValidationError as DjangoValidationError
from django.http import Http404
from rest_framework import exceptions
from rest_framework.response import Response
from rest_framework.views import exception_handler

from recognition.errors import ApplicationError


def _first_message(detail) -> str:
    if isinstance(detail, list) and detail:
        return _first_message(detail[0])
    if isinstance(detail, dict) and detail:
        key, value = next(iter(detail.items()))
        message = _first_message(value)
        return message if key == "non_field_errors" else f"{key}: {message}"
    return str(detail)


def api_exception_handler(exc, context):
    if isinstance(exc, ApplicationError):
        body = {"error": {"code": exc.code, "message": exc.message, "details": exc.extra}}
        return Response(body, status=exc.status_code)
    if isinstance(exc, DjangoValidationError):
        exc = exceptions.ValidationError(
            exc.message_dict if hasattr(exc, "error_dict") else exc.messages
        )
    elif isinstance(exc, Http404 | ObjectDoesNotExist):
        # Also what a caller gets for a document that exists but is not theirs.
        exc = exceptions.NotFound()
    elif isinstance(exc, PermissionDenied):
        exc = exceptions.PermissionDenied()

    response = exception_handler(exc, context)
    if response is None:
        return None  # an unexpected error: Django logs it and answers 500
    detail = response.data
    if isinstance(exc, exceptions.ValidationError):
        body = {"code": "invalid", "message": _first_message(detail), "details": detail}
    else:
        code = exc.get_codes() if isinstance(exc, exceptions.APIException) else "error"
        message = detail.get("detail", detail) if isinstance(detail, dict) else detail
        body = {
            "code": code if isinstance(code, str) else "error",
            "message": str(message),
            "details": {},
        }
    response.data = {"error": body}
    return response
