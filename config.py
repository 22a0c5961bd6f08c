"""Configuration classes, read from the environment.

Each class is a plain object so `app.config.from_object` can load it; values that must come from the
environment in production are checked in `ProductionConfig.validate`, called by the app factory, so a
misconfigured deployment fails at start instead of serving with a guessable secret.
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


def _database_url(default: str, variable: str = "DATABASE_URL") -> str:
    url = os.environ.get(variable) or default
    # Heroku-style URLs say postgres://; SQLAlchemy wants an explicit driver.
    if url.startswith("postgres://"):
        url = "postgresql+psycopg://" + url.removeprefix("postgres://")
    elif url.startswith("postgresql://"):
        url = "postgresql+psycopg://" + url.removeprefix("postgresql://")
    return url


class ConfigError(RuntimeError):
    """Raised at start-up when the environment cannot run the app safely."""


class Config:
    SECRET_KEY = os.environ.get("SECRET_KEY", "dev-only-not-secret")
    SQLALCHEMY_DATABASE_URI = _database_url(f"sqlite:///{INSTANCE_DIR / 'massage_booking.sqlite3'}")
    SQLALCHEMY_ENGINE_OPTIONS: dict = {"pool_pre_ping": True}
    SQLALCHEMY_RECORD_QUERIES = False

    SESSION_COOKIE_HTTPONLY = True
    SESSION_COOKIE_SAMESITE = "Lax"
    SESSION_COOKIE_SECURE = _env_bool("SESSION_COOKIE_SECURE", False)
    REMEMBER_COOKIE_HTTPONLY = True
    REMEMBER_COOKIE_SAMESITE = "Lax"
    REMEMBER_COOKIE_SECURE = _env_bool("SESSION_COOKIE_SECURE", False)
    PERMANENT_SESSION_LIFETIME = 60 * 60 * 12

    WTF_CSRF_TIME_LIMIT = 60 * 60 * 4

    RATELIMIT_STORAGE_URI = os.environ.get("RATELIMIT_STORAGE_URI", "memory://")
    RATELIMIT_ENABLED = _env_bool("RATELIMIT_ENABLED", True)
    RATELIMIT_HEADERS_ENABLED = True
    # Login and token exchange: enough for a person who mistypes, too few for a password-guessing run.
    AUTH_RATE_LIMIT = os.environ.get("AUTH_RATE_LIMIT", "10 per minute;50 per hour")

    API_TOKEN_TTL_DAYS = int(os.environ.get("API_TOKEN_TTL_DAYS", "30"))
    # Reverse proxies in front of the app (nginx, a load balancer): trust that many X-Forwarded-* hops,
    # so rate limits and audit see the client's address rather than the proxy's.
    TRUST_PROXY_HOPS = int(os.environ.get("TRUST_PROXY_HOPS", "0"))
    MAX_CONTENT_LENGTH = 1024 * 1024

    @classmethod
    def validate(cls) -> None:
        """Nothing to check outside production."""


class DevelopmentConfig(Config):
    DEBUG = False


class TestingConfig(Config):
    TESTING = True
    SECRET_KEY = "testing-secret-key"  # noqa: S105 - a fixed key makes test runs reproducible
    # Never DATABASE_URL: a test run must not touch the database a developer works in.
    SQLALCHEMY_DATABASE_URI = _database_url("sqlite://", "TEST_DATABASE_URL")
    WTF_CSRF_ENABLED = True
    RATELIMIT_ENABLED = False


class ProductionConfig(Config):
    SESSION_COOKIE_SECURE = _env_bool("SESSION_COOKIE_SECURE", True)
    REMEMBER_COOKIE_SECURE = _env_bool("SESSION_COOKIE_SECURE", True)
    PREFERRED_URL_SCHEME = "https"

    @classmethod
    def validate(cls) -> None:
        missing = [name for name in ("SECRET_KEY", "DATABASE_URL") if not os.environ.get(name)]
        if missing:
            raise ConfigError(
                "Production needs these environment variables set: "
                + ", ".join(missing)
                + ". See the configuration table in README.md."
            )
        if len(os.environ["SECRET_KEY"]) < 32:
            raise ConfigError("SECRET_KEY must be at least 32 characters in production.")


CONFIGS: dict[str, type[Config]] = {
    "development": DevelopmentConfig,
    "testing": TestingConfig,
    "production": ProductionConfig,
}


def config_for(name: str | None) -> type[Config]:
    """Pick the config class named by `name` or by MASSAGE_BOOKING_ENV (default: development)."""
    key = (name or os.environ.get("MASSAGE_BOOKING_ENV") or "development").lower()
    try:
        return CONFIGS[key]
    except KeyError:
        raise ConfigError(f"Unknown MASSAGE_BOOKING_ENV {key!r}; use one of {', '.join(CONFIGS)}.") from None
