"""A therapist's availability: the rules they set, the time off they take, and the free slots that follow.

Reads and writes go through here so that every change that can move a therapist's soonest free start
(hours, extra hours, settings, time off, bookings) also refreshes the copy search sorts by
(`refresh_next_available`), in the same transaction. The slot arithmetic itself is `domain.scheduling`.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import and_, delete, func, or_, select
from sqlalchemy.orm import Session

from massage_booking.domain import scheduling
from massage_booking.domain.errors import Forbidden, NotFound
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
from massage_booking.schemas import availability as contract
from massage_booking.schemas.availability import AvailabilityUpdate, TimeOffRequest
from massage_booking.services import audit, public_holidays

# Declared once, with the schema that checks what people give (schemas/availability.py).
WEEKDAYS = contract.WEEKDAYS
YEARS = contract.YEARS
# When nothing is free within the horizon, how far past it to look for the start that will come into
# reach (so the cached "nothing free" knows when it stops being true).
_LOOKAHEAD_PAST_HORIZON = timedelta(days=14)
_FOREVER = datetime(9999, 1, 1, tzinfo=UTC)
_IN_CHUNK = 5000  # ids per IN (...) list: far below SQLite's 32,766 and PostgreSQL's 65,535 parameters


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
        return zone_of(self.profile)


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


def therapist_context(session: Session, actor: User, now: datetime) -> dict[str, Any]:
    """What validating the acting therapist's hours, time off or appointment window needs to know
    (schemas/availability.py): their practice locations, their zone, and the time now."""
    profile = own_profile(session, actor)
    return {
        "locations": frozenset(loc.id for loc in profile.locations),
        "zone": ZoneInfo(profile.locations[0].time_zone),
        "now": now,
    }


def slot_context(session: Session, profile: TherapistProfile, now: datetime) -> dict[str, Any]:
    """What validating a request for this therapist's free slots needs to know: their zone (UTC without a
    location), the session lengths they offer and their usual one, and the time now."""
    settings = settings_for(session, profile.id)
    return {
        "zone": ZoneInfo(zone_of(profile)),
        "now": now,
        "session_lengths": tuple(settings.session_lengths),
        "usual_minutes": usual_length(settings),
    }


def zone_of(profile: TherapistProfile) -> str:
    """The practice's time zone: its first location's (slots and time off are read in it)."""
    return profile.locations[0].time_zone if profile.locations else "UTC"


def update_availability(
    session: Session, actor: User, change: AvailabilityUpdate, now: datetime
) -> Availability:
    """Apply a change of the availability document: `settings`, `weekly_hours`, `extra_hours`; a key left
    out keeps its stored value, a list given replaces the stored list. All or nothing: the change was
    validated whole (with `therapist_context`) before it got here."""
    profile = own_profile(session, actor)
    location_ids = [loc.id for loc in profile.locations]
    settings = _ensure_settings(session, profile.id)
    for name, value in change.changed_settings().items():
        setattr(settings, name, value)
    if change.weekly_hours is not None:
        session.execute(delete(WeeklyHours).where(WeeklyHours.location_id.in_(location_ids)))
        session.add_all(
            WeeklyHours(location_id=w.location_id, weekday=w.weekday, starts_at=w.start, ends_at=w.end)
            for w in change.weekly_hours
        )
    if change.extra_hours is not None:
        session.execute(delete(ExtraHours).where(ExtraHours.location_id.in_(location_ids)))
        session.add_all(
            ExtraHours(location_id=e.location_id, day=e.date, starts_at=e.start, ends_at=e.end)
            for e in change.extra_hours
        )
    session.flush()
    refresh_next_available(session, profile.id, now)
    given = sorted(change.model_fields_set)
    audit.record(session, actor, "availability.updated", "therapist", profile.id, fields=given)
    session.flush()
    session.expire_all()  # reload the replaced hours in order, as a fresh read would
    return availability_of(session, actor, now)


# --- time off -----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class TimeOffResult:
    time_off: TimeOff
    # Booked sessions inside the time off: they are kept (never silently cancelled); the therapist is
    # told so they can move or cancel them with the patient.
    conflicts: list[Appointment]


def add_time_off(session: Session, actor: User, wanted: TimeOffRequest, now: datetime) -> TimeOffResult:
    """Whole local days or exact times (validated with `therapist_context`: not over, at most a year)."""
    profile = own_profile(session, actor)
    start, end = (moment.astimezone(UTC) for moment in wanted.span(ZoneInfo(profile.locations[0].time_zone)))
    entry = TimeOff(therapist_id=profile.id, starts_at=start, ends_at=end, reason=wanted.note)
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
