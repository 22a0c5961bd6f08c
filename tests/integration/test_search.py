"""The search service against a brute-force oracle, and the rules a patient relies on.

The property test builds a few hundred locations once (around New York, Anchorage, Honolulu, across the
antimeridian in the Aleutians, rural Nebraska and near the North Pole) and checks 300 random searches:
random origins, radii from a hair to the cap in miles or kilometres, random filter combinations and random
page sizes, every page fetched. The pages must concatenate to exactly the brute force's list.
"""

from __future__ import annotations

import math
import random

import pytest
from geopy.distance import great_circle
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import event, text

from massage_booking.api.search import summary_of
from massage_booking.domain.errors import ValidationFailed
from massage_booking.domain.vocabulary import MODALITIES
from massage_booking.extensions import db as flask_db
from massage_booking.schemas.parse import parse_query
from massage_booking.schemas.search import SearchParams
from massage_booking.services.search import (
    MAX_RADIUS,
    PER_PAGE_DEFAULT,
    SearchQuery,
    _candidates,
    query_of,
    search_therapists,
    validation_context,
)
from tests.integration.search_data import (
    ACTIVE,
    CONDITION_NEEDS_ONCOLOGY,
    EXPIRED,
    EXPIRES_TODAY,
    NO_EXPIRY,
    PENDING,
    PLAN_NAMES,
    REJECTED,
    TODAY,
    World,
    brute_force,
    place,
)

CENTERS = {
    "New York": (40.75, -73.99),
    "Anchorage": (61.2181, -149.9003),
    "Honolulu": (21.3069, -157.8583),
    "Aleutians, across the antimeridian": (51.9, -179.9),
    "rural Nebraska": (41.5, -99.5),
    "near the North Pole": (89.2, 30.0),
}
ORIGIN = (40.75, -73.99)


def search(db, origin=ORIGIN, radius=25.0, unit="mi", **kwargs):
    return search_therapists(
        db, SearchQuery(origin=place(*origin), radius=radius, unit=unit, today=TODAY, **kwargs)
    )


def at(origin: tuple[float, float], miles: float, bearing: float = 90.0) -> tuple[float, float]:
    """The point `miles` from `origin` on `bearing` (degrees), on geopy's great-circle sphere."""
    point = great_circle(miles=miles).destination(origin, bearing)
    return point.latitude, point.longitude


def ids(results) -> list[int]:
    return [hit.therapist.id for hit in results.hits]


@pytest.fixture
def world(db) -> World:
    return World(db)


# ------------------------------------------------------------------------------------ property test


def _random_point(rng: random.Random, center: tuple[float, float], max_miles: float) -> tuple[float, float]:
    lat, lon = at(center, rng.uniform(0, max_miles), rng.uniform(0, 360))
    return round(lat, 6), round(lon, 6)


@pytest.fixture
def big_world(world: World) -> World:
    """~220 therapists with ~290 locations: clusters, shared coordinates (ties), several locations each,
    every kind of credential, plans, modalities, languages and accepting flags mixed at random."""
    rng = random.Random(20250602)
    credential_mixes = [(), (), (ACTIVE,), (NO_EXPIRY,), (EXPIRES_TODAY,), (EXPIRED,), (PENDING,)]
    credential_mixes += [(REJECTED,), (EXPIRED, ACTIVE), (PENDING, REJECTED)]
    seen: list[tuple[float, float]] = []
    for _ in range(220):
        center = rng.choice(list(CENTERS.values()))
        if seen and rng.random() < 0.1:
            first = rng.choice(seen)  # same ZIP centroid as someone else: a tie in distance
        else:
            first = _random_point(rng, center, rng.choice((5, 20, 20, 60, 300)))
        locations = [first]
        for _ in range(rng.choice((0, 0, 0, 0, 1, 1, 2))):
            locations.append(_random_point(rng, first, 60))
        seen += locations
        world.add(
            *locations,
            credentials=rng.choice(credential_mixes),
            plans=tuple(rng.sample(PLAN_NAMES[:3], rng.randint(0, 3))),
            modalities=tuple(rng.sample(MODALITIES[:5], rng.randint(1, 3))),
            languages=("English", *rng.sample(("Spanish", "Korean"), rng.randint(0, 2))),
            accepting=rng.random() < 0.8,
            flush=False,
        )
    world.flush()
    return world


@st.composite
def origins(draw: st.DrawFn, world: World) -> tuple[float, float]:
    kind = draw(st.sampled_from(("near a cluster",) * 3 + ("anywhere in the US", "at a therapist")))
    if kind == "near a cluster":
        center = draw(st.sampled_from(sorted(CENTERS.values())))
        miles = draw(st.floats(0, 15))
        bearing = draw(st.floats(0, 360))
        return at(center, miles, bearing)
    if kind == "anywhere in the US":  # Alaska and Hawaii included
        return draw(st.floats(18.0, 72.0)), draw(st.floats(-180.0, -65.0))
    therapist = draw(st.sampled_from(sorted(world.therapists)))
    _, lat, lon = draw(st.sampled_from(world.therapists[therapist].locations))
    return lat, lon


@st.composite
def filters(draw: st.DrawFn, world: World) -> dict:
    """No filter, one filter, or any combination (a third of the time each), so results are seldom empty."""
    choices = {
        "oncology_trained": st.booleans(),
        "plan_id": st.sampled_from([None, *world.plans.values()]),
        "condition": st.sampled_from([None, *CONDITION_NEEDS_ONCOLOGY]),
        "modality": st.sampled_from([None, *MODALITIES[:6]]),
        "language": st.sampled_from([None, "English", "Spanish", "Korean", "German"]),
        "accepting_new_patients": st.booleans(),
    }
    chosen = {"oncology_trained": False, "accepting_new_patients": False}
    chosen |= dict.fromkeys(("plan_id", "condition", "modality", "language"))
    how_many = draw(st.sampled_from(("none", "one", "any")))
    if how_many == "one":
        name = draw(st.sampled_from(sorted(choices)))
        chosen[name] = draw(choices[name])
    elif how_many == "any":
        chosen |= {name: draw(strategy) for name, strategy in choices.items()}
    return chosen


def exact_distances(world: World, origin: tuple[float, float], unit: str) -> st.SearchStrategy[float]:
    """Radii that put some location exactly on the circle (geopy's distance to it, to the last bit)."""
    radii = []
    for therapist in world.therapists.values():
        for _, lat, lon in therapist.locations:
            d = great_circle(origin, (lat, lon))
            radii.append(d.miles if unit == "mi" else d.km)
    return st.sampled_from(sorted(r for r in radii if 0 < r <= MAX_RADIUS[unit]) or [1.0])


@settings(
    max_examples=300,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(data=st.data())
def test_search_equals_brute_force_in_distance_order_page_by_page(db, big_world: World, data):
    origin = data.draw(origins(big_world), label="origin")
    unit = data.draw(st.sampled_from(("mi", "km")), label="unit")
    cap = MAX_RADIUS[unit]
    radius = data.draw(
        st.one_of(
            st.just(cap),
            st.sampled_from((1e-6, 0.01)),
            st.floats(2, 60),
            st.floats(2, 60),
            st.floats(0.001, cap),
            exact_distances(big_world, origin, unit),
        ),
        label="radius",
    )
    chosen = data.draw(filters(big_world), label="filters")
    sort = data.draw(st.sampled_from(("distance", "soonest")), label="sort")
    expected = brute_force(big_world, origin, radius, unit, **chosen)

    # Pages small enough that there are several, large enough that the test stays quick.
    fewest = max(1, math.ceil(len(expected) / 6))
    per_page = data.draw(st.integers(fewest, min(100, fewest + 15)), label="per_page")
    pages = max(1, math.ceil(len(expected) / per_page))
    got = []
    for page in range(1, pages + 2):  # one past the end, which must be empty but still count
        results = search(db, origin, radius, unit, sort=sort, page=page, per_page=per_page, **chosen)
        assert results.total == len(expected)
        assert results.pages == pages
        assert len(results.hits) <= per_page
        for hit in results.hits:
            assert hit.location.therapist_id == hit.therapist.id
            assert hit.unit == unit and hit.next_available is None
            if chosen["oncology_trained"] or CONDITION_NEEDS_ONCOLOGY.get(chosen["condition"] or "", False):
                assert hit.therapist.active_oncology_credentials(TODAY)
        got += [(hit.therapist.id, hit.location.id, hit.distance) for hit in results.hits]
    assert results.hits == []
    assert got == expected


def test_same_results_with_the_latitude_slice_index_the_query_is_written_for(db, big_world: World):
    """The search uses the (CAST(latitude * 10 AS INTEGER), longitude, ...) index the model declares, and
    results are right south of the equator too (where SQLite's truncating and PostgreSQL's rounding CAST
    disagree about which slice a latitude is in)."""
    for point in ((-33.9, 151.2), (-33.95, 151.1), (-34.2, 150.9), (0.02, 10.0), (-0.03, 10.01)):
        big_world.add(point, flush=False)
    big_world.flush()
    if db.get_bind().dialect.name == "sqlite":  # PostgreSQL rightly scans tables this small
        query = SearchQuery(origin=place(*ORIGIN), radius=25, unit="mi", today=TODAY, oncology_trained=True)
        stmt, params = _candidates(query)
        sql = stmt.params(**params).compile(db.get_bind(), compile_kwargs={"literal_binds": True})
        plan = " ".join(row[3] for row in db.execute(text(f"EXPLAIN QUERY PLAN {sql}")))
        assert "COVERING INDEX ix_practice_locations_lat_slice" in plan, plan
        assert "ix_oncology_credentials_therapist_status_expiry (therapist_id=?)" in plan, plan
    for origin in [*CENTERS.values(), (-33.9, 151.2), (-0.05, 10.0)]:
        for radius in (1.0, 25.0, 250.0):
            expected = brute_force(big_world, origin, radius, "mi")
            results = search(db, origin, radius, per_page=100)
            assert [(h.therapist.id, h.location.id, h.distance) for h in results.hits] == expected[:100]
            assert results.total == len(expected)


# ------------------------------------------------------------------------------------ the radius


@pytest.mark.parametrize("unit", ["mi", "km"])
def test_radius_boundary_exactly_at_just_inside_and_just_outside(db, world, unit):
    where = at(ORIGIN, 7.3, 33.0)
    therapist = world.add(where)
    d = great_circle(ORIGIN, where)
    exact = d.miles if unit == "mi" else d.km

    assert ids(search(db, radius=exact, unit=unit)) == [therapist.id]  # exactly at the radius: in
    assert ids(search(db, radius=math.nextafter(exact, math.inf), unit=unit)) == [therapist.id]
    assert ids(search(db, radius=math.nextafter(exact, 0), unit=unit)) == []  # a hair short: out


def test_miles_and_kilometres_give_the_same_people_at_distances_in_the_chosen_unit(db, world):
    near, middle, far = (world.add(at(ORIGIN, miles, 200.0)) for miles in (5, 12, 30))

    in_miles = search(db, radius=10, unit="mi")
    in_km = search(db, radius=16.09344, unit="km")  # the same 10 miles
    assert ids(in_miles) == ids(in_km) == [near.id]
    assert in_miles.hits[0].distance == pytest.approx(5, rel=1e-9)
    assert in_km.hits[0].distance == pytest.approx(5 * 1.609344, rel=1e-9)
    assert in_km.hits[0].unit == "km"

    assert ids(search(db, radius=20, unit="km")) == [near.id, middle.id]  # 20 km is 12.4 miles
    assert ids(search(db, radius=20, unit="mi")) == [near.id, middle.id]
    assert ids(search(db, radius=50, unit="km")) == [near.id, middle.id, far.id]


def test_the_radius_is_capped_at_250_miles_or_400_km(db, world):
    with pytest.raises(ValueError):
        SearchQuery(origin=place(*ORIGIN), radius=250.01, unit="mi", today=TODAY)
    with pytest.raises(ValueError):
        SearchQuery(origin=place(*ORIGIN), radius=400.01, unit="km", today=TODAY)
    with pytest.raises(ValueError):
        SearchQuery(origin=place(*ORIGIN), radius=0, unit="mi", today=TODAY)
    therapist, beyond_km_cap = world.add(at(ORIGIN, 248, 10)), world.add(at(ORIGIN, 249.5, 10))
    assert ids(search(db, radius=250, unit="mi")) == [therapist.id, beyond_km_cap.id]
    assert ids(search(db, radius=400, unit="km")) == [therapist.id]  # 400 km is 248.55 miles


def test_finds_neighbours_across_the_antimeridian_and_around_the_pole(db, world):
    west_of_line = world.add((52.0, 179.95))  # Aleutians, the Asian side of 180°
    assert ids(search(db, origin=(52.0, -179.95), radius=10)) == [west_of_line.id]

    other_side_of_pole = world.add((89.99, 180.0))
    assert ids(search(db, origin=(89.99, 0.0), radius=5)) == [other_side_of_pole.id]


# ------------------------------------------------------------------------------------ the filters


def test_oncology_filter_shows_only_verified_unexpired_credentials(db, world):
    shown = {
        "active": world.add(ORIGIN, credentials=(ACTIVE,)),
        "no expiry": world.add(ORIGIN, credentials=(NO_EXPIRY,)),
        "expires today": world.add(ORIGIN, credentials=(EXPIRES_TODAY,)),
        "expired, renewed": world.add(ORIGIN, credentials=(EXPIRED, ACTIVE)),
    }
    hidden = {
        "none": world.add(ORIGIN),
        "expired": world.add(ORIGIN, credentials=(EXPIRED,)),
        "pending": world.add(ORIGIN, credentials=(PENDING,)),
        "rejected": world.add(ORIGIN, credentials=(REJECTED,)),
        "pending and rejected": world.add(ORIGIN, credentials=(PENDING, REJECTED)),
    }
    everyone = sorted(t.id for t in [*shown.values(), *hidden.values()])
    trained = sorted(t.id for t in shown.values())

    assert ids(search(db)) == everyone
    assert ids(search(db, oncology_trained=True)) == trained
    # A cancer-related condition implies the oncology filter; a general one adds no filter.
    assert ids(search(db, condition="cancer_related_pain")) == trained
    assert ids(search(db, condition="chronic_neck_pain")) == everyone
    # Tomorrow the credential expiring today no longer counts.
    tomorrow = search_therapists(
        db, SearchQuery(origin=place(*ORIGIN), radius=25, unit="mi", today=TODAY.replace(day=3),
                        oncology_trained=True)
    )  # fmt: skip
    assert shown["expires today"].id not in ids(tomorrow)


def test_each_filter_removes_exactly_the_therapist_who_fails_it(db, world):
    good = {
        "credentials": (ACTIVE,),
        "plans": ("Gold PPO",),
        "modalities": ("Manual lymphatic drainage", "Swedish massage"),
        "languages": ("English", "Spanish"),
        "accepting": True,
    }
    match = world.add(ORIGIN, **good)
    failing = {
        "oncology_trained": world.add(ORIGIN, **{**good, "credentials": (EXPIRED,)}),
        "plan_id": world.add(ORIGIN, **{**good, "plans": ("Silver HMO",)}),
        "modality": world.add(ORIGIN, **{**good, "modalities": ("Swedish massage",)}),
        "language": world.add(ORIGIN, **{**good, "languages": ("English",)}),
        "accepting_new_patients": world.add(ORIGIN, **{**good, "accepting": False}),
    }
    world.add(at(ORIGIN, 30), **good)  # matches everything but is outside the radius
    values = {
        "oncology_trained": True,
        "plan_id": world.plans["Gold PPO"],
        "modality": "Manual lymphatic drainage",
        "language": "Spanish",
        "accepting_new_patients": True,
    }
    everyone = sorted([match.id, *(t.id for t in failing.values())])
    assert ids(search(db)) == everyone
    for name, value in values.items():
        assert ids(search(db, **{name: value})) == sorted(set(everyone) - {failing[name].id}), name
    assert ids(search(db, **values)) == [match.id]
    assert ids(search(db, plan_id=world.plans["Empty POS"])) == []


def test_a_therapist_with_several_locations_appears_once_at_the_nearest_inside_the_radius(db, world):
    far, nearest, middle = at(ORIGIN, 400, 0), at(ORIGIN, 3, 180), at(ORIGIN, 8, 90)
    therapist = world.add(far, middle, nearest)
    other = world.add(at(ORIGIN, 5, 270))

    results = search(db, radius=25)
    assert ids(results) == [therapist.id, other.id]
    assert results.total == 2
    assert (results.hits[0].location.latitude, results.hits[0].location.longitude) == nearest
    assert results.hits[0].distance == pytest.approx(3, rel=1e-9)

    # Seen from near the far location only, the far location is the one that counts.
    results = search(db, origin=at(far, 1, 0), radius=10)
    assert ids(results) == [therapist.id]
    assert (results.hits[0].location.latitude, results.hits[0].location.longitude) == far


# ------------------------------------------------------------------------------------ order, pages


def test_nearest_first_ties_by_id_and_soonest_is_distance_order_until_availability_exists(db, world):
    third, first, tie_a, tie_b = (world.add(at(ORIGIN, m, 45)) for m in (9, 1, 4, 4))
    expected = [first.id, tie_a.id, tie_b.id, third.id]
    assert ids(search(db)) == expected
    soonest = search(db, sort="soonest")
    assert ids(soonest) == expected
    assert all(hit.next_available is None for hit in soonest.hits)


def test_pages_and_a_page_past_the_end(db, world):
    for miles in range(1, 8):
        world.add(at(ORIGIN, miles, 0), flush=False)
    world.flush()
    first = search(db, per_page=3)
    assert (first.total, first.pages, first.has_prev, first.has_next) == (7, 3, False, True)
    last = search(db, per_page=3, page=3)
    assert len(last.hits) == 1 and last.has_prev and not last.has_next
    beyond = search(db, per_page=3, page=1_000_000)
    assert beyond.hits == [] and beyond.total == 7 and beyond.page == 1_000_000
    nobody = search(db, origin=(0.0, 0.0))
    assert (nobody.total, nobody.pages, nobody.hits) == (0, 1, [])


def test_a_page_costs_the_same_few_queries_however_many_results(db, world):
    for miles in range(20):
        world.add(
            at(ORIGIN, miles + 0.5, miles * 17), at(ORIGIN, 60, 0), credentials=(ACTIVE, EXPIRED),
            plans=PLAN_NAMES[:3], languages=("English", "Spanish"), flush=False,
        )  # fmt: skip
    world.flush()
    db.expunge_all()  # nothing cached in the identity map, as in a fresh request
    statements = []
    engine = flask_db.engine
    listener = lambda *args: statements.append(args[2])  # noqa: E731
    event.listen(engine, "before_cursor_execute", listener)
    try:
        results = search(db, oncology_trained=True)
        rendered = [summary_of(hit, TODAY).model_dump(mode="json") for hit in results.hits]
    finally:
        event.remove(engine, "before_cursor_execute", listener)
    assert len(rendered) == 20
    assert rendered[0]["insurance"] and rendered[0]["languages"] == ["English", "Spanish"]
    assert len(rendered[0]["oncology_credentials"]) == 1  # the expired one is not shown
    # candidates, then the cards: credentials, modalities, languages, plans with payers, profiles (with
    # their cached soonest free start), locations
    assert len(statements) == 7, statements


# ------------------------------------------------------------------------------------ parsing


def parse_search_params(session, params, today) -> SearchQuery:
    """The parameters as the API and the search pages read them (schemas/search.py)."""
    return query_of(parse_query(SearchParams, params, validation_context(session)), today)


def test_parse_defaults_and_canonical_spellings(db, world):
    query = parse_search_params(db, {"near": "10001"}, TODAY)
    assert (query.radius, query.unit, query.page, query.per_page, query.sort) == (
        25.0, "mi", 1, PER_PAGE_DEFAULT, "distance",
    )  # fmt: skip
    assert query.origin.zip_code == "10001" and query.today == TODAY
    assert not (query.oncology_trained or query.accepting_new_patients)
    assert query.plan_id is query.condition is query.modality is query.language is None

    query = parse_search_params(
        db,
        {
            "near": " Boston, MA ",
            "radius": "40.5",
            "unit": "KM",
            "oncology_trained": "on",
            "accepting_new_patients": "1",
            "insurance": str(world.plans["Gold PPO"]),
            "condition": "G89.3",
            "modality": "swedish MASSAGE",
            "language": "spanish",
            "sort": "Soonest",
            "page": "2",
            "per_page": "100",
        },
        TODAY,
    )
    assert query.origin.label.startswith("Boston, MA")
    assert (query.radius, query.unit, query.sort, query.page, query.per_page) == (
        40.5,
        "km",
        "soonest",
        2,
        100,
    )
    assert query.oncology_trained and query.accepting_new_patients
    assert query.plan_id == world.plans["Gold PPO"]
    assert query.condition == "cancer_related_pain"
    assert (query.modality, query.language) == ("Swedish massage", "Spanish")


def test_parse_treats_empty_values_as_absent(db):
    blank = {name: "" for name in ("radius", "unit", "oncology_trained", "insurance", "condition",
                                   "modality", "language", "accepting_new_patients", "sort", "page",
                                   "per_page")}  # fmt: skip
    query = parse_search_params(db, {"near": "10001", **blank}, TODAY)
    assert (query.radius, query.unit, query.plan_id, query.modality) == (25.0, "mi", None, None)


def test_parse_names_every_bad_field_at_once(db):
    with pytest.raises(ValidationFailed) as caught:
        parse_search_params(
            db, {"near": "zzz", "radius": "1000", "unit": "mi", "page": "0", "sort": "price"}, TODAY
        )
    fields = caught.value.details["fields"]
    assert set(fields) == {"near", "radius", "page", "sort"}
    assert fields["radius"] == ["The radius can be at most 250 miles."]
    assert caught.value.message == "Please correct the highlighted fields."
