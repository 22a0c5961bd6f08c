"""A therapist's availability over the API: the rules they may set (PUT /api/v1/me/availability), the time
off they take (POST /api/v1/me/time-off), the windows of GET /api/v1/me/appointments and of anyone's
free slots, and what each of them answers.

The choices a therapist has (session lengths, slot steps, weekdays, how many intervals) are declared here
once: the validators, the OpenAPI document and the availability page all read these constants.

Three checks need the world outside the request and are given to validation as its context
(services/availability.py `therapist_context` and `slot_context`): `locations` (the therapist's practice
location ids: hours hang on one of them), `zone` and `now` (dates are local days, and a date or a window
may already be over), and for slots `session_lengths` and `usual_minutes`. Every bad field is named in
one 422, with the messages and paths (`weekly_hours[2].end`, `settings.horizon_days`) the API had before
the schemas.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime, time, timedelta
from typing import Annotated, Any, ClassVar
from zoneinfo import ZoneInfo

import annotated_types as at
from pydantic import (
    AfterValidator,
    Field,
    PlainSerializer,
    PlainValidator,
    ValidationError,
    ValidationInfo,
    WithJsonSchema,
    model_validator,
)
from pydantic_core import InitErrorDetails

from massage_booking import models
from massage_booking.models import AppointmentStatus
from massage_booking.schemas.base import (
    CLOCK_SCHEMA,
    Date,
    IfMissing,
    QueryModel,
    RequestModel,
    ResponseModel,
    Says,
    Timestamp,
    context_of,
    invalid,
    iso,
    local_span,
    need,
    parsed,
    problem,
    read,
)
from massage_booking.schemas.errors import restated

WEEKDAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")
SLOT_STEPS = (5, 10, 15, 20, 30, 60)
SESSION_LENGTH_CHOICES = (30, 45, 60, 75, 90, 120)
MAX_INTERVALS = 100  # weekly or extra intervals in one save; a real week has a handful
MAX_REASON = 200
MAX_SLOT_WINDOW = timedelta(days=31)  # one call's slot window: a month, like a booking calendar shows
# Dates and times people may give: far enough from year 1 and 9999 that converting zones and adding a
# window or a horizon cannot overflow `datetime`, and late enough that every zone has whole-minute offsets
# (before about 1900 zoneinfo gives local mean time, like -04:56:02, which RFC 3339 cannot write).
YEARS = range(1900, 9000)
LocalDate = date  # a model with a field named `date` reads its annotations by this name

START_MESSAGE = 'Give the start as "HH:MM" (24-hour, in 5-minute steps), like "09:00".'
END_MESSAGE = 'Give the end as "HH:MM" (24-hour, in 5-minute steps), like "17:00"; use "23:55" at most.'
WEEKDAY_MESSAGE = 'Give the weekday as "monday" ... "sunday" (or 0 = Monday ... 6).'
LOCATION_MESSAGE = "Choose one of your practice locations."
SPAN_MESSAGE = "Time off can span at most a year; add another for longer."
PASSED_MESSAGE = "This time has already passed."
BOUND_MESSAGE = 'Give a date like "2026-12-01" or an ISO 8601 time.'
EXTRA_DAY_MESSAGE = 'Give the date as "YYYY-MM-DD".'
PART_START_MESSAGE = (
    'Give the start as ISO 8601, like "2026-12-24T12:00" (your local time) or with an offset.'
)
PART_END_MESSAGE = 'Give the end as ISO 8601, like "2026-12-24T17:00".'


# --- reading values -----------------------------------------------------------------------------------


def _fail(*messages: str, at_: tuple[int | str, ...] = ()) -> ValidationError:
    """Several messages for one field (or for the field at `at_` below it), raised from a validator."""
    return ValidationError.from_exception_data("availability", [problem(m, at_) for m in messages])


def _clock(raw: Any) -> time | None:
    """ "HH:MM" (24-hour) on a 5-minute boundary, or None."""
    value = iso(time.fromisoformat, raw, (5,))
    return value if value is not None and raw[2] == ":" and value.minute % 5 == 0 else None


def _day(raw: Any) -> date | None:
    value = iso(date.fromisoformat, raw, (10,))
    return value if value is not None and value.year in YEARS else None


def _moment(raw: Any, zone: ZoneInfo) -> datetime | None:
    """An ISO 8601 time, with its offset or in the practice's local time, or None."""
    value = iso(datetime.fromisoformat, raw, range(16, 41))
    if value is None or value.year not in YEARS:
        return None
    return value.replace(tzinfo=zone) if value.tzinfo is None else value


def whole_days(first: date, last: date, zone: ZoneInfo) -> tuple[datetime, datetime]:
    """Local midnight of the first day to the midnight after the last."""
    return datetime.combine(first, time(0), zone), datetime.combine(last + timedelta(days=1), time(0), zone)


def _kept(description: str | None = None, **schema: Any) -> Any:
    """A field that may be left out (it then keeps its stored value); `null` is not a value for it, so
    the document shows no default. `schema` adds to the field's JSON Schema."""

    def written(found: dict[str, Any]) -> None:
        found.pop("default", None)
        found.update(schema)

    return Field(None, description=description, json_schema_extra=written)


def _inline(model: type[RequestModel]) -> dict[str, Any]:
    """A nested model written out where it is used, so the docs page lists its fields by path
    (`weekly_hours[].weekday`, `settings.horizon_days`)."""
    return model.model_json_schema()


# --- PUT /api/v1/me/availability ------------------------------------------------------------------------


def _lengths(value: list[int]) -> list[int]:
    if not value or any(m not in SESSION_LENGTH_CHOICES for m in value):
        raise ValueError("not offered")
    return sorted(set(value))


_CHOICES = ", ".join(map(str, SESSION_LENGTH_CHOICES))


class SettingsChange(RequestModel):
    """Settings to change; those left out keep their value."""

    model_config = RequestModel.model_config | {"extra": "forbid"}
    unknown_field: ClassVar[str] = "Unknown setting."

    buffer_before_minutes: Annotated[
        int, at.Ge(0), at.Le(240), Says("Buffer before sessions: 0 to 240 minutes.")
    ] = _kept()
    buffer_after_minutes: Annotated[
        int, at.Ge(0), at.Le(240), Says("Buffer after sessions: 0 to 240 minutes.")
    ] = _kept()
    min_notice_hours: Annotated[
        int, at.Ge(0), at.Le(720), Says("Minimum notice: 0 to 720 hours (30 days).")
    ] = _kept()
    horizon_days: Annotated[int, at.Ge(1), at.Le(365), Says("Booking horizon: 1 to 365 days.")] = _kept()
    slot_step_minutes: Annotated[
        int,
        at.Predicate(SLOT_STEPS.__contains__),
        Says(f"Start times every {', '.join(map(str, SLOT_STEPS))} minutes."),
    ] = _kept(enum=list(SLOT_STEPS))
    session_lengths: Annotated[
        list[int],
        AfterValidator(_lengths),
        Says(f"Offer at least one session length among {_CHOICES} minutes."),
    ] = _kept(
        "Lengths offered, in minutes.",
        items={"type": "integer", "enum": list(SESSION_LENGTH_CHOICES)},
        minItems=1,
    )
    works_public_holidays: Annotated[bool, Says("Say true or false: do you work on public holidays?")] = (
        _kept("false: your state's public holidays are closed days, like time off (default true).")
    )


def _weekday(raw: Any) -> int:
    if type(raw) is int and 0 <= raw <= 6:
        return raw
    if isinstance(raw, str) and raw.strip().lower() in WEEKDAYS:
        return WEEKDAYS.index(raw.strip().lower())
    raise invalid(WEEKDAY_MESSAGE)


def _location(raw: Any, info: ValidationInfo) -> int:
    """One of the therapist's locations; left out (or null), the only one, if there is only one."""
    locations: frozenset[int] = context_of(info, "locations")
    if raw is None and len(locations) == 1:
        return next(iter(locations))
    if type(raw) is int and raw in locations:
        return raw
    raise invalid(LOCATION_MESSAGE)


def _end(raw: Any, info: ValidationInfo) -> time:
    found = need(_clock(raw), END_MESSAGE)
    start = info.data.get("start")  # absent when the start itself was wrong
    if start is not None and found <= start:
        raise invalid("The end must be after the start (hours cannot run past midnight).")
    return found


def _extra_day(raw: Any, info: ValidationInfo) -> date:
    found = need(_day(raw), EXTRA_DAY_MESSAGE)
    if found < context_of(info, "now").astimezone(context_of(info, "zone")).date():
        raise invalid("This date has passed.")
    return found


_DAY_SCHEMA = {"type": "string", "format": "date", "description": "A date, YYYY-MM-DD."}
_WEEKDAY_SCHEMA = {
    "anyOf": [{"type": "string", "enum": list(WEEKDAYS)}, {"type": "integer", "minimum": 0, "maximum": 6}],
    "description": '"monday" ... "sunday", or 0 (Monday) ... 6.',
}
LocationId = Annotated[
    int,
    PlainValidator(_location),
    WithJsonSchema(
        {"type": "integer", "description": "One of your practice locations; optional with a single location."}
    ),
]
Start = Annotated[
    time, IfMissing(START_MESSAGE), *parsed(lambda raw: need(_clock(raw), START_MESSAGE), CLOCK_SCHEMA)
]
End = Annotated[time, IfMissing(END_MESSAGE), *parsed(_end, CLOCK_SCHEMA)]


class WeeklyHoursChange(RequestModel):
    """Hours on one weekday, every week (unknown keys are ignored)."""

    weekday: Annotated[int, IfMissing(WEEKDAY_MESSAGE), *parsed(_weekday, _WEEKDAY_SCHEMA)]
    start: Start
    end: End
    location_id: LocationId = Field(None, validate_default=True)


class ExtraHoursChange(RequestModel):
    """Hours on one date, on top of the weekly hours (unknown keys are ignored)."""

    date: Annotated[LocalDate, IfMissing(EXTRA_DAY_MESSAGE), *parsed(_extra_day, _DAY_SCHEMA)]
    start: Start
    end: End
    location_id: LocationId = Field(None, validate_default=True)


def _settings(raw: Any, info: ValidationInfo) -> SettingsChange:
    if not isinstance(raw, dict):
        raise invalid("Send settings as an object.")
    try:
        return SettingsChange.model_validate(raw, context=info.context)
    except ValidationError as exc:
        raise ValidationError.from_exception_data("settings", restated(exc, SettingsChange)) from None


def _intervals(model: type[WeeklyHoursChange] | type[ExtraHoursChange]) -> tuple[Any, ...]:
    """A list of intervals, each checked on its own so that every bad one is named at once, and the good
    ones checked against each other: two that overlap on the same day and location are almost always a
    typing slip, named on the later one's start. The list is documented with each item written out."""
    first = next(iter(model.model_fields))  # the day: a weekday, or a date
    what = f"Send each interval as an object with {first}, start and end."

    def day(item: Any) -> tuple[int, Any]:
        return item.location_id, getattr(item, first)

    def validate(raw: Any, info: ValidationInfo) -> list[Any]:
        if not isinstance(raw, list):
            raise invalid("Send a list.")
        if len(raw) > MAX_INTERVALS:
            raise invalid(f"At most {MAX_INTERVALS} intervals.")
        good: list[tuple[int, Any]] = []
        errors: list[InitErrorDetails] = []
        for n, item in enumerate(raw):
            if not isinstance(item, dict):
                errors.append(problem(what, (n,), item))
                continue
            try:
                good.append((n, model.model_validate(item, context=info.context)))
            except ValidationError as exc:
                errors.extend(restated(exc, model, (n,)))
        ordered = sorted(good, key=lambda pair: (day(pair[1]), pair[1].start))
        for (_, before), (n, after) in zip(ordered, ordered[1:], strict=False):
            if day(before) == day(after) and after.start < before.end:
                message = f"Overlaps the hours before it on the same day (until {before.end:%H:%M})."
                errors.append(problem(message, (n, "start")))
        if errors:
            raise ValidationError.from_exception_data(model.__name__, errors)
        return [item for _, item in good]

    schema = {"type": "array", "items": _inline(model), "maxItems": MAX_INTERVALS}
    return parsed(validate, schema)


class AvailabilityUpdate(RequestModel):
    """A key left out keeps its stored value; a list given replaces the stored list."""

    model_config = RequestModel.model_config | {"extra": "forbid"}
    unknown_field: ClassVar[str] = "Unknown field: send settings, weekly_hours and extra_hours."

    settings: Annotated[SettingsChange, *parsed(_settings, _inline(SettingsChange))] = _kept()
    weekly_hours: Annotated[list[WeeklyHoursChange], *_intervals(WeeklyHoursChange)] = _kept(
        "Replaces every weekly interval."
    )
    extra_hours: Annotated[list[ExtraHoursChange], *_intervals(ExtraHoursChange)] = _kept(
        "Replaces every extra interval (dates not yet past)."
    )

    def changed_settings(self) -> dict[str, Any]:
        """The settings given, by name, as they are to be stored."""
        return {} if self.settings is None else self.settings.model_dump(exclude_unset=True)


# --- POST /api/v1/me/time-off ---------------------------------------------------------------------------


def _last_day(raw: Any, info: ValidationInfo) -> date:
    last = need(_day(raw), 'Give the last day off as "YYYY-MM-DD".')
    first = info.data.get("start_date")
    if first is None:
        return last
    if last < first:
        raise invalid("The last day off must not be before the first.")
    if (last - first).days > 366:
        raise invalid(SPAN_MESSAGE)
    if whole_days(first, last, context_of(info, "zone"))[1] <= context_of(info, "now"):
        raise invalid(PASSED_MESSAGE)
    return last


def _part_start(raw: Any, info: ValidationInfo) -> datetime:
    return need(_moment(raw, context_of(info, "zone")), PART_START_MESSAGE)


def _part_end(raw: Any, info: ValidationInfo) -> datetime:
    end = need(_moment(raw, context_of(info, "zone")), PART_END_MESSAGE)
    start = info.data.get("start")
    if start is None:
        return end
    problems = []
    if end <= start:
        problems.append("The end must be after the start.")
    elif end - start > timedelta(days=367):
        problems.append(SPAN_MESSAGE)
    if end <= context_of(info, "now"):
        problems.append(PASSED_MESSAGE)
    if problems:
        raise _fail(*problems)
    return end


def _time_off_schema(schema: dict[str, Any]) -> None:
    """Two shapes, as the docs page shows them: whole local days, or part of a day."""
    found = schema["properties"]
    days = {name: found[name] for name in ("start_date", "end_date", "date", "reason")}
    part = {name: found[name] for name in ("start", "end", "reason")}
    schema.clear()
    schema["description"] = "Whole days (end inclusive) or exact times; not already over, at most a year."
    schema["anyOf"] = [
        {
            "type": "object",
            "properties": days,
            "anyOf": [{"required": ["start_date"]}, {"required": ["date"]}],
            "description": "Whole local days.",
        },
        {"type": "object", "properties": part, "required": ["start", "end"], "description": "Part of a day."},
    ]


_MOMENT = {"type": "string", "minLength": 16}


class TimeOffRequest(RequestModel):
    """Whole days: `{"start_date": "2026-12-24", "end_date": "2026-12-26"}` (end inclusive; `date` alone
    for one day) runs from local midnight to the midnight after the last day. Part of a day: `{"start":
    ..., "end": ...}` as ISO 8601, with an offset or in the practice's local time."""

    model_config = RequestModel.model_config | {"json_schema_extra": _time_off_schema}

    reason: Annotated[
        str,
        at.MaxLen(MAX_REASON),
        Says(f"Use at most {MAX_REASON} characters."),
        WithJsonSchema(
            {"type": "string", "description": "Why (shown only to you).", "maxLength": MAX_REASON}
        ),
    ] = ""
    start_date: Annotated[
        LocalDate,
        *parsed(lambda raw: need(_day(raw), 'Give the first day off as "YYYY-MM-DD".'), _DAY_SCHEMA),
    ] = _kept()
    end_date: Annotated[LocalDate, *parsed(_last_day, _DAY_SCHEMA)] = _kept()
    date: Annotated[LocalDate, WithJsonSchema(_DAY_SCHEMA)] = _kept()  # read as start_date (`_shape`)
    start: Annotated[
        datetime,
        IfMissing(PART_START_MESSAGE),
        *parsed(
            _part_start, {**_MOMENT, "description": "ISO 8601; local time of the practice without an offset."}
        ),
    ] = _kept()
    end: Annotated[
        datetime,
        IfMissing(PART_END_MESSAGE),
        *parsed(_part_end, {**_MOMENT, "description": "ISO 8601, after the start."}),
    ] = _kept()

    @model_validator(mode="before")
    @classmethod
    def _shape(cls, data: Any) -> Any:
        """Whole days when `date` or `start_date` is given (`date` is the first day, and the last day is
        the first unless said); then `start` and `end` are not read. Otherwise both times are needed."""
        if not isinstance(data, dict):
            return data
        if "date" in data or "start_date" in data:
            first = data.get("start_date", data.get("date"))
            last = data.get("end_date", first)
            kept = {k: v for k, v in data.items() if k not in ("date", "start", "end")}
            return {**kept, "start_date": first, "end_date": last}
        return {"start": None, "end": None, **{k: v for k, v in data.items() if k != "end_date"}}

    def span(self, zone: ZoneInfo) -> tuple[datetime, datetime]:
        """Its start and end, aware."""
        if self.start_date is not None:
            return whole_days(self.start_date, self.end_date, zone)
        return self.start, self.end

    @property
    def note(self) -> str:
        return self.reason.strip()


# --- windows: GET /api/v1/therapists/{id}/slots and GET /api/v1/me/appointments -------------------------


def _bound(raw: Any, info: ValidationInfo) -> datetime:
    """A date in the practice's zone (its midnight) or an ISO 8601 time."""
    zone: ZoneInfo = context_of(info, "zone")
    day = _day(raw)
    if day is not None:
        return datetime.combine(day, time(0), zone)
    found = _moment(raw, zone)
    if found is None:
        raise invalid(BOUND_MESSAGE)
    return found


def _offered(raw: Any, info: ValidationInfo) -> int:
    lengths: Sequence[int] = context_of(info, "session_lengths")
    if raw is None:
        return int(context_of(info, "usual_minutes"))
    if isinstance(raw, str) and raw.isascii() and raw.isdigit() and int(raw) in lengths:
        return int(raw)
    raise invalid(f"This therapist offers sessions of {', '.join(map(str, lengths))} minutes.")


Bound = Annotated[datetime | None, *parsed(_bound)]


class WindowQuery(QueryModel):
    """`from` and `to` (dates in the practice's time zone, `to` exclusive, or ISO 8601 instants): a window
    of at most `LIMIT`, from now for `DEFAULT` when left out. Once validated both are set."""

    DEFAULT: ClassVar[timedelta] = timedelta(days=30)
    LIMIT: ClassVar[timedelta] = timedelta(days=92)
    FUTURE: ClassVar[bool] = False  # whether a window already over is refused

    from_: Bound = Field(
        None,
        alias="from",
        description="Start: a date in the practice's zone (YYYY-MM-DD) or an ISO 8601 time.",
    )
    to: Bound = Field(None, description="End (exclusive), as `from`.")

    @model_validator(mode="wrap")
    @classmethod
    def _window(cls, data: Any, handler: Any, info: ValidationInfo) -> Any:
        found = handler(data)
        now: datetime = context_of(info, "now")
        start = found.from_ or now
        end = found.to or start + cls.DEFAULT
        if end <= start:
            raise _fail("The end of the window must be after its start.", at_=("to",))
        if end - start > cls.LIMIT:
            raise _fail(f"Ask for at most {cls.LIMIT.days} days at a time.", at_=("to",))
        if cls.FUTURE and end <= now:
            raise _fail("This window has already passed.", at_=("to",))
        return found.model_copy(update={"from_": start, "to": end})

    @property
    def start(self) -> datetime:
        assert self.from_ is not None
        return self.from_

    @property
    def end(self) -> datetime:
        assert self.to is not None
        return self.to


class AppointmentsQuery(WindowQuery):
    """Appointments in a window (default the next 30 days, at most 92 days at a time)."""


class SlotQuery(WindowQuery):
    """A slot window (default 7 days from now, at most 31) and a session length (one of the therapist's;
    their usual one when left out). A window already over is refused; one begun counts from now."""

    DEFAULT: ClassVar[timedelta] = timedelta(days=7)
    LIMIT: ClassVar[timedelta] = MAX_SLOT_WINDOW
    FUTURE: ClassVar[bool] = True

    minutes: Annotated[int, *parsed(_offered)] = Field(
        None,
        validate_default=True,
        description="One of the therapist's session lengths; default their usual.",
    )

    @model_validator(mode="wrap")
    @classmethod
    def _from_now(cls, data: Any, handler: Any, info: ValidationInfo) -> Any:
        found = handler(data)
        return found.model_copy(update={"from_": max(found.start, context_of(info, "now"))})


# --- answers ---------------------------------------------------------------------------------------------

Clock = Annotated[
    time, PlainSerializer(lambda value: f"{value:%H:%M}", return_type=str), WithJsonSchema(CLOCK_SCHEMA)
]


class _Aliased(ResponseModel, validate_by_name=True, serialize_by_alias=True):
    """An answer with a field named like a Python keyword (`from`)."""


class ScheduleLocation(ResponseModel):
    id: int
    label: str
    city: str
    state: str
    time_zone: str


class BookingSettings(ResponseModel):
    buffer_before_minutes: int
    buffer_after_minutes: int
    min_notice_hours: int
    horizon_days: int
    slot_step_minutes: int
    session_lengths: list[int]
    works_public_holidays: bool


class WeeklyHours(ResponseModel):
    id: int
    location_id: int
    weekday: str = Field(json_schema_extra={"enum": list(WEEKDAYS)})
    start: Clock
    end: Clock


class ExtraHours(ResponseModel):
    id: int
    location_id: int
    date: Date
    start: Clock
    end: Clock


class TimeOff(ResponseModel):
    """Time off, with the practice's offset."""

    id: int
    start: Timestamp
    end: Timestamp
    reason: str


class Availability(ResponseModel):
    """A therapist's hours, settings and time off not yet over."""

    therapist_id: int
    time_zone: str
    locations: list[ScheduleLocation]
    settings: BookingSettings
    weekly_hours: list[WeeklyHours]
    extra_hours: list[ExtraHours]
    time_off: list[TimeOff]
    next_available: Timestamp | None


class AppointmentPatient(ResponseModel):
    id: int
    name: str


class Appointment(ResponseModel):
    """An appointment as its therapist sees it (no health details)."""

    id: int
    start: Timestamp
    end: Timestamp
    minutes: int
    status: AppointmentStatus
    location_id: int
    patient: AppointmentPatient


class AppointmentList(_Aliased):
    from_: Timestamp = Field(alias="from")
    to: Timestamp
    appointments: list[Appointment]


class TimeOffAdded(ResponseModel):
    """The time off; booked sessions inside it are kept, listed, and warned about."""

    time_off: TimeOff
    conflicting_appointments: list[Appointment]
    warning: Annotated[str | None, WithJsonSchema({"type": "string"})] = Field(
        None, description="Present when sessions fall inside the time off.", exclude_if=lambda v: v is None
    )


class Slot(ResponseModel):
    start: Timestamp
    end: Timestamp
    location_id: int


class Slots(_Aliased):
    therapist_id: int
    time_zone: str
    minutes: int
    session_lengths: list[int]
    from_: Timestamp = Field(alias="from")
    to: Timestamp
    slots: list[Slot]


# --- building the answers ---------------------------------------------------------------------------------


def time_off_of(entry: models.TimeOff, zone: ZoneInfo) -> TimeOff:
    return read(TimeOff, entry, **local_span(entry, zone))


def appointment_of(appointment: models.Appointment) -> Appointment:
    patient = AppointmentPatient(id=appointment.patient_id, name=appointment.patient.display_name)
    span = local_span(appointment, ZoneInfo(appointment.location.time_zone))
    return read(Appointment, appointment, **span, patient=patient)


def availability_reply(found: Any) -> Availability:
    """Hours, settings and time off, times with the practice's offset, from what services/availability.py
    `availability_of` finds (`profile`, `settings`, `weekly`, `extra`, `time_off` rows and `time_zone`)."""
    profile, settings, zone = found.profile, found.settings, ZoneInfo(found.time_zone)
    return Availability(
        therapist_id=profile.id,
        time_zone=found.time_zone,
        locations=[read(ScheduleLocation, loc) for loc in profile.locations],
        settings=read(BookingSettings, settings),
        weekly_hours=[
            read(WeeklyHours, w, weekday=WEEKDAYS[w.weekday], start=w.starts_at, end=w.ends_at)
            for w in found.weekly
        ],
        extra_hours=[read(ExtraHours, e, date=e.day, start=e.starts_at, end=e.ends_at) for e in found.extra],
        time_off=[time_off_of(t, zone) for t in found.time_off],
        next_available=settings.next_available_at and settings.next_available_at.astimezone(zone),
    )


def time_off_added(
    entry: models.TimeOff, conflicts: Sequence[models.Appointment], zone: ZoneInfo
) -> TimeOffAdded:
    warning = None
    if conflicts:
        warning = (
            f"{len(conflicts)} booked session(s) fall in this time off. They are still booked: "
            "move or cancel them with your patients."
        )
    return TimeOffAdded(
        time_off=time_off_of(entry, zone),
        conflicting_appointments=[appointment_of(a) for a in conflicts],
        warning=warning,
    )
