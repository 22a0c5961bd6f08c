"""FHIR R4 endpoints under /fhir: thin handlers that parse, authorise, call one service and serialise.

Every answer, refusals included, is application/fhir+json: a resource, or an OperationOutcome (errors.py).
The profile of what we read and write is in mapping.py.
"""

from __future__ import annotations

from flask import Blueprint

bp = Blueprint("fhir", __name__, url_prefix="/fhir")

from massage_booking.fhir import eligibility, errors  # noqa: E402,F401  (routes and error handlers)
