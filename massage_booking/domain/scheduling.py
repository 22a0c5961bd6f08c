"""The slot engine: when a session of a given length may start, from a therapist's hours and bookings.

Pure Python (datetime, zoneinfo, bisect), so it can be checked against a brute-force minute scan
(tests/unit/test_scheduling.py) and timed on its own (benchmarks/slots.py).

What a slot is. A start instant s is offered iff all of these hold:

1. Hours: [s, s + duration) lies inside one interval of working time. Working time is the union of each
   local date's weekly hours (for its weekday) and the date's extra hours, converted to absolute instants,
   minus the union of time off. Intervals that touch or overlap merge, so 9-12 and 12-17 allow 11:30-12:30.
2. Grid: s's local wall-clock minute of the day is a multiple of `step` (seconds and microseconds zero).
   Every instant has exactly one local time, so nothing ever starts at a local time that does not exist,
   and in the repeated hour of a fall-back day 01:00 EDT and 01:00 EST are two distinct, valid starts.
3. Notice: s >= now + notice.   4. Horizon: s < now + horizon.
5. Bookings: for every booking b, [s - buffer_before, s + duration + buffer_after) does not overlap
   [b.start - buffer_before, b.end + buffer_after). Buffers keep sessions apart from bookings only: they
   need not lie inside working hours and do not apply against time off.
6. The query window: start <= s < end.

Local wall times become instants with `datetime.combine(day, t, tzinfo=zone)`, that is fold=0, which is
what a therapist typing "02:30" into a form gets everywhere else in Python. It is well defined on the two
awkward days, and this module keeps it rather than inventing a second rule:
- spring forward (America/New_York, 2026-03-08, 02:00 -> 03:00): a time in the gap takes the offset from
  before the change, so "02:30" is 07:30 UTC = 03:30 EDT. Hours 01:30-03:30 therefore last one hour
  (01:30-02:00 EST and 03:00-03:30 EDT); hours 02:00-02:45 become 03:00-03:45 EDT; hours whose end maps
  to an instant at or before their start (02:30-03:00: 03:30 EDT to 03:00 EDT) are dropped.
- fall back (2026-11-01, 02:00 -> 01:00): an ambiguous time is its first occurrence, so hours 00:00-04:00
  last five hours (00:00 EDT to 04:00 EST) and hours 01:00-01:30 are the EDT half hour only.

Durations are elapsed time, not wall-clock time: notice, horizon, buffers and duration are added to
instants in UTC. Python adds a timedelta to an aware datetime on its wall clock (2026-03-07 12:00 EST +
24 h is 2026-03-08 12:00 EDT, 23 real hours later), and compares two datetimes sharing a ZoneInfo by their
wall clocks, ignoring fold; both are wrong across a DST change. So the engine works on integer
microseconds since the UTC epoch and builds datetimes only for its answers. Callers should do the same
arithmetic on the answers (`slot.astimezone(UTC) + duration`), or in UTC.

How it is fast: interval arithmetic, never a minute scan. Working hours are built only for the local dates
that can matter, merged, time off subtracted; then each free component is walked on the grid, skipping
the start ranges that bookings block (sorted once, merged, met by a moving pointer). The grid is aligned
by local wall clock, so the walk is split where the UTC offset changes (found by bisection between a
component's two ends, which assumes at most one change per component, true of every real zone since
components never run past a local midnight); a 30-minute shift such as Lord Howe's, or a 45- or
90-minute step across a one-hour shift, realigns correctly.
"""

from __future__ import annotations

from bisect import bisect_right
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_MICROSECOND = timedelta(microseconds=1)
_ONE_DAY = timedelta(days=1)
_MIN_STEP = timedelta(minutes=5)
_DAY_US = 86_400_000_000

Span = tuple[int, int]  # [start, end) in microseconds since the UTC epoch


# ------------------------------------------------------------------------------------------- the rules


def _check_wall_time(t: time, name: str) -> None:
    if not isinstance(t, time):
        raise ValueError(f"{name} must be a datetime.time, got {t!r}")
    if t.tzinfo is not None:
        raise ValueError(f"{name} is a local wall-clock time in the rules' zone; it must not carry tzinfo")
    if t.second or t.microsecond:
        raise ValueError(f"{name} must be a whole minute, got {t}")


def _check_hours(start: time, end: time) -> None:
    _check_wall_time(start, "start")
    _check_wall_time(end, "end")
    if end <= start:
        raise ValueError(
            f"end {end} must be after start {start}: hours cannot run past midnight (time(0, 0) is a start,"
            " never an end); split overnight hours into two days"
        )


def _check_aware(value: datetime, name: str) -> None:
    if not isinstance(value, datetime):
        raise ValueError(f"{name} must be a datetime, got {value!r}")
    if value.tzinfo is None or value.utcoffset() is None:
        raise ValueError(f"{name} must be timezone-aware: a naive datetime names no instant ({value})")


def _check_not_negative(value: timedelta, name: str) -> None:
    if not isinstance(value, timedelta) or value < timedelta(0):
        raise ValueError(f"{name} must be a timedelta >= 0, got {value!r}")


@dataclass(frozen=True)
class WeeklyInterval:
    """Recurring working hours on one weekday (0 = Monday, as date.weekday()), local wall-clock times."""

    weekday: int
    start: time
    end: time

    def __post_init__(self) -> None:
        if not isinstance(self.weekday, int) or not 0 <= self.weekday <= 6:
            raise ValueError(f"weekday must be 0 (Monday) to 6 (Sunday), got {self.weekday!r}")
        _check_hours(self.start, self.end)


@dataclass(frozen=True)
class DateInterval:
    """Extra working hours on one local date (a date override that adds time)."""

    day: date
    start: time
    end: time

    def __post_init__(self) -> None:
        # A datetime is a date, but it never equals one, so it would silently match no day.
        if not isinstance(self.day, date) or isinstance(self.day, datetime):
            raise ValueError(f"day must be a datetime.date, got {self.day!r}")
        _check_hours(self.start, self.end)


@dataclass(frozen=True)
class Busy:
    """An absolute interval [start, end) of aware datetimes: a booking, time off, or working time."""

    start: datetime
    end: datetime

    def __post_init__(self) -> None:
        _check_aware(self.start, "start")
        _check_aware(self.end, "end")
        if to_micros(self.end) <= to_micros(self.start):
            raise ValueError(f"end {self.end} must be after start {self.start}")


@dataclass(frozen=True)
class Rules:
    """A therapist's availability rules; see the module docstring for what each one means for a slot."""

    time_zone: str
    weekly: tuple[WeeklyInterval, ...] = ()
    extra: tuple[DateInterval, ...] = ()
    buffer_before: timedelta = timedelta(0)
    buffer_after: timedelta = timedelta(0)
    notice: timedelta = timedelta(0)
    horizon: timedelta = timedelta(days=90)
    step: timedelta = timedelta(minutes=15)

    def __post_init__(self) -> None:
        zone_named(self.time_zone)
        # Tuples keep the rules hashable and immune to a caller mutating a list it passed in.
        object.__setattr__(self, "weekly", tuple(self.weekly))
        object.__setattr__(self, "extra", tuple(self.extra))
        for name in ("buffer_before", "buffer_after", "notice", "horizon"):
            _check_not_negative(getattr(self, name), name)
        step = self.step
        if (
            not isinstance(step, timedelta)
            or step < _MIN_STEP
            or step % timedelta(minutes=1)
            or _ONE_DAY % step
        ):
            raise ValueError(
                f"step must be a whole number of minutes >= 5 that divides 24 hours, got {step!r}: the grid"
                " is the same every local day only then"
            )


def zone_named(name: str) -> ZoneInfo:
    """The IANA zone `name`; a ValueError that names it if there is none."""
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError, TypeError) as error:
        raise ValueError(f"unknown time zone {name!r}") from error


# ------------------------------------------------------------------------------------- instants as ints


def to_micros(value: datetime) -> int:
    """Microseconds since the UTC epoch: exact, and immune to wall-clock arithmetic and fold."""
    return (value - _EPOCH) // _MICROSECOND


def _micros_of(delta: timedelta) -> int:
    return delta // _MICROSECOND


def instant(micros: int, zone: ZoneInfo) -> datetime:
    """The datetime of an instant in `zone`; astimezone sets fold for the repeated hour."""
    return (_EPOCH + timedelta(microseconds=micros)).astimezone(zone)


def _local_date(micros: int, zone: ZoneInfo) -> date:
    return instant(micros, zone).date()


def _offset(micros: int, zone: ZoneInfo) -> int:
    return _micros_of(instant(micros, zone).utcoffset() or timedelta(0))


def _wall_to_micros(day: date, wall: time, zone: ZoneInfo) -> int:
    """A local wall time as an instant, fold=0 (see the module docstring for the DST days)."""
    return to_micros(datetime.combine(day, wall, tzinfo=zone))


# ------------------------------------------------------------------------------------ interval algebra


def _union(spans: list[Span], *, join_touching: bool) -> list[Span]:
    """Sorted, disjoint spans covering `spans`. Working time joins spans that touch ([9, 12) + [12, 17));
    ranges of starts blocked by bookings are open at both ends, so touching ones must stay apart (the
    shared end is a start that neither blocks)."""
    merged: list[Span] = []
    for start, end in sorted(spans):
        if merged and (start <= merged[-1][1] if join_touching else start < merged[-1][1]):
            if end > merged[-1][1]:
                merged[-1] = (merged[-1][0], end)
        else:
            merged.append((start, end))
    return merged


def _subtract(spans: list[Span], cuts: list[Span]) -> list[Span]:
    """`spans` minus `cuts`, both sorted and disjoint."""
    result: list[Span] = []
    ends = [end for _, end in cuts]
    for start, end in spans:
        i = bisect_right(ends, start)  # the first cut that ends after this span starts
        while start < end:
            if i == len(cuts) or cuts[i][0] >= end:
                result.append((start, end))
                break
            if cuts[i][0] > start:
                result.append((start, cuts[i][0]))
            start = max(start, cuts[i][1])
            i += 1
    return result


# --------------------------------------------------------------------------------------------- a query


@dataclass(frozen=True)
class _Hours:
    """The rules' hours filed by weekday and by date, so that each local date finds its own at once."""

    zone: ZoneInfo
    weekly: tuple[tuple[tuple[time, time], ...], ...]  # indexed by weekday
    extra: dict[date, tuple[tuple[time, time], ...]]


def _hours_of(rules: Rules) -> _Hours:
    weekly: list[list[tuple[time, time]]] = [[] for _ in range(7)]
    for hours in rules.weekly:
        weekly[hours.weekday].append((hours.start, hours.end))
    extra: dict[date, list[tuple[time, time]]] = {}
    for dated in rules.extra:
        extra.setdefault(dated.day, []).append((dated.start, dated.end))
    return _Hours(
        zone=zone_named(rules.time_zone),
        weekly=tuple(tuple(day) for day in weekly),
        extra={day: tuple(spans) for day, spans in extra.items()},
    )


@dataclass(frozen=True)
class _Query:
    """Everything a walk needs, converted once: the hours, and the calendar as spans in microseconds."""

    hours: _Hours
    time_off: list[Span]  # merged
    blocked: list[Span]  # merged open ranges (lo, hi) of starts that some booking forbids
    blocked_ends: list[int]
    step: int
    duration: int


def _prepare(rules: Rules, duration: timedelta, time_off: Sequence[Busy], bookings: Sequence[Busy]) -> _Query:
    if not isinstance(duration, timedelta) or duration <= timedelta(0):
        raise ValueError(f"duration must be a positive timedelta, got {duration!r}")
    length = _micros_of(duration)
    # Session [s - before, s + length + after) meets booking [b0 - before, b1 + after) iff
    # b0 - before - after - length < s < b1 + before + after: only the sum of the buffers matters.
    gap = _micros_of(rules.buffer_before + rules.buffer_after)
    blocked = _union(
        [(to_micros(b.start) - gap - length, to_micros(b.end) + gap) for b in bookings], join_touching=False
    )
    return _Query(
        hours=_hours_of(rules),
        time_off=_union([(to_micros(b.start), to_micros(b.end)) for b in time_off], join_touching=True),
        blocked=blocked,
        blocked_ends=[end for _, end in blocked],
        step=_micros_of(rules.step),
        duration=length,
    )


def _working(hours: _Hours, lo: int, hi: int) -> list[Span]:
    """Merged working time (before time off) of every local date whose hours can meet [lo, hi).

    A date's hours lie between its local midnights, and an instant's local date is at most a day away
    from any date whose hours contain it, so one day of margin each side is enough.
    """
    zone = hours.zone
    day, last = _local_date(lo, zone) - _ONE_DAY, _local_date(hi, zone) + _ONE_DAY
    spans: list[Span] = []
    while day <= last:
        for start, end in hours.weekly[day.weekday()] + hours.extra.get(day, ()):
            span = (_wall_to_micros(day, start, zone), _wall_to_micros(day, end, zone))
            if span[1] > span[0]:  # empty when both ends fall in a spring-forward gap, see above
                spans.append(span)
        day += _ONE_DAY
    return _union(spans, join_touching=True)


def _offset_runs(zone: ZoneInfo, first: int, last: int) -> Iterator[tuple[int, int, int]]:
    """(first, last, UTC offset) for the stretches of [first, last] with one offset, in order.

    Bisects for the change when the two ends differ: a change and a change back inside one component
    would be missed, which no real zone does within a day.
    """
    offset = _offset(first, zone)
    while _offset(last, zone) != offset:
        same, changed = first, last
        while changed - same > 1:
            middle = (same + changed) // 2
            if _offset(middle, zone) == offset:
                same = middle
            else:
                changed = middle
        yield first, same, offset
        first, offset = changed, _offset(changed, zone)
    yield first, last, offset


def _align(micros: int, offset: int, step: int) -> int:
    """The first instant >= `micros` whose local time (under `offset`) is on the grid.

    The step divides a day, so local time since the epoch is a multiple of the step exactly when the
    local minute of the day is.
    """
    return micros + (-(micros + offset)) % step


def _starts(query: _Query, lo: int, hi: int) -> Iterator[int]:
    """Every valid start in [lo, hi), in order, lazily (next_free_slot stops at the first)."""
    if hi <= lo:
        return
    length, step, zone = query.duration, query.step, query.hours.zone
    blocked, ends = query.blocked, query.blocked_ends
    # Sessions starting before hi end before hi + length: hours up to there decide whether they fit.
    free = _subtract(_working(query.hours, lo, hi + length), query.time_off)
    j = bisect_right(ends, lo)  # the first blocked range that ends after lo
    for start, end in free:
        first, last = max(start, lo), min(end - length, hi - 1)
        if first > last:
            continue
        for run_first, run_last, offset in _offset_runs(zone, first, last):
            s = _align(run_first, offset, step)
            while s <= run_last:
                while j < len(ends) and ends[j] <= s:
                    j += 1
                if j < len(ends) and blocked[j][0] < s:
                    s = _align(ends[j], offset, step)
                    continue
                yield s
                s += step


# ------------------------------------------------------------------------------------------ the API


def working_intervals(rules: Rules, start: datetime, end: datetime) -> list[Busy]:
    """Absolute working intervals (weekly hours for each local date + extra hours), merged where they
    touch or overlap, sorted, clipped to [start, end); datetimes in the rules' zone. Time off is not
    subtracted: this is the schedule as the therapist set it, e.g. for a calendar's shading."""
    lo, hi = _window(start, end)
    hours = _hours_of(rules)
    zone = hours.zone
    return [
        Busy(instant(max(a, lo), zone), instant(min(b, hi), zone))
        for a, b in _working(hours, lo, hi)
        if a < hi and b > lo
    ]


def free_slots(
    rules: Rules,
    *,
    duration: timedelta,
    now: datetime,
    start: datetime,
    end: datetime,
    time_off: Sequence[Busy] = (),
    bookings: Sequence[Busy] = (),
) -> list[datetime]:
    """Sorted, distinct, aware datetimes (tzinfo = ZoneInfo(rules.time_zone)) at which a session of
    `duration` may start, among starts s with start <= s < end (rules in the module docstring)."""
    lo, hi = _window(start, end)
    _check_aware(now, "now")
    query = _prepare(rules, duration, time_off, bookings)
    now_us = to_micros(now)
    lo = max(lo, now_us + _micros_of(rules.notice))
    hi = min(hi, now_us + _micros_of(rules.horizon))
    zone = query.hours.zone
    return [instant(s, zone) for s in _starts(query, lo, hi)]


def next_free_slot(
    rules: Rules,
    *,
    duration: timedelta,
    now: datetime,
    time_off: Sequence[Busy] = (),
    bookings: Sequence[Busy] = (),
) -> datetime | None:
    """The first of free_slots over [now, now + horizon), or None.

    Searched in windows of 1, 2, 4... days so that a slot tomorrow costs a day of hours, not the horizon's:
    a start's validity does not depend on the window it is searched in, so the first window with a slot
    holds the first slot.
    """
    _check_aware(now, "now")
    query = _prepare(rules, duration, time_off, bookings)
    now_us = to_micros(now)
    lo, hi = now_us + _micros_of(rules.notice), now_us + _micros_of(rules.horizon)
    width = _DAY_US
    while lo < hi:
        window_end = min(hi, lo + width)
        for s in _starts(query, lo, window_end):
            return instant(s, query.hours.zone)
        lo, width = window_end, width * 2
    return None


def _window(start: datetime, end: datetime) -> Span:
    _check_aware(start, "start")
    _check_aware(end, "end")
    lo, hi = to_micros(start), to_micros(end)
    if hi < lo:
        raise ValueError(f"end {end} is before start {start}")
    return lo, hi
