"""Validate a JSON body or a query string into its model, or raise the one 422 naming every bad field.

Flask-free, so that the API (api/contract.py) and the HTML pages that read the same parameters (the search
pages) parse them the same way. `context` carries what a model's validators need from outside the request
(schemas/search.py: the geocoder and the plan lookup).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, TypeVar

from pydantic import BaseModel, ValidationError

from massage_booking.schemas.base import Repeated
from massage_booking.schemas.errors import validation_failed

M = TypeVar("M", bound=BaseModel)


def parse_body(model: type[M], body: Mapping[str, Any], context: Mapping[str, Any] | None = None) -> M:
    try:
        return model.model_validate(body, context=dict(context or {}))
    except ValidationError as exc:
        raise validation_failed(exc, model) from None


def parse_query(model: type[M], args: Mapping[str, Any], context: Mapping[str, Any] | None = None) -> M:
    """The query string as the model. Values are stripped and empty ones count as absent (an HTML form
    sends every field); a `Repeated` field gets every value of a repeated parameter."""
    values: dict[str, Any] = {}
    for name, info in model.model_fields.items():
        key = info.alias or name
        if key not in args:
            continue
        if any(isinstance(meta, Repeated) for meta in info.metadata):
            getlist = getattr(args, "getlist", None)
            raw = getlist(key) if getlist is not None else [args[key]]
            items = [item.strip() for item in raw if isinstance(item, str) and item.strip()]
            if items:
                values[key] = items
            continue
        value = args.get(key)
        if isinstance(value, str):
            value = value.strip()
        if value not in ("", None):
            values[key] = value  # by its alias, which the errors name (`from`)
    try:
        return model.model_validate(values, context=dict(context or {}))
    except ValidationError as exc:
        raise validation_failed(exc, model) from None
