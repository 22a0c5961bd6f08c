"""The therapist's availability pages: the week editor and settings, extra hours on a date, time off, the
calendar-feed buttons, and a week view of their bookings, all in the practice's local time.

The forms here have rows that come and go (a day can have any number of intervals), so they are read
from `request.form` by small classes rather than WTForms; CSRF is checked app-wide by CSRFProtect. Each
class turns what was typed into the very document `PUT /api/v1/me/availability` or `POST
/api/v1/me/time-off` takes, validated by the same models (schemas/availability.py) into the command the
one service takes, so the page and the API share one set of rules; the field errors
(`weekly_hours[3].end`) are mapped back onto the inputs they came from. A form rejects only what it
cannot put into the document at all (a part-day time off without a date).

Each POST calls one service and commits, then redirects with a message; on a validation error it rolls
back and shows the same page with the messages beside the fields and a 422, so nothing is half-saved.
Time off that covers booked sessions is not a flash message: the answer is a page listing them, because
they stay booked and the therapist has to act on each one.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from flask import abort, flash, redirect, render_template, request, url_for
from flask_login import current_user

from massage_booking.domain.errors import DomainError, NotFound, ValidationFailed
from massage_booking.extensions import db
from massage_booking.formatting import clock, clock_range, wall_range
from massage_booking.models import Appointment, ExtraHours, PracticeLocation, Role, TimeOff, utcnow
from massage_booking.schemas.availability import (
    SESSION_LENGTH_CHOICES,
    SLOT_STEPS,
    WEEKDAYS,
    AvailabilityUpdate,
    TimeOffRequest,
)
from massage_booking.schemas.parse import parse_body
from massage_booking.services import availability, calendar_feed, slots, soonest_cache
from massage_booking.services.availability import Availability
from massage_booking.transactions import atomic
from massage_booking.web import bp
from massage_booking.web.session_auth import roles_required

DAY_NAMES = tuple(day.capitalize() for day in WEEKDAYS)
SETTING_LABELS = {
    "buffer_before_minutes": "Break before each session (minutes)",
    "buffer_after_minutes": "Break after each session (minutes)",
    "min_notice_hours": "Minimum notice (hours)",
    "horizon_days": "How far ahead patients can book (days)",
    "slot_step_minutes": "Offer start times every",
    "session_lengths": "Session lengths you offer",
    "works_public_holidays": "Public holidays",
}
_ROW_INPUT = re.compile(r"^w(\d{1,9})-(\d)-(\d{1,3})-(start|end|remove)$")
_WEEKLY_ERROR = re.compile(r"^weekly_hours\[(\d+)\](?:\.(\w+))?$")
_EXTRA_ERROR = re.compile(r"^extra_hours\[(\d+)\](?:\.(\w+))?$")
MAX_FORM_ROWS = 40  # rows per day the form reads; a real day has two or three


# --- how times read -----------------------------------------------------------------------------------


def short_day(day: date) -> str:
    """ "Tue 2 Dec": a day in a week the reader is already looking at."""
    return f"{day:%a} {day.day} {day:%b}"


def full_day(day: date) -> str:
    """ "Tue 2 Dec 2025": a day that may be in another year (time off, extra hours)."""
    return f"{short_day(day)} {day.year}"


def describe_span(start: datetime, end: datetime, zone: ZoneInfo) -> str:
    """Time off as a person says it: whole days, hours on one day, or from one moment to another."""
    start, end = start.astimezone(zone), end.astimezone(zone)
    if start.time() == time(0) and end.time() == time(0):
        last = end.date() - timedelta(days=1)
        if last == start.date():
            return f"{full_day(start.date())}, all day"
        return f"{full_day(start.date())} to {full_day(last)}, whole days"
    if start.date() == end.date():
        return f"{full_day(start.date())}, {clock_range(start, end)}"
    return f"{full_day(start.date())} {clock(start)} to {full_day(end.date())} {clock(end)}"


def describe_appointment(appointment: Appointment, zone: ZoneInfo) -> str:
    """One booking as a sentence a screen reader reads whole:
    "Tue 2 Dec, 10:00 AM–11:00 AM EST, 60 min, Ann Lee, booked"."""
    start, end = appointment.starts_at.astimezone(zone), appointment.ends_at.astimezone(zone)
    day = short_day(start.date())
    who = appointment.patient.display_name
    return f"{day}, {clock_range(start, end)}, {appointment.minutes} min, {who}, {status_text(appointment)}"


def status_text(appointment: Appointment) -> str:
    return appointment.status.value.replace("_", " ")


def zone_note(zone: ZoneInfo, now: datetime) -> str:
    """ "EST, UTC−05:00 today": what the zone's clocks read as now, since that changes twice a year."""
    local = now.astimezone(zone)
    minutes = int((local.utcoffset() or timedelta(0)).total_seconds()) // 60
    hours, mins = divmod(abs(minutes), 60)
    sign = "+" if minutes >= 0 else "\u2212"
    return f"{local:%Z}, UTC{sign}{hours:02d}:{mins:02d} today"


def _hhmm(value: time) -> str:
    """ "HH:MM", as time inputs and the API's documents take it; never for reading (that is formatting)."""
    return f"{value:%H:%M}"


def clock_text(raw: str) -> str:
    """A time input's value as the service's "HH:MM": browsers may add ":00" seconds (a whole minute);
    anything else is passed on as typed, for validation to refuse in its own words."""
    text = raw.strip()
    return text[:5] if re.fullmatch(r"\d\d:\d\d:00(\.0+)?", text) else text


def _as_int(raw: str) -> int | str:
    """A typed number as an int, or the text itself so that validation says what is wrong with it."""
    text = raw.strip()
    return int(text) if re.fullmatch(r"-?\d{1,6}", text) else text


# --- the week editor and settings -----------------------------------------------------------------------


@dataclass
class IntervalRow:
    """One "from ... to ..." row of the week editor, as shown or as typed."""

    location_id: int
    weekday: int
    index: int
    start: str = ""
    end: str = ""
    saved: bool = False  # shown with a "Remove" box (a blank row for a new interval has none)
    remove: bool = False

    @property
    def prefix(self) -> str:
        return f"w{self.location_id}-{self.weekday}-{self.index}"

    @property
    def blank(self) -> bool:
        return not self.start.strip() and not self.end.strip()

    @property
    def label(self) -> str:
        return f"{DAY_NAMES[self.weekday]}, hours {self.index + 1}"


@dataclass
class DayRows:
    location_id: int
    weekday: int
    rows: list[IntervalRow]

    @property
    def name(self) -> str:
        return DAY_NAMES[self.weekday]

    @property
    def next_index(self) -> int:
        return max((row.index for row in self.rows), default=-1) + 1


@dataclass
class FieldErrors:
    """Messages by input id, in the order the page shows the inputs, plus those that belong to no input."""

    labels: dict[str, str] = field(default_factory=dict)  # input id -> label, in page order
    by_id: dict[str, list[str]] = field(default_factory=dict)
    unplaced: list[str] = field(default_factory=list)

    def add(self, input_id: str | None, messages: Iterable[str]) -> None:
        if input_id is None or input_id not in self.labels:
            self.unplaced.extend(messages)
        else:
            self.by_id.setdefault(input_id, []).extend(messages)

    def __bool__(self) -> bool:
        return bool(self.by_id or self.unplaced)

    def get(self, input_id: str) -> list[str]:
        return self.by_id.get(input_id, [])

    def summary(self) -> list[tuple[str, str, str]]:
        """(input id, label, message) in page order, for the list of links above the form."""
        return [(i, label, " ".join(self.by_id[i])) for i, label in self.labels.items() if i in self.by_id]


class WeekForm:
    """The week editor and the settings: one form, one save, one `update_availability` document."""

    SETTINGS = ("buffer_before_minutes", "buffer_after_minutes", "min_notice_hours", "horizon_days")

    def __init__(self, locations: Sequence[PracticeLocation]) -> None:
        self.locations = list(locations)
        self.days: dict[tuple[int, int], DayRows] = {
            (loc.id, wd): DayRows(loc.id, wd, []) for loc in self.locations for wd in range(7)
        }
        self.settings: dict[str, str] = {}
        self.session_lengths: list[str] = []
        self.works_public_holidays = True
        self.errors = FieldErrors()
        self._sent: list[IntervalRow] = []  # document index -> row, for mapping errors back

    @classmethod
    def from_availability(cls, found: Availability) -> WeekForm:
        form = cls(found.profile.locations)
        for hours in found.weekly:
            day = form.days.get((hours.location_id, hours.weekday))
            if day is not None:
                day.rows.append(
                    IntervalRow(
                        hours.location_id,
                        hours.weekday,
                        day.next_index,
                        _hhmm(hours.starts_at),
                        _hhmm(hours.ends_at),
                        saved=True,
                    )
                )
        settings = found.settings
        form.settings = {name: str(getattr(settings, name)) for name in (*cls.SETTINGS, "slot_step_minutes")}
        form.session_lengths = [str(m) for m in settings.session_lengths]
        form.works_public_holidays = settings.works_public_holidays
        form._finish()
        return form

    @classmethod
    def from_request(cls, found: Availability, data: Mapping[str, Any]) -> WeekForm:
        """The form as typed. Rows are read by name (`w<location>-<weekday>-<n>-start`), so rows added
        in the browser by availability.js are read like the ones the page sent."""
        form = cls(found.profile.locations)
        typed: dict[tuple[int, int, int], IntervalRow] = {}
        for name in data:
            match = _ROW_INPUT.match(name)
            if match is None:
                continue
            location_id, weekday, index = int(match[1]), int(match[2]), int(match[3])
            if weekday > 6 or index >= MAX_FORM_ROWS:
                continue
            row = typed.setdefault(
                (location_id, weekday, index), IntervalRow(location_id, weekday, index, saved=True)
            )
            if match[4] == "remove":
                row.remove = True
            else:
                setattr(row, match[4], str(data.get(name, "")))
        for key in sorted(typed):
            row = typed[key]
            row.saved = row.remove or not row.blank  # a row with times gets its "Remove" box
            day = form.days.get((row.location_id, row.weekday))
            if day is None:  # not one of this therapist's locations: sent on, validation names it
                day = form.days[(row.location_id, row.weekday)] = DayRows(row.location_id, row.weekday, [])
            day.rows.append(row)
        form.settings = {name: str(data.get(name, "")) for name in (*cls.SETTINGS, "slot_step_minutes")}
        getlist = getattr(data, "getlist", None)
        form.session_lengths = [str(v) for v in getlist("session_lengths")] if getlist else []
        # A radio pair, so "no" is sent too (an unchecked checkbox would send nothing).
        form.works_public_holidays = str(data.get("works_public_holidays", "yes")) != "no"
        form._finish()
        return form

    def _finish(self) -> None:
        """Blank rows to type new intervals into (two on a free day, one beside saved hours), and the
        labels in page order for the error summary."""
        for day in self.days.values():
            if day.rows and all(row.blank for row in day.rows[-1:]):
                continue
            for _ in range(1 if day.rows else 2):
                day.rows.append(IntervalRow(day.location_id, day.weekday, day.next_index))
        for location in self.locations:
            for weekday in range(7):
                for row in self.days[(location.id, weekday)].rows:
                    where = f" ({location.label})" if len(self.locations) > 1 else ""
                    self.errors.labels[f"{row.prefix}-start"] = f"{row.label}{where}, from"
                    self.errors.labels[f"{row.prefix}-end"] = f"{row.label}{where}, to"
        for name, label in SETTING_LABELS.items():
            self.errors.labels[name] = label

    def day_rows(self, location_id: int) -> list[DayRows]:
        return [self.days[(location_id, wd)] for wd in range(7)]

    def document(self) -> dict[str, Any]:
        """The `PUT /api/v1/me/availability` body this form stands for. Blank rows and rows marked for
        removal are left out; everything else is sent as typed, to be judged by validation."""
        self._sent = []
        weekly = []
        for key in sorted(self.days):
            for row in self.days[key].rows:
                if row.remove or row.blank:
                    continue
                self._sent.append(row)
                weekly.append(
                    {
                        "location_id": row.location_id,
                        "weekday": WEEKDAYS[row.weekday],
                        "start": clock_text(row.start),
                        "end": clock_text(row.end),
                    }
                )
        settings: dict[str, Any] = {name: _as_int(self.settings.get(name, "")) for name in self.SETTINGS}
        settings["slot_step_minutes"] = _as_int(self.settings.get("slot_step_minutes", ""))
        settings["session_lengths"] = [_as_int(v) for v in self.session_lengths]
        settings["works_public_holidays"] = self.works_public_holidays
        return {"settings": settings, "weekly_hours": weekly}

    def apply(self, exc: DomainError) -> None:
        """Put the validation's messages beside the inputs they are about."""
        fields = exc.details.get("fields", {})
        for name, messages in fields.items():
            self.errors.add(self._input_for(name), messages)
        if not fields:
            self.errors.unplaced.append(exc.message)

    def _input_for(self, name: str) -> str | None:
        if name.startswith("settings."):
            return name.removeprefix("settings.")
        match = _WEEKLY_ERROR.match(name)
        if match and int(match[1]) < len(self._sent):
            row = self._sent[int(match[1])]
            return f"{row.prefix}-end" if match[2] == "end" else f"{row.prefix}-start"
        return None


# --- extra hours on a date ------------------------------------------------------------------------------


class ExtraForm:
    """ "Add hours on one date": sent as the list of upcoming extra hours plus the new one, since the
    service replaces the whole list (past dates are left out: they no longer matter, and the service
    refuses to store a date that has passed)."""

    INPUTS = {
        "extra_date": "Date",
        "extra_start": "From",
        "extra_end": "To",
        "extra_location": "Location",
    }

    def __init__(self, data: Mapping[str, Any] | None = None) -> None:
        data = data or {}
        self.values = {name: str(data.get(name, "")).strip() for name in self.INPUTS}
        self.errors = FieldErrors(labels=dict(self.INPUTS))
        self._existing: list[ExtraHours] = []

    def document(self, existing: Sequence[ExtraHours], locations: Sequence[PracticeLocation]) -> dict:
        self._existing = list(existing)
        new: dict[str, Any] = {
            "date": self.values["extra_date"],
            "start": clock_text(self.values["extra_start"]),
            "end": clock_text(self.values["extra_end"]),
        }
        if len(locations) > 1:
            new["location_id"] = _as_int(self.values["extra_location"])
        return {"extra_hours": [*extra_items(self._existing), new]}

    def apply(self, exc: DomainError) -> None:
        fields = exc.details.get("fields", {})
        new_index = len(self._existing)
        for name, messages in fields.items():
            match = _EXTRA_ERROR.match(name)
            if match is None:
                self.errors.add(None, messages)
            elif int(match[1]) == new_index:
                target = {"date": "extra_date", "end": "extra_end", "location_id": "extra_location"}
                self.errors.add(target.get(match[2] or "", "extra_start"), messages)
            elif int(match[1]) < new_index:  # an overlap is reported on the later of the two intervals
                old = self._existing[int(match[1])]
                self.errors.add(
                    "extra_start",
                    [
                        "These hours overlap extra hours you already have that day, "
                        f"{wall_range(old.starts_at, old.ends_at)}."
                    ],
                )
        if not fields:
            self.errors.unplaced.append(exc.message)


def extra_items(entries: Iterable[ExtraHours]) -> list[dict[str, Any]]:
    return [
        {
            "location_id": e.location_id,
            "date": e.day.isoformat(),
            "start": _hhmm(e.starts_at),
            "end": _hhmm(e.ends_at),
        }
        for e in entries
    ]


def upcoming_extra(found: Availability, today: date) -> list[ExtraHours]:
    return sorted((e for e in found.extra if e.day >= today), key=lambda e: (e.day, e.starts_at))


# --- time off -------------------------------------------------------------------------------------------


class TimeOffForm:
    """Two small forms on the page: whole days (first and last date), or part of one day (date, from,
    to). Both become the `POST /api/v1/me/time-off` document."""

    DAYS = {"start_date": "First day off", "end_date": "Last day off", "days_reason": "Note for yourself"}
    PART = {
        "part_date": "Date",
        "part_start": "From",
        "part_end": "To",
        "part_reason": "Note for yourself",
    }

    def __init__(self, kind: str = "days", data: Mapping[str, Any] | None = None) -> None:
        self.kind = kind if kind in ("days", "part") else "days"
        data = data or {}
        self.values = {name: str(data.get(name, "")).strip() for name in (*self.DAYS, *self.PART)}
        self.errors = FieldErrors(labels=dict(self.DAYS if self.kind == "days" else self.PART))

    def document(self) -> dict[str, Any] | None:
        """The service's document, or None when a part-day request lacks a date or time (the form says
        which; joined into one ISO string, the service's message would be about ISO 8601)."""
        v = self.values
        if self.kind == "days":
            return {
                "start_date": v["start_date"],
                "end_date": v["end_date"] or v["start_date"],
                "reason": v["days_reason"],
            }
        missing = {
            "part_date": "Choose the date.",
            "part_start": "Give the time your time off starts.",
            "part_end": "Give the time it ends.",
        }
        for name, message in missing.items():
            if not v[name]:
                self.errors.add(name, [message])
        if self.errors:
            return None
        return {
            "start": f"{v['part_date']}T{clock_text(v['part_start'])}",
            "end": f"{v['part_date']}T{clock_text(v['part_end'])}",
            "reason": v["part_reason"],
        }

    def apply(self, exc: DomainError) -> None:
        fields = exc.details.get("fields", {})
        if self.kind == "days":
            target = {"start_date": "start_date", "date": "start_date", "end_date": "end_date"}
            target["reason"] = "days_reason"
        else:
            target = {"start": "part_start", "end": "part_end", "reason": "part_reason"}
        for name, messages in fields.items():
            self.errors.add(target.get(name), messages)
        if not fields:
            self.errors.unplaced.append(exc.message)


@dataclass(frozen=True)
class BookedSession:
    """A booked session inside new time off, as the warning page lists it."""

    when: str  # "Tue 2 Dec 2025, 10:00 AM–11:00 AM EST"
    minutes: int
    patient: str
    status: str

    @classmethod
    def of(cls, appointment: Appointment, zone: ZoneInfo) -> BookedSession:
        start, end = appointment.starts_at.astimezone(zone), appointment.ends_at.astimezone(zone)
        return cls(
            f"{full_day(start.date())}, {clock_range(start, end)}",
            appointment.minutes,
            appointment.patient.display_name,
            status_text(appointment),
        )


@dataclass(frozen=True)
class TimeOffRow:
    id: int
    when: str
    reason: str
    week: str  # the Monday of its first week, for a link to the calendar


# --- the page -------------------------------------------------------------------------------------------


def _page(
    found: Availability,
    now: datetime,
    *,
    week_form: WeekForm | None = None,
    extra_form: ExtraForm | None = None,
    time_off_form: TimeOffForm | None = None,
    status: int = 200,
) -> Any:
    zone = ZoneInfo(found.time_zone)
    today = now.astimezone(zone).date()
    # From the cache where it is still valid, computed afresh where not (a stored start can be past).
    next_at = soonest_cache.next_available(db.session, [found.profile.id], now).get(found.profile.id)
    return (
        render_template(
            "web/availability.html",
            found=found,
            profile=found.profile,
            locations=found.profile.locations,
            zone_name=found.time_zone,
            zone_note=zone_note(zone, now),
            usual_minutes=slots.usual_length(found.settings),
            week_form=week_form or WeekForm.from_availability(found),
            extra_form=extra_form or ExtraForm(),
            time_off_form=time_off_form or TimeOffForm(),
            extra=[
                (e, f"{full_day(e.day)}, {wall_range(e.starts_at, e.ends_at)}")
                for e in upcoming_extra(found, today)
            ],
            time_off=[_time_off_row(t, zone) for t in found.time_off],
            next_available=(
                f"{full_day(next_at.astimezone(zone).date())}, {clock(next_at.astimezone(zone))}"
                if next_at
                else None
            ),
            feed_created=calendar_feed.feed_status(db.session, current_user),
            slot_steps=SLOT_STEPS,
            session_length_choices=SESSION_LENGTH_CHOICES,
            setting_labels=SETTING_LABELS,
            min_date=today.isoformat(),
        ),
        status,
    )


def _time_off_row(entry: TimeOff, zone: ZoneInfo) -> TimeOffRow:
    first = entry.starts_at.astimezone(zone).date()
    monday = first - timedelta(days=first.weekday())
    return TimeOffRow(
        entry.id, describe_span(entry.starts_at, entry.ends_at, zone), entry.reason, monday.isoformat()
    )


def _no_profile(message: str) -> Any:
    return render_template("web/availability_no_profile.html", message=message)


def _update(document: Mapping[str, Any], now: datetime) -> Availability:
    """Validate the form's document as the API validates its body, then save it."""
    context = availability.therapist_context(db.session, current_user, now)
    change = parse_body(AvailabilityUpdate, document, context)
    return availability.update_availability(db.session, current_user, change, now)


@bp.get("/me/availability")
@roles_required(Role.THERAPIST)
def my_availability() -> Any:
    """The week editor, settings, extra hours, time off and calendar feed, on one page."""
    now = utcnow()
    try:
        found = availability.availability_of(db.session, current_user, now)
    except NotFound as exc:  # no practice profile yet: say where to make one
        return _no_profile(exc.message)
    return _page(found, now)


@bp.post("/me/availability")
@roles_required(Role.THERAPIST)
def save_availability() -> Any:
    """Save the week's hours and the settings together (all or nothing)."""
    now = utcnow()
    found = availability.availability_of(db.session, current_user, now)
    form = WeekForm.from_request(found, request.form)
    try:
        with atomic():
            saved = _update(form.document(), now)
    except ValidationFailed as exc:
        form.apply(exc)
        return _page(
            availability.availability_of(db.session, current_user, now), now, week_form=form, status=422
        )
    flash(_saved_message(saved), "success")
    return redirect(url_for("web.my_availability"))


def _saved_message(found: Availability) -> str:
    """What patients will see now, so the therapist knows the save did what they meant."""
    zone = ZoneInfo(found.time_zone)
    at = found.settings.next_available_at
    if not found.weekly and not found.extra:
        return "Saved. You have no working hours, so patients cannot book any time with you."
    if at is None:
        return (
            f"Saved. No {slots.usual_length(found.settings)}-minute session fits your hours in the "
            f"next {found.settings.horizon_days} days, so patients cannot book yet."
        )
    local = at.astimezone(zone)
    return f"Saved. The soonest time patients can book is {full_day(local.date())}, {clock(local)}."


@bp.post("/me/availability/extra")
@roles_required(Role.THERAPIST)
def add_extra_hours() -> Any:
    """Add hours on one date, on top of the weekly hours."""
    now = utcnow()
    found = availability.availability_of(db.session, current_user, now)
    today = now.astimezone(ZoneInfo(found.time_zone)).date()
    form = ExtraForm(request.form)
    document = form.document(upcoming_extra(found, today), found.profile.locations)
    try:
        with atomic():
            _update(document, now)
    except ValidationFailed as exc:
        form.apply(exc)
        return _page(
            availability.availability_of(db.session, current_user, now), now, extra_form=form, status=422
        )
    flash("Extra hours added. Patients can book them now.", "success")
    return redirect(url_for("web.my_availability", _anchor="extra-heading"))


@bp.post("/me/availability/extra/<int:extra_id>/remove")
@roles_required(Role.THERAPIST)
def remove_extra_hours(extra_id: int) -> Any:
    """Remove one date's extra hours (sessions already booked in them stay booked)."""
    now = utcnow()
    found = availability.availability_of(db.session, current_user, now)
    today = now.astimezone(ZoneInfo(found.time_zone)).date()
    upcoming = upcoming_extra(found, today)
    if not any(e.id == extra_id for e in found.extra):
        abort(404, description="You have no extra hours with that id.")
    kept = [e for e in upcoming if e.id != extra_id]
    with atomic():
        _update({"extra_hours": extra_items(kept)}, now)
    flash("Extra hours removed. Patients can no longer book them.", "success")
    return redirect(url_for("web.my_availability", _anchor="extra-heading"))


@bp.post("/me/time-off")
@roles_required(Role.THERAPIST)
def add_time_off() -> Any:
    """Add time off. Booked sessions inside it are kept and listed on the answer page, never cancelled."""
    now = utcnow()
    form = TimeOffForm(request.form.get("kind", "days"), request.form)
    document = form.document()
    if document is None:  # a part-day request without its date or times
        return _page(
            availability.availability_of(db.session, current_user, now), now, time_off_form=form, status=422
        )
    try:
        with atomic():
            context = availability.therapist_context(db.session, current_user, now)
            wanted = parse_body(TimeOffRequest, document, context)
            result = availability.add_time_off(db.session, current_user, wanted, now)
            zone = _zone_of_current_user()
            when = describe_span(result.time_off.starts_at, result.time_off.ends_at, zone)
            conflicts = [BookedSession.of(a, zone) for a in result.conflicts]
            week = result.time_off.starts_at.astimezone(zone).date().isoformat()
    except ValidationFailed as exc:
        form.apply(exc)
        return _page(
            availability.availability_of(db.session, current_user, now), now, time_off_form=form, status=422
        )
    if conflicts:
        return render_template(
            "web/time_off_warning.html",
            when=when,
            reason=result.time_off.reason,
            conflicts=conflicts,
            week=week,
        )
    flash(f"Time off added: {when}. Patients can no longer book then.", "success")
    return redirect(url_for("web.my_availability", _anchor="time-off-heading"))


def _zone_of_current_user() -> ZoneInfo:
    """The zone the service read time off in: the first practice location's (services/availability.py)."""
    return ZoneInfo(availability.own_profile(db.session, current_user).locations[0].time_zone)


@bp.post("/me/time-off/<int:time_off_id>/remove")
@roles_required(Role.THERAPIST)
def remove_time_off(time_off_id: int) -> Any:
    """Remove time off (confirmed on the page first): its hours open for booking again."""
    with atomic():
        availability.remove_time_off(db.session, current_user, time_off_id, utcnow())
    flash("Time off removed. Patients can book those hours again.", "success")
    return redirect(url_for("web.my_availability", _anchor="time-off-heading"))


# --- the week view --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class CalendarEntry:
    kind: str  # "appointment" or "time-off"
    time: str  # "10:00–11:00 EST", "All day"
    text: str  # the rest, after the time
    label: str  # the whole entry as one sentence, for screen readers
    status: str = ""
    appointment_id: int | None = None  # links the entry to its session page (web/therapist_sessions.py)


@dataclass
class CalendarDay:
    day: date
    today: bool
    hours: list[str]
    entries: list[CalendarEntry]

    @property
    def heading(self) -> str:
        return short_day(self.day)

    @property
    def sessions(self) -> int:
        return sum(1 for e in self.entries if e.kind == "appointment")


def _week_start(raw: str | None, today: date) -> tuple[date, str | None]:
    """The Monday of the week holding `raw` (a date), or of this week; a message if `raw` is unreadable."""
    day = today
    problem = None
    if raw:
        try:
            day = date.fromisoformat(raw.strip())
        except ValueError:
            problem = f'"{raw[:40]}" is not a date like 2026-12-01, so this is the current week.'
    return day - timedelta(days=day.weekday()), problem


def _calendar_days(
    found: Availability, appointments: Sequence[Appointment], monday: date, today: date
) -> list[CalendarDay]:
    zone = ZoneInfo(found.time_zone)
    days = []
    for offset in range(7):
        day = monday + timedelta(days=offset)
        start = datetime.combine(day, time(0), zone)
        end = datetime.combine(day + timedelta(days=1), time(0), zone)
        hours = sorted(
            [(w.starts_at, w.ends_at) for w in found.weekly if w.weekday == day.weekday()]
            + [(e.starts_at, e.ends_at) for e in found.extra if e.day == day]
        )
        entries: list[tuple[datetime, CalendarEntry]] = []
        for t in found.time_off:
            if t.starts_at < end and t.ends_at > start:
                lo, hi = max(t.starts_at, start).astimezone(zone), min(t.ends_at, end).astimezone(zone)
                span = "All day" if lo == start and hi == end else clock_range(lo, hi)
                note = f": {t.reason}" if t.reason else ""
                entry = CalendarEntry(
                    "time-off", span, f"Time off{note}", f"{short_day(day)}, {span}, time off{note}"
                )
                entries.append((lo, entry))
        for a in appointments:
            local = a.starts_at.astimezone(zone)
            if local.date() == day:
                span = clock_range(local, a.ends_at.astimezone(zone))
                status = status_text(a)
                text = f"{a.minutes} min, {a.patient.display_name}, {status}"
                label = describe_appointment(a, zone)
                entries.append((local, CalendarEntry("appointment", span, text, label, status, a.id)))
        entries.sort(key=lambda pair: (pair[0], pair[1].kind != "time-off"))
        days.append(
            CalendarDay(
                day,
                day == today,
                [wall_range(s, e) for s, e in hours],
                [entry for _, entry in entries],
            )
        )
    return days


@bp.get("/me/calendar")
@roles_required(Role.THERAPIST)
def my_calendar() -> Any:
    """One week (Monday to Sunday, local time) of bookings, time off and working hours."""
    now = utcnow()
    try:
        zone_name = availability.own_profile(db.session, current_user).locations[0].time_zone
    except NotFound as exc:
        return _no_profile(exc.message)
    zone = ZoneInfo(zone_name)
    today = now.astimezone(zone).date()
    monday, problem = _week_start(request.args.get("week"), today)
    start = datetime.combine(monday, time(0), zone)
    end = datetime.combine(monday + timedelta(days=7), time(0), zone)
    # The rules and the time off not yet over when the week began, so a past week keeps its days off.
    with atomic():  # the audit record of this read
        found = availability.availability_of(db.session, current_user, min(now, start.astimezone(UTC)))
        appointments = availability.my_appointments(db.session, current_user, start, end)
        days = _calendar_days(found, appointments, monday, today)
    this_monday = today - timedelta(days=today.weekday())
    return render_template(
        "web/calendar_week.html",
        days=days,
        monday=monday,
        sunday=monday + timedelta(days=6),
        problem=problem,
        zone_name=zone_name,
        zone_abbreviation=f"{now.astimezone(zone):%Z}",
        sessions=sum(day.sessions for day in days),
        is_this_week=monday == this_monday,
        previous_week=(monday - timedelta(days=7)).isoformat(),
        next_week=(monday + timedelta(days=7)).isoformat(),
        full_day=full_day,
    )
