"""How long the course planner takes for a busy therapist's 90 days, against a brute-force pattern search.

Run: `make bench BENCH=planner`, or .venv/bin/python benchmarks/planner.py [--repeats 200] [--brute-repeats 5]
[--bookings 500] [--light 100] [--seed 1].

The scenario is slots.py's, imported from it so that both benchmarks time the same calendar: one therapist in
America/New_York, Monday-Friday 08:00-12:00 and 13:00-19:00, Saturday 09:00-13:00, 15 minutes' buffer after
each session, 24 hours' notice, a 90-day horizon crossing spring-forward, a 15-minute grid and four blocks of
time off; the US federal holidays of those 90 days, not worked. Two calendars of random bookings: busy
(`--bookings`, the issue's 500) and light (`--light`, 100). On the busy one no regular 3-a-week course fits
at any time (500 random bookings leave about 150 free 60-minute starts in 90 days; the brute force agrees),
so the issue's scenario times the partial path; the light one has whole courses.

What is timed, per call (after one untimed call), p50 and p95; 60-minute sessions from the day after `now`:
- planner, 3 a week x 12, on both calendars (the issue's target: busy, p50 <= 20 ms), no wishes, 3 proposals.
- planner, the same with wishes (Tuesday/Thursday/Saturday, 17:00-19:00) [light]: the ranking's extra work.
- planner, 1.5 a week x 15 (Brattberg 1999's fibromyalgia course) [light]: 56 weekday patterns, not 7.
- planner, 1 a week x 40 [light]: longer than the horizon, so always the partial path.
- free_slots, 90 days, on both calendars: the one engine call the planner makes, for scale.
- brute force, 3 a week x 12, on both calendars: every valid weekday pattern x every grid time of the day
  (96) x every start day in the 90 days, each course laid out with `datetime.combine` and every session
  looked up in the set of the engine's free starts (one free_slots call, included in its time, as in the
  planner's). The obvious search without the planner's index; `--brute-repeats` calls.

How to read it: the planner's p50 is the figure for this machine; brute/planner is the one to compare across
machines and commits, since both run on the same data in the same process. The script asserts that the two
agree (for each of the planner's proposals the brute force found the same pattern starting at the same
instant, and nothing sooner; on the busy calendar neither finds a whole course) and asserts no times. On a
busy machine every figure moves: rerun before believing a change of less than about 2x
(benchmarks/README.md).
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time as clock
from collections.abc import Callable, Sequence
from datetime import UTC, date, datetime, time, timedelta
from itertools import combinations
from pathlib import Path
from zoneinfo import ZoneInfo

sys.path.insert(0, str(Path(__file__).resolve().parent))  # slots.py beside this file, however this is run

from slots import NOW, RULES, TIME_OFF, TIME_ZONE, make_bookings  # noqa: E402

from massage_booking.domain.course_patterns import PatternRequest, PlanResult, Wishes, propose  # noqa: E402
from massage_booking.domain.scheduling import Busy, free_slots  # noqa: E402

ZONE = ZoneInfo(TIME_ZONE)
MINUTE = timedelta(minutes=1)
DAY = timedelta(days=1)
LENGTH = timedelta(minutes=60)
# US federal holidays in the 90 days from NOW (Washington's Birthday is NOW's own date).
HOLIDAYS = {date(2026, 2, 16): "Washington's Birthday", date(2026, 5, 25): "Memorial Day"}
EARLIEST = NOW.astimezone(ZONE).date() + DAY


def parse_args(argv: Sequence[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=200, help="timed planner calls (default 200)")
    parser.add_argument("--brute-repeats", type=int, default=5, help="timed brute-force searches (default 5)")
    parser.add_argument(
        "--bookings", type=int, default=500, help="bookings of the busy calendar (default 500)"
    )
    parser.add_argument("--light", type=int, default=100, help="bookings of the light calendar (default 100)")
    parser.add_argument("--seed", type=int, default=1, help="seed of the bookings' RNG (default 1)")
    return parser.parse_args(argv)


# ----------------------------------------------------------------------------------------- brute force


def brute_force(
    per_week: int, total: int, bookings: Sequence[Busy], holidays: dict[date, str]
) -> dict[tuple[tuple[int, ...], time], datetime]:
    """{(weekdays, time): the soonest first session of a whole course} for every weekly pattern of
    `per_week` spaced weekdays (no two on adjacent days, Sunday to Monday included), found the obvious way."""
    free = {
        s.astimezone(UTC)
        for s in free_slots(
            RULES,
            duration=LENGTH,
            now=NOW,
            start=datetime.combine(EARLIEST, time(0), ZONE),
            end=NOW + RULES.horizon,
            time_off=TIME_OFF,
            bookings=bookings,
        )
    }
    last = (NOW + RULES.horizon - timedelta(microseconds=1)).astimezone(ZONE).date()
    step = RULES.step // MINUTE
    grid = [time(m // 60, m % 60) for m in range(0, 1440, step)]
    patterns = [
        days
        for days in combinations(range(7), per_week)
        if all((b - a) % 7 >= 2 for a, b in zip(days, days[1:] + days[:1], strict=True)) or per_week == 1
    ]
    found: dict[tuple[tuple[int, ...], time], datetime] = {}
    for days in patterns:
        starts = [EARLIEST + timedelta(n) for n in range((last - EARLIEST).days + 1)]
        starts = [d for d in starts if d.weekday() in days]
        for t in grid:
            for first in starts:
                course, day = [], first
                while len(course) < total and day <= last:
                    if day.weekday() in days:
                        course.append(day)
                    day += DAY
                if len(course) < total:
                    break
                if all(
                    d not in holidays and datetime.combine(d, t, ZONE).astimezone(UTC) in free for d in course
                ):
                    found[(days, t)] = datetime.combine(first, t, ZONE)
                    break
    return found


# ------------------------------------------------------------------------------------------- measuring


def timed(call: Callable[[], object], repeats: int) -> tuple[list[float], object]:
    """(seconds per call, the last answer), after one untimed call (caches, allocator)."""
    answer = call()
    seconds = []
    for _ in range(max(repeats, 1)):
        started = clock.perf_counter()
        answer = call()
        seconds.append(clock.perf_counter() - started)
    return seconds, answer


def p95(seconds: list[float]) -> float:
    return statistics.quantiles(seconds, n=20)[-1]


def main(argv: Sequence[str] | None = None) -> None:  # noqa: C901
    args = parse_args(argv)
    calendars = {
        "busy": make_bookings(args.bookings, args.seed),
        "light": make_bookings(args.light, args.seed),
    }
    print(
        f"{TIME_ZONE}: Mon-Fri 08-12 + 13-19, Sat 09-13; 60-minute sessions on a"
        f" {RULES.step // MINUTE}-minute grid, {RULES.buffer_after // MINUTE} min buffer after,"
        f" {RULES.notice // timedelta(hours=1)} h notice, {RULES.horizon.days}-day horizon;"
        f" {len(TIME_OFF)} blocks of time off, {len(HOLIDAYS)} holidays not worked;"
        f" now = {NOW:%Y-%m-%d %H:%M} UTC, earliest start {EARLIEST};"
        f" calendars: busy = {args.bookings} bookings, light = {args.light} (seed {args.seed})"
    )

    def planner(calendar: str, per_week: float, total: int, wishes: Wishes) -> Callable[[], PlanResult]:
        request, bookings = PatternRequest(LENGTH, per_week, total), calendars[calendar]
        return lambda: propose(
            request,
            RULES,
            now=NOW,
            wishes=wishes,
            holidays=HOLIDAYS,
            works_holidays=False,
            time_off=TIME_OFF,
            bookings=bookings,
        )

    def engine(calendar: str) -> Callable[[], list[datetime]]:
        bookings = calendars[calendar]
        return lambda: free_slots(
            RULES,
            duration=LENGTH,
            now=NOW,
            start=NOW,
            end=NOW + RULES.horizon,
            time_off=TIME_OFF,
            bookings=bookings,
        )

    evenings = Wishes(EARLIEST, weekdays=frozenset({1, 3, 5}), time_windows=((time(17), time(19)),))
    anything = Wishes(EARLIEST)
    rows: list[tuple[str, list[float], str]] = []
    answers: dict[str, object] = {}

    def measure(name: str, call: Callable[[], object], repeats: int) -> None:
        seconds, answer = timed(call, repeats)
        answers[name] = answer
        if isinstance(answer, PlanResult):
            found = (
                f"{len(answer.proposals)} whole"
                if answer.proposals
                else f"partial {sum(s.free for s in answer.partial.sessions) if answer.partial else 0}"
                f"/{len(answer.partial.sessions) if answer.partial else 0}, {len(answer.blocked)} blocks"
            )
        elif isinstance(answer, dict):
            found = f"{len(answer)} whole patterns"
        else:
            found = f"{len(answer)} slots" if isinstance(answer, list) else ""
        rows.append((name, seconds, found))

    for calendar in ("busy", "light"):
        measure(f"planner, 3 a week x 12 [{calendar}]", planner(calendar, 3, 12, anything), args.repeats)
    measure("planner, 3 a week x 12, wishes [light]", planner("light", 3, 12, evenings), args.repeats)
    measure("planner, 1.5 a week x 15 [light]", planner("light", 1.5, 15, anything), args.repeats)
    measure("planner, 1 a week x 40 [light]", planner("light", 1, 40, anything), args.repeats)
    for calendar in ("busy", "light"):
        measure(f"free_slots, 90 days [{calendar}]", engine(calendar), args.repeats)
    for calendar in ("busy", "light"):
        bookings = calendars[calendar]
        measure(
            f"brute force, 3 a week x 12 [{calendar}]",
            lambda bookings=bookings: brute_force(3, 12, bookings, HOLIDAYS),
            args.brute_repeats,
        )

    # Agreement: the brute force found each proposal's pattern at the same first instant, and none sooner;
    # when it found no whole course, neither did the planner.
    for calendar in ("busy", "light"):
        result = answers[f"planner, 3 a week x 12 [{calendar}]"]
        brute = answers[f"brute force, 3 a week x 12 [{calendar}]"]
        assert isinstance(result, PlanResult) and isinstance(brute, dict)
        if not brute:
            assert not result.proposals, f"[{calendar}] the planner found a course the brute force did not"
            continue
        assert result.proposals, f"[{calendar}] the brute force found a whole course the planner missed"
        for proposal in result.proposals:
            key = (proposal.pattern.weekdays, proposal.pattern.time)
            assert key in brute and brute[key].astimezone(UTC) == proposal.first_start.astimezone(UTC), key
        soonest = min(brute.values(), key=lambda s: s.astimezone(UTC))
        assert soonest.astimezone(UTC) == result.proposals[0].first_start.astimezone(UTC)

    print()
    print(f"{'method':<42}{'calls':>7}{'p50 ms':>11}{'p95 ms':>11}  found")
    for name, seconds, found in rows:
        spread = f"{p95(seconds) * 1000:11.3f}" if len(seconds) >= 10 else f"{'-':>11}"
        print(f"{name:<42}{len(seconds):>7}{statistics.median(seconds) * 1000:11.3f}{spread}  {found}")
    p50 = {name: statistics.median(seconds) for name, seconds, _ in rows}
    print()
    print("planner and brute force agree on both calendars")
    for calendar in ("busy", "light"):
        result = answers[f"planner, 3 a week x 12 [{calendar}]"]
        assert isinstance(result, PlanResult)
        if result.proposals:
            best = result.proposals[0]
            print(f"  [{calendar}] best: {best.pattern.describe()} from {best.first_start:%Y-%m-%d %H:%M %Z}")
        elif result.partial:
            print(
                f"  [{calendar}] no whole course; partial: {result.partial.pattern.describe()}, e.g. ", end=""
            )
            print(result.blocked[0].sentence("Dana") if result.blocked else "")
        planner_p50 = p50[f"planner, 3 a week x 12 [{calendar}]"]
        brute_p50 = p50[f"brute force, 3 a week x 12 [{calendar}]"]
        engine_p50 = p50[f"free_slots, 90 days [{calendar}]"]
        print(
            f"  [{calendar}] brute force / planner (p50): {brute_p50 / planner_p50:,.0f}x;"
            f" planner / free_slots: {planner_p50 / engine_p50:,.1f}x"
        )
    print(
        f"3 a week x 12, {args.bookings} bookings over 90 days: planner p50 ="
        f" {p50['planner, 3 a week x 12 [busy]'] * 1000:.1f} ms (target <= 20 ms)"
    )


if __name__ == "__main__":
    main()
