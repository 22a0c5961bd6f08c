"""Whole-course proposals: regular weekly patterns in which every session of a course is free.

Pure Python (datetime, zoneinfo, dataclasses, itertools, bisect). `propose` asks the slot engine
(`scheduling.free_slots`) once for the whole search window, files its free starts by (local date, local wall
time), and walks every candidate pattern through that index; `courses.cadence_offsets` counts days from the
first session, which is why "3 a week" started on a Friday used to land on a Sunday. Here the pattern comes
first and the course is laid out on it.

What a proposal is. A pattern is a set of weekdays and ONE local wall-clock start time; the course is the
`total_sessions` consecutive occurrences of the pattern starting at one of them (on or after the earliest
start), and it is proposed only if every session is free:

1. Free: a session is free iff its start is one of the engine's free starts for the session length (hours,
   extra hours, grid, notice, horizon, time off, bookings with buffers: scheduling.py's rules, not
   re-implemented here), and its local date is not a holiday unless the therapist works holidays.
2. Cadence: 3 a week and 2 a week use the same weekdays every week; 1 a week one weekday; 1.5 a week is one
   weekday every week plus a second weekday every other week (Mondays weekly + Thursdays fortnightly: Mon/Thu,
   Mon, Mon/Thu, Mon, ...: weeks of 2 and 1 alternate, 3 sessions a fortnight, the shape of courses.py's
   (0, 4, 7) lay-out); 0.5 a week is one weekday every other week. 4 and 5 a week are refused: they cannot
   keep a free day between sessions (see 3), so they stay with `courses.lay_out` for now.
3. Spacing: never two sessions on one local date, and consecutive sessions at least MIN_GAP_DAYS (2) local
   dates apart, across the week boundary too (3 a week: Mon/Wed/Fri and Fri -> Mon are fine, Sat/Sun is not;
   2 a week: Mon/Wed, Mon/Thu, Tue/Fri ...). A pattern is checked cyclically, so every lay-out of it keeps it.
4. Weeks are Monday-Sunday, local. Every week strictly between the course's first and last holds exactly the
   cadence's sessions (2-1-2-1 for 1.5 a week); the first and last weeks may hold fewer, because a course
   starts at its first free occurrence (a 3-a-week Mon/Wed/Fri course started on a Friday has one session in
   its first week) and ends after `total_sessions`.
5. Wishes: sessions lie on or after max(earliest_start, not_before) and on or before not_after. Preferred
   weekdays and time windows never exclude a pattern; they rank it (below).

Ranking, best first: (a) fit to the wishes: the number of the pattern's weekdays outside the preferred ones,
plus one if the session (start to end, on the wall clock) is outside every preferred time window; (b) variety:
each set of weekdays' best time before a second time on the same weekdays (else a free week offers Mon/Wed/Fri
at 09:00, 09:15 and 09:30); (c) the soonest first session; (d) the most even spacing (Mon/Thu before
Mon/Wed); (e) the soonest last session; then the earlier wall time and the pattern's order, so that the order
is total and repeatable. Wishes come before the soonest start because a patient who asked for evenings must
not be shown three mornings that start an hour sooner; the soonest start still gets a place: when no
proposal in the list starts as soon as the soonest whole course of all, that course takes the last place
(when count >= 2), flagged `soonest_start`. Proposals are distinct patterns (weekdays every week, weekdays
every other week, time). Every proposal is regular: the same weekdays and time every week; there is no
substitute-day fallback for whole courses.

When no whole course fits, the result carries one PARTIAL proposal instead: the pattern laid out from the
first day with the most free sessions, then the best fit to the wishes, then the soonest (by local date and
wall time). Each missing session says why (booked, unavailable, holiday, notice, beyond the horizon, after
not_after) and offers up to ALTERNATIVES free starts within ALTERNATIVE_WINDOW, nearest first: first those
that keep MIN_GAP_DAYS from the sessions either side, then others on a day without a session, flagged. The
result's `blocked` says the same per weekday and time ("booked on Tuesdays at 10:00 until January 12", with
the date it frees up), each with a sentence whose `{therapist}` the caller fills with the therapist's name.

DST. A pattern's time is wall clock: each session is `datetime.combine(day, t, tzinfo=zone)` (fold=0), as
scheduling.py and courses.py build instants, so a 10:00 course stays at 10:00 EDT and EST alike. A session
whose wall time does not exist that day (02:30 on a spring-forward day) is not free: fold=0 would move it to
03:30, which is not the pattern's time; in the repeated hour of a fall-back day the pattern's time is the
first occurrence (fold=0), as everywhere else. The index is keyed by each free start's own local date and
wall time, skipping the second occurrence (fold=1) of a repeated hour, so membership is exactly
"combine(day, t) is a free start". Durations are elapsed time (ends are start + length in UTC), and
instants are compared as integer microseconds since the UTC epoch, never as wall-clock datetimes sharing a
zone (see scheduling.py).

Cost: one free_slots call, one pass over its answer into one bytearray of free days per wall time, then per
(pattern, time) one gather of the pattern's days and a bytes.find for a run of `total_sessions` (in C): no
datetime is built for a pattern that fails. The partial path adds one engine query per missing session
(booked or not) and a bisection per alternative search. benchmarks/planner.py times it against a brute force.
"""

from __future__ import annotations

from bisect import bisect_left, bisect_right
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from itertools import combinations
from operator import itemgetter
from typing import Any
from zoneinfo import ZoneInfo

from massage_booking.domain import courses, scheduling
from massage_booking.domain.courses import capitalise, is_int, plural
from massage_booking.domain.scheduling import instant, to_micros

SUPPORTED_SESSIONS_PER_WEEK = (0.5, 1.0, 1.5, 2.0, 3.0)
MIN_GAP_DAYS = 2  # consecutive sessions at least two local dates apart: a day off between them
MIN_COUNT, MAX_COUNT = 1, 10
ALTERNATIVES = 3  # free alternatives offered per missing session of a partial proposal
ALTERNATIVE_WINDOW = timedelta(days=7)  # how far from a missing session its alternatives may lie

# Causes of a missing session / kinds of Blocked.
BOOKED = "booked"  # the time would be free but for other bookings
UNAVAILABLE = "unavailable"  # outside the hours, in time off, or a wall time the clocks skip that day
HOLIDAY = "holiday"  # a holiday, and the therapist does not work holidays
NOTICE = "notice"  # sooner than the therapist's notice allows
BEYOND_HORIZON = "beyond_horizon"  # after the last instant the therapist takes bookings for
AFTER_NOT_AFTER = "after_not_after"  # after the patient's not_after date
NO_FREE_TIME = "no_free_time"  # no free start at all in the window: no pattern to propose

_US = timedelta(microseconds=1)
_DAY = timedelta(days=1)
_MINUTE = timedelta(minutes=1)
_WEEKDAYS = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")
_MONTHS = (
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
)


# ------------------------------------------------------------------------------------------- the input


class PlanRequestError(ValueError):
    """Bad input to the planner. `field` names the input (a PatternRequest or Wishes attribute, or `count` or
    `now`) so that the caller can answer 422 on that field; the message starts with it too."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(f"{field}: {message}")
        self.field = field
        self.message = message


def _is_date(value: object) -> bool:
    # A datetime is a date but never equals one, so it would silently match no day.
    return isinstance(value, date) and not isinstance(value, datetime)


@dataclass(frozen=True)
class PatternRequest:
    """The course's shape: how long each session is, how many a week, how many in all."""

    session_length: timedelta
    sessions_per_week: float
    total_sessions: int

    def __post_init__(self) -> None:
        length = self.session_length
        if not isinstance(length, timedelta) or length <= timedelta(0) or length >= _DAY or length % _MINUTE:
            raise PlanRequestError(
                "session_length",
                f"must be a whole number of minutes, more than 0 and under a day (got {length!r})",
            )
        per_week = self.sessions_per_week
        if not isinstance(per_week, int | float) or isinstance(per_week, bool):
            raise PlanRequestError("sessions_per_week", f"must be a number (got {per_week!r})")
        if float(per_week) not in SUPPORTED_SESSIONS_PER_WEEK:
            why = (
                " (it cannot keep a free day between sessions)"
                if float(per_week) in courses.SESSIONS_PER_WEEK
                else ""
            )
            raise PlanRequestError(
                "sessions_per_week",
                f"{per_week!r} a week is not supported by the planner{why}; choose 0.5, 1, 1.5, 2 or 3",
            )
        object.__setattr__(self, "sessions_per_week", float(per_week))
        total = self.total_sessions
        if not is_int(total) or not courses.MIN_TOTAL_SESSIONS <= total <= courses.MAX_TOTAL_SESSIONS:
            raise PlanRequestError(
                "total_sessions",
                f"must be {courses.MIN_TOTAL_SESSIONS} to {courses.MAX_TOTAL_SESSIONS} (got {total!r})",
            )

    @classmethod
    def from_plan(cls, plan: courses.CoursePlan) -> PatternRequest:
        """The shape of a planned course, with the calendar's cadence when the evidence gives none."""
        return cls(plan.duration, plan.layout_sessions_per_week, plan.total_sessions)


@dataclass(frozen=True)
class Wishes:
    """What the patient asked for. Only `earliest_start` is required; empty weekdays or windows mean any.

    Dates are local dates in the practice's zone. `not_before` and `not_after` bound every session
    (inclusive): a clearance date the patient already knows, a surgery the course must end before. Time
    windows are local wall-clock (start, end); a session fits one when it starts at or after its start and
    ends by its end on the wall clock of an ordinary day.
    """

    earliest_start: date
    weekdays: frozenset[int] = frozenset()
    time_windows: tuple[tuple[time, time], ...] = ()
    not_before: date | None = None
    not_after: date | None = None

    def __post_init__(self) -> None:
        if not _is_date(self.earliest_start):
            raise PlanRequestError("earliest_start", f"must be a date (got {self.earliest_start!r})")
        object.__setattr__(self, "weekdays", _weekday_set(self.weekdays))
        object.__setattr__(self, "time_windows", _time_windows(self.time_windows))
        self._check_date_bounds()

    def _check_date_bounds(self) -> None:
        """A not_after before the other bounds leaves no day to book on: an error, not an empty answer."""
        for name in ("not_before", "not_after"):
            value = getattr(self, name)
            if value is not None and not _is_date(value):
                raise PlanRequestError(name, f"must be a date (got {value!r})")
        if self.not_after is None:
            return
        if self.not_before is not None and self.not_after < self.not_before:
            raise PlanRequestError("not_after", f"{self.not_after} is before not_before {self.not_before}")
        if self.not_after < self.earliest_start:
            raise PlanRequestError(
                "not_after", f"{self.not_after} is before earliest_start {self.earliest_start}"
            )


def _weekday_set(value: object) -> frozenset[int]:
    """The weekdays as a frozenset. A string is iterable too, but "135" is not three weekdays."""
    if isinstance(value, str | bytes) or not isinstance(value, Iterable):
        raise PlanRequestError("weekdays", f"must be a set of weekdays 0-6 (got {value!r})")
    weekdays = frozenset(value)
    for day in weekdays:
        if not is_int(day) or not 0 <= day <= 6:
            raise PlanRequestError("weekdays", f"unknown weekday {day!r}: use 0 (Monday) to 6 (Sunday)")
    return weekdays


def _time_windows(value: Iterable[Any]) -> tuple[tuple[time, time], ...]:
    """The windows as a tuple of (start, end) pairs of naive times: a window is wall clock, in the
    practice's zone, so an aware time would name a zone the pattern does not use."""
    try:
        windows = tuple((start, end) for start, end in value)
    except (TypeError, ValueError):
        raise PlanRequestError(
            "time_windows", f"must be (start, end) pairs of times (got {value!r})"
        ) from None
    for start, end in windows:
        for bound in (start, end):
            if not isinstance(bound, time) or bound.tzinfo is not None:
                raise PlanRequestError(
                    "time_windows", f"{bound!r} must be a local wall-clock time without tzinfo"
                )
        if end <= start:
            raise PlanRequestError("time_windows", f"window end {end} must be after its start {start}")
    return windows


# ------------------------------------------------------------------------------------------ the output


@dataclass(frozen=True)
class Pattern:
    """A weekly pattern: the weekdays of every week, the weekdays of every other week (1.5 and 0.5 a week
    only), and one local wall-clock start time. Two proposals are distinct iff their patterns differ."""

    weekly: tuple[int, ...]
    alternate: tuple[int, ...]
    time: time

    @property
    def weekdays(self) -> tuple[int, ...]:
        return tuple(sorted({*self.weekly, *self.alternate}))

    def describe(self) -> str:
        """'Mondays, Wednesdays and Fridays at 10:00'; 'Mondays every week and Thursdays every other week at
        10:00'."""
        weekly = _join([_WEEKDAYS[d] + "s" for d in self.weekly])
        alternate = _join([_WEEKDAYS[d] + "s" for d in self.alternate])
        at = f"at {self.time:%H:%M}"
        if self.weekly and self.alternate:
            return f"{weekly} every week and {alternate} every other week {at}"
        if self.alternate:
            return f"{alternate} every other week {at}"
        return f"{weekly} {at}"


@dataclass(frozen=True)
class Alternative:
    """A free start offered instead of a missing session; `keeps_spacing` says whether it stays at least
    MIN_GAP_DAYS from the sessions either side (those that do come first)."""

    start: datetime
    end: datetime
    keeps_spacing: bool


@dataclass(frozen=True)
class ProposedSession:
    """One session of a proposal (aware datetimes in the practice's zone). In a whole proposal every session
    is free; in a partial one a missing session has `free=False`, its `cause` (one of the module's cause
    constants) and its alternatives. `holiday` is the holiday's name when the session falls on one (only
    possible when the therapist works holidays, or as the cause of a missing session)."""

    number: int
    start: datetime
    end: datetime
    free: bool = True
    holiday: str | None = None
    cause: str | None = None
    alternatives: tuple[Alternative, ...] = ()


@dataclass(frozen=True)
class Proposal:
    """A course laid out on one pattern, with why it ranks where it does.

    `reasons` are stable codes: soonest_start (no whole course starts sooner), preferred_days /
    outside_preferred_days and preferred_times / outside_preferred_times (only for wishes given),
    includes_holidays, and for the partial proposal partial and most_free_sessions. `explanation` says the
    same to a patient. `holidays` lists (date, name) of the sessions that fall on holidays.
    """

    rank: int
    pattern: Pattern
    sessions: tuple[ProposedSession, ...]
    reasons: tuple[str, ...]
    explanation: str
    holidays: tuple[tuple[date, str], ...] = ()

    @property
    def complete(self) -> bool:
        return all(session.free for session in self.sessions)

    @property
    def missing(self) -> tuple[ProposedSession, ...]:
        return tuple(session for session in self.sessions if not session.free)

    @property
    def first_start(self) -> datetime:
        return self.sessions[0].start


WallTime = time  # `time`, by a name that Blocked's field `time` does not hide


def _hhmm(value: WallTime) -> str:
    return f"{value:%H:%M}"


@dataclass(frozen=True)
class Blocked:
    """Why some sessions of the partial proposal are missing, for a machine and for a sentence.

    `kind` is a cause constant; `weekday` and `time` name the blocked pattern day and time when the cause is
    the therapist's calendar (booked, unavailable); `until` is the first later date on which that weekday is
    free at that time again (None: not within the search). `template` is an English sentence with the
    placeholders `{therapist}`, for the therapist's name, and `{t0}`, `{t1}`... for the local wall-clock
    `times` it names; `sentence` fills them, the times as "HH:MM" unless the caller reads them its own way
    (the pages' 12-hour clock; the API's message keeps "HH:MM").
    """

    kind: str
    sessions: tuple[int, ...]
    dates: tuple[date, ...]
    weekday: int | None
    time: time | None
    until: date | None
    template: str
    times: tuple[WallTime, ...] = ()

    def sentence(self, therapist: str, clock: Callable[[WallTime], str] = _hhmm) -> str:
        return self.template.format(
            therapist=therapist, **{f"t{i}": clock(t) for i, t in enumerate(self.times)}
        )


@dataclass(frozen=True)
class PlanResult:
    """Whole-course proposals best first; or, when none fits, `partial` and what blocks a whole course.

    `first_day` and `last_day` are the local dates searched (the earliest start, or not_before, up to the
    horizon's last date, or not_after).
    """

    proposals: tuple[Proposal, ...]
    partial: Proposal | None
    blocked: tuple[Blocked, ...]
    first_day: date
    last_day: date


# ---------------------------------------------------------------------------------------- the patterns


@dataclass(frozen=True, order=True)
class _Shape:
    """Weekdays of every week and of every other week; a phase then says which weeks have the latter."""

    weekly: tuple[int, ...]
    alternate: tuple[int, ...]

    def days(self, week: int, phase: int) -> tuple[int, ...]:
        if self.alternate and (week + phase) % 2 == 0:
            return tuple(sorted(self.weekly + self.alternate))
        return self.weekly

    @property
    def phases(self) -> tuple[int, ...]:
        return (0, 1) if self.alternate else (0,)

    @property
    def unevenness(self) -> int:
        """Largest minus smallest gap in days over one cycle: 0 for weekly, 1 for Mon/Thu, 3 for Mon/Wed."""
        cycle = 14 if self.alternate else 7
        positions = sorted(
            [7 * week + d for week in range(cycle // 7) for d in self.days(week, 0)],
        )
        gaps = [b - a for a, b in zip(positions, positions[1:] + [positions[0] + cycle], strict=True)]
        return max(gaps) - min(gaps)


def _spaced(days: Sequence[int]) -> bool:
    """Distinct weekdays whose cyclic gaps (Sunday to Monday included) are all at least MIN_GAP_DAYS."""
    ordered = sorted(days)
    if len(set(ordered)) != len(ordered):
        return False
    gaps = [b - a for a, b in zip(ordered, ordered[1:] + [ordered[0] + 7], strict=True)]
    return all(gap >= MIN_GAP_DAYS for gap in gaps)


def _shapes(sessions_per_week: float) -> tuple[_Shape, ...]:
    """Every pattern of weekdays the cadence allows, in a fixed order (the last tie-break of the ranking)."""
    week = range(7)
    if sessions_per_week in (1.0, 2.0, 3.0):
        n = int(sessions_per_week)
        return tuple(_Shape(days, ()) for days in combinations(week, n) if _spaced(days))
    if sessions_per_week == 1.5:
        pairs = [pair for pair in combinations(week, 2) if _spaced(pair)]
        return tuple(sorted(_Shape((x,), (y,)) for a, b in pairs for x, y in ((a, b), (b, a))))
    return tuple(_Shape((), (d,)) for d in week)  # 0.5 a week


def _occurrences(shape: _Shape, phase: int, first: date, n_days: int, total: int) -> list[int]:
    """Day offsets from `first` of the pattern's days on or after it: every one before `n_days`, and at
    least `total` in all (the partial proposal lays a course out past the end of the search)."""
    back = first.weekday()  # offset of the Monday of first's week is -back
    offsets: list[int] = []
    week = 0
    while True:
        for d in shape.days(week, phase):
            offset = 7 * week + d - back
            if offset >= 0:
                offsets.append(offset)
        week += 1
        if 7 * week - back >= n_days and len(offsets) >= total:
            return offsets


def _picker(offsets: Sequence[int]) -> Callable[[bytearray], bytes]:
    """The flags at `offsets`, in order, as bytes: one gather in C per (pattern, time) instead of a Python
    loop, so that the run of free days is a bytes.find and the free count a bytes.count."""
    if len(offsets) == 1:
        (only,) = offsets
        return lambda flags: bytes(flags[only : only + 1])
    if not offsets:
        return lambda flags: b""
    get = itemgetter(*offsets)
    return lambda flags: bytes(get(flags))


# ------------------------------------------------------------------------------------------- the planner


@dataclass(frozen=True)
class _Found:
    """A whole course found for one (shape, phase, time): where it starts in the shape's occurrences."""

    key: tuple[object, ...]
    soonest_key: tuple[object, ...]
    shape: _Shape
    offsets: tuple[int, ...]
    minute: int
    misfit_days: int
    misfit_time: bool


@dataclass(frozen=True)
class _Search:
    """What every step of one `propose` call shares."""

    request: PatternRequest
    rules: scheduling.Rules
    wishes: Wishes
    zone: ZoneInfo
    now: datetime
    now_us: int
    first: date
    last: date
    n_days: int
    horizon_end_us: int
    holidays: Mapping[date, str]
    works_holidays: bool
    today: date

    def at(self, offset: int, minute: int) -> datetime:
        """The session start at `minute` past local midnight, `offset` days after the first day (fold=0)."""
        return datetime.combine(
            self.first + timedelta(days=offset), time(minute // 60, minute % 60), self.zone
        )

    def end(self, start: datetime) -> datetime:
        return (start.astimezone(UTC) + self.request.session_length).astimezone(self.zone)

    def days_outside(self, shape: _Shape) -> int:
        """How many of the pattern's weekdays are not among the preferred ones (0 when none are given)."""
        wanted = self.wishes.weekdays
        return len({*shape.weekly, *shape.alternate} - wanted) if wanted else 0

    def outside_windows(self, minute: int) -> bool:
        """Whether a session starting `minute` past local midnight misses every preferred window (False
        when none are given), judged on the wall clock."""
        windows = self.wishes.time_windows
        length = self.request.session_length // _MINUTE
        inside = any(
            a.hour * 60 + a.minute <= minute and minute + length <= b.hour * 60 + b.minute for a, b in windows
        )
        return bool(windows) and not inside

    def misfit(self, shape: _Shape, minute: int) -> tuple[int, bool]:
        return self.days_outside(shape), self.outside_windows(minute)


def propose(
    plan: PatternRequest,
    rules: scheduling.Rules,
    *,
    now: datetime,
    wishes: Wishes,
    holidays: Mapping[date, str],
    works_holidays: bool,
    time_off: Sequence[scheduling.Busy] = (),
    bookings: Sequence[scheduling.Busy] = (),
    count: int = 3,
) -> PlanResult:
    """Up to `count` whole, regular courses in which every session is free, best first (module docstring);
    when none fits, the best partial one and what blocks the rest.

    `holidays` maps local dates to names (the caller computes it for the practice's country); it is required
    so that a caller cannot forget it and propose Christmas. It is only ever asked `day in holidays` and
    `holidays.get(day)`, never iterated, so a `holidays` library object, which fills in a year when first
    asked about it, works as well as a dict. Raises PlanRequestError (a ValueError naming the
    field) for bad input: count outside 1..10, a naive `now`, an earliest start before today's local date or
    past the horizon, a not_before past the horizon.
    """
    search = _search(plan, rules, now=now, wishes=wishes, holidays=holidays, works_holidays=works_holidays)
    if not is_int(count) or not MIN_COUNT <= count <= MAX_COUNT:
        raise PlanRequestError("count", f"must be {MIN_COUNT} to {MAX_COUNT} (got {count!r})")
    slots = _free_starts(search, time_off, bookings)
    by_minute = _index(search, slots)
    layouts = _layouts(search)
    found = _whole_courses(search, layouts, by_minute)
    if found:
        return PlanResult(_proposals(search, found, count), None, (), search.first, search.last)
    partial, blocked = _partial(search, layouts, by_minute, slots, time_off=time_off)
    return PlanResult((), partial, blocked, search.first, search.last)


@dataclass(frozen=True)
class PatternStart:
    """The soonest whole course of one weekday pattern at one local time: what course-fit search keeps
    (domain/course_fit.py). `weekdays` are all the pattern's weekdays, every week and every other week."""

    weekdays: frozenset[int]
    time: time
    first_start: datetime
    session_length: timedelta


def soonest_courses(
    plan: PatternRequest,
    rules: scheduling.Rules,
    *,
    now: datetime,
    holidays: Mapping[date, str],
    works_holidays: bool,
    time_off: Sequence[scheduling.Busy] = (),
    bookings: Sequence[scheduling.Busy] = (),
) -> tuple[PatternStart, ...]:
    """For every (weekday pattern, local time) with a whole course from today to the horizon, its soonest
    first session: the same search as `propose` without wishes, before any ranking, so that a caller can
    answer "the soonest whole course on these weekdays in this part of the day" for any wishes later.
    Sorted by first start, then pattern order."""
    today = now.astimezone(ZoneInfo(rules.time_zone)).date() if _aware(now) else date.min
    search = _search(
        plan,
        rules,
        now=now,
        wishes=Wishes(earliest_start=today),
        holidays=holidays,
        works_holidays=works_holidays,
    )
    by_minute = _index(search, _free_starts(search, time_off, bookings))
    found = sorted(_whole_courses(search, _layouts(search), by_minute), key=lambda f: f.soonest_key)
    return tuple(
        PatternStart(
            weekdays=frozenset((*f.shape.weekly, *f.shape.alternate)),
            time=time(f.minute // 60, f.minute % 60),
            first_start=search.at(f.offsets[0], f.minute),
            session_length=plan.session_length,
        )
        for f in found
    )


def _aware(value: object) -> bool:
    return isinstance(value, datetime) and value.tzinfo is not None and value.utcoffset() is not None


def _search(
    plan: PatternRequest,
    rules: scheduling.Rules,
    *,
    now: datetime,
    wishes: Wishes,
    holidays: Mapping[date, str],
    works_holidays: bool,
) -> _Search:
    if not isinstance(plan, PatternRequest):
        raise PlanRequestError("plan", f"must be a PatternRequest (got {plan!r})")
    if not isinstance(wishes, Wishes):
        raise PlanRequestError("wishes", f"must be Wishes (got {wishes!r})")
    if not isinstance(now, datetime) or now.tzinfo is None or now.utcoffset() is None:
        raise PlanRequestError("now", f"must be a timezone-aware datetime (got {now!r})")
    zone = ZoneInfo(rules.time_zone)  # Rules checked the name
    now_us = to_micros(now)
    horizon_end_us = now_us + rules.horizon // _US
    today = now.astimezone(zone).date()
    # The last local date on which a start can lie: that of the last microsecond before the horizon.
    horizon_last = instant(horizon_end_us - 1, zone).date()
    earliest = wishes.earliest_start
    if earliest < today:
        raise PlanRequestError("earliest_start", f"{earliest} is before today ({today} in {rules.time_zone})")
    if to_micros(datetime.combine(earliest, time(0), zone)) >= horizon_end_us or horizon_end_us <= now_us:
        raise PlanRequestError(
            "earliest_start",
            f"{earliest} is beyond the booking horizon (the last bookable date is {horizon_last})",
        )
    first = max(earliest, wishes.not_before) if wishes.not_before else earliest
    if first > horizon_last:
        raise PlanRequestError(
            "not_before", f"{first} is beyond the booking horizon (the last bookable date is {horizon_last})"
        )
    last = min(horizon_last, wishes.not_after) if wishes.not_after else horizon_last
    if last < first:
        raise PlanRequestError("not_after", f"{last} is before the first date searched, {first}")
    return _Search(
        request=plan,
        rules=rules,
        wishes=wishes,
        zone=zone,
        now=now,
        now_us=now_us,
        first=first,
        last=last,
        n_days=(last - first).days + 1,
        horizon_end_us=horizon_end_us,
        holidays=holidays,
        works_holidays=bool(works_holidays),
        today=today,
    )


_Layouts = list[tuple[_Shape, int, list[int]]]


def _free_starts(
    search: _Search, time_off: Sequence[scheduling.Busy], bookings: Sequence[scheduling.Busy]
) -> list[datetime]:
    """The engine's free starts for the session length over the whole search window, in one call."""
    return scheduling.free_slots(
        search.rules,
        duration=search.request.session_length,
        now=search.now,
        start=datetime.combine(search.first, time(0), search.zone),
        end=datetime.combine(search.last + _DAY, time(0), search.zone),
        time_off=time_off,
        bookings=bookings,
    )


def _layouts(search: _Search) -> _Layouts:
    """Every (shape, phase) the cadence allows with its day offsets over the search window."""
    request = search.request
    return [
        (shape, phase, _occurrences(shape, phase, search.first, search.n_days, request.total_sessions))
        for shape in _shapes(request.sessions_per_week)
        for phase in shape.phases
    ]


def _index(search: _Search, slots: Sequence[datetime]) -> dict[int, bytearray]:
    """Free starts filed as {minute of the local day: flags by day offset from the first day}.

    The second occurrence of a repeated hour (fold=1) is left out: combine(day, t) never names it, so it
    can never be a pattern's session. Holidays are left out when the therapist does not work them.
    """
    first_ordinal, n_days = search.first.toordinal(), search.n_days
    closed = set()
    if not search.works_holidays:  # asked day by day, never iterated: see propose
        closed = {o for o in range(n_days) if search.first + timedelta(days=o) in search.holidays}
    by_minute: dict[int, bytearray] = {}
    for slot in slots:
        if slot.fold:
            continue
        offset = slot.toordinal() - first_ordinal
        if offset in closed or not 0 <= offset < n_days:
            continue
        minute = slot.hour * 60 + slot.minute
        flags = by_minute.get(minute)
        if flags is None:
            flags = by_minute[minute] = bytearray(n_days)
        flags[offset] = 1
    return by_minute


def _whole_courses(search: _Search, layouts: _Layouts, by_minute: dict[int, bytearray]) -> list[_Found]:
    """The best whole course of every (shape, time), whichever phase it takes."""
    n = search.request.total_sessions
    ones = b"\x01" * n
    outside = {minute: search.outside_windows(minute) for minute in by_minute}
    best: dict[tuple[_Shape, int], _Found] = {}
    for order, (shape, _phase, offsets) in enumerate(layouts):
        usable = offsets[: bisect_left(offsets, search.n_days)]
        if len(usable) < n:
            continue
        pick = _picker(usable)
        days_out, unevenness = search.days_outside(shape), shape.unevenness
        for minute, flags in by_minute.items():
            index = pick(flags).find(ones)
            if index < 0:
                continue
            chosen = tuple(usable[index : index + n])
            first_us = to_micros(search.at(chosen[0], minute))
            last_us = to_micros(search.at(chosen[-1], minute))
            time_out = outside[minute]
            misfit = days_out + time_out
            tail = (unevenness, last_us, minute, order)
            found = _Found(
                key=(misfit, first_us, *tail),
                soonest_key=(first_us, misfit, *tail),
                shape=shape,
                offsets=chosen,
                minute=minute,
                misfit_days=days_out,
                misfit_time=time_out,
            )
            previous = best.get((shape, minute))
            if previous is None or found.key < previous.key:
                best[(shape, minute)] = found
    return list(best.values())


def _proposals(search: _Search, found: list[_Found], count: int) -> tuple[Proposal, ...]:
    # Variety: within a wish tier, each weekday pattern's best time before any pattern's second best, so that
    # three proposals are not one set of days at 09:00, 09:15 and 09:30.
    repeats: dict[tuple[_Shape, object], int] = {}
    variety: dict[int, int] = {}
    for f in sorted(found, key=lambda f: f.key):
        group = (f.shape, f.key[0])
        variety[id(f)] = repeats.get(group, 0)
        repeats[group] = variety[id(f)] + 1
    ranked = sorted(found, key=lambda f: (f.key[0], variety[id(f)], *f.key[1:]))
    top = ranked[:count]
    soonest = min(found, key=lambda f: f.soonest_key)
    soonest_us = soonest.soonest_key[0]
    if count > 1 and all(f.soonest_key[0] != soonest_us for f in top):
        top = [*top[: count - 1], soonest]
    proposals = []
    for rank, f in enumerate(top, start=1):
        sessions = []
        holidays = []
        for number, offset in enumerate(f.offsets, start=1):
            start = search.at(offset, f.minute)
            name = search.holidays.get(start.date())
            if name is not None:
                holidays.append((start.date(), name))
            sessions.append(ProposedSession(number, start, search.end(start), holiday=name))
        is_soonest = f.soonest_key[0] == soonest_us
        reasons, explanation = _explain(search, f, sessions[0].start, soonest, is_soonest, holidays)
        proposals.append(
            Proposal(
                rank=rank,
                pattern=_pattern(f.shape, f.minute),
                sessions=tuple(sessions),
                reasons=reasons,
                explanation=explanation,
                holidays=tuple(holidays),
            )
        )
    return tuple(proposals)


def _pattern(shape: _Shape, minute: int) -> Pattern:
    return Pattern(shape.weekly, shape.alternate, time(minute // 60, minute % 60))


def _wish_reasons(search: _Search, days_out: int, time_out: bool) -> tuple[list[str], list[str]]:
    """(codes, phrases) for the wishes the patient gave."""
    codes, phrases = [], []
    if search.wishes.weekdays:
        codes.append("outside_preferred_days" if days_out else "preferred_days")
        phrases.append("outside your preferred days" if days_out else "on your preferred days")
    if search.wishes.time_windows:
        codes.append("outside_preferred_times" if time_out else "preferred_times")
        phrases.append("outside your preferred times" if time_out else "at your preferred times")
    return codes, phrases


def _explain(
    search: _Search,
    f: _Found,
    start: datetime,
    soonest: _Found,
    is_soonest: bool,
    holidays: list[tuple[date, str]],
) -> tuple[tuple[str, ...], str]:
    codes: list[str] = []
    when = f"{_day_label(start.date(), search.today)} at {start:%H:%M}"
    if is_soonest:
        codes.append("soonest_start")
        text = f"The soonest start: {when}."
    else:
        first_day = search.first + timedelta(days=soonest.offsets[0])
        later = (start.date() - first_day).days
        after = "the same day as the soonest" if later == 0 else f"{plural(later, 'day')} after the soonest"
        text = f"Starts {when}, {after}."
    wish_codes, phrases = _wish_reasons(search, f.misfit_days, f.misfit_time)
    codes += wish_codes
    if phrases:
        text += f" {capitalise(_join(phrases))}."
    if holidays:
        codes.append("includes_holidays")
        names = _join([f"{name} ({_day_label(day, search.today)})" for day, name in holidays])
        text += f" Includes {names}."
    return tuple(codes), text


# ------------------------------------------------------------------------------------------- the partial


def _partial(
    search: _Search,
    layouts: _Layouts,
    by_minute: dict[int, bytearray],
    slots: Sequence[datetime],
    *,
    time_off: Sequence[scheduling.Busy],
) -> tuple[Proposal | None, tuple[Blocked, ...]]:
    """The pattern with the most free sessions laid out from the first day, then the best fit, then the
    soonest; each missing session with its cause and alternatives; and the blocks summarised."""
    n = search.request.total_sessions
    if not by_minute:
        length = search.request.session_length // _MINUTE
        template = (
            f"{{therapist}} has no free time for a {length}-minute session from"
            f" {_day_label(search.first, search.today)} to {_day_label(search.last, search.today)}."
        )
        return None, (Blocked(NO_FREE_TIME, (), (), None, None, None, template),)
    # Soonest here is by the first planned session's local date and wall time (the same order as the instants
    # but for a wall time the clocks skip), which spares building a datetime per (pattern, time).
    outside = {minute: search.outside_windows(minute) for minute in by_minute}
    best: tuple[tuple[object, ...], _Shape, int, list[int]] | None = None
    for order, (shape, _phase, offsets) in enumerate(layouts):
        planned = offsets[:n]
        pick = _picker([o for o in planned if o < search.n_days])
        days_out = search.days_outside(shape)
        for minute, flags in by_minute.items():
            key = (-pick(flags).count(1), days_out + outside[minute], planned[0], minute, order)
            if best is None or key < best[0]:
                best = (key, shape, minute, planned)
    assert best is not None
    _, shape, minute, planned = best
    flags = by_minute[minute]
    starts = [search.at(o, minute).astimezone(UTC).astimezone(search.zone) for o in planned]
    free_flags = [o < search.n_days and bool(flags[o]) for o in planned]
    causes = _causes(search, planned, minute, starts, free_flags, time_off=time_off)
    alternatives = _Alternatives(search, slots, planned, starts)
    sessions = []
    for index, (start, free) in enumerate(zip(starts, free_flags, strict=True)):
        name = search.holidays.get(start.date())
        sessions.append(
            ProposedSession(
                number=index + 1,
                start=start,
                end=search.end(start),
                free=free,
                holiday=name,
                cause=None if free else causes[index],
                alternatives=() if free else alternatives.near(index),
            )
        )
    free_count = sum(free_flags)
    days_out, time_out = search.misfit(shape, minute)
    wish_codes, phrases = _wish_reasons(search, days_out, time_out)
    others = "the other one" if n - free_count == 1 else f"each of the other {n - free_count}"
    explanation = (
        f"No whole course of {n} fits by {_day_label(search.last, search.today)}. This pattern has the most"
        f" free sessions: {free_count} of {n}; choose a time for {others}."
    )
    if phrases:
        explanation += f" {capitalise(_join(phrases))}."
    worked_holidays = tuple((s.start.date(), s.holiday) for s in sessions if s.free and s.holiday is not None)
    proposal = Proposal(
        rank=1,
        pattern=_pattern(shape, minute),
        sessions=tuple(sessions),
        reasons=(
            "partial",
            "most_free_sessions",
            *wish_codes,
            *(("includes_holidays",) if worked_holidays else ()),
        ),
        explanation=explanation,
        holidays=worked_holidays,
    )
    return proposal, _blocked(search, proposal, planned, flags)


def _causes(
    search: _Search,
    planned: list[int],
    minute: int,
    starts: list[datetime],
    free_flags: list[bool],
    *,
    time_off: Sequence[scheduling.Busy],
) -> dict[int, str]:
    """Why each missing session is missing. 'booked' is told from 'unavailable' by asking the engine about
    that one instant again without the bookings (a second 90-day query would cost as much as the first)."""
    missing = [i for i, free in enumerate(free_flags) if not free]
    wall = time(minute // 60, minute % 60)

    def free_but_for_bookings(start: datetime) -> bool:
        return bool(
            scheduling.free_slots(
                search.rules,
                duration=search.request.session_length,
                now=search.now,
                start=start,
                end=start + _US,
                time_off=time_off,
                bookings=(),
            )
        )

    notice_end = search.now_us + search.rules.notice // _US
    causes = {}
    for i in missing:
        start = starts[i]
        start_us = to_micros(start)
        day = search.first + timedelta(days=planned[i])
        if start_us >= search.horizon_end_us:
            causes[i] = BEYOND_HORIZON
        elif search.wishes.not_after is not None and day > search.wishes.not_after:
            causes[i] = AFTER_NOT_AFTER
        elif not search.works_holidays and day in search.holidays:
            causes[i] = HOLIDAY
        elif start_us < notice_end:
            causes[i] = NOTICE
        elif start.time() != wall or start.date() != day:  # a wall time the clocks skip that day
            causes[i] = UNAVAILABLE
        elif free_but_for_bookings(start):
            causes[i] = BOOKED
        else:
            causes[i] = UNAVAILABLE
    return causes


class _Alternatives:
    """Free starts near a missing session: those between its neighbours' spacing first, then others within
    ALTERNATIVE_WINDOW that share no date with another session; nearest by elapsed time, earlier on a tie.
    Alternatives for two missing sessions may clash with each other: the patient picks, and the course is
    checked again when booked."""

    def __init__(
        self, search: _Search, slots: Sequence[datetime], planned: list[int], starts: list[datetime]
    ):
        self.closed: Mapping[date, str] = {} if search.works_holidays else search.holidays
        self.slots = slots  # sorted by instant; searched by bisection on the instant, never by wall clock
        self.search, self.planned, self.starts = search, planned, starts
        length = search.request.session_length // _US
        gap = (search.rules.buffer_before + search.rules.buffer_after) // _US
        self.length, self.gap = length, gap
        self.spans_by_offset = {
            o: (to_micros(s), to_micros(s) + length) for o, s in zip(planned, starts, strict=True)
        }

    def near(self, index: int) -> tuple[Alternative, ...]:
        search, planned = self.search, self.planned
        wanted = to_micros(self.starts[index])
        window = ALTERNATIVE_WINDOW // _US
        lo = bisect_left(self.slots, wanted - window, key=to_micros)
        hi = bisect_right(self.slots, wanted + window, key=to_micros)
        others = set(planned) - {planned[index]}
        prev_day = planned[index - 1] if index > 0 else None
        next_day = planned[index + 1] if index + 1 < len(planned) else None
        spaced: list[tuple[int, int, int]] = []
        loose: list[tuple[int, int, int]] = []
        first_ordinal = search.first.toordinal()
        for j in range(lo, hi):
            slot = self.slots[j]
            offset = slot.toordinal() - first_ordinal
            if offset in others or slot.date() in self.closed:
                continue
            s = to_micros(slot)
            if self._clashes(s, offset, planned[index]):
                continue
            keeps = (prev_day is None or offset - prev_day >= MIN_GAP_DAYS) and (
                next_day is None or next_day - offset >= MIN_GAP_DAYS
            )
            (spaced if keeps else loose).append((abs(s - wanted), s, j))
        spaced.sort()
        loose.sort()
        chosen = [(j, True) for _, _, j in spaced[:ALTERNATIVES]]
        chosen += [(j, False) for _, _, j in loose[: ALTERNATIVES - len(chosen)]]
        return tuple(Alternative(self.slots[j], search.end(self.slots[j]), keeps) for j, keeps in chosen)

    def _clashes(self, s: int, offset: int, replaced: int) -> bool:
        """Whether a start comes within the buffers of a session of the course on the day before or after
        (sessions on other days are too far to meet; the same day is never offered), other than the session
        it replaces."""
        for o in (offset - 1, offset + 1):
            span = None if o == replaced else self.spans_by_offset.get(o)
            if span is not None and s < span[1] + self.gap and span[0] < s + self.length + self.gap:
                return True
        return False


def _blocked(
    search: _Search, proposal: Proposal, planned: list[int], flags: bytearray
) -> tuple[Blocked, ...]:
    """The missing sessions grouped by cause (and by weekday for the calendar's causes), as sentences."""
    groups: dict[tuple[str, int | None], list[ProposedSession]] = {}
    for session in proposal.missing:
        assert session.cause is not None
        weekday = session.start.weekday() if session.cause in (BOOKED, UNAVAILABLE) else None
        groups.setdefault((session.cause, weekday), []).append(session)
    wall = proposal.pattern.time
    today = search.today
    blocked = []
    for (kind, weekday), sessions in groups.items():
        times: tuple[time, ...] = ()
        numbers = tuple(s.number for s in sessions)
        days = tuple(s.start.date() for s in sessions)
        until = None
        if kind in (BOOKED, UNAVAILABLE):
            assert weekday is not None
            verb = "is booked" if kind == BOOKED else "is not available"
            same_weekday = [
                search.first + timedelta(days=o)
                for o in planned
                if (search.first + timedelta(days=o)).weekday() == weekday
            ]
            last_offset = (days[-1] - search.first).days
            until = next(
                (
                    search.first + timedelta(days=o)
                    for o in range(last_offset + 7, search.n_days, 7)
                    if flags[o]
                ),
                None,
            )
            times = (wall,)
            if len(days) >= 2 and list(days) == same_weekday[: len(days)]:
                if until is not None:
                    end = f"until {_day_label(until, today, weekday=False)}"
                else:
                    end = f"through {_day_label(search.last, today, weekday=False)}, the last date searched"
                template = f"{{therapist}} {verb} on {_WEEKDAYS[weekday]}s at {{t0}} {end}."
            else:
                template = f"{{therapist}} {verb} at {{t0}} on {_join([_day_label(d, today) for d in days])}."
        elif kind == HOLIDAY:
            names = _join([f"{_escape(search.holidays[d])} ({_day_label(d, today)})" for d in days])
            template = f"{{therapist}} does not work on holidays: {names}."
        elif kind == NOTICE:
            notice = _duration(search.rules.notice)
            times = tuple(s.start.time() for s in sessions)
            too_soon = _join(
                [f"{_day_label(s.start.date(), today)} at {{t{i}}}" for i, s in enumerate(sessions)]
            )
            template = f"{{therapist}} asks for {notice} of notice, so {too_soon} is too soon."
        elif kind == BEYOND_HORIZON:
            horizon_end = instant(search.horizon_end_us, search.zone)
            times = (horizon_end.time(),)
            template = (
                f"{{therapist}} takes bookings up to {_day_label(horizon_end.date(), today)} at {{t0}}:"
                f" {_sessions_phrase(numbers)} would come after that."
            )
        else:  # AFTER_NOT_AFTER
            assert search.wishes.not_after is not None
            template = (
                f"{capitalise(_sessions_phrase(numbers))} would come after"
                f" {_day_label(search.wishes.not_after, today)}, the latest date you gave."
            )
        blocked.append(
            Blocked(
                kind=kind,
                sessions=numbers,
                dates=days,
                weekday=weekday,
                time=wall if kind in (BOOKED, UNAVAILABLE) else None,
                until=until,
                template=template,
                times=times,
            )
        )
    return tuple(blocked)


# ------------------------------------------------------------------------------------------------ words


def _day_label(day: date, today: date, *, weekday: bool = True) -> str:
    """'Friday, January 8' (with the year when it is not this year's): fixed English names, never the
    process's locale."""
    text = f"{_MONTHS[day.month - 1]} {day.day}"
    if weekday:
        text = f"{_WEEKDAYS[day.weekday()]}, {text}"
    return text if day.year == today.year else f"{text}, {day.year}"


def _join(words: Sequence[str]) -> str:
    if not words:
        return ""
    return words[0] if len(words) == 1 else ", ".join(words[:-1]) + f" and {words[-1]}"


def _escape(text: str) -> str:
    """A caller's text inside a template: braces doubled so that str.format leaves them alone."""
    return text.replace("{", "{{").replace("}", "}}")


def _sessions_phrase(numbers: Sequence[int]) -> str:
    """'session 4', 'sessions 4 and 7', 'sessions 14 to 40' (runs of three or more as a range)."""
    runs: list[list[int]] = []
    for n in numbers:
        if runs and n == runs[-1][-1] + 1:
            runs[-1].append(n)
        else:
            runs.append([n])
    words: list[str] = []
    for run in runs:
        if len(run) >= 3:
            words.append(f"{run[0]} to {run[-1]}")
        else:
            words += [str(n) for n in run]
    return f"session {words[0]}" if len(numbers) == 1 else f"sessions {_join(words)}"


def _duration(delta: timedelta) -> str:
    minutes = delta // _MINUTE
    if minutes % 1440 == 0 and minutes >= 2880:
        return plural(minutes // 1440, "day")
    if minutes % 60 == 0:
        return plural(minutes // 60, "hour")
    return plural(minutes, "minute")


# ------------------------------------------------------------------------------------ moving one session


def rhythm_suggestions(
    current: datetime,
    free: Sequence[datetime],
    others: Sequence[datetime],
    zone: ZoneInfo,
    *,
    limit: int = 3,
) -> list[datetime]:
    """Where one session of a course can move while the course keeps its rhythm, best first.

    `free` are the session's free starts (the slot engine's, with the session's own time left out), `others`
    the course's other booked sessions. A suggestion never shares a local date with another session and
    stays MIN_GAP_DAYS from the sessions either side (the spacing the planner keeps). Ranked: the same
    wall-clock time on another day, nearest day first (the patient's routine holds); then another time on
    the session's own day, nearest first; then whatever else is nearest in time.
    """
    local = current.astimezone(zone)
    days = sorted(other.astimezone(zone).date() for other in others)
    before = [d for d in days if d < local.date()]
    after = [d for d in days if d > local.date()]
    low = before[-1] if before else None
    high = after[0] if after else None

    def keeps(day: date) -> bool:
        if day in days:
            return False
        return (low is None or (day - low).days >= MIN_GAP_DAYS) and (
            high is None or (high - day).days >= MIN_GAP_DAYS
        )

    def rank(start: datetime) -> tuple[int, float]:
        moved = start.astimezone(zone)
        distance = abs((start - current).total_seconds())
        if moved.time() == local.time() and moved.date() != local.date():
            return (0, distance)
        if moved.date() == local.date():
            return (1, distance)
        return (2, distance)

    candidates = [s for s in free if s != current and keeps(s.astimezone(zone).date())]
    return sorted(candidates, key=rank)[:limit]
