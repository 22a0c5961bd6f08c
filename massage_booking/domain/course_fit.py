"""Course fit: the soonest whole course a therapist can give, for whatever weekday and time-of-day wishes a
patient searches with.

Pure Python. Search ranks thousands of therapists by it at once, so the planner's answer
(`course_patterns.soonest_courses`: every weekday pattern and time with its soonest whole course) is
condensed once per therapist and course shape into one small table kept beside the therapist
(services/course_fit.py): for each weekday pattern, its soonest first session at any time and in each part of
the day. Any wishes are then answered from that table without the calendar:

- `weekdays`: the course's weekdays must all be among them (a patient free Mondays, Wednesdays and Fridays
  cannot take a Tuesday course);
- `times_of_day`: every session must lie inside one of those parts of the day, on the wall clock, start to
  end (TIMES_OF_DAY; a 60-minute session at 11:30 is neither morning nor afternoon).

That is exactly a whole course the planner ranks with no misfit (`course_patterns.propose` given the same
weekdays and the parts of the day as time windows), and the soonest of them is the planner's first proposal;
tests/integration/test_course_fit_search.py checks the two agree therapist by therapist.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, time, timedelta

from massage_booking.domain.course_patterns import PatternStart

# Parts of the day as minutes past local midnight, [start, end]. Evening runs to midnight.
TIMES_OF_DAY: dict[str, tuple[int, int]] = {
    "morning": (0, 12 * 60),
    "afternoon": (12 * 60, 17 * 60),
    "evening": (17 * 60, 24 * 60),
}
WEEKDAY_NAMES = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def time_of_day(start: time, length: timedelta) -> str | None:
    """The part of the day a session starting at `start` (local wall clock) lies in, or None."""
    first = start.hour * 60 + start.minute
    last = first + length // timedelta(minutes=1)
    for name, (low, high) in TIMES_OF_DAY.items():
        if low <= first and last <= high:
            return name
    return None


def window_of(name: str) -> tuple[time, time]:
    """A part of the day as a planner time window (evening ends at 23:59: `time` has no 24:00)."""
    low, high = TIMES_OF_DAY[name]
    end = time(23, 59) if high == 24 * 60 else time(high // 60, high % 60)
    return time(low // 60, low % 60), end


@dataclass(frozen=True)
class WeekdayFit:
    """One weekday pattern's soonest whole course (UTC), at any time and per part of the day."""

    weekdays: frozenset[int]
    soonest: datetime
    by_time_of_day: dict[str, datetime] = field(default_factory=dict)


@dataclass(frozen=True)
class CourseFit:
    """Every weekday pattern with a whole course, and the soonest first session of each."""

    patterns: tuple[WeekdayFit, ...] = ()

    @classmethod
    def from_starts(cls, starts: Iterable[PatternStart]) -> CourseFit:
        soonest: dict[frozenset[int], datetime] = {}
        parts: dict[frozenset[int], dict[str, datetime]] = {}
        for found in starts:
            at = found.first_start.astimezone(UTC)
            days = found.weekdays
            if days not in soonest or at < soonest[days]:
                soonest[days] = at
            part = time_of_day(found.time, found.session_length)
            if part is not None:
                earlier = parts.setdefault(days, {}).get(part)
                if earlier is None or at < earlier:
                    parts[days][part] = at
        return cls(
            tuple(
                WeekdayFit(days, at, parts.get(days, {}))
                for days, at in sorted(soonest.items(), key=lambda item: (item[1], sorted(item[0])))
            )
        )

    def soonest(
        self, weekdays: frozenset[int] = frozenset(), times_of_day: frozenset[str] = frozenset()
    ) -> datetime | None:
        """The soonest first session of a whole course on the wished weekdays (all of the course's
        weekdays among them; none given: any) in the wished parts of the day (none given: any time)."""
        best: datetime | None = None
        for pattern in self.patterns:
            if weekdays and not pattern.weekdays <= weekdays:
                continue
            if times_of_day:
                found = [pattern.by_time_of_day[p] for p in times_of_day if p in pattern.by_time_of_day]
                at = min(found) if found else None
            else:
                at = pattern.soonest
            if at is not None and (best is None or at < best):
                best = at
        return best

    # Stored as rows of integers (services/course_fit.py): [weekday bits, soonest, morning, afternoon,
    # evening], instants as whole seconds since the epoch (every start is on a minute), None where absent.

    def as_rows(self) -> list[list[int | None]]:
        return [
            [
                sum(1 << d for d in p.weekdays),
                _seconds(p.soonest),
                *(_seconds(p.by_time_of_day.get(name)) for name in TIMES_OF_DAY),
            ]
            for p in self.patterns
        ]


def soonest_in_rows(
    rows: Sequence[Sequence[int | None]], weekdays: frozenset[int], times_of_day: frozenset[str]
) -> int | None:
    """`CourseFit.soonest(weekdays, times_of_day)` in seconds since the epoch, straight from the rows
    `as_rows` stored: search runs it for every candidate when the patient names weekdays."""
    outside = 0 if not weekdays else 0b1111111 & ~sum(1 << d for d in weekdays)
    columns = [1 + n for n, name in enumerate(TIMES_OF_DAY, start=1) if name in times_of_day] or [1]
    best: int | None = None
    for row in rows:
        if row[0] & outside:  # type: ignore[operator]
            continue
        for column in columns:
            at = row[column]
            if at is not None and (best is None or at < best):
                best = at
    return best


def summary(fit: CourseFit) -> tuple[int | None, ...]:
    """(soonest at any time, soonest in the morning, afternoon, evening) over every pattern, in seconds
    since the epoch: what search needs when the patient names no weekdays."""
    return (
        _seconds(fit.soonest()),
        *(_seconds(fit.soonest(times_of_day=frozenset({name}))) for name in TIMES_OF_DAY),
    )


def _seconds(value: datetime | None) -> int | None:
    return None if value is None else int((value - _EPOCH).total_seconds())


@dataclass(frozen=True)
class Wishes:
    """A search's course wishes: every weekday of the course among `weekdays` (empty: any), every session
    inside one of `times_of_day` (TIMES_OF_DAY; empty: any time)."""

    weekdays: frozenset[int] = frozenset()
    times_of_day: frozenset[str] = frozenset()
