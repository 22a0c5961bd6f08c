"""domain/courses.py: evidence plans -> session times -> each checked against the slot engine.

The examples are the issue's acceptance criteria (the dose-finding trials' defaults, a 30-minute neck
course accepted with a warning that cites Sherman 2014) and a patient's expectations of a calendar (10:00
stays 10:00 across the clocks going back). The property test compares `check_sessions` with the slot
engine asked one start at a time, with the course's other sessions passed to it as plain bookings.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from massage_booking.domain import evidence
from massage_booking.domain.courses import (
    BELOW_MINIMUM_DOSE,
    SESSION_MINUTES,
    SESSIONS_PER_WEEK,
    CoursePlan,
    cadence_offsets,
    check_sessions,
    custom_plan,
    default_plan,
    lay_out,
)
from massage_booking.domain.errors import ValidationFailed
from massage_booking.domain.scheduling import Busy, DateInterval, Rules, WeeklyInterval, free_slots

NEW_YORK = "America/New_York"
TZ = ZoneInfo(NEW_YORK)
MINUTE, HOUR, DAY = timedelta(minutes=1), timedelta(hours=1), timedelta(days=1)
MONDAY = date(2026, 6, 1)  # a Monday, far from any DST change
NOW = datetime(2026, 5, 1, 9, 0, tzinfo=TZ)


def at(day: date, hour: int, minute: int = 0, tz: str = NEW_YORK) -> datetime:
    return datetime.combine(day, time(hour, minute), tzinfo=ZoneInfo(tz))


def condition(condition_id: str) -> evidence.Condition:
    found = evidence.condition(condition_id)
    assert found is not None, condition_id
    return found


def weekdays(start: int = 9, end: int = 17, days: range = range(5), **kwargs) -> Rules:
    """A practice open the given weekdays (0 = Monday), on an hourly grid unless told otherwise."""
    kwargs.setdefault("step", HOUR)
    return Rules(NEW_YORK, weekly=tuple(WeeklyInterval(d, time(start), time(end)) for d in days), **kwargs)


def local(moments) -> list[str]:
    return [f"{m:%a %m-%d %H:%M}" for m in moments]


# ---------------------------------------------------------------------------------- default plans


@pytest.mark.parametrize(
    ("condition_id", "minutes", "per_week", "weeks", "total", "cited"),
    [
        ("chronic_neck_pain", 60, 2, 4, 8, "Sherman 2014"),
        ("knee_osteoarthritis", 60, 1, 8, 8, "Perlman 2012"),
        ("fibromyalgia", 60, 1.5, 10, 15, "Brattberg 1999"),
    ],
)
def test_the_acceptance_defaults_follow_the_dose_finding_trials(
    condition_id, minutes, per_week, weeks, total, cited
):
    plan = default_plan(condition(condition_id))
    assert (plan.session_minutes, plan.sessions_per_week, plan.weeks, plan.total_sessions) == (
        minutes,
        per_week,
        weeks,
        total,
    )
    assert evidence.citation(plan.citation_id).short == cited
    assert plan.condition_id == condition_id
    assert plan.warnings == ()


@pytest.mark.parametrize("c", evidence.conditions(), ids=lambda c: c.id)
def test_every_registry_default_is_bookable_and_meets_its_own_minimum(c):
    plan = default_plan(c)
    assert plan.warnings == (), plan.warnings[0].message if plan.warnings else ""
    assert plan.session_minutes in SESSION_MINUTES
    assert plan.sessions_per_week is None or plan.sessions_per_week in SESSIONS_PER_WEEK
    assert plan.citation_id == c.plan_citation.id
    assert custom_plan(c) == plan  # no changes, same plan
    assert len(lay_out(plan, at(MONDAY, 10), NEW_YORK)) == c.total_sessions


def test_a_plan_without_an_evidence_cadence_keeps_none_but_is_laid_out_weekly():
    plan = default_plan(condition("chemotherapy_nausea"))  # Billhult 2007: timed with chemotherapy visits
    assert (plan.sessions_per_week, plan.weeks, plan.total_sessions) == (None, None, 5)
    starts = [start for start, _ in lay_out(plan, at(MONDAY, 10), NEW_YORK)]
    assert [(s - starts[0]).days for s in starts] == [0, 7, 14, 21, 28]


def test_from_evidence_derives_weeks_from_the_count_and_cadence():
    plan = CoursePlan.from_evidence(
        condition("fibromyalgia"), session_minutes=60, sessions_per_week=1.5, total_sessions=16
    )
    assert plan.weeks == 11  # ceil(16 / 1.5)
    assert plan.duration == HOUR


# ----------------------------------------------------------------------------------- custom plans


def test_a_30_minute_neck_plan_is_accepted_with_a_warning_that_cites_sherman_2014():
    plan = custom_plan(condition("chronic_neck_pain"), session_minutes=30)
    assert (plan.session_minutes, plan.sessions_per_week, plan.total_sessions) == (30, 2, 8)
    (warning,) = plan.warnings
    assert warning.code == BELOW_MINIMUM_DOSE
    assert warning.fields == ("session_minutes",)
    assert warning.message == (
        "30-minute sessions are below the dose that worked for chronic neck pain"
        " (60 minutes, 2 a week for 4 weeks; Sherman 2014). You can still book it."
    )


def test_a_warning_names_every_shortfall():
    plan = custom_plan(condition("chronic_neck_pain"), sessions_per_week=1, total_sessions=4)
    (warning,) = plan.warnings
    assert warning.fields == ("sessions_per_week", "total_sessions")  # 4 weeks at 1 a week: weeks are met
    assert warning.message.startswith("1 session a week and 4 sessions in all are below")
    assert "Sherman 2014" in warning.message


def test_a_warning_cites_the_minimum_s_own_study():
    """Fibromyalgia's default cites Brattberg 1999; its minimum (at least 5 weeks) is Li 2014's."""
    plan = custom_plan(condition("fibromyalgia"), total_sessions=6)  # 1.5 a week -> 4 weeks
    (warning,) = plan.warnings
    assert warning.fields == ("weeks",)
    assert "a program of at least 5 weeks; Li 2014" in warning.message
    assert plan.citation_id == "brattberg1999"


def test_knee_oa_below_weekly_60_minutes_is_warned_and_cites_perlman_2012():
    plan = custom_plan(condition("knee_osteoarthritis"), session_minutes=45, sessions_per_week=0.5)
    (warning,) = plan.warnings
    assert warning.fields == ("session_minutes", "sessions_per_week")
    assert "(60 minutes, once a week; Perlman 2012)" in warning.message
    assert plan.weeks == 16  # 8 sessions, one every two weeks


def test_more_than_the_evidence_is_not_warned():
    plan = custom_plan(
        condition("chronic_neck_pain"), session_minutes=90, sessions_per_week=3, total_sessions=12
    )
    assert plan.warnings == ()
    assert plan.weeks == 4


def test_a_condition_without_an_established_minimum_never_warns():
    plan = custom_plan(condition("cancer_related_fatigue"), session_minutes=15, total_sessions=1)
    assert plan.warnings == ()


def test_a_cadence_can_be_given_to_a_condition_that_has_none():
    plan = custom_plan(condition("chemotherapy_nausea"), sessions_per_week=2)
    assert (plan.sessions_per_week, plan.weeks) == (2, 3)


@pytest.mark.parametrize(
    ("changes", "fields"),
    [
        ({"session_minutes": 50}, {"session_minutes"}),
        ({"session_minutes": 0}, {"session_minutes"}),
        ({"session_minutes": True}, {"session_minutes"}),
        ({"session_minutes": "60"}, {"session_minutes"}),
        ({"sessions_per_week": 2.5}, {"sessions_per_week"}),
        ({"sessions_per_week": 7}, {"sessions_per_week"}),
        ({"total_sessions": 0}, {"total_sessions"}),
        ({"total_sessions": 41}, {"total_sessions"}),
        ({"total_sessions": 8.0}, {"total_sessions"}),
        (
            {"session_minutes": 61, "sessions_per_week": 0, "total_sessions": -1},
            {"session_minutes", "sessions_per_week", "total_sessions"},
        ),
    ],
)
def test_numbers_that_cannot_be_booked_are_refused_naming_the_field(changes, fields):
    with pytest.raises(ValidationFailed) as raised:
        custom_plan(condition("chronic_neck_pain"), **changes)
    assert set(raised.value.details["fields"]) == fields
    assert raised.value.status == 422


def test_the_extremes_of_the_allowed_numbers_are_accepted():
    c = condition("knee_osteoarthritis")
    assert custom_plan(c, session_minutes=120, sessions_per_week=5, total_sessions=40).weeks == 8
    assert custom_plan(c, session_minutes=15, sessions_per_week=0.5, total_sessions=1).weeks == 2


# ---------------------------------------------------------------------------------------- cadence


@pytest.mark.parametrize(
    ("per_week", "offsets"),
    [
        (0.5, [0, 14, 28, 42]),
        (1, [0, 7, 14, 21, 28, 35]),
        (1.5, [0, 4, 7, 14, 18, 21, 28]),
        (2, [0, 3, 7, 10, 14, 17, 21, 24]),
        (3, [0, 2, 4, 7, 9, 11, 14]),
        (4, [0, 1, 3, 4, 7, 8, 10, 11]),
        (5, [0, 1, 2, 3, 4, 7, 8, 9, 10, 11]),
    ],
)
def test_cadence_patterns(per_week, offsets):
    assert cadence_offsets(per_week, len(offsets)) == offsets


@pytest.mark.parametrize("per_week", SESSIONS_PER_WEEK)
def test_a_cadence_puts_its_number_of_sessions_in_each_week(per_week):
    offsets = cadence_offsets(per_week, 40)
    weeks = 8
    in_span = [o for o in offsets if o < weeks * 7]
    assert len(in_span) == weeks * per_week
    assert offsets == sorted(set(offsets))


def test_an_unknown_cadence_is_refused():
    with pytest.raises(ValueError, match="no lay-out"):
        cadence_offsets(2.5, 4)
    assert cadence_offsets(1, 0) == []


def test_a_twice_weekly_course_started_on_monday_runs_monday_and_thursday():
    plan = default_plan(condition("chronic_neck_pain"))
    sessions = lay_out(plan, at(MONDAY, 10), NEW_YORK)
    assert local(s for s, _ in sessions) == [
        "Mon 06-01 10:00", "Thu 06-04 10:00", "Mon 06-08 10:00", "Thu 06-11 10:00",
        "Mon 06-15 10:00", "Thu 06-18 10:00", "Mon 06-22 10:00", "Thu 06-25 10:00",
    ]  # fmt: skip
    assert all(end - start == HOUR for start, end in sessions)


def test_fibromyalgia_lays_out_fifteen_sessions_within_ten_weeks():
    sessions = lay_out(default_plan(condition("fibromyalgia")), at(MONDAY, 10), NEW_YORK)
    assert len(sessions) == 15
    assert (sessions[-1][0].date() - MONDAY).days < 10 * 7


# ------------------------------------------------------------------------------------- DST lay-out


def test_a_course_keeps_10_00_local_when_the_clocks_go_back():
    """2026-11-01 02:00 EDT -> 01:00 EST: the Monday after is still a 10:00 appointment, now UTC-5."""
    plan = default_plan(condition("knee_osteoarthritis"))
    sessions = lay_out(plan, datetime(2026, 10, 26, 10, 0, tzinfo=TZ), NEW_YORK)
    starts = [start for start, _ in sessions]
    assert [f"{s:%H:%M}" for s in starts] == ["10:00"] * 8
    assert starts[0].utcoffset() == -4 * HOUR and starts[1].utcoffset() == -5 * HOUR
    assert starts[1].astimezone(UTC) - starts[0].astimezone(UTC) == 7 * DAY + HOUR  # 169 real hours
    assert all(end.astimezone(UTC) - start.astimezone(UTC) == HOUR for start, end in sessions)
    assert all(s.tzinfo is TZ for s, _ in sessions)


def test_a_session_on_the_fall_back_day_itself_keeps_its_wall_time():
    plan = default_plan(condition("chronic_neck_pain"))  # Thu then Sun
    sessions = lay_out(plan, datetime(2026, 10, 29, 10, 0, tzinfo=TZ), NEW_YORK)
    sunday = sessions[1][0]
    assert sunday.date() == date(2026, 11, 1)
    assert (f"{sunday:%H:%M}", sunday.utcoffset()) == ("10:00", -5 * HOUR)


def test_a_start_given_in_another_zone_is_laid_out_on_the_therapist_s_wall_clock():
    plan = default_plan(condition("knee_osteoarthritis"))
    first = datetime(2026, 10, 26, 14, 0, tzinfo=UTC)  # 10:00 EDT
    starts = [start for start, _ in lay_out(plan, first, NEW_YORK)]
    assert [f"{s:%H:%M %z}" for s in starts[:2]] == ["10:00 -0400", "10:00 -0500"]


def test_a_wall_time_that_does_not_exist_maps_like_fold_0():
    """02:30 on 2026-03-08 (spring forward) does not exist: fold=0 reads it as 03:30 EDT, the rule the
    slot engine uses; the check then flags it unless 03:30 is a valid slot."""
    plan = default_plan(condition("knee_osteoarthritis"))
    starts = [start for start, _ in lay_out(plan, datetime(2026, 3, 1, 2, 30, tzinfo=TZ), NEW_YORK)]
    assert starts[1].astimezone(UTC) == datetime(2026, 3, 8, 7, 30, tzinfo=UTC)
    assert f"{starts[1]:%H:%M %z}" == "03:30 -0400"  # returned as the clock then reads, not as 02:30
    assert [f"{s:%H:%M %z}" for s in (starts[0], starts[2])] == ["02:30 -0500", "02:30 -0400"]


def test_a_naive_first_start_is_refused():
    with pytest.raises(ValueError, match="aware"):
        lay_out(default_plan(condition("knee_osteoarthritis")), datetime(2026, 6, 1, 10), NEW_YORK)


# ---------------------------------------------------------------------------------------- checking


def test_a_course_in_open_hours_is_all_free():
    plan = default_plan(condition("chronic_neck_pain"))
    checked = check_sessions(lay_out(plan, at(MONDAY, 10), NEW_YORK), weekdays(), now=NOW)
    assert [c.number for c in checked] == list(range(1, 9))
    assert all(c.free and c.alternatives == () for c in checked)


def test_a_conflict_with_a_booking_gets_the_nearest_free_starts_of_that_day():
    plan = default_plan(condition("chronic_neck_pain"))
    sessions = lay_out(plan, at(MONDAY, 10), NEW_YORK)
    booked = Busy(at(date(2026, 6, 4), 10), at(date(2026, 6, 4), 11))  # Thursday 10-11
    checked = check_sessions(sessions, weekdays(), now=NOW, bookings=[booked])
    assert [c.free for c in checked] == [True, False, *[True] * 6]
    # 09:00 and 11:00 are an hour away (the earlier first on a tie), then 12:00.
    assert local(checked[1].alternatives) == ["Thu 06-04 09:00", "Thu 06-04 11:00", "Thu 06-04 12:00"]
    assert (checked[1].start, checked[1].end) == sessions[1]


def test_buffers_count_against_bookings():
    rules = weekdays(step=timedelta(minutes=15), buffer_after=timedelta(minutes=15))
    plan = default_plan(condition("chronic_neck_pain"))
    booked = Busy(at(MONDAY, 9), at(MONDAY, 10))  # ends when the first session starts: no buffer left
    checked = check_sessions(lay_out(plan, at(MONDAY, 10), NEW_YORK), rules, now=NOW, bookings=[booked])
    assert not checked[0].free
    assert local(checked[0].alternatives) == ["Mon 06-01 10:15", "Mon 06-01 10:30", "Mon 06-01 10:45"]


def test_alternatives_come_from_the_same_week_before_nearer_days_outside_it():
    """Monday is fully booked. Sunday 16:00 (previous ISO week) is 17 hours away, Tuesday 09:00 is 24:
    the same week still comes first, then the nearest starts outside it."""
    rules = Rules(
        NEW_YORK,
        weekly=(
            WeeklyInterval(0, time(9), time(17)),  # Monday
            WeeklyInterval(1, time(9), time(10)),  # Tuesday: one hour
        ),
        extra=(DateInterval(date(2026, 5, 31), time(9), time(17)),),  # Sunday before, the previous ISO week
        step=HOUR,
    )
    plan = custom_plan(condition("knee_osteoarthritis"), total_sessions=1)
    sessions = lay_out(plan, at(MONDAY, 9), NEW_YORK)
    monday = Busy(at(MONDAY, 9), at(MONDAY, 17))
    checked = check_sessions(sessions, rules, now=NOW, bookings=[monday], max_alternatives=4)
    assert local(checked[0].alternatives) == [
        "Tue 06-02 09:00",  # the only start left in the week
        "Sun 05-31 16:00",  # then the nearest outside it, by elapsed time
        "Sun 05-31 15:00",
        "Sun 05-31 14:00",
    ]


def test_time_off_and_closed_days_are_conflicts():
    plan = default_plan(condition("chronic_neck_pain"))
    sessions = lay_out(plan, at(MONDAY, 10), NEW_YORK)
    away = Busy(at(date(2026, 6, 8), 0), at(date(2026, 6, 12), 0))  # Monday-Thursday of week 2
    checked = check_sessions(sessions, weekdays(days=range(4)), now=NOW, time_off=[away])
    assert [c.free for c in checked] == [True, True, False, False, True, True, True, True]
    # Nothing is left in week 2 (Friday is closed): the nearest starts are the week before's Thursday
    # afternoon, clear of session 2 at 10:00 that day.
    assert local(checked[2].alternatives) == ["Thu 06-04 16:00", "Thu 06-04 15:00", "Thu 06-04 14:00"]


def test_no_alternatives_when_nothing_is_free_within_a_week_either_side():
    plan = custom_plan(condition("knee_osteoarthritis"), total_sessions=1)
    away = Busy(at(date(2026, 5, 20), 0), at(date(2026, 6, 20), 0))
    (checked,) = check_sessions(lay_out(plan, at(MONDAY, 10), NEW_YORK), weekdays(), now=NOW, time_off=[away])
    assert (checked.free, checked.alternatives) == (False, ())


def test_notice_and_horizon_come_from_the_rules():
    plan = default_plan(condition("knee_osteoarthritis"))
    rules = weekdays(notice=2 * DAY, horizon=21 * DAY)
    now = at(MONDAY, 9) - DAY  # Sunday 09:00: Monday 10:00 is 25 hours away
    checked = check_sessions(lay_out(plan, at(MONDAY, 10), NEW_YORK), rules, now=now)
    assert [c.free for c in checked] == [False, True, True, False, False, False, False, False]
    assert all(a.astimezone(UTC) >= now.astimezone(UTC) + 2 * DAY for a in checked[0].alternatives)


def test_a_course_s_own_sessions_never_overlap_each_other():
    """Sessions given by hand (e.g. after the patient moved some): a later one that clashes with an
    earlier one is a conflict, and its alternatives keep clear of every other session of the course."""
    rules = weekdays(step=timedelta(minutes=30), buffer_after=timedelta(minutes=15))
    sessions = [
        (at(MONDAY, 10), at(MONDAY, 11)),
        (at(MONDAY, 10, 30), at(MONDAY, 11, 30)),  # overlaps the first
        (at(MONDAY, 11), at(MONDAY, 12)),  # touches the first: the buffer is missing
        (at(MONDAY, 13), at(MONDAY, 14)),
    ]
    checked = check_sessions(sessions, rules, now=NOW)
    assert [c.free for c in checked] == [True, False, False, True]
    for c in checked[1:3]:
        for alt in c.alternatives:
            start = alt.astimezone(UTC)
            for number, (lo, hi) in enumerate(sessions, 1):
                if number != c.number:
                    gap = rules.buffer_after
                    assert start + HOUR + gap <= lo.astimezone(UTC) or start >= hi.astimezone(UTC) + gap
    # 09:00 would end within the buffer of session 1, and 11:30-12:15 is taken by sessions 1 and 3.
    assert local(checked[1].alternatives) == ["Mon 06-01 14:30", "Mon 06-01 15:00", "Mon 06-01 15:30"]


def test_the_first_of_two_identical_sessions_keeps_its_place():
    session = (at(MONDAY, 10), at(MONDAY, 11))
    first, second = check_sessions([session, session], weekdays(), now=NOW)
    assert first.free and not second.free
    assert at(MONDAY, 10) not in second.alternatives


def test_the_check_works_across_the_dst_change():
    """A weekly 10:00 course across 2026-11-01: every session is in hours and free."""
    plan = default_plan(condition("knee_osteoarthritis"))
    sessions = lay_out(plan, datetime(2026, 10, 19, 10, 0, tzinfo=TZ), NEW_YORK)
    checked = check_sessions(sessions, weekdays(), now=datetime(2026, 10, 1, tzinfo=TZ))
    assert all(c.free for c in checked)


def test_the_engine_is_asked_once_per_week(monkeypatch):
    from massage_booking.domain import scheduling

    calls = []
    real = scheduling.free_slots

    def counting(*args, **kwargs):
        calls.append(kwargs["start"])
        return real(*args, **kwargs)

    monkeypatch.setattr(scheduling, "free_slots", counting)
    plan = custom_plan(condition("chronic_neck_pain"), sessions_per_week=5, total_sessions=20)
    check_sessions(lay_out(plan, at(MONDAY, 10), NEW_YORK), weekdays(), now=NOW)
    assert len(calls) == 4


# ------------------------------------------------------------------------------------------ property


ZONES = (NEW_YORK, "Europe/London", "Australia/Lord_Howe", "UTC")
EPOCH_2026 = datetime(2026, 1, 1, tzinfo=UTC)


@dataclass(frozen=True)
class Case:
    rules: Rules
    now: datetime
    sessions: list[tuple[datetime, datetime]]
    time_off: list[Busy]
    bookings: list[Busy]
    max_alternatives: int


@st.composite
def weekly_hours(draw) -> tuple[WeeklyInterval, ...]:
    hours = []
    days = st.sets(st.integers(0, 6), min_size=1, max_size=7)
    for weekday in draw(st.one_of(days, st.just(set(range(7))))):
        start = draw(st.integers(0, 12))
        end = draw(st.integers(start + 1, 23))
        hours.append(WeeklyInterval(weekday, time(start, draw(st.sampled_from((0, 30)))), time(end, 59)))
    return tuple(hours)


@st.composite
def busy_near(draw, zone: ZoneInfo, anchor: datetime, days: int) -> Busy:
    start = anchor + timedelta(minutes=draw(st.integers(-2 * 1440, days * 1440)))
    length = timedelta(minutes=draw(st.sampled_from((15, 30, 45, 60, 90, 180, 600))))
    return Busy(start.astimezone(zone), (start + length).astimezone(zone))


@st.composite
def cases(draw) -> Case:
    zone_name = draw(st.sampled_from(ZONES))
    zone = ZoneInfo(zone_name)
    rules = Rules(
        zone_name,
        weekly=draw(weekly_hours()),
        buffer_before=timedelta(minutes=draw(st.sampled_from((0, 0, 10, 15)))),
        buffer_after=timedelta(minutes=draw(st.sampled_from((0, 0, 15, 30)))),
        notice=timedelta(hours=draw(st.sampled_from((0, 0, 12, 48)))),
        horizon=timedelta(days=draw(st.sampled_from((21, 90, 120)))),
        step=timedelta(minutes=draw(st.sampled_from((15, 30, 60)))),
    )
    # Up to 10 days before a DST change (US, EU, Lord Howe; spring and autumn), so courses cross it.
    change = EPOCH_2026 + timedelta(days=draw(st.sampled_from((66, 87, 94, 276, 297, 304))))
    now_utc = change - timedelta(minutes=draw(st.integers(0, 10 * 1440)))
    plan = custom_plan(
        condition("chronic_neck_pain"),
        session_minutes=draw(st.sampled_from(SESSION_MINUTES)),
        sessions_per_week=draw(st.sampled_from(SESSIONS_PER_WEEK)),
        total_sessions=draw(st.integers(1, 8)),
    )
    first_day = (now_utc + timedelta(days=draw(st.integers(0, 14)))).astimezone(zone).date()
    first = datetime.combine(
        first_day, time(draw(st.integers(0, 23)), draw(st.sampled_from((0, 15, 30, 45)))), zone
    )
    if draw(st.booleans()):  # most sessions are then on the grid and in hours, so "free" is exercised
        offered = free_slots(
            rules, duration=plan.duration, now=now_utc, start=first, end=first + timedelta(days=7)
        )
        first = offered[draw(st.integers(0, len(offered) - 1))] if offered else first
    sessions = lay_out(plan, first, zone_name)
    if draw(st.booleans()):  # a hand-moved session that may clash with the course's own
        start, end = sessions[draw(st.integers(0, len(sessions) - 1))]
        shift = timedelta(minutes=draw(st.integers(-8, 8)) * 15)
        moved = (
            (start.astimezone(UTC) + shift).astimezone(zone),
            (end.astimezone(UTC) + shift).astimezone(zone),
        )
        sessions.insert(draw(st.integers(0, len(sessions))), moved)
    span_days = (sessions[-1][0] - sessions[0][0]).days + 2
    anchor = sessions[0][0].astimezone(UTC)
    return Case(
        rules=rules,
        now=now_utc.astimezone(zone),
        sessions=sessions,
        time_off=draw(st.lists(busy_near(zone, anchor, span_days), max_size=2)),
        bookings=draw(st.lists(busy_near(zone, anchor, span_days), max_size=6)),
        max_alternatives=draw(st.integers(0, 4)),
    )


def elapsed(start: datetime, end: datetime) -> timedelta:
    """Real time between two instants: `end - start` on two datetimes sharing a ZoneInfo subtracts wall
    clocks and is wrong across the repeated hour."""
    return end.astimezone(UTC) - start.astimezone(UTC)


def engine_allows(
    case: Case, start: datetime, duration: timedelta, others: list[tuple[datetime, datetime]]
) -> bool:
    """The slot engine asked about one start, with `others` as ordinary bookings."""
    at_utc = start.astimezone(UTC)
    found = free_slots(
        case.rules,
        duration=duration,
        now=case.now,
        start=at_utc,
        end=at_utc + MINUTE,
        time_off=case.time_off,
        bookings=[*case.bookings, *(Busy(lo, hi) for lo, hi in others)],
    )
    return at_utc in {s.astimezone(UTC) for s in found}


def iso_monday(moment: datetime, zone: ZoneInfo) -> date:
    day = moment.astimezone(zone).date()
    return day - timedelta(days=day.weekday())


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(cases())
def test_check_sessions_agrees_with_the_slot_engine(case):
    checked = check_sessions(
        case.sessions,
        case.rules,
        now=case.now,
        time_off=case.time_off,
        bookings=case.bookings,
        max_alternatives=case.max_alternatives,
    )
    zone = ZoneInfo(case.rules.time_zone)
    assert [c.number for c in checked] == list(range(1, len(case.sessions) + 1))
    for index, c in enumerate(checked):
        start, end = case.sessions[index]
        assert (c.start, c.end) == (start, end)
        assert c.free == engine_allows(case, start, elapsed(start, end), case.sessions[:index]), (
            f"session {c.number}"
        )
        if c.free:
            assert c.alternatives == ()
            continue
        others = case.sessions[:index] + case.sessions[index + 1 :]
        instants = [a.astimezone(UTC) for a in c.alternatives]
        assert len(instants) == len(set(instants)) <= case.max_alternatives
        for alt in c.alternatives:
            assert alt.tzinfo is zone
            assert engine_allows(case, alt, elapsed(start, end), others), f"alternative {alt} is not free"
        # Same week first, then outside it; nearest first within each group.
        week = iso_monday(start, zone)
        same = [iso_monday(a, zone) == week for a in c.alternatives]
        assert same == sorted(same, reverse=True)
        wanted = start.astimezone(UTC)
        for group in (True, False):
            distances = [abs(a - wanted) for a, s in zip(instants, same, strict=True) if s == group]
            assert distances == sorted(distances)

    # The free sessions never overlap each other, buffers included.
    gap = case.rules.buffer_before + case.rules.buffer_after
    free = [(c.start.astimezone(UTC), c.end.astimezone(UTC)) for c in checked if c.free]
    for i, (lo, hi) in enumerate(free):
        for other_lo, other_hi in free[i + 1 :]:
            assert hi + gap <= other_lo or other_hi + gap <= lo


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(cases())
def test_the_nearest_alternative_in_the_week_is_never_missed(case):
    """If any start in the wanted week is free (with the course's other sessions as bookings), the first
    alternative is one of the nearest such starts."""
    checked = check_sessions(
        case.sessions,
        case.rules,
        now=case.now,
        time_off=case.time_off,
        bookings=case.bookings,
        max_alternatives=1,
    )
    zone = ZoneInfo(case.rules.time_zone)
    for index, c in enumerate(checked):
        if c.free:
            continue
        start, end = case.sessions[index]
        others = case.sessions[:index] + case.sessions[index + 1 :]
        monday = iso_monday(start, zone)
        week = free_slots(
            case.rules,
            duration=end.astimezone(UTC) - start.astimezone(UTC),
            now=case.now,
            start=datetime.combine(monday, time(0), zone),
            end=datetime.combine(monday + timedelta(days=7), time(0), zone),
            time_off=case.time_off,
            bookings=[*case.bookings, *(Busy(lo, hi) for lo, hi in others)],
        )
        if not week:
            continue
        wanted = start.astimezone(UTC)
        best = min(abs(s.astimezone(UTC) - wanted) for s in week)
        assert len(c.alternatives) == 1
        assert abs(c.alternatives[0].astimezone(UTC) - wanted) == best
