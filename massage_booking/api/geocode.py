"""GET /api/v1/geocode?q=: what a ZIP code, "City, ST" or "lat,lon" means, answered offline.

Clients (the search page's "use this place" box, insurers' tools) call it to show a person which place
their words matched before they search. Unknown or ambiguous input is a 422 whose details name the
field `q` and list `suggestions`; the answer never depends on a third-party service.
"""

from __future__ import annotations

from massage_booking import geocoding
from massage_booking.api.contract import Reply, operation
from massage_booking.schemas.places import GeocodeQuery, Place, place_of
from massage_booking.schemas.replies import VALIDATION

# The gazetteer changes only with a new release of the zipcodes package, so answers can be reused.
CACHE_SECONDS = 24 * 60 * 60


@operation(
    "GET",
    "/geocode",
    operation_id="geocode",
    tag="Places",
    summary="Locate a place",
    description='A ZIP (or ZIP+4), "City, ST" or "lat,lon", answered offline. Unknown or ambiguous input is '
    "a 422 naming `q`, with `details.suggestions`.",
    query=GeocodeQuery,
    responses={200: Reply("The place.", Place), 422: VALIDATION},
)
def geocode(query: GeocodeQuery) -> tuple[Place, dict[str, str]]:
    place = geocoding.locate(query.q, field="q")
    return place_of(place), {"Cache-Control": f"public, max-age={CACHE_SECONDS}"}
