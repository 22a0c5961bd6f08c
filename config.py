"""Configuration classes, read from the environment when the app is created.

Values are read in `__init__`, not at import, so that the environment a process has when it calls
`create_app` is the one it runs with and the one production's checks look at.
"""

from __future__ import annotations

import os
from pathlib import Path

BASE_DIR = Path(__file__).resolve().parent
INSTANCE_DIR = BASE_DIR / "instance"


def _env_bool(name: str, default: bool) -> bool:
    raw = os.environ.get(name)
    if raw is None or raw == "":
        return default
    return raw.strip().lower() in {"1", "true", "yes", "on"}


def database_url(raw: str) -> str:
    """SQLAlchemy's URL for `raw`: postgres:// and postgresql:// get the psycopg 3 driver spelled out."""
    for prefix in ("postgres://", "postgresql://"):
        if raw.startswith(prefix):
            return "postgresql+psycopg://" + raw.removeprefix(prefix)
    return raw


class ConfigError(RuntimeError):
    """Raised at start-up when the environment cannot run the app safely."""


class Config:
    SQLALCHEMY_RECORD_QUERIES = False
    SESSION_COOKIE_HTTPONLY = True
    SESSION_COOKIE_SAMESITE = "Lax"
    REMEMBER_COOKIE_HTTPONLY = True
    REMEMBER_COOKIE_SAMESITE = "Lax"
    PERMANENT_SESSION_LIFETIME = 60 * 60 * 12
    WTF_CSRF_TIME_LIMIT = 60 * 60 * 4
    RATELIMIT_HEADERS_ENABLED = True
    MAX_CONTENT_LENGTH = 1024 * 1024
    DEFAULT_DATABASE_URL = f"sqlite:///{INSTANCE_DIR / 'massage_booking.sqlite3'}"
    DATABASE_URL_VARIABLE = "DATABASE_URL"
    SECURE_COOKIES_BY_DEFAULT = False

    def __init__(self) -> None:
        env = os.environ
        self.SECRET_KEY = env.get("SECRET_KEY") or "dev-only-not-secret"
        raw_url = env.get(self.DATABASE_URL_VARIABLE) or self.DEFAULT_DATABASE_URL
        self.SQLALCHEMY_DATABASE_URI = database_url(raw_url)
        # hide_parameters: a logged database error must not carry the statement's values (health data,
        # e-mail addresses); pool_pre_ping: a connection the server dropped is replaced, not used.
        self.SQLALCHEMY_ENGINE_OPTIONS = {"pool_pre_ping": True, "hide_parameters": True}
        secure = _env_bool("SESSION_COOKIE_SECURE", self.SECURE_COOKIES_BY_DEFAULT)
        self.SESSION_COOKIE_SECURE = secure
        self.REMEMBER_COOKIE_SECURE = secure
        self.RATELIMIT_STORAGE_URI = env.get("RATELIMIT_STORAGE_URI", "memory://")
        self.RATELIMIT_ENABLED = _env_bool("RATELIMIT_ENABLED", True)
        # Login and token exchange: enough for a person who mistypes, too few for a password-guessing run.
        self.AUTH_RATE_LIMIT = env.get("AUTH_RATE_LIMIT", "10 per minute;50 per hour")
        self.API_TOKEN_TTL_DAYS = int(env.get("API_TOKEN_TTL_DAYS", "30"))
        # Reverse proxies in front of the app (nginx, a load balancer): trust that many X-Forwarded-*
        # hops, so rate limits and the audit log see the client's address rather than the proxy's.
        self.TRUST_PROXY_HOPS = int(env.get("TRUST_PROXY_HOPS", "0"))
        # Geocoding: "offline" answers from the zipcodes package only; "nominatim" (or another geopy
        # geocoder name) is also asked for street addresses, with answers cached in the database.
        self.GEOCODER = env.get("GEOCODER", "offline").strip().lower()
        self.GEOCODER_USER_AGENT = env.get("GEOCODER_USER_AGENT", "massage_booking/0.1 (self-hosted)")
        self.GEOCODER_TIMEOUT = float(env.get("GEOCODER_TIMEOUT", "5"))
        # Map tiles for the search page; empty means no tiles (the map still shows markers and the circle).
        self.MAP_TILE_URL = env.get("MAP_TILE_URL", "https://tile.openstreetmap.org/{z}/{x}/{y}.png")
        self.MAP_TILE_ATTRIBUTION = env.get("MAP_TILE_ATTRIBUTION", "&copy; OpenStreetMap contributors")
        # Card payments (massage_booking/payments.py). No secret key: "pay at the visit". STRIPE_API_BASE
        # points the SDK at a localstripe server in development and tests; STRIPE_JS_URL is where the
        # browser loads Stripe.js from (Stripe's own by default, localstripe's copy in development).
        self.STRIPE_SECRET_KEY = env.get("STRIPE_SECRET_KEY") or None
        self.STRIPE_PUBLISHABLE_KEY = env.get("STRIPE_PUBLISHABLE_KEY") or None
        self.STRIPE_WEBHOOK_SECRET = env.get("STRIPE_WEBHOOK_SECRET") or None
        self.STRIPE_API_BASE = env.get("STRIPE_API_BASE") or None
        self.STRIPE_JS_URL = env.get("STRIPE_JS_URL") or None
        # How long a course booked with card payments on holds its times while the patient pays.
        self.PAYMENT_HOLD_MINUTES = int(env.get("PAYMENT_HOLD_MINUTES", "15"))
        # E-mail (massage_booking/notifications/): links in messages start with PUBLIC_BASE_URL, because the
        # sender runs from the CLI with no request to take the host from. Without MAIL_SERVER nothing is sent:
        # `flask send-outbox` writes each message to the "massage_booking.mail" logger (instance/mail.log).
        self.PUBLIC_BASE_URL = (env.get("PUBLIC_BASE_URL") or "http://127.0.0.1:5000").rstrip("/")
        self.MAIL_SERVER = env.get("MAIL_SERVER") or None
        self.MAIL_PORT = int(env.get("MAIL_PORT", "587"))
        self.MAIL_USE_TLS = _env_bool("MAIL_USE_TLS", True)  # STARTTLS after connecting
        self.MAIL_USE_SSL = _env_bool("MAIL_USE_SSL", False)  # TLS from the first byte (port 465)
        self.MAIL_USERNAME = env.get("MAIL_USERNAME") or None
        self.MAIL_PASSWORD = env.get("MAIL_PASSWORD") or None
        self.MAIL_SENDER = env.get("MAIL_SENDER", "massage_booking <no-reply@localhost>")
        self.MAIL_TIMEOUT = float(env.get("MAIL_TIMEOUT", "10"))
        self.MAIL_LOG_FILE = env.get("MAIL_LOG_FILE", str(INSTANCE_DIR / "mail.log"))
        # Patients get a reminder this many hours before each session (queued by `flask queue-reminders`
        # and by `flask send-outbox` before it sends); they can turn reminders off.
        self.REMINDER_HOURS_BEFORE = float(env.get("REMINDER_HOURS_BEFORE", "24"))

    def validate(self) -> None:
        """Nothing to check outside production."""


class DevelopmentConfig(Config):
    DEBUG = False


class TestingConfig(Config):
    TESTING = True
    WTF_CSRF_ENABLED = True
    # Never DATABASE_URL: a test run must not touch the database a developer works in.
    DATABASE_URL_VARIABLE = "TEST_DATABASE_URL"
    DEFAULT_DATABASE_URL = "sqlite://"

    def __init__(self) -> None:
        super().__init__()
        self.SECRET_KEY = "testing-secret-key"  # noqa: S105 - a fixed key makes test runs reproducible
        self.RATELIMIT_ENABLED = False
        self.GEOCODER = "offline"  # tests never reach the network
        self.MAP_TILE_URL = ""
        # Tests that take payments point at their own localstripe (tests/integration/conftest.py); a
        # developer's Stripe keys in the environment must never be used by a test run.
        for name in ("SECRET_KEY", "PUBLISHABLE_KEY", "WEBHOOK_SECRET", "API_BASE", "JS_URL"):
            setattr(self, f"STRIPE_{name}", None)
        # Likewise mail: tests that send point at their own aiosmtpd (tests/conftest.py `smtp_settings`);
        # otherwise messages stay in the outbox or go to a log file of the test's own.
        self.MAIL_SERVER = None
        self.MAIL_USERNAME = self.MAIL_PASSWORD = None
        self.MAIL_USE_TLS = False
        self.MAIL_LOG_FILE = None


class ProductionConfig(Config):
    PREFERRED_URL_SCHEME = "https"
    SECURE_COOKIES_BY_DEFAULT = True

    def validate(self) -> None:
        missing = [name for name in ("SECRET_KEY", "DATABASE_URL") if not os.environ.get(name)]
        if missing:
            raise ConfigError(
                "Production needs these environment variables set: "
                + ", ".join(missing)
                + ". See the configuration table in README.md."
            )
        if len(self.SECRET_KEY) < 32:
            raise ConfigError("SECRET_KEY must be at least 32 characters in production.")
        if self.STRIPE_SECRET_KEY and not (self.STRIPE_PUBLISHABLE_KEY and self.STRIPE_WEBHOOK_SECRET):
            # Without the webhook secret no payment could ever be confirmed; without the publishable key
            # the browser cannot load the card form.
            raise ConfigError(
                "With STRIPE_SECRET_KEY set, production also needs STRIPE_PUBLISHABLE_KEY and "
                "STRIPE_WEBHOOK_SECRET. See the configuration table in README.md."
            )


CONFIGS: dict[str, type[Config]] = {
    "development": DevelopmentConfig,
    "testing": TestingConfig,
    "production": ProductionConfig,
}


def config_for(name: str | None) -> Config:
    """The configuration named by `name` or by MASSAGE_BOOKING_ENV (default: development), read now."""
    key = (name or os.environ.get("MASSAGE_BOOKING_ENV") or "development").lower()
    try:
        config_cls = CONFIGS[key]
    except KeyError:
        raise ConfigError(f"Unknown MASSAGE_BOOKING_ENV {key!r}; use one of {', '.join(CONFIGS)}.") from None
    return config_cls()
