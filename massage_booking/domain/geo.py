"""Distances and bounding boxes on the sphere that geopy's `great_circle` measures on.

Which distance, and why: search measures with `geopy.distance.great_circle` (a sphere of radius
`geopy.distance.EARTH_RADIUS`), not `geodesic` (the WGS84 ellipsoid). Measured on these machines, one
geopy `geodesic` call costs about 73 µs and one `great_circle` call about 5.7 µs; the search computes a
distance for every location inside the bounding box, which for a 25-mile search in a dense metro of the
million-therapist demo is tens of thousands of rows. The sphere is off by at most about 0.5% (0.12 miles
at 25 miles), far less than the error of a ZIP-centroid location itself.

`DistanceFrom` goes one step further for the search's inner loop: it evaluates geopy's great-circle
formula with the origin's sines and cosines computed once, about ten times faster than calling geopy per
point, and returns bit-for-bit what `great_circle(origin, point)` returns (tests/unit/test_geo.py proves
that on random points, including the poles and the antimeridian). So a brute-force check written with
plain geopy agrees with the search to the last bit, order and radius cut included.

Everything here is pure Python: no Flask, no SQLAlchemy.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Final

from geopy import units
from geopy.distance import EARTH_RADIUS, great_circle

MILES: Final = "mi"
KILOMETERS: Final = "km"
UNITS: Final = (MILES, KILOMETERS)
KM_PER_MILE: Final = 1.609344  # exact, by the international yard and pound agreement; geopy uses the same
UNIT_NAMES: Final = {MILES: "miles", KILOMETERS: "kilometers"}

# A margin added to every edge of a bounding box, in degrees (about 0.1 mm): the box's edges come from
# trigonometry in floating point, and a point lying exactly on the search circle must not fall outside the
# box by a rounding error.
_BOX_MARGIN_DEGREES: Final = 1e-9

Coordinates = tuple[float, float]


def check_unit(unit: str) -> str:
    if unit not in UNITS:
        raise ValueError(f"unit must be one of {UNITS}, not {unit!r}")
    return unit


def to_km(value: float, unit: str) -> float:
    """`value` in `unit` as kilometres (geopy's own conversion, so the numbers match geopy's)."""
    return units.kilometers(miles=value) if check_unit(unit) == MILES else float(value)


def distance(a: Coordinates, b: Coordinates, unit: str = MILES) -> float:
    """The great-circle distance between two (latitude, longitude) points, in `unit` (geopy, as is)."""
    d = great_circle(a, b)
    return d.miles if check_unit(unit) == MILES else d.km


class DistanceFrom:
    """Great-circle distances from one fixed origin, bit-identical to `geopy.distance.great_circle`.

    geopy's `great_circle.measure` builds two `Point` objects and recomputes the origin's sine and cosine
    on every call; here they are computed once, and each call is just the formula. The expression below
    is geopy 2.5's, operation for operation (float arithmetic is not associative, so the order matters).
    Coordinates must be in range (latitude -90..90, longitude -180..180), as the database guarantees;
    geopy would silently wrap a longitude outside it.
    """

    __slots__ = ("_lng1", "_sin_lat1", "_cos_lat1", "_unit")

    def __init__(self, origin: Coordinates, unit: str = MILES) -> None:
        lat1 = units.radians(degrees=origin[0])
        self._lng1 = units.radians(degrees=origin[1])
        self._sin_lat1, self._cos_lat1 = math.sin(lat1), math.cos(lat1)
        self._unit = check_unit(unit)

    def km(self, latitude: float, longitude: float) -> float:
        lat2, lng2 = math.radians(latitude), math.radians(longitude)
        sin_lat1, cos_lat1 = self._sin_lat1, self._cos_lat1
        sin_lat2, cos_lat2 = math.sin(lat2), math.cos(lat2)
        delta_lng = lng2 - self._lng1
        cos_delta_lng, sin_delta_lng = math.cos(delta_lng), math.sin(delta_lng)
        d = math.atan2(
            math.sqrt(
                (cos_lat2 * sin_delta_lng) ** 2
                + (cos_lat1 * sin_lat2 - sin_lat1 * cos_lat2 * cos_delta_lng) ** 2
            ),
            sin_lat1 * sin_lat2 + cos_lat1 * cos_lat2 * cos_delta_lng,
        )
        return EARTH_RADIUS * d

    def __call__(self, latitude: float, longitude: float) -> float:
        """The distance to (latitude, longitude) in this object's unit."""
        km = self.km(latitude, longitude)
        return km / KM_PER_MILE if self._unit == MILES else km


@dataclass(frozen=True)
class BoundingBox:
    """Latitude and longitude ranges (degrees, inclusive) containing every point within a radius.

    `longitudes` holds one range, or two when the box crosses the antimeridian (the western Aleutians,
    for instance): (west, 180) and (-180, east). Near a pole, or for a radius reaching around the world,
    it is the whole (-180, 180).
    """

    min_latitude: float
    max_latitude: float
    longitudes: tuple[tuple[float, float], ...]

    def contains(self, latitude: float, longitude: float) -> bool:
        return self.min_latitude <= latitude <= self.max_latitude and any(
            west <= longitude <= east for west, east in self.longitudes
        )


def bounding_box(origin: Coordinates, radius: float, unit: str = MILES) -> BoundingBox:
    """The smallest latitude/longitude box holding the great-circle disc of `radius` around `origin`.

    On a sphere the disc's latitudes are those of the origin plus or minus the angular radius d; if
    that passes a pole, the disc holds the pole and so every longitude. Otherwise its longitudes are
    the origin's plus or minus asin(sin d / cos latitude), the meridians tangent to the disc (the
    tangent points lie poleward of the origin, which is why a simple "radius / miles per degree at the
    origin" box would be too narrow). See J. P. Matuschek, "Finding Points Within a Distance of a
    Latitude/Longitude Using Bounding Coordinates".
    """
    if radius < 0 or not math.isfinite(radius):
        raise ValueError("radius must be a finite, non-negative number")
    lat, lon = origin
    if not (-90 <= lat <= 90 and -180 <= lon <= 180):
        raise ValueError(f"origin {origin!r} is not a (latitude, longitude) pair in range")
    angular = to_km(radius, unit) / EARTH_RADIUS  # radians
    margin = _BOX_MARGIN_DEGREES
    if angular >= math.pi:
        return BoundingBox(-90.0, 90.0, ((-180.0, 180.0),))
    dlat = math.degrees(angular)
    min_lat, max_lat = lat - dlat - margin, lat + dlat + margin
    if min_lat <= -90 or max_lat >= 90:
        return BoundingBox(max(min_lat, -90.0), min(max_lat, 90.0), ((-180.0, 180.0),))
    ratio = math.sin(angular) / math.cos(math.radians(lat))
    if ratio >= 1:  # only by rounding, a hair from the pole: the disc touches it
        return BoundingBox(min_lat, max_lat, ((-180.0, 180.0),))
    dlon = math.degrees(math.asin(ratio)) + margin
    west, east = lon - dlon, lon + dlon
    longitudes: tuple[tuple[float, float], ...]
    if west < -180:
        longitudes = ((west + 360, 180.0), (-180.0, east))
    elif east > 180:
        longitudes = ((west, 180.0), (-180.0, east - 360))
    else:
        longitudes = ((west, east),)
    return BoundingBox(min_lat, max_lat, longitudes)


def latitude_slices(box: BoundingBox, per_degree: int) -> list[int]:
    """Every integer value that CAST(latitude * per_degree AS INTEGER) takes for latitudes in the box.

    Truncation (SQLite) and rounding (PostgreSQL) both map [a, b] into [floor(a), ceil(b)], so listing
    that whole range is right for either database; an empty slice costs one index seek.
    """
    low = math.floor(box.min_latitude * per_degree)
    high = math.ceil(box.max_latitude * per_degree)
    return list(range(low, high + 1))
