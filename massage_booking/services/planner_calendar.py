"""One therapist's calendar at one location as the course planner reads it: the slot engine's rules, time
off, bookings and payment holds still running (services/slots.load_calendar), and the practice's
public holidays over the span, for naming them.

Its own module because two services run the planner on it: course_proposals (whole-course proposals for
one therapist) and course_fit (which search result can hold the patient's course). course_fit is read by
the search, and the search by courses (nearby trained therapists to suggest): were the calendar in
course_proposals, which books through courses, the four would import each other in a loop.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy.orm import Session

from massage_booking.domain import scheduling
from massage_booking.models import PracticeLocation
from massage_booking.services import public_holidays, slots


@dataclass(frozen=True)
class PlannerCalendar:
    """What the planner needs of one therapist's calendar at one location, from `earliest` on."""

    rules: scheduling.Rules
    time_off: list[scheduling.Busy]
    bookings: list[scheduling.Busy]
    holidays: dict[date, str]
    works_holidays: bool


def planner_calendar(
    session: Session, therapist_id: int, location: PracticeLocation, earliest: date, now: datetime
) -> PlannerCalendar:
    """The calendar as the slot engine sees it (hours, extra hours, time off, closed holidays, bookings,
    payment holds still running) from the start of `earliest` to the horizon, and the practice's public
    holidays over that span for naming them (services/course_fit.py runs the planner on the same)."""
    zone = ZoneInfo(location.time_zone)
    calendar = slots.load_calendar(
        session,
        therapist_id,
        max(datetime.combine(earliest, time(0), zone), now),
        now + timedelta(days=calendar_days(session, therapist_id)),
        now,
    )
    rules = calendar.rules[location.id]
    horizon_last = (now + rules.horizon).astimezone(zone).date()
    return PlannerCalendar(
        rules=rules,
        time_off=calendar.time_off,
        bookings=calendar.bookings,
        holidays=public_holidays.between(location.state, earliest, max(earliest, horizon_last)),
        works_holidays=calendar.settings.works_public_holidays,
    )


def calendar_days(session: Session, therapist_id: int) -> int:
    """How far ahead the therapist takes bookings: the planner searches no further."""
    return slots.settings_for(session, therapist_id).horizon_days
