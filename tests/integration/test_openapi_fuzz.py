"""schemathesis against the app in-process (WSGI): every operation of /api/v1/openapi.json, bounded.

Each operation gets generated requests, valid and invalid (schemathesis' examples, coverage and fuzzing
phases), with a bearer token of a role the operation takes (its `x-roles`), sometimes none or a wrong one.
Path ids, body ids and place names are often swapped for those of a small realistic dataset (two
therapists with weekly hours in New York, two payers with plans, a patient with two booked courses, one
session already started, time off, an insurer of a payer), so that requests reach the services rather than
stopping at "not found". Every answer must be free of 5xx and match the document: a documented status
code and content type, documented headers, and a body that fits its schema.

Deterministic: a fixed seed, derandomized Hypothesis, no example database, and the dataset, the token and
the id swaps decided by a hash of each generated case. `MAX_EXAMPLES` bounds the fuzzing phase; the
whole module takes about 25 s on SQLite.
"""

from __future__ import annotations

import contextvars
import re
import zlib
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
import schemathesis
from schemathesis.checks import not_a_server_error
from schemathesis.core.failures import FailureGroup, as_reported_failure
from schemathesis.generation.feedback import FeedbackSources
from schemathesis.pytest._test_builder import build_operation_test
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)
from sqlalchemy import select

from massage_booking import create_app
from massage_booking.api.openapi import document, fhir_example
from massage_booking.extensions import db as flask_db
from massage_booking.fhir.mapping import EXT_SESSIONS_PER_WEEK
from massage_booking.models import (
    Course,
    InsurancePlan,
    NetworkMembership,
    Payer,
    PlanType,
    TherapistProfile,
    TimeOff,
)
from tests.integration.session_data import book, make_therapist, move_to_past

SEED = 20260601
MAX_EXAMPLES = 12
CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
]
CONFIG = schemathesis.Config.from_dict(
    {
        "seed": SEED,
        "suppress-health-check": ["all"],
        "generation": {
            "mode": "all",  # valid requests and invalid ones
            "max-examples": MAX_EXAMPLES,
            "deterministic": True,
            "database": "none",
            "no-shrink": True,  # a failure is reported as found: shrinking would cost more than the run
        },
    }
)
PLACES = ["10001", "New York, NY", "40.7506,-73.9972", "Boston, MA"]
ROLES = ("patient", "therapist", "insurer", "admin")


# --- the dataset ------------------------------------------------------------------------------------------


@dataclass
class Seeded:
    """Bearer tokens by role, and the ids of each kind of row a request may name."""

    tokens: dict[str, str]
    ids: dict[str, list[int]]


@pytest.fixture
def seeded(app, auth) -> Seeded:
    with app.app_context():
        session = flask_db.session
        acme = Payer(code="ACME", name="Acme Health")
        acme.plans.append(
            InsurancePlan(
                name="Choice PPO",
                plan_type=PlanType.PPO,
                referral_required=True,
                annual_visit_limit=20,
                copay_cents=2500,
            )
        )
        other = Payer(code="OTHER", name="Other Mutual")
        other.plans.append(InsurancePlan(name="Basic HMO", plan_type=PlanType.HMO))
        session.add_all([acme, other])
        session.commit()
        plan_ids = [p.id for p in (*acme.plans, *other.plans)]

        trained = make_therapist(auth, session, "Tess Oncology")
        untrained = make_therapist(auth, session, "Dana Reyes", zip_code="10002")
        profiles = list(session.scalars(select(TherapistProfile).order_by(TherapistProfile.id)))
        now = datetime.now(UTC)
        for profile in profiles:
            profile.license_verified_at = now - timedelta(days=30)
            session.add(NetworkMembership(therapist_id=profile.id, plan_id=plan_ids[0]))
        session.add(
            TimeOff(
                therapist_id=profiles[0].id,
                starts_at=now + timedelta(days=40),
                ends_at=now + timedelta(days=41),
                reason="Conference",
            )
        )
        session.commit()

        patient = auth.create_user("patient", display_name="Pat Kim")
        first = book(session, patient, trained)
        second = book(session, patient, untrained)
        move_to_past(session, first.appointment_ids[0])  # started: its attendance can be marked
        for course in session.scalars(select(Course)):
            course.plan_id = plan_ids[0]
        insurer = auth.create_user("insurer")
        insurer.payer_id = acme.id
        admin = auth.create_user("admin")
        session.commit()
        ids = {
            "therapist": [p.id for p in profiles],
            "course": [first.course_id, second.course_id],
            "appointment": first.appointment_ids + second.appointment_ids,
            "intake": list(session.scalars(select(Course.intake_id).order_by(Course.id))),
            "time_off": list(session.scalars(select(TimeOff.id))),
            "plan": plan_ids,
        }
        emails = {
            "patient": patient.email,
            "therapist": trained.email,
            "insurer": insurer.email,
            "admin": admin.email,
        }
        session.remove()
    return Seeded({role: auth.api_token(email) for role, email in emails.items()}, ids)


# --- the operations ----------------------------------------------------------------------------------------


def _openapi_path(rule: str) -> str:
    """/api/v1/courses/<int:course_id> -> /api/v1/courses/{course_id}"""
    return re.sub(r"<(?:[^:<>]+:)?([^<>]+)>", r"{\1}", rule)


def _routed() -> set[tuple[str, str]]:
    """(method, path) of every route of the app (test_openapi.py checks that these and the document agree)."""
    app = create_app("testing", {"SQLALCHEMY_DATABASE_URI": "sqlite://"})
    return {(m, _openapi_path(rule.rule)) for rule in app.url_map.iter_rules() for m in rule.methods or ()}


SCHEMA = schemathesis.openapi.from_dict(document(), config=CONFIG)
ROUTED = _routed()
OPERATIONS = {
    op.label: op
    for op in (result.ok() for result in SCHEMA.get_all_operations())
    if (op.method.upper(), op.path) in ROUTED
}


def _pick(key: int, choices: list[Any]) -> Any:
    return choices[key % len(choices)]


def _fhir_request(key: int, seeded: Seeded) -> dict[str, Any]:
    """A resource in our FHIR profile about the dataset: eligible, not, refused or about a booked course."""
    resource = fhir_example(_pick(key, seeded.ids["plan"]), _pick(key >> 2, seeded.ids["therapist"]))
    item = resource["item"][0]
    coding = item["diagnosis"][0]["diagnosisCodeableConcept"]["coding"][0]
    coding["code"] = _pick(key >> 3, ["M54.2", "G89.3", "F41.9", "Z99.89"])
    item["quantity"]["value"] = _pick(key >> 5, [60, 30, 90, 0])
    if key & 128:
        item["extension"].append({"url": EXT_SESSIONS_PER_WEEK, "valueDecimal": 2})
    if key & 256:
        item["detail"] = [{"reference": f"CarePlan/{_pick(key >> 9, seeded.ids['course'])}"}]
    return resource


def _realistic(case: schemathesis.Case, seeded: Seeded) -> dict[str, str]:
    """Point some generated ids and places at the dataset, and return the headers to send: a token of the
    operation's own role mostly, sometimes none or one of another role. Decided by a hash of the case, so
    the same case always makes the same request."""
    key = zlib.crc32(repr((case.operation.label, case.path_parameters, case.query, case.body)).encode())
    for name, value in list((case.path_parameters or {}).items()):
        kind = name.removesuffix("_id")
        if kind in seeded.ids and isinstance(value, int) and key % 4:
            case.path_parameters[name] = _pick(key >> 3, seeded.ids[kind])
    if isinstance(case.query, dict) and case.operation.path in ("/api/v1/therapists", "/api/v1/geocode"):
        for name in ("near", "q"):
            if name in case.query and key % 3:
                case.query[name] = _pick(key >> 5, PLACES)
    if isinstance(case.body, dict) and case.operation.path.startswith("/fhir/") and key % 3 == 0:
        case.body = _fhir_request(key >> 11, seeded)
    elif isinstance(case.body, dict) and key % 4:
        for name, value in list(case.body.items()):
            kind = name.removesuffix("_id")
            if kind in seeded.ids and type(value) is int:
                case.body[name] = _pick(key >> 7, seeded.ids[kind])
    roles = case.operation.definition.raw.get("x-roles")
    if not roles or key % 16 == 0:
        return {}
    others = [r for r in ROLES if r not in roles]
    role = _pick(key >> 9, others) if key % 16 == 1 and others else _pick(key >> 9, roles)
    return {"Authorization": f"Bearer {seeded.tokens[role]}"}


def _call(case: schemathesis.Case, app, seeded: Seeded) -> None:
    headers = _realistic(case, seeded)
    # In a fresh context, as the `client` fixture's requests: the request gets its own app context and
    # database session, never one the test holds.
    contextvars.Context().run(case.call_and_validate, app=app, headers=headers, checks=CHECKS)


@pytest.mark.parametrize("label", sorted(OPERATIONS))
def test_every_operation_keeps_the_documented_contract(label, app, seeded):
    # schemathesis' `schema.parametrize()` gives every item the same node id under pytest 9 (it names the
    # items, and pytest 9 builds ids from parameters), so the operations are parametrized here, each
    # running the Hypothesis test the plugin would build: the examples, coverage and fuzzing phases.
    test = build_operation_test(
        config=SCHEMA.config,
        operation=OPERATIONS[label],
        test_func=_call,
        given_kwargs={},
        feedback=FeedbackSources(),
    )
    try:
        test(app=app, seeded=seeded)
    except FailureGroup as exc:
        raise as_reported_failure(exc) from None
