"""Register, log in and log out pages."""

from __future__ import annotations

from flask import Blueprint

bp = Blueprint("auth", __name__)

from massage_booking.auth import views  # noqa: E402,F401  (registers the routes)
