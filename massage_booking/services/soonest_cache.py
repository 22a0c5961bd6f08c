"""The soonest free start of each therapist, cached on their settings row for search to sort and filter by.

Every change that can move it (hours, extra hours, settings, time off, bookings, payment holds) calls
`refresh_next_available` in its own transaction; `stale_therapists` finds the copies whose answer has
lapsed with the clock, for `flask refresh-availability`.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from massage_booking.domain import scheduling
from massage_booking.models import (
    AvailabilitySettings,
)
from massage_booking.services.slots import (
    Calendar,
    earliest_hold_expiry,
    ensure_settings,
    load_calendar,
    settings_for,
    usual_length,
)

# When nothing is free within the horizon, how far past it to look for the start that will come into
# reach (so the cached "nothing free" knows when it stops being true).
_LOOKAHEAD_PAST_HORIZON = timedelta(days=14)
_FOREVER = datetime(9999, 1, 1, tzinfo=UTC)
_IN_CHUNK = 5000  # ids per IN (...) list: far below SQLite's 32,766 and PostgreSQL's 65,535 parameters


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
    settings = ensure_settings(session, therapist_id)
    settings.calendar_version = (settings.calendar_version or 0) + 1
    return store_next_available(session, therapist_id, now)


def store_next_available(session: Session, therapist_id: int, now: datetime) -> datetime | None:
    """Recompute and store the therapist's soonest free start when only time has passed (nothing changed:
    cached course fits stay current), as `flask refresh-availability` does."""
    settings = ensure_settings(session, therapist_id)
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
