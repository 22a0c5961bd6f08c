"""Server-rendered pages: home, therapist profiles, the therapist's own profile editor, admin review."""

from __future__ import annotations

from flask import Blueprint

bp = Blueprint("web", __name__)

# Imported last: each module registers its routes, filters or context on `bp`.
from massage_booking.web import (  # noqa: E402,F401
    admin,
    admin_payments,
    api_docs,
    availability,
    calendar_feed,
    card_payment,
    care,
    evidence,
    formatting,
    insurer,
    notifications,
    public,
    search,
    superbill,
    therapist,
    therapist_sessions,
)
