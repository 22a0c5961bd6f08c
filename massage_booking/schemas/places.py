"""Places: what a person's words located, and where a practice is."""

from __future__ import annotations

from typing import Any

from pydantic import Field

from massage_booking.models import GeocodePrecision
from massage_booking.schemas.base import QueryModel, ResponseModel, read


class GeocodeQuery(QueryModel):
    q: str = Field("", description="What to locate.", examples=["Boston, MA"])


class Place(ResponseModel):
    """A located place."""

    lat: float
    lon: float
    label: str = Field(description="What the words matched, to show the person.")
    precision: GeocodePrecision
    time_zone: str | None
    zip_code: str | None
    city: str | None
    state: str | None


class Location(ResponseModel):
    """A practice location."""

    city: str
    state: str = Field(description="Two-letter state code.")
    zip_code: str
    lat: float
    lon: float
    time_zone: str = Field(description="IANA time zone of the practice.")
    precision: GeocodePrecision = Field(description="How exactly the location is known.")


def place_of(place: Any) -> Place:
    """A geocoding.Place as the API shows it (its `latitude` and `longitude` as `lat` and `lon`)."""
    return read(Place, place, lat=place.latitude, lon=place.longitude)


def location_of(location: Any) -> Location:
    """A practice location (a PracticeLocation row or a search's LocationCard) as every answer shows it."""
    return read(
        Location,
        location,
        lat=location.latitude,
        lon=location.longitude,
        precision=location.geocode_precision,
    )
