"""POST /api/v1/eligibility for insurers: the acceptance table of the eligibility issue through the API,
scoping to the insurer's own payer, and the audit trail. Expected answers cite their sources as in
tests/unit/test_eligibility.py."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from sqlalchemy import func, select

from massage_booking.models import AuditEvent, Course, EligibilityCheck
from tests.factories import SERVICE_DATE, course_body, insurer_headers, post_intake

# `payers` (Acme and Other Mutual) and `therapist` (in Acme's network) are in tests/integration/conftest.py.


def _ask(client, headers, **fields):
    return client.post("/api/v1/eligibility", json=fields, headers=headers)


def _neck(plan_id: int, therapist_id: int, **changes) -> dict:
    return {
        "plan_id": plan_id,
        "icd10_code": "M54.2",
        "therapist_id": therapist_id,
        "session_minutes": 60,
        "sessions": 8,
        "sessions_per_week": 2,
        "referral_date": (date.today() - timedelta(days=5)).isoformat(),
        "service_date": SERVICE_DATE,
        **changes,
    }


def test_neck_pain_60_minutes_times_8_in_network_with_referral_is_eligible(
    client, auth, db, payers, therapist
):
    headers = insurer_headers(auth, db, payers[0])
    response = _ask(client, headers, **_neck(payers[0].plans[0].id, therapist))
    assert response.status_code == 200, response.get_data(as_text=True)
    body = response.get_json()
    # Sherman 2014 dose; 60 minutes = 4 units of 97124 by the CMS 8-minute rule (evidence.md §4.2).
    assert (body["outcome"], body["covered_sessions"], body["units_per_session"]) == ("eligible", 8, 4)
    assert body["cpt_code"] == "97124" and body["copay_cents"] == 2500 and body["reasons"] == []
    assert body["condition"]["id"] == "chronic_neck_pain" and body["icd10_code"] == "M54.2"
    assert body["citations"][0]["label"] == "Sherman 2014"
    # The check is recorded for the insurer's list and audited.
    assert db.scalar(select(func.count()).select_from(EligibilityCheck)) == 1
    listed = client.get("/api/v1/eligibility/checks", headers=headers).get_json()["checks"]
    assert [c["outcome"] for c in listed] == ["eligible"]
    audited = db.scalar(
        select(func.count()).select_from(AuditEvent).where(AuditEvent.action == "eligibility.checked")
    )
    assert audited == 1


def test_thirty_minutes_is_below_the_effective_dose(client, auth, db, payers, therapist):
    headers = insurer_headers(auth, db, payers[0])
    body = _ask(client, headers, **_neck(payers[0].plans[0].id, therapist, session_minutes=30)).get_json()
    # The plan's below_dose rule is "warn" (the default): covered, with the reason (Sherman 2014).
    assert body["outcome"] == "eligible" and body["units_per_session"] == 2
    (reason,) = body["reasons"]
    assert reason["code"] == "below_effective_dose" and not reason["blocking"]
    assert "below the effective dose (Sherman 2014)" in reason["message"]


def test_cancer_related_pain_without_an_oncology_credential_is_not_eligible(
    client, auth, db, payers, therapist
):
    headers = insurer_headers(auth, db, payers[0])
    body = _ask(
        client, headers, **_neck(payers[0].plans[0].id, therapist, icd10_code="G89.3", sessions_per_week=None)
    ).get_json()
    assert body["outcome"] == "not_eligible" and body["covered_sessions"] == 0
    assert "oncology_credential_required" in [r["code"] for r in body["reasons"]]


def test_18_of_20_visits_used_and_8_requested_covers_2(client, auth, db, payers, therapist):
    headers = insurer_headers(auth, db, payers[0])
    body = _ask(client, headers, **_neck(payers[0].plans[0].id, therapist, visits_used=18)).get_json()
    assert (body["outcome"], body["covered_sessions"], body["visits_remaining"]) == ("partly_eligible", 2, 2)


def test_a_required_referral_that_is_missing_makes_it_not_eligible(client, auth, db, payers, therapist):
    headers = insurer_headers(auth, db, payers[0])
    fields = _neck(payers[0].plans[0].id, therapist)
    del fields["referral_date"]
    body = _ask(client, headers, **fields).get_json()
    assert body["outcome"] == "not_eligible"
    assert [r["code"] for r in body["reasons"]] == ["referral_required"]


def test_an_unknown_icd10_code_is_422(client, auth, db, payers, therapist):
    headers = insurer_headers(auth, db, payers[0])
    response = _ask(client, headers, **_neck(payers[0].plans[0].id, therapist, icd10_code="Z99.89"))
    assert response.status_code == 422
    assert "icd10_code" in response.get_json()["error"]["details"]["fields"]
    assert db.scalar(select(func.count()).select_from(EligibilityCheck)) == 0


def test_a_shared_code_asks_which_condition(client, auth, db, payers, therapist):
    headers = insurer_headers(auth, db, payers[0])
    response = _ask(client, headers, **_neck(payers[0].plans[0].id, therapist, icd10_code="F41.9"))
    assert response.status_code == 422 and "condition" in response.get_json()["error"]["details"]["fields"]


def test_bad_fields_are_named_and_change_nothing(client, auth, db, payers, therapist):
    headers = insurer_headers(auth, db, payers[0])
    response = _ask(client, headers, plan_id="x", session_minutes=0, sessions=True, service_date="soon")
    assert response.status_code == 422
    fields = response.get_json()["error"]["details"]["fields"]
    assert {"plan_id", "session_minutes", "sessions", "service_date", "icd10_code", "therapist_id"} <= set(
        fields
    )


def test_a_course_is_checked_from_its_own_facts_and_only_by_its_payer(client, auth, db, payers, therapist):
    patient = auth.create_user("patient")
    patient_headers = {"Authorization": f"Bearer {auth.api_token(patient.email)}"}
    intake_id = post_intake(client, patient_headers)
    booked = client.post("/api/v1/courses", json=course_body(intake_id, therapist), headers=patient_headers)
    assert booked.status_code == 201
    course = db.get(Course, booked.get_json()["id"])
    course.plan_id = payers[0].plans[0].id
    db.commit()

    acme = insurer_headers(auth, db, payers[0])
    body = _ask(client, acme, course_id=course.id).get_json()
    # The intake had no referral and the plan wants one.
    assert body["course_id"] == course.id and body["outcome"] == "not_eligible"
    assert [r["code"] for r in body["reasons"]] == ["referral_required"]
    assert "session_notes" not in body and "precautions" not in body

    other = insurer_headers(auth, db, payers[1])
    refused = _ask(client, other, course_id=course.id)
    assert refused.status_code == 404
    denied = db.scalar(
        select(func.count()).select_from(AuditEvent).where(AuditEvent.action == "eligibility.course_denied")
    )
    assert denied == 1
    # Nor may it ask about Acme's plan by fields.
    assert _ask(client, other, **_neck(payers[0].plans[0].id, therapist)).status_code == 404


def test_only_insurers_may_ask(client, auth, db, payers, therapist):
    patient = auth.create_user("patient")
    headers = {"Authorization": f"Bearer {auth.api_token(patient.email)}"}
    assert _ask(client, headers, **_neck(payers[0].plans[0].id, therapist)).status_code == 403


@pytest.mark.parametrize(
    ("field", "value"),
    [("sessions_per_week", 5e-324), ("service_date", "9999-12-31"), ("referral_date", "0001-01-01")],
)
def test_values_at_the_edges_of_arithmetic_are_422(client, auth, db, payers, therapist, field, value):
    """Found by the fuzzer: a vanishing cadence gave round(inf) and a year-9999 service date an overflow."""
    headers = insurer_headers(auth, db, payers[0])
    response = _ask(client, headers, **_neck(payers[0].plans[0].id, therapist, **{field: value}))
    assert response.status_code == 422, response.get_data(as_text=True)
    assert field in response.get_json()["error"]["details"]["fields"]
