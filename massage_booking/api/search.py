"""GET /api/v1/therapists: nearby therapists, filtered, nearest first, a page at a time.

Thin by design: parse the query string, run the search, serialise. Every bad parameter comes back in one
422 naming each field (`details.fields`), with the geocoder's suggestions when `near` was not understood.
The only writes are course fits the search had to recompute (services/course_fit.py), committed so the
next search reads them.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from flask import request

from massage_booking.api import bp
from massage_booking.extensions import db
from massage_booking.services import search


@bp.get("/therapists")
def search_therapists() -> Any:
    today = date.today()
    query = search.parse_search_params(db.session, request.args, today)
    results = search.search_therapists(db.session, query)
    body = search.search_results_json(results)
    db.session.commit()
    return body
