"""Places: what a person's words located, and where a practice is."""

from __future__ import annotations

from typing import Protocol

from pydantic import Field

from massage_booking.models import GeocodePrecision
from massage_booking.schemas.base import QueryModel, ResponseModel


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


class _Located(Protocol):
    latitude: float
    longitude: float
    label: str
    precision: GeocodePrecision
    time_zone: str | None
    zip_code: str | None
    city: str | None
    state: str | None


class _Practice(Protocol):
    city: str
    state: str
    zip_code: str
    latitude: float
    longitude: float
    time_zone: str
    geocode_precision: GeocodePrecision


def place_of(place: _Located) -> Place:
    """A geocoding.Place as the API shows it."""
    return Place(
        lat=place.latitude,
        lon=place.longitude,
        label=place.label,
        precision=place.precision,
        time_zone=place.time_zone,
        zip_code=place.zip_code,
        city=place.city,
        state=place.state,
    )


def location_of(location: _Practice) -> Location:
    """A practice location (a PracticeLocation row or a search's LocationCard) as every answer shows it."""
    return Location(
        city=location.city,
        state=location.state,
        zip_code=location.zip_code,
        lat=location.latitude,
        lon=location.longitude,
        time_zone=location.time_zone,
        precision=location.geocode_precision,
    )
