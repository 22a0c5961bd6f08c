"""GET /api/v1/openapi.json: one OpenAPI 3.1 document for the whole JSON API and the FHIR endpoint.

Every /api/v1 operation is declared once with api/contract.py's `@operation`; its entry and the component
schemas of its models are generated (api/openapi_models.py). What is still written here is what cannot be
derived from a pydantic model: the error envelope every refusal shares, and the FHIR operation, whose body
and answers are FHIR R4 resources validated by `fhir.resources`, not by our models. The document is the
single source for the rendered page at /api/docs (web/api_docs.py).

Tests keep it true: tests/integration/test_openapi.py fails if a route under /api/v1 or /fhir is not in
`paths`, or an /api/v1 route is not declared; tests/integration/test_openapi_fuzz.py lets schemathesis call
every operation and checks each answer's status, content type and body against this document.

`x-roles` on an operation names the account roles its bearer token may have (a vendor extension; the page
and the fuzz test read it).
"""

from __future__ import annotations

import copy
from functools import cache

from massage_booking.api import openapi_models
from massage_booking.api.contract import OPERATIONS, Reply
from massage_booking.api.contract import operation as declare
from massage_booking.api.openapi_parts import (
    BEARER,
    FHIR_JSON,
    JSON,
    Schema,
    array,
    obj,
    ok,
    operation,
    ref,
    string,
    unauthorized,
)
from massage_booking.models import (
    Role,
)
from massage_booking.schemas.openapi import OpenApiDocument

TAGS = [
    ("Accounts", "Create an account, exchange e-mail and password for a bearer token, and check a token."),
    ("Places", 'What a ZIP code, "City, ST" or "lat,lon" means, answered offline.'),
    ("Therapists", "Find nearby therapists, read a profile and its free start times."),
    ("Evidence", "The evidence registry: conditions, session plans, precautions and citations."),
    ("Intakes", "A patient's health answers before a course; every read and write is audited."),
    ("Courses", "Plan, book, pay for and cancel a whole course of care."),
    ("Appointments", "Move or cancel one session, and record attendance."),
    ("Therapist schedule", "A therapist's own hours, time off, appointments and sessions."),
    ("Eligibility", "Insurers: is a course indicated and covered, with the reasons and citations."),
    ("FHIR", "FHIR R4 CoverageEligibilityRequest in, CoverageEligibilityResponse out."),
    ("Documentation", "This document."),
]


# --- component schemas --------------------------------------------------------------------------------


def _schemas() -> dict[str, Schema]:
    return {
        "Error": obj(
            {
                "error": obj(
                    {
                        "code": string("Stable machine-readable code, like `validation_failed`."),
                        "message": string("One sentence for a person."),
                        "details": obj(
                            {
                                "fields": obj(
                                    {},
                                    [],
                                    description="Each bad field and its messages.",
                                    additionalProperties=array(string()),
                                )
                            },
                            [],
                            description="Structured details: `fields` (422), `conflicts`, `suggestions` ...",
                        ),
                    }
                )
            },
            description="The error envelope of every JSON error.",
        ),
        "CoverageEligibilityRequest": obj(
            {"resourceType": string(const="CoverageEligibilityRequest")},
            description="A FHIR R4 CoverageEligibilityRequest resource (https://hl7.org/fhir/R4/).",
        ),
        "CoverageEligibilityResponse": obj(
            {"resourceType": string(const="CoverageEligibilityResponse")},
            description="A FHIR R4 CoverageEligibilityResponse resource.",
        ),
        "OperationOutcome": obj(
            {
                "resourceType": string(const="OperationOutcome"),
                "issue": array(
                    obj({"severity": string(), "code": string()}, additionalProperties=True), minItems=1
                ),
            },
            description="A FHIR R4 OperationOutcome: why the request was refused.",
        ),
    }


# --- paths -------------------------------------------------------------------------------------------


def _paths() -> dict[str, Schema]:
    insurer = [Role.INSURER.value]
    return {
        "/fhir/CoverageEligibilityRequest": {
            "post": _fhir_operation(insurer),
        },
    }


def fhir_example(plan_id: int = 1, therapist_id: int = 1) -> Schema:
    """A request in our profile (massage_booking/fhir/mapping.py): eight 60-minute sessions of CPT 97124
    for chronic neck pain (ICD-10-CM M54.2) under Coverage/{plan_id} with PractitionerRole/{therapist_id}."""
    from massage_booking.fhir.mapping import CPT, EXT_SESSIONS, ICD10CM, UCUM

    return {
        "resourceType": "CoverageEligibilityRequest",
        "status": "active",
        "purpose": ["benefits", "validation"],
        "patient": {"reference": "Patient/example"},
        "created": "2026-11-20",
        "insurer": {"reference": "Organization/1"},
        "provider": {"reference": f"PractitionerRole/{therapist_id}"},
        "servicedDate": "2026-12-01",
        "insurance": [{"focal": True, "coverage": {"reference": f"Coverage/{plan_id}"}}],
        "item": [
            {
                "extension": [{"url": EXT_SESSIONS, "valuePositiveInt": 8}],
                "productOrService": {"coding": [{"system": CPT, "code": "97124"}]},
                "quantity": {"value": 60, "unit": "min", "system": UCUM, "code": "min"},
                "diagnosis": [
                    {"diagnosisCodeableConcept": {"coding": [{"system": ICD10CM, "code": "M54.2"}]}}
                ],
            }
        ],
    }


def _fhir_operation(roles: list[str]) -> Schema:
    def outcome(description: str) -> Schema:
        return ok(ref("OperationOutcome"), description, FHIR_JSON)

    resource = {"schema": ref("CoverageEligibilityRequest"), "example": fhir_example()}
    op = operation(
        "FHIR",
        "fhirCoverageEligibilityRequest",
        "FHIR coverage eligibility",
        "A FHIR R4 CoverageEligibilityRequest in, a CoverageEligibilityResponse out, decided by the same "
        "rules as POST /api/v1/eligibility. The plan is `insurance[].coverage` = `Coverage/{plan id}`; the "
        "therapist `provider` = `PractitionerRole/{therapist id}`; `item[0]` is CPT 97124 with the ICD-10-CM "
        "`diagnosis`, minutes as `quantity` (UCUM `min`) and the number of sessions in the `course-sessions` "
        "extension; or `item[0].detail` = `CarePlan/{course id}` for a booked course. The decision is in "
        "extensions on the response's item. Every answer is application/fhir+json; errors are "
        "OperationOutcome resources whose issues name the element at fault.",
        {
            "200": ok(ref("CoverageEligibilityResponse"), "The decision as a FHIR resource.", FHIR_JSON),
            "404": outcome("Your payer has no such plan, coverage, course or provider."),
            "422": outcome("The resource breaks a rule of the profile; each issue names its element."),
        },
        roles=roles,
        request={
            "required": True,
            "description": "The request resource (application/json is accepted too).",
            "content": {FHIR_JSON: resource, JSON: resource},
        },
    )
    # Refusals are OperationOutcome resources here, not the JSON API's envelope.
    op["responses"].update(
        {
            "400": outcome("Not valid JSON, not one resource of this type, or not valid FHIR R4."),
            "401": outcome("No bearer token, or one that is invalid, expired or revoked."),
            "403": outcome("The token's account is not an insurer of a payer."),
            "413": outcome("The body is larger than 1 MiB."),
            "415": outcome("The body was not sent as application/fhir+json or application/json."),
        }
    )
    op["responses"]["401"]["headers"] = unauthorized()["headers"]
    op["responses"] = dict(sorted(op["responses"].items()))
    return op


def _paths_with_declared() -> dict[str, Schema]:
    """The hand-written paths and those declared with api/contract.py, in the order of the routes."""
    paths = _paths()
    for op in OPERATIONS:
        paths.setdefault(op.openapi_path, {})[op.method.lower()] = openapi_models.operation_object(op)
    return paths


@cache
def _document() -> Schema:
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "massage_booking API",
            "version": "1",
            "summary": "Find oncology-trained, in-network massage therapists; book evidence-based courses.",
            "description": (
                "JSON API v1 and the FHIR R4 eligibility endpoint. Authenticate with a bearer token from "
                'POST /api/v1/auth/token. Every error is JSON `{"error": {"code", "message", '
                '"details"}}` (FHIR: an OperationOutcome); `code` never changes once published. Times are '
                "ISO 8601 with their offset; money is integer cents with a currency."
            ),
        },
        "servers": [{"url": "/"}],
        "tags": [{"name": name, "description": text} for name, text in TAGS],
        "security": BEARER,
        "paths": _paths_with_declared(),
        "components": {
            "securitySchemes": {
                "bearerAuth": {
                    "type": "http",
                    "scheme": "bearer",
                    "description": "A token from POST /api/v1/auth/token (valid 30 days unless configured).",
                }
            },
            "schemas": {**_schemas(), **openapi_models.components(OPERATIONS)},
        },
    }


def document() -> Schema:
    """The OpenAPI document (a fresh copy: callers may change it)."""
    return copy.deepcopy(_document())


@declare(
    "GET",
    "/openapi.json",
    operation_id="openapi",
    tag="Documentation",
    summary="This document",
    description="The OpenAPI 3.1 description of /api/v1 and /fhir; rendered at /api/docs.",
    responses={200: Reply("It.", OpenApiDocument)},
)
def openapi_json() -> OpenApiDocument:
    return OpenApiDocument(_document())
