"""Geographic search at 100,000 and 1,000,000 therapists, against a k-d tree and a naive scan.

Run: `make bench`, or .venv/bin/python benchmarks/search.py [--therapists 100000] [--backends sqlite]
(see benchmarks/README.md for every option and what each figure means).

Why it is built this way:
- Timings mean nothing across machines, so every figure is paired with two baselines measured in the same
  run, on the same rows, from the same origins: a scipy cKDTree (what an in-memory spatial index costs, the
  floor) and a naive scan computing the service's own geopy distance to every row (what the index saves).
- Origins are the centroids of random active STANDARD ZIPs (a seeded RNG), so most are rural and a few
  are in dense metros: p50 shows the typical search, p95 the metro one.
- Seeding a million therapists takes minutes, so the seeded SQLite file is cached in the temp directory,
  keyed by N, the data seed and the shape of the seeded tables; when the models' indexes change, the
  cached file's indexes are brought in line instead of reseeding. PostgreSQL is a throwaway cluster
  (tests/pg_cluster.py), seeded every run.
- Availability (issue 4): searches run "as of" the seeding instant, when every cached soonest start is
  valid (the state `flask refresh-availability` keeps a deployment in); the seeded file is reused for days,
  and searching it at the real time would time the stale-cache fallback instead, which is measured on its
  own (`compute_next_available` per therapist).
- Nothing is asserted: the acceptance line prints the measured figures next to their targets.
"""

from __future__ import annotations

import argparse
import hashlib
import math
import random
import statistics
import sys
import tempfile
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import numpy as np
from flask.testing import FlaskClient
from geopy.distance import EARTH_RADIUS
from scipy.spatial import cKDTree
from sqlalchemy import Engine, Table, and_, create_engine, func, or_, select
from sqlalchemy.orm import Session
from sqlalchemy.schema import CreateTable
from tqdm import tqdm

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from massage_booking import create_app, geocoding  # noqa: E402
from massage_booking.demo.data import DEFAULT_SEED, ZipPoint, geography, seed_demo  # noqa: E402
from massage_booking.domain.geo import KM_PER_MILE  # noqa: E402
from massage_booking.extensions import db  # noqa: E402
from massage_booking.models import (  # noqa: E402
    AvailabilitySettings,
    Base,
    CredentialStatus,
    InsurancePlan,
    NetworkMembership,
    OncologyCredential,
    Payer,
    PracticeLocation,
    TherapistProfile,
)

SIZES = (100_000, 1_000_000)
RADII = (10.0, 25.0, 50.0)
FILTERS = ("none", "oncology", "oncology+plan")
PER_PAGE = 20
# geopy's great-circle sphere, which the service measures on; the tree works on the unit sphere.
EARTH_RADIUS_MILES = EARTH_RADIUS / KM_PER_MILE
ACCEPTANCE_N, ACCEPTANCE_RADIUS, ACCEPTANCE_FILTER = 1_000_000, 25.0, "oncology"
TARGET_SERVICE_MS, TARGET_TREE_RATIO, TARGET_NAIVE_RATIO = 5.0, 50.0, 1000.0
WARMUP_QUERIES = 10  # per method, before its timed pass (code paths, statement caches, connections)
# The tables seed_demo fills: their DDL is part of the cache key, other tables are created empty.
# (appointments: the demo therapist's five sessions, which the slot engine reads.)
SEEDED_TABLES = (
    "users",
    "payers",
    "insurance_plans",
    "therapist_profiles",
    "practice_locations",
    "oncology_credentials",
    "therapist_modalities",
    "therapist_languages",
    "network_memberships",
    "availability_settings",
    "weekly_hours",
    "appointments",
)
NO_SLOT = np.iinfo(np.int64).max  # a therapist's next_available when nothing is free: sorts last
PAGE_CHECK_ORIGINS = 20  # origins whose first page the service and the tree must agree on, per scenario
FALLBACK_THERAPISTS = 200  # random therapists compute_next_available is timed on


@dataclass(frozen=True)
class Scenario:
    radius: float
    filter: str
    sort: str = "distance"  # or "soonest"
    within_days: int | None = None  # available_within_days

    @property
    def oncology(self) -> bool:
        return self.filter != "none"

    @property
    def plan(self) -> bool:
        return self.filter == "oncology+plan"

    @property
    def needs_availability(self) -> bool:
        """Whether the service looks up every candidate's soonest start (not only the page's)."""
        return self.sort == "soonest" or self.within_days is not None

    @property
    def label(self) -> str:
        label = f"{self.radius:g} mi, {self.filter}"
        if self.sort != "distance":
            label += f", {self.sort}"
        if self.within_days is not None:
            label += f", free in {self.within_days} days"
        return label


DISTANCE_SCENARIOS = tuple(Scenario(radius, name) for radius in RADII for name in FILTERS)
# Sorted or filtered by the soonest free start: the service reads the cached start of every candidate.
AVAILABILITY_SCENARIOS = (
    Scenario(25.0, "oncology", sort="soonest"),
    Scenario(25.0, "oncology", within_days=7),
    # Seeded therapists all have a start within about 4 days (24-72 h notice), so 7 days keeps every one;
    # 2 days drops some (how many depends on the weekday the file was seeded).
    Scenario(25.0, "oncology", within_days=2),
    Scenario(50.0, "none", sort="soonest"),  # the most candidates: the metro worst case
)
SCENARIOS = DISTANCE_SCENARIOS + AVAILABILITY_SCENARIOS


@dataclass
class Cell:
    """The measurements of one scenario: seconds per query, per method."""

    service: list[float] = field(default_factory=list)
    http: list[float] = field(default_factory=list)
    tree: list[float] = field(default_factory=list)
    naive: list[float] = field(default_factory=list)
    totals: list[int] = field(default_factory=list)  # service's `total` per query
    tree_totals: list[int] = field(default_factory=list)
    truncated: set[str] = field(default_factory=set)  # methods stopped early by --budget
    pages_checked: int = 0  # origins whose first page (ids, in order) was compared with the tree's
    pages_same: int = 0
    page_mismatch: str = ""  # the first difference, to debug


# --------------------------------------------------------------------------------------------- options


def parse_args(argv: Sequence[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--therapists",
        type=lambda raw: [int(part.replace("_", "").replace(",", "")) for part in raw.split("+")],
        default=list(SIZES),
        help="N, or sizes joined by '+' (default 100000+1000000)",
    )
    parser.add_argument("--backends", default="sqlite,postgres", help="comma-separated: sqlite,postgres")
    parser.add_argument("--queries", type=int, default=1000, help="origins per scenario (default 1000)")
    parser.add_argument(
        "--naive-queries",
        type=int,
        default=5,
        help="origins the naive scan is timed on (a full scan costs ~0.1 ms per row); default 5",
    )
    parser.add_argument(
        "--budget",
        type=float,
        default=120.0,
        help="seconds per scenario and method before the remaining queries are skipped (default 120)",
    )
    parser.add_argument(
        "--seed", type=int, default=DEFAULT_SEED, help="seed_demo's seed (part of the cache key)"
    )
    parser.add_argument("--query-seed", type=int, default=1, help="seed of the RNG that picks origins")
    parser.add_argument("--fresh", action="store_true", help="reseed the cached SQLite file")
    parser.add_argument(
        "--cache-dir",
        type=Path,
        default=Path(tempfile.gettempdir()) / "massage_booking_bench",
        help="where seeded SQLite files are kept between runs",
    )
    parser.add_argument("--skip-http", action="store_true", help="time the service call only")
    parser.add_argument(
        "--warmup",
        type=int,
        default=None,
        help="origins searched untimed per scenario before timing (default: all of them; 0 times cold)",
    )
    return parser.parse_args(argv)


# ------------------------------------------------------------------------------------------- databases


def _seeded_tables() -> list[Table]:
    return [Base.metadata.tables[name] for name in SEEDED_TABLES]


def schema_fingerprint() -> str:
    """A short hash of the seeded tables' CREATE TABLE statements: a changed column means a reseed."""
    from sqlalchemy.dialects import sqlite

    ddl = "\n".join(str(CreateTable(t).compile(dialect=sqlite.dialect())) for t in _seeded_tables())
    return hashlib.sha256(ddl.encode()).hexdigest()[:10]


def ensure_schema(engine: Engine) -> None:
    """Make the cached file's indexes those the models define now: create the new ones, drop the ones the
    models no longer have (an index left behind could change the query plan), so that a new search index
    costs seconds, not a reseed. Names come from sqlite_master: SQLAlchemy does not reflect expression
    indexes."""
    Base.metadata.create_all(engine)
    if engine.dialect.name != "sqlite":
        return
    with engine.begin() as conn:
        existing = dict(
            conn.exec_driver_sql(
                "SELECT name, tbl_name FROM sqlite_master WHERE type = 'index' AND sql IS NOT NULL"
            ).all()
        )
        wanted = {index.name: index for table in Base.metadata.sorted_tables for index in table.indexes}
        for name, table in existing.items():
            if name not in wanted and table in Base.metadata.tables:
                conn.exec_driver_sql(f'DROP INDEX "{name}"')
                print(f"  dropped index {name} from the cached file (the models no longer define it)")
        for name, index in wanted.items():
            if name not in existing:
                started = time.perf_counter()
                index.create(conn)
                elapsed = time.perf_counter() - started
                print(f"  created index {name} on the cached file ({elapsed:.1f} s)")


def seed(engine: Engine, therapists: int, data_seed: int) -> float:
    """Seconds to seed `therapists` generated therapists into the (empty) database of `engine`."""
    Base.metadata.create_all(engine)
    started = time.perf_counter()
    with Session(engine) as session, tqdm(total=therapists, unit=" therapists", mininterval=5) as bar:
        seed_demo(
            session, therapists=therapists, seed=data_seed, commit_every_batch=True, progress=bar.update
        )
        session.commit()
    return time.perf_counter() - started


def sqlite_file(therapists: int, data_seed: int, cache_dir: Path, fresh: bool) -> tuple[Path, float | None]:
    """The cached seeded file for (N, seed, schema), seeding it first if missing or `fresh`.

    Seeding writes to a temporary name that is renamed when complete, so an interrupted seed is never
    mistaken for a finished one. Returns the path and the seeding time (None when it was reused).
    """
    cache_dir.mkdir(parents=True, exist_ok=True)
    path = cache_dir / f"search-{therapists}-seed{data_seed}-{schema_fingerprint()}.sqlite3"
    if path.exists() and not fresh:
        return path, None
    partial = path.with_suffix(".partial")
    for stale in (path, partial, *(Path(f"{p}{s}") for p in (path, partial) for s in ("-wal", "-shm"))):
        stale.unlink(missing_ok=True)
    print(f"  seeding {therapists:,} therapists into {path} (once; reused by later runs) ...")
    engine = create_engine(f"sqlite:///{partial}")
    elapsed = seed(engine, therapists, data_seed)
    engine.dispose()
    partial.rename(path)
    return path, elapsed


# --------------------------------------------------------------------------------------------- dataset


@dataclass
class Dataset:
    """Every practice location with its therapist, and the filters as boolean masks over locations."""

    therapist_ids: np.ndarray  # int64, per location
    latitudes: np.ndarray
    longitudes: np.ndarray
    xyz: np.ndarray  # unit-sphere coordinates, per location
    masks: dict[str, np.ndarray]  # filter name -> bool per location
    plan_id: int
    plan_name: str
    therapists: int
    availability: Availability

    @property
    def locations(self) -> int:
        return len(self.therapist_ids)


@dataclass
class Availability:
    """The cached soonest free starts, read once (untimed) for the baselines, and the instant they hold."""

    as_of: datetime  # the seeding instant: max(updated_at) of availability_settings
    next_available: np.ndarray  # int64 microseconds since the epoch, per therapist id; NO_SLOT if none
    rows: int  # availability_settings rows
    stale_at_as_of: int  # rows whose cache has expired at `as_of` (the service recomputes those)

    def cutoff(self, days: int) -> int:
        """`as_of` + `days`, in the units of `next_available`: the within-days filter keeps starts < it."""
        return micros(self.as_of + timedelta(days=days))


EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def micros(moment: datetime) -> int:
    return (moment - EPOCH) // timedelta(microseconds=1)


def load_availability(session: Session, size: int) -> Availability:
    """Every therapist's cached next_available_at as an array indexed by therapist id, and the instant to
    search as of. Searching at that instant, every cached value is the answer (each was computed then and
    is valid until its `next_available_valid_until`), so the array is what the service must return."""
    settings = AvailabilitySettings.__table__.c
    as_of = session.scalar(select(func.max(settings.updated_at)))
    if as_of is None:
        raise RuntimeError("no availability_settings: was the database seeded with hours?")
    soonest = np.full(size, NO_SLOT, dtype=np.int64)
    rows = 0
    for therapist_id, at in session.execute(select(settings.therapist_id, settings.next_available_at)):
        rows += 1
        if at is not None and therapist_id < size:
            soonest[therapist_id] = micros(at)
    stale = session.scalar(
        select(func.count())
        .select_from(AvailabilitySettings)
        .where(settings.next_available_valid_until < as_of)
    )
    return Availability(as_of=as_of, next_available=soonest, rows=rows, stale_at_as_of=stale or 0)


def unit_xyz(lat: np.ndarray, lon: np.ndarray) -> np.ndarray:
    phi, lam = np.radians(lat), np.radians(lon)
    return np.column_stack((np.cos(phi) * np.cos(lam), np.cos(phi) * np.sin(lam), np.sin(phi)))


def busiest_plan(session: Session) -> tuple[int, str]:
    """The plan with the most in-network therapists: the filter a typical insured patient applies."""
    members = func.count(NetworkMembership.therapist_id)
    plan_id = session.scalar(
        select(NetworkMembership.plan_id)
        .group_by(NetworkMembership.plan_id)
        .order_by(members.desc(), NetworkMembership.plan_id)
        .limit(1)
    )
    if plan_id is None:
        raise RuntimeError("no network memberships: was the database seeded?")
    plan = session.get(InsurancePlan, plan_id)
    payer = session.get(Payer, plan.payer_id) if plan else None
    return plan_id, f"{payer.name if payer else '?'} {plan.name if plan else '?'}"


def load_dataset(engine: Engine, today: date) -> Dataset:
    """Read the rows the baselines search (not timed): the same rows the service searches."""
    with Session(engine) as session:
        rows = session.execute(
            select(PracticeLocation.therapist_id, PracticeLocation.latitude, PracticeLocation.longitude)
        ).all()
        therapists = session.scalar(select(func.count()).select_from(TherapistProfile)) or 0
        active = and_(
            OncologyCredential.status == CredentialStatus.VERIFIED,
            or_(OncologyCredential.expires_on.is_(None), OncologyCredential.expires_on >= today),
        )
        trained = session.scalars(select(OncologyCredential.therapist_id).where(active).distinct()).all()
        plan_id, plan_name = busiest_plan(session)
        in_plan = session.scalars(
            select(NetworkMembership.therapist_id).where(NetworkMembership.plan_id == plan_id)
        ).all()
        tids = np.fromiter((r[0] for r in rows), dtype=np.int64, count=len(rows))
        size = int(tids.max()) + 1
        soonest = load_availability(session, size)
    lat = np.fromiter((r[1] for r in rows), dtype=np.float64, count=len(rows))
    lon = np.fromiter((r[2] for r in rows), dtype=np.float64, count=len(rows))
    by_therapist_trained = np.zeros(size, dtype=bool)
    by_therapist_trained[np.asarray(trained, dtype=np.int64)] = True
    by_therapist_plan = np.zeros(size, dtype=bool)
    by_therapist_plan[np.asarray(in_plan, dtype=np.int64)] = True
    trained_mask = by_therapist_trained[tids]
    return Dataset(
        therapist_ids=tids,
        latitudes=lat,
        longitudes=lon,
        xyz=unit_xyz(lat, lon),
        masks={
            "none": np.ones(len(tids), dtype=bool),
            "oncology": trained_mask,
            "oncology+plan": trained_mask & by_therapist_plan[tids],
        },
        plan_id=plan_id,
        plan_name=plan_name,
        therapists=therapists,
        availability=soonest,
    )


# --------------------------------------------------------------------------------------------- origins


@dataclass(frozen=True)
class Origin:
    zip_code: str
    place: geocoding.Place


def pick_origins(count: int, query_seed: int) -> list[Origin]:
    """Centroids of `count` random active STANDARD ZIPs (drawn with replacement), as the geocoder places
    them: the API is asked with the ZIP, the service and the baselines get the same Place (made untimed)."""
    rng = random.Random(query_seed)
    zips: tuple[ZipPoint, ...] = geography().everywhere
    chosen = [rng.choice(zips) for _ in range(count)]
    return [Origin(z.zip_code, geocoding.locate(z.zip_code)) for z in chosen]


# ------------------------------------------------------------------------------------------- measuring


def _timed_loop(
    origins: Sequence[Origin], budget: float, call: Callable[[Origin], int | None]
) -> tuple[list[float], list[int], bool]:
    """Run `call` on each origin; (seconds per call, its results, whether the budget cut it short)."""
    timings, results = [], []
    started = time.perf_counter()
    for origin in origins:
        t0 = time.perf_counter()
        result = call(origin)
        timings.append(time.perf_counter() - t0)
        if result is not None:
            results.append(result)
        if time.perf_counter() - started > budget:
            return timings, results, len(timings) < len(origins)
    return timings, results, False


def service_search(
    engine: Engine, scenario: Scenario, plan_id: int, today: date, as_of: datetime
) -> Callable[[Origin], tuple[int, list[int]]]:
    """The service's (total, first page's therapist ids) for an origin, searching as of `as_of`."""
    from massage_booking.services.search import SearchQuery, search_therapists

    def call(origin: Origin) -> tuple[int, list[int]]:
        query = SearchQuery(
            origin=origin.place,
            radius=scenario.radius,
            unit="mi",
            today=today,
            oncology_trained=scenario.oncology,
            plan_id=plan_id if scenario.plan else None,
            available_within_days=scenario.within_days,
            sort=scenario.sort,
            page=1,
            per_page=PER_PAGE,
            now=as_of,
        )
        # A fresh session per query, as a request gets: nothing is served from an identity map.
        with Session(engine) as session:
            results = search_therapists(session, query)
            return results.total, [hit.therapist.id for hit in results.hits]

    return call


def service_runner(
    engine: Engine, scenario: Scenario, plan_id: int, today: date, as_of: datetime
) -> Callable[[Origin], int]:
    search = service_search(engine, scenario, plan_id, today, as_of)
    return lambda origin: search(origin)[0]


@contextmanager
def frozen_search_clock(instant: datetime) -> Iterator[list[int]]:
    """Make `services.search` read `instant` as the current time, from the benchmark's side: the API takes
    no `now`, and the app has no test hook for one (nor should it). Replaces the module's `datetime` name
    with a subclass whose now() is `instant`; yields a one-item list counting the calls, so the caller can
    tell whether the search still reads its clock that way (if not, HTTP cannot be searched as of
    `instant`)."""
    from massage_booking.services import search as module

    real = module.datetime
    calls = [0]

    class Frozen(real):
        @classmethod
        def now(cls, tz: Any = None) -> datetime:
            calls[0] += 1
            return instant.astimezone(tz) if tz is not None else instant.replace(tzinfo=None)

    module.datetime = Frozen
    try:
        yield calls
    finally:
        module.datetime = real


def http_runner(client: FlaskClient, scenario: Scenario, plan_id: int) -> Callable[[Origin], int]:
    def call(origin: Origin) -> int:
        params = {"near": origin.zip_code, "radius": f"{scenario.radius:g}", "unit": "mi", "page": "1"}
        params["per_page"] = str(PER_PAGE)
        if scenario.oncology:
            params["oncology_trained"] = "true"
        if scenario.plan:
            params["insurance"] = str(plan_id)
        if scenario.sort != "distance":
            params["sort"] = scenario.sort
        if scenario.within_days is not None:
            params["available_within_days"] = str(scenario.within_days)
        response = client.get("/api/v1/therapists", query_string=params)
        if response.status_code != 200:
            raise RuntimeError(f"GET /api/v1/therapists {params} -> {response.status_code}: {response.text}")
        return int(response.get_json()["total"])

    return call


class TreeBaseline:
    """scipy cKDTree over unit-sphere points: ball query with the chord of the radius, then the filter
    mask, nearest location per therapist, and the sorted first page. The tree is built once (untimed).
    For the availability scenarios it then looks up each candidate's soonest start in an array (loaded
    untimed, what the service's cache holds), filters and sorts by (start, distance, id) in numpy."""

    def __init__(self, data: Dataset) -> None:
        self.data = data
        started = time.perf_counter()
        self.tree = cKDTree(data.xyz)
        self.build_seconds = time.perf_counter() - started

    def runner(self, scenario: Scenario) -> Callable[[Origin], int]:
        search = self.search(scenario)
        return lambda origin: search(origin)[0]

    def search(self, scenario: Scenario) -> Callable[[Origin], tuple[int, np.ndarray]]:
        """(total, the first page's therapist ids) for an origin."""
        data, mask = self.data, self.data.masks[scenario.filter]
        chord = 2 * math.sin(scenario.radius / EARTH_RADIUS_MILES / 2)
        soonest = data.availability.next_available
        cutoff = None if scenario.within_days is None else data.availability.cutoff(scenario.within_days)
        by_soonest = scenario.sort == "soonest"

        def call(origin: Origin) -> tuple[int, np.ndarray]:
            lat, lon = origin.place.latitude, origin.place.longitude
            centre = unit_xyz(np.array([lat]), np.array([lon]))[0]
            hits = np.asarray(self.tree.query_ball_point(centre, chord), dtype=np.int64)
            hits = hits[mask[hits]]
            chords = np.linalg.norm(data.xyz[hits] - centre, axis=1)
            miles = 2 * EARTH_RADIUS_MILES * np.arcsin(np.minimum(chords / 2, 1.0))
            order = np.argsort(miles, kind="stable")
            _, first = np.unique(data.therapist_ids[hits][order], return_index=True)
            nearest = order[first]  # each therapist's nearest location
            if not scenario.needs_availability:
                if len(nearest) > PER_PAGE:
                    nearest = nearest[np.argpartition(miles[nearest], PER_PAGE - 1)[:PER_PAGE]]
                page = nearest[np.argsort(miles[nearest], kind="stable")]
                return len(first), data.therapist_ids[hits][page]  # the page, as the service returns it
            ids, distances = data.therapist_ids[hits][nearest], miles[nearest]
            starts = soonest[ids]
            if cutoff is not None:
                keep = starts < cutoff
                ids, distances, starts = ids[keep], distances[keep], starts[keep]
            # np.lexsort sorts by the last key first: (soonest start, distance, id), or (distance, id).
            ranked = np.lexsort((ids, distances, starts) if by_soonest else (ids, distances))
            return len(ids), ids[ranked[:PER_PAGE]]

        return call


class NaiveBaseline:
    """A Python loop computing the service's distance function from the origin to every row, then the
    filter, the radius, the nearest location per therapist and a sort. The distances do not depend on the
    scenario, so they are computed once per origin and their time is added to every scenario's own
    filter-and-sort time: the same total as nine separate scans, at a ninth of the wait."""

    def __init__(self, data: Dataset, distance: Callable[[tuple[float, float], tuple[float, float]], float]):
        self.data = data
        self.distance = distance
        self.rows = list(
            zip(
                data.therapist_ids.tolist(),
                data.latitudes.tolist(),
                data.longitudes.tolist(),
                strict=True,
            )
        )
        self.masks = {name: mask.tolist() for name, mask in data.masks.items()}
        self.soonest = data.availability.next_available.tolist()

    def measure(
        self, origins: Sequence[Origin], scenarios: Sequence[Scenario], cells: dict[Scenario, Cell]
    ) -> None:
        distance = self.distance
        for origin in tqdm(origins, unit=" full scans", desc="  naive scan", mininterval=5, leave=False):
            here = (origin.place.latitude, origin.place.longitude)
            t0 = time.perf_counter()
            miles = [distance(here, (lat, lon)) for _, lat, lon in self.rows]
            scan = time.perf_counter() - t0
            for scenario in scenarios:
                t0 = time.perf_counter()
                mask = self.masks[scenario.filter]
                best: dict[int, float] = {}
                for (tid, _, _), d, keep in zip(self.rows, miles, mask, strict=True):
                    if keep and d <= scenario.radius and d < best.get(tid, math.inf):
                        best[tid] = d
                if scenario.within_days is not None:
                    cutoff = self.data.availability.cutoff(scenario.within_days)
                    best = {tid: d for tid, d in best.items() if self.soonest[tid] < cutoff}
                if scenario.sort == "soonest":
                    soonest = self.soonest
                    sorted(best.items(), key=lambda item: (soonest[item[0]], item[1], item[0]))[:PER_PAGE]
                else:
                    sorted(best.items(), key=lambda item: (item[1], item[0]))[:PER_PAGE]
                cells[scenario].naive.append(scan + time.perf_counter() - t0)


def service_distance() -> tuple[Callable[[tuple[float, float], tuple[float, float]], float], str]:
    """The distance function the search service uses (geopy's great circle, in miles), and its name."""
    from massage_booking.domain import geo

    return geo.distance, "massage_booking.domain.geo.distance (geopy great_circle)"


# ----------------------------------------------------------------------------------------------- report


def ms(seconds: float) -> str:
    value = seconds * 1000
    return f"{value:.3f}" if value < 1 else f"{value:.2f}" if value < 100 else f"{value:,.0f}"


def p50(values: Sequence[float]) -> float:
    return statistics.median(values) if values else math.nan


def p95(values: Sequence[float]) -> float:
    if len(values) < 2:
        return values[0] if values else math.nan
    return statistics.quantiles(values, n=100, method="inclusive")[94]


def ratio(a: float, b: float) -> str:
    if not (a > 0 and b > 0) or math.isnan(a) or math.isnan(b):
        return "-"
    value = a / b
    return f"{value:,.0f}x" if value >= 100 else f"{value:.1f}x"


LABEL_WIDTH = max(24, *(len(scenario.label) + 1 for scenario in SCENARIOS))


def print_table(cells: dict[Scenario, Cell], naive_note: str, queries: int, budget: float) -> None:
    header = (
        f"{'scenario':<{LABEL_WIDTH}}{'n':>6}  {'service p50/p95 ms':>20}  {'HTTP p50/p95 ms':>20}  "
        f"{'cKDTree p50/p95 ms':>20}  {'naive p50 ms':>13}  {'svc/tree':>9}{'http/tree':>10}"
        f"{'naive/svc':>11}{'naive/http':>11}  {'results p50/max':>16}"
    )
    print(header)
    print("-" * len(header))
    for scenario, cell in cells.items():
        cut = "*" if cell.truncated else ""
        svc, http, tree = p50(cell.service), p50(cell.http), p50(cell.tree)
        print(
            f"{scenario.label:<{LABEL_WIDTH}}{len(cell.service):>5}{cut:1}  "
            f"{_pair(cell.service):>20}  {_pair(cell.http):>20}  {_pair(cell.tree):>20}  "
            f"{ms(p50(cell.naive)) if cell.naive else '-':>13}  "
            f"{ratio(svc, tree):>9}{ratio(http, tree):>10}"
            f"{ratio(p50(cell.naive), svc):>11}{ratio(p50(cell.naive), http):>11}  "
            f"{_results(cell.totals):>16}"
        )
    print(naive_note)
    names = {"service": "service", "http": "HTTP", "tree": "cKDTree"}
    for scenario, cell in cells.items():
        if cell.truncated:
            timed = ", ".join(f"{names[m]} on {len(getattr(cell, m)):,}" for m in sorted(cell.truncated))
            print(
                f"* {scenario.label}: --budget ({budget:g} s per method) ran out; timed {timed} "
                f"of the {queries:,} origins (n is the service's count)"
            )


def _pair(values: Sequence[float]) -> str:
    return f"{ms(p50(values))} / {ms(p95(values))}" if values else "-"


def _results(totals: Sequence[int]) -> str:
    return f"{int(p50(totals)):,} / {max(totals):,}" if totals else "-"


def agreement(cells: dict[Scenario, Cell]) -> str:
    """How often the tree's result count matches the service's (a check that both answered the same
    question; they measure on the same sphere, so only a point on the circle to the last bit could
    differ), by kind of scenario; and, for the availability scenarios, whether the first pages match."""
    lines = []
    for kind, scenarios in (("distance", DISTANCE_SCENARIOS), ("availability", AVAILABILITY_SCENARIOS)):
        same = close = checked = 0
        for scenario in scenarios:
            cell = cells[scenario]
            for ours, theirs in zip(cell.totals, cell.tree_totals, strict=False):
                checked += 1
                same += ours == theirs
                close += abs(ours - theirs) <= max(1, 0.01 * theirs)
        if checked:
            lines.append(
                f"result counts, service vs cKDTree, {kind} scenarios: identical on {same:,} of "
                f"{checked:,} queries, within 1% on {close:,}"
            )
    for scenario in AVAILABILITY_SCENARIOS:
        cell = cells[scenario]
        if cell.pages_checked:
            line = (
                f"first page (ids in order), service vs cKDTree, {scenario.label}: identical on "
                f"{cell.pages_same} of the first {cell.pages_checked} origins"
            )
            lines.append(line + (f"; first difference: {cell.page_mismatch}" if cell.page_mismatch else ""))
    return "\n".join(lines) if lines else "result counts: not compared"


def check_pages(
    cell: Cell,
    origins: Sequence[Origin],
    service: Callable[[Origin], tuple[int, list[int]]],
    tree: Callable[[Origin], tuple[int, np.ndarray]],
) -> None:
    """Compare the service's first page (therapist ids, in order) with the tree's, untimed: the sort by
    (no slot last, soonest start, distance, id) or the within-days filter must pick the same therapists."""
    for origin in origins:
        (total, ours), (tree_total, theirs) = service(origin), tree(origin)
        cell.pages_checked += 1
        if ours == theirs.tolist():
            cell.pages_same += 1
        elif not cell.page_mismatch:
            cell.page_mismatch = (
                f"ZIP {origin.zip_code}: service {total:,} results, page {ours[:5]}...; "
                f"cKDTree {tree_total:,}, page {theirs.tolist()[:5]}..."
            )


def acceptance_line(backend: str, therapists: int, cells: dict[Scenario, Cell]) -> str:
    """Issue 3's acceptance figures (25 mi + oncology, by distance), then the same targets applied to the
    availability scenarios of the same search (issue 4: keep search within its targets)."""
    lines = []
    for scenario in (Scenario(ACCEPTANCE_RADIUS, ACCEPTANCE_FILTER), *AVAILABILITY_SCENARIOS[:2]):
        cell = cells[scenario]
        svc, tree, naive = p50(cell.service), p50(cell.tree), p50(cell.naive)
        what = f"{ACCEPTANCE_RADIUS:g} mi + oncology" + scenario.label.removeprefix(
            f"{ACCEPTANCE_RADIUS:g} mi, oncology"
        )
        lines.append(
            f"{therapists:,} therapists, {what}: service p50 = {svc * 1000:.2f} ms "
            f"(target <= {TARGET_SERVICE_MS:g} ms), {svc / tree:.1f} x cKDTree "
            f"(target <= {TARGET_TREE_RATIO:g}x), "
            f"naive/service = {naive / svc:,.0f} (target >= {TARGET_NAIVE_RATIO:,.0f}x)  [{backend}]"
        )
    return "\n".join(lines)


def measure_fallback(engine: Engine, data: Dataset, query_seed: int) -> tuple[list[float], datetime]:
    """Seconds per `compute_next_available` for FALLBACK_THERAPISTS random therapists at the real current
    time: what search pays per candidate whose cache has expired, and `flask refresh-availability` per
    therapist. Ten other therapists are computed first, untimed."""
    from massage_booking.services.soonest_cache import compute_next_available

    rng = random.Random(query_seed)
    therapists = np.unique(data.therapist_ids).tolist()
    chosen = rng.sample(therapists, min(len(therapists), FALLBACK_THERAPISTS + WARMUP_QUERIES))
    now = datetime.now(UTC)
    timings = []
    with Session(engine) as session:
        for n, therapist_id in enumerate(chosen):
            t0 = time.perf_counter()
            compute_next_available(session, therapist_id, now)
            if n >= WARMUP_QUERIES:
                timings.append(time.perf_counter() - t0)
    return timings, now


def stale_at(engine: Engine, moment: datetime) -> int:
    """availability_settings rows whose cached soonest start has expired at `moment`."""
    settings = AvailabilitySettings.__table__.c
    with Session(engine) as session:
        return (
            session.scalar(
                select(func.count())
                .select_from(AvailabilitySettings)
                .where(settings.next_available_valid_until < moment)
            )
            or 0
        )


# ------------------------------------------------------------------------------------------------- runs


@contextmanager
def postgres_database(therapists: int, data_seed: int) -> Iterator[tuple[str, float]]:
    """A throwaway cluster seeded with the same data as the SQLite file; yields (URL, seed seconds)."""
    from tests import pg_cluster

    cluster = pg_cluster.PostgresCluster()
    try:
        url = cluster.start()
        engine = create_engine(url)
        print(f"  seeding {therapists:,} therapists into a throwaway PostgreSQL cluster ...")
        elapsed = seed(engine, therapists, data_seed)
        with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            conn.exec_driver_sql("VACUUM ANALYZE")  # what autovacuum would do after a bulk load, now
        engine.dispose()
        yield url, elapsed
    finally:
        cluster.stop()


def measure(  # noqa: C901
    backend: str,
    url: str,
    therapists: int,
    origins: list[Origin],
    args: argparse.Namespace,
    today: date,
) -> dict[Scenario, Cell]:
    app = create_app("testing", {"SQLALCHEMY_DATABASE_URI": url})
    with app.app_context():
        engine = db.engine
        ensure_schema(engine)
        t0 = time.perf_counter()
        data = load_dataset(engine, today)
        tree = TreeBaseline(data)
        avail = data.availability
        print(
            f"  {data.therapists:,} therapists at {data.locations:,} locations; "
            f"{int(data.masks['oncology'].sum()):,} locations of oncology-trained therapists, "
            f"{int(data.masks['oncology+plan'].sum()):,} of those in plan #{data.plan_id} "
            f"({data.plan_name}); {avail.rows:,} with hours, "
            f"{int((avail.next_available != NO_SLOT).sum()):,} with a cached free start; "
            f"rows loaded and tree built in {time.perf_counter() - t0:.1f} s (untimed)"
        )
        cells = {scenario: Cell() for scenario in SCENARIOS}
        client = app.test_client()
        http_note = ""
        # Every search (distance ones too: they look up the page's soonest starts) runs as of the seeding
        # instant. The service is told so (SearchQuery.now); the API cannot be, so services.search's clock
        # is set to that instant while the endpoint is timed (see frozen_search_clock).
        with frozen_search_clock(avail.as_of) as clock_reads:
            http_frozen = False
            if not args.skip_http:
                http_runner(client, DISTANCE_SCENARIOS[0], data.plan_id)(origins[0])
                http_frozen = clock_reads[0] > 0
                if not http_frozen:
                    http_note = (
                        "HTTP could NOT be searched as of the seeding instant (services.search no longer "
                        "reads its clock as datetime.now): the availability scenarios were skipped for "
                        "HTTP, and its distance rows include recomputing the page's expired soonest starts"
                    )
            for scenario in tqdm(SCENARIOS, desc=f"  {backend} scenarios", unit=" scenario", leave=False):
                cell = cells[scenario]
                runners: list[tuple[str, Callable[[Origin], int]]] = [
                    ("tree", tree.runner(scenario)),
                    ("service", service_runner(engine, scenario, data.plan_id, today, avail.as_of)),
                ]
                if not args.skip_http and (http_frozen or not scenario.needs_availability):
                    runners.append(("http", http_runner(client, scenario, data.plan_id)))
                # An untimed service pass reads every page these searches touch, so that the service and
                # the endpoint (timed one after the other) both see a warm database: without it the first
                # timed method pays the disk reads and the second does not.
                warm = origins if args.warmup is None else origins[: args.warmup]
                _timed_loop(warm, args.budget, runners[1][1])
                for name, run in runners:
                    for origin in origins[:WARMUP_QUERIES]:
                        run(origin)
                    timings, results, cut = _timed_loop(origins, args.budget, run)
                    setattr(cell, name, timings)
                    if name == "service":
                        cell.totals = results
                    elif name == "tree":
                        cell.tree_totals = results
                    if cut:
                        cell.truncated.add(name)
                if scenario.needs_availability:
                    check_pages(
                        cell,
                        origins[:PAGE_CHECK_ORIGINS],
                        service_search(engine, scenario, data.plan_id, today, avail.as_of),
                        tree.search(scenario),
                    )
        distance, distance_name = service_distance()
        naive_origins = origins[: args.naive_queries]
        if naive_origins:
            NaiveBaseline(data, distance).measure(naive_origins, SCENARIOS, cells)
        fallback, real_now = measure_fallback(engine, data, args.query_seed)
        stale_now = stale_at(engine, real_now)
    naive_note = (
        f"naive: {distance_name} to all {data.locations:,} rows, timed on the first {len(naive_origins)} of "
        f"the {len(origins):,} origins (each a full scan; p50 of those, taken as typical for all origins, "
        "since its cost does not depend on where the origin is); ratios use p50s"
    )
    print()
    warmed = "every origin" if args.warmup is None else f"{min(args.warmup, len(origins)):,} origins"
    print(
        f"{backend}, {therapists:,} therapists, {len(origins):,} origins, page 1 by {PER_PAGE}, "
        f"timed after an untimed warm-up pass over {warmed} per scenario;"
    )
    print(
        f"searched as of {avail.as_of:%Y-%m-%d %H:%M:%S} UTC, the seeding instant (max updated_at of "
        "availability_settings), when every cached soonest start is valid: the state "
        "`flask refresh-availability` keeps a deployment in "
        f"({avail.stale_at_as_of:,} of {avail.rows:,} expired at that instant). The service gets it as "
        "SearchQuery(now=...); the API takes no `now`, so services.search's clock is set to it for HTTP "
        "(the app is unchanged)."
    )
    if http_note:
        print(http_note)
    print_table(cells, naive_note, len(origins), args.budget)
    print(agreement(cells))
    print(fallback_note(fallback, real_now, stale_now, avail, cells))
    return cells


def fallback_note(
    timings: list[float], real_now: datetime, stale_now: int, avail: Availability, cells: dict[Scenario, Cell]
) -> str:
    soonest = cells[AVAILABILITY_SCENARIOS[0]]
    candidates = int(p50(soonest.totals)) if soonest.totals else 0
    age = (real_now - avail.as_of).total_seconds() / 3600
    return (
        f"fallback: compute_next_available(session, therapist, now) at the real current time, "
        f"{len(timings)} random therapists: p50 {ms(p50(timings))} ms, p95 {ms(p95(timings))} ms. "
        "Search pays this for each candidate whose cached soonest start has expired, and "
        "`flask refresh-availability` pays it per therapist (a cached start expires when it comes within the "
        "notice period, which during working hours is every slot step, 15-60 min). Right now, "
        f"{age:.1f} h after seeding, {stale_now:,} of {avail.rows:,} cached starts have expired: "
        f"without that refresh, a {AVAILABILITY_SCENARIOS[0].label} search (p50 {candidates:,} candidates) "
        f"would pay about {ms(candidates * p50(timings))} ms for them, and a distance search up to "
        f"{PER_PAGE} x p50 = {ms(PER_PAGE * p50(timings))} ms for its page."
    )


def main(argv: Sequence[str] | None = None) -> None:
    args = parse_args(argv)
    backends = [b.strip() for b in args.backends.split(",") if b.strip()]
    unknown = set(backends) - {"sqlite", "postgres"}
    if unknown:
        raise SystemExit(f"unknown backend(s): {', '.join(sorted(unknown))}")
    today = date.today()
    print(f"origins: {args.queries:,} random active STANDARD ZIP centroids (query seed {args.query_seed})")
    origins = pick_origins(args.queries, args.query_seed)
    acceptance: list[str] = []
    postgres_problem = None
    if "postgres" in backends:
        from tests import pg_cluster

        postgres_problem = pg_cluster.missing_tools()
    for therapists in args.therapists:
        for backend in backends:
            print(f"\n=== {backend}: {therapists:,} therapists ===")
            if backend == "sqlite":
                path, seconds = sqlite_file(therapists, args.seed, args.cache_dir, args.fresh)
                how = f"seeded in {seconds:.0f} s" if seconds else "cached; --fresh reseeds"
                print(f"  {path} ({how})")
                cells = measure(backend, f"sqlite:///{path}", therapists, origins, args, today)
            else:
                if postgres_problem:
                    print(f"  PostgreSQL SKIPPED: {postgres_problem}")
                    continue
                with postgres_database(therapists, args.seed) as (url, seconds):
                    print(f"  seeded in {seconds:.0f} s")
                    cells = measure(backend, url, therapists, origins, args, today)
            if therapists == ACCEPTANCE_N:
                acceptance.append(acceptance_line(backend, therapists, cells))
    print()
    if acceptance:
        for line in acceptance:
            print(line)
    else:
        print(f"acceptance: not measured (needs --therapists {ACCEPTANCE_N})")


if __name__ == "__main__":
    main()
