"""A therapist's own availability: the rules they set, the time off they take, and the appointments in a
window.

Every change here refreshes the soonest free start search sorts by (services/soonest_cache.py) in the same
transaction. The calendar those rules make, and its free starts, are services/slots.py.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from massage_booking.domain.errors import Forbidden, NotFound
from massage_booking.models import (
    Appointment,
    AvailabilitySettings,
    ExtraHours,
    Role,
    TherapistProfile,
    TimeOff,
    User,
    WeeklyHours,
)
from massage_booking.schemas import availability as contract
from massage_booking.schemas.availability import AvailabilityUpdate, TimeOffRequest
from massage_booking.services import audit
from massage_booking.services.slots import (
    appointments_between,
    ensure_settings,
    settings_for,
    usual_length,
    zone_of,
)
from massage_booking.services.soonest_cache import refresh_next_available

# Declared once, with the schema that checks what people give (schemas/availability.py).
WEEKDAYS = contract.WEEKDAYS


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


# --- reading ------------------------------------------------------------------------------------------


def own_profile(session: Session, actor: User) -> TherapistProfile:
    """The acting therapist's profile; availability needs a practice location to hang hours on."""
    if actor.role is not Role.THERAPIST:
        raise Forbidden("Only therapists have availability.")
    profile = session.scalar(select(TherapistProfile).where(TherapistProfile.user_id == actor.id))
    if profile is None or not profile.locations:
        raise NotFound("Create your practice profile first: availability belongs to a practice location.")
    return profile


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


def update_availability(
    session: Session, actor: User, change: AvailabilityUpdate, now: datetime
) -> Availability:
    """Apply a change of the availability document: `settings`, `weekly_hours`, `extra_hours`; a key left
    out keeps its stored value, a list given replaces the stored list. All or nothing: the change was
    validated whole (with `therapist_context`) before it got here."""
    profile = own_profile(session, actor)
    location_ids = [loc.id for loc in profile.locations]
    settings = ensure_settings(session, profile.id)
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
