"""Search by course fit at 1,000,000 therapists (issue 15): 25 miles around dense metro ZIPs, 20 results.

Run: `make bench BENCH=course_fit`, or .venv/bin/python benchmarks/course_fit.py [--therapists 1000000]
[--metros 10016,60611,94103] [--rounds 30] [--skip-http].

Data: search.py's cached seeded SQLite file (the same seed and schema, seeded once if missing: 4-8 minutes
and about 2 GB at 1,000,000). Every search runs as of the seeding instant, as search.py's do: the cached
soonest free starts are valid then, and the course fits computed then stay valid for that instant.

Steps:
1. **Fill** (cold). For each metro and each course shape, one search with an empty cache: it computes and
   stores every candidate's course fit (services/course_fit.py: the planner on the therapist's real
   calendar). Printed: rows computed, seconds, ms per therapist. This is what a search would cost without
   the cache (the "planner per candidate" baseline below), and what `flask refresh-availability` pays per
   row. Rows already in the file from an earlier run at the same instant are reused (the fill is skipped).
2. **Timed** (warm), per scenario, `--rounds` searches per metro, p50 and p95 in milliseconds:
   - service: `search_therapists(session, SearchQuery(course=...))`, a fresh Session per query;
   - HTTP: `GET /api/v1/therapists?near=<ZIP>&radius=25&course=...` through the Flask test client;
   - baselines timed in the same run on the same origins: the same search without `course` sorted by
     distance (`plain`), and sorted by the cached soonest free start (`soonest`, issue 4's cache).
   Ratios: service/plain, and cold/service (what the cache saves: the fill's per-therapist cost times the
   candidates, over the warm p50).
3. **Check**: for the first page of every scenario and metro, each listed therapist's course start is
   recomputed from scratch (`course_fit.compute`) and must be the same; the count that agree is printed.
No time is asserted (benchmarks/README.md).
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import partial
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))  # search.py beside this file

from search import ensure_schema, frozen_search_clock, sqlite_file  # noqa: E402
from sqlalchemy import create_engine, func, select  # noqa: E402
from sqlalchemy.orm import Session  # noqa: E402

from massage_booking import create_app, geocoding  # noqa: E402
from massage_booking.demo.data import DEFAULT_SEED  # noqa: E402
from massage_booking.domain.course_search import CourseSearch  # noqa: E402
from massage_booking.models import AvailabilitySettings, CourseFitCache  # noqa: E402
from massage_booking.schemas.parse import parse_query  # noqa: E402
from massage_booking.schemas.search import SearchParams  # noqa: E402
from massage_booking.services import course_fit  # noqa: E402
from massage_booking.services.search import SearchQuery, search_therapists  # noqa: E402

RADIUS = 25.0
PER_PAGE = 20
WEEKDAYS = "monday,tuesday,wednesday,thursday,friday"


@dataclass(frozen=True)
class Scenario:
    label: str
    course: str
    weekdays: str = ""
    times: str = ""

    def parsed(self) -> CourseSearch:
        params = {"near": "60611", **self.params()}
        found = parse_query(SearchParams, params, {"locate": geocoding.locate}).course_search
        assert found is not None
        return found

    def params(self) -> dict[str, str]:
        found = {"course": self.course}
        if self.weekdays:
            found["weekdays"] = self.weekdays
        if self.times:
            found["time_of_day"] = self.times
        return found


SCENARIOS = (
    Scenario("neck pain 8x60 2/wk", "chronic_neck_pain"),
    Scenario("  + weekday mornings", "chronic_neck_pain", WEEKDAYS, "morning"),
    Scenario("  + evenings", "chronic_neck_pain", "", "evening"),
    Scenario("CIPN 12x30 3/wk (onc.)", "cipn"),
    Scenario("  + Mon/Wed/Fri", "cipn", "monday,wednesday,friday"),
)


def parse_args(argv: Sequence[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--therapists", type=int, default=1_000_000)
    parser.add_argument("--seed", type=int, default=DEFAULT_SEED, help="seed_demo's seed (search.py's)")
    parser.add_argument("--metros", default="10016,60611,94103", help="dense metro ZIPs, comma-separated")
    parser.add_argument("--rounds", type=int, default=30, help="timed searches per metro and scenario")
    parser.add_argument("--skip-http", action="store_true")
    parser.add_argument(
        "--cache-dir", type=Path, default=Path(tempfile.gettempdir()) / "massage_booking_bench"
    )
    return parser.parse_args(argv)


def ms(seconds: float) -> str:
    return f"{seconds * 1000:,.1f}"


def p95(values: Sequence[float]) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(0.95 * (len(ordered) - 1)))]


def timed(call: Callable[[], object], rounds: int) -> tuple[list[float], object]:
    call()  # untimed: statement caches, page cache
    seconds, result = [], None
    for _ in range(rounds):
        t0 = time.perf_counter()
        result = call()
        seconds.append(time.perf_counter() - t0)
    return seconds, result


def get(client: Any, params: dict[str, str]) -> int:
    response = client.get("/api/v1/therapists", query_string=params)
    if response.status_code != 200:
        raise RuntimeError(f"GET /api/v1/therapists {params} -> {response.status_code}: {response.text}")
    return int(response.get_json()["total"])


def main(argv: Sequence[str] | None = None) -> None:
    args = parse_args(argv)
    path, seeded = sqlite_file(args.therapists, args.seed, args.cache_dir, fresh=False)
    if seeded is not None:
        print(f"  seeded in {seeded:.0f} s")
    url = f"sqlite:///{path}"
    app = create_app("testing", {"SQLALCHEMY_DATABASE_URI": url})
    engine = create_engine(url)
    with app.app_context():
        ensure_schema(engine)
    with Session(engine) as session:
        as_of = session.scalar(select(func.max(AvailabilitySettings.updated_at)))
    assert as_of is not None
    metros = [(z, geocoding.locate(z, field="near")) for z in args.metros.split(",")]
    print(f"{args.therapists:,} therapists ({path.name}); searching as of {as_of:%Y-%m-%d %H:%M} UTC")

    def query(
        place: geocoding.Place, course: CourseSearch | None, sort: str, oncology: bool = False
    ) -> SearchQuery:
        return SearchQuery(
            origin=place,
            radius=RADIUS,
            unit="mi",
            today=as_of.date(),
            course=course,
            sort=sort,
            per_page=PER_PAGE,
            now=as_of,
            oncology_trained=oncology,
        )

    def service(
        place: geocoding.Place, course: CourseSearch | None, sort: str = "soonest", oncology: bool = False
    ) -> Any:
        with Session(engine) as session:
            results = search_therapists(session, query(place, course, sort, oncology))
            session.commit()
            return results

    # 1. Fill.
    print("\nFill (cold: every candidate's course fit computed and stored by one search)")
    cold_ms_per_row: dict[tuple[int, int, int], float] = {}
    for scenario in SCENARIOS:
        course = scenario.parsed()
        key = tuple(course_fit.key_of(course.request).values())
        if key in cold_ms_per_row:
            continue
        for zip_code, place in metros:
            with Session(engine) as session:
                before = session.scalar(select(func.count()).select_from(CourseFitCache))
            t0 = time.perf_counter()
            results = service(place, course)
            seconds = time.perf_counter() - t0
            with Session(engine) as session:
                rows = session.scalar(select(func.count()).select_from(CourseFitCache)) - before
            if rows:
                cold_ms_per_row[key] = seconds * 1000 / rows
                print(
                    f"  {scenario.label.strip():<24} {zip_code}: {rows:,} rows in {seconds:.1f} s "
                    f"({seconds * 1000 / rows:.1f} ms per therapist), {results.total:,} fit"
                )
            else:
                print(f"  {scenario.label.strip():<24} {zip_code}: cache already filled ({seconds:.2f} s)")
    # 2. Timed.
    client = app.test_client()
    header = (
        f"\n{'scenario':<26}{'candidates':>11}{'fit':>7}  {'service p50/p95 ms':>19}  {'HTTP p50/p95':>14}"
        f"  {'plain p50':>9}  {'soonest p50':>11}  {'svc/plain':>9}  {'cold/svc':>9}"
    )
    print(header)
    all_service: list[float] = []
    agree = checked = 0
    for scenario in SCENARIOS:
        course = scenario.parsed()
        key = tuple(course_fit.key_of(course.request).values())
        svc: list[float] = []
        http: list[float] = []
        plain: list[float] = []
        soonest: list[float] = []
        candidates: list[int] = []
        fits: list[int] = []
        for zip_code, place in metros:
            seconds, results = timed(partial(service, place, course), args.rounds)
            svc += seconds
            fits.append(results.total)
            # Baselines: the same candidates (the course's oncology requirement as a plain filter).
            onc = course.requires_oncology_training
            seconds, base = timed(partial(service, place, None, "distance", onc), args.rounds)
            plain += seconds
            candidates.append(base.total)
            seconds, _ = timed(partial(service, place, None, "soonest", onc), args.rounds)
            soonest += seconds
            if not args.skip_http:
                params = {"near": zip_code, "radius": f"{RADIUS:g}", "per_page": str(PER_PAGE)}
                params.update(scenario.params())
                with frozen_search_clock(as_of):
                    seconds, _ = timed(partial(get, client, params), args.rounds)
                http += seconds
            with Session(engine) as session:
                for hit in results.hits:
                    fit, _ = course_fit.compute(session, hit.therapist.id, course.request, as_of)
                    checked += 1
                    wishes = course.wishes
                    agree += fit.soonest(wishes.weekdays, wishes.times_of_day) == hit.course_start
        all_service += svc
        p50 = statistics.median(svc)
        cold = cold_ms_per_row.get(key)
        cold_ratio = f"{cold / 1000 * statistics.median(candidates) / p50:,.0f}x" if cold else "-"
        http_col = f"{ms(statistics.median(http))}/{ms(p95(http))}" if http else "-"
        print(
            f"{scenario.label:<26}{statistics.median(candidates):>11,.0f}{statistics.median(fits):>7,.0f}  "
            f"{ms(p50) + '/' + ms(p95(svc)):>19}  {http_col:>14}  {ms(statistics.median(plain)):>9}  "
            f"{ms(statistics.median(soonest)):>11}  {p50 / statistics.median(plain):>8.1f}x  {cold_ratio:>9}"
        )
    print(
        f"\n{args.therapists:,} therapists, course-fit search, {RADIUS:g} mi around {args.metros}, "
        f"{PER_PAGE} results: service p50 = {ms(statistics.median(all_service))} ms, "
        f"p95 = {ms(p95(all_service))} ms "
        f"(target p50 <= 100 ms); first pages recomputed from scratch agree {agree}/{checked}"
    )
    print(f"(run at {datetime.now(UTC):%Y-%m-%d %H:%M} UTC)")


if __name__ == "__main__":
    main()
