"""GET /api/v1/geocode?q=: what a ZIP code, "City, ST" or "lat,lon" means, answered offline.

Clients (the search page's "use this place" box, insurers' tools) call it to show a person which place
their words matched before they search. Unknown or ambiguous input is a 422 whose details name the
field `q` and list `suggestions`; the answer never depends on a third-party service.
"""

from __future__ import annotations

from typing import Any

from flask import jsonify, request

from massage_booking import geocoding
from massage_booking.api import bp
from massage_booking.geocoding import Place

# The gazetteer changes only with a new release of the zipcodes package, so answers can be reused.
CACHE_SECONDS = 24 * 60 * 60


def place_json(place: Place) -> dict[str, Any]:
    """A Place as the API shows it; the search API's `origin` can reuse this shape."""
    return {
        "lat": place.latitude,
        "lon": place.longitude,
        "label": place.label,
        "precision": place.precision.value,
        "time_zone": place.time_zone,
        "zip_code": place.zip_code,
        "city": place.city,
        "state": place.state,
    }


@bp.get("/geocode")
def geocode() -> Any:
    place = geocoding.locate(request.args.get("q", ""), field="q")
    response = jsonify(place_json(place))
    response.cache_control.public = True
    response.cache_control.max_age = CACHE_SECONDS
    return response
