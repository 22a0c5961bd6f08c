"""The online geocoder path: street addresses asked once, cached in the database, and never fatal.

No network. `DictGeocoder` is a real geopy Geocoder whose "remote service" is a dict: it stands in for
Nominatim the way a local SMTP server stands in for a mail provider, and the code under test talks to it
through geopy's interface exactly as it would talk to Nominatim.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import date, timedelta
from typing import Any

import pytest
from geopy.adapters import BaseSyncAdapter
from geopy.exc import GeocoderServiceError, GeocoderTimedOut, GeocoderUnavailable
from geopy.geocoders import Nominatim
from geopy.geocoders.base import Geocoder
from geopy.location import Location
from sqlalchemy import func, select

from massage_booking import create_app, extensions
from massage_booking.geocoding import cache_key, locate_street, query_hash, zip_place
from massage_booking.models import GeocodeCache, GeocodePrecision, PracticeLocation
from massage_booking.services import therapists

STREET = "200 Lexington Ave"
QUERY = "200 Lexington Ave, New York, NY 10016, USA"  # what is sent: street, city, state, ZIP, country
POINT = (40.74361, -73.98055)  # 200 Lexington Ave, 3 blocks from the 10016 centroid


class _NoHTTP(BaseSyncAdapter):
    def get_json(self, url: str, *, timeout: float, headers: dict[str, str]) -> Any:
        raise AssertionError("the test geocoder must not make HTTP requests")

    def get_text(self, url: str, *, timeout: float, headers: dict[str, str]) -> str:
        raise AssertionError("the test geocoder must not make HTTP requests")


class DictGeocoder(Geocoder):
    """A geocoding service answering from `answers` (query -> (lat, lon), or None for "not found")."""

    def __init__(
        self,
        answers: dict[str, tuple[float, float] | None] | None = None,
        *,
        error: Exception | None = None,
        on_ask: Callable[[str], None] | None = None,
    ) -> None:
        super().__init__(adapter_factory=_NoHTTP)
        self.answers = answers or {}
        self.error = error
        self.on_ask = on_ask
        self.asked: list[str] = []

    def geocode(self, query: str, *, exactly_one: bool = True, timeout: float | None = None) -> Any:
        self.asked.append(query)
        if self.on_ask:
            self.on_ask(query)
        if self.error is not None:
            raise self.error
        point = self.answers.get(query)
        if point is None:
            return None
        location = Location(f"{query} (from the dict)", point, {"query": query})
        return location if exactly_one else [location]


def cache_rows(db) -> list[GeocodeCache]:
    return list(db.scalars(select(GeocodeCache).order_by(GeocodeCache.id)))


def test_a_street_address_is_asked_once_and_then_answered_from_the_cache(db):
    geocoder = DictGeocoder({QUERY: POINT})
    area = zip_place("10016")

    first = locate_street(db, STREET, area, geocoder)
    db.commit()
    second = locate_street(db, "  200   LEXINGTON ave ", area, geocoder)

    assert geocoder.asked == [QUERY]
    assert (second.latitude, second.longitude, second.precision) == (*POINT, GeocodePrecision.POINT)
    assert second.label == "200 LEXINGTON ave, New York, NY 10016"  # as the therapist typed it this time
    assert (first.latitude, first.longitude) == POINT
    assert first.precision is GeocodePrecision.POINT
    assert first.label == "200 Lexington Ave, New York, NY 10016"
    assert (first.zip_code, first.city, first.state, first.time_zone) == (
        "10016",
        "New York",
        "NY",
        "America/New_York",
    )
    [row] = cache_rows(db)
    assert (row.query, row.provider, row.latitude, row.longitude) == (
        cache_key(QUERY),
        "dictgeocoder",
        *POINT,
    )
    assert row.precision is GeocodePrecision.POINT
    assert row.label == f"{QUERY} (from the dict)"
    assert row.created_at is not None


def test_an_address_the_service_cannot_find_is_cached_as_not_found(db):
    geocoder = DictGeocoder({})
    area = zip_place("10016")

    assert locate_street(db, "1 Nowhere Lane", area, geocoder) == area
    assert locate_street(db, "1 nowhere lane", area, geocoder) == area

    assert len(geocoder.asked) == 1
    [row] = cache_rows(db)
    assert (row.latitude, row.longitude, row.label, row.precision, row.found) == (
        None,
        None,
        None,
        None,
        False,
    )


@pytest.mark.parametrize(
    "error",
    [
        GeocoderTimedOut("Service timed out"),
        GeocoderUnavailable("HTTPSConnectionPool(host='nominatim.openstreetmap.org'): 200 Lexington Ave"),
        GeocoderServiceError("HTTP 500 for /search?q=200+Lexington+Ave"),
    ],
)
def test_a_failing_service_falls_back_to_the_zip_and_logs_only_a_hash(db, caplog, error):
    geocoder = DictGeocoder(error=error)
    area = zip_place("10016")

    with caplog.at_level(logging.INFO, logger="massage_booking.geocoding"):
        place = locate_street(db, STREET, area, geocoder)

    assert place == area and place.precision is GeocodePrecision.ZIP
    assert cache_rows(db) == []  # a failure is not an answer: the next save asks again
    locate_street(db, STREET, area, geocoder)
    assert len(geocoder.asked) == 2
    [warning, *_] = [r for r in caplog.records if r.levelno == logging.WARNING]
    assert query_hash(cache_key(QUERY)) in warning.getMessage()
    assert type(error).__name__ in warning.getMessage()
    for record in caplog.records:
        assert "Lexington" not in record.getMessage()


def test_an_answer_far_from_the_zip_is_not_believed(db, caplog):
    """A "200 Lexington Ave" in another state must not move a Manhattan practice there."""
    geocoder = DictGeocoder({QUERY: (42.3601, -71.0589)})  # Boston
    area = zip_place("10016")

    with caplog.at_level(logging.WARNING, logger="massage_booking.geocoding"):
        assert locate_street(db, STREET, area, geocoder) == area

    assert "miles from its ZIP" in caplog.text and "Lexington" not in caplog.text


def test_without_a_geocoder_or_a_street_nothing_is_asked(db):
    geocoder = DictGeocoder({QUERY: POINT})
    area = zip_place("10016")

    assert locate_street(db, STREET, area, None) == area
    assert locate_street(db, "   ", area, geocoder) == area
    assert geocoder.asked == [] and cache_rows(db) == []


def test_an_answer_stored_concurrently_by_another_request_wins_quietly(db):
    """Two saves of the same new address race: the second insert hits the unique query and is dropped,
    inside a savepoint, leaving the rest of the transaction usable."""

    def other_request_stores_it_first(query: str) -> None:
        db.add(GeocodeCache(query=cache_key(query), provider="other", latitude=1.0, longitude=2.0, label="x",
                            precision=GeocodePrecision.POINT))  # fmt: skip
        db.flush()

    geocoder = DictGeocoder({QUERY: POINT}, on_ask=other_request_stores_it_first)
    place = locate_street(db, STREET, zip_place("10016"), geocoder)

    assert (place.latitude, place.longitude) == POINT  # this request still uses what it was told
    db.commit()
    [row] = cache_rows(db)
    assert row.provider == "other"


# ------------------------------------------------------------------------------ saving a profile


def profile_input(**overrides: Any) -> therapists.ProfileInput:
    fields: dict[str, Any] = {
        "name": "Dana Reyes",
        "bio": "",
        "license_number": "MT-1",
        "license_state": "NY",
        "license_expires_on": date.today() + timedelta(days=365),
        "npi": "",
        "session_rate_dollars": "120",
        "accepting_new_patients": True,
        "modalities": ["Oncology massage"],
        "languages": ["English"],
        "plan_ids": [],
        "zip_code": "10016",
        "address_line1": STREET,
    }
    fields.update(overrides)
    return therapists.ProfileInput(**fields)


def test_saving_a_profile_pins_the_street_address_and_asks_once(db, auth):
    user = auth.create_user(role="therapist")
    geocoder = DictGeocoder({QUERY: POINT})

    therapists.save_profile(db, user, profile_input(), date.today(), geocoder=geocoder)
    db.commit()
    therapists.save_profile(db, user, profile_input(bio="Updated."), date.today(), geocoder=geocoder)
    db.commit()

    location = db.scalar(select(PracticeLocation))
    assert (location.latitude, location.longitude) == POINT
    assert location.geocode_precision is GeocodePrecision.POINT
    assert (location.zip_code, location.city, location.state, location.time_zone) == (
        "10016",
        "New York",
        "NY",
        "America/New_York",
    )
    assert geocoder.asked == [QUERY]


def test_saving_a_profile_uses_the_apps_configured_geocoder(app, db, auth):
    user = auth.create_user(role="therapist")
    stand_in = DictGeocoder({QUERY: POINT})
    app.extensions[extensions.GEOCODER] = stand_in

    therapists.save_profile(db, user, profile_input(), date.today(), geocoder=extensions.geocoder())

    assert stand_in.asked == [QUERY]
    assert db.scalar(select(PracticeLocation)).geocode_precision is GeocodePrecision.POINT


def test_saving_a_profile_while_the_service_is_down_still_saves_the_zip_centroid(db, auth):
    user = auth.create_user(role="therapist")

    therapists.save_profile(
        db, user, profile_input(), date.today(), geocoder=DictGeocoder(error=GeocoderTimedOut("slow"))
    )
    db.commit()

    location = db.scalar(select(PracticeLocation))
    assert location.geocode_precision is GeocodePrecision.ZIP
    assert (location.latitude, location.longitude) == (40.7443, -73.9781)


def test_an_invalid_form_is_not_sent_to_the_geocoder(db, auth):
    user = auth.create_user(role="therapist")
    geocoder = DictGeocoder({QUERY: POINT})

    with pytest.raises(Exception, match="correct the highlighted fields"):
        therapists.save_profile(db, user, profile_input(name=""), date.today(), geocoder=geocoder)

    assert geocoder.asked == []
    assert db.scalar(select(func.count()).select_from(GeocodeCache)) == 0


def test_offline_by_default_in_tests(app):
    with app.app_context():
        assert extensions.geocoder() is None


def test_the_configured_online_geocoder_is_built_from_settings_without_a_request():
    app = create_app(
        "testing",
        {
            "SQLALCHEMY_DATABASE_URI": "sqlite://",
            "GEOCODER": "nominatim",
            "GEOCODER_USER_AGENT": "massage_booking-tests/1",
            "GEOCODER_TIMEOUT": 2.5,
        },
    )
    with app.app_context():
        geocoder = extensions.geocoder()
        assert isinstance(geocoder, Nominatim)
        assert geocoder.headers["User-Agent"] == "massage_booking-tests/1"
        assert geocoder.timeout == 2.5
        assert extensions.geocoder() is geocoder  # built once per app


def test_an_unusable_geocoder_name_is_logged_and_geocoding_stays_offline(caplog):
    app = create_app("testing", {"SQLALCHEMY_DATABASE_URI": "sqlite://", "GEOCODER": "no-such-service"})
    with app.app_context(), caplog.at_level(logging.ERROR, logger="massage_booking.geocoding"):
        assert extensions.geocoder() is None
    assert "GEOCODER=no-such-service cannot be used" in caplog.text
