"""Plan a course of massage: the evidence's dose -> concrete session times -> each one checked for a slot.

Pure Python (datetime, zoneinfo, math). Three steps, each usable on its own:

1. The plan. `default_plan(condition)` is the dose the registry (`evidence.json`) cites for the condition:
   chronic neck pain 60 minutes, 2 a week for 4 weeks (Sherman 2014); knee osteoarthritis 60 minutes
   weekly for 8 weeks (Perlman 2012); fibromyalgia 15 sessions over 10 weeks (Brattberg 1999).
   `custom_plan` lets the patient change the length, the cadence or the count. A course below the
   registry's minimum effective dose gets a `DoseWarning` that cites the trial, never a refusal: the
   registry says what was studied, the patient and their clinician decide (`evidence.MinimumDose`).
2. The lay-out. `cadence_offsets` turns a cadence into day offsets from the first session and `lay_out`
   puts each session at the same local wall-clock time as the first, in the therapist's zone, so a
   10:00 course stays at 10:00 across a DST change (DESIGN.md: "DST transitions do not move or duplicate
   sessions").
3. The check. `check_sessions` asks the slot engine (`scheduling.free_slots`) whether each session can
   start where it was laid out, treats the course's earlier sessions as bookings for its later ones, and
   offers the nearest free starts for a conflict, the same week first.

Instants are compared and added in UTC only: two datetimes sharing a ZoneInfo compare by wall clock and
ignore fold, which is wrong in the repeated hour of a fall-back day (see scheduling.py).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from massage_booking.domain import evidence, scheduling
from massage_booking.domain.errors import ValidationFailed

# What a patient may choose. Lengths are the bookable session lengths (15 minutes, the shortest studied
# dose, is Li 2021's hand massage; 120 the longest a therapist books); cadences are those
# `cadence_offsets` can lay out; 40 sessions is ten weeks at four a week, more than any registry plan.
SESSION_MINUTES = (15, 20, 30, 45, 60, 75, 90, 120)
SESSIONS_PER_WEEK = (0.5, 1, 1.5, 2, 3, 4, 5)
MIN_TOTAL_SESSIONS, MAX_TOTAL_SESSIONS = 1, 40

# Conditions whose evidence gives no weekly cadence (chemotherapy_nausea: sessions timed with
# chemotherapy visits; postoperative_pain, preoperative_anxiety: one session at a time) are laid out one
# a week unless the patient picks a cadence. The plan keeps `sessions_per_week=None`, so nothing claims
# the weekly rhythm is evidence; only the calendar uses it.
LAYOUT_SESSIONS_PER_WEEK = 1.0

BELOW_MINIMUM_DOSE = "below_minimum_dose"

# The days of one cycle on which sessions fall, counted from the first session, and the cycle's length.
# The pattern is relative to the first session: a twice-weekly course started on a Monday runs Mon/Thu,
# one started on a Tuesday runs Tue/Fri. Gaps are spread as evenly as whole days allow (2 a week: 3 and
# 4 days apart; 3 a week: Mon/Wed/Fri), and 1.5 a week is Brattberg 1999's "15 treatments over 10 weeks"
# as three sessions a fortnight.
_CADENCES: dict[float, tuple[int, tuple[int, ...]]] = {
    0.5: (14, (0,)),
    1.0: (7, (0,)),
    1.5: (14, (0, 4, 7)),
    2.0: (7, (0, 3)),
    3.0: (7, (0, 2, 4)),
    4.0: (7, (0, 1, 3, 4)),
    5.0: (7, (0, 1, 2, 3, 4)),
}


# ------------------------------------------------------------------------------------------ the plan


@dataclass(frozen=True)
class DoseWarning:
    """A course below the dose that worked in the cited trial: shown to the patient, never a refusal.

    `fields` names the dose fields below the registry's floor (those of `evidence.DOSE_FIELDS`).
    """

    code: str
    fields: tuple[str, ...]
    message: str


@dataclass(frozen=True)
class CoursePlan:
    """A course as numbers: the length, cadence and count of its sessions, and the evidence it follows.

    `sessions_per_week` is None when the evidence gives no cadence (see LAYOUT_SESSIONS_PER_WEEK);
    `weeks` is derived from the count and cadence when there is a cadence. `citation_id` is always the
    condition's plan citation: the study the course is measured against, changed or not.
    """

    condition_id: str
    session_minutes: int
    sessions_per_week: float | None
    total_sessions: int
    weeks: int | None
    citation_id: str
    warnings: tuple[DoseWarning, ...]

    @classmethod
    def from_evidence(
        cls,
        condition: evidence.Condition,
        *,
        session_minutes: int,
        sessions_per_week: float | None,
        total_sessions: int,
    ) -> CoursePlan:
        """A plan for `condition` with these numbers, its weeks derived and its dose judged."""
        weeks = _weeks(total_sessions, sessions_per_week) if sessions_per_week else condition.weeks
        warning = dose_warning(
            condition,
            session_minutes=session_minutes,
            sessions_per_week=sessions_per_week,
            weeks=weeks,
            total_sessions=total_sessions,
        )
        return cls(
            condition_id=condition.id,
            session_minutes=session_minutes,
            sessions_per_week=None if sessions_per_week is None else float(sessions_per_week),
            total_sessions=total_sessions,
            weeks=weeks,
            citation_id=condition.plan_citation.id,
            warnings=(warning,) if warning else (),
        )

    @property
    def duration(self) -> timedelta:
        return timedelta(minutes=self.session_minutes)

    @property
    def layout_sessions_per_week(self) -> float:
        """The cadence the calendar uses: the plan's, or one a week when the evidence gives none."""
        return self.sessions_per_week or LAYOUT_SESSIONS_PER_WEEK


def _weeks(total_sessions: int, sessions_per_week: float) -> int:
    """Weeks a course spans: ceil(total / per week), so 15 sessions at 1.5 a week is 10 weeks."""
    return math.ceil(total_sessions / sessions_per_week - 1e-9)


def default_plan(condition: evidence.Condition) -> CoursePlan:
    """The registry's plan for the condition, exactly as cited (it meets its own minimum, so no warning)."""
    return CoursePlan.from_evidence(
        condition,
        session_minutes=condition.session_minutes,
        sessions_per_week=condition.sessions_per_week,
        total_sessions=condition.total_sessions,
    )


def custom_plan(
    condition: evidence.Condition,
    *,
    session_minutes: int | None = None,
    sessions_per_week: float | None = None,
    total_sessions: int | None = None,
) -> CoursePlan:
    """The default plan with the patient's changes; None keeps the default.

    Raises ValidationFailed naming every field outside what can be booked (SESSION_MINUTES,
    SESSIONS_PER_WEEK, MIN_TOTAL_SESSIONS..MAX_TOTAL_SESSIONS). A dose below the evidence is not an
    error: the plan carries a DoseWarning instead.
    """
    errors: dict[str, list[str]] = {}
    if session_minutes is not None and not _is_one_of(session_minutes, SESSION_MINUTES):
        errors["session_minutes"] = [
            f"Choose a session length of {_listing(SESSION_MINUTES)} minutes (got {session_minutes!r})."
        ]
    if sessions_per_week is not None and not _is_one_of(sessions_per_week, SESSIONS_PER_WEEK):
        errors["sessions_per_week"] = [
            f"Choose {_listing(SESSIONS_PER_WEEK)} sessions a week (got {sessions_per_week!r})."
        ]
    if total_sessions is not None and not (
        is_int(total_sessions) and MIN_TOTAL_SESSIONS <= total_sessions <= MAX_TOTAL_SESSIONS
    ):
        errors["total_sessions"] = [
            f"Choose {MIN_TOTAL_SESSIONS} to {MAX_TOTAL_SESSIONS} sessions (got {total_sessions!r})."
        ]
    if errors:
        raise ValidationFailed("Please correct the course's numbers.", {"fields": errors})
    return CoursePlan.from_evidence(
        condition,
        session_minutes=condition.session_minutes if session_minutes is None else int(session_minutes),
        sessions_per_week=(
            condition.sessions_per_week if sessions_per_week is None else float(sessions_per_week)
        ),
        total_sessions=condition.total_sessions if total_sessions is None else int(total_sessions),
    )


def is_int(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _is_one_of(value: object, allowed: Sequence[float]) -> bool:
    """True for a number (not a bool: True == 1) equal to one of `allowed`."""
    return isinstance(value, int | float) and not isinstance(value, bool) and value in allowed


def _listing(values: Sequence[float]) -> str:
    words = [f"{v:g}" for v in values]
    return ", ".join(words[:-1]) + f" or {words[-1]}"


# ------------------------------------------------------------------------------------ dose warnings


def dose_warning(
    condition: evidence.Condition,
    *,
    session_minutes: int,
    sessions_per_week: float | None,
    weeks: int | None,
    total_sessions: int,
) -> DoseWarning | None:
    """The warning for a course below the condition's minimum effective dose, or None.

    The floor and its citation are the registry's (`MinimumDose.shortfalls`); a number the course does
    not have (no cadence, so no weeks) is not judged. Example: "30-minute sessions are below the dose
    that worked for chronic neck pain (60 minutes, 2 a week for 4 weeks; Sherman 2014). You can still
    book it."
    """
    minimum = condition.minimum
    short = minimum.shortfalls(
        session_minutes=session_minutes,
        sessions_per_week=sessions_per_week,
        weeks=weeks,
        total_sessions=total_sessions,
    )
    if not short or minimum.citation is None:
        return None
    proposed = {
        "session_minutes": session_minutes,
        "sessions_per_week": sessions_per_week,
        "weeks": weeks,
        "total_sessions": total_sessions,
    }
    phrases = [_SHORTFALL_PHRASES[name](proposed[name]) for name in short]
    verb = "is" if len(phrases) == 1 and _singular(short[0], proposed[short[0]]) else "are"
    what = capitalise(_join(phrases))
    message = (
        f"{what} {verb} below the dose that worked for {_lower_first(condition.name)}"
        f" ({_describe_minimum(minimum)}; {minimum.citation.short}). You can still book it."
    )
    return DoseWarning(code=BELOW_MINIMUM_DOSE, fields=short, message=message)


def _per_week_phrase(n: float) -> str:
    if n == 0.5:
        return "one session every two weeks"
    return f"{n:g} session a week" if n == 1 else f"{n:g} sessions a week"


_SHORTFALL_PHRASES = {
    "session_minutes": lambda n: f"{n}-minute sessions",
    "sessions_per_week": _per_week_phrase,
    "weeks": lambda n: f"a {n}-week course",
    "total_sessions": lambda n: f"{n} session in all" if n == 1 else f"{n} sessions in all",
}


def _singular(field: str, value: float | None) -> bool:
    return field == "weeks" or (
        field in ("sessions_per_week", "total_sessions") and value is not None and value <= 1
    )


def _describe_minimum(minimum: evidence.MinimumDose) -> str:
    """'60 minutes, 2 a week for 4 weeks' from the floor's numbers (only those the registry gives)."""
    parts = []
    if minimum.session_minutes is not None:
        parts.append(f"{minimum.session_minutes} minutes")
    per_week, weeks, total = minimum.sessions_per_week, minimum.weeks, minimum.total_sessions
    if per_week is not None:
        cadence = "once a week" if per_week == 1 else f"{per_week:g} a week"
        parts.append(f"{cadence} for {plural(weeks, 'week')}" if weeks is not None else cadence)
    elif weeks is not None and total is not None:
        parts.append(f"{plural(total, 'session')} over {plural(weeks, 'week')}")
    elif weeks is not None:
        parts.append(f"a program of at least {plural(weeks, 'week')}")
    elif total is not None:
        parts.append(plural(total, "session"))
    return ", ".join(parts)


def plural(n: int, word: str) -> str:
    return f"{n} {word}" if n == 1 else f"{n} {word}s"


def _join(phrases: list[str]) -> str:
    return phrases[0] if len(phrases) == 1 else ", ".join(phrases[:-1]) + f" and {phrases[-1]}"


def capitalise(text: str) -> str:
    return text[:1].upper() + text[1:]


def _lower_first(text: str) -> str:
    return text[:1].lower() + text[1:]


# --------------------------------------------------------------------------------------- the lay-out


def cadence_offsets(sessions_per_week: float, total: int) -> list[int]:
    """Day offsets from the first session for each of `total` sessions.

    One cycle of `_CADENCES` repeats: 1 a week every 7 days; 2 a week days 0 and 3 of each week
    (0, 3, 7, 10, ...: Mon/Thu when the course starts on a Monday); 3 a week 0, 2, 4 (Mon/Wed/Fri);
    4 a week 0, 1, 3, 4; 5 a week 0-4; 1.5 a week three a fortnight, 0, 4, 7 then +14 (0, 4, 7, 14, 18,
    21, ...); 0.5 a week every 14 days. Raises ValueError for any other cadence.
    """
    try:
        period, days = _CADENCES[float(sessions_per_week)]
    except (KeyError, TypeError, ValueError):
        raise ValueError(
            f"no lay-out for {sessions_per_week!r} sessions a week; expected one of {SESSIONS_PER_WEEK}"
        ) from None
    if total < 0:
        raise ValueError(f"total must be >= 0, got {total}")
    return [period * (i // len(days)) + days[i % len(days)] for i in range(total)]


def lay_out(plan: CoursePlan, first_start: datetime, zone: str) -> list[tuple[datetime, datetime]]:
    """(start, end) of every session, aware in `zone`, at the first session's local wall-clock time.

    A 10:00 EDT course stays at 10:00 after the clocks go back (10:00 EST), not at 09:00: patients and
    therapists keep appointments by the clock on the wall. A wall time that does not exist on a later
    date (02:30 on a spring-forward day) maps as zoneinfo's fold=0 does, the rule scheduling.py uses
    (02:30 -> 03:30 EDT); the slot check then flags it if it is not a valid slot. An ambiguous time on
    a fall-back day is its first occurrence. The first session is kept exactly as given. Ends are the
    start plus the session length in elapsed time (UTC arithmetic).
    """
    if first_start.tzinfo is None or first_start.utcoffset() is None:
        raise ValueError(f"first_start must be timezone-aware, got {first_start}")
    tz = scheduling.zone_named(zone)
    first = first_start.astimezone(tz)
    wall: time = first.time().replace(fold=0)
    sessions = []
    for offset in cadence_offsets(plan.layout_sessions_per_week, plan.total_sessions):
        start = first if offset == 0 else _wall_time(first.date() + timedelta(days=offset), wall, tz)
        end = (start.astimezone(UTC) + plan.duration).astimezone(tz)
        sessions.append((start, end))
    return sessions


def _wall_time(day: date, wall: time, tz: ZoneInfo) -> datetime:
    """`wall` on `day` as zoneinfo's fold=0 reads it, returned as that instant's real local time: a
    time in a spring-forward gap (02:30) comes back as the clock reads then (03:30 EDT), never as a
    datetime whose face shows a time that did not exist."""
    return datetime.combine(day, wall, tz).astimezone(UTC).astimezone(tz)


# --------------------------------------------------------------------------------------- the check


@dataclass(frozen=True)
class PlannedSession:
    """One session of a course as checked: where it was laid out, whether that time is free, and if not
    the nearest free starts (datetimes in the therapist's zone, nearest first, same week first)."""

    number: int
    start: datetime
    end: datetime
    free: bool
    alternatives: tuple[datetime, ...]


def check_sessions(
    sessions: Sequence[tuple[datetime, datetime]],
    rules: scheduling.Rules,
    *,
    now: datetime,
    time_off: Sequence[scheduling.Busy] = (),
    bookings: Sequence[scheduling.Busy] = (),
    max_alternatives: int = 3,
) -> list[PlannedSession]:
    """Check each session of a course against the slot engine, in order.

    Free: the session's start is one of `scheduling.free_slots` for its length (hours, grid, notice,
    horizon, time off, bookings with buffers), and it does not come within the rules' buffers of an
    EARLIER session of this course: earlier sessions count as bookings for later ones, so a course's
    free sessions never overlap each other, and the first of two clashing sessions keeps its place.

    Alternatives (conflicts only): free starts for the same length that also keep the buffers from
    every other session of the course (as laid out), nearest to the wanted start by elapsed time
    (earlier first on a tie). Starts in the wanted start's ISO week (Monday-Sunday, local) come first;
    then the days outside it, from the week before and the week after. At most `max_alternatives`;
    none when nothing is free within those three weeks. Alternatives of two different conflicts may
    clash with each other: the patient picks one per session and the course is checked again.

    One `free_slots` call per local week and session length: a course never asks the engine per minute.
    """
    if max_alternatives < 0:
        raise ValueError(f"max_alternatives must be >= 0, got {max_alternatives}")
    finder = _SlotFinder(rules, now=now, time_off=tuple(time_off), bookings=tuple(bookings))
    spans = [_span(start, end) for start, end in sessions]
    gap = rules.buffer_before + rules.buffer_after
    checked = []
    for index, (start, end) in enumerate(sessions):
        lo, hi = spans[index]
        duration = hi - lo
        week = _monday(start, finder.zone)
        earlier = spans[:index]
        free = lo in finder.week_starts(week, duration) and not _clashes(lo, hi, earlier, gap)
        alternatives: tuple[datetime, ...] = ()
        if not free and max_alternatives:
            others = spans[:index] + spans[index + 1 :]
            alternatives = _alternatives(finder, lo, duration, week, others, gap, max_alternatives)
        checked.append(PlannedSession(index + 1, start, end, free, alternatives))
    return checked


def _span(start: datetime, end: datetime) -> tuple[datetime, datetime]:
    """A session as UTC instants, the only safe form to compare and subtract (see the module docstring)."""
    for value, name in ((start, "start"), (end, "end")):
        if value.tzinfo is None or value.utcoffset() is None:
            raise ValueError(f"session {name} must be timezone-aware, got {value}")
    lo, hi = start.astimezone(UTC), end.astimezone(UTC)
    if hi <= lo:
        raise ValueError(f"session end {end} must be after its start {start}")
    return lo, hi


def _clashes(lo: datetime, hi: datetime, others: Sequence[tuple[datetime, datetime]], gap: timedelta) -> bool:
    """Whether [lo, hi) comes within the buffers of any of `others`: the engine's booking rule
    (scheduling.py rule 5), where only the sum of the two buffers matters."""
    return any(lo < other_hi + gap and other_lo < hi + gap for other_lo, other_hi in others)


def _monday(value: datetime, zone: ZoneInfo) -> date:
    local = value.astimezone(zone).date()
    return local - timedelta(days=local.weekday())


class _SlotFinder:
    """The engine's free starts per (local week, session length), asked once each and kept as UTC."""

    def __init__(
        self,
        rules: scheduling.Rules,
        *,
        now: datetime,
        time_off: tuple[scheduling.Busy, ...],
        bookings: tuple[scheduling.Busy, ...],
    ) -> None:
        self.rules, self.now, self.time_off, self.bookings = rules, now, time_off, bookings
        self.zone = scheduling.zone_named(rules.time_zone)
        self._cache: dict[tuple[date, timedelta], list[datetime]] = {}
        self._sets: dict[tuple[date, timedelta], frozenset[datetime]] = {}

    def week_slots(self, monday: date, duration: timedelta) -> list[datetime]:
        """Free starts from `monday` 00:00 to the next Monday 00:00, local (fold=0), as UTC datetimes."""
        key = (monday, duration)
        if key not in self._cache:
            start = datetime.combine(monday, time(0), self.zone)
            end = datetime.combine(monday + timedelta(days=7), time(0), self.zone)
            slots = scheduling.free_slots(
                self.rules,
                duration=duration,
                now=self.now,
                start=start,
                end=end,
                time_off=self.time_off,
                bookings=self.bookings,
            )
            self._cache[key] = [slot.astimezone(UTC) for slot in slots]
        return self._cache[key]

    def week_starts(self, monday: date, duration: timedelta) -> frozenset[datetime]:
        key = (monday, duration)
        if key not in self._sets:
            self._sets[key] = frozenset(self.week_slots(monday, duration))
        return self._sets[key]


def _alternatives(
    finder: _SlotFinder,
    wanted: datetime,
    duration: timedelta,
    monday: date,
    others: Sequence[tuple[datetime, datetime]],
    gap: timedelta,
    limit: int,
) -> tuple[datetime, ...]:
    """The nearest free starts to `wanted`, its own week first, then the weeks either side of it."""
    week = timedelta(days=7)
    chosen: list[datetime] = []
    for weeks in ((monday,), (monday - week, monday + week)):
        candidates = [
            slot
            for m in weeks
            for slot in finder.week_slots(m, duration)
            if not _clashes(slot, slot + duration, others, gap)
        ]
        candidates.sort(key=lambda slot: (abs(slot - wanted), slot))
        chosen.extend(candidates[: limit - len(chosen)])
        if len(chosen) >= limit:
            break
    return tuple(slot.astimezone(finder.zone) for slot in chosen)
