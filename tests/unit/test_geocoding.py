"""The offline gazetteer: every way people name a US place, what it answers, and how it says "not found".

No database and no network: the gazetteer is the zipcodes package indexed in memory.
"""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from massage_booking.domain.errors import ValidationFailed
from massage_booking.domain.identifiers import US_STATES
from massage_booking.geocoding import (
    STATE_NAMES,
    cache_key,
    gazetteer,
    locate,
    normalize_name,
    zip_place,
)
from massage_booking.models import GeocodePrecision

ZIP = GeocodePrecision.ZIP
CITY = GeocodePrecision.CITY
POINT = GeocodePrecision.POINT


def failure(query: str, field: str = "near") -> ValidationFailed:
    with pytest.raises(ValidationFailed) as caught:
        locate(query, field)
    return caught.value


# --------------------------------------------------------------------------------------------- ZIPs


@pytest.mark.parametrize(
    ("query", "zip_code", "label", "time_zone"),
    [
        ("10001", "10001", "New York, NY 10001", "America/New_York"),
        ("02115-1234", "02115", "Boston, MA 02115", "America/New_York"),
        ("021151234", "02115", "Boston, MA 02115", "America/New_York"),
        ("  10016  ", "10016", "New York, NY 10016", "America/New_York"),
        ("99501", "99501", "Anchorage, AK 99501", "America/Anchorage"),
        ("96813", "96813", "Honolulu, HI 96813", "Pacific/Honolulu"),
        ("00901", "00901", "San Juan, PR 00901", "America/Puerto_Rico"),
    ],
)
def test_a_zip_or_zip_plus_4_is_its_centroid(query, zip_code, label, time_zone):
    place = locate(query)
    assert (place.zip_code, place.label, place.time_zone, place.precision) == (
        zip_code,
        label,
        time_zone,
        ZIP,
    )
    assert place.city and place.state == label.split(", ")[1][:2]


def test_alaska_and_hawaii_zips_are_where_they_should_be():
    anchorage, honolulu = locate("99501"), locate("96813")
    assert 61 < anchorage.latitude < 62 and -150.5 < anchorage.longitude < -149
    assert 21 < honolulu.latitude < 22 and -158.5 < honolulu.longitude < -157.5


def test_unknown_and_malformed_zips_say_which():
    assert failure("00000").message == "We could not find ZIP code 00000."
    assert failure("00000").details == {
        "fields": {"near": ["We could not find ZIP code 00000."]},
        "suggestions": [],
    }
    assert "5 digits" in failure("1234").message
    assert "5 digits" in failure("123456").message


def test_every_state_and_territory_is_indexed():
    """The index is read state by state (not with `zipcodes.list_all`, which pins 140 MB): none is missed."""
    states = {place.state for place in gazetteer().by_zip.values()}
    assert set(US_STATES) <= states <= set(STATE_NAMES)  # Micronesia's rows have no time zone: left out
    assert {"GU", "VI", "AS"} <= states
    assert len(gazetteer().by_zip) > 41_000


def test_military_codes_are_not_places():
    """APO/FPO codes have no time zone and sit at 0,0 in the data; they must not become search origins."""
    assert failure("09001").message == "We could not find ZIP code 09001."


# ------------------------------------------------------------------------------------- city, state


@pytest.mark.parametrize(
    "query",
    [
        "Boston, MA",
        "boston, ma",
        "BOSTON,MA",
        "  Boston ,   MA  ",
        "Boston, Massachusetts",
        "boston, MASSACHUSETTS",
        "Boston MA",
        "Boston Massachusetts",
        "Boston, MA, USA",
    ],
)
def test_city_and_state_in_every_spelling(query):
    place = locate(query)
    assert (place.label, place.precision, place.city, place.state) == ("Boston, MA", CITY, "Boston", "MA")
    assert place.zip_code is None
    assert place.time_zone == "America/New_York"
    assert 42.2 < place.latitude < 42.5 and -71.2 < place.longitude < -70.9


def test_a_trailing_zip_makes_the_answer_that_zip():
    place = locate("Boston, MA 02115")
    assert (place.label, place.precision) == ("Boston, MA 02115", ZIP)
    assert locate("Washington 20001").label == "Washington, DC 20001"


def test_a_zip_from_another_state_is_refused_with_the_zip_as_suggestion():
    error = failure("Boston, MA 10001")
    assert error.message == "ZIP code 10001 is in New York, not Massachusetts."
    assert error.details["suggestions"] == ["New York, NY 10001"]


@pytest.mark.parametrize(
    ("query", "label", "time_zone"),
    [
        ("Anchorage, AK", "Anchorage, AK", "America/Anchorage"),
        ("anchorage alaska", "Anchorage, AK", "America/Anchorage"),
        ("Honolulu, HI", "Honolulu, HI", "Pacific/Honolulu"),
        ("Honolulu, Hawaii", "Honolulu, HI", "Pacific/Honolulu"),
        ("St. Louis, MO", "Saint Louis, MO", "America/Chicago"),
        ("Ft Lauderdale, Florida", "Fort Lauderdale, FL", "America/New_York"),
        ("Port St Lucie, FL", "Port Saint Lucie, FL", "America/New_York"),
        ("Kansas City, Missouri", "Kansas City, MO", "America/Chicago"),
        ("Washington, D.C.", "Washington, DC", "America/New_York"),
        ("Washington, District of Columbia", "Washington, DC", "America/New_York"),
        ("Winston-Salem, North Carolina", "Winston Salem, NC", "America/New_York"),
        ("Hollywood, CA", "Hollywood, CA", "America/Los_Angeles"),  # an alias the USPS accepts
        ("Cañon City, CO", "Canon City, CO", "America/Denver"),
        ("San Juan, Puerto Rico", "San Juan, PR", "America/Puerto_Rico"),
        ("123 Main St, Boston, MA", "Boston, MA", "America/New_York"),  # the street is ignored offline
    ],
)
def test_cities(query, label, time_zone):
    place = locate(query)
    assert (place.label, place.time_zone, place.precision) == (label, time_zone, CITY)


def test_a_city_in_one_state_needs_no_state():
    assert locate("Honolulu").label == "Honolulu, HI"
    assert locate("new york").label == "New York, NY"


def test_a_city_in_several_states_is_ambiguous_and_offers_them_largest_first():
    error = failure("Springfield")
    assert error.message.startswith("There is a Springfield in more than one state.")
    suggestions = error.details["suggestions"]
    assert {"Springfield, IL", "Springfield, MA", "Springfield, MO"} <= set(suggestions)
    assert len(suggestions) <= 8
    assert error.details["fields"] == {"near": [error.message]}
    assert set(failure("Kansas City").details["suggestions"]) == {"Kansas City, MO", "Kansas City, KS"}


def test_a_state_name_inside_a_city_name_is_not_taken_for_the_state():
    """ "Fort Washington" is a town in MD and PA, not a town called "Fort" in Washington state."""
    assert set(failure("Fort Washington").details["suggestions"]) == {
        "Fort Washington, MD",
        "Fort Washington, PA",
    }


def test_a_misspelt_city_gets_the_closest_names_in_its_state():
    error = failure("Bostn, MA")
    assert error.message == "We could not find Bostn, MA. Check the spelling, or try a ZIP code."
    assert error.details["suggestions"][0] == "Boston, MA"
    assert failure("Bostn").details["suggestions"][0] == "Boston, MA"


def test_a_city_in_the_wrong_state_offers_the_states_that_have_it():
    assert "Boston, MA" in failure("Boston, CA").details["suggestions"]


def test_a_state_alone_asks_for_a_city_and_names_its_largest():
    error = failure("Massachusetts")
    assert error.message.startswith("Massachusetts is a whole state; add a city")
    assert "Boston, MA" in error.details["suggestions"]


def test_an_unknown_state_is_named():
    error = failure("Boston, Mass")
    assert error.message.startswith('We do not recognise the state "Mass".')
    assert "Boston, MA" in error.details["suggestions"]


def test_nonsense_gets_the_standard_message_on_the_named_field():
    error = failure("zzz", field="q")
    message = 'We could not find "zzz". Try a 5-digit ZIP code or City, ST.'
    assert error.message == message
    assert error.details == {"fields": {"q": [message]}, "suggestions": []}


@pytest.mark.parametrize("query", ["", "   ", None])
def test_empty_input_asks_for_a_place(query):
    assert failure(query).message == "Enter a ZIP code or a city and state, like 10016 or Boston, MA."


def test_very_long_input_is_refused_without_searching():
    assert failure("Boston " * 100).message.startswith("That is too long to be a place.")


# ---------------------------------------------------------------------------------------------- points


@pytest.mark.parametrize(
    ("query", "label", "time_zone"),
    [
        ("40.7,-74.0", "40.70000, -74.00000", "America/New_York"),
        (" 40.7 , -74.0 ", "40.70000, -74.00000", "America/New_York"),
        ("+42.35,-71.06", "42.35000, -71.06000", "America/New_York"),
        ("61.2181,-149.9003", "61.21810, -149.90030", "America/Anchorage"),
        ("21.3069, -157.8583", "21.30690, -157.85830", "Pacific/Honolulu"),
        ("39.74,-104.99", "39.74000, -104.99000", "America/Denver"),
        ("51.88,-176.66", "51.88000, -176.66000", "America/Adak"),  # Adak, in the Aleutians
    ],
)
def test_a_point_keeps_its_coordinates_and_takes_the_nearest_zips_time_zone(query, label, time_zone):
    place = locate(query)
    assert (place.label, place.precision, place.time_zone) == (label, POINT, time_zone)
    assert (place.zip_code, place.city, place.state) == (None, None, None)


def test_a_point_far_from_any_zip_has_no_time_zone():
    assert locate("0,0").time_zone is None
    assert locate("-45.5, 170.5").time_zone is None


@pytest.mark.parametrize("query", ["91,0", "-90.5,10", "0,181", "45,-180.01", "999,999"])
def test_a_point_out_of_range_is_refused(query):
    assert failure(query).message == (
        "Latitude must be between -90 and 90, and longitude between -180 and 180."
    )


def test_the_nearest_zip_search_matches_a_scan_of_every_zip():
    gaz = gazetteer()

    def by_scan(lat: float, lon: float) -> str:
        import math

        scale = math.cos(math.radians(lat)) ** 2
        return min(
            gaz.by_zip.values(),
            key=lambda p: (p.latitude - lat) ** 2 + scale * (p.longitude - lon) ** 2,
        ).zip_code  # type: ignore[return-value]

    for lat, lon in [(40.7, -74.0), (61.2, -149.9), (64.84, -147.72), (21.3, -157.85), (47.6, -122.3)]:
        assert gaz.nearest_zip(lat, lon).zip_code == by_scan(lat, lon)


# ------------------------------------------------------------------------------------------ any input


@settings(max_examples=300, deadline=None)
@given(st.text(max_size=80))
def test_any_text_is_a_place_or_a_validation_error_never_a_crash(text):
    try:
        place = locate(text)
    except ValidationFailed as exc:
        assert exc.details["fields"]["near"] == [exc.message]
        assert isinstance(exc.details["suggestions"], list)
    else:
        assert -90 <= place.latitude <= 90 and -180 <= place.longitude <= 180
        assert place.label


@settings(max_examples=100, deadline=None)
@given(st.floats(-90, 90), st.floats(-180, 180))
def test_any_valid_coordinates_are_a_point(lat, lon):
    place = locate(f"{lat:.6f},{lon:.6f}")
    assert place.precision is POINT
    assert abs(place.latitude - round(lat, 6)) < 1e-9


# ------------------------------------------------------------------------------------ helpers, speed


def test_zip_place_accepts_only_zip_codes_and_names_the_field():
    assert zip_place("10016-0001").label == "New York, NY 10016"
    for bad, message in (("Boston, MA", "Enter a 5-digit US ZIP code"), ("00000", "We could not find ZIP")):
        with pytest.raises(ValidationFailed) as caught:
            zip_place(bad)
        assert list(caught.value.details["fields"]) == ["zip_code"]
        assert caught.value.message.startswith(message)


def test_names_are_normalised_the_same_way_the_data_is():
    assert normalize_name("ST. Louis") == normalize_name("Saint Louis") == "saint louis"
    assert normalize_name("Winston-Salem") == "winston salem"
    assert cache_key("  12 Main  St ,Boston,  MA ") == "12 main st, boston, ma"
