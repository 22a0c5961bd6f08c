"""domain/geo.py: distances that are geopy's to the last bit, and boxes that never lose a circle's point."""

from __future__ import annotations

import math

import pytest
from geopy.distance import great_circle
from hypothesis import given, settings
from hypothesis import strategies as st

from massage_booking.domain.geo import (
    KM_PER_MILE,
    BoundingBox,
    DistanceFrom,
    bounding_box,
    distance,
    latitude_slices,
    to_km,
)

latitudes = st.one_of(
    st.floats(-90, 90),
    st.sampled_from((-90.0, 90.0, 0.0)),
    st.floats(85, 90),  # near the North Pole
    st.floats(-90, -85),
)
longitudes = st.one_of(
    st.floats(-180, 180),
    st.sampled_from((-180.0, 180.0, 0.0)),
    st.floats(175, 180),  # near the antimeridian (the western Aleutians)
    st.floats(-180, -175),
)
points = st.tuples(latitudes, longitudes)
units = st.sampled_from(("mi", "km"))


# ------------------------------------------------------------------------------------------ distances


@settings(max_examples=500)
@given(origin=points, point=points)
def test_distance_from_is_bit_identical_to_geopy_great_circle(origin, point):
    d = great_circle(origin, point)
    assert DistanceFrom(origin, "mi")(*point) == d.miles
    assert DistanceFrom(origin, "km")(*point) == d.km
    assert DistanceFrom(origin, "km").km(*point) == d.km
    assert distance(origin, point, "mi") == d.miles
    assert distance(origin, point, "km") == d.km


def test_known_distances():
    # geopy's own documented example: Newport, RI to Cleveland, OH.
    assert distance((41.49008, -71.312796), (41.499498, -81.695391)) == pytest.approx(536.997990696)
    assert distance((0.0, 179.5), (0.0, -179.5), "km") == pytest.approx(111.195, rel=1e-4)  # across 180°
    assert distance((90.0, 0.0), (90.0, 123.0)) == pytest.approx(0, abs=1e-9)  # all meridians meet


def test_unit_conversions():
    assert KM_PER_MILE == 1.609344
    assert to_km(1, "mi") == 1.609344
    assert to_km(5, "km") == 5
    with pytest.raises(ValueError):
        to_km(1, "yards")
    with pytest.raises(ValueError):
        DistanceFrom((0, 0), "furlongs")


# ------------------------------------------------------------------------------------------ boxes


@settings(max_examples=500)
@given(
    origin=points,
    radius=st.one_of(st.floats(0.001, 250), st.sampled_from((250.0, 1e-9))),
    bearing=st.floats(0, 360),
    fraction=st.one_of(st.just(1.0), st.floats(0, 1)),
    unit=units,
)
def test_the_box_holds_every_point_of_the_circle_even_at_poles_and_antimeridian(
    origin, radius, bearing, fraction, unit
):
    box = bounding_box(origin, radius, unit)
    target = great_circle(kilometers=to_km(radius * fraction, unit)).destination(origin, bearing)
    point = (target.latitude, target.longitude)
    if distance(origin, point, unit) <= radius:  # destination() itself rounds: judge by the distance
        assert box.contains(*point), (box, point)
    assert box.contains(*origin)
    assert -90 <= box.min_latitude <= box.max_latitude <= 90
    for west, east in box.longitudes:
        assert -180 <= west <= east <= 180


@settings(max_examples=100)
@given(origin=st.tuples(st.floats(-80, 80), longitudes), radius=st.floats(1, 250), unit=units)
def test_the_box_is_tight_its_edges_touch_the_circle(origin, radius, unit):
    """Every edge is at most a hair beyond a point of the circle: a looser box would read needless rows."""
    box = bounding_box(origin, radius, unit)
    reach = to_km(radius, unit)
    north = great_circle(kilometers=reach).destination(origin, 0).latitude
    south = great_circle(kilometers=reach).destination(origin, 180).latitude
    if box.longitudes == ((-180.0, 180.0),):
        return  # the circle holds a pole
    assert box.max_latitude == pytest.approx(north, abs=1e-6)
    assert box.min_latitude == pytest.approx(south, abs=1e-6)
    # The widest point is poleward of the origin, on the meridian tangent to the circle.
    widest = max(
        abs(_east_offset(origin[1], great_circle(kilometers=reach).destination(origin, b).longitude))
        for b in [i / 4 for i in range(0, 720)]  # a finer grid would only move the 5th decimal
    )
    half_width = sum(east - west for west, east in box.longitudes) / 2
    assert half_width == pytest.approx(widest, abs=1e-4)
    assert half_width >= widest - 1e-9


def _east_offset(origin_lon: float, lon: float) -> float:
    return (lon - origin_lon + 540) % 360 - 180


def test_a_box_across_the_antimeridian_is_two_ranges():
    box = bounding_box((52.0, 179.9), 100, "mi")
    assert len(box.longitudes) == 2
    (west, east_edge), (west_edge, east) = box.longitudes
    assert east_edge == 180.0 and west_edge == -180.0
    assert 177 < west < 179.9 and -178 < east < -179.9 + 3
    assert box.contains(52.0, -179.5) and box.contains(52.0, 179.5)
    assert not box.contains(52.0, 0.0)
    mirrored = bounding_box((52.0, -179.9), 100, "mi")
    assert mirrored.longitudes == ((pytest.approx(-east), 180.0), (-180.0, pytest.approx(-west)))


def test_a_box_around_a_pole_takes_every_longitude():
    box = bounding_box((89.5, 10.0), 50, "mi")
    assert box.longitudes == ((-180.0, 180.0),)
    assert box.max_latitude == 90.0 and box.min_latitude == pytest.approx(89.5 - 0.7236, abs=1e-3)
    south = bounding_box((-89.9, 0.0), 12, "km")  # 0.108° of arc: past the South Pole
    assert south.min_latitude == -90.0 and south.longitudes == ((-180.0, 180.0),)
    short_of_it = bounding_box((-89.9, 0.0), 10, "km")  # 0.0899°: stops short, a (wide) box
    assert short_of_it.min_latitude > -90.0 and short_of_it.longitudes[0][1] == pytest.approx(64.07, abs=0.01)


def test_a_radius_around_the_world_is_the_whole_world():
    assert bounding_box((10.0, 20.0), 30_000, "km") == BoundingBox(-90.0, 90.0, ((-180.0, 180.0),))


def test_bad_box_input():
    with pytest.raises(ValueError):
        bounding_box((0.0, 0.0), -1)
    with pytest.raises(ValueError):
        bounding_box((0.0, 0.0), math.inf)
    with pytest.raises(ValueError):
        bounding_box((91.0, 0.0), 1)
    with pytest.raises(ValueError):
        bounding_box((0.0, 181.0), 1)


@given(origin=points, radius=st.floats(0.001, 400), unit=units, fraction=st.floats(0, 1))
def test_latitude_slices_cover_both_truncation_and_rounding(origin, radius, unit, fraction):
    """The slice the database computes for any latitude in the box is listed, in SQLite (CAST truncates)
    and in PostgreSQL (CAST rounds)."""
    box = bounding_box(origin, radius, unit)
    latitude = box.min_latitude + fraction * (box.max_latitude - box.min_latitude)
    slices = latitude_slices(box, 10)
    assert int(latitude * 10) in slices
    assert round(latitude * 10) in slices
    assert slices == list(range(slices[0], slices[-1] + 1))
    assert len(slices) <= (box.max_latitude - box.min_latitude) * 10 + 3
