"""JSON API v1: thin handlers that parse, authorise, call one service and serialise."""

from __future__ import annotations

from flask import Blueprint

bp = Blueprint("api", __name__, url_prefix="/api/v1")

from massage_booking.api import (  # noqa: E402,F401  (routes)
    auth,
    availability,
    conditions,
    courses,
    eligibility,
    geocode,
    openapi,
    search,
    therapist_sessions,
    therapists,
)
