"""POST /fhir/CoverageEligibilityRequest: the eligibility acceptance table through FHIR R4 (the same cases as
tests/integration/test_eligibility_api.py), refusals as OperationOutcome, and the evidence.md §4.4 minimal
example. Every response is read back through the fhir.resources R4B model to prove it valid."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime, timedelta

import pytest
from fhir.resources.R4B.coverageeligibilityresponse import CoverageEligibilityResponse
from fhir.resources.R4B.operationoutcome import OperationOutcome
from sqlalchemy import func, select

from massage_booking.fhir.mapping import (
    CHECK_SYSTEM,
    CONDITION_SYSTEM,
    CPT,
    EXT_CITATION,
    EXT_COVERED,
    EXT_OUTCOME,
    EXT_REASON,
    EXT_SESSIONS,
    EXT_SESSIONS_PER_WEEK,
    EXT_UNITS,
    EXT_VISITS_USED,
    ICD10CM,
    UCUM,
)
from massage_booking.models import AuditEvent, Course, EligibilityCheck
from tests.factories import SERVICE_DATE, course_body, insurer_headers, post_intake

# The JSON API's fixtures (tests/integration/conftest.py): `payers`, Acme (a PPO wanting a referral, 20
# visits a year, $25 copay) and Other Mutual; `therapist`, licensed, in Acme's network, without an oncology
# credential.

URL = "/fhir/CoverageEligibilityRequest"
FHIR_JSON = "application/fhir+json"
REFERRAL = (date.today() - timedelta(days=5)).isoformat()


def _request(
    plan_id: int,
    therapist_id: int,
    *,
    code: str = "M54.2",
    minutes: int = 60,
    sessions: int = 8,
    per_week: int | None = 2,
    referral: str | None = REFERRAL,
    visits_used: int | None = None,
    cpt: str = "97124",
) -> dict:
    """Our profile (massage_booking/fhir/mapping.py): 60-minute sessions of CPT 97124, 8 of them, twice a
    week, for chronic neck pain (M54.2), under Coverage/{plan}, by PractitionerRole/{therapist}, with a
    contained referral."""
    extensions = [{"url": EXT_SESSIONS, "valuePositiveInt": sessions}]
    if per_week is not None:
        extensions.append({"url": EXT_SESSIONS_PER_WEEK, "valueDecimal": per_week})
    resource: dict = {
        "resourceType": "CoverageEligibilityRequest",
        "identifier": [{"system": "https://payer.example/requests", "value": "req-1"}],
        "status": "active",
        "purpose": ["validation", "benefits", "auth-requirements"],
        "patient": {"reference": "Patient/123"},
        "servicedDate": SERVICE_DATE,
        "created": datetime.now(UTC).isoformat(),
        "provider": {"reference": f"PractitionerRole/{therapist_id}"},
        "insurer": {"reference": "Organization/1"},
        "insurance": [{"focal": True, "coverage": {"reference": f"Coverage/{plan_id}"}}],
        "item": [
            {
                "extension": extensions,
                "productOrService": {"coding": [{"system": CPT, "code": cpt}]},
                "quantity": {"value": minutes, "unit": "min", "system": UCUM, "code": "min"},
                "diagnosis": [{"diagnosisCodeableConcept": {"coding": [{"system": ICD10CM, "code": code}]}}],
            }
        ],
    }
    if referral is not None:
        resource["contained"] = [
            {
                "resourceType": "DocumentReference",
                "id": "referral",
                "status": "current",
                "type": {
                    "coding": [{"system": "http://loinc.org", "code": "57133-1", "display": "Referral note"}]
                },
                "date": f"{referral}T09:00:00-05:00",
                "content": [{"attachment": {"contentType": "application/pdf", "title": "Referral"}}],
            }
        ]
        resource["supportingInfo"] = [{"sequence": 1, "information": {"reference": "#referral"}}]
        resource["item"][0]["supportingInfoSequence"] = [1]
    if visits_used is not None:
        resource["insurance"][0]["extension"] = [{"url": EXT_VISITS_USED, "valueUnsignedInt": visits_used}]
    return resource


def _post(client, headers, resource, content_type: str = FHIR_JSON):
    body = resource if isinstance(resource, str | bytes) else json.dumps(resource)
    return client.post(URL, data=body, headers={**headers, "Content-Type": content_type})


def _answer(response) -> dict:
    """A 200 CoverageEligibilityResponse, valid by the model (parsed, serialised and parsed again)."""
    assert response.status_code == 200, response.get_data(as_text=True)
    assert response.mimetype == FHIR_JSON
    model = CoverageEligibilityResponse.model_validate_json(response.get_data())
    assert CoverageEligibilityResponse.model_validate_json(model.model_dump_json()) == model
    return response.get_json()


def _refusal(response, status: int) -> list[dict]:
    """The OperationOutcome issues of a refusal, valid by the model."""
    assert response.status_code == status, response.get_data(as_text=True)
    assert response.mimetype == FHIR_JSON
    OperationOutcome.model_validate_json(response.get_data())
    body = response.get_json()
    assert body["resourceType"] == "OperationOutcome"
    assert all(i["severity"] == "error" and i["diagnostics"] for i in body["issue"])
    return body["issue"]


def _item(body: dict) -> dict:
    (insurance,) = body["insurance"]
    (item,) = insurance["item"]
    return item


def _value(element: dict, url: str):
    (found,) = [e for e in element.get("extension", []) if e["url"] == url]
    return next(v for k, v in found.items() if k.startswith("value"))


def _reasons(item: dict) -> list[dict]:
    return [
        {part["url"]: next(v for k, v in part.items() if k.startswith("value")) for part in e["extension"]}
        for e in item.get("extension", [])
        if e["url"] == EXT_REASON
    ]


def _benefit(item: dict, code: str) -> dict:
    (found,) = [b for b in item["benefit"] if b["type"]["coding"][0]["code"] == code]
    return found


def _checks(db) -> int:
    return db.scalar(select(func.count()).select_from(EligibilityCheck))


def test_neck_pain_60_minutes_times_8_in_network_with_referral_is_eligible(
    client, auth, db, payers, therapist
):
    acme = payers[0]
    plan = acme.plans[0]
    headers = insurer_headers(auth, db, acme)
    body = _answer(_post(client, headers, _request(plan.id, therapist)))

    assert body["resourceType"] == "CoverageEligibilityResponse" and body["status"] == "active"
    assert body["outcome"] == "complete"
    assert body["purpose"] == ["validation", "benefits", "auth-requirements"]
    assert body["patient"] == {"reference": "Patient/123"}
    assert body["request"]["identifier"] == {"system": "https://payer.example/requests", "value": "req-1"}
    assert body["insurer"] == {"reference": f"Organization/{acme.id}", "display": "Acme Health"}
    assert body["servicedDate"] == SERVICE_DATE
    assert body["disposition"].startswith("Eligible: 8 of 8 sessions covered, 4 units of CPT 97124 each")
    assert "copay $25 a visit" in body["disposition"]
    insurance = body["insurance"][0]
    assert insurance["coverage"]["reference"] == f"Coverage/{plan.id}" and insurance["inforce"] is True
    assert insurance["benefitPeriod"]["start"].endswith("-01-01")

    item = _item(body)
    assert item["productOrService"]["coding"][0]["code"] == "97124"
    assert item["provider"]["reference"] == f"PractitionerRole/{therapist}"
    assert item["network"]["coding"][0]["code"] == "in" and item["excluded"] is False
    # The plan wants a referral: that is its authorization requirement (met here).
    assert item["authorizationRequired"] is True and "referral" in item["authorizationSupporting"][0]["text"]
    assert _value(item, EXT_OUTCOME) == "eligible"
    # Sherman 2014 dose; 60 minutes = 4 units of 97124 by the CMS 8-minute rule (evidence.md §4.2).
    assert _value(item, EXT_UNITS)["value"] == 4
    assert _value(item, EXT_COVERED) == 8
    # The visit benefit in FHIR's sense: the plan's 20 a year, none used.
    assert _benefit(item, "visit")["allowedUnsignedInt"] == 20
    assert _benefit(item, "visit")["usedUnsignedInt"] == 0
    assert _benefit(item, "copay")["allowedMoney"] == {"value": 25.0, "currency": "USD"}
    assert _reasons(item) == []
    citations = [e for e in item["extension"] if e["url"] == EXT_CITATION]
    assert citations[0]["extension"][0] == {"url": "label", "valueString": "Sherman 2014"}
    assert "error" not in body

    row = db.scalars(select(EligibilityCheck)).one()
    assert (row.channel, row.outcome, row.covered_sessions) == ("fhir", "eligible", 8)
    assert body["identifier"] == [{"system": CHECK_SYSTEM, "value": str(row.id)}]
    audited = db.scalar(
        select(func.count()).select_from(AuditEvent).where(AuditEvent.action == "eligibility.checked")
    )
    assert audited == 1


def test_thirty_minutes_is_below_the_effective_dose(client, auth, db, payers, therapist):
    headers = insurer_headers(auth, db, payers[0])
    body = _answer(_post(client, headers, _request(payers[0].plans[0].id, therapist, minutes=30)))
    item = _item(body)
    # The plan's below_dose rule is "warn" (the default): covered, with the reason, citing Sherman 2014.
    assert _value(item, EXT_OUTCOME) == "eligible" and _value(item, EXT_UNITS)["value"] == 2
    (reason,) = _reasons(item)
    assert reason["code"] == "below_effective_dose" and reason["blocking"] is False
    assert reason["citation"] == "Sherman 2014" and reason["citationUrl"].startswith("https://")
    assert "below the effective dose (Sherman 2014)" in reason["message"]
    assert "below the effective dose" in body["disposition"]


def test_cancer_related_pain_without_an_oncology_credential_is_not_eligible(
    client, auth, db, payers, therapist
):
    headers = insurer_headers(auth, db, payers[0])
    resource = _request(payers[0].plans[0].id, therapist, code="G89.3", per_week=None)
    item = _item(body := _answer(_post(client, headers, resource)))
    assert _value(item, EXT_OUTCOME) == "not_eligible"
    assert _value(item, EXT_COVERED) == 0
    codes = {r["code"]: r for r in _reasons(item)}
    assert codes["oncology_credential_required"]["blocking"] is True
    assert body["disposition"].startswith("Not eligible: ") and "oncology" in body["disposition"]


def test_18_of_20_visits_used_and_8_requested_covers_2(client, auth, db, payers, therapist):
    headers = insurer_headers(auth, db, payers[0])
    body = _answer(_post(client, headers, _request(payers[0].plans[0].id, therapist, visits_used=18)))
    item = _item(body)
    assert _value(item, EXT_OUTCOME) == "partly_eligible"
    assert _value(item, EXT_COVERED) == 2
    assert (_benefit(item, "visit")["allowedUnsignedInt"], _benefit(item, "visit")["usedUnsignedInt"]) == (
        20,
        18,
    )
    assert item["term"]["coding"][0]["code"] == "annual"
    assert [r["code"] for r in _reasons(item)] == ["visit_limit_partial"]
    assert body["disposition"].startswith("Partly eligible: 2 of 8 sessions covered")


def test_a_required_referral_that_is_missing_makes_it_not_eligible(client, auth, db, payers, therapist):
    headers = insurer_headers(auth, db, payers[0])
    body = _answer(_post(client, headers, _request(payers[0].plans[0].id, therapist, referral=None)))
    item = _item(body)
    assert _value(item, EXT_OUTCOME) == "not_eligible"
    assert [r["code"] for r in _reasons(item)] == ["referral_required"]
    assert item["authorizationRequired"] is True


def test_an_unknown_icd10_code_is_422_naming_the_element(client, auth, db, payers, therapist):
    headers = insurer_headers(auth, db, payers[0])
    response = _post(client, headers, _request(payers[0].plans[0].id, therapist, code="Z99.89"))
    (issue,) = _refusal(response, 422)
    assert issue["code"] == "code-invalid" and "Z99.89" in issue["diagnostics"]
    assert issue["expression"] == ["CoverageEligibilityRequest.item[0].diagnosis[0].diagnosisCodeableConcept"]
    assert _checks(db) == 0


def test_a_shared_code_needs_our_condition_coding(client, auth, db, payers, therapist):
    headers = insurer_headers(auth, db, payers[0])
    resource = _request(payers[0].plans[0].id, therapist, code="F41.9")
    (issue,) = _refusal(_post(client, headers, resource), 422)
    assert issue["code"] == "multiple-matches" and "preoperative_anxiety" in issue["diagnostics"]
    coding = resource["item"][0]["diagnosis"][0]["diagnosisCodeableConcept"]["coding"]
    coding.append({"system": CONDITION_SYSTEM, "code": "preoperative_anxiety"})
    _answer(_post(client, headers, resource))
    assert db.scalars(select(EligibilityCheck)).one().icd10_code == "F41.9"


def test_another_service_than_cpt_97124_is_422(client, auth, db, payers, therapist):
    headers = insurer_headers(auth, db, payers[0])
    response = _post(client, headers, _request(payers[0].plans[0].id, therapist, cpt="97140"))
    (issue,) = _refusal(response, 422)
    assert issue["code"] == "not-supported" and "97140" in issue["diagnostics"]
    assert issue["expression"] == ["CoverageEligibilityRequest.item[0].productOrService"]
    assert _checks(db) == 0


def test_profile_breaches_are_named_all_at_once(client, auth, db, payers, therapist):
    headers = insurer_headers(auth, db, payers[0])
    resource = _request(payers[0].plans[0].id, therapist)
    resource["insurance"][0]["coverage"] = {"reference": "Coverage/plan-a"}
    resource["provider"] = {"reference": "Practitioner/7"}
    resource["item"][0]["quantity"] = {"value": 1, "system": UCUM, "code": "h"}
    del resource["servicedDate"]
    issues = _refusal(_post(client, headers, resource), 422)
    assert {i["expression"][0] for i in issues} == {
        "CoverageEligibilityRequest.insurance[0].coverage",
        "CoverageEligibilityRequest.provider",
        "CoverageEligibilityRequest.item[0].quantity",
        "CoverageEligibilityRequest",
    }
    assert _checks(db) == 0


def test_a_course_is_checked_by_its_carplan_and_only_by_its_payer(client, auth, db, payers, therapist):
    patient = auth.create_user("patient")
    patient_headers = {"Authorization": f"Bearer {auth.api_token(patient.email)}"}
    intake_id = post_intake(client, patient_headers)
    booked = client.post("/api/v1/courses", json=course_body(intake_id, therapist), headers=patient_headers)
    assert booked.status_code == 201
    course = db.get(Course, booked.get_json()["id"])
    course.plan_id = payers[0].plans[0].id
    db.commit()
    resource = {
        "resourceType": "CoverageEligibilityRequest",
        "status": "active",
        "purpose": ["validation", "benefits"],
        "patient": {"reference": f"Patient/{patient.id}"},
        "created": datetime.now(UTC).isoformat(),
        "insurer": {"reference": "Organization/1"},
        "item": [
            {
                "productOrService": {"coding": [{"system": CPT, "code": "97124"}]},
                "detail": [{"reference": f"CarePlan/{course.id}"}],
            }
        ],
    }

    body = _answer(_post(client, insurer_headers(auth, db, payers[0]), resource))
    item = _item(body)
    # The intake had no referral and the plan wants one.
    assert _value(item, EXT_OUTCOME) == "not_eligible"
    assert [r["code"] for r in _reasons(item)] == ["referral_required"]
    assert body["insurance"][0]["coverage"]["reference"] == f"Coverage/{payers[0].plans[0].id}"
    assert "precaution" not in json.dumps(body).lower()

    refused = _post(client, insurer_headers(auth, db, payers[1]), resource)
    (issue,) = _refusal(refused, 404)
    assert issue["code"] == "not-found"
    assert issue["expression"] == ["CoverageEligibilityRequest.item[0].detail[0]"]
    denied = db.scalar(
        select(func.count()).select_from(AuditEvent).where(AuditEvent.action == "eligibility.course_denied")
    )
    assert denied == 1  # the refused read is audited, although the error handler rolls back
    assert _checks(db) == 1  # only Acme's own check


def test_a_careplan_that_is_not_a_course_id_is_422(client, auth, db, payers, therapist):
    resource = _request(payers[0].plans[0].id, therapist)
    resource["item"][0]["detail"] = [{"reference": "CarePlan/neck-course"}]
    (issue,) = _refusal(_post(client, insurer_headers(auth, db, payers[0]), resource), 422)
    assert issue["expression"] == ["CoverageEligibilityRequest.item[0].detail[0]"]


def test_another_payers_plan_is_404(client, auth, db, payers, therapist):
    response = _post(client, insurer_headers(auth, db, payers[1]), _request(payers[0].plans[0].id, therapist))
    (issue,) = _refusal(response, 404)
    assert issue["expression"] == ["CoverageEligibilityRequest.insurance[0].coverage"]
    assert _checks(db) == 0


def _without(key: str):
    def change(resource: dict) -> dict:
        del resource[key]
        return resource

    return change


def _set(path: tuple, value):
    def change(resource: dict) -> dict:
        target = resource
        for step in path[:-1]:
            target = target[step]
        target[path[-1]] = value
        return resource

    return change


@pytest.mark.parametrize(
    ("change", "code", "expression"),
    [
        (lambda r: "{not json", "structure", None),
        (lambda r: json.dumps(r)[:-1], "structure", None),
        (lambda r: [r], "structure", None),
        (_set(("resourceType",), "Patient"), "invalid", None),
        (_without("resourceType"), "required", None),
        (_without("status"), "required", "CoverageEligibilityRequest.status"),
        (_without("created"), "required", "CoverageEligibilityRequest.created"),
        (_without("patient"), "required", "CoverageEligibilityRequest.patient"),
        (_without("insurer"), "required", "CoverageEligibilityRequest.insurer"),
        (_without("purpose"), "required", "CoverageEligibilityRequest.purpose"),
        (
            _set(("item", 0, "quantity", "value"), "sixty"),
            "value",
            "CoverageEligibilityRequest.item[0].quantity.value",
        ),
        (
            _set(("item", 0, "quantity", "value"), "60"),
            "value",
            "CoverageEligibilityRequest.item[0].quantity.value",
        ),
        (
            _set(("supportingInfo", 0, "sequence"), "one"),
            "value",
            "CoverageEligibilityRequest.supportingInfo[0].sequence",
        ),
        (_set(("insurance", 0, "focal"), "true"), "value", "CoverageEligibilityRequest.insurance[0].focal"),
        (_set(("status",), "approved"), "code-invalid", "CoverageEligibilityRequest.status"),
        (_set(("created",), "yesterday"), "value", "CoverageEligibilityRequest.created"),
        (_set(("colour",), "blue"), "structure", "CoverageEligibilityRequest.colour"),
        (
            _set(("contained", 0, "resourceType"), "NoSuchResource"),
            "structure",
            "CoverageEligibilityRequest.contained[0]",
        ),
    ],
    ids=[
        "not-json",
        "truncated",
        "array",
        "wrong-resource-type",
        "no-resource-type",
        "no-status",
        "no-created",
        "no-patient",
        "no-insurer",
        "no-purpose",
        "word-for-number",
        "string-for-number",
        "string-for-integer",
        "string-for-boolean",
        "status-not-in-value-set",
        "bad-datetime",
        "unknown-element",
        "unknown-contained-type",
    ],
)
def test_a_resource_that_is_not_valid_fhir_is_400_and_writes_nothing(
    client, auth, db, payers, therapist, change, code, expression
):
    headers = insurer_headers(auth, db, payers[0])
    changed = change(_request(payers[0].plans[0].id, therapist))
    issues = _refusal(
        _post(client, headers, changed if isinstance(changed, str) else json.dumps(changed)), 400
    )
    assert code in [i["code"] for i in issues]
    if expression is not None:
        assert [expression] in [i.get("expression") for i in issues]
    assert _checks(db) == 0


def test_every_missing_required_element_is_named_at_once(client, auth, db, payers, therapist):
    resource = _request(payers[0].plans[0].id, therapist)
    for key in ("status", "created", "patient", "insurer"):
        del resource[key]
    issues = _refusal(_post(client, insurer_headers(auth, db, payers[0]), resource), 400)
    assert sorted(i["expression"][0].split(".")[-1] for i in issues) == [
        "created",
        "insurer",
        "patient",
        "status",
    ]
    assert {i["code"] for i in issues} == {"required"}


def test_an_unexpected_failure_is_a_500_operation_outcome(client, auth, db, payers, therapist, monkeypatch):
    from massage_booking.services import eligibility

    def broken(*args, **kwargs):
        raise RuntimeError("boom")

    monkeypatch.setattr(eligibility, "check", broken)
    response = _post(client, insurer_headers(auth, db, payers[0]), _request(payers[0].plans[0].id, therapist))
    (issue,) = _refusal(response, 500)
    assert issue["code"] == "exception" and "boom" not in issue["diagnostics"]


def test_a_plain_json_content_type_is_accepted_and_others_are_415(client, auth, db, payers, therapist):
    headers = insurer_headers(auth, db, payers[0])
    resource = _request(payers[0].plans[0].id, therapist)
    _answer(_post(client, headers, resource, content_type="application/json"))
    _answer(_post(client, headers, resource, content_type="application/fhir+json; fhirVersion=4.0"))
    (issue,) = _refusal(_post(client, headers, resource, content_type="application/xml"), 415)
    assert issue["code"] == "not-supported"


def test_only_insurers_may_ask(client, auth, db, payers, therapist):
    patient = auth.create_user("patient")
    headers = {"Authorization": f"Bearer {auth.api_token(patient.email)}"}
    (issue,) = _refusal(_post(client, headers, _request(payers[0].plans[0].id, therapist)), 403)
    assert issue["code"] == "forbidden"
    missing = _post(client, {}, _request(payers[0].plans[0].id, therapist))
    (issue,) = _refusal(missing, 401)
    assert issue["code"] == "login" and missing.headers["WWW-Authenticate"].startswith("Bearer")
    assert _checks(db) == 0


def test_the_evidence_minimal_example_is_accepted(client, auth, db, payers, therapist):
    """reference/evidence.md §4.4, with our ids: a 60-minute cancer-pain session (4 units), a referral held
    elsewhere, CPT 97124 under Acme's plan, the therapist as PractitionerRole."""
    acme = payers[0]
    plan = acme.plans[0]
    example = {
        "resourceType": "CoverageEligibilityRequest",
        "status": "active",
        "purpose": ["validation", "benefits", "auth-requirements"],
        "patient": {"reference": "Patient/123"},
        "servicedPeriod": {"start": "2026-12-01", "end": "2026-12-14"},
        "created": "2026-11-23T10:00:00Z",
        "provider": {"reference": f"PractitionerRole/{therapist}"},
        "insurer": {"reference": f"Organization/{acme.id}"},
        "supportingInfo": [{"sequence": 1, "information": {"reference": "DocumentReference/referral-001"}}],
        "insurance": [{"focal": True, "coverage": {"reference": f"Coverage/{plan.id}"}}],
        "item": [
            {
                "supportingInfoSequence": [1],
                "productOrService": {
                    "coding": [{"system": "http://www.ama-assn.org/go/cpt", "code": "97124"}]
                },
                "quantity": {"value": 4},
                "diagnosis": [
                    {
                        "diagnosisCodeableConcept": {
                            "coding": [{"system": "http://hl7.org/fhir/sid/icd-10-cm", "code": "G89.3"}]
                        }
                    }
                ],
            }
        ],
    }
    body = _answer(_post(client, insurer_headers(auth, db, acme), example))
    item = _item(body)
    assert body["servicedDate"] == "2026-12-01"
    row = db.scalars(select(EligibilityCheck)).one()
    # 4 units without a unit of measure = 60 minutes; no sessions extension = one session.
    assert (row.icd10_code, row.session_minutes, row.sessions) == ("G89.3", 60, 1)
    # Dana Reyes has no oncology credential, and the referral held elsewhere cannot be dated.
    codes = [r["code"] for r in _reasons(item)]
    assert "oncology_credential_required" in codes and "referral_required" in codes
    (note,) = body["error"]
    assert note["code"]["coding"][0]["code"] == "referral-not-contained"
    assert "DocumentReference/referral-001" in note["code"]["text"]


# --- inputs the fuzzer found answered with a 500 ------------------------------------------------------------


def test_a_service_date_at_the_end_of_the_calendar_is_a_422(client, auth, db, payers, therapist):
    headers = insurer_headers(auth, db, payers[0])
    resource = _request(payers[0].plans[0].id, therapist)
    resource["servicedDate"] = "9999-12-31"
    response = _post(client, headers, resource)
    assert response.status_code == 422 and "servicedDate" in response.get_data(as_text=True)
    assert db.scalar(select(func.count()).select_from(EligibilityCheck)) == 0


def test_a_vanishing_cadence_is_a_422(client, auth, db, payers, therapist):
    headers = insurer_headers(auth, db, payers[0])
    response = _post(client, headers, _request(payers[0].plans[0].id, therapist, per_week=5e-324))
    assert response.status_code == 422


def test_a_body_nested_thousands_deep_is_a_400(client, auth, db, payers):
    headers = insurer_headers(auth, db, payers[0])
    response = _post(client, headers, "[" * 5000 + "]" * 5000)
    assert response.status_code == 400
    assert OperationOutcome.model_validate_json(response.get_data()).issue[0].code == "structure"
