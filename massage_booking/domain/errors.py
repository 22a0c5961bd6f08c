"""Domain errors, each with a stable machine-readable code.

The API serialises these into `{"error": {"code", "message", "details"}}` and pages show the message;
the code never changes once published, because API clients branch on it.
"""

from __future__ import annotations

from typing import Any


class DomainError(Exception):
    code = "domain_error"
    status = 400

    def __init__(self, message: str, details: dict[str, Any] | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.details = details or {}


FIX_FIELDS = "Please correct the highlighted fields."


class ValidationFailed(DomainError):
    """Input that is well-formed but breaks a rule; `details` maps each field to its messages."""

    code = "validation_failed"
    status = 422

    @classmethod
    def for_field(cls, field: str, message: str) -> ValidationFailed:
        return cls(message, {"fields": {field: [message]}})

    @classmethod
    def for_fields(cls, errors: dict[str, list[str]], **details: Any) -> ValidationFailed:
        """Every bad field at once; the message is the field's own when only one is wrong (a form or an
        API client then reads one sentence), else a summary that points at the fields."""
        message = next(iter(errors.values()))[0] if len(errors) == 1 else FIX_FIELDS
        return cls(message, {"fields": errors, **details})


class Conflict(DomainError):
    code = "conflict"
    status = 409


class NotFound(DomainError):
    code = "not_found"
    status = 404


class Forbidden(DomainError):
    code = "forbidden"
    status = 403


class AuthenticationFailed(DomainError):
    code = "authentication_failed"
    status = 401
