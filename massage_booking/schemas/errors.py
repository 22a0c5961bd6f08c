"""One adapter from pydantic's validation errors to the API's `validation_failed` envelope.

Every bad field is reported at once, under `details.fields`, keyed by its path as a client writes it
(`weekly_hours[2].end`, `settings.horizon_days`), so a form can mark each one. Messages a field declares
(`schemas.base.Says`, a validator's own words) are kept as they are; pydantic's generic wording, written
for developers, is replaced by a sentence for the person reading the form.
"""

from __future__ import annotations

import typing
from typing import Any

from pydantic import BaseModel, ValidationError
from pydantic_core import InitErrorDetails

from massage_booking.domain.errors import ValidationFailed
from massage_booking.schemas.base import IfMissing, Says, problem

_PLAIN = {
    "missing": "This field is required.",
    "int_type": "Give a whole number.",
    "int_parsing": "Give a whole number.",
    "int_from_float": "Give a whole number.",
    "float_type": "Give a number.",
    "float_parsing": "Give a number.",
    "bool_type": "Give true or false.",
    "bool_parsing": 'Use "true" or "false".',
    "string_type": "Give text.",
    "list_type": "Give a list.",
    "dict_type": "Give an object.",
    "model_type": "Give an object.",
    "model_attributes_type": "Give an object.",
    "enum": "Choose one of the listed values.",
    "literal_error": "Choose one of the listed values.",
}


def field_path(loc: tuple[int | str, ...]) -> str:
    """("weekly_hours", 2, "end") -> "weekly_hours[2].end"."""
    path = ""
    for part in loc:
        if isinstance(part, int):
            path += f"[{part}]"
        else:
            path += f".{part}" if path else str(part)
    return path


def message_of(error: Any, model: type[BaseModel]) -> str:
    kind = error["type"]
    if kind == "missing" and (said := _said(model, error["loc"])):
        return said
    if kind == "extra_forbidden":
        return str(getattr(model, "unknown_field", "Unknown field."))
    if kind in ("invalid", "value_error") or kind not in _PLAIN:
        text = str(error["msg"])
        return text.removeprefix("Value error, ")
    if kind in ("enum", "literal_error") and "expected" in error.get("ctx", {}):
        return f"Choose {error['ctx']['expected']}."
    return _PLAIN[kind]


def restated(
    exc: ValidationError, model: type[BaseModel], below: tuple[int | str, ...] = ()
) -> list[InitErrorDetails]:
    """`model`'s errors already in the words the client reads (its own `unknown_field`, its `IfMissing`
    messages), moved `below` a list index: validated apart, they join the errors of their siblings."""
    errors = exc.errors(include_url=False)
    return [problem(message_of(error, model), (*below, *error["loc"]), error["input"]) for error in errors]


def _said(model: type[BaseModel], loc: tuple[Any, ...]) -> str | None:
    """The `Says` message of the field at `loc`, which covers its absence too: the path is followed
    through nested models and lists to the field's own declaration."""
    current: Any = model
    info = None
    for part in loc:
        if isinstance(part, int):
            continue
        fields = getattr(current, "model_fields", None)
        if not fields or part not in fields:
            return None
        info = fields[part]
        current = _model_inside(info.annotation)
    for meta in [] if info is None else info.metadata:
        if isinstance(meta, Says | IfMissing):
            return meta.message
    return None


def _model_inside(annotation: Any) -> Any:
    """The model a field holds, through `list[...]` and `... | None`."""
    pending = [annotation]
    while pending:
        kind = pending.pop()
        if isinstance(kind, type) and issubclass(kind, BaseModel):
            return kind
        pending.extend(typing.get_args(kind))
    return None


def validation_failed(exc: ValidationError, model: type[BaseModel]) -> ValidationFailed:
    errors: dict[str, list[str]] = {}
    extra: dict[str, Any] = {}
    for error in exc.errors(include_url=False):
        if suggestions := (error.get("ctx") or {}).get("suggestions"):
            extra["suggestions"] = list(suggestions)  # what a place not understood may have meant
        # A whole-body error (not an object at all) has an empty path.
        path = field_path(tuple(error["loc"])) or "body"
        message = message_of(error, model)
        if message not in errors.setdefault(path, []):
            errors[path].append(message)
    return ValidationFailed.for_fields(errors, **extra)
