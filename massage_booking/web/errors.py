"""Error responses: the JSON envelope under /api and /fhir, HTML pages elsewhere.

A 500 rolls the session back first, so that nothing half-written from the failed request can be
committed by anything that runs after it.
"""

from __future__ import annotations

import logging
from typing import Any

from flask import Flask, Response, jsonify, render_template, request
from flask_wtf.csrf import CSRFError
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


def wants_json() -> bool:
    return request.path.startswith(("/api/", "/fhir/", "/stripe/"))


def error_response(status: int, code: str, message: str, details: dict[str, Any] | None = None) -> Response:
    response = jsonify({"error": {"code": code, "message": message, "details": details or {}}})
    response.status_code = status
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
