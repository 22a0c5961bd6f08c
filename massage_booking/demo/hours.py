"""Working hours for demo therapists, so that slots, "soonest available" and calendars show something real.

Generated therapists get one of a few common practice weeks and settings; their soonest free start is
computed here with the slot engine (they have no bookings or time off yet), once per distinct
(week, settings, time zone), which keeps seeding a million therapists to seconds of extra work.
The demo therapist also gets the demo patient's course of care (eight sessions, booked through the real
booking service), so My care, the therapist's sessions, the calendar and the iCal feed can be seen at once.
"""

from __future__ import annotations

import functools
import random
from dataclasses import dataclass, replace
from datetime import UTC, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy.orm import Session

from massage_booking.domain import scheduling
from massage_booking.domain.intake import IntakeAnswers
from massage_booking.models import AvailabilitySettings, TherapistProfile, User, WeeklyHours
from massage_booking.notifications.links import Links
from massage_booking.services import course_proposals, courses, intake, soonest_cache


@dataclass(frozen=True)
class PracticeWeek:
    hours: tuple[tuple[int, time, time], ...]  # (weekday, start, end), local
    notice_hours: int
    step_minutes: int
    lengths: tuple[int, ...]


def _days(days: range | tuple[int, ...], start: int, end: int) -> tuple[tuple[int, time, time], ...]:
    return tuple((day, time(start), time(end)) for day in days)


WEEKS = (
    PracticeWeek(_days(range(5), 9, 17), 24, 15, (60, 90)),  # office hours
    PracticeWeek(_days(range(1, 6), 10, 18), 24, 30, (60, 90)),  # Tuesday to Saturday
    PracticeWeek(_days((0, 2, 4), 8, 14) + _days((1, 3), 12, 20), 48, 30, (30, 60, 90)),  # split week
    PracticeWeek(_days(range(5), 8, 12) + _days(range(5), 13, 18), 24, 15, (60,)),  # lunch break
    PracticeWeek(_days((0, 1, 2, 3), 11, 19), 72, 60, (60, 90)),  # four long days, booked ahead
)
BUFFER_AFTER_MINUTES = 15


def rules(week: PracticeWeek, zone: str) -> scheduling.Rules:
    return scheduling.Rules(
        time_zone=zone,
        weekly=tuple(scheduling.WeeklyInterval(day, start, end) for day, start, end in week.hours),
        buffer_after=timedelta(minutes=BUFFER_AFTER_MINUTES),
        notice=timedelta(hours=week.notice_hours),
        horizon=timedelta(days=90),
        step=timedelta(minutes=week.step_minutes),
    )


@functools.lru_cache(maxsize=1024)
def _soonest(week_index: int, zone: str, now: datetime) -> datetime | None:
    week = WEEKS[week_index]
    duration = timedelta(minutes=60 if 60 in week.lengths else min(week.lengths))
    found = scheduling.next_free_slot(rules(week, zone), duration=duration, now=now)
    return None if found is None else found.astimezone(UTC)


def generated_rows(
    rng: random.Random, therapist_id: int, locations: list[tuple[int, str]], now: datetime
) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """The availability_settings row and weekly_hours rows of one generated therapist.

    `locations` are (location id, IANA zone); every location gets the same week (a therapist with two
    rooms works in the first; the second is for the odd day, which the demo does not model).
    """
    index = rng.randrange(len(WEEKS))
    week = WEEKS[index]
    first_location, zone = locations[0]
    soonest = _soonest(index, zone, now)
    settings = {
        "therapist_id": therapist_id,
        "buffer_before_minutes": 0,
        "buffer_after_minutes": BUFFER_AFTER_MINUTES,
        "min_notice_hours": week.notice_hours,
        "horizon_days": 90,
        "slot_step_minutes": week.step_minutes,
        "session_lengths": list(week.lengths),
        "next_available_at": soonest,
        "next_available_valid_until": (
            soonest - timedelta(hours=week.notice_hours) if soonest is not None else now + timedelta(days=1)
        ),
        "updated_at": now,
    }
    hours = [
        {"location_id": first_location, "weekday": day, "starts_at": start, "ends_at": end}
        for day, start, end in week.hours
    ]
    return settings, hours


DEMO_WEEK = _days(range(5), 9, 17) + _days((5,), 10, 14)
# The demo patient's intake: a breast cancer survivor with chronic neck pain and an at-risk arm, so the
# course needs an oncology-trained therapist and carries a precaution to every session.
DEMO_INTAKE = IntakeAnswers(
    condition_id="chronic_neck_pain",
    cancer_history=True,
    treatment_phase="survivorship",
    precautions=frozenset({"lymphedema_risk"}),
)


def ensure_demo_therapist_hours(
    session: Session, therapist_id: int, location_id: int, patient: User, now: datetime, links: Links
) -> bool:
    """Hours Monday to Friday 9-5 and Saturday 10-2, and the demo patient's course of care with them
    (booked through the real service, so My care, the therapist's sessions, the calendar and the feeds
    all have something to show); only the first time, so a therapist who changed their hours keeps them."""
    if session.get(AvailabilitySettings, therapist_id) is not None:
        return False
    session.add(
        AvailabilitySettings(
            therapist_id=therapist_id,
            buffer_before_minutes=0,
            buffer_after_minutes=BUFFER_AFTER_MINUTES,
            min_notice_hours=24,
            horizon_days=90,
            slot_step_minutes=15,
            session_lengths=[60, 90],
            works_public_holidays=False,
        )
    )
    session.add_all(
        WeeklyHours(location_id=location_id, weekday=day, starts_at=start, ends_at=end)
        for day, start, end in DEMO_WEEK
    )
    session.flush()
    _book_demo_course(session, therapist_id, patient, now, links)
    soonest_cache.refresh_next_available(session, therapist_id, now)
    return True


def _book_demo_course(
    session: Session, therapist_id: int, patient: User, now: datetime, links: Links
) -> None:
    """Eight 60-minute sessions (the neck-pain plan, Sherman 2014), twice a week at 10:00, Mondays and
    Thursdays when they are free, from two days ahead: the planner's best proposal, so the demo course
    never lands on a public holiday the demo therapist is closed on."""
    zone = ZoneInfo(session.get(TherapistProfile, therapist_id).locations[0].time_zone)
    today = now.astimezone(zone).date()
    intake_row = intake.record_intake(session, patient, DEMO_INTAKE)
    described = courses.CourseRequest(intake_id=intake_row.id, therapist_id=therapist_id, first_start=None)
    wishes = course_proposals.Wishes(
        earliest_start=today + timedelta(days=2),
        weekdays=frozenset({0, 3}),
        time_windows=((time(10), time(11)),),
    )
    found = course_proposals.propose_courses(session, patient, described, wishes, now).result
    if not found.proposals:  # cannot happen on the demo therapist's empty calendar; say so if it does
        raise RuntimeError("No whole demo course fits the demo therapist's hours: check DEMO_WEEK.")
    wanted = replace(described, starts=tuple(s.start for s in found.proposals[0].sessions))
    courses.book_course(session, patient, wanted, now, links=links)
