"""The base models and field types every schema module shares.

Why strict models: the API has always refused `"8"` where a number is asked, and `1` where a boolean is
(a client that sends either has a bug it should hear about); pydantic's default lax mode would accept
both. Dates and times arrive as JSON strings, which strict mode refuses for `datetime`, so `Instant` and
`Day` are strings parsed by the same rules the services used before.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from typing import Annotated, Any, ClassVar

import annotated_types as at
from pydantic import BaseModel, ConfigDict, PlainSerializer, PlainValidator, ValidationError, WithJsonSchema
from pydantic_core import InitErrorDetails, PydanticCustomError, core_schema

# Row ids are 32-bit integers (PostgreSQL `integer`); SQLite cannot even bind a Python int past 64 bits.
MAX_ID = 2**31 - 1
# Years a date or time may fall in: date arithmetic past them overflows, and before them offsets are
# pre-standard local mean times.
YEARS = range(1900, 2200)


class RequestModel(BaseModel):
    """A JSON request body. Unknown keys are ignored unless a model forbids them (`extra="forbid"`), in
    which case `unknown_field` is what the client reads."""

    model_config = ConfigDict(strict=True, frozen=True)
    unknown_field: ClassVar[str] = "Unknown field."


class QueryModel(BaseModel):
    """Query-string parameters: every value arrives as text, and fields convert it themselves."""

    model_config = ConfigDict(frozen=True)
    unknown_field: ClassVar[str] = "Unknown parameter."


class ResponseModel(BaseModel):
    """A response body: every field is always present (null where it has no value)."""

    model_config = ConfigDict(
        extra="forbid", json_schema_serialization_defaults_required=True, use_enum_values=True
    )


@dataclass(frozen=True)
class Says:
    """Annotate a field with the one message a client reads for any wrong value in it (its type, its
    range or its format), keeping the wording the API had before the schemas."""

    message: str

    def __get_pydantic_core_schema__(self, source: Any, handler: Any) -> core_schema.CoreSchema:
        message = self.message

        def wrap(value: Any, validate: Any) -> Any:
            try:
                return validate(value)
            except (ValidationError, ValueError):
                raise PydanticCustomError("invalid", message) from None

        return core_schema.no_info_wrap_validator_function(wrap, handler(source))


@dataclass(frozen=True)
class IfMissing:
    """The message for a field that is required and absent, where its other messages come from its
    validator (a `Says` field uses its one message for absence too)."""

    message: str


@dataclass(frozen=True)
class Repeated:
    """A query parameter that may be repeated (`weekdays=monday&weekdays=friday`): the validator gets
    every value, as a list."""


def _an_instant(text: Any) -> datetime:
    if not isinstance(text, str) or len(text) > 40:
        raise ValueError("not a string")
    try:
        parsed = datetime.fromisoformat(text)
    except ValueError:
        raise ValueError("not ISO 8601") from None
    if parsed.tzinfo is None:
        raise ValueError("no offset")
    if parsed.year not in YEARS:
        raise ValueError("out of range")
    return parsed


def _a_day(text: Any) -> date:
    if not isinstance(text, str) or len(text) != 10:
        raise ValueError("not YYYY-MM-DD")
    try:
        parsed = date.fromisoformat(text)
    except ValueError:
        raise ValueError("not a date") from None
    if parsed.year not in YEARS:
        raise ValueError("not YYYY-MM-DD")
    return parsed


INSTANT_MESSAGE = 'Give the time as ISO 8601 with its offset, like "2026-12-01T10:00:00-05:00".'

AnId = Annotated[int, at.Ge(1), at.Le(MAX_ID)]
Instant = Annotated[
    datetime, PlainValidator(_an_instant), WithJsonSchema({"type": "string", "format": "date-time"})
]
Day = Annotated[date, PlainValidator(_a_day), WithJsonSchema({"type": "string", "format": "date"})]

# Response times keep Python's ISO 8601 form (`+00:00`, not pydantic's `Z`): clients parse what they got.
Timestamp = Annotated[
    datetime,
    PlainSerializer(datetime.isoformat, return_type=str),
    WithJsonSchema({"type": "string", "format": "date-time"}),
]
Date = Annotated[
    date,
    PlainSerializer(date.isoformat, return_type=str),
    WithJsonSchema({"type": "string", "format": "date"}),
]


def field_error(model: str, field: str, message: str) -> ValidationError:
    """An error a model-wide rule raises against one field (a rule over several fields still names the
    field a person should change)."""
    error = InitErrorDetails(type=PydanticCustomError("invalid", message), loc=(field,), input=None)
    return ValidationError.from_exception_data(model, [error])
