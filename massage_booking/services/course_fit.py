"""Course fit for search: each candidate therapist's soonest whole course of the searched shape, from a cache
kept beside the therapist and recomputed only when it no longer holds.

Why a cache: the planner costs about 5 ms per therapist (benchmarks/planner.py), and a 25-mile search in a
dense metro has thousands of candidates. Each (therapist, course shape) row keeps the planner's answer
condensed (domain/course_fit.py), so a search reads one row per candidate.

When a row holds (`_current`):
- it was computed at the therapist's current `calendar_version`: every change to hours, time off, bookings
  or holds goes through `soonest.refresh_next_available`, which bumps it in the change's transaction.
  The version is read before the calendar, so a row computed while a change committed carries the old
  version and is never taken as current;
- `valid_until` has not passed: the soonest session of any pattern coming inside the notice period (time
  passing only removes starts at the front), a payment hold in the calendar running out, and at most
  FIT_TTL after computing, because the horizon moving forward opens days at its far end on which a course
  that did not fit may now end.
A row that does not hold is recomputed (and stored) by the search that meets it. `flask
refresh-availability` recomputes the rows about to lapse so that searches rarely have to.
"""

from __future__ import annotations

import functools
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import Row, Select, and_, bindparam, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from massage_booking.domain import course_fit, course_patterns
from massage_booking.domain.course_fit import Wishes
from massage_booking.models import AvailabilitySettings, CourseFitCache, PracticeLocation
from massage_booking.services import slots
from massage_booking.services.planner_calendar import planner_calendar

FIT_TTL = timedelta(hours=1)
_IN_CHUNK = 5000
_MINUTE = timedelta(minutes=1)


def key_of(request: course_patterns.PatternRequest) -> dict[str, int]:
    """The cache key of a course shape, as column values."""
    return {
        "session_minutes": request.session_length // _MINUTE,
        "sessions_per_fortnight": round(request.sessions_per_week * 2),
        "total_sessions": request.total_sessions,
    }


def soonest_starts(
    session: Session,
    therapist_ids: Sequence[int],
    request: course_patterns.PatternRequest,
    wishes: Wishes,
    now: datetime,
) -> dict[int, datetime]:
    """The first session of the soonest whole course fitting the wishes, for each therapist who has one.

    Therapists without saved hours have none. Rows that do not hold are recomputed and stored in the
    caller's transaction (the caller commits)."""
    key = key_of(request)
    found: dict[int, datetime] = {}
    stale: list[tuple[int, int]] = []
    for first in range(0, len(therapist_ids), _IN_CHUNK):
        chunk = list(therapist_ids[first : first + _IN_CHUNK])
        for row in session.execute(_lookup(bool(wishes.weekdays)), {**key, "ids": chunk, "now": now}):
            if row.current:
                seconds = _answer(row, wishes)
            else:
                stale.append((row.therapist_id, row.version))
                continue
            if seconds is not None:
                found[row.therapist_id] = _instant(seconds)
    # In therapist order, so that two searches upserting overlapping rows cannot deadlock on PostgreSQL.
    for therapist_id, version in sorted(stale):
        fit = store(session, therapist_id, version, request, now)
        at = fit.soonest(wishes.weekdays, wishes.times_of_day)
        if at is not None:
            found[therapist_id] = at
    return found


@functools.cache
def _lookup(by_weekday: bool) -> Select[Any]:
    """One row per therapist with settings: their calendar version, whether the cached row holds, and
    what answers the wishes (the patterns for weekday wishes, else the four summary columns). Built once
    per kind, as search's other statements are (services/search.py, _candidates_statement)."""
    settings, cache = AvailabilitySettings.__table__.c, CourseFitCache.__table__.c
    current = and_(
        cache.calendar_version == settings.calendar_version,
        cache.valid_until >= bindparam("now", cache.valid_until.type),
    )
    columns = [settings.therapist_id, settings.calendar_version.label("version"), current.label("current")]
    if by_weekday:
        columns.append(cache.patterns)
    else:
        columns += [cache.soonest, cache.morning, cache.afternoon, cache.evening]
    return (
        select(*columns)
        .select_from(AvailabilitySettings.__table__)
        .outerjoin(
            CourseFitCache.__table__,
            and_(
                cache.therapist_id == settings.therapist_id,
                cache.session_minutes == bindparam("session_minutes"),
                cache.sessions_per_fortnight == bindparam("sessions_per_fortnight"),
                cache.total_sessions == bindparam("total_sessions"),
            ),
        )
        .where(settings.therapist_id.in_(bindparam("ids", expanding=True)))
    )


def _answer(row: Row[Any], wishes: Wishes) -> int | None:
    if wishes.weekdays:
        return course_fit.soonest_in_rows(row.patterns or [], wishes.weekdays, wishes.times_of_day)
    if not wishes.times_of_day:
        return row.soonest
    found = [getattr(row, name) for name in wishes.times_of_day]
    present = [seconds for seconds in found if seconds is not None]
    return min(present) if present else None


def compute(
    session: Session, therapist_id: int, request: course_patterns.PatternRequest, now: datetime
) -> tuple[course_fit.CourseFit, datetime]:
    """The therapist's course fit now and the instant until which it holds (module docstring)."""
    settings = slots.settings_for(session, therapist_id)
    ttl_end = now + FIT_TTL
    location = session.scalars(
        select(PracticeLocation)
        .where(PracticeLocation.therapist_id == therapist_id)
        .order_by(PracticeLocation.id)
        .limit(1)
    ).first()
    if location is None or request.session_length // _MINUTE not in settings.session_lengths:
        return course_fit.CourseFit(), ttl_end  # no location, or a length the therapist does not offer
    today = now.astimezone(ZoneInfo(location.time_zone)).date()
    calendar = planner_calendar(session, therapist_id, location, today, now)
    starts = course_patterns.soonest_courses(
        request,
        calendar.rules,
        now=now,
        holidays=calendar.holidays,
        works_holidays=calendar.works_holidays,
        time_off=calendar.time_off,
        bookings=calendar.bookings,
    )
    fit = course_fit.CourseFit.from_starts(starts)
    valid_until = ttl_end
    soonest = fit.soonest()
    if soonest is not None:
        valid_until = min(valid_until, soonest - timedelta(hours=settings.min_notice_hours))
    hold_ends = slots.earliest_hold_expiry(session, therapist_id, now)
    if hold_ends is not None:
        valid_until = min(valid_until, hold_ends)
    return fit, max(valid_until, now)


def store(
    session: Session, therapist_id: int, version: int, request: course_patterns.PatternRequest, now: datetime
) -> course_fit.CourseFit:
    """Compute the therapist's fit and upsert its row, marked with the calendar `version` read before."""
    fit, valid_until = compute(session, therapist_id, request, now)
    soonest, morning, afternoon, evening = course_fit.summary(fit)
    values = {
        "therapist_id": therapist_id,
        **key_of(request),
        "calendar_version": version,
        "patterns": fit.as_rows(),
        "soonest": soonest,
        "morning": morning,
        "afternoon": afternoon,
        "evening": evening,
        "valid_until": valid_until,
        "computed_at": now,
    }
    dialect = session.get_bind().dialect.name
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    statement = insert(CourseFitCache).values(values)
    keys = ["therapist_id", "session_minutes", "sessions_per_fortnight", "total_sessions"]
    session.execute(
        statement.on_conflict_do_update(
            index_elements=keys, set_={k: statement.excluded[k] for k in values if k not in keys}
        )
    )
    return fit


def refresh_lapsing(session: Session, now: datetime, within: timedelta) -> int:
    """Recompute every cached fit that stops holding within `within` (or already has); the count."""
    settings, cache = AvailabilitySettings.__table__.c, CourseFitCache.__table__.c
    rows = session.execute(
        select(
            cache.therapist_id,
            cache.session_minutes,
            cache.sessions_per_fortnight,
            cache.total_sessions,
            settings.calendar_version,
        )
        .join(AvailabilitySettings.__table__, settings.therapist_id == cache.therapist_id)
        .where((cache.valid_until < now + within) | (cache.calendar_version != settings.calendar_version))
        .order_by(cache.therapist_id)
    ).all()
    for therapist_id, minutes, per_fortnight, total, version in rows:
        request = course_patterns.PatternRequest(timedelta(minutes=minutes), per_fortnight / 2, total)
        store(session, therapist_id, version, request, now)
    return len(rows)


def _instant(seconds: int) -> datetime:
    return datetime.fromtimestamp(seconds, UTC)
