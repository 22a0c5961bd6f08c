"""A therapist's calendar as the slot engine sees it: their booking settings, the rules per practice
location (hours, extra hours, buffers, notice, horizon, step), the time off and the bookings that can
matter to a window, and the free starts that follow (`free_slots`). Read-only; the slot arithmetic itself is
`domain.scheduling`.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from sqlalchemy import and_, func, or_, select
from sqlalchemy.orm import Session

from massage_booking.domain import scheduling
from massage_booking.models import (
    HELD_STATUS,
    OCCUPYING_STATUSES,
    Appointment,
    AvailabilitySettings,
    Course,
    CourseStatus,
    ExtraHours,
    PracticeLocation,
    TherapistProfile,
    TimeOff,
    WeeklyHours,
)
from massage_booking.models.schedules import DEFAULT_SESSION_LENGTHS
from massage_booking.services import public_holidays


@dataclass(frozen=True)
class Slot:
    start: datetime  # aware, in the location's zone
    end: datetime
    location_id: int


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


def ensure_settings(session: Session, therapist_id: int) -> AvailabilitySettings:
    found = settings_for(session, therapist_id)
    if found not in session:
        session.add(found)
    return found


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


def zone_of(profile: TherapistProfile) -> str:
    """The practice's time zone: its first location's (slots and time off are read in it)."""
    return profile.locations[0].time_zone if profile.locations else "UTC"


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
