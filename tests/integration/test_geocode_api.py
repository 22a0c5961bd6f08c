"""GET /api/v1/geocode?q=: a ZIP, "City, ST" or "lat,lon" in; {lat, lon, label, precision} out; clear 422s."""

from __future__ import annotations

import pytest


def geocode(client, q: str | None):
    return client.get("/api/v1/geocode", query_string={} if q is None else {"q": q})


@pytest.mark.parametrize(
    ("q", "label", "precision", "time_zone"),
    [
        ("10001", "New York, NY 10001", "zip", "America/New_York"),
        ("02115-1234", "Boston, MA 02115", "zip", "America/New_York"),
        ("Boston, MA", "Boston, MA", "city", "America/New_York"),
        ("boston, massachusetts", "Boston, MA", "city", "America/New_York"),
        ("40.7,-74.0", "40.70000, -74.00000", "point", "America/New_York"),
        ("99501", "Anchorage, AK 99501", "zip", "America/Anchorage"),
        ("Anchorage, AK", "Anchorage, AK", "city", "America/Anchorage"),
        ("96813", "Honolulu, HI 96813", "zip", "Pacific/Honolulu"),
        ("Honolulu, HI", "Honolulu, HI", "city", "Pacific/Honolulu"),
    ],
)
def test_places_are_found(client, q, label, precision, time_zone):
    response = geocode(client, q)
    assert response.status_code == 200, response.get_data(as_text=True)
    body = response.get_json()
    assert (body["label"], body["precision"], body["time_zone"]) == (label, precision, time_zone)
    assert isinstance(body["lat"], float) and isinstance(body["lon"], float)
    assert {"lat", "lon", "label", "precision"} <= set(body)


def test_a_zip_answer_has_all_its_fields(client):
    assert geocode(client, "10001").get_json() == {
        "lat": 40.7484,
        "lon": -73.9967,
        "label": "New York, NY 10001",
        "precision": "zip",
        "time_zone": "America/New_York",
        "zip_code": "10001",
        "city": "New York",
        "state": "NY",
    }


def test_a_point_answer_keeps_the_coordinates(client):
    body = geocode(client, "40.7,-74.0").get_json()
    assert (body["lat"], body["lon"], body["zip_code"], body["city"], body["state"]) == (
        40.7,
        -74.0,
        None,
        None,
        None,
    )


def test_answers_may_be_cached_by_browsers_and_proxies(client):
    response = geocode(client, "10001")
    assert response.cache_control.public and response.cache_control.max_age == 86400


def assert_422(response, message: str, suggestions: list[str] | None = None) -> dict:
    assert response.status_code == 422, response.get_data(as_text=True)
    error = response.get_json()["error"]
    assert error["code"] == "validation_failed"
    assert error["message"] == message
    assert error["details"]["fields"] == {"q": [message]}
    if suggestions is not None:
        assert error["details"]["suggestions"] == suggestions
    return error


def test_nonsense_is_a_clear_422(client):
    assert_422(geocode(client, "zzz"), 'We could not find "zzz". Try a 5-digit ZIP code or City, ST.', [])


def test_an_unknown_zip_is_a_clear_422(client):
    assert_422(geocode(client, "00000"), "We could not find ZIP code 00000.", [])


@pytest.mark.parametrize("q", [None, "", "   "])
def test_a_missing_q_names_q(client, q):
    assert_422(geocode(client, q), "Enter a ZIP code or a city and state, like 10016 or Boston, MA.", [])


def test_an_ambiguous_city_offers_suggestions(client):
    error = assert_422(
        geocode(client, "Springfield"),
        "There is a Springfield in more than one state. Add the state, like Springfield, MA.",
    )
    assert {"Springfield, IL", "Springfield, MA", "Springfield, MO"} <= set(error["details"]["suggestions"])


def test_a_misspelling_offers_the_closest_cities(client):
    error = assert_422(
        geocode(client, "Bostn, MA"), "We could not find Bostn, MA. Check the spelling, or try a ZIP code."
    )
    assert error["details"]["suggestions"][0] == "Boston, MA"


@pytest.mark.parametrize("q", ["91,0", "1234", "Boston, Mass", "x" * 5000, "\x00", "%", "Boston, MA 10001"])
def test_bad_input_is_never_a_500(client, q):
    response = geocode(client, q)
    assert response.status_code == 422
    assert response.get_json()["error"]["details"]["fields"]["q"]
