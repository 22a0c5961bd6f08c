"""The base models and field types every schema module shares.

Why strict models: the API has always refused `"8"` where a number is asked, and `1` where a boolean is
(a client that sends either has a bug it should hear about); pydantic's default lax mode would accept
both. Dates and times arrive as JSON strings, which strict mode refuses for `datetime`, so `Instant` and
`Day` are strings parsed by the same rules the services used before.
"""

from __future__ import annotations

from collections.abc import Callable, Container
from dataclasses import dataclass
from datetime import date, datetime
from typing import Annotated, Any, ClassVar, TypeVar
from zoneinfo import ZoneInfo

import annotated_types as at
from pydantic import (
    BaseModel,
    ConfigDict,
    PlainSerializer,
    PlainValidator,
    ValidationError,
    ValidationInfo,
    WithJsonSchema,
)
from pydantic_core import InitErrorDetails, PydanticCustomError, core_schema

# Row ids are 32-bit integers (PostgreSQL `integer`); SQLite cannot even bind a Python int past 64 bits.
MAX_ID = 2**31 - 1
# Years a date or time may fall in: date arithmetic past them overflows, and before them offsets are
# pre-standard local mean times.
YEARS = range(1900, 2200)
# A local time of day as the availability and course bodies take it and the answers write it.
CLOCK_SCHEMA = {
    "type": "string",
    "description": '24-hour local time on a 5-minute step, like "09:00".',
    "pattern": r"^([01]\d|2[0-3]):[0-5][05]$",
}

M = TypeVar("M", bound=BaseModel)
T = TypeVar("T")


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


def parsed(parse: Callable[..., Any], schema: dict[str, Any] | None = None) -> Any:
    """The metadata of a field that `parse` reads from the raw value (taking the validation info if it
    names it), documented as `schema` (text, by default): spread into `Annotated[type, *parsed(...)]`."""
    return PlainValidator(parse), WithJsonSchema(schema or {"type": "string"})


def context_of(info: ValidationInfo, key: str) -> Any:
    """What validation was given from outside the request (services' `*_context`): without it the caller
    has a bug, which is no client's fault and no 422."""
    found = (info.context or {}).get(key)
    if found is None:
        raise RuntimeError(f"validate with the services' context ({key!r} is missing)")
    return found


def iso(parse: Callable[[str], T], raw: Any, sizes: Container[int] | None = None) -> T | None:
    """`raw` read by `parse` (a `fromisoformat`) when it is text (of one of the `sizes`, if given), or
    None: the readers of dates and times check what they read and say what was wrong in their words."""
    if not isinstance(raw, str) or (sizes is not None and len(raw) not in sizes):
        return None
    try:
        return parse(raw)
    except ValueError:
        return None


def need(found: T | None, message: str) -> T:
    """What a reader found, or the field's error when the text did not read."""
    if found is None:
        raise invalid(message)
    return found


def _an_instant(text: Any) -> datetime:
    parsed = iso(datetime.fromisoformat, text, range(41))
    if parsed is None or parsed.tzinfo is None or parsed.year not in YEARS:
        raise ValueError("not ISO 8601 with an offset")
    return parsed


def _a_day(text: Any) -> date:
    parsed = iso(date.fromisoformat, text, (10,))
    if parsed is None or parsed.year not in YEARS:
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


def invalid(message: str, **context: Any) -> PydanticCustomError:
    """What a validator raises: `message` is what the client reads (`context` travels with the error)."""
    return PydanticCustomError("invalid", message, context or None)


def problem(message: str, loc: tuple[int | str, ...] = (), value: Any = None) -> InitErrorDetails:
    """One error of several that a rule raises together, at `loc` (below the field it is raised from)."""
    return InitErrorDetails(type=invalid(message), loc=loc, input=value)


def field_error(model: str, field: str, message: str) -> ValidationError:
    """An error a model-wide rule raises against one field (a rule over several fields still names the
    field a person should change)."""
    return ValidationError.from_exception_data(model, [problem(message, (field,))])


def fields_of(model: type[BaseModel], source: object, **given: Any) -> dict[str, Any]:
    """The values of `model`'s fields: those `given`, and every other read from the attribute of `source`
    (a row, a domain object) with the field's name. An answer built from what it shows then names only
    the fields it renames or reshapes."""
    return {**{name: getattr(source, name) for name in model.model_fields if name not in given}, **given}


def read(model: type[M], source: object, **given: Any) -> M:
    """`model` with the values of `fields_of`."""
    return model(**fields_of(model, source, **given))


def local_span(row: Any, zone: ZoneInfo) -> dict[str, datetime]:
    """A row's `starts_at` and `ends_at` as an answer's `start` and `end`, with the practice's offset."""
    return {"start": row.starts_at.astimezone(zone), "end": row.ends_at.astimezone(zone)}
