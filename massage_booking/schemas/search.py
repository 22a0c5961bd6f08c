"""Searching therapists near a place: the query string of GET /api/v1/therapists (and of the search pages,
which read the same parameters) and the page of results.

Every parameter arrives as text; empty values count as absent (an HTML form sends every field). Each field
checks itself, so one 422 names every bad parameter at once. Two checks need the world outside the query
string, and are given to validation as its context (services/search.py `validation_context`): `locate`
(what `near` means, with the geocoder's suggestions when it is not understood) and `plan_exists`.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Annotated, Any, TypeVar

from pydantic import Field, ValidationInfo
from pydantic_core import PydanticCustomError

from massage_booking.domain import course_search as grammar
from massage_booking.domain import evidence
from massage_booking.domain.course_fit import TIMES_OF_DAY, WEEKDAY_NAMES, Wishes
from massage_booking.domain.course_patterns import PatternRequest
from massage_booking.domain.course_search import CourseSearch
from massage_booking.domain.errors import ValidationFailed
from massage_booking.domain.geo import KILOMETERS, MILES, UNIT_NAMES, UNITS
from massage_booking.domain.vocabulary import LANGUAGES, MODALITIES
from massage_booking.models import CredentialKind, GeocodePrecision
from massage_booking.schemas.base import MAX_ID, Date, IfMissing, QueryModel, Repeated, ResponseModel, parsed
from massage_booking.schemas.places import Location
from massage_booking.schemas.therapists import InsuranceNetwork, SessionRate

PER_PAGE_DEFAULT = 20
PER_PAGE_MAX = 100
DEFAULT_RADIUS = 25
MAX_WITHIN_DAYS = 365
MAX_RADIUS = {MILES: 250.0, KILOMETERS: 400.0}
SORTS = ("distance", "soonest")
TRUE = frozenset({"true", "1", "on", "yes"})
FALSE = frozenset({"false", "0", "off", "no"})

T = TypeVar("T")


def _invalid(message: str, **context: Any) -> PydanticCustomError:
    # Braces in a message would be read as placeholders of the context.
    return PydanticCustomError("invalid", message.replace("{", "{{").replace("}", "}}"), context or None)


def _checked(parse: Callable[[str, Callable[[str, str], None]], T | None], raw: str) -> T | None:
    """Run a domain parser that reports through a `fail(field, message)` callback; its first message
    becomes this field's error."""
    problems: list[str] = []
    value = parse(raw, lambda _field, message: problems.append(message))
    if problems:
        raise _invalid(problems[0])
    return value


def _text(raw: Any) -> str:
    if isinstance(raw, list):  # a repeated parameter: comma-separated and repeated values alike
        return ",".join(str(item) for item in raw)
    if not isinstance(raw, str):
        raise _invalid("Give text.")
    return raw


def _near(raw: Any, info: ValidationInfo) -> Any:
    locate = (info.context or {}).get("locate")
    if locate is None:
        raise RuntimeError("validate SearchParams with services.search.validation_context()")
    try:
        return locate(_text(raw), field="near")
    except ValidationFailed as exc:
        messages = (exc.details.get("fields") or {}).get("near") or [exc.message]
        raise _invalid(messages[0], suggestions=list(exc.details.get("suggestions") or [])) from None


def _unit(raw: Any) -> str:
    unit = _text(raw).lower()
    if unit not in UNITS:
        raise _invalid('Choose "mi" (miles) or "km" (kilometers).')
    return unit


def _radius(raw: Any, info: ValidationInfo) -> float:
    unit = info.data.get("unit")  # absent when the unit itself was wrong: then the cap cannot be checked
    unit_name = UNIT_NAMES.get(unit or MILES, "miles")
    try:
        radius = float(_text(raw))
    except ValueError:
        radius = math.nan
    if not math.isfinite(radius):
        raise _invalid(f"Enter the radius as a number of {unit_name}, like 25.")
    if radius <= 0:
        raise _invalid(f"The radius must be more than 0 {unit_name}.")
    if unit is not None and radius > MAX_RADIUS[unit]:
        raise _invalid(f"The radius can be at most {MAX_RADIUS[unit]:g} {unit_name}.")
    return radius


def _flag(raw: Any) -> bool:
    value = _text(raw).lower()
    if value in TRUE:
        return True
    if value in FALSE:
        return False
    raise _invalid('Use "true" or "false".')


def _plan(raw: Any, info: ValidationInfo) -> int:
    try:
        plan_id = int(_text(raw))
    except ValueError:
        raise _invalid("Give the insurance plan by its id, a whole number like 3.") from None
    plan_exists = (info.context or {}).get("plan_exists")
    if plan_exists is None:
        raise RuntimeError("validate SearchParams with services.search.validation_context()")
    if not 1 <= plan_id <= MAX_ID or not plan_exists(plan_id):
        raise _invalid(f"We do not know insurance plan {plan_id}.")
    return plan_id


def _condition(raw: Any) -> str:
    term = _text(raw)
    found = evidence.find(term)
    if found is None:
        raise _invalid(f'We do not know the condition "{term}". See /api/v1/conditions for the list.')
    return found.id


def _choice(name: str, choices: tuple[str, ...]) -> Callable[[Any], str]:
    def canonical(raw: Any) -> str:
        """The canonical spelling of `raw` among `choices`, matched case-insensitively."""
        text = _text(raw)
        for choice in choices:
            if choice.casefold() == text.casefold():
                return choice
        raise _invalid(f'"{text}" is not a {name} we list. Choose one of: {", ".join(choices)}.')

    return canonical


def _whole(low: int, high: int | None, message: str) -> Callable[[Any], int]:
    def whole(raw: Any) -> int:
        try:
            value = int(_text(raw))
        except ValueError:
            raise _invalid(message) from None
        if value < low or (high is not None and value > high):
            raise _invalid(message)
        return value

    return whole


def _course(raw: Any) -> tuple[PatternRequest, str | None]:
    """The course's shape and the condition it is the plan of; the grammar's first complaint otherwise."""
    request, condition_id = _checked(grammar.shape, _text(raw)) or (None, None)
    assert request is not None  # the grammar complains whenever it gives no request
    return request, condition_id


def _wish(parse: Callable[[str, Callable[[str, str], None]], frozenset[Any] | None]) -> Callable[..., Any]:
    def wish(raw: Any, info: ValidationInfo) -> frozenset[Any]:
        value = _checked(parse, _text(raw)) or frozenset()
        # No course asked for (a course that is wrong is reported on its own field, and missing here).
        if value and "course" in info.data and info.data["course"] is None:
            raise _invalid(grammar.WISHES_NEED_A_COURSE)
        return value

    return wish


def _sort(raw: Any) -> str:
    sort = _text(raw).lower()
    if sort not in SORTS:
        raise _invalid('Sort by "distance" or "soonest".')
    return sort


def _enum(values: Any, **extra: Any) -> dict[str, Any]:
    return {"type": "string", "enum": [str(v) for v in values], **extra}


class SearchParams(QueryModel):
    """Nearby therapists, filtered: the parameters of a search."""

    near: Annotated[
        Any, IfMissing("Enter a ZIP code or a city and state, like 10016 or Boston, MA."), *parsed(_near)
    ] = Field(description='ZIP, "City, ST" or "lat,lon".', examples=["10001"])
    unit: Annotated[str, *parsed(_unit, _enum(UNITS, default=MILES))] = Field(
        MILES, description="Distance unit (any case)."
    )
    radius: Annotated[float, *parsed(_radius)] = Field(
        float(DEFAULT_RADIUS), description="Radius in `unit` (default 25; at most 250 mi or 400 km)."
    )
    oncology_trained: Annotated[bool, *parsed(_flag, _enum(["true", "false"]))] = Field(
        False, description="Only oncology-trained therapists."
    )
    accepting_new_patients: Annotated[bool, *parsed(_flag, _enum(["true", "false"]))] = Field(
        False, description="Only those taking new patients."
    )
    insurance: Annotated[int | None, *parsed(_plan)] = Field(
        None, description="An insurance plan id: in-network therapists only."
    )
    condition: Annotated[str | None, *parsed(_condition)] = Field(
        None, description="A condition (id, name, alias or ICD-10 code)."
    )
    modality: Annotated[str | None, *parsed(_choice("modality", MODALITIES), _enum(MODALITIES))] = Field(
        None, description="A modality (any case)."
    )
    language: Annotated[str | None, *parsed(_choice("language", LANGUAGES), _enum(LANGUAGES))] = Field(
        None, description="A language spoken (any case)."
    )
    available_within_days: Annotated[
        int | None, *parsed(_whole(1, MAX_WITHIN_DAYS, f"Give a number of days from 1 to {MAX_WITHIN_DAYS}."))
    ] = Field(None, description=f"Only those free within this many days (1 to {MAX_WITHIN_DAYS}).")
    course: Annotated[tuple[PatternRequest, str | None] | None, *parsed(_course)] = Field(
        None,
        description="Only therapists with whom this whole course fits, every session free: a condition "
        "(its plan from the evidence registry) or a plan written sessions x minutes @ sessions a week, like "
        '"12x60@3". Results then say when it could start (`course_start`) and sort by that unless '
        "`sort=distance`.",
        examples=["cipn"],
    )
    weekdays: Annotated[frozenset[int], Repeated(), *parsed(_wish(grammar.weekdays))] = Field(
        frozenset(),
        description="With `course`: comma-separated weekdays (monday ... sunday); every weekday of the "
        "course must be among them.",
        examples=["monday,wednesday,friday"],
    )
    time_of_day: Annotated[frozenset[str], Repeated(), *parsed(_wish(grammar.times_of_day))] = Field(
        frozenset(),
        description="With `course`: comma-separated parts of the day, morning (before 12:00), afternoon "
        "(12:00 to 17:00) or evening (after 17:00); every session must lie inside one.",
        examples=["morning"],
    )
    sort: Annotated[str | None, *parsed(_sort, _enum(SORTS))] = Field(
        None, description="Order (default distance; soonest with `course`)."
    )
    page: Annotated[int, *parsed(_whole(1, None, "The page must be a whole number, 1 or more."))] = Field(
        1, description="Page number, from 1."
    )
    per_page: Annotated[
        int, *parsed(_whole(1, PER_PAGE_MAX, f"Show between 1 and {PER_PAGE_MAX} results per page."))
    ] = Field(PER_PAGE_DEFAULT, description=f"Results per page, 1 to {PER_PAGE_MAX}.")

    @property
    def course_search(self) -> CourseSearch | None:
        if self.course is None:
            return None
        request, condition_id = self.course
        return CourseSearch(request, condition_id, Wishes(self.weekdays, self.time_of_day))

    @property
    def order(self) -> str:
        return self.sort or ("soonest" if self.course is not None else SORTS[0])


# --- the results ---------------------------------------------------------------------------------------


class ResultCredential(ResponseModel):
    kind: CredentialKind
    issuer: str
    training_hours: int
    expires_on: Date | None


class LicenseState(ResponseModel):
    state: str


class TherapistSummary(ResponseModel):
    """A search result."""

    id: int
    name: str
    distance: float = Field(description="Distance from the origin in `unit`.")
    unit: str = Field(json_schema_extra={"enum": list(UNITS)})
    location: Location
    oncology_credentials: list[ResultCredential] = Field(description="Verified credentials active today.")
    insurance: list[InsuranceNetwork]
    modalities: list[str]
    languages: list[str]
    accepting_new_patients: bool
    session_rate: SessionRate
    license: LicenseState
    next_available: str | None = Field(
        description="Soonest free start of the usual session length.",
        json_schema_extra={"format": "date-time"},
    )
    course_start: str | None = Field(
        description="With `course`: the first session of the soonest whole course that fits the wishes "
        "(every session free). Null without `course`.",
        json_schema_extra={"format": "date-time"},
    )


class Origin(ResponseModel):
    lat: float
    lon: float
    label: str
    precision: GeocodePrecision


class CourseEcho(ResponseModel):
    """The course searched for, as understood (null without `course`)."""

    condition: str | None = Field(description="The condition whose plan it is; null for a plan.")
    session_minutes: int
    sessions_per_week: float
    total_sessions: int
    weekdays: list[str] = Field(json_schema_extra={"items": {"enum": list(WEEKDAY_NAMES), "type": "string"}})
    time_of_day: list[str] = Field(
        json_schema_extra={"items": {"enum": list(TIMES_OF_DAY), "type": "string"}}
    )


class SearchResults(ResponseModel):
    origin: Origin
    results: list[TherapistSummary]
    total: int
    page: int
    per_page: int
    pages: int
    radius: float
    unit: str = Field(json_schema_extra={"enum": list(UNITS)})
    sort: str = Field(json_schema_extra={"enum": list(SORTS)})
    available_within_days: int | None
    course: CourseEcho | None
