"""A therapist's availability: the rules they set, the time off they take, and the free slots that follow.

Reads and writes go through here so that every change that can move a therapist's soonest free start
(hours, extra hours, settings, time off, bookings) also refreshes the copy search sorts by
(`refresh_next_available`), in the same transaction. The slot arithmetic itself is `domain.scheduling`.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import and_, delete, func, or_, select
from sqlalchemy.orm import Session

from massage_booking.domain import scheduling
from massage_booking.domain.errors import Forbidden, NotFound, ValidationFailed
from massage_booking.models import (
    HELD_STATUS,
    OCCUPYING_STATUSES,
    Appointment,
    AvailabilitySettings,
    Course,
    CourseStatus,
    ExtraHours,
    PracticeLocation,
    Role,
    TherapistProfile,
    TimeOff,
    User,
    WeeklyHours,
)
from massage_booking.models.schedules import DEFAULT_SESSION_LENGTHS
from massage_booking.services import audit, public_holidays

WEEKDAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")
SLOT_STEPS = (5, 10, 15, 20, 30, 60)
SESSION_LENGTH_CHOICES = (30, 45, 60, 75, 90, 120)
MAX_SLOT_WINDOW = timedelta(days=31)  # one call's slot window: a month, like a booking calendar shows
MAX_INTERVALS = 100  # weekly or extra intervals in one save; a real week has a handful
# When nothing is free within the horizon, how far past it to look for the start that will come into
# reach (so the cached "nothing free" knows when it stops being true).
_LOOKAHEAD_PAST_HORIZON = timedelta(days=14)
_FOREVER = datetime(9999, 1, 1, tzinfo=UTC)
_IN_CHUNK = 5000  # ids per IN (...) list: far below SQLite's 32,766 and PostgreSQL's 65,535 parameters
# Dates and times people may give: far enough from year 1 and 9999 that converting zones and adding a
# window or a horizon cannot overflow `datetime`, and late enough that every zone has whole-minute offsets
# (before about 1900 zoneinfo gives local mean time, like -04:56:02, which RFC 3339 cannot write).
YEARS = range(1900, 9000)


@dataclass(frozen=True)
class Availability:
    """Everything the availability page and `GET /api/v1/me/availability` show."""

    profile: TherapistProfile
    settings: AvailabilitySettings
    weekly: list[WeeklyHours]
    extra: list[ExtraHours]
    time_off: list[TimeOff]  # not yet over, soonest first

    @property
    def time_zone(self) -> str:
        return self.profile.locations[0].time_zone if self.profile.locations else "UTC"


@dataclass(frozen=True)
class Slot:
    start: datetime  # aware, in the location's zone
    end: datetime
    location_id: int


# --- reading ------------------------------------------------------------------------------------------


def own_profile(session: Session, actor: User) -> TherapistProfile:
    """The acting therapist's profile; availability needs a practice location to hang hours on."""
    if actor.role is not Role.THERAPIST:
        raise Forbidden("Only therapists have availability.")
    profile = session.scalar(select(TherapistProfile).where(TherapistProfile.user_id == actor.id))
    if profile is None or not profile.locations:
        raise NotFound("Create your practice profile first: availability belongs to a practice location.")
    return profile


def settings_for(session: Session, therapist_id: int) -> AvailabilitySettings:
    """The therapist's settings row, or unsaved defaults (a GET must not write)."""
    found = session.get(AvailabilitySettings, therapist_id)
    if found is not None:
        return found
    return AvailabilitySettings(
        therapist_id=therapist_id,
        buffer_before_minutes=0,
        buffer_after_minutes=15,
        min_notice_hours=24,
        horizon_days=90,
        slot_step_minutes=15,
        session_lengths=list(DEFAULT_SESSION_LENGTHS),
        works_public_holidays=True,
    )


def _ensure_settings(session: Session, therapist_id: int) -> AvailabilitySettings:
    found = settings_for(session, therapist_id)
    if found not in session:
        session.add(found)
    return found


def availability_of(session: Session, actor: User, now: datetime) -> Availability:
    profile = own_profile(session, actor)
    location_ids = [loc.id for loc in profile.locations]
    weekly = list(
        session.scalars(
            select(WeeklyHours)
            .where(WeeklyHours.location_id.in_(location_ids))
            .order_by(WeeklyHours.location_id, WeeklyHours.weekday, WeeklyHours.starts_at)
        )
    )
    # Only dates not yet over: what is shown can be sent back unchanged (a PUT refuses past dates).
    today = now.astimezone(ZoneInfo(profile.locations[0].time_zone)).date()
    extra = list(
        session.scalars(
            select(ExtraHours)
            .where(ExtraHours.location_id.in_(location_ids), ExtraHours.day >= today)
            .order_by(ExtraHours.day, ExtraHours.starts_at)
        )
    )
    time_off = list(
        session.scalars(
            select(TimeOff)
            .where(TimeOff.therapist_id == profile.id, TimeOff.ends_at > now)
            .order_by(TimeOff.starts_at)
        )
    )
    return Availability(profile, settings_for(session, profile.id), weekly, extra, time_off)


def appointments_between(
    session: Session,
    therapist_id: int,
    start: datetime,
    end: datetime,
    *,
    occupying_at: datetime | None = None,
) -> list[Appointment]:
    """Appointments overlapping [start, end), earliest first; with `occupying_at`, only those whose time
    is taken at that instant: booked, attended or missed ones, and sessions held for a course whose
    payment hold is still running then. An expired hold is free time even before anything releases it."""
    stmt = select(Appointment).where(
        Appointment.therapist_id == therapist_id, Appointment.starts_at < end, Appointment.ends_at > start
    )
    if occupying_at is not None:
        held = select(Course.id).where(
            Course.status == CourseStatus.PENDING_PAYMENT, Course.hold_expires_at > occupying_at
        )
        stmt = stmt.where(
            or_(
                Appointment.status.in_(OCCUPYING_STATUSES),
                and_(Appointment.status == HELD_STATUS, Appointment.course_id.in_(held)),
            )
        )
    return list(session.scalars(stmt.order_by(Appointment.starts_at, Appointment.id)))


def earliest_hold_expiry(session: Session, therapist_id: int, now: datetime) -> datetime | None:
    """When the therapist's next payment hold runs out: a cached "next available" computed while it
    held a time stops being true then, since the time becomes free again."""
    return session.scalar(
        select(func.min(Course.hold_expires_at)).where(
            Course.therapist_id == therapist_id,
            Course.status == CourseStatus.PENDING_PAYMENT,
            Course.hold_expires_at > now,
        )
    )


def my_appointments(session: Session, actor: User, start: datetime, end: datetime) -> list[Appointment]:
    """The acting therapist's appointments in a window. Who is booked when is health information (it
    says a person receives care), so the read is audited."""
    profile = own_profile(session, actor)
    found = appointments_between(session, profile.id, start, end)
    audit.record(session, actor, "appointments.listed", "therapist", profile.id, count=len(found))
    return found


# --- changing the rules -------------------------------------------------------------------------------


def update_availability(
    session: Session, actor: User, data: Mapping[str, Any], now: datetime
) -> Availability:
    """Apply a PUT of the availability document: `settings`, `weekly_hours`, `extra_hours`; a key left
    out keeps its stored value, a list given replaces the stored list. All or nothing: one bad value
    gets a ValidationFailed naming it (e.g. `weekly_hours[2].end`) and nothing is changed."""
    profile = own_profile(session, actor)
    if not isinstance(data, Mapping):
        raise ValidationFailed("Send the availability as a JSON object.")
    unknown = set(data) - {"settings", "weekly_hours", "extra_hours"}
    errors: dict[str, list[str]] = {}

    def bad(field: str, message: str) -> None:
        errors.setdefault(field, []).append(message)

    for key in sorted(unknown):
        bad(key, "Unknown field: send settings, weekly_hours and extra_hours.")
    locations = {loc.id: loc for loc in profile.locations}
    today = now.astimezone(ZoneInfo(profile.locations[0].time_zone)).date()
    settings_values = _parse_settings(data.get("settings"), bad) if "settings" in data else None
    weekly = _parse_weekly(data["weekly_hours"], locations, bad) if "weekly_hours" in data else None
    extra = _parse_extra(data["extra_hours"], locations, today, bad) if "extra_hours" in data else None
    if errors:
        raise ValidationFailed.for_fields(errors)

    settings = _ensure_settings(session, profile.id)
    for name, value in (settings_values or {}).items():
        setattr(settings, name, value)
    if weekly is not None:
        session.execute(delete(WeeklyHours).where(WeeklyHours.location_id.in_(list(locations))))
        session.add_all(weekly)
    if extra is not None:
        session.execute(delete(ExtraHours).where(ExtraHours.location_id.in_(list(locations))))
        session.add_all(extra)
    session.flush()
    refresh_next_available(session, profile.id, now)
    audit.record(session, actor, "availability.updated", "therapist", profile.id, fields=sorted(data))
    session.flush()
    session.expire_all()  # reload the replaced hours in order, as a fresh read would
    return availability_of(session, actor, now)


def _parse_settings(raw: Any, bad: Any) -> dict[str, Any]:
    if not isinstance(raw, Mapping):
        bad("settings", "Send settings as an object.")
        return {}
    values: dict[str, Any] = {}
    bounds = {
        "buffer_before_minutes": (0, 240, "Buffer before sessions: 0 to 240 minutes."),
        "buffer_after_minutes": (0, 240, "Buffer after sessions: 0 to 240 minutes."),
        "min_notice_hours": (0, 720, "Minimum notice: 0 to 720 hours (30 days)."),
        "horizon_days": (1, 365, "Booking horizon: 1 to 365 days."),
    }
    for name in sorted(set(raw) - {*bounds, "slot_step_minutes", "session_lengths", "works_public_holidays"}):
        bad(f"settings.{name}", "Unknown setting.")
    for name, (low, high, message) in bounds.items():
        if name in raw:
            value = raw[name]
            if type(value) is not int or not low <= value <= high:
                bad(f"settings.{name}", message)
            else:
                values[name] = value
    if "slot_step_minutes" in raw:
        step = raw["slot_step_minutes"]
        if type(step) is not int or step not in SLOT_STEPS:
            bad("settings.slot_step_minutes", f"Start times every {', '.join(map(str, SLOT_STEPS))} minutes.")
        else:
            values["slot_step_minutes"] = step
    if "session_lengths" in raw:
        lengths = raw["session_lengths"]
        choices = ", ".join(map(str, SESSION_LENGTH_CHOICES))
        if (
            not isinstance(lengths, list)
            or not lengths
            or any(type(m) is not int or m not in SESSION_LENGTH_CHOICES for m in lengths)
        ):
            bad("settings.session_lengths", f"Offer at least one session length among {choices} minutes.")
        else:
            values["session_lengths"] = sorted(set(lengths))
    if "works_public_holidays" in raw:
        if type(raw["works_public_holidays"]) is not bool:
            bad("settings.works_public_holidays", "Say true or false: do you work on public holidays?")
        else:
            values["works_public_holidays"] = raw["works_public_holidays"]
    return values


def _parse_clock(raw: Any) -> time | None:
    """ "HH:MM" (24-hour) on a 5-minute boundary, or None."""
    if not isinstance(raw, str) or len(raw) != 5 or raw[2] != ":":
        return None
    try:
        value = time.fromisoformat(raw)
    except ValueError:
        return None
    return value if value.minute % 5 == 0 else None


def _parse_weekday(raw: Any) -> int | None:
    if type(raw) is int and 0 <= raw <= 6:
        return raw
    if isinstance(raw, str) and raw.strip().lower() in WEEKDAYS:
        return WEEKDAYS.index(raw.strip().lower())
    return None


def _location_of(item: Mapping[str, Any], locations: Mapping[int, PracticeLocation]) -> int | None:
    raw = item.get("location_id")
    if raw is None and len(locations) == 1:
        return next(iter(locations))
    return raw if type(raw) is int and raw in locations else None


def _interval(item: Any, field: str, bad: Any) -> tuple[time, time] | None:
    start, end = _parse_clock(item.get("start")), _parse_clock(item.get("end"))
    if start is None:
        bad(f"{field}.start", 'Give the start as "HH:MM" (24-hour, in 5-minute steps), like "09:00".')
    if end is None:
        bad(
            f"{field}.end",
            'Give the end as "HH:MM" (24-hour, in 5-minute steps), like "17:00"; use "23:55" at most.',
        )
    if start is None or end is None:
        return None
    if end <= start:
        bad(f"{field}.end", "The end must be after the start (hours cannot run past midnight).")
        return None
    return start, end


def _items(raw: Any, name: str, bad: Any) -> list[Any]:
    if not isinstance(raw, list):
        bad(name, "Send a list.")
        return []
    if len(raw) > MAX_INTERVALS:
        bad(name, f"At most {MAX_INTERVALS} intervals.")
        return []
    return raw


def _no_overlaps(found: list[tuple[Any, time, time, str]], bad: Any) -> None:
    """Two intervals on the same day and location that overlap are almost always a typing slip."""
    found.sort(key=lambda item: (item[0], item[1]))
    for (key_a, _, end_a, _), (key_b, start_b, _, field_b) in zip(found, found[1:], strict=False):
        if key_a == key_b and start_b < end_a:
            bad(f"{field_b}.start", f"Overlaps the hours before it on the same day (until {end_a:%H:%M}).")


def _parse_weekly(raw: Any, locations: Mapping[int, PracticeLocation], bad: Any) -> list[WeeklyHours]:
    rows: list[WeeklyHours] = []
    seen: list[tuple[Any, time, time, str]] = []
    for n, item in enumerate(_items(raw, "weekly_hours", bad)):
        field = f"weekly_hours[{n}]"
        if not isinstance(item, Mapping):
            bad(field, "Send each interval as an object with weekday, start and end.")
            continue
        weekday = _parse_weekday(item.get("weekday"))
        if weekday is None:
            bad(f"{field}.weekday", 'Give the weekday as "monday" ... "sunday" (or 0 = Monday ... 6).')
        location_id = _location_of(item, locations)
        if location_id is None:
            bad(f"{field}.location_id", "Choose one of your practice locations.")
        interval = _interval(item, field, bad)
        if weekday is None or location_id is None or interval is None:
            continue
        seen.append(((location_id, weekday), *interval, field))
        rows.append(
            WeeklyHours(location_id=location_id, weekday=weekday, starts_at=interval[0], ends_at=interval[1])
        )
    _no_overlaps(seen, bad)
    return rows


def _parse_extra(
    raw: Any, locations: Mapping[int, PracticeLocation], today: date, bad: Any
) -> list[ExtraHours]:
    rows: list[ExtraHours] = []
    seen: list[tuple[Any, time, time, str]] = []
    for n, item in enumerate(_items(raw, "extra_hours", bad)):
        field = f"extra_hours[{n}]"
        if not isinstance(item, Mapping):
            bad(field, "Send each interval as an object with date, start and end.")
            continue
        day = _parse_date(item.get("date"))
        if day is None:
            bad(f"{field}.date", 'Give the date as "YYYY-MM-DD".')
        elif day < today:
            bad(f"{field}.date", "This date has passed.")
            day = None
        location_id = _location_of(item, locations)
        if location_id is None:
            bad(f"{field}.location_id", "Choose one of your practice locations.")
        interval = _interval(item, field, bad)
        if day is None or location_id is None or interval is None:
            continue
        seen.append(((location_id, day), *interval, field))
        rows.append(ExtraHours(location_id=location_id, day=day, starts_at=interval[0], ends_at=interval[1]))
    _no_overlaps(seen, bad)
    return rows


def _parse_date(raw: Any) -> date | None:
    if not isinstance(raw, str) or len(raw) != 10:
        return None
    try:
        value = date.fromisoformat(raw)
    except ValueError:
        return None
    return value if value.year in YEARS else None


# --- time off -----------------------------------------------------------------------------------------


def parse_time_off(data: Any, zone: str, now: datetime) -> tuple[datetime, datetime, str]:
    """The (start, end, reason) of a time-off entry, from whole local dates or exact times.

    Whole days: `{"start_date": "2026-12-24", "end_date": "2026-12-26"}` (end inclusive; `date` alone
    for one day) runs from local midnight to the midnight after the last day. Part of a day: `{"start":
    ..., "end": ...}` as ISO 8601, with an offset or in the practice's local time.
    """
    if not isinstance(data, Mapping):
        raise ValidationFailed("Send the time off as a JSON object.")
    tz = ZoneInfo(zone)
    errors: dict[str, list[str]] = {}

    def bad(field: str, message: str) -> None:
        errors.setdefault(field, []).append(message)

    reason = data.get("reason", "")
    if not isinstance(reason, str) or len(reason) > 200:
        bad("reason", "Use at most 200 characters.")
        reason = ""
    start = end = None
    if "date" in data or "start_date" in data:
        first = _parse_date(data.get("start_date", data.get("date")))
        last = _parse_date(data.get("end_date", data.get("start_date", data.get("date"))))
        if first is None:
            bad("start_date", 'Give the first day off as "YYYY-MM-DD".')
        if last is None:
            bad("end_date", 'Give the last day off as "YYYY-MM-DD".')
        if first and last:
            if last < first:
                bad("end_date", "The last day off must not be before the first.")
            elif (last - first).days > 366:
                bad("end_date", "Time off can span at most a year; add another for longer.")
            else:
                start = datetime.combine(first, time(0), tz)
                end = datetime.combine(last + timedelta(days=1), time(0), tz)
    else:
        start, end = _parse_instant(data.get("start"), tz), _parse_instant(data.get("end"), tz)
        if start is None:
            bad(
                "start",
                'Give the start as ISO 8601, like "2026-12-24T12:00" (your local time) or with an offset.',
            )
        if end is None:
            bad("end", 'Give the end as ISO 8601, like "2026-12-24T17:00".')
        if start and end and end <= start:
            bad("end", "The end must be after the start.")
        elif start and end and end - start > timedelta(days=367):
            bad("end", "Time off can span at most a year; add another for longer.")
    if start and end and end <= now:
        bad("end" if "end" in data else "end_date", "This time has already passed.")
    if errors:
        raise ValidationFailed.for_fields(errors)
    assert start is not None and end is not None
    return start.astimezone(UTC), end.astimezone(UTC), reason.strip()


def _parse_instant(raw: Any, tz: ZoneInfo) -> datetime | None:
    if not isinstance(raw, str) or not 16 <= len(raw) <= 40:
        return None
    try:
        value = datetime.fromisoformat(raw)
    except ValueError:
        return None
    if value.year not in YEARS:
        return None
    return value.replace(tzinfo=tz) if value.tzinfo is None else value


@dataclass(frozen=True)
class TimeOffResult:
    time_off: TimeOff
    # Booked sessions inside the time off: they are kept (never silently cancelled); the therapist is
    # told so they can move or cancel them with the patient.
    conflicts: list[Appointment]


def add_time_off(session: Session, actor: User, data: Any, now: datetime) -> TimeOffResult:
    profile = own_profile(session, actor)
    start, end, reason = parse_time_off(data, profile.locations[0].time_zone, now)
    entry = TimeOff(therapist_id=profile.id, starts_at=start, ends_at=end, reason=reason)
    session.add(entry)
    session.flush()
    conflicts = appointments_between(session, profile.id, start, end, occupying_at=now)
    refresh_next_available(session, profile.id, now)
    audit.record(
        session, actor, "time_off.added", "time_off", entry.id, overlapping_appointments=len(conflicts)
    )
    return TimeOffResult(entry, conflicts)


def remove_time_off(session: Session, actor: User, time_off_id: int, now: datetime) -> None:
    """Delete one of the acting therapist's time-off entries; another therapist's is "not found"."""
    profile = own_profile(session, actor)
    entry = session.get(TimeOff, time_off_id)
    if entry is None or entry.therapist_id != profile.id:
        raise NotFound("You have no time off with that id.")
    session.delete(entry)
    session.flush()
    refresh_next_available(session, profile.id, now)
    audit.record(session, actor, "time_off.removed", "time_off", time_off_id)


# --- slots --------------------------------------------------------------------------------------------


def _rules(
    settings: AvailabilitySettings,
    location: PracticeLocation,
    weekly: Iterable[WeeklyHours],
    extra: Iterable[ExtraHours],
) -> scheduling.Rules:
    return scheduling.Rules(
        time_zone=location.time_zone,
        weekly=tuple(scheduling.WeeklyInterval(w.weekday, w.starts_at, w.ends_at) for w in weekly),
        extra=tuple(scheduling.DateInterval(e.day, e.starts_at, e.ends_at) for e in extra),
        buffer_before=timedelta(minutes=settings.buffer_before_minutes),
        buffer_after=timedelta(minutes=settings.buffer_after_minutes),
        notice=timedelta(hours=settings.min_notice_hours),
        horizon=timedelta(days=settings.horizon_days),
        step=timedelta(minutes=settings.slot_step_minutes),
    )


@dataclass(frozen=True)
class Calendar:
    """What the slot engine needs for one therapist over a window, loaded in a few queries."""

    settings: AvailabilitySettings
    rules: dict[int, scheduling.Rules]  # by location id
    time_off: list[scheduling.Busy]
    bookings: list[scheduling.Busy]


def load_calendar(
    session: Session, therapist_id: int, start: datetime, end: datetime, now: datetime
) -> Calendar:
    """Rules per location, and the time off and bookings that can matter to starts in [start, end), with
    payment holds counted only if they still run at `now`."""
    settings = settings_for(session, therapist_id)
    locations = list(
        session.scalars(select(PracticeLocation).where(PracticeLocation.therapist_id == therapist_id))
    )
    ids = [loc.id for loc in locations]
    weekly = list(session.scalars(select(WeeklyHours).where(WeeklyHours.location_id.in_(ids))))
    first_day = (start - timedelta(days=2)).date()
    last_day = (end + timedelta(days=2)).date()
    extra = list(
        session.scalars(
            select(ExtraHours).where(
                ExtraHours.location_id.in_(ids), ExtraHours.day >= first_day, ExtraHours.day <= last_day
            )
        )
    )
    # A booking matters if its buffered span can touch a session starting in the window.
    reach = timedelta(
        minutes=settings.buffer_before_minutes + settings.buffer_after_minutes + max(settings.session_lengths)
    )
    bookings = [
        scheduling.Busy(a.starts_at, a.ends_at)
        for a in appointments_between(session, therapist_id, start - reach, end + reach, occupying_at=now)
    ]
    time_off = [
        scheduling.Busy(t.starts_at, t.ends_at)
        for t in session.scalars(
            select(TimeOff).where(
                TimeOff.therapist_id == therapist_id,
                TimeOff.ends_at > start,
                TimeOff.starts_at < end + reach,
            )
        )
    ]
    if not settings.works_public_holidays:
        time_off.extend(public_holidays.closed_days(locations, start, end + reach))
    rules = {
        loc.id: _rules(
            settings,
            loc,
            [w for w in weekly if w.location_id == loc.id],
            [e for e in extra if e.location_id == loc.id],
        )
        for loc in locations
    }
    return Calendar(settings, rules, time_off, bookings)


def free_slots(
    session: Session, therapist_id: int, start: datetime, end: datetime, minutes: int, now: datetime
) -> list[Slot]:
    """Free start times for a session of `minutes` in [start, end), at any of the therapist's locations.

    Where two locations would both allow the same start, the lower location id is offered (a therapist
    can only be in one place; booking then happens there)."""
    calendar = load_calendar(session, therapist_id, start, end, now)
    duration = timedelta(minutes=minutes)
    # Keyed, sorted and added up in UTC: two datetimes in one zone compare and add by wall clock, so in
    # the repeated fall-back hour 01:00 EDT and 01:00 EST would be "equal" and one slot would vanish.
    found: dict[datetime, Slot] = {}
    for location_id in sorted(calendar.rules):
        for moment in scheduling.free_slots(
            calendar.rules[location_id],
            duration=duration,
            now=now,
            start=start,
            end=end,
            time_off=calendar.time_off,
            bookings=calendar.bookings,
        ):
            instant = moment.astimezone(UTC)
            finish = (instant + duration).astimezone(moment.tzinfo)
            found.setdefault(instant, Slot(moment, finish, location_id))
    return [found[instant] for instant in sorted(found)]


@dataclass(frozen=True)
class SlotRequest:
    start: datetime
    end: datetime
    minutes: int


def parse_window(
    params: Mapping[str, str], zone: str, now: datetime, *, default: timedelta, limit: timedelta
) -> tuple[datetime, datetime]:
    """`from` and `to` (dates in the practice's time zone, `to` exclusive, or ISO 8601 instants) -> a
    window of at most `limit`; from now for `default` when left out."""
    tz = ZoneInfo(zone)
    errors: dict[str, list[str]] = {}

    def bound(name: str) -> datetime | None:
        raw = (params.get(name) or "").strip()
        if not raw:
            return None
        day = _parse_date(raw)
        if day is not None:
            return datetime.combine(day, time(0), tz)
        value = _parse_instant(raw, tz)
        if value is None:
            errors.setdefault(name, []).append('Give a date like "2026-12-01" or an ISO 8601 time.')
        return value

    start, end = bound("from"), bound("to")
    if not errors:
        start = start or now
        end = end or start + default
        if end <= start:
            errors["to"] = ["The end of the window must be after its start."]
        elif end - start > limit:
            errors["to"] = [f"Ask for at most {limit.days} days at a time."]
    if errors:
        raise ValidationFailed.for_fields(errors)
    assert start is not None and end is not None
    return start, end


def parse_slot_request(
    params: Mapping[str, str], settings: AvailabilitySettings, zone: str, now: datetime
) -> SlotRequest:
    """A slot window (`parse_window`, at most MAX_SLOT_WINDOW, default 7 days from now) and `minutes`
    (one of the therapist's session lengths; default their usual one). A window already over is a 422."""
    start, end = parse_window(params, zone, now, default=timedelta(days=7), limit=MAX_SLOT_WINDOW)
    minutes = usual_length(settings)
    raw_minutes = (params.get("minutes") or "").strip()
    if raw_minutes:
        if (
            not (raw_minutes.isascii() and raw_minutes.isdigit())
            or int(raw_minutes) not in settings.session_lengths
        ):
            offered = ", ".join(map(str, settings.session_lengths))
            raise ValidationFailed.for_field(
                "minutes", f"This therapist offers sessions of {offered} minutes."
            )
        minutes = int(raw_minutes)
    if end <= now:
        raise ValidationFailed.for_field("to", "This window has already passed.")
    return SlotRequest(max(start, now), end, minutes)


def usual_length(settings: AvailabilitySettings) -> int:
    """The session length search and the profile quote: 60 minutes when offered (the dose most trials
    used, see evidence.json), otherwise the shortest the therapist offers."""
    lengths = settings.session_lengths or DEFAULT_SESSION_LENGTHS
    return 60 if 60 in lengths else min(lengths)


# --- the soonest free start, cached for search ----------------------------------------------------------


def compute_next_available(
    session: Session, therapist_id: int, now: datetime
) -> tuple[datetime | None, datetime]:
    """(soonest free start of the usual length, the instant until which that answer stays true).

    It stays true until its own start comes inside the notice period; "nothing free" stays true until
    the horizon, moving forward with the clock, reaches the next start beyond it. Any change to hours,
    time off or bookings recomputes it before then (`refresh_next_available`)."""
    settings = settings_for(session, therapist_id)
    horizon = timedelta(days=settings.horizon_days)
    calendar = load_calendar(session, therapist_id, now, now + horizon + _LOOKAHEAD_PAST_HORIZON, now)
    if not any(rules.weekly or rules.extra for rules in calendar.rules.values()):
        return None, _FOREVER
    duration = timedelta(minutes=usual_length(settings))
    soonest = _soonest(calendar, duration, now)
    if soonest is not None:
        valid_until = soonest - timedelta(hours=settings.min_notice_hours)
    else:
        beyond = _soonest(calendar, duration, now, horizon + _LOOKAHEAD_PAST_HORIZON)
        valid_until = now + _LOOKAHEAD_PAST_HORIZON if beyond is None else beyond - horizon
    # A held time comes free when its hold runs out, which may make an earlier start the soonest.
    hold_ends = earliest_hold_expiry(session, therapist_id, now)
    if hold_ends is not None:
        valid_until = min(valid_until, hold_ends)
    return soonest, valid_until


def _soonest(
    calendar: Calendar, duration: timedelta, now: datetime, horizon: timedelta | None = None
) -> datetime | None:
    found = [
        scheduling.next_free_slot(
            rules if horizon is None else dataclasses.replace(rules, horizon=horizon),
            duration=duration,
            now=now,
            time_off=calendar.time_off,
            bookings=calendar.bookings,
        )
        for rules in calendar.rules.values()
    ]
    starts = [moment for moment in found if moment is not None]
    return min(starts).astimezone(UTC) if starts else None


def refresh_next_available(session: Session, therapist_id: int, now: datetime) -> datetime | None:
    """Recompute and store the therapist's soonest free start; call in the transaction of any change to
    hours, time off, bookings or holds. It also bumps the calendar's version, which retires every course
    fit cached for the therapist (services/course_fit.py) without having to find them."""
    settings = _ensure_settings(session, therapist_id)
    settings.calendar_version = (settings.calendar_version or 0) + 1
    return store_next_available(session, therapist_id, now)


def store_next_available(session: Session, therapist_id: int, now: datetime) -> datetime | None:
    """Recompute and store the therapist's soonest free start when only time has passed (nothing changed:
    cached course fits stay current), as `flask refresh-availability` does."""
    settings = _ensure_settings(session, therapist_id)
    session.flush()
    settings.next_available_at, settings.next_available_valid_until = compute_next_available(
        session, therapist_id, now
    )
    return settings.next_available_at


Cached = tuple[datetime | None, datetime | None]  # (next_available_at, next_available_valid_until)


def cached_next_available(session: Session, therapist_ids: Sequence[int]) -> dict[int, Cached]:
    """The stored soonest start and its validity for each therapist that has a settings row."""
    found: dict[int, Cached] = {}
    for first in range(0, len(therapist_ids), _IN_CHUNK):
        chunk = list(therapist_ids[first : first + _IN_CHUNK])
        for tid, at, until in session.execute(
            select(
                AvailabilitySettings.therapist_id,
                AvailabilitySettings.next_available_at,
                AvailabilitySettings.next_available_valid_until,
            ).where(AvailabilitySettings.therapist_id.in_(chunk))
        ):
            found[tid] = (at, until)
    return found


def current_next_available(
    session: Session, therapist_id: int, cached: Cached, now: datetime
) -> datetime | None:
    """The soonest start now: the cached one while it holds, otherwise computed afresh (and not stored:
    this runs inside read-only requests; `flask refresh-availability` stores them).

    Time passing can only remove starts from the front, so a stale cached start is a lower bound of the
    true one: search relies on that to compute as few as possible."""
    at, until = cached
    if until is not None and until >= now:
        return at
    return compute_next_available(session, therapist_id, now)[0]


def has_settings(session: Session, therapist_id: int) -> bool:
    return session.get(AvailabilitySettings, therapist_id) is not None


def next_available(
    session: Session, therapist_ids: Sequence[int], now: datetime
) -> dict[int, datetime | None]:
    """The current soonest start of each therapist (None for one who never saved hours)."""
    cached = cached_next_available(session, therapist_ids)
    return {
        tid: current_next_available(session, tid, cached[tid], now) if tid in cached else None
        for tid in therapist_ids
    }


def stale_therapists(session: Session, now: datetime) -> list[int]:
    """Therapists whose cached soonest start is no longer valid, or stops being so within the hour.

    A deployment recomputes these on a schedule (`flask refresh-availability`) so that search rarely
    has to compute one while a patient waits."""
    return list(
        session.scalars(
            select(AvailabilitySettings.therapist_id)
            .where(AvailabilitySettings.next_available_valid_until < now + timedelta(hours=1))
            .order_by(AvailabilitySettings.therapist_id)
        )
    )
