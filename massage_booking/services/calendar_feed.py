"""The therapist's calendar feed: an iCalendar (RFC 5545) subscription at a secret, revocable URL.

Calendar apps (Google, Apple, Outlook) cannot log in, so the URL itself is the credential: a bearer
secret that will be copied into third-party servers and kept there for years. Three consequences:

- The secret is stored only as a SHA-256 digest (like API tokens, see services/accounts.py), shown
  once, and replaced or revoked by the therapist at will; the old URL then finds nothing.
- The feed carries bookings only: time, place and status. No patient name, e-mail or health data, so a
  leaked URL tells a stranger when the therapist is busy, not who receives care.
- Reading the feed is not audited (no health data is read), but issuing and revoking are.
"""

from __future__ import annotations

import hashlib
import secrets
from datetime import datetime, timedelta

from icalendar import CLASS, STATUS, TRANSP, Calendar, Event, vDuration
from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from massage_booking.calendars import UID_DOMAIN
from massage_booking.models import (
    Appointment,
    AppointmentStatus,
    AvailabilitySettings,
    PracticeLocation,
    TherapistProfile,
    User,
)
from massage_booking.services import audit
from massage_booking.services.availability import own_profile
from massage_booking.services.slots import ensure_settings

FEED_TOKEN_PREFIX = "cal_"  # noqa: S105 - a public marker that tells feed secrets apart, not a secret
# token_urlsafe(32) gives 43 characters; anything much longer is not ours and is not worth hashing.
_MAX_TOKEN_LENGTH = 100
FEED_PAST = timedelta(days=30)  # recent history, so a session just missed still shows
FEED_FUTURE = timedelta(days=365)
REFRESH = timedelta(hours=1)  # how often we ask calendar apps to fetch again (most poll less often)
PRODID = "-//massage_booking//Therapist calendar feed//EN"
DESCRIPTION = "Booked through massage_booking. Open your calendar on the site for details."


def _digest(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


# --- the secret ---------------------------------------------------------------------------------------


def issue_feed_token(session: Session, actor: User, now: datetime) -> str:
    """Make a new feed secret for the acting therapist and return it (the only time it exists in plain).

    Storing the new digest over the old one is what retires the previous URL: there is one active feed
    address per therapist, so "reset" and "stop a leaked link" are the same action."""
    profile = own_profile(session, actor)
    settings = ensure_settings(session, profile.id)  # with the defaults if it did not exist yet
    had_token = settings.feed_token_digest is not None
    token = FEED_TOKEN_PREFIX + secrets.token_urlsafe(32)
    settings.feed_token_digest = _digest(token)
    settings.feed_token_created_at = now
    session.flush()
    audit.record(session, actor, "calendar_feed.issued", "therapist", profile.id, replaced=had_token)
    return token


def revoke_feed_token(session: Session, actor: User, now: datetime) -> None:
    """Stop the acting therapist's feed address from working (calendar apps then get a 404).

    `now` is taken like every other write here, though revoking only clears the secret and its date."""
    profile = own_profile(session, actor)
    settings = session.get(AvailabilitySettings, profile.id)  # no row: nothing to revoke, nothing to create
    was_active = settings is not None and settings.feed_token_digest is not None
    if settings is not None:
        settings.feed_token_digest = None
        settings.feed_token_created_at = None
        session.flush()
    audit.record(session, actor, "calendar_feed.revoked", "therapist", profile.id, was_active=was_active)


def feed_status(session: Session, actor: User) -> datetime | None:
    """When the acting therapist's active feed address was made, or None if they have none.

    The secret itself cannot be shown again (only its digest is kept); the page offers a new one."""
    profile = own_profile(session, actor)
    settings = session.get(AvailabilitySettings, profile.id)
    if settings is None or settings.feed_token_digest is None:
        return None
    return settings.feed_token_created_at


def therapist_for_feed_token(session: Session, token: str) -> TherapistProfile | None:
    """The therapist whose active feed secret `token` is; None for anything else (unknown, revoked,
    malformed, or a disabled account), so the caller answers all of them with the same 404."""
    if (
        not isinstance(token, str)
        or not token.startswith(FEED_TOKEN_PREFIX)
        or len(token) > _MAX_TOKEN_LENGTH
    ):
        return None
    settings = session.scalar(
        select(AvailabilitySettings).where(AvailabilitySettings.feed_token_digest == _digest(token))
    )
    if settings is None:
        return None
    therapist = settings.therapist
    if not therapist.user.is_active:
        return None
    return therapist


# --- the feed -----------------------------------------------------------------------------------------


def _place(location: PracticeLocation) -> str:
    """Where the session is, as the therapist would write it: label, city and state (no patient data)."""
    parts = [location.label, location.city, location.state]
    return ", ".join(part for part in parts if part)


def _event(appointment: Appointment, now: datetime) -> Event:
    """One appointment as a VEVENT. It never touches `appointment.patient`: nothing about the person is
    in the feed. Cancelled sessions stay in as STATUS:CANCELLED (and free time) so that subscribed
    calendars remove or strike them instead of keeping a stale copy."""
    cancelled = appointment.status is AppointmentStatus.CANCELLED
    event = Event.new(
        uid=f"appointment-{appointment.id}@{UID_DOMAIN}",
        stamp=now,
        start=appointment.starts_at,
        end=appointment.ends_at,
        last_modified=appointment.updated_at,
        summary=f"Session ({appointment.minutes} min)",
        location=_place(appointment.location),
        description=DESCRIPTION,
        status=STATUS.CANCELLED if cancelled else STATUS.CONFIRMED,
        transparency=TRANSP.TRANSPARENT if cancelled else TRANSP.OPAQUE,
        classification=CLASS.PRIVATE,
    )
    return event


def feed_appointments(session: Session, therapist_id: int, now: datetime) -> list[Appointment]:
    """The appointments the feed shows: starting from 30 days ago to a year ahead, every status."""
    return list(
        session.scalars(
            select(Appointment)
            .where(
                Appointment.therapist_id == therapist_id,
                Appointment.starts_at >= now - FEED_PAST,
                Appointment.starts_at < now + FEED_FUTURE,
            )
            .options(selectinload(Appointment.location))
            .order_by(Appointment.starts_at, Appointment.id)
        )
    )


def render_feed(session: Session, therapist: TherapistProfile, now: datetime) -> bytes:
    """The therapist's bookings as an iCalendar document, built with the icalendar library.

    Times are written in UTC (every calendar app converts them to the viewer's zone); X-WR-TIMEZONE only
    suggests a display zone to the apps that read it. The calendar's UID is stable per therapist so that
    a re-fetched feed is recognised as the same calendar."""
    calendar = Calendar.new(
        prodid=PRODID,
        uid=f"therapist-{therapist.id}-calendar@{UID_DOMAIN}",
        name=f"massage_booking: {therapist.name}",
        description="Your sessions booked through massage_booking.",
    )
    calendar.add("REFRESH-INTERVAL", REFRESH, parameters={"VALUE": "DURATION"})
    # An X- property is text to icalendar unless typed: without vDuration it would write "1:00:00".
    calendar.add("X-PUBLISHED-TTL", vDuration(REFRESH))
    if therapist.locations:
        calendar.add("X-WR-TIMEZONE", therapist.locations[0].time_zone)
    for appointment in feed_appointments(session, therapist.id, now):
        calendar.add_component(_event(appointment, now))
    return calendar.to_ical()
