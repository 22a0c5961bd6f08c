"""domain/scheduling.py: the slots a patient is offered, checked by example and against a brute-force scan.

The examples read as a therapist's or a patient's expectations, DST days included. The property tests
draw random rules in zones with DST, without it, and with 30-minute offsets and shifts, with `now` near
the DST changes most of the time, and compare the engine with an oracle that scans every whole minute of
the window and checks the six rules of the module docstring naively and independently: it never calls
the engine's helpers, and finds working time by converting each date's hours with zoneinfo itself.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from functools import cache
from itertools import accumulate
from zoneinfo import ZoneInfo

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from massage_booking.domain.scheduling import (
    Busy,
    DateInterval,
    Rules,
    WeeklyInterval,
    free_slots,
    next_free_slot,
    working_intervals,
)

NEW_YORK = "America/New_York"
LOS_ANGELES = "America/Los_Angeles"
MINUTE = timedelta(minutes=1)
HOUR = timedelta(hours=1)
DAY = timedelta(days=1)
MONDAY = date(2026, 6, 1)  # a Monday, far from any DST change
SATURDAY = date(2026, 6, 6)


def minutes(n: int) -> timedelta:
    return timedelta(minutes=n)


def at(day: date, hour: int, minute: int = 0, tz: str = NEW_YORK, fold: int = 0) -> datetime:
    return datetime.combine(day, time(hour, minute), tzinfo=ZoneInfo(tz)).replace(fold=fold)


def utc(*args: int) -> datetime:
    return datetime(*args, tzinfo=UTC)


def weekday_hours(day: date, start: int, end: int) -> WeeklyInterval:
    return WeeklyInterval(day.weekday(), time(start), time(end))


def local_times(slots: list[datetime]) -> list[str]:
    return [f"{s:%H:%M}" for s in slots]


def the_day(rules: Rules, day: date, *, duration: timedelta = HOUR, **kwargs) -> list[datetime]:
    """The slots of one local day, asked for a week ahead (no notice or horizon in the way)."""
    kwargs.setdefault("now", at(day, 0) - 7 * DAY)
    start = at(day, 0, tz=rules.time_zone)
    end = at(day + DAY, 0, tz=rules.time_zone)
    return free_slots(rules, duration=duration, start=start, end=end, **kwargs)


def hourly(tz: str = NEW_YORK, **kwargs) -> Rules:
    """Monday 09:00-17:00 on an hourly grid, the simplest practice."""
    kwargs.setdefault("weekly", (weekday_hours(MONDAY, 9, 17),))
    kwargs.setdefault("step", HOUR)
    return Rules(tz, **kwargs)


def assert_no_overlap(slots: list[datetime], duration: timedelta, booking: Busy) -> None:
    for s in slots:
        s_utc = s.astimezone(UTC)
        assert s_utc + duration <= booking.start or s_utc >= booking.end, f"{s} overlaps {booking}"


# ============================================================================================ examples


def test_a_monday_nine_to_five_offers_every_hour_from_nine_to_four():
    slots = the_day(hourly(), MONDAY)
    assert local_times(slots) == [f"{h:02}:00" for h in range(9, 17)]
    assert all(s.tzinfo == ZoneInfo(NEW_YORK) for s in slots)


def test_a_tuesday_without_hours_offers_nothing():
    assert the_day(hourly(), MONDAY + DAY) == []


def test_notice_cuts_the_early_slots():
    # At 08:30 with two hours' notice, 10:30 is the earliest start; the next hour on the grid is 11:00.
    slots = the_day(hourly(notice=2 * HOUR), MONDAY, now=at(MONDAY, 8, 30))
    assert local_times(slots) == ["11:00", "12:00", "13:00", "14:00", "15:00", "16:00"]


def test_a_start_exactly_at_the_notice_is_offered():
    slots = the_day(hourly(notice=2 * HOUR), MONDAY, now=at(MONDAY, 9))
    assert local_times(slots)[0] == "11:00"


def test_notice_is_elapsed_time_across_spring_forward():
    # Saturday 12:00 EST plus 24 hours is Sunday 13:00 EDT, not 12:00 (the wall clock skips an hour).
    sunday = date(2026, 3, 8)
    rules = Rules(NEW_YORK, weekly=(weekday_hours(sunday, 9, 17),), notice=24 * HOUR, step=HOUR)
    slots = the_day(rules, sunday, now=at(sunday - DAY, 12))
    assert local_times(slots) == ["13:00", "14:00", "15:00", "16:00"]


def test_the_horizon_cuts_the_late_slots():
    slots = the_day(hourly(horizon=5 * HOUR), MONDAY, now=at(MONDAY, 8))
    assert local_times(slots) == ["09:00", "10:00", "11:00", "12:00"]  # 13:00 is not before 8 + 5


def test_a_booking_with_a_buffer_after_blocks_starts_until_the_buffer_ends():
    # Hours 08:00-17:00, a booking 10:00-11:00, 15 minutes to clean up after every session. A session at s
    # needs s + 60 + 15 <= 10:00 (its own clean-up ends before the booking), so 08:45 is the last start
    # before; after, the booking's clean-up runs to 11:15.
    rules = Rules(NEW_YORK, weekly=(weekday_hours(MONDAY, 8, 17),), buffer_after=minutes(15))
    booking = Busy(at(MONDAY, 10), at(MONDAY, 11))
    slots = the_day(rules, MONDAY, bookings=[booking])
    before = ["08:00", "08:15", "08:30", "08:45"]
    after = ["11:15", "11:30", "11:45"] + [f"{h:02}:{m:02}" for h in range(12, 16) for m in (0, 15, 30, 45)]
    assert local_times(slots) == [*before, *after, "16:00"]


def test_buffer_before_keeps_a_gap_before_each_session_too():
    rules = Rules(NEW_YORK, weekly=(weekday_hours(MONDAY, 8, 17),), buffer_before=minutes(30))
    slots = the_day(rules, MONDAY, bookings=[Busy(at(MONDAY, 12), at(MONDAY, 13))])
    times = local_times(slots)
    assert "10:30" in times and "10:45" not in times  # 10:45 + 60 + 30 before the booking's 12:00 - 30
    assert "13:30" in times and "13:15" not in times  # its own 30 minutes of set-up after 13:00


def test_buffers_do_not_need_to_fit_in_hours_or_avoid_time_off():
    rules = Rules(
        NEW_YORK,
        weekly=(weekday_hours(MONDAY, 9, 17),),
        buffer_before=minutes(30),
        buffer_after=minutes(30),
        step=HOUR,
    )
    time_off = [Busy(at(MONDAY, 12), at(MONDAY, 13))]
    expected = ["09:00", "10:00", "11:00", "13:00", "14:00", "15:00", "16:00"]
    assert local_times(the_day(rules, MONDAY, time_off=time_off)) == expected


def test_touching_bookings_leave_the_start_between_them_free():
    rules = Rules(NEW_YORK, weekly=(weekday_hours(MONDAY, 9, 17),), step=HOUR)
    bookings = [Busy(at(MONDAY, 9), at(MONDAY, 10)), Busy(at(MONDAY, 11), at(MONDAY, 12))]
    expected = ["10:00", "12:00", "13:00", "14:00", "15:00", "16:00"]
    assert local_times(the_day(rules, MONDAY, bookings=bookings)) == expected


def test_time_off_for_a_whole_day_removes_that_day():
    rules = Rules(NEW_YORK, weekly=(weekday_hours(MONDAY, 9, 17), weekday_hours(MONDAY + DAY, 9, 17)))
    time_off = [Busy(at(MONDAY, 0), at(MONDAY + DAY, 0))]
    slots = free_slots(
        rules,
        duration=HOUR,
        now=at(MONDAY, 0) - DAY,
        start=at(MONDAY, 0),
        end=at(MONDAY + 2 * DAY, 0),
        time_off=time_off,
    )
    assert {s.date() for s in slots} == {MONDAY + DAY}


def test_partial_time_off_leaves_the_rest_of_the_day():
    rules = hourly()
    slots = the_day(rules, MONDAY, time_off=[Busy(at(MONDAY, 11, 30), at(MONDAY, 14))])
    assert local_times(slots) == ["09:00", "10:00", "14:00", "15:00", "16:00"]


def test_extra_hours_add_a_saturday():
    rules = hourly(extra=(DateInterval(SATURDAY, time(10), time(13)),))
    assert local_times(the_day(rules, SATURDAY)) == ["10:00", "11:00", "12:00"]
    assert the_day(rules, SATURDAY + 7 * DAY) == []  # one Saturday, not every Saturday


def test_extra_hours_extend_a_weekday_and_merge_with_it():
    rules = hourly(extra=(DateInterval(MONDAY, time(17), time(19)),))
    assert local_times(the_day(rules, MONDAY, duration=2 * HOUR))[-1] == "17:00"


def test_a_step_of_thirty_minutes():
    rules = hourly(step=minutes(30))
    slots = the_day(rules, MONDAY, duration=minutes(90))
    assert local_times(slots) == [f"{h:02}:{m:02}" for h in range(9, 16) for m in (0, 30)]
    assert local_times(slots)[-1] == "15:30"  # ends at 17:00 sharp; 16:00 + 90 minutes would not fit


def test_grid_is_by_the_clock_not_by_the_opening_time():
    rules = Rules(NEW_YORK, weekly=(WeeklyInterval(0, time(9, 10), time(11)),), step=minutes(30))
    assert local_times(the_day(rules, MONDAY, duration=minutes(30))) == ["09:30", "10:00", "10:30"]


def test_touching_hours_merge_so_a_session_may_span_them():
    rules = Rules(
        NEW_YORK,
        weekly=(WeeklyInterval(0, time(9), time(12)), WeeklyInterval(0, time(12), time(17))),
        step=minutes(30),
    )
    assert "11:30" in local_times(the_day(rules, MONDAY))
    merged = working_intervals(rules, at(MONDAY, 0), at(MONDAY + DAY, 0))
    assert merged == [Busy(at(MONDAY, 9), at(MONDAY, 17))]


def test_a_gap_between_hours_is_not_bridged():
    rules = Rules(
        NEW_YORK,
        weekly=(WeeklyInterval(0, time(9), time(12)), WeeklyInterval(0, time(13), time(17))),
        step=minutes(30),
    )
    times = local_times(the_day(rules, MONDAY))
    assert "11:00" in times and "11:30" not in times and "12:00" not in times and "13:00" in times


def test_working_intervals_are_clipped_to_the_window():
    rules = hourly()
    assert working_intervals(rules, at(MONDAY, 10), at(MONDAY, 12)) == [Busy(at(MONDAY, 10), at(MONDAY, 12))]
    assert working_intervals(rules, at(MONDAY, 18), at(MONDAY, 20)) == []


def test_the_query_window_is_half_open():
    rules = hourly()
    slots = free_slots(rules, duration=HOUR, now=at(MONDAY, 0), start=at(MONDAY, 10), end=at(MONDAY, 12))
    assert local_times(slots) == ["10:00", "11:00"]


def test_answers_are_in_the_rules_zone_whatever_zone_the_inputs_use():
    rules = hourly()
    slots = free_slots(
        rules,
        duration=HOUR,
        now=utc(2026, 5, 1),
        start=at(MONDAY, 0, tz="Asia/Tokyo"),
        end=at(MONDAY + 2 * DAY, 0, tz="Asia/Tokyo"),
    )
    assert local_times(slots) == [f"{h:02}:00" for h in range(9, 17)]
    assert {s.tzinfo for s in slots} == {ZoneInfo(NEW_YORK)}


def test_a_zone_45_minutes_off_the_hour_keeps_the_grid_on_its_own_clock():
    rules = hourly("Asia/Kathmandu")
    slots = the_day(rules, MONDAY)
    assert local_times(slots) == [f"{h:02}:00" for h in range(9, 17)]
    assert slots[0].astimezone(UTC) == utc(2026, 6, 1, 3, 15)


# ---------------------------------------------------------------------------------------------- DST

SPRING_FORWARD = date(2026, 3, 8)  # a Sunday: 02:00 -> 03:00 in both US zones
FALL_BACK = date(2026, 11, 1)  # a Sunday: 02:00 -> 01:00


def early_hours(tz: str, day: date, start: time = time(0), end: time = time(4), **kwargs) -> Rules:
    kwargs.setdefault("step", HOUR)
    return Rules(tz, weekly=(WeeklyInterval(day.weekday(), start, end),), **kwargs)


@pytest.mark.parametrize(("tz", "utc_hour"), [(NEW_YORK, 5), (LOS_ANGELES, 8)])
def test_spring_forward_skips_the_missing_hour(tz, utc_hour):
    # 00:00-04:00 local is only three hours long: 00:00 and 01:00 standard time, 03:00 daylight time.
    slots = the_day(early_hours(tz, SPRING_FORWARD), SPRING_FORWARD)
    assert [s.astimezone(UTC) for s in slots] == [
        utc(2026, 3, 8, utc_hour),
        utc(2026, 3, 8, utc_hour + 1),
        utc(2026, 3, 8, utc_hour + 2),
    ]
    assert local_times(slots) == ["00:00", "01:00", "03:00"]


@pytest.mark.parametrize("tz", [NEW_YORK, LOS_ANGELES])
def test_spring_forward_never_offers_a_local_time_that_does_not_exist(tz):
    rules = early_hours(tz, SPRING_FORWARD, step=minutes(15))
    slots = the_day(rules, SPRING_FORWARD, duration=minutes(15))
    assert all(s.hour != 2 for s in slots)
    assert local_times(slots) == [f"{h:02}:{m:02}" for h in (0, 1, 3) for m in (0, 15, 30, 45)]


@pytest.mark.parametrize(("tz", "utc_hour"), [(NEW_YORK, 4), (LOS_ANGELES, 7)])
def test_fall_back_offers_the_repeated_hour_twice(tz, utc_hour):
    # 00:00 (daylight) to 04:00 (standard) is five hours: 01:00 comes twice, as two different instants.
    slots = the_day(early_hours(tz, FALL_BACK), FALL_BACK)
    assert [s.astimezone(UTC) for s in slots] == [utc(2026, 11, 1, utc_hour + i) for i in range(5)]
    assert local_times(slots) == ["00:00", "01:00", "01:00", "02:00", "03:00"]
    assert [s.fold for s in slots] == [0, 0, 1, 0, 0]
    assert len({s.astimezone(UTC) for s in slots}) == len(slots)
    assert [s.utcoffset() for s in slots[1:3]] == [slots[0].utcoffset(), slots[0].utcoffset() - HOUR]


@pytest.mark.parametrize(("tz", "utc_hour"), [(NEW_YORK, 4), (LOS_ANGELES, 7)])
def test_a_booking_in_the_second_repeated_hour_blocks_only_that_hour(tz, utc_hour):
    # The booking is 01:15-01:45 the second time round (standard time); the first 01:xx is free.
    rules = early_hours(tz, FALL_BACK, step=minutes(15))
    booking = Busy(utc(2026, 11, 1, utc_hour + 2, 15), utc(2026, 11, 1, utc_hour + 2, 45))
    slots = the_day(rules, FALL_BACK, duration=minutes(30), bookings=[booking])
    assert_no_overlap(slots, minutes(30), booking)
    instants = [s.astimezone(UTC) for s in slots]
    first_one_am = [utc(2026, 11, 1, utc_hour + 1, m) for m in (0, 15, 30, 45)]
    assert all(i in instants for i in first_one_am)
    # 01:00, 01:15 and 01:30 standard time would overlap it; 01:45 starts as it ends.
    second_one_am = [utc(2026, 11, 1, utc_hour + 2, m) for m in (0, 15, 30, 45)]
    assert [i for i in second_one_am if i in instants] == [second_one_am[-1]]
    assert utc(2026, 11, 1, utc_hour + 1, 45) in instants  # 01:45 daylight time ends 01:15 standard time
    assert len(set(instants)) == len(instants) and instants == sorted(instants)


@pytest.mark.parametrize("tz", [NEW_YORK, LOS_ANGELES])
def test_a_booking_given_in_local_time_with_fold_blocks_the_right_hour(tz):
    rules = early_hours(tz, FALL_BACK)
    first = Busy(at(FALL_BACK, 1, tz=tz), at(FALL_BACK, 1, 59, tz=tz))  # fold=0: the daylight hour
    assert local_times(the_day(rules, FALL_BACK, bookings=[first])) == ["00:00", "01:00", "02:00", "03:00"]
    slots = the_day(rules, FALL_BACK, bookings=[first])
    assert slots[1].fold == 1  # the 01:00 left is the standard-time one


def test_hours_across_the_spring_forward_gap_follow_fold_zero():
    # 01:30-03:30 on spring-forward day: 01:30 is EST, 03:30 is EDT, so the hours last one hour.
    rules = early_hours(NEW_YORK, SPRING_FORWARD, time(1, 30), time(3, 30), step=minutes(30))
    slots = the_day(rules, SPRING_FORWARD, duration=minutes(30))
    assert [s.astimezone(UTC) for s in slots] == [utc(2026, 3, 8, 6, 30), utc(2026, 3, 8, 7)]
    assert local_times(slots) == ["01:30", "03:00"]
    assert local_times(the_day(rules, SPRING_FORWARD, duration=HOUR)) == ["01:30"]
    hours = working_intervals(rules, at(SPRING_FORWARD, 0), at(SPRING_FORWARD + DAY, 0))
    assert [(h.start.astimezone(UTC), h.end.astimezone(UTC)) for h in hours] == [
        (utc(2026, 3, 8, 6, 30), utc(2026, 3, 8, 7, 30))
    ]


def test_hours_inside_the_gap_take_the_offset_from_before_it():
    # "02:00-02:45" does not exist; fold=0 reads it with EST's offset, i.e. 03:00-03:45 EDT.
    rules = early_hours(NEW_YORK, SPRING_FORWARD, time(2), time(2, 45), step=minutes(15))
    assert local_times(the_day(rules, SPRING_FORWARD, duration=minutes(45))) == ["03:00"]


def test_hours_whose_end_maps_before_their_start_are_dropped():
    # 02:30 (gap, read as 03:30 EDT) to 03:00 EDT: an end before the start, so no hours at all.
    rules = early_hours(NEW_YORK, SPRING_FORWARD, time(2, 30), time(3), step=minutes(5))
    assert the_day(rules, SPRING_FORWARD, duration=minutes(5)) == []
    assert working_intervals(rules, at(SPRING_FORWARD, 0), at(SPRING_FORWARD + DAY, 0)) == []


def test_ambiguous_hours_are_their_first_occurrence():
    rules = early_hours(NEW_YORK, FALL_BACK, time(1), time(1, 30), step=minutes(30))
    slots = the_day(rules, FALL_BACK, duration=minutes(30))
    assert [s.astimezone(UTC) for s in slots] == [utc(2026, 11, 1, 5)]  # 01:00 EDT only


def test_a_45_minute_step_realigns_after_spring_forward():
    rules = early_hours(NEW_YORK, SPRING_FORWARD, time(0), time(6), step=minutes(45))
    slots = the_day(rules, SPRING_FORWARD, duration=minutes(45))
    # 02:15 (minute 135 of the day) does not exist; 03:00 is minute 180, on the grid again.
    assert local_times(slots) == ["00:00", "00:45", "01:30", "03:00", "03:45", "04:30", "05:15"]


def test_lord_howe_half_hour_shift_keeps_the_grid():
    # 2026-10-04 at 02:00 Lord Howe moves to 02:30 (+10:30 -> +11:00).
    day = date(2026, 10, 4)
    rules = early_hours("Australia/Lord_Howe", day, time(1), time(4), step=minutes(30))
    slots = the_day(rules, day, duration=minutes(30))
    assert local_times(slots) == ["01:00", "01:30", "02:30", "03:00", "03:30"]


# ----------------------------------------------------------------------------------- next free slot


def test_next_free_slot_is_the_first_free_slot():
    rules = hourly(notice=HOUR)
    now = at(MONDAY, 9, 30)
    assert next_free_slot(rules, duration=HOUR, now=now) == at(MONDAY, 11)


def test_next_free_slot_looks_weeks_ahead_past_bookings_and_time_off():
    rules = hourly()
    now = at(MONDAY, 8)
    time_off = [Busy(at(MONDAY, 0), at(MONDAY + 21 * DAY, 0))]
    bookings = [Busy(at(MONDAY + 21 * DAY, 9), at(MONDAY + 21 * DAY, 15))]
    found = next_free_slot(rules, duration=HOUR, now=now, time_off=time_off, bookings=bookings)
    assert found == at(MONDAY + 21 * DAY, 15)
    assert found.tzinfo == ZoneInfo(NEW_YORK)


def test_next_free_slot_is_none_when_nothing_is_free_within_the_horizon():
    rules = hourly(horizon=6 * DAY)
    assert next_free_slot(rules, duration=HOUR, now=at(MONDAY, 17)) is None
    assert next_free_slot(Rules(NEW_YORK), duration=HOUR, now=at(MONDAY, 0)) is None


# ------------------------------------------------------------------------------------------- errors


@pytest.mark.parametrize(
    "make",
    [
        lambda: WeeklyInterval(0, time(17), time(9)),
        lambda: WeeklyInterval(0, time(22), time(0)),
        lambda: WeeklyInterval(7, time(9), time(17)),
        lambda: WeeklyInterval(0, time(9, 0, 30), time(17)),
        lambda: DateInterval(MONDAY, time(9), time(9)),
        lambda: DateInterval(datetime(2026, 6, 1), time(9), time(10)),
        lambda: Busy(datetime(2026, 6, 1, 9), datetime(2026, 6, 1, 10, tzinfo=UTC)),
        lambda: Busy(utc(2026, 6, 1, 10), utc(2026, 6, 1, 9)),
        lambda: Rules(NEW_YORK, step=minutes(7)),
        lambda: Rules(NEW_YORK, step=minutes(4)),
        lambda: Rules(NEW_YORK, step=timedelta(minutes=15, seconds=1)),
        lambda: Rules(NEW_YORK, notice=-HOUR),
        lambda: Rules("Mars/Olympus_Mons"),
    ],
)
def test_programmer_errors_raise_value_error(make):
    with pytest.raises(ValueError):
        make()


@pytest.mark.parametrize(
    "kwargs",
    [
        {"duration": timedelta(0)},
        {"duration": -HOUR},
        {"now": datetime(2026, 6, 1)},
        {"start": datetime(2026, 6, 1)},
        {"end": datetime(2026, 6, 2)},
        {"start": utc(2026, 6, 2), "end": utc(2026, 6, 1)},
    ],
)
def test_bad_queries_raise_value_error(kwargs):
    query = {"duration": HOUR, "now": utc(2026, 6, 1), "start": utc(2026, 6, 1), "end": utc(2026, 6, 2)}
    with pytest.raises(ValueError):
        free_slots(hourly(), **{**query, **kwargs})


def test_next_free_slot_rejects_a_naive_now():
    with pytest.raises(ValueError):
        next_free_slot(hourly(), duration=HOUR, now=datetime(2026, 6, 1))


# ================================================================================ the brute-force oracle

ZONES = (
    NEW_YORK,
    LOS_ANGELES,
    "America/Chicago",
    "America/Denver",
    "America/Phoenix",
    "Pacific/Honolulu",
    "America/Anchorage",
    "Asia/Kolkata",
    "Australia/Lord_Howe",
)
# The DST changes the draws cluster around, as local dates (each at 02:00 local).
US_CHANGES = (date(2026, 3, 8), date(2026, 11, 1), date(2027, 3, 14))
DST_CHANGES = {
    zone: US_CHANGES
    for zone in (NEW_YORK, LOS_ANGELES, "America/Chicago", "America/Denver", "America/Anchorage")
} | {"Australia/Lord_Howe": (date(2026, 4, 5), date(2026, 10, 4))}  # 02:00 -> 01:30, 02:00 -> 02:30
STEPS = (5, 10, 15, 20, 30, 45, 60, 90)
DURATIONS = (15, 30, 45, 60, 90, 120)
US = timedelta(microseconds=1)
EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def micros(value: datetime) -> int:
    return (value - EPOCH) // US


@dataclass
class Case:
    rules: Rules
    duration: timedelta
    now: datetime
    start: datetime
    end: datetime
    time_off: list[Busy]
    bookings: list[Busy]

    def slots(self) -> list[datetime]:
        return free_slots(
            self.rules,
            duration=self.duration,
            now=self.now,
            start=self.start,
            end=self.end,
            time_off=self.time_off,
            bookings=self.bookings,
        )


class Oracle:
    """The six rules, each checked on its own, the slow obvious way, on whole minutes of the window.

    Working time is a per-minute array: each local date's hours are turned into instants with zoneinfo
    (fold=0, as the rules say), every minute inside is marked, every minute that any time off touches is
    cleared; a start fits when the `duration` minutes from it are all marked (prefix sums).
    """

    def __init__(self, case: Case) -> None:
        self.case = case
        self.zone = ZoneInfo(case.rules.time_zone)
        self.span = case.duration // MINUTE
        assert case.duration == self.span * MINUTE
        start = case.start.astimezone(UTC)
        self.first = start.replace(second=0, microsecond=0)
        if self.first < start:
            self.first += MINUTE
        self.count = max(0, -(-(micros(case.end) - micros(self.first)) // 60_000_000))  # minutes to scan
        size = self.count + self.span + 1
        working = bytearray(size)
        for a, b in self.hours():
            i, j = max(self.index(a), 0), min(self.index(b), size)
            if i < j:
                working[i:j] = b"\x01" * (j - i)
        for off in case.time_off:
            # Minute i is [first + i, first + i + 1): it meets [t0, t1) iff t0 < its end and its start < t1.
            i = (micros(off.start) - micros(self.first)) // 60_000_000
            j = -(-(micros(off.end) - micros(self.first)) // 60_000_000)
            i, j = max(i, 0), min(j, size)
            if i < j:
                working[i:j] = bytes(j - i)
        self.fits = list(accumulate(working, initial=0))

    def hours(self) -> list[tuple[datetime, datetime]]:
        rules = self.case.rules
        day = self.first.astimezone(self.zone).date() - 2 * DAY
        last = (self.first + (self.count + self.span) * MINUTE).astimezone(self.zone).date() + 2 * DAY
        found = []
        while day <= last:
            todays = [(w.start, w.end) for w in rules.weekly if w.weekday == day.weekday()]
            todays += [(e.start, e.end) for e in rules.extra if e.day == day]
            for s, e in todays:
                a = datetime(day.year, day.month, day.day, s.hour, s.minute, tzinfo=self.zone)
                b = datetime(day.year, day.month, day.day, e.hour, e.minute, tzinfo=self.zone)
                a, b = a.astimezone(UTC), b.astimezone(UTC)
                if a < b:
                    assert (a - self.first) % MINUTE == timedelta(0)
                    found.append((a, b))
            day += DAY
        return found

    def index(self, instant: datetime) -> int:
        return (instant - self.first) // MINUTE

    # ---- the rules, one by one; `s` is an aware datetime

    def in_hours(self, s: datetime) -> bool:
        s = s.astimezone(UTC)
        if (s - self.first) % MINUTE or s < self.first:
            return False
        i = self.index(s)
        if i + self.span >= len(self.fits):
            return False
        return self.fits[i + self.span] - self.fits[i] == self.span

    def on_grid(self, s: datetime) -> bool:
        local = s.astimezone(self.zone)
        step = self.case.rules.step // MINUTE
        return (local.hour * 60 + local.minute) % step == 0 and local.second == local.microsecond == 0

    def after_notice(self, s: datetime) -> bool:
        return s.astimezone(UTC) >= self.case.now.astimezone(UTC) + self.case.rules.notice

    def before_horizon(self, s: datetime) -> bool:
        return s.astimezone(UTC) < self.case.now.astimezone(UTC) + self.case.rules.horizon

    def clashing_booking(self, s: datetime) -> Busy | None:
        rules, s = self.case.rules, s.astimezone(UTC)
        session = (s - rules.buffer_before, s + self.case.duration + rules.buffer_after)
        for b in self.case.bookings:
            b_start, b_end = b.start.astimezone(UTC), b.end.astimezone(UTC)
            blocked = (b_start - rules.buffer_before, b_end + rules.buffer_after)
            if session[0] < blocked[1] and blocked[0] < session[1]:
                return b
        return None

    def in_window(self, s: datetime) -> bool:
        return self.case.start.astimezone(UTC) <= s.astimezone(UTC) < self.case.end.astimezone(UTC)

    def scan(self) -> list[datetime]:
        """Every whole UTC minute of the window that passes all six rules (cheapest checks first)."""
        found = []
        for i in range(self.count):
            s = self.first + i * MINUTE
            if self.fits[i + self.span] - self.fits[i] != self.span:
                continue
            if (
                self.in_window(s)
                and self.after_notice(s)
                and self.before_horizon(s)
                and self.on_grid(s)
                and self.clashing_booking(s) is None
            ):
                found.append(s)
        return found


# ------------------------------------------------------------------------------------------ strategies


@cache  # building strategies costs more than drawing from them: build each one once
def offset_minutes(low_days: float, high_days: float) -> st.SearchStrategy[timedelta]:
    """Minutes in a range, often a multiple of 15 so that instants land exactly on a rule's edge."""
    low, high = int(low_days * 1440), int(high_days * 1440)
    return st.one_of(
        st.integers(low, high), st.integers(-(-low // 15), high // 15).map(lambda q: q * 15)
    ).map(minutes)


# Half a window: whole days drawn apart from minutes, because Hypothesis favours the ends of a range and
# one range of minutes would give mostly windows of a few minutes.
half_windows = st.builds(lambda d, m: d * DAY + m, st.integers(0, 3), offset_minutes(0.02, 1))

# Mostly whole minutes (what a booking form makes), sometimes ragged instants (what `now` usually is).
ragged = st.one_of(
    st.just(timedelta(0)),
    st.just(timedelta(0)),
    st.just(timedelta(0)),
    st.integers(1, 59_999_999).map(lambda us: timedelta(microseconds=us)),
)
wall_minutes = st.one_of(
    st.integers(0, 1437),
    st.integers(0, 240),  # the small hours, where DST changes happen
    st.integers(0, 95).map(lambda q: q * 15),
)


def wall(minute_of_day: int) -> time:
    return time(minute_of_day // 60, minute_of_day % 60)


@st.composite
def hours_of_day(draw: st.DrawFn) -> list[tuple[time, time]]:
    """One interval of hours, or two that touch (09:00-12:00 + 12:00-17:00), which must act as one."""
    kind = draw(st.sampled_from(("across 02:00", "from the spring-forward gap", "any")))
    if kind == "across 02:00":  # where the DST changes are
        a, b = draw(st.integers(0, 119)), draw(st.integers(121, 400))
    elif kind == "from the spring-forward gap":  # 02:30-03:10 there is an end before its start
        a = draw(st.integers(121, 179))
        b = draw(st.integers(a + 2, 240))
    else:
        a = draw(wall_minutes)
        b = a + draw(st.one_of(st.integers(2, 1439 - a), st.integers(2, min(300, 1439 - a))))
    if draw(st.booleans()):
        middle = draw(st.integers(a + 1, b - 1))
        return [(wall(a), wall(middle)), (wall(middle), wall(b))]
    return [(wall(a), wall(b))]


@st.composite
def instants_near(draw: st.DrawFn, zone: ZoneInfo, base: datetime, low_days: float, high_days: float):
    """An aware instant near `base`, given in UTC, in the rules' zone or in another one."""
    instant = base.astimezone(UTC) + draw(offset_minutes(low_days, high_days)) + draw(ragged)
    return instant.astimezone(draw(zones_to_give(zone)))


@cache
def zones_to_give(zone: ZoneInfo) -> st.SearchStrategy[ZoneInfo]:
    return st.sampled_from((UTC, zone, ZoneInfo("Europe/London")))


@st.composite
def busy_near(draw: st.DrawFn, zone: ZoneInfo, base: datetime, days: float, longest_minutes: int) -> Busy:
    start = draw(instants_near(zone, base, -0.25, days + 0.25))
    length = minutes(draw(st.integers(1, longest_minutes))) + draw(ragged)
    return Busy(start, (start.astimezone(UTC) + length).astimezone(start.tzinfo))


@st.composite
def booked_run(draw: st.DrawFn, zone: ZoneInfo, anchor: datetime, exact_fit: timedelta) -> list[Busy]:
    """A therapist's day: bookings on the quarter hour, back to back, or with gaps of which some fit one
    session and its buffers exactly (`exact_fit`), the edge where a start is allowed by both neighbours."""
    begins = anchor.astimezone(UTC) + 15 * MINUTE * draw(st.one_of(st.integers(-96, 96), st.integers(-12, 8)))
    gaps = st.one_of(st.sampled_from((0, 15, 30, 45, 60, 90, 120)).map(minutes), st.just(exact_fit))
    run = []
    for _ in range(draw(st.integers(1, 6))):
        ends = begins + minutes(draw(st.sampled_from((30, 45, 60, 90))))
        run.append(Busy(begins.astimezone(zone), ends.astimezone(zone)))
        begins = ends + draw(gaps)
    return run


@st.composite
def anchors(draw: st.DrawFn, tz: str) -> datetime:
    """Where the window goes: at a DST change of the zone most of the time, or anywhere in 2026-2027."""
    zone = ZoneInfo(tz)
    changes = DST_CHANGES.get(tz, US_CHANGES)
    anywhere = st.integers(0, 730).map(lambda d: date(2026, 1, 1) + timedelta(days=d))
    day = draw(st.one_of(st.sampled_from(changes), st.sampled_from(changes), anywhere))
    return datetime.combine(day, time(2), tzinfo=zone)


def grid_starts_in_hours(
    weekly: list[WeeklyInterval], anchor: datetime, step: timedelta, duration: timedelta
) -> list[datetime]:
    """Starts on the grid inside the anchor's day's weekly hours, as UTC instants: where a slot is likely,
    so that a window, notice or horizon ending exactly there puts a rule's edge on a real slot."""
    zone, day, step_minutes = anchor.tzinfo, anchor.date(), step // MINUTE
    starts = []
    for hours in weekly:
        if hours.weekday == day.weekday():
            first = hours.start.hour * 60 + hours.start.minute
            last = hours.end.hour * 60 + hours.end.minute - duration // MINUTE
            first += -first % step_minutes
            starts += [
                datetime.combine(day, wall(m), tzinfo=zone).astimezone(UTC)
                for m in range(first, last + 1, step_minutes)
            ]
    return starts


@st.composite
def cases(draw: st.DrawFn) -> Case:
    """A window of up to 7 days around an anchor, `now` up to 36 hours before its start, rules, calendars.

    In most cases one of the window's start or end, now + notice or now + horizon is exactly a start on
    the grid inside the anchor day's hours, so that each rule's edge (<= or <) is met on real slots.
    """
    tz = draw(st.sampled_from(ZONES))
    zone = ZoneInfo(tz)
    anchor = draw(anchors(tz))
    step = minutes(draw(st.sampled_from(STEPS)))
    duration = minutes(draw(st.sampled_from(DURATIONS)))
    weekdays = st.one_of(st.just(anchor.weekday()), st.integers(0, 6))
    weekly = [
        WeeklyInterval(day, a, b)
        for day, hours in draw(st.lists(st.tuples(weekdays, hours_of_day()), min_size=2, max_size=10))
        for a, b in hours
    ]
    dates = st.integers(-4, 4).map(lambda d: anchor.date() + timedelta(days=d))
    extra = [
        DateInterval(day, a, b)
        for day, hours in draw(st.lists(st.tuples(dates, hours_of_day()), max_size=3))
        for a, b in hours
    ]
    likely = grid_starts_in_hours(weekly, anchor, step, duration)
    edge = draw(st.sampled_from(likely)) if likely else anchor.astimezone(UTC)
    at_edge = draw(st.sampled_from(("start", "end", "notice", "horizon", None)))
    around = anchor.astimezone(UTC)
    start = edge if at_edge == "start" else around - draw(half_windows) - draw(ragged)
    end = edge if at_edge == "end" else around + draw(half_windows) + draw(ragged)
    if end < start:  # an edge early on the anchor's day
        start, end = end, start
    start, end = (t.astimezone(draw(zones_to_give(zone))) for t in (start, end))
    days = -(-(end - start) // DAY)  # whole days, so that the cached strategies are few
    now = draw(instants_near(zone, start, -1.5, 0.25))
    since_now = start.astimezone(UTC) - now.astimezone(UTC)
    to_edge = edge - now.astimezone(UTC)
    if at_edge == "notice" and timedelta(0) <= to_edge <= 3 * DAY:
        notice = to_edge
    else:
        notice = draw(st.one_of(st.just(timedelta(0)), offset_minutes(0, 0.5), offset_minutes(0, 3)))
    if at_edge == "horizon" and DAY <= to_edge <= 30 * DAY:
        horizon = to_edge
    else:
        inside = offset_minutes(0, days).map(lambda m: since_now + m)  # ends inside the window
        horizon = draw(st.one_of(offset_minutes(1, 30), offset_minutes(5, 30), inside))
        horizon = min(max(horizon, DAY), 30 * DAY)
    buffers = st.one_of(st.just(0), st.integers(0, 60), st.sampled_from((15, 30)))
    rules = Rules(
        tz,
        weekly=tuple(weekly),
        extra=tuple(extra),
        buffer_before=minutes(draw(buffers)),
        buffer_after=minutes(draw(buffers)),
        notice=notice,
        horizon=horizon,
        step=step,
    )
    nearby = busy_near(zone, start, days, 180)
    bookings = draw(st.lists(st.one_of(nearby, busy_near(zone, anchor - DAY / 4, 0.5, 180)), max_size=12))
    if draw(st.booleans()):
        exact_fit = duration + 2 * (rules.buffer_before + rules.buffer_after)
        bookings += draw(booked_run(zone, anchor, exact_fit))
    return Case(
        rules=rules,
        duration=duration,
        now=now,
        start=start,
        end=end,
        time_off=draw(st.lists(busy_near(zone, start, days, 2 * 1440), max_size=3)),
        bookings=bookings,
    )


PROPERTY = settings(max_examples=500, deadline=None, suppress_health_check=[HealthCheck.too_slow])


# ------------------------------------------------------------------------------------------ properties


@PROPERTY
@given(cases())
def test_every_slot_satisfies_every_rule(case):
    oracle, rules = Oracle(case), case.rules
    for s in case.slots():
        assert oracle.in_window(s), f"{s} is outside the window [{case.start}, {case.end})"
        assert oracle.after_notice(s), f"{s} is before now + notice ({case.now} + {case.rules.notice})"
        assert oracle.before_horizon(s), f"{s} is not before now + horizon ({case.now} + {rules.horizon})"
        assert oracle.on_grid(s), f"{s} is off the {case.rules.step} grid of {case.rules.time_zone}"
        assert oracle.in_hours(s), f"[{s}, +{case.duration}) is not inside working time minus time off"
        clash = oracle.clashing_booking(s)
        assert clash is None, f"{s} (+{case.duration}, buffers) clashes with booking {clash}"


@PROPERTY
@given(cases())
def test_slots_are_exactly_the_minutes_a_brute_force_scan_finds(case):
    got = [s.astimezone(UTC) for s in case.slots()]
    expected = Oracle(case).scan()
    missing = sorted(set(expected) - set(got))
    extra = sorted(set(got) - set(expected))
    assert got == expected, f"missing {missing[:5]}, extra {extra[:5]}"


@PROPERTY
@given(cases())
def test_slots_are_sorted_distinct_and_in_the_rules_zone(case):
    slots = case.slots()
    instants = [s.astimezone(UTC) for s in slots]
    assert instants == sorted(instants)
    assert len(set(instants)) == len(instants)
    assert all(s.tzinfo is ZoneInfo(case.rules.time_zone) for s in slots)
    # Each one reads as its instant's real local time: in the repeated hour, fold says which 01:00.
    for s, instant in zip(slots, instants, strict=True):
        local = instant.astimezone(s.tzinfo)
        assert (s.replace(tzinfo=None), s.fold) == (local.replace(tzinfo=None), local.fold)


@PROPERTY
@given(cases())
def test_next_free_slot_is_the_first_slot_within_the_horizon(case):
    rules, now = case.rules, case.now
    horizon_end = (now.astimezone(UTC) + rules.horizon).astimezone(now.tzinfo)
    every = free_slots(
        rules,
        duration=case.duration,
        now=now,
        start=now,
        end=horizon_end,
        time_off=case.time_off,
        bookings=case.bookings,
    )
    found = next_free_slot(
        rules, duration=case.duration, now=now, time_off=case.time_off, bookings=case.bookings
    )
    if not every:
        assert found is None
        return
    # Compared in UTC: two datetimes sharing a ZoneInfo compare by wall clock, blind to fold.
    assert found is not None and found.astimezone(UTC) == every[0].astimezone(UTC)
    assert found.tzinfo is ZoneInfo(rules.time_zone) and found.fold == every[0].fold
