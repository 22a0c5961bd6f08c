"""The course a search asks to fit (`course=`, `weekdays=`, `time_of_day=` on GET /api/v1/therapists and
the search page): the plan grammar and the names, checked here; schemas/search.py reads the parameters.

`course` is a condition of the evidence registry (its id, name or an alias: the course is then the
registry's plan for it, e.g. chemotherapy-induced neuropathy: twelve 30-minute sessions, three a week) or
an explicit plan written `<sessions>x<minutes>@<per week>`: `12x60@3` is twelve 60-minute sessions, three a
week. `weekdays` and `time_of_day` are comma-separated and bind: a therapist is listed only if a whole
course fits inside them (domain/course_fit.Wishes).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Collection
from dataclasses import dataclass
from datetime import timedelta

from massage_booking.domain import course_fit, course_patterns, evidence
from massage_booking.domain import courses as plans
from massage_booking.domain.course_fit import Wishes

_EXPLICIT = re.compile(r"(\d{1,3})\s*x\s*(\d{1,3})\s*@\s*(\d(?:\.5)?)")
_Fail = Callable[[str, str], None]  # records a message against a field
WISHES_NEED_A_COURSE = "Weekday and time-of-day wishes need a course: give course= as well."


@dataclass(frozen=True)
class CourseSearch:
    """A course to fit: its shape, the condition it is the plan of (None for an explicit plan), wishes."""

    request: course_patterns.PatternRequest
    condition_id: str | None
    wishes: Wishes = Wishes()

    @property
    def session_minutes(self) -> int:
        return self.request.session_length // timedelta(minutes=1)

    @property
    def requires_oncology_training(self) -> bool:
        found = evidence.condition(self.condition_id) if self.condition_id else None
        return found is not None and (found.cancer_related or found.requires_oncology_trained_therapist)

    def describe(self) -> str:
        """'12 sessions of 30 minutes, 3 a week'."""
        request = self.request
        return _words(self.session_minutes, request.sessions_per_week, request.total_sessions)


def plan_words(condition: evidence.Condition) -> str:
    """The registry's course for a condition as `CourseSearch.describe` says it."""
    plan = plans.default_plan(condition)
    return _words(plan.session_minutes, plan.layout_sessions_per_week, plan.total_sessions)


def _words(minutes: int, per_week: float, total: int) -> str:
    if total == 1:
        return f"one {minutes}-minute session"
    cadence = {0.5: "every other week", 1.0: "once a week", 1.5: "3 every 2 weeks"}.get(
        per_week, f"{per_week:g} a week"
    )
    return f"{total} sessions of {minutes} minutes, {cadence}"


def shape(raw: str, fail: _Fail) -> tuple[course_patterns.PatternRequest | None, str | None]:
    explicit = _EXPLICIT.fullmatch(raw.strip())
    if explicit is not None:
        total, minutes, per_week = int(explicit[1]), int(explicit[2]), float(explicit[3])
        if minutes not in plans.SESSION_MINUTES:
            lengths = ", ".join(str(m) for m in plans.SESSION_MINUTES)
            fail("course", f"Sessions of {minutes} minutes are not booked here; choose one of {lengths}.")
            return None, None
        return _request(timedelta(minutes=minutes), per_week, total, fail), None
    found = evidence.find(raw)
    if found is None:
        fail(
            "course",
            f'We do not know the course "{raw}". Give a condition (see /api/v1/conditions) or a plan '
            'written sessions x minutes @ sessions a week, like "12x60@3".',
        )
        return None, None
    plan = plans.default_plan(found)
    return _request(plan.duration, plan.layout_sessions_per_week, plan.total_sessions, fail), found.id


def _request(
    length: timedelta, per_week: float, total: int, fail: _Fail
) -> course_patterns.PatternRequest | None:
    if per_week not in course_patterns.SUPPORTED_SESSIONS_PER_WEEK:
        fail(
            "course",
            f"A course of {per_week:g} sessions a week cannot keep a day's rest between sessions; "
            "choose 0.5, 1, 1.5, 2 or 3 a week.",
        )
        return None
    try:
        return course_patterns.PatternRequest(length, per_week, total)
    except course_patterns.PlanRequestError as error:
        what = error.field.replace("_", " ")
        fail("course", f"{what[:1].upper()}{what[1:]} {error.message}.")
        return None


def _names(raw: str, known: Collection[str], field: str, what: str, fail: _Fail) -> list[str] | None:
    """The comma-separated names in `raw`, lower-cased, or None after failing `field` on the first unknown
    one (`what` says what it should have been)."""
    names = [item.strip().lower() for item in raw.split(",") if item.strip()]
    unknown = [name for name in names if name not in known]
    if unknown:
        fail(field, f'"{unknown[0]}" is not {what}, separated by commas.')
        return None
    return names


def weekdays(raw: str, fail: _Fail) -> frozenset[int] | None:
    what = "a weekday. Use monday, tuesday, wednesday, thursday, friday, saturday or sunday"
    names = _names(raw, course_fit.WEEKDAY_NAMES, "weekdays", what, fail)
    return None if names is None else frozenset(course_fit.WEEKDAY_NAMES.index(n) for n in names)


def times_of_day(raw: str, fail: _Fail) -> frozenset[str] | None:
    what = "a time of day. Use morning (before 12:00), afternoon (12:00 to 17:00) or evening (after 17:00)"
    names = _names(raw, course_fit.TIMES_OF_DAY, "time_of_day", what, fail)
    return None if names is None else frozenset(names)
