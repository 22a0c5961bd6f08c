"""Error responses: the JSON envelope under /api and /fhir, HTML pages elsewhere.

A 500 rolls the session back first, so that nothing half-written from the failed request can be
committed by anything that runs after it.

A lost database connection is a 503 with Retry-After, not a 500: the request was fine and will work once
the database is back (the engine's pool_pre_ping replaces the dead connections, with no restart), and
clients that retry by themselves (Stripe's webhooks, insurers' gateways) should.
"""

from __future__ import annotations

import logging
import sqlite3
from typing import Any

import psycopg
from flask import Flask, Response, current_app, jsonify, render_template, request
from flask_wtf.csrf import CSRFError
from sqlalchemy.exc import DBAPIError, SQLAlchemyError
from sqlalchemy.exc import TimeoutError as PoolTimeoutError
from werkzeug.exceptions import HTTPException, InternalServerError

from massage_booking.domain.errors import DomainError
from massage_booking.extensions import db

log = logging.getLogger(__name__)

_CODES = {
    400: "bad_request",
    401: "unauthorized",
    403: "forbidden",
    404: "not_found",
    405: "method_not_allowed",
    409: "conflict",
    413: "payload_too_large",
    415: "unsupported_media_type",
    422: "validation_failed",
    429: "rate_limited",
    500: "internal_error",
}

# Long enough for a restart or a fail-over to finish, short enough that a person who waits is not kept long.
RETRY_AFTER_SECONDS = 5
UNAVAILABLE_MESSAGE = "The service is briefly unavailable. Nothing was changed; please try again in a moment."

# SQLSTATEs with which PostgreSQL refuses or ends a connection for a reason that passes: class 08
# (connection exception) by prefix, and too many connections, shutting down, crashed, starting up. Other
# OperationalErrors (deadlock 40P01, serialization failure 40001, lock timeout 55P03, query cancelled
# 57014, a wrong password 28P01) are answers about the request or the set-up, not a server out of reach.
_PG_UNAVAILABLE_STATES = frozenset({"53300", "57P01", "57P02", "57P03"})


def wants_json() -> bool:
    return request.path.startswith(("/api/", "/fhir/", "/stripe/"))


def error_response(status: int, code: str, message: str, details: dict[str, Any] | None = None) -> Response:
    response = jsonify({"error": {"code": code, "message": message, "details": details or {}}})
    response.status_code = status
    return response


def is_database_outage(exc: BaseException) -> bool:
    """Whether `exc` says the database cannot be reached now, rather than that this request was wrong.

    SQLite's "database is locked" is an OperationalError too, but it means a busy writer (services turn it
    into a 409), so only SQLITE_CANTOPEN counts: the file or its directory cannot be opened at all.
    """
    if isinstance(exc, PoolTimeoutError):  # every pooled connection stayed busy for pool_timeout
        return True
    if not isinstance(exc, DBAPIError):
        return False
    if exc.connection_invalidated:  # SQLAlchemy saw the connection break during the statement
        return True
    cause = exc.orig
    if isinstance(cause, psycopg.OperationalError):
        # No SQLSTATE: libpq's own error (connection refused, host not found, connection lost), since
        # everything the server says carries one. Connecting afresh is not a disconnect to SQLAlchemy.
        state = cause.sqlstate
        return state is None or state.startswith("08") or state in _PG_UNAVAILABLE_STATES
    if isinstance(cause, sqlite3.OperationalError):
        cannot_open = getattr(cause, "sqlite_errorname", None) == "SQLITE_CANTOPEN"
        return cannot_open or "unable to open database file" in str(cause)
    return False


def rollback_quietly() -> None:
    """Roll back what the request did; with the connection gone, the rollback itself may fail too."""
    try:
        db.session.rollback()
    except SQLAlchemyError as exc:  # no traceback: its chain would print the failed statement's parameters
        log.debug("Rollback failed after losing the database connection (%s)", type(exc).__name__)


def log_outage(exc: BaseException) -> None:
    """One line per outage. The exception's text holds the SQL and its parameters (health data, e-mail
    addresses): log only what kind of failure it was, and where."""
    cause = getattr(exc, "orig", None) or exc
    state = getattr(cause, "sqlstate", None)
    log.warning(
        "Database unavailable (%s%s) on %s %s: answered 503",
        type(cause).__name__,
        f" {state}" if state else "",
        request.method,
        request.path,
    )


def _outage_response() -> Any:
    """The 503, made without touching the database. Loading the user needs it (Flask-Login's loader, or a
    refresh of the user the rollback expired), so the page is standalone rather than extending base.html,
    and is rendered from the Jinja environment directly: render_template would run Flask-Login's context
    processor, which loads current_user for every template."""
    if wants_json():
        response = error_response(503, "database_unavailable", UNAVAILABLE_MESSAGE)
    else:
        page = current_app.jinja_env.get_template("errors/503.html").render()
        response = Response(page, status=503, mimetype="text/html")
    response.headers["Retry-After"] = str(RETRY_AFTER_SECONDS)
    return response


def init_app(app: Flask) -> None:
    @app.errorhandler(DomainError)
    def _domain_error(exc: DomainError) -> Any:
        db.session.rollback()
        if wants_json():
            return error_response(exc.status, exc.code, exc.message, exc.details)
        return render_template("errors/error.html", status=exc.status, message=exc.message), exc.status

    @app.errorhandler(CSRFError)
    def _csrf_error(exc: CSRFError) -> Any:
        message = "This form expired or was sent from another site. Reload the page and try again."
        if wants_json():
            return error_response(400, "csrf_failed", message)
        return render_template("errors/error.html", status=400, message=message), 400

    @app.errorhandler(HTTPException)
    def _http_error(exc: HTTPException) -> Any:
        status = exc.code or 500
        if status >= 500:
            db.session.rollback()
        if wants_json():
            response = error_response(status, _CODES.get(status, "http_error"), exc.description or exc.name)
            if status == 401:
                response.headers["WWW-Authenticate"] = 'Bearer realm="api"'
            return response
        template = f"errors/{status}.html" if status in (403, 404, 500) else "errors/error.html"
        return render_template(template, status=status, message=exc.description), status

    @app.errorhandler(Exception)
    def _unexpected(exc: Exception) -> Any:
        db.session.rollback()
        log.exception("Unhandled error on %s %s", request.method, request.path)
        return _http_error(InternalServerError())

    @app.errorhandler(DBAPIError)
    @app.errorhandler(PoolTimeoutError)
    def _database_error(exc: SQLAlchemyError) -> Any:
        if not is_database_outage(exc):
            return _unexpected(exc)
        rollback_quietly()
        log_outage(exc)
        return _outage_response()
