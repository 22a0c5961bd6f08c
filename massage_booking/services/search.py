"""Geographic therapist search: who is near, qualified and in-network, nearest first, a page at a time.

How a search runs, and why it is fast (DESIGN.md, "Known traps: Geo search costs at 1,000,000 points"):
1. One SQL query returns only (therapist id, location id, latitude, longitude) for the practice locations
   inside the bounding box of the search circle (`domain.geo.bounding_box`), read from a latitude/
   longitude index (see LATITUDE_SLICES_PER_DEGREE for the one that makes this cheap at a million
   locations). Every filter (oncology training, network, modality, language, accepting new patients) is
   an EXISTS on the location's therapist, so SQL discards the rows and no object is built for them.
2. Python measures each of those rows (`domain.geo.DistanceFrom`, geopy's great-circle formula, about
   1 µs a row; see geo.py for why great-circle rather than geodesic), cuts the box's corners (the radius),
   keeps each therapist's nearest location, sorts, counts and slices the page.
3. Only the page's therapists (at most `per_page`) are loaded, as read-only cards with everything a result
   shows, in six fixed Core queries (`services/result_cards.py`; ORM objects cost most of the budget).

Ties in distance (two therapists at the same ZIP centroid) are broken by therapist id, and a therapist's
two equally near locations by location id, so paging is stable: the pages concatenate to the whole list.
"""

from __future__ import annotations

import functools
import heapq
import math
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any

from sqlalchemy import Select, bindparam, literal_column, or_, select
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.orm import Session
from sqlalchemy.sql.functions import FunctionElement

from massage_booking import geocoding
from massage_booking.domain import evidence
from massage_booking.domain.course_search import CourseSearch
from massage_booking.domain.errors import ValidationFailed
from massage_booking.domain.geo import (
    MILES,
    UNITS,
    DistanceFrom,
    bounding_box,
    latitude_slices,
)
from massage_booking.models import (
    CredentialStatus,
    InsurancePlan,
    NetworkMembership,
    OncologyCredential,
    PracticeLocation,
    TherapistLanguage,
    TherapistModality,
    TherapistProfile,
)
from massage_booking.models.therapists import LATITUDE_SLICE, LATITUDE_SLICES_PER_DEGREE
from massage_booking.schemas.search import (
    MAX_RADIUS,
    MAX_WITHIN_DAYS,
    PER_PAGE_DEFAULT,
    PER_PAGE_MAX,
    SORTS,
    SearchParams,
)
from massage_booking.services import course_fit, soonest_cache
from massage_booking.services.result_cards import LocationCard, TherapistCard, load_cards

# Why latitude slices: see ix_practice_locations_lat_slice in models/therapists.py. `latitude_slices` lists
# enough slices for SQLite's truncating and PostgreSQL's rounding CAST alike.
_LATITUDE_SLICE = LATITUDE_SLICE


@dataclass(frozen=True)
class SearchQuery:
    """A validated search. `radius` is in `unit`; `condition` is an evidence-registry condition id."""

    origin: geocoding.Place
    radius: float
    unit: str
    today: date
    oncology_trained: bool = False
    plan_id: int | None = None
    condition: str | None = None
    modality: str | None = None
    language: str | None = None
    accepting_new_patients: bool = False
    available_within_days: int | None = None
    sort: str = "distance"
    page: int = 1
    per_page: int = PER_PAGE_DEFAULT
    # The instant "soonest available" is measured from; None means the moment the search runs.
    now: datetime | None = None
    # Only therapists with whom this whole course fits; "soonest" then means the course's first session.
    course: CourseSearch | None = None

    def __post_init__(self) -> None:
        # SearchParams gives users the friendly messages; these guard programmatic callers.
        if self.unit not in UNITS:
            raise ValueError(f"unit must be one of {UNITS}")
        if not (0 < self.radius <= MAX_RADIUS[self.unit]):
            raise ValueError(f"radius must be in (0, {MAX_RADIUS[self.unit]}] {self.unit}")
        if self.sort not in SORTS:
            raise ValueError(f"sort must be one of {SORTS}")
        if self.page < 1 or not 1 <= self.per_page <= PER_PAGE_MAX:
            raise ValueError(f"page must be >= 1 and per_page in 1..{PER_PAGE_MAX}")
        if self.available_within_days is not None and not 1 <= self.available_within_days <= MAX_WITHIN_DAYS:
            raise ValueError(f"available_within_days must be in 1..{MAX_WITHIN_DAYS}")

    @property
    def needs_availability(self) -> bool:
        """Whether every candidate's soonest free start is needed (to sort or filter by it), rather than
        only the shown page's. A course search sorts by the course's first session instead."""
        sorts_by_it = self.sort == "soonest" and self.course is None
        return sorts_by_it or self.available_within_days is not None

    @property
    def needs_oncology_training(self) -> bool:
        """Asked for explicitly, or implied by the condition: someone treated for cancer (or with a
        condition the registry says needs it) should only be shown therapists trained in oncology
        massage (reference/evidence.md, "credentials")."""
        if self.oncology_trained:
            return True
        if self.course is not None and self.course.requires_oncology_training:
            return True
        if self.condition is None:
            return False
        found = evidence.condition(self.condition)
        if found is None:
            raise ValidationFailed.for_field("condition", f'We do not know the condition "{self.condition}".')
        return found.cancer_related or found.requires_oncology_trained_therapist


@dataclass(frozen=True)
class SearchHit:
    """One therapist in the results, at their practice location nearest the origin."""

    therapist: TherapistCard
    location: LocationCard
    distance: float  # in `unit`, unrounded
    unit: str = MILES
    next_available: datetime | None = None  # soonest free start of the usual session length (UTC)
    course_start: datetime | None = None  # a course search: the first session of the soonest whole course


@dataclass(frozen=True)
class SearchResults:
    query: SearchQuery
    hits: list[SearchHit]
    total: int
    page: int
    per_page: int

    @property
    def pages(self) -> int:
        """Pages needed for `total` results; at least 1, so "page 1 of 1" reads right for no results."""
        return max(1, math.ceil(self.total / self.per_page))

    @property
    def has_prev(self) -> bool:
        return self.page > 1

    @property
    def has_next(self) -> bool:
        return self.page < self.pages


# --- the query ---------------------------------------------------------------------------------------

_Row = tuple[float, int, int]  # (distance, therapist id, location id)


def validation_context(session: Session) -> dict[str, Any]:
    """What validating SearchParams needs from outside the query string (schemas/search.py)."""
    return {
        "locate": geocoding.locate,
        "plan_exists": lambda plan_id: session.get(InsurancePlan, plan_id) is not None,
    }


def query_of(params: SearchParams, today: date) -> SearchQuery:
    """The search the validated parameters ask for, as of `today`."""
    return SearchQuery(
        origin=params.near,
        radius=params.radius,
        unit=params.unit,
        today=today,
        oncology_trained=params.oncology_trained,
        plan_id=params.insurance,
        condition=params.condition,
        modality=params.modality,
        language=params.language,
        accepting_new_patients=params.accepting_new_patients,
        available_within_days=params.available_within_days,
        sort=params.order,
        page=params.page,
        per_page=params.per_page,
        course=params.course_search,
    )


# --- searching ----------------------------------------------------------------------------------------


def search_therapists(session: Session, query: SearchQuery) -> SearchResults:
    """One page of the therapists with a practice location within `query.radius` of the origin.

    Sort "distance" is nearest first. Sort "soonest" is earliest free start first (of each therapist's
    usual session length, `services.soonest_cache.next_available`), nearest first among equals, and
    therapists with nothing free within their booking horizon last, by distance.
    `available_within_days` keeps only therapists free within that many days.

    A page past the end is not an error: it has no hits and still reports the true total.
    """
    origin = (query.origin.latitude, query.origin.longitude)
    measure = DistanceFrom(origin, query.unit)
    radius = query.radius

    stmt, params = _candidates(query)
    nearest: dict[int, tuple[float, int]] = {}  # therapist id -> (distance, location id)
    for therapist_id, location_id, latitude, longitude in session.execute(stmt, params):
        d = measure(latitude, longitude)
        if d <= radius:
            best = nearest.get(therapist_id)
            if best is None or (d, location_id) < best:
                nearest[therapist_id] = (d, location_id)

    now = query.now or datetime.now(UTC)
    start = (query.page - 1) * query.per_page
    ranked = sorted((d, therapist_id, location_id) for therapist_id, (d, location_id) in nearest.items())
    known: dict[int, datetime | None] = {}  # current soonest starts worked out on the way
    course_starts: dict[int, datetime] = {}
    if query.course is not None:
        course = query.course
        ids = [therapist_id for _, therapist_id, _ in ranked]
        course_starts = course_fit.soonest_starts(session, ids, course.request, course.wishes, now)
        ranked = [row for row in ranked if row[1] in course_starts]
        if query.sort == "soonest":
            ranked.sort(key=lambda row: (course_starts[row[1]], row))
    if query.needs_availability:
        soonest = _Soonest(session, [therapist_id for _, therapist_id, _ in ranked], now)
        if query.available_within_days is not None:
            ranked = soonest.within(ranked, now + timedelta(days=query.available_within_days))
        if query.sort == "soonest" and query.course is None:
            ranked = soonest.first(ranked, start + query.per_page)
        known = soonest.exact
    window = ranked[start : start + query.per_page]
    return SearchResults(
        query=query,
        hits=_hits(session, window, query.unit, known, now, course_starts),
        total=len(ranked),
        page=query.page,
        per_page=query.per_page,
    )


def _candidates(query: SearchQuery) -> tuple[Select[tuple[int, int, float, float]], dict[str, Any]]:
    """The statement listing (therapist id, location id, latitude, longitude) of the locations in the box
    that pass the filters, and its parameters."""
    box = bounding_box((query.origin.latitude, query.origin.longitude), query.radius, query.unit)
    params: dict[str, Any] = {
        "slices": latitude_slices(box, LATITUDE_SLICES_PER_DEGREE),
        "min_lat": box.min_latitude,
        "max_lat": box.max_latitude,
        "today": query.today,
        "plan_id": query.plan_id,
        "modality": query.modality,
        "language": query.language,
    }
    for n, (west, east) in enumerate(box.longitudes):
        params[f"west{n}"], params[f"east{n}"] = west, east
    stmt = _candidates_statement(
        len(box.longitudes),
        query.needs_oncology_training,
        query.plan_id is not None,
        query.modality is not None,
        query.language is not None,
        query.accepting_new_patients,
    )
    return stmt, params


@functools.cache
def _candidates_statement(
    longitude_ranges: int, oncology: bool, plan: bool, modality: bool, language: bool, accepting: bool
) -> Select[tuple[int, int, float, float]]:
    """The candidates query for one combination of filters, built once and reused with new parameters
    (building and caching-keying a statement costs about 0.4 ms, a tenth of the search's budget).

    The latitude-slice term says nothing the latitude range does not, but with an index on
    (`_LATITUDE_SLICE`, longitude, ...) it lets the database seek each thin slice straight to the box's
    longitudes instead of reading every location in the box's latitude band across the whole country
    (ix_practice_locations_lat_slice).
    """
    location = PracticeLocation.__table__.c
    therapist_id = location.therapist_id
    longitude = [
        location.longitude.between(bindparam(f"west{n}"), bindparam(f"east{n}"))
        for n in range(longitude_ranges)
    ]
    stmt = select(therapist_id, location.id, location.latitude, location.longitude).where(
        _LATITUDE_SLICE.in_(bindparam("slices", expanding=True)),
        location.latitude.between(bindparam("min_lat"), bindparam("max_lat")),
        longitude[0] if len(longitude) == 1 else or_(*longitude),
    )
    if oncology:
        credential = OncologyCredential.__table__.c
        stmt = stmt.where(
            _exists(
                credential.therapist_id == therapist_id,
                # Keeps SQLite off ix_oncology_credentials_status_expiry, see _SqliteUnindexed.
                _SqliteUnindexed(credential.status) == CredentialStatus.VERIFIED,
                or_(
                    credential.expires_on.is_(None),
                    credential.expires_on >= bindparam("today", type_=credential.expires_on.type),
                ),
            )
        )
    if plan:
        network = NetworkMembership.__table__.c
        stmt = stmt.where(
            _exists(network.therapist_id == therapist_id, network.plan_id == bindparam("plan_id"))
        )
    if modality:
        modalities = TherapistModality.__table__.c
        stmt = stmt.where(
            _exists(modalities.therapist_id == therapist_id, modalities.modality == bindparam("modality"))
        )
    if language:
        languages = TherapistLanguage.__table__.c
        stmt = stmt.where(
            _exists(languages.therapist_id == therapist_id, languages.language == bindparam("language"))
        )
    if accepting:
        profile = TherapistProfile.__table__.c
        stmt = stmt.where(_exists(profile.id == therapist_id, profile.accepting_new_patients.is_(True)))
    return stmt


class _SqliteUnindexed(FunctionElement[Any]):
    """A column that SQLite must not look up through an index: rendered `+column` on SQLite (its
    documented way to disqualify a term from an index), the plain column elsewhere.

    Why: without statistics (nobody runs ANALYZE) SQLite may rate ix_oncology_credentials_status_expiry,
    which starts with the status, as good as an index that starts with therapist_id. Every location in the
    box then scans all verified credentials: a 25-mile search at 100,000 therapists took 25-35 seconds
    instead of milliseconds. With the status term disqualified, SQLite seeks
    ix_oncology_credentials_therapist_status_expiry by therapist_id and reads the rest from the index.
    """

    inherit_cache = True

    def __init__(self, column: Any) -> None:
        super().__init__(column)
        self.type = column.type


@compiles(_SqliteUnindexed)
def _compile_column(element: _SqliteUnindexed, compiler: Any, **kw: Any) -> str:
    return compiler.process(element.clauses, **kw)


@compiles(_SqliteUnindexed, "sqlite")
def _compile_unindexed_column_for_sqlite(element: _SqliteUnindexed, compiler: Any, **kw: Any) -> str:
    return "+" + compiler.process(element.clauses, **kw)


def _exists(*conditions: Any) -> Any:
    """EXISTS (SELECT 1 ...): unlike SQLAlchemy's default SELECT *, it lets SQLite answer from an index
    alone when the index holds every column the conditions name (measured: about a third faster)."""
    return select(literal_column("1")).where(*conditions).exists()


class _Soonest:
    """Each candidate's soonest free start, worked out only as far as a search needs it.

    Cached starts that still hold are exact. A stale one is a lower bound (time passing only removes
    starts from the front), so sorting by the cached values and recomputing a stale one only when it
    reaches the front gives the true order while recomputing few (each costs about 1.5 ms, see
    benchmarks/README.md). The filter recomputes the stale ones whose bound is inside its cutoff.
    """

    def __init__(self, session: Session, therapist_ids: list[int], now: datetime) -> None:
        self.session, self.now = session, now
        self.cached = soonest_cache.cached_next_available(session, therapist_ids)
        self.exact: dict[int, datetime | None] = {}
        for therapist_id in therapist_ids:
            at, until = self.cached.get(therapist_id, (None, None))
            if therapist_id not in self.cached:
                self.exact[therapist_id] = None  # never saved hours
            elif until is not None and until >= now:
                self.exact[therapist_id] = at
            elif at is None:  # a stale "nothing free" gives no bound to sort by: find out now (rare)
                self._compute(therapist_id)

    def _compute(self, therapist_id: int) -> datetime | None:
        cached = self.cached[therapist_id]
        found = soonest_cache.current_next_available(self.session, therapist_id, cached, self.now)
        self.exact[therapist_id] = found
        return found

    def _bound(self, therapist_id: int) -> datetime | None:
        if therapist_id in self.exact:
            return self.exact[therapist_id]
        return self.cached[therapist_id][0]

    def within(self, ranked: list[_Row], cutoff: datetime) -> list[_Row]:
        """The rows whose soonest start is before `cutoff`, in the same order."""
        kept = []
        for row in ranked:
            bound = self._bound(row[1])
            if bound is None or bound >= cutoff:
                continue  # exact, or a lower bound already too late
            if row[1] not in self.exact:
                bound = self._compute(row[1])
            if bound is not None and bound < cutoff:
                kept.append(row)
        return kept

    def first(self, ranked: list[_Row], count: int) -> list[_Row]:
        """`ranked` (in distance order) soonest first, exact for the first `count`; therapists with
        nothing free come last, in distance order."""
        heap = [self._key(n, row) for n, row in enumerate(ranked)]
        heapq.heapify(heap)
        done: list[_Row] = []
        while heap and len(done) < count:
            key = heapq.heappop(heap)
            row = ranked[key[2]]
            if row[1] in self.exact:
                done.append(row)
            else:
                self._compute(row[1])
                heapq.heappush(heap, self._key(key[2], row))
        return done + [ranked[key[2]] for key in sorted(heap)]

    def _key(self, n: int, row: _Row) -> tuple[bool, datetime, int]:
        bound = self._bound(row[1])
        return (bound is None, bound or self.now, n)  # n, the distance rank, breaks ties


def _hits(
    session: Session,
    window: list[_Row],
    unit: str,
    known: Mapping[int, datetime | None],
    now: datetime,
    course_starts: Mapping[int, datetime],
) -> list[SearchHit]:
    therapists, locations = load_cards(
        session,
        [therapist_id for _, therapist_id, _ in window],
        [location_id for _, _, location_id in window],
    )
    hits = []
    for d, therapist_id, location_id in window:
        card = therapists[therapist_id]
        if therapist_id in known:
            soonest = known[therapist_id]
        elif not card.has_availability_settings:
            soonest = None  # never saved hours
        else:
            cached = (card.next_available_at, card.next_available_valid_until)
            soonest = soonest_cache.current_next_available(session, therapist_id, cached, now)
        hits.append(
            SearchHit(
                therapist=card,
                location=locations[location_id],
                distance=d,
                unit=unit,
                next_available=soonest,
                course_start=course_starts.get(therapist_id),
            )
        )
    return hits
