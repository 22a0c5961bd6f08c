"""How long the slot engine takes for a busy therapist's 90 days, against a brute-force minute scan.

Run: `make bench BENCH=slots`, or PYTHONPATH=. .venv/bin/python benchmarks/slots.py [--repeats 200]
[--brute-repeats 3] [--bookings 500] [--seed 1].

The scenario: one therapist in America/New_York, Monday-Friday 08:00-12:00 and 13:00-19:00, Saturday
09:00-13:00; 15 minutes' buffer after each session, 24 hours' notice, a 90-day horizon, a 15-minute grid,
60-minute sessions. `--bookings` existing bookings of 30, 45 or 60 minutes, on the grid inside the hours,
never overlapping each other, at random (seeded) across the 90 days, and four blocks of time off (a week's
holiday, an afternoon, a long weekend, a morning). `now` is fixed, a few weeks before spring-forward, so
the 90 days cross a DST change.

What is timed, per call:
- free_slots over [now, now + 90 days): what the week and month views cost when asked for the horizon;
  `--repeats` calls after an untimed one, p50 and p95.
- next_free_slot: what refreshing a therapist's "next available" in search costs; `--repeats` calls.
  Its first slot is tomorrow, so this is mostly the fixed cost of reading 500 bookings.
- the brute-force scan: every whole minute of the same 90 days checked against the six rules of
  domain/scheduling.py the obvious way (a per-minute array of working time, then for each minute the
  grid, the hours and every booking); `--brute-repeats` calls, p50 (p95 when there are enough).

How to read it: the engine's p50 is the figure that matters on this machine; the ratio brute/engine is the
one to compare across machines and commits, since both sides run on the same data in the same process.
The brute force is not a strawman (its per-minute array makes the hours check O(1)), so the ratio is the
price of visiting 130,000 minutes instead of only the grid starts inside free hours. The script asserts
that the engine and the scan return the identical list of slots ("agree") and that next_free_slot is
its first; it asserts no times. On a busy machine every figure moves: rerun before believing a change
of less than about 2x (benchmarks/README.md).
"""

from __future__ import annotations

import argparse
import random
import statistics
import time as clock
from collections.abc import Callable, Sequence
from datetime import UTC, date, datetime, time, timedelta
from itertools import accumulate
from zoneinfo import ZoneInfo

from massage_booking.domain.scheduling import (
    Busy,
    Rules,
    WeeklyInterval,
    free_slots,
    next_free_slot,
    working_intervals,
)

TIME_ZONE = "America/New_York"
ZONE = ZoneInfo(TIME_ZONE)
NOW = datetime(2026, 2, 16, 14, 7, 23, tzinfo=UTC)  # a Monday morning; spring-forward is 2026-03-08
DURATION = timedelta(minutes=60)
MINUTE = timedelta(minutes=1)
BOOKING_MINUTES = (30, 45, 60)
RULES = Rules(
    TIME_ZONE,
    weekly=(
        *(WeeklyInterval(day, time(8), time(12)) for day in range(5)),
        *(WeeklyInterval(day, time(13), time(19)) for day in range(5)),
        WeeklyInterval(5, time(9), time(13)),
    ),
    buffer_after=timedelta(minutes=15),
    notice=timedelta(hours=24),
    horizon=timedelta(days=90),
    step=timedelta(minutes=15),
)


def local(day: date, hour: int, minute: int = 0) -> datetime:
    return datetime.combine(day, time(hour, minute), tzinfo=ZONE)


TIME_OFF = (
    Busy(local(date(2026, 3, 30), 0), local(date(2026, 4, 6), 0)),  # a week's holiday
    Busy(local(date(2026, 2, 25), 13), local(date(2026, 2, 25), 19)),  # an afternoon
    Busy(local(date(2026, 4, 24), 12), local(date(2026, 4, 28), 0)),  # a long weekend
    Busy(local(date(2026, 5, 6), 8), local(date(2026, 5, 6), 10, 30)),  # a morning
)


def parse_args(argv: Sequence[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=200, help="timed engine calls (default 200)")
    parser.add_argument("--brute-repeats", type=int, default=3, help="timed brute-force scans (default 3)")
    parser.add_argument("--bookings", type=int, default=500, help="existing bookings (default 500)")
    parser.add_argument("--seed", type=int, default=1, help="seed of the bookings' RNG (default 1)")
    return parser.parse_args(argv)


# -------------------------------------------------------------------------------------------- the data


def make_bookings(count: int, seed: int) -> list[Busy]:
    """`count` bookings on the grid inside the hours, never overlapping, drawn until they are placed.

    Candidates are drawn from the working intervals themselves, so every one is a booking a patient
    could have made; the ones that would overlap an earlier one are redrawn.
    """
    rng = random.Random(seed)
    hours = working_intervals(RULES, NOW, NOW + RULES.horizon)
    step = RULES.step
    taken: list[tuple[datetime, datetime]] = []
    for _ in range(count * 200):
        if len(taken) == count:
            break
        block = rng.choice(hours)
        length = timedelta(minutes=rng.choice(BOOKING_MINUTES))
        start, end = block.start.astimezone(UTC), block.end.astimezone(UTC)
        choices = int((end - start - length) / step) + 1
        if choices <= 0:
            continue
        begins = start + rng.randrange(choices) * step
        span = (begins, begins + length)
        if all(span[1] <= a or span[0] >= b for a, b in taken):
            taken.append(span)
    if len(taken) < count:
        raise SystemExit(f"could place only {len(taken)} of {count} bookings in the hours")
    return [Busy(a.astimezone(ZONE), b.astimezone(ZONE)) for a, b in sorted(taken)]


# ----------------------------------------------------------------------------------------- brute force


def brute_force(
    rules: Rules, duration: timedelta, now: datetime, time_off: Sequence[Busy], bookings: Sequence[Busy]
) -> list[datetime]:
    """Every whole minute of [now + notice, now + horizon) that passes the six rules, checked naively
    (weekly hours only: the scenario has no extra hours)."""
    zone = ZoneInfo(rules.time_zone)
    lo = now.astimezone(UTC) + rules.notice
    first = lo.replace(second=0, microsecond=0) + (MINUTE if lo.second or lo.microsecond else timedelta(0))
    last = now.astimezone(UTC) + rules.horizon
    span = duration // MINUTE
    count = -(-(last - first) // MINUTE)
    size = count + span + 1
    working = bytearray(size)
    day, final = first.astimezone(zone).date() - timedelta(days=2), last.astimezone(zone).date()
    while day <= final + timedelta(days=2):
        for hours in rules.weekly:
            if hours.weekday == day.weekday():
                a = datetime(day.year, day.month, day.day, hours.start.hour, hours.start.minute, tzinfo=zone)
                b = datetime(day.year, day.month, day.day, hours.end.hour, hours.end.minute, tzinfo=zone)
                i, j = max((a - first) // MINUTE, 0), min((b - first) // MINUTE, size)
                if i < j:
                    working[i:j] = b"\x01" * (j - i)
        day += timedelta(days=1)
    for off in time_off:
        i, j = max((off.start - first) // MINUTE, 0), min(-(-(off.end - first) // MINUTE), size)
        if i < j:
            working[i:j] = bytes(j - i)
    fits = list(accumulate(working, initial=0))
    step = rules.step // MINUTE
    before, after = rules.buffer_before, rules.buffer_after
    busy = [(b.start.astimezone(UTC) - before, b.end.astimezone(UTC) + after) for b in bookings]
    found = []
    for i in range(count):
        s = first + i * MINUTE
        wall = s.astimezone(zone)
        if (wall.hour * 60 + wall.minute) % step or fits[i + span] - fits[i] != span:
            continue
        session = (s - before, s + duration + after)
        if all(session[1] <= a or session[0] >= b for a, b in busy):
            found.append(wall)
    return found


# ------------------------------------------------------------------------------------------- measuring


def timed(call: Callable[[], object], repeats: int, *, warm: bool = True) -> tuple[list[float], object]:
    """(seconds per call, the last answer); `warm` makes one untimed call first (caches, allocator)."""
    answer = call() if warm else None
    seconds = []
    for _ in range(max(repeats, 1)):
        started = clock.perf_counter()
        answer = call()
        seconds.append(clock.perf_counter() - started)
    return seconds, answer


def p95(seconds: list[float]) -> float:
    return statistics.quantiles(seconds, n=20)[-1]


def main(argv: Sequence[str] | None = None) -> None:
    args = parse_args(argv)
    bookings = make_bookings(args.bookings, args.seed)
    print(
        f"{TIME_ZONE}: Mon-Fri 08-12 + 13-19, Sat 09-13; {DURATION // MINUTE}-minute sessions on a "
        f"{RULES.step // MINUTE}-minute grid, {RULES.buffer_after // MINUTE} min buffer after, "
        f"{RULES.notice // timedelta(hours=1)} h notice, {RULES.horizon.days}-day horizon; "
        f"{len(bookings)} bookings (seed {args.seed}), {len(TIME_OFF)} blocks of time off; "
        f"now = {NOW:%Y-%m-%d %H:%M} UTC"
    )

    def engine() -> list[datetime]:
        return free_slots(
            RULES,
            duration=DURATION,
            now=NOW,
            start=NOW,
            end=NOW + RULES.horizon,
            time_off=TIME_OFF,
            bookings=bookings,
        )

    def first() -> datetime | None:
        return next_free_slot(RULES, duration=DURATION, now=NOW, time_off=TIME_OFF, bookings=bookings)

    def scan() -> list[datetime]:
        return brute_force(RULES, DURATION, NOW, TIME_OFF, bookings)

    engine_s, slots = timed(engine, args.repeats)
    first_s, soonest = timed(first, args.repeats)
    scan_s, scanned = timed(scan, args.brute_repeats, warm=False)  # a second-long call needs no warming
    assert isinstance(slots, list) and isinstance(scanned, list)
    agree = [s.astimezone(UTC) for s in slots] == [s.astimezone(UTC) for s in scanned]
    assert agree, "the engine and the brute-force scan disagree"
    assert soonest is not None and slots and soonest.astimezone(UTC) == slots[0].astimezone(UTC)

    print()
    print(f"{'method':<34}{'calls':>7}{'p50 ms':>11}{'p95 ms':>11}{'slots':>8}")
    rows = [
        ("free_slots, 90 days", engine_s, len(slots)),
        ("next_free_slot", first_s, 1),
        ("brute-force minute scan, 90 days", scan_s, len(scanned)),
    ]
    for name, seconds, found in rows:
        spread = f"{p95(seconds) * 1000:11.3f}" if len(seconds) >= 10 else f"{'-':>11}"
        print(f"{name:<34}{len(seconds):>7}{statistics.median(seconds) * 1000:11.3f}{spread}{found:>8}")
    ratio = statistics.median(scan_s) / statistics.median(engine_s)
    print()
    print(f"engine and brute force agree ({len(slots)} slots); first slot {soonest:%Y-%m-%d %H:%M %Z}")
    print(f"brute force / engine (p50): {ratio:,.0f}x")


if __name__ == "__main__":
    main()
