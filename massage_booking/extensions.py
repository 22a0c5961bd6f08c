"""Flask extensions, created unbound so that models, services and tests can import them without an app."""

from __future__ import annotations

from datetime import timedelta

from flask import current_app
from flask_limiter import Limiter
from flask_limiter.util import get_remote_address
from flask_login import LoginManager
from flask_migrate import Migrate
from flask_sqlalchemy import SQLAlchemy
from flask_wtf import CSRFProtect
from geopy.geocoders.base import Geocoder

from massage_booking.geocoding import online_geocoder
from massage_booking.models.base import Base
from massage_booking.notifications.links import Links
from massage_booking.payments import StripePayments

db = SQLAlchemy(model_class=Base)
migrate = Migrate()
login_manager = LoginManager()
csrf = CSRFProtect()
limiter = Limiter(key_func=get_remote_address, default_limits=[])


def payments() -> StripePayments:
    """The app's Stripe adapter (create_app puts it in app.extensions; disabled means pay at the visit)."""
    adapter: StripePayments = current_app.extensions["payments"]
    return adapter


def payment_hold() -> timedelta | None:
    """How long a new course holds its times while it is paid for; None in "pay at the visit" mode."""
    if not payments().enabled:
        return None
    return timedelta(minutes=current_app.config["PAYMENT_HOLD_MINUTES"])


def links() -> Links:
    """Where links in this app's messages point, and the key that signs them (PUBLIC_BASE_URL, SECRET_KEY)."""
    return Links.of(current_app.config)


GEOCODER = "massage_booking.geocoder"


def geocoder() -> Geocoder | None:
    """The app's online geocoder (GEOCODER, GEOCODER_USER_AGENT, GEOCODER_TIMEOUT), built once per app; None
    when GEOCODER is "offline". Tests may put their own geopy Geocoder into `app.extensions[GEOCODER]` to
    stand in for the remote service."""
    if GEOCODER not in current_app.extensions:
        config = current_app.config
        current_app.extensions[GEOCODER] = online_geocoder(
            config.get("GEOCODER", "offline"),
            config.get("GEOCODER_USER_AGENT", "massage_booking"),
            float(config.get("GEOCODER_TIMEOUT", 5)),
        )
    found: Geocoder | None = current_app.extensions[GEOCODER]
    return found
