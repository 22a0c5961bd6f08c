"""The therapist directory behind the browse pages: nearest first within a radius, A to Z, and featured.

The geographic query is two steps. A bounding box on the indexed latitude/longitude columns lets SQL
discard almost every row cheaply; geopy's geodesic then gives the exact distance, which both sorts the
results and cuts the box's corners (they lie farther away than the radius). A Python loop over every
row would take over a minute at a million locations (DESIGN.md, "Known traps"); the box keeps the loop
to the few rows near the origin. The full search (filters, soonest availability, map) extends this in
the search issue, together with a geopy Geocoder in geocoding.py that replaces `resolve_origin`.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from datetime import date

import zipcodes
from geopy.distance import geodesic
from sqlalchemy import and_, func, or_, select
from sqlalchemy.orm import Session, selectinload

from massage_booking.domain.errors import ValidationFailed
from massage_booking.domain.identifiers import US_STATES, is_zip_code
from massage_booking.geocoding import zip_place
from massage_booking.models import (
    CredentialStatus,
    InsurancePlan,
    NetworkMembership,
    OncologyCredential,
    PracticeLocation,
    TherapistProfile,
)

DEFAULT_RADIUS_MILES = 50.0
PER_PAGE = 20
FEATURED_LIMIT = 3

# WGS84 bounds, in statute miles: one degree of latitude spans 68.70 (equator) to 69.41 (poles); one
# degree of longitude spans at least 69.17 * cos(latitude). Using the smaller values makes the box a
# little too big, never too small, so the exact geodesic cut afterwards loses nobody.
_MIN_MILES_PER_DEGREE_LAT = 68.70
_MIN_MILES_PER_DEGREE_LON_AT_EQUATOR = 69.17
_CITY_STATE = re.compile(r"^\s*(?P<city>[A-Za-z][A-Za-z .'\-]*?)\s*,\s*(?P<state>[A-Za-z]{2})\s*$")


@dataclass(frozen=True)
class Origin:
    """Where a search is measured from, with a label to show back to the person searching."""

    label: str
    latitude: float
    longitude: float


@dataclass(frozen=True)
class Listing:
    """One therapist in a result list; `location` is the practice nearest the origin (or the first)."""

    profile: TherapistProfile
    location: PracticeLocation | None
    distance_miles: float | None


@dataclass(frozen=True)
class ResultPage:
    listings: list[Listing]
    total: int
    page: int
    per_page: int
    origin: Origin | None = None
    radius_miles: float | None = None

    @property
    def pages(self) -> int:
        return max(1, math.ceil(self.total / self.per_page))

    @property
    def has_prev(self) -> bool:
        return self.page > 1

    @property
    def has_next(self) -> bool:
        return self.page < self.pages


def resolve_origin(near: str) -> Origin:
    """A 5-digit ZIP (or ZIP+4) or "City, ST" as a point; ValidationFailed on the field `near` otherwise.

    Cities are answered from the same offline `zipcodes` data as ZIPs, as the mean of the city's
    standard ZIP centroids, so that the search box's label ("ZIP code or City, ST") is true today.
    """
    value = (near or "").strip()
    if is_zip_code(value) or value.isdigit():
        place = zip_place(value, field="near")
        return Origin(f"{place.city}, {place.state} {place.zip_code}", place.latitude, place.longitude)
    match = _CITY_STATE.match(value)
    if match is None:
        raise ValidationFailed.for_field(
            "near", "Enter a 5-digit ZIP code, like 10016, or a city and state, like Boston, MA."
        )
    city = " ".join(match["city"].split())
    state = match["state"].upper()
    if state not in US_STATES:
        raise ValidationFailed.for_field(
            "near", f"{match['state']} is not a US state code; use two letters, like MA."
        )
    rows = [
        z
        for z in zipcodes.filter_by(state=state)
        if z.get("lat") and z.get("long") and z["city"].casefold() == city.casefold()
    ]
    standard = [z for z in rows if z.get("zip_code_type") == "STANDARD"] or rows
    if not standard:
        raise ValidationFailed.for_field(
            "near", f"We could not find {city}, {state}. Check the spelling or use a ZIP code."
        )
    lat = sum(float(z["lat"]) for z in standard) / len(standard)
    lon = sum(float(z["long"]) for z in standard) / len(standard)
    return Origin(f"{standard[0]['city']}, {state}", lat, lon)


def _listing_options():  # noqa: ANN202 - loader options for what a result card shows
    return (
        selectinload(TherapistProfile.credentials),
        selectinload(TherapistProfile.locations),
        selectinload(TherapistProfile.networks)
        .selectinload(NetworkMembership.plan)
        .selectinload(InsurancePlan.payer),
    )


def _bounding_box(
    lat: float, lon: float, radius_miles: float
) -> tuple[float, float, list[tuple[float, float]]]:
    """(min_lat, max_lat, longitude ranges) that contain every point within `radius_miles`.

    The longitude span is computed at the box's edge nearest a pole, where it is widest; a box that
    crosses the antimeridian (the Aleutians) becomes two longitude ranges.
    """
    dlat = radius_miles / _MIN_MILES_PER_DEGREE_LAT
    min_lat, max_lat = max(-90.0, lat - dlat), min(90.0, lat + dlat)
    widest = math.cos(math.radians(max(abs(min_lat), abs(max_lat))))
    if widest <= 1e-6 or radius_miles / (_MIN_MILES_PER_DEGREE_LON_AT_EQUATOR * widest) >= 180:
        return min_lat, max_lat, [(-180.0, 180.0)]
    dlon = radius_miles / (_MIN_MILES_PER_DEGREE_LON_AT_EQUATOR * widest)
    west, east = lon - dlon, lon + dlon
    if west < -180:
        return min_lat, max_lat, [(west + 360, 180.0), (-180.0, east)]
    if east > 180:
        return min_lat, max_lat, [(west, 180.0), (-180.0, east - 360)]
    return min_lat, max_lat, [(west, east)]


def _clamp_page(page: int, total: int, per_page: int) -> int:
    return min(max(1, page), max(1, math.ceil(total / per_page)))


def nearest(
    session: Session,
    origin: Origin,
    *,
    radius_miles: float = DEFAULT_RADIUS_MILES,
    page: int = 1,
    per_page: int = PER_PAGE,
) -> ResultPage:
    """Therapists with a practice within `radius_miles` of `origin`, nearest first, one page of them."""
    min_lat, max_lat, lon_ranges = _bounding_box(origin.latitude, origin.longitude, radius_miles)
    rows = session.execute(
        select(
            PracticeLocation.id,
            PracticeLocation.therapist_id,
            PracticeLocation.latitude,
            PracticeLocation.longitude,
            TherapistProfile.name,
        )
        .join(TherapistProfile, TherapistProfile.id == PracticeLocation.therapist_id)
        .where(
            PracticeLocation.latitude.between(min_lat, max_lat),
            or_(*(PracticeLocation.longitude.between(west, east) for west, east in lon_ranges)),
        )
    ).all()

    here = (origin.latitude, origin.longitude)
    best: dict[int, tuple[float, str, int]] = {}  # therapist id -> (miles, name, location id)
    for location_id, therapist_id, lat, lon, name in rows:
        miles = geodesic(here, (lat, lon)).miles
        if miles <= radius_miles and (therapist_id not in best or miles < best[therapist_id][0]):
            best[therapist_id] = (miles, name, location_id)
    ranked = sorted(best.items(), key=lambda item: (round(item[1][0], 3), item[1][1].casefold(), item[0]))

    total = len(ranked)
    page = _clamp_page(page, total, per_page)
    chosen = ranked[(page - 1) * per_page : page * per_page]
    profiles = {
        p.id: p
        for p in session.scalars(
            select(TherapistProfile)
            .where(TherapistProfile.id.in_([therapist_id for therapist_id, _ in chosen]))
            .options(*_listing_options())
        )
    }
    listings = []
    for therapist_id, (miles, _name, location_id) in chosen:
        profile = profiles[therapist_id]
        location = next((loc for loc in profile.locations if loc.id == location_id), None)
        listings.append(Listing(profile, location, miles))
    return ResultPage(listings, total, page, per_page, origin=origin, radius_miles=radius_miles)


def alphabetical(session: Session, *, page: int = 1, per_page: int = PER_PAGE) -> ResultPage:
    """Every therapist with a profile, A to Z by name: the browse page before someone says where they are."""
    total = session.scalar(select(func.count()).select_from(TherapistProfile)) or 0
    page = _clamp_page(page, total, per_page)
    profiles = session.scalars(
        select(TherapistProfile)
        .options(*_listing_options())
        .order_by(func.lower(TherapistProfile.name), TherapistProfile.id)
        .offset((page - 1) * per_page)
        .limit(per_page)
    )
    listings = [Listing(p, p.locations[0] if p.locations else None, None) for p in profiles]
    return ResultPage(listings, total, page, per_page)


def featured(session: Session, today: date, limit: int = FEATURED_LIMIT) -> list[TherapistProfile]:
    """A few therapists holding a verified oncology credential unexpired on `today`, for the home page.

    Those accepting new patients come first: featuring someone a patient cannot book would waste the
    patient's time.
    """
    active = and_(
        OncologyCredential.status == CredentialStatus.VERIFIED,
        or_(OncologyCredential.expires_on.is_(None), OncologyCredential.expires_on >= today),
    )
    return list(
        session.scalars(
            select(TherapistProfile)
            .where(TherapistProfile.credentials.any(active))
            .options(*_listing_options())
            .order_by(
                TherapistProfile.accepting_new_patients.desc(),
                func.lower(TherapistProfile.name),
                TherapistProfile.id,
            )
            .limit(limit)
        )
    )


def public_profile_id(session: Session, user_id: int) -> int | None:
    """The id of the user's public therapist page, if they have saved a profile (the navigation links it)."""
    return session.scalar(select(TherapistProfile.id).where(TherapistProfile.user_id == user_id))
