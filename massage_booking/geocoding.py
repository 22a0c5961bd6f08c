"""Offline place look-ups from the `zipcodes` package (US ZIP centroids with IANA time zones).

For now this answers ZIP codes only, which is what saving a practice location needs; the search issue
grows it into a geopy `Geocoder` (city/state, "lat,lon", an optional online geocoder with a cache).
"""

from __future__ import annotations

from dataclasses import dataclass

import zipcodes

from massage_booking.domain.errors import ValidationFailed
from massage_booking.domain.identifiers import is_zip_code


@dataclass(frozen=True)
class ZipPlace:
    zip_code: str
    city: str
    state: str
    latitude: float
    longitude: float
    time_zone: str


def zip_place(raw: str, field: str = "zip_code") -> ZipPlace:
    """The centroid of a US ZIP (5 digits or ZIP+4), or a ValidationFailed naming `field`."""
    value = (raw or "").strip()
    if not is_zip_code(value):
        raise ValidationFailed.for_field(field, "Enter a 5-digit US ZIP code, like 10016.")
    matches = [z for z in zipcodes.matching(value[:5]) if z.get("lat") and z.get("timezone")]
    if not matches:
        raise ValidationFailed.for_field(field, f"We could not find ZIP code {value[:5]}.")
    z = matches[0]
    return ZipPlace(
        zip_code=z["zip_code"],
        city=z["city"].title(),
        state=z["state"],
        latitude=float(z["lat"]),
        longitude=float(z["long"]),
        time_zone=z["timezone"],
    )
