"""Whole-course proposals for one patient and one therapist: the course planner (domain/course_patterns.py)
run on the therapist's real calendar, with the intake's gates applied first.

What it adds to the pure planner: the plan from the intake (services/courses.plan_for, so the session
length must be one the therapist offers), the calendar from the database as the slot engine sees it
(services/slots.load_calendar: hours, extra hours, time off, public holidays the therapist closes
on, bookings and payment holds that still run), the practice's public holidays for naming them, and the
planner's input errors as a 422 naming the API's own field. Booking a proposal is `courses.book_course`
with the proposal's session starts: every session is checked again there, under the booking lock.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time
from zoneinfo import ZoneInfo

from sqlalchemy.orm import Session

from massage_booking.domain import course_patterns
from massage_booking.domain import courses as plans
from massage_booking.domain.errors import ValidationFailed
from massage_booking.domain.intake import IntakeDecision
from massage_booking.models import PracticeLocation, TherapistProfile, User
from massage_booking.services import courses
from massage_booking.services.planner_calendar import planner_calendar

DEFAULT_COUNT = 3
# The planner's names for its inputs, as the API calls them.
_API_FIELDS = {"session_length": "session_minutes", "not_before": "earliest_start"}


@dataclass(frozen=True)
class Wishes:
    """What the patient asked for, in the practice's local terms. `earliest_start` None: from today."""

    earliest_start: date | None = None
    weekdays: frozenset[int] = frozenset()
    time_windows: tuple[tuple[time, time], ...] = ()
    not_after: date | None = None
    count: int = DEFAULT_COUNT


@dataclass(frozen=True)
class CourseProposals:
    """The planner's answer for this patient, therapist and plan."""

    therapist: TherapistProfile
    location: PracticeLocation
    plan: plans.CoursePlan
    decision: IntakeDecision
    result: course_patterns.PlanResult

    @property
    def zone(self) -> ZoneInfo:
        return ZoneInfo(self.location.time_zone)


def propose_courses(
    session: Session, actor: User, wanted: courses.CourseRequest, wishes: Wishes, now: datetime
) -> CourseProposals:
    """Up to `wishes.count` whole courses with this therapist in which every session is free now, best
    first; when none fits, the best partial one and what blocks the rest (PlanResult). Raises what
    `courses.choose_therapist` raises (deferred, oncology training required) and ValidationFailed."""
    choice = courses.choose_therapist(session, actor, wanted.intake_id, wanted.therapist_id, now)
    therapist = choice.therapist
    plan = courses.plan_for(session, choice.intake, wanted, therapist)
    location = therapist.locations[0]
    zone = ZoneInfo(location.time_zone)
    earliest = wishes.earliest_start or now.astimezone(zone).date()
    calendar = planner_calendar(session, therapist.id, location, earliest, now)
    try:
        shape = course_patterns.PatternRequest.from_plan(plan)
        result = course_patterns.propose(
            shape,
            calendar.rules,
            now=now,
            wishes=course_patterns.Wishes(
                earliest_start=earliest,
                weekdays=wishes.weekdays,
                time_windows=wishes.time_windows,
                not_after=wishes.not_after,
            ),
            holidays=calendar.holidays,
            works_holidays=calendar.works_holidays,
            time_off=calendar.time_off,
            bookings=calendar.bookings,
            count=wishes.count,
        )
    except course_patterns.PlanRequestError as error:
        name = _API_FIELDS.get(error.field, error.field)
        raise ValidationFailed.for_field(name, _sentence(error.message)) from None
    return CourseProposals(therapist, location, plan, choice.decision, result)


def _sentence(message: str) -> str:
    return message[:1].upper() + message[1:] + ("" if message.endswith(".") else ".")
