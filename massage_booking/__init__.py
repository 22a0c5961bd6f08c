"""The application factory: configuration, extensions, blueprints, error handlers and CLI. Wiring only."""

from __future__ import annotations

from typing import Any

from flask import Flask


def create_app(config_name: str | None = None, overrides: dict[str, Any] | None = None) -> Flask:
    # config.py sits at the repository root (the product's fixed layout); importing it here, not at
    # module level, keeps models and services importable from scripts that only need the database.
    from config import config_for
    from massage_booking import database
    from massage_booking.extensions import csrf, db, limiter, login_manager, migrate
    from massage_booking.payments import StripePayments
    from massage_booking.web import errors, security, session_auth

    config = config_for(config_name)
    config.validate()

    app = Flask(
        __name__,
        instance_relative_config=False,
        template_folder="../templates",
        static_folder="../static",
    )
    app.config.from_object(config)
    app.config["ENV_NAME"] = type(config).__name__.removesuffix("Config").lower()
    if overrides:
        app.config.update(overrides)

    hops = app.config["TRUST_PROXY_HOPS"]
    if hops:
        from werkzeug.middleware.proxy_fix import ProxyFix

        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=hops, x_proto=hops, x_host=hops)  # type: ignore[method-assign]

    database.prepare(app)
    db.init_app(app)
    migrate.init_app(app, db, directory=str(database.MIGRATIONS_DIR), render_as_batch=True, compare_type=True)
    csrf.init_app(app)
    limiter.init_app(app)
    login_manager.init_app(app)
    with app.app_context():
        database.configure_engine(db.engine)

    session_auth.init_app(app)
    security.init_app(app)
    errors.init_app(app)
    # One Stripe adapter per app, read by views as app.extensions["payments"]; disabled (pay at the
    # visit) when no secret key is configured.
    app.extensions["payments"] = StripePayments.from_config(app.config)

    from massage_booking.api import bp as api_bp
    from massage_booking.auth import bp as auth_bp
    from massage_booking.web import bp as web_bp

    app.register_blueprint(web_bp)
    app.register_blueprint(auth_bp)
    app.register_blueprint(api_bp)
    csrf.exempt(api_bp)  # the API authenticates with bearer tokens, never with cookies
    from massage_booking.fhir import bp as fhir_bp

    app.register_blueprint(fhir_bp)
    csrf.exempt(fhir_bp)  # bearer tokens too, like the JSON API
    from massage_booking.api.stripe_webhook import bp as stripe_bp

    app.register_blueprint(stripe_bp)
    csrf.exempt(stripe_bp)  # Stripe signs its events; it has no cookie or form token

    from massage_booking.cli import register_cli

    register_cli(app)
    if app.config["ENV_NAME"] == "production":
        # Build the ZIP index now (one to three seconds) rather than on the first visitor's search;
        # under `gunicorn --preload` the workers then share it.
        from massage_booking.geocoding import gazetteer

        gazetteer()
    return app
