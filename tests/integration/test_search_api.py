"""GET /api/v1/therapists: the response a client codes against, and a 422 naming the field for bad input."""

from __future__ import annotations

import math
from datetime import date

import pytest
from geopy.distance import great_circle

from massage_booking.geocoding import locate
from tests.integration.search_data import ACTIVE, EXPIRED, PENDING, World

NEW_YORK = locate("10001")
HERE = (NEW_YORK.latitude, NEW_YORK.longitude)


def at(miles: float, bearing: float = 90.0) -> tuple[float, float]:
    point = great_circle(miles=miles).destination(HERE, bearing)
    return point.latitude, point.longitude


def get(client, **params):
    return client.get("/api/v1/therapists", query_string={"near": "10001", **params})


def fields(response) -> dict:
    assert response.status_code == 422, response.get_data(as_text=True)
    error = response.get_json()["error"]
    assert error["code"] == "validation_failed"
    assert error["message"]
    return error["details"]["fields"]


@pytest.fixture
def world(db) -> World:
    """Tests commit what they add: each request runs in its own app context and session. The API judges
    credentials by the real date.today(), so tests here date them relative to it."""
    return World(db)


def test_the_response_shape(client, db, world):
    today = date.today()
    active = (ACTIVE[0], date(today.year + 1, 1, 1))
    expired = (EXPIRED[0], date(today.year - 1, 1, 1))
    trained = world.add(
        at(3),
        credentials=(active, expired),
        plans=("Gold PPO",),
        modalities=("Swedish massage", "Oncology massage"),
        languages=("Spanish", "English"),
    )
    world.add(at(40))  # outside the default 25 miles
    db.commit()

    response = get(client)
    assert response.status_code == 200
    body = response.get_json()
    assert set(body) >= {"origin", "results", "total", "page", "per_page", "radius", "unit"}
    assert body["origin"] == {
        "lat": NEW_YORK.latitude,
        "lon": NEW_YORK.longitude,
        "label": NEW_YORK.label,
        "precision": "zip",
    }
    assert (body["total"], body["page"], body["per_page"]) == (1, 1, 20)
    assert (body["radius"], body["unit"]) == (25.0, "mi")
    (item,) = body["results"]
    assert item["id"] == trained.id
    assert item["name"] == trained.name
    assert item["distance"] == pytest.approx(3, rel=1e-9)
    assert item["unit"] == "mi"
    lat, lon = at(3)
    assert item["location"] == {
        "city": "Testville",
        "state": "NY",
        "zip_code": "10001",
        "lat": lat,
        "lon": lon,
        "time_zone": "America/New_York",
        "precision": "zip",
    }
    assert item["oncology_credentials"] == [  # the expired one is not shown
        {
            "kind": "s4om_foundational",
            "issuer": "Society for Oncology Massage",
            "training_hours": 24,
            "expires_on": active[1].isoformat(),
        }
    ]
    assert item["insurance"] == [
        {"plan_id": world.plans["Gold PPO"], "payer": "Testcare", "plan": "Gold PPO"}
    ]
    assert item["modalities"] == ["Oncology massage", "Swedish massage"]
    assert item["languages"] == ["English", "Spanish"]
    assert item["accepting_new_patients"] is True
    assert item["session_rate"] == {"amount_cents": 9_500, "currency": "USD"}
    assert item["license"] == {"state": "NY"}
    assert item["next_available"] is None


def test_filters_units_and_pages_through_the_api(client, db, world):
    today = date.today()
    active = (ACTIVE[0], date(today.year + 1, 1, 1))
    near_trained = world.add(at(2), credentials=(active,), plans=("Gold PPO",))
    pending = world.add(at(4), credentials=((PENDING[0], date(today.year + 1, 1, 1)),), plans=("Gold PPO",))
    far_trained = world.add(at(20), credentials=(active,), plans=("Silver HMO",), languages=("Korean",))
    db.commit()
    everyone = [near_trained.id, pending.id, far_trained.id]

    def result_ids(**params) -> list[int]:
        response = get(client, **params)
        assert response.status_code == 200, response.get_data(as_text=True)
        return [item["id"] for item in response.get_json()["results"]]

    assert result_ids() == everyone
    assert result_ids(oncology_trained="true") == [near_trained.id, far_trained.id]
    assert result_ids(condition="Cancer-related pain") == [near_trained.id, far_trained.id]
    assert result_ids(condition="G89.3") == [near_trained.id, far_trained.id]
    assert result_ids(condition="chronic_neck_pain") == everyone
    assert result_ids(insurance=str(world.plans["Gold PPO"])) == [near_trained.id, pending.id]
    assert result_ids(language="korean") == [far_trained.id]
    assert result_ids(modality="Swedish massage") == everyone
    assert result_ids(radius="5", unit="km") == [near_trained.id]  # 5 km is 3.1 miles
    assert result_ids(radius="10", unit="km") == [near_trained.id, pending.id]

    in_km = get(client, radius="40", unit="km").get_json()
    assert (in_km["radius"], in_km["unit"], in_km["total"]) == (40.0, "km", 3)
    assert in_km["results"][0]["unit"] == "km"
    assert in_km["results"][0]["distance"] == pytest.approx(2 * 1.609344, rel=1e-9)

    page_two = get(client, per_page="2", page="2").get_json()
    assert [item["id"] for item in page_two["results"]] == [far_trained.id]
    assert (page_two["total"], page_two["page"], page_two["per_page"]) == (3, 2, 2)
    assert result_ids(sort="soonest") == everyone


def test_a_huge_page_number_is_an_empty_page_with_the_true_total(client, db, world):
    world.add(at(1))
    world.add(at(2))
    db.commit()
    response = get(client, page="999999999")
    assert response.status_code == 200
    body = response.get_json()
    assert (body["results"], body["total"], body["page"]) == ([], 2, 999_999_999)


def test_the_radius_boundary_through_the_query_string(client, db, world):
    therapist = world.add(at(10, 123))
    db.commit()
    exact = great_circle(HERE, at(10, 123)).miles
    assert [r["id"] for r in get(client, radius=repr(exact)).get_json()["results"]] == [therapist.id]
    assert get(client, radius=repr(math.nextafter(exact, 0))).get_json()["total"] == 0


@pytest.mark.parametrize(
    ("params", "field", "message"),
    [
        ({"near": ""}, "near", "Enter a ZIP code"),
        ({"near": "zzz"}, "near", "could not find"),
        ({"near": "00000"}, "near", "00000"),
        ({"radius": "abc"}, "radius", "number"),
        ({"radius": "nan"}, "radius", "number"),
        ({"radius": "inf"}, "radius", "number"),
        ({"radius": "0"}, "radius", "more than 0"),
        ({"radius": "-5"}, "radius", "more than 0"),
        ({"radius": "1000"}, "radius", "at most 250 miles"),
        ({"radius": "250.5"}, "radius", "at most 250 miles"),
        ({"radius": "401", "unit": "km"}, "radius", "at most 400 kilometers"),
        ({"unit": "yards"}, "unit", '"mi"'),
        ({"page": "0"}, "page", "1 or more"),
        ({"page": "-1"}, "page", "1 or more"),
        ({"page": "two"}, "page", "whole number"),
        ({"per_page": "1000"}, "per_page", "between 1 and 100"),
        ({"per_page": "0"}, "per_page", "between 1 and 100"),
        ({"insurance": "x"}, "insurance", "plan"),
        ({"insurance": "99999"}, "insurance", "99999"),
        ({"insurance": "99999999999999999999"}, "insurance", "We do not know"),
        ({"modality": "hot stones"}, "modality", "hot stones"),
        ({"language": "Klingon"}, "language", "Klingon"),
        ({"condition": "broken heart"}, "condition", "broken heart"),
        ({"oncology_trained": "maybe"}, "oncology_trained", '"true"'),
        ({"accepting_new_patients": "2"}, "accepting_new_patients", '"true"'),
        ({"sort": "price"}, "sort", '"distance"'),
    ],
)
def test_bad_input_is_a_422_naming_the_field(client, db, params, field, message):
    found = fields(get(client, **params))
    assert list(found) == [field]
    assert message in found[field][0]


def test_a_missing_near_is_named(client, db):
    assert "near" in fields(client.get("/api/v1/therapists"))


def test_every_bad_field_is_named_at_once(client, db):
    response = get(client, near="zzz", radius="abc", unit="yards", page="0", per_page="1000", sort="price")
    assert set(fields(response)) == {"near", "radius", "unit", "page", "per_page", "sort"}
    assert response.get_json()["error"]["message"] == "Please correct the highlighted fields."


def test_an_ambiguous_place_comes_back_with_suggestions(client, db):
    response = client.get("/api/v1/therapists", query_string={"near": "Springfield"})
    assert "near" in fields(response)
    suggestions = response.get_json()["error"]["details"]["suggestions"]
    assert "Springfield, IL" in suggestions and "Springfield, MA" in suggestions
