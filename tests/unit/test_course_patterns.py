"""domain/course_patterns.py: whole-course proposals, by example and against a brute force.

The examples read as a patient's or a therapist's expectations: the Friday "3 a week" that used to land on a
Sunday, closed days, DST days, holidays, evenings, the cadences, a partial course, bad input. The property
tests draw small random calendars (hours with closed days, bookings, time off, holidays, wishes) and check
every proposal against the slot engine's own answer, asked independently here, and the soonest start against
a brute force that lays out every valid weekday pattern at every grid time from every start day with
`datetime.combine` and checks each session's membership in `free_slots`.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from itertools import combinations
from zoneinfo import ZoneInfo

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from massage_booking.domain import courses
from massage_booking.domain.course_patterns import (
    BEYOND_HORIZON,
    BOOKED,
    HOLIDAY,
    MIN_GAP_DAYS,
    NO_FREE_TIME,
    Blocked,
    PatternRequest,
    PlanRequestError,
    PlanResult,
    Proposal,
    Wishes,
    propose,
    rhythm_suggestions,
)
from massage_booking.domain.scheduling import Busy, DateInterval, Rules, WeeklyInterval, free_slots
from massage_booking.formatting import wall_clock

NEW_YORK = "America/New_York"
NY = ZoneInfo(NEW_YORK)
HOUR = timedelta(hours=1)
DAY = timedelta(days=1)
MINUTES_60 = timedelta(minutes=60)


def at(day: date, hour: int, minute: int = 0, zone: ZoneInfo = NY) -> datetime:
    return datetime.combine(day, time(hour, minute), tzinfo=zone)


def hours(days: range | tuple[int, ...], start: int, end: int) -> tuple[WeeklyInterval, ...]:
    return tuple(WeeklyInterval(d, time(start), time(end)) for d in days)


def rules(weekly: tuple[WeeklyInterval, ...], **kwargs) -> Rules:
    kwargs.setdefault("step", timedelta(minutes=30))
    return Rules(kwargs.pop("time_zone", NEW_YORK), weekly=weekly, **kwargs)


def plan(per_week: float, total: int, minutes: int = 60) -> PatternRequest:
    return PatternRequest(timedelta(minutes=minutes), per_week, total)


def run(
    request: PatternRequest,
    therapist: Rules,
    *,
    now: datetime,
    wishes: Wishes,
    holidays: Mapping[date, str] | None = None,
    works_holidays: bool = False,
    **kwargs,
) -> PlanResult:
    return propose(
        request,
        therapist,
        now=now,
        wishes=wishes,
        holidays=holidays or {},
        works_holidays=works_holidays,
        **kwargs,
    )


# ---------------------------------------------------------------------------------- independent checks


def free_set(therapist: Rules, duration: timedelta, now: datetime, time_off=(), bookings=()) -> set[datetime]:
    """The engine's free starts over the whole horizon, as UTC instants."""
    slots = free_slots(
        therapist,
        duration=duration,
        now=now,
        start=now,
        end=now + therapist.horizon + DAY,
        time_off=time_off,
        bookings=bookings,
    )
    return {s.astimezone(UTC) for s in slots}


def pattern_days(weekly: tuple[int, ...], alternate: tuple[int, ...], week: int, phase: int) -> set[int]:
    return {*weekly, *alternate} if alternate and (week + phase) % 2 == 0 else set(weekly)


def laid_out(weekly, alternate, first: date, phase: int, n: int, anchor: date) -> list[date]:
    """n consecutive pattern days from `first`, week parity counted from the Monday of `anchor`."""
    monday = anchor - timedelta(days=anchor.weekday())
    days, day = [], first
    while len(days) < n:
        if day.weekday() in pattern_days(weekly, alternate, (day - monday).days // 7, phase):
            days.append(day)
        day += DAY
    return days


def cyclic_gaps(days: tuple[int, ...]) -> list[int]:
    ordered = sorted(days)
    return [b - a for a, b in zip(ordered, ordered[1:] + [ordered[0] + 7], strict=True)]


def valid_patterns(per_week: float) -> list[tuple[tuple[int, ...], tuple[int, ...]]]:
    """Every (weekly, alternate) weekday pattern of the cadence, written out again from the rules."""
    if per_week in (1, 2, 3):
        return [
            (days, ())
            for days in combinations(range(7), int(per_week))
            if all(gap >= 2 for gap in cyclic_gaps(days))
        ]
    if per_week == 1.5:
        return [
            ((x,), (y,)) for x in range(7) for y in range(7) if x != y and min((y - x) % 7, (x - y) % 7) >= 2
        ]
    return [((), (d,)) for d in range(7)]


@dataclass(frozen=True)
class Case:
    request: PatternRequest
    rules: Rules
    now: datetime
    wishes: Wishes
    holidays: dict[date, str]
    works_holidays: bool
    time_off: tuple[Busy, ...] = ()
    bookings: tuple[Busy, ...] = ()
    count: int = 3

    def propose(self) -> PlanResult:
        return propose(
            self.request,
            self.rules,
            now=self.now,
            wishes=self.wishes,
            holidays=self.holidays,
            works_holidays=self.works_holidays,
            time_off=self.time_off,
            bookings=self.bookings,
            count=self.count,
        )

    @property
    def zone(self) -> ZoneInfo:
        return ZoneInfo(self.rules.time_zone)

    def free(self) -> set[datetime]:
        return free_set(self.rules, self.request.session_length, self.now, self.time_off, self.bookings)

    def window(self) -> tuple[date, date]:
        """First and last local dates a session may fall on, from the rules as written in the module doc."""
        first = max(self.wishes.earliest_start, self.wishes.not_before or self.wishes.earliest_start)
        last = (self.now.astimezone(UTC) + self.rules.horizon - timedelta(microseconds=1)).astimezone(
            self.zone
        )
        last_day = last.date()
        if self.wishes.not_after:
            last_day = min(last_day, self.wishes.not_after)
        return first, last_day

    def closed(self, day: date) -> bool:
        return not self.works_holidays and day in self.holidays


def brute_soonest(case: Case, free: set[datetime]) -> datetime | None:
    """The soonest first session of any whole course: every pattern, phase, start day and grid time."""
    zone = case.zone
    first, last = case.window()
    n = case.request.total_sessions
    step = case.rules.step // timedelta(minutes=1)
    grid = [time(m // 60, m % 60) for m in range(0, 1440, step)]
    walls = {(s.astimezone(zone).date(), s.astimezone(zone).time()) for s in free}  # a necessary condition

    def free_at(day: date, t: time) -> bool:
        if day > last or case.closed(day) or (day, t) not in walls:
            return False
        return datetime.combine(day, t, zone).astimezone(UTC) in free

    best = None
    for weekly, alternate in valid_patterns(case.request.sessions_per_week):
        for phase in (0, 1) if alternate else (0,):
            day, found = first, None
            while day <= last and found is None:
                monday = first - timedelta(days=first.weekday())
                if day.weekday() in pattern_days(weekly, alternate, (day - monday).days // 7, phase):
                    for t in grid:
                        if not free_at(day, t):
                            continue
                        days = laid_out(weekly, alternate, day, phase, n, first)
                        if all(free_at(d, t) for d in days):
                            found = datetime.combine(day, t, zone).astimezone(UTC)
                            break
                day += DAY
            if found is not None and (best is None or found < best):
                best = found
    return best


def assert_whole(proposal: Proposal, case: Case, free: set[datetime]) -> None:
    """Every rule of the module docstring that a whole proposal must keep."""
    zone, request, pattern = case.zone, case.request, proposal.pattern
    sessions = proposal.sessions
    assert proposal.complete and not proposal.missing
    assert len(sessions) == request.total_sessions
    assert [s.number for s in sessions] == list(range(1, len(sessions) + 1))
    first, last = case.window()
    horizon_end = case.now.astimezone(UTC) + case.rules.horizon
    for s in sessions:
        start_utc = s.start.astimezone(UTC)
        assert start_utc in free, f"{s.start} is not a free start"
        assert start_utc < horizon_end
        assert s.free and s.cause is None and not s.alternatives
        assert s.start.tzinfo is not None and s.start.utcoffset() == s.start.astimezone(zone).utcoffset()
        # One wall-clock time, the first occurrence when it repeats: what combine(day, t) names.
        assert s.start.time() == pattern.time
        assert datetime.combine(s.start.date(), pattern.time, zone).astimezone(UTC) == start_utc
        assert s.end.astimezone(UTC) - start_utc == request.session_length
        assert first <= s.start.date() <= last
        assert s.start.weekday() in pattern.weekdays
        assert not case.closed(s.start.date())
    days = [s.start.date() for s in sessions]
    gaps = [(b - a).days for a, b in zip(days, days[1:], strict=False)]
    assert all(gap >= MIN_GAP_DAYS for gap in gaps), gaps
    # Regular: the sessions are consecutive pattern days from the first, in one of the phases.
    assert any(
        laid_out(pattern.weekly, pattern.alternate, days[0], phase, len(days), days[0]) == days
        for phase in (0, 1)
    )
    per_week = request.sessions_per_week
    if per_week == 0.5:
        assert all(gap == 14 for gap in gaps)
    elif per_week == 1:
        assert all(gap == 7 for gap in gaps)
    else:
        weeks: dict[date, int] = {}
        for d in days:
            monday = d - timedelta(days=d.weekday())
            weeks[monday] = weeks.get(monday, 0) + 1
        interior = [weeks[m] for m in sorted(weeks)][1:-1]
        if per_week == 1.5:
            assert all(c in (1, 2) for c in interior)
            assert all(a != b for a, b in zip(interior, interior[1:], strict=False))
        else:
            assert all(c == per_week for c in interior)
    listed = [(d, case.holidays[d]) for d in days if d in case.holidays]
    assert list(proposal.holidays) == listed
    assert ("includes_holidays" in proposal.reasons) == bool(listed)


def assert_partial(result: PlanResult, case: Case, free: set[datetime]) -> None:
    partial = result.partial
    assert partial is not None and not partial.complete
    assert len(partial.sessions) == case.request.total_sessions
    days = [s.start.date() for s in partial.sessions]
    assert all((b - a).days >= MIN_GAP_DAYS for a, b in zip(days, days[1:], strict=False))
    missing_numbers = []
    for index, s in enumerate(partial.sessions):
        start_utc = s.start.astimezone(UTC)
        if s.free:
            assert start_utc in free and not case.closed(s.start.date())
            continue
        missing_numbers.append(s.number)
        assert s.cause is not None
        assert start_utc not in free or case.closed(s.start.date()) or s.start.date() > case.window()[1]
        assert len(s.alternatives) <= 3
        others = set(days) - {days[index]}
        for alt in s.alternatives:
            assert alt.start.astimezone(UTC) in free
            assert not case.closed(alt.start.date())
            assert alt.start.date() not in others
            assert alt.end.astimezone(UTC) - alt.start.astimezone(UTC) == case.request.session_length
            keeps = (index == 0 or (alt.start.date() - days[index - 1]).days >= MIN_GAP_DAYS) and (
                index + 1 == len(days) or (days[index + 1] - alt.start.date()).days >= MIN_GAP_DAYS
            )
            assert alt.keeps_spacing == keeps
        flags = [alt.keeps_spacing for alt in s.alternatives]
        assert flags == sorted(flags, reverse=True)  # those that keep the spacing first
    covered = sorted(n for b in result.blocked for n in b.sessions)
    assert covered == missing_numbers
    for b in result.blocked:
        assert "{therapist}" in b.template or b.kind == "after_not_after"
        b.sentence("Dana")  # fills without a KeyError or stray braces


# -------------------------------------------------------------------------------------------- examples

WEDNESDAY = date(2026, 6, 3)
FRIDAY = date(2026, 6, 5)
MON_TO_SAT = rules(hours(range(6), 9, 17))


def case_of(request, therapist, now, wishes, **kwargs) -> Case:
    kwargs.setdefault("holidays", {})
    kwargs.setdefault("works_holidays", False)
    return Case(request, therapist, now, wishes, **kwargs)


def test_three_a_week_from_a_friday_never_lands_on_a_sunday():
    case = case_of(plan(3, 12), MON_TO_SAT, at(WEDNESDAY, 12), Wishes(FRIDAY))
    result = case.propose()
    free = case.free()
    assert result.partial is None and len(result.proposals) == 3
    for proposal in result.proposals:
        assert_whole(proposal, case, free)
        assert 6 not in proposal.pattern.weekdays
        assert len({s.start.time() for s in proposal.sessions}) == 1
    best = result.proposals[0]
    assert best.first_start.astimezone(UTC) == brute_soonest(case, free)
    assert best.first_start == at(FRIDAY, 9)
    assert best.pattern.weekdays == (0, 2, 4)  # Fri, then Mon/Wed/Fri
    assert [f"{s.start:%a}" for s in best.sessions[:4]] == ["Fri", "Mon", "Wed", "Fri"]
    assert best.reasons == ("soonest_start",)
    assert best.explanation == "The soonest start: Friday, June 5 at 09:00."
    # Variety: the next two are other weekdays, not Mon/Wed/Fri at 09:30 and 10:00.
    assert len({p.pattern.weekdays for p in result.proposals}) == 3


def test_a_therapist_closed_on_sundays_and_mondays():
    tue_to_sat = rules(hours(range(1, 6), 10, 18))
    now = at(date(2026, 6, 1), 8)
    three = case_of(plan(3, 9), tue_to_sat, now, Wishes(date(2026, 6, 1)), count=5)
    result = three.propose()
    free = three.free()
    assert result.proposals
    for proposal in result.proposals:
        assert_whole(proposal, three, free)
        assert proposal.pattern.weekdays == (1, 3, 5)  # the only spaced three of Tue-Sat
    assert len({p.pattern.time for p in result.proposals}) == len(result.proposals)
    two = case_of(plan(2, 6), tue_to_sat, now, Wishes(date(2026, 6, 1)), count=10)
    result = two.propose()
    for proposal in result.proposals:
        assert_whole(proposal, two, two.free())
        assert not {0, 6} & set(proposal.pattern.weekdays)


@pytest.mark.parametrize(
    ("change", "before", "after"),
    [
        (date(2027, 3, 14), timedelta(hours=-5), timedelta(hours=-4)),  # spring forward
        (date(2026, 11, 1), timedelta(hours=-4), timedelta(hours=-5)),  # fall back
        (date(2027, 11, 7), timedelta(hours=-4), timedelta(hours=-5)),  # fall back
    ],
)
def test_a_course_across_a_dst_change_keeps_its_wall_clock_time(change, before, after):
    every_day = rules(hours(range(7), 10, 11), step=HOUR)  # only 10:00 is possible
    start = change - timedelta(days=9)
    case = case_of(plan(2, 6), every_day, at(start, 8), Wishes(start))
    result = case.propose()
    free = case.free()
    assert result.proposals
    for proposal in result.proposals:
        assert_whole(proposal, case, free)
        assert {s.start.time() for s in proposal.sessions} == {time(10)}
        offsets = [s.start.utcoffset() for s in proposal.sessions]
        assert offsets[0] == before and offsets[-1] == after
        assert {s.start.astimezone(UTC).hour for s in proposal.sessions} == {14, 15}  # 10:00 EDT and EST


def test_the_repeated_hour_is_its_first_occurrence_and_a_skipped_time_is_never_proposed():
    sundays_small_hours = rules(hours((6,), 1, 4), step=timedelta(minutes=30))
    thirty = plan(1, 3, minutes=30)
    fall = case_of(
        thirty, sundays_small_hours, at(date(2026, 10, 20), 9), Wishes(date(2026, 10, 25)), count=10
    )
    result = fall.propose()
    for proposal in result.proposals:
        assert_whole(proposal, fall, fall.free())
    at_0130 = next(p for p in result.proposals if p.pattern.time == time(1, 30))
    nov_1 = next(s for s in at_0130.sessions if s.start.date() == date(2026, 11, 1))
    assert nov_1.start.fold == 0 and nov_1.start.utcoffset() == timedelta(hours=-4)  # 01:30 EDT
    # With the first 01:00-02:00 (EDT) booked, only the second (EST) is free on Nov 1: "01:30" is taken.
    first_hour = Busy(datetime(2026, 11, 1, 5, tzinfo=UTC), datetime(2026, 11, 1, 6, tzinfo=UTC))
    booked = case_of(thirty, sundays_small_hours, fall.now, fall.wishes, bookings=(first_hour,), count=10)
    assert datetime(2026, 11, 1, 6, 30, tzinfo=UTC) in booked.free()  # 01:30 EST is free
    for proposal in booked.propose().proposals:
        assert_whole(proposal, booked, booked.free())
        if proposal.pattern.time in (time(1), time(1, 30)):
            assert date(2026, 11, 1) not in [s.start.date() for s in proposal.sessions]
    spring = case_of(thirty, sundays_small_hours, at(date(2027, 3, 1), 9), Wishes(date(2027, 3, 7)), count=10)
    result = spring.propose()
    for proposal in result.proposals:
        assert_whole(proposal, spring, spring.free())
        # 02:00 and 02:30 do not exist on March 14: no course at those times may include it.
        if proposal.pattern.time in (time(2), time(2, 30)):
            assert date(2027, 3, 14) not in [s.start.date() for s in proposal.sessions]


CHRISTMAS = {date(2026, 12, 25): "Christmas Day", date(2027, 1, 1): "New Year's Day"}


def test_a_holiday_is_never_proposed_to_a_therapist_who_does_not_work_it():
    weekdays = rules(hours(range(5), 9, 17), step=HOUR)
    wishes = Wishes(date(2026, 12, 18), weekdays=frozenset({4}))  # Fridays
    case = case_of(plan(1, 3), weekdays, at(date(2026, 12, 14), 9), wishes, holidays=CHRISTMAS, count=10)
    result = case.propose()
    free = case.free()
    assert result.proposals
    for proposal in result.proposals:
        assert_whole(proposal, case, free)
        assert not {s.start.date() for s in proposal.sessions} & set(CHRISTMAS)
        assert proposal.holidays == ()
    # Fridays, skipping both: Dec 18 then Dec 25 and Jan 1 break the run, so three Fridays from Jan 8.
    assert result.proposals[0].pattern.weekdays == (4,)
    assert [s.start.date() for s in result.proposals[0].sessions] == [date(2027, 1, d) for d in (8, 15, 22)]
    assert min(p.first_start.astimezone(UTC) for p in result.proposals) == brute_soonest(case, free)


def test_a_therapist_who_works_holidays_gets_them_proposed_and_listed():
    weekdays = rules(hours(range(5), 9, 17), step=HOUR)
    wishes = Wishes(date(2026, 12, 18), weekdays=frozenset({4}))
    case = case_of(
        plan(1, 3), weekdays, at(date(2026, 12, 14), 9), wishes, holidays=CHRISTMAS, works_holidays=True
    )
    result = case.propose()
    best = result.proposals[0]
    assert_whole(best, case, case.free())
    assert [s.start.date() for s in best.sessions] == [
        date(2026, 12, 18),
        date(2026, 12, 25),
        date(2027, 1, 1),
    ]
    assert best.holidays == ((date(2026, 12, 25), "Christmas Day"), (date(2027, 1, 1), "New Year's Day"))
    assert [s.holiday for s in best.sessions] == [None, "Christmas Day", "New Year's Day"]
    assert best.reasons == ("soonest_start", "preferred_days", "includes_holidays")
    assert "Includes Christmas Day (Friday, December 25) and New Year's Day (Friday, January 1, 2027)" in (
        best.explanation
    )


class LookupsOnly(Mapping):
    """Like a `holidays` library object, which fills in a year only when asked about a day in it: iterating
    it shows only the years already asked about, so the planner must never iterate."""

    def __init__(self, days: dict[date, str]) -> None:
        self.days = days

    def __getitem__(self, day: date) -> str:
        return self.days[day]

    def __iter__(self):
        raise AssertionError("the planner iterated the holidays")

    def __len__(self) -> int:
        raise AssertionError("the planner asked how many holidays there are")


@pytest.mark.parametrize("works", [False, True])
def test_holidays_are_only_looked_up(works):
    weekdays = rules(hours(range(5), 9, 17), step=HOUR, horizon=timedelta(days=21))
    friday_only = Wishes(date(2026, 12, 18), weekdays=frozenset({4}))
    case = case_of(
        plan(1, 3),
        weekdays,
        at(date(2026, 12, 14), 9),
        friday_only,
        holidays=LookupsOnly(CHRISTMAS),
        count=10,
    )
    case = Case(**{**case.__dict__, "works_holidays": works})
    result = case.propose()
    if works:
        assert result.proposals[0].holidays[0] == (date(2026, 12, 25), "Christmas Day")
    else:
        # Three Fridays do not fit 21 days without Dec 25 and Jan 1; no free session is on either.
        assert result.proposals == () and result.partial is not None
        assert not {s.start.date() for s in result.partial.sessions if s.free} & set(CHRISTMAS)


def test_a_patient_who_wants_only_evenings():
    open_late = rules(hours(range(5), 9, 20))
    evenings = Wishes(date(2026, 6, 1), time_windows=((time(17), time(20)),))
    case = case_of(plan(2, 8), open_late, at(date(2026, 5, 31), 9), evenings)
    result = case.propose()
    free = case.free()
    first, second, third = result.proposals
    for proposal in result.proposals:
        assert_whole(proposal, case, free)
    for proposal in (first, second):
        assert time(17) <= proposal.pattern.time <= time(19)  # a 60-minute session ends by 20:00
        assert "preferred_times" in proposal.reasons
    # The soonest course of all (a morning) keeps the last place, and says why it is there.
    assert third.pattern.time == time(9)
    assert third.reasons == ("soonest_start", "outside_preferred_times")
    assert third.first_start.astimezone(UTC) == brute_soonest(case, free)
    only_one = case_of(plan(2, 8), open_late, at(date(2026, 5, 31), 9), evenings, count=1).propose()
    assert only_one.proposals[0].pattern.time == time(17)
    assert "Outside your preferred times" not in only_one.proposals[0].explanation


def test_preferred_weekdays_outrank_a_sooner_start():
    case = case_of(plan(3, 6), MON_TO_SAT, at(WEDNESDAY, 12), Wishes(FRIDAY, weekdays=frozenset({1, 3, 5})))
    result = case.propose()
    assert result.proposals[0].pattern.weekdays == (1, 3, 5)
    assert result.proposals[0].reasons == ("preferred_days",)
    assert result.proposals[0].explanation.startswith(
        "Starts Saturday, June 6 at 09:00, 1 day after the soonest."
    )
    assert result.proposals[-1].reasons[0] == "soonest_start" and result.proposals[-1].first_start == at(
        FRIDAY, 9
    )


def test_twice_a_week_keeps_a_day_between_sessions_and_prefers_even_spacing():
    every_day = rules(hours(range(7), 9, 17), step=HOUR)
    monday = date(2026, 6, 1)
    case = case_of(plan(2, 8), every_day, at(monday, 7), Wishes(monday), count=10)
    result = case.propose()
    free = case.free()
    for proposal in result.proposals:
        assert_whole(proposal, case, free)
    assert result.proposals[0].pattern.weekdays == (0, 3)  # Mon/Thu: 3 and 4 days apart
    assert result.proposals[0].pattern.describe() == "Mondays and Thursdays at 09:00"
    mon_to_wed = rules(hours((0, 1, 2), 9, 17), step=HOUR)
    only = case_of(plan(2, 4), mon_to_wed, at(monday, 7), Wishes(monday), count=10).propose()
    assert {p.pattern.weekdays for p in only.proposals} == {(0, 2)}  # Mon/Tue and Tue/Wed are too close


def test_one_and_a_half_a_week_alternates_weeks_of_two_and_one():
    weekdays = rules(hours(range(5), 9, 17), step=HOUR)
    monday = date(2026, 6, 1)
    case = case_of(plan(1.5, 9), weekdays, at(monday, 7), Wishes(monday), count=5)
    result = case.propose()
    free = case.free()
    best = result.proposals[0]
    for proposal in result.proposals:
        assert_whole(proposal, case, free)
        assert len(proposal.pattern.weekly) == 1 and len(proposal.pattern.alternate) == 1
    per_week = {}
    for s in best.sessions:
        monday_of = s.start.date() - timedelta(days=s.start.weekday())
        per_week[monday_of] = per_week.get(monday_of, 0) + 1
    assert list(per_week.values()) == [2, 1, 2, 1, 2, 1]
    assert (
        "every week and" in best.pattern.describe() and "every other week at 09:00" in best.pattern.describe()
    )


def test_every_other_week():
    weekdays = rules(hours(range(5), 9, 17), step=HOUR)
    monday = date(2026, 6, 1)
    case = case_of(plan(0.5, 3), weekdays, at(monday, 7), Wishes(monday))
    result = case.propose()
    for proposal in result.proposals:
        assert_whole(proposal, case, case.free())
    assert result.proposals[0].pattern.describe() == "Mondays every other week at 09:00"


def tue_thu_sat_with_booked_tuesdays() -> Case:
    """Tue/Thu/Sat 9-17 (plus Monday June 1 morning); every Tuesday of the first two weeks fully booked; a
    35-day horizon: twelve sessions three a week fit only from the first week, which the Tuesdays block."""
    therapist = rules(
        hours((1, 3, 5), 9, 17),
        extra=(DateInterval(date(2026, 6, 1), time(9), time(12)),),
        horizon=timedelta(days=35),
        step=HOUR,
    )
    booked = tuple(Busy(at(day, 9), at(day, 17)) for day in (date(2026, 6, 2), date(2026, 6, 9)))
    return case_of(
        plan(3, 12), therapist, at(date(2026, 5, 31), 20), Wishes(date(2026, 6, 1)), bookings=booked
    )


def test_a_fully_booked_weekday_gives_a_partial_course_naming_the_missing_sessions():
    case = tue_thu_sat_with_booked_tuesdays()
    result = case.propose()
    assert result.proposals == ()
    assert_partial(result, case, case.free())
    partial = result.partial
    assert partial.pattern.weekdays == (1, 3, 5) and partial.pattern.time == time(9)
    assert partial.reasons[:2] == ("partial", "most_free_sessions")
    assert "10 of 12" in partial.explanation
    first_tuesday, second_tuesday = partial.missing
    assert (first_tuesday.number, first_tuesday.start, first_tuesday.cause) == (
        1,
        at(date(2026, 6, 2), 9),
        BOOKED,
    )
    assert second_tuesday.start == at(date(2026, 6, 9), 9)
    # Monday June 1's morning: before Thursday's session with a day between, nearest first.
    assert [a.start for a in first_tuesday.alternatives] == [at(date(2026, 6, 1), h) for h in (11, 10, 9)]
    assert all(a.keeps_spacing for a in first_tuesday.alternatives)
    (blocked,) = result.blocked
    assert (blocked.kind, blocked.weekday, blocked.time, blocked.until) == (
        BOOKED,
        1,
        time(9),
        date(2026, 6, 16),
    )
    assert blocked.dates == (date(2026, 6, 2), date(2026, 6, 9)) and blocked.sessions == (1, 4)
    assert blocked.sentence("Dana") == "Dana is booked on Tuesdays at 09:00 until June 16."  # the API's
    assert blocked.sentence("Dana", wall_clock) == "Dana is booked on Tuesdays at 9:00 AM until June 16."


def test_a_course_longer_than_the_horizon_is_partial_past_it():
    weekdays = rules(hours(range(5), 9, 17), step=HOUR, horizon=timedelta(days=30))
    monday = date(2026, 6, 1)
    case = case_of(plan(1, 8), weekdays, at(monday, 7), Wishes(monday))
    result = case.propose()
    assert_partial(result, case, case.free())
    (blocked,) = result.blocked
    assert blocked.kind == BEYOND_HORIZON and blocked.sessions == (6, 7, 8)
    assert blocked.sentence("Dana") == (
        "Dana takes bookings up to Wednesday, July 1 at 07:00: sessions 6 to 8 would come after that."
    )
    assert blocked.sentence("Dana", wall_clock).startswith(
        "Dana takes bookings up to Wednesday, July 1 at 7:00 AM:"
    )


def test_a_blocked_sentence_reads_each_of_its_times_on_the_callers_clock():
    """Too soon for the notice: one time per session, each filled in its place; braces in text stay."""
    template = (
        "{therapist} asks for 1 day of notice, so Monday at {t0} and Tuesday at {t1} is too soon {{x}}."
    )
    blocked = Blocked("notice", (1, 2), (), None, None, None, template, (time(9), time(13, 30)))
    assert blocked.sentence("Dana") == (
        "Dana asks for 1 day of notice, so Monday at 09:00 and Tuesday at 13:30 is too soon {x}."
    )
    assert blocked.sentence("Dana", wall_clock) == (
        "Dana asks for 1 day of notice, so Monday at 9:00 AM and Tuesday at 1:30 PM is too soon {x}."
    )


def test_a_holiday_in_a_partial_course_is_named():
    tuesdays = rules(hours((1,), 9, 10), step=HOUR, horizon=timedelta(days=21))
    holidays = {date(2026, 6, 9): "Some Day {x}"}
    case = case_of(plan(1, 3), tuesdays, at(date(2026, 6, 1), 7), Wishes(date(2026, 6, 1)), holidays=holidays)
    result = case.propose()
    assert_partial(result, case, case.free())
    kinds = {b.kind: b for b in result.blocked}
    assert (
        kinds[HOLIDAY].sentence("Dana") == "Dana does not work on holidays: Some Day {x} (Tuesday, June 9)."
    )


def test_no_free_time_at_all():
    closed = rules((), horizon=timedelta(days=14))
    result = case_of(plan(1, 2), closed, at(date(2026, 6, 1), 7), Wishes(date(2026, 6, 1))).propose()
    assert result.proposals == () and result.partial is None
    (blocked,) = result.blocked
    assert blocked.kind == NO_FREE_TIME
    assert blocked.sentence("Dana").startswith(
        "Dana has no free time for a 60-minute session from Monday, June 1"
    )


def test_a_course_plan_becomes_a_request():
    course = courses.CoursePlan("neck", 60, None, 8, None, "sherman2014", ())
    assert PatternRequest.from_plan(course) == PatternRequest(timedelta(minutes=60), 1.0, 8)


@pytest.mark.parametrize(
    ("make", "field"),
    [
        (lambda: PatternRequest(MINUTES_60, 3, 0), "total_sessions"),
        (lambda: PatternRequest(MINUTES_60, 3, 41), "total_sessions"),
        (lambda: PatternRequest(MINUTES_60, 3, True), "total_sessions"),
        (lambda: PatternRequest(MINUTES_60, 4, 8), "sessions_per_week"),
        (lambda: PatternRequest(MINUTES_60, 2.5, 8), "sessions_per_week"),
        (lambda: PatternRequest(MINUTES_60, "3", 8), "sessions_per_week"),
        (lambda: PatternRequest(timedelta(0), 3, 8), "session_length"),
        (lambda: PatternRequest(timedelta(seconds=90), 3, 8), "session_length"),
        (lambda: Wishes(FRIDAY, weekdays=frozenset({7})), "weekdays"),
        (lambda: Wishes(FRIDAY, weekdays={-1}), "weekdays"),
        (lambda: Wishes(FRIDAY, weekdays="Mon"), "weekdays"),
        (lambda: Wishes(FRIDAY, time_windows=((time(17), time(17)),)), "time_windows"),
        (lambda: Wishes(FRIDAY, time_windows=((time(18), time(17)),)), "time_windows"),
        (lambda: Wishes(FRIDAY, time_windows=(("17:00", time(18)),)), "time_windows"),
        (lambda: Wishes(datetime(2026, 6, 5, 9)), "earliest_start"),
        (lambda: Wishes(FRIDAY, not_after=FRIDAY - DAY), "not_after"),
        (lambda: Wishes(FRIDAY, not_before=FRIDAY + 3 * DAY, not_after=FRIDAY + DAY), "not_after"),
    ],
)
def test_bad_input_names_its_field(make, field):
    with pytest.raises(ValueError, match=f"^{field}: ") as caught:
        make()
    assert caught.value.field == field


@pytest.mark.parametrize(
    ("wishes", "kwargs", "field"),
    [
        (Wishes(WEDNESDAY - DAY), {}, "earliest_start"),  # yesterday
        (Wishes(WEDNESDAY + 91 * DAY), {}, "earliest_start"),  # past the 90-day horizon (Sep 1 12:00)
        (Wishes(FRIDAY, not_before=WEDNESDAY + 100 * DAY), {}, "not_before"),
        (Wishes(FRIDAY), {"count": 0}, "count"),
        (Wishes(FRIDAY), {"count": 11}, "count"),
    ],
)
def test_bad_input_to_propose_names_its_field(wishes, kwargs, field):
    with pytest.raises(PlanRequestError, match=f"^{field}: ") as caught:
        run(plan(3, 12), MON_TO_SAT, now=at(WEDNESDAY, 12), wishes=wishes, **kwargs)
    assert caught.value.field == field


def test_a_naive_now_is_refused():
    with pytest.raises(PlanRequestError, match="^now: "):
        run(plan(3, 12), MON_TO_SAT, now=datetime(2026, 6, 3, 12), wishes=Wishes(FRIDAY))


def test_earliest_start_today_is_fine_and_the_notice_applies():
    with_notice = rules(hours(range(6), 9, 17), notice=4 * HOUR)
    case = case_of(plan(1, 2), with_notice, at(WEDNESDAY, 12), Wishes(WEDNESDAY))
    result = case.propose()
    assert result.proposals[0].first_start == at(WEDNESDAY, 16)


# -------------------------------------------------------------------------------------------- properties

ZONES = ("America/New_York", "Europe/London", "UTC")
# Mondays near a DST change, a holiday season and an ordinary week.
BASES = (
    date(2026, 3, 2),
    date(2026, 10, 26),
    date(2026, 12, 21),
    date(2026, 6, 1),
    date(2027, 3, 8),
    date(2027, 10, 25),
)


def first_repeated_hour(now: datetime, horizon: timedelta) -> datetime | None:
    """The UTC start of the first pass of the hour a fall-back change repeats within the horizon, if any."""
    zone = now.tzinfo
    instant = now.astimezone(UTC).replace(minute=0, second=0, microsecond=0)
    for _ in range(horizon // HOUR):
        after = instant + HOUR
        if after.astimezone(zone).utcoffset() < instant.astimezone(zone).utcoffset():
            return after - HOUR
        instant = after
    return None


@st.composite
def cases(draw) -> Case:
    zone_name = draw(st.sampled_from(ZONES))
    zone = ZoneInfo(zone_name)
    today = draw(st.sampled_from(BASES)) + timedelta(days=draw(st.integers(0, 6)))
    now = datetime.combine(today, time(draw(st.integers(0, 23)), draw(st.sampled_from((0, 7, 30)))), zone)
    weekly = []
    for day in range(7):
        if draw(st.integers(0, 3)) == 0:
            continue  # closed
        start = draw(st.sampled_from((0, 1, 1, *range(6, 15))))  # the small hours, where the clocks change
        end = min(start + draw(st.integers(1, 9)), 23)
        weekly.append(WeeklyInterval(day, time(start), time(end)))
    step = timedelta(minutes=draw(st.sampled_from((30, 60))))
    horizon = timedelta(days=draw(st.integers(7, 35)))
    therapist = Rules(
        zone_name,
        weekly=tuple(weekly),
        buffer_after=timedelta(minutes=draw(st.sampled_from((0, 15)))),
        notice=timedelta(hours=draw(st.sampled_from((0, 2, 24)))),
        horizon=horizon,
        step=step,
    )
    length = timedelta(minutes=draw(st.sampled_from((30, 60, 90))))
    days = horizon.days

    def busy(day: int, hour: int, minute: int, span: timedelta) -> Busy:
        start = datetime.combine(today + timedelta(days=day), time(hour, minute), zone)
        return Busy(start.astimezone(UTC), start.astimezone(UTC) + span)

    bookings = draw(
        st.lists(
            st.builds(
                busy,
                st.integers(0, days),
                st.integers(0, 18),
                st.sampled_from((0, 30)),
                st.sampled_from((timedelta(minutes=30), HOUR, timedelta(minutes=90), 4 * HOUR)),
            ),
            max_size=25,
        )
    )
    time_off = draw(
        st.lists(
            st.builds(
                busy,
                st.integers(0, days),
                st.integers(0, 20),
                st.just(0),
                st.integers(1, 48).map(lambda h: timedelta(hours=h)),
            ),
            max_size=3,
        )
    )
    fall_back = first_repeated_hour(now, horizon)
    if fall_back is not None and draw(st.booleans()):
        bookings.append(Busy(fall_back, fall_back + HOUR))  # only the second 01:xx stays free
    earliest = today + timedelta(days=draw(st.integers(0, 4)))
    windows = draw(
        st.lists(st.tuples(st.integers(6, 18), st.integers(1, 5)), max_size=2).map(
            lambda pairs: tuple((time(h), time(min(h + n, 23))) for h, n in pairs)
        )
    )
    not_before = draw(st.one_of(st.none(), st.integers(0, 3).map(lambda n: earliest + timedelta(days=n))))
    not_after = draw(st.one_of(st.none(), st.integers(5, 30).map(lambda n: earliest + timedelta(days=n))))
    if not_before and not_after and not_after < not_before:
        not_after = None
    wishes = Wishes(
        earliest,
        weekdays=draw(st.frozensets(st.integers(0, 6), max_size=5)),
        time_windows=windows,
        not_before=not_before,
        not_after=not_after,
    )
    holidays = {
        today + timedelta(days=n): f"Holiday {n}" for n in draw(st.sets(st.integers(0, 14), max_size=4))
    }
    # The most intricate cadence first: Hypothesis draws the first element most often.
    request = PatternRequest(length, draw(st.sampled_from((3, 1.5, 2, 1, 0.5))), draw(st.integers(1, 8)))
    return Case(
        request=request,
        rules=therapist,
        now=now,
        wishes=wishes,
        holidays=holidays,
        works_holidays=draw(st.booleans()),
        time_off=tuple(time_off),
        bookings=tuple(bookings),
        count=draw(st.integers(1, 5)),
    )


@settings(max_examples=500, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(cases())
def test_every_proposal_is_a_whole_regular_free_course(case):
    result = case.propose()
    free = case.free()
    assert len(result.proposals) <= case.count
    keys = [(p.pattern.weekly, p.pattern.alternate, p.pattern.time) for p in result.proposals]
    assert len(set(keys)) == len(keys)
    assert [p.rank for p in result.proposals] == list(range(1, len(keys) + 1))
    for proposal in result.proposals:
        assert_whole(proposal, case, free)
    if result.proposals:
        assert result.partial is None and result.blocked == ()
    elif result.partial is not None:
        assert_partial(result, case, free)
    else:
        assert [b.kind for b in result.blocked] == [NO_FREE_TIME]


@settings(max_examples=500, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(cases())
def test_the_soonest_start_matches_a_brute_force(case):
    result = case.propose()
    soonest = brute_soonest(case, case.free())
    if soonest is None:
        assert result.proposals == ()
        return
    assert result.proposals, "the brute force found a whole course the planner missed"
    starts = [p.first_start.astimezone(UTC) for p in result.proposals]
    assert min(starts) >= soonest
    wishes = case.wishes.weekdays or case.wishes.time_windows
    if case.count >= 2 or not wishes:
        assert min(starts) == soonest  # the soonest course always has a place
        assert any("soonest_start" in p.reasons for p in result.proposals)


def test_rhythm_suggestions_keep_the_time_then_the_day_then_the_nearest_and_the_spacing():
    zone = ZoneInfo("America/New_York")
    wednesday = datetime(2027, 1, 13, 10, 0, tzinfo=zone)  # between Monday 11th and Friday 15th sessions
    others = [datetime(2027, 1, 11, 10, 0, tzinfo=zone), datetime(2027, 1, 15, 10, 0, tzinfo=zone)]
    free = [
        datetime(2027, 1, 12, 10, 0, tzinfo=zone),  # Tuesday: one day after Monday's session
        datetime(2027, 1, 13, 15, 0, tzinfo=zone),  # the same day, later
        datetime(2027, 1, 13, 11, 0, tzinfo=zone),  # the same day, nearer
        datetime(2027, 1, 14, 10, 0, tzinfo=zone),  # Thursday: one day before Friday's session
        datetime(2027, 1, 15, 12, 0, tzinfo=zone),  # Friday, the day of another session
    ]
    assert rhythm_suggestions(wednesday, free, others, zone) == [free[2], free[1]]
    wider = [datetime(2027, 1, 18, 10, 0, tzinfo=zone)]  # Monday 18th: Friday's session is 3 days before
    alone = datetime(2027, 1, 20, 10, 0, tzinfo=zone)  # a session with no others: the nearest day first
    assert rhythm_suggestions(alone, wider + free, [], zone)[0] == wider[0]
