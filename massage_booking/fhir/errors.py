"""Errors under /fhir answered as OperationOutcome, not as the JSON API's envelope (web/errors.py).

These handlers belong to the blueprint, so Flask prefers them to the app's for requests routed here. Like
the app's, they roll the session back; a refused read's audit record is committed before that by the
view's transaction (transactions.atomic). A URL or method under /fhir that matches no route never reaches
the blueprint, and gets the app's JSON 404/405 (a catch-all route would answer those too, but every route
under /fhir must be in the OpenAPI document, api/openapi.py).
"""

from __future__ import annotations

import logging
from typing import Any

from flask import g
from sqlalchemy.exc import DBAPIError, SQLAlchemyError
from sqlalchemy.exc import TimeoutError as PoolTimeoutError
from werkzeug.exceptions import HTTPException

from massage_booking.domain.errors import DomainError
from massage_booking.extensions import db
from massage_booking.fhir import bp, mapping
from massage_booking.fhir.outcome import FhirProblem, Issue, outcome_response
from massage_booking.web.errors import (
    RETRY_AFTER_SECONDS,
    UNAVAILABLE_MESSAGE,
    is_database_outage,
    log_outage,
    rollback_quietly,
)

log = logging.getLogger(__name__)

_HTTP_CODES = {
    400: "invalid",
    401: "login",
    403: "forbidden",
    404: "not-found",
    405: "not-supported",
    413: "too-costly",
    415: "not-supported",
    429: "throttled",
}


@bp.errorhandler(FhirProblem)
def _fhir_problem(exc: FhirProblem) -> Any:
    db.session.rollback()
    return outcome_response(exc.status, exc.issues)


@bp.errorhandler(DomainError)
def _domain_error(exc: DomainError) -> Any:
    db.session.rollback()
    return outcome_response(exc.status, mapping.domain_issues(exc, g.get("fhir_asked")))


@bp.errorhandler(HTTPException)
def _http_error(exc: HTTPException) -> Any:
    status = exc.code or 500
    if status >= 500:
        db.session.rollback()
    code = _HTTP_CODES.get(status, "exception" if status >= 500 else "processing")
    response = outcome_response(status, [Issue(code, exc.description or exc.name)])
    if status == 401:
        response.headers["WWW-Authenticate"] = 'Bearer realm="api"'
    return response


@bp.errorhandler(Exception)
def _unexpected(exc: Exception) -> Any:
    db.session.rollback()
    log.exception("Unhandled error in the FHIR API")
    return outcome_response(500, [Issue("exception", "The server failed to process the request.")])


@bp.errorhandler(DBAPIError)
@bp.errorhandler(PoolTimeoutError)
def _database_error(exc: SQLAlchemyError) -> Any:
    """A lost database is a transient 503 here too (the app's handler never sees errors of this blueprint),
    so an insurer's client retries after Retry-After instead of reporting a failure."""
    if not is_database_outage(exc):
        return _unexpected(exc)
    rollback_quietly()
    log_outage(exc)
    response = outcome_response(503, [Issue("transient", UNAVAILABLE_MESSAGE)])
    response.headers["Retry-After"] = str(RETRY_AFTER_SECONDS)
    return response
