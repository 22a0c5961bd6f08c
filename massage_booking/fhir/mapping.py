"""FHIR R4 CoverageEligibilityRequest <-> services.eligibility: our profile of the request, the mapping to a
`CheckRequest`, and the CoverageEligibilityResponse built from the decision. Pure: no database, no Flask.

Models. fhir.resources 8 defaults to FHIR R5, so this uses its `fhir.resources.R4B` models (R4B 4.3.0 is the
technical correction of R4). Checked element by element against the R4 4.0.1 definitions of both resources
(the v4.0.1 StructureDefinitions, as another library generated its models from them): every element of
CoverageEligibilityRequest (identifier, status, priority, purpose, patient, serviced[x] date|Period, created,
enterer, provider, insurer, facility, supportingInfo {sequence, information, appliesToAll}, insurance {focal,
coverage, businessArrangement}, item {supportingInfoSequence, category, productOrService, modifier, provider,
quantity, unitPrice, facility, diagnosis {diagnosis[x] CodeableConcept|Reference}, detail}) and of
CoverageEligibilityResponse (identifier, status, purpose, patient, serviced[x], created, requestor, request,
outcome, disposition, insurer, insurance {coverage, inforce, benefitPeriod, item {category, productOrService,
modifier, provider, excluded, name, description, network, unit, term, benefit {type, allowed[x] and used[x]
unsignedInt|string|Money}, authorizationRequired, authorizationSupporting, authorizationUrl}}, preAuthRef,
form, error {code}) has the same name, type and cardinality in R4B, and the R4B models require what R4
requires (status, purpose, patient, created, insurer; in the response also request and outcome;
supportingInfo.sequence and .information, insurance.coverage, benefit.type, error.code). Nothing in these
two resources was added, removed or renamed. What we found is around the models, not in them:
- fhir.resources does not enforce the required value sets (status, purpose): we check those two;
- it reads numbers and booleans sent as JSON strings ("4", "true"), which FHIR JSON forbids: we refuse them
  (outcome.primitive_type_issues);
- it accepts a body without `resourceType`: we require it;
- `contained` takes any R4B resource type, including the few R4B added (SubscriptionTopic, Citation, ...):
  harmless here, as we read only a contained DocumentReference;
- it does not evaluate invariants: our response keeps ces-1 (an item has productOrService, no category).

Our profile of the request (https://massage-booking.example/fhir is our namespace for extensions, code
systems and identifiers; like any canonical URL it names things and need not resolve):

- status: `active` (another fm-status code is a 422).
- purpose: any of auth-requirements, benefits, discovery, validation; echoed; every answer carries all.
- patient: any reference; echoed, never looked up.
- insurer: not read: the token's payer is the insurer, named in the response as `Organization/{payer id}`.
- a booked course: `item[0].detail[]` = `CarePlan/{course id}` (a course of care is a CarePlan). The
  course's own plan, condition, therapist, minutes, sessions, referral and dates are used; no other
  element is read. ("Course/{id}" would not be FHIR: a relative reference names a resource type.)
- otherwise, the course asked about, element by element:
  - the plan: `insurance[].coverage` = `Coverage/{plan id}`, in the entry with `focal: true` or the only
    entry. We keep plans, not members' policies: our Coverage ids are plan ids;
  - visits used this plan year: extension `.../StructureDefinition/visits-used` (valueUnsignedInt) on that
    insurance entry; 0 without it;
  - the service: `item[0].productOrService` coded `http://www.ama-assn.org/go/cpt` 97124; another code is
    a 422. One item only;
  - the condition: `item[0].diagnosis[].diagnosisCodeableConcept`, one coding with system
    `http://hl7.org/fhir/sid/icd-10-cm`. A code two conditions share needs a second coding in the same
    concept, system `.../CodeSystem/condition`, code = our condition id (GET /api/v1/conditions);
  - minutes per session: `item[0].quantity`. With the UCUM unit `min` (system `http://unitsofmeasure.org`,
    code `min`) it is minutes; with no unit it is a count of 15-minute CPT units, as in the evidence.md
    §4.4 example (`{"value": 4}` = 60 minutes);
  - sessions: extension `.../StructureDefinition/course-sessions` (valuePositiveInt) on `item[0]`; without
    it the item is one session. Sessions a week: `.../StructureDefinition/sessions-per-week`
    (valueDecimal) on `item[0]`, optional;
  - the therapist: `item[0].provider`, else `provider`, = `PractitionerRole/{therapist id}`;
  - the first session: `servicedDate`, else `servicedPeriod.start` (a full date; the end is not read);
  - the referral: `supportingInfo[].information` = `#id` of a contained DocumentReference whose `date` (an
    instant) is the referral's date; the latest counts. A DocumentReference that is not contained cannot be
    read: it does not count as a referral, and the response says so in `error[]`.

A resource that is not FHIR R4 (bad JSON, wrong resourceType, a required element missing, a value of the
wrong type) is a 400; a valid resource that breaks this profile or names an unknown code is a 422. Both
answer an OperationOutcome naming the element (`expression`).

The response (CoverageEligibilityResponse): `identifier` = our check id (system `.../sid/eligibility-check`);
status active; purpose and patient echoed; created now; `request` the request's first identifier, else our
check id; insurer `Organization/{payer id}`; outcome `complete`; `disposition` a one-line summary;
`servicedDate` the first session's date. One `insurance` with `coverage` = `Coverage/{plan id}`, `inforce`
true and `benefitPeriod` the plan year, and one `item`: productOrService CPT 97124, provider the therapist,
`excluded` (the plan does not cover massage), `network` in|out, `term` annual when the plan caps visits,
`benefit[]` (`visit`: allowedUnsignedInt = the plan's annual visit limit (allowedString when it has none),
usedUnsignedInt = visits used this plan year when known; the sessions this answer covers are in the
`covered-sessions` extension; `copay`: allowedMoney USD per visit), `authorizationRequired` (the plan wants a
physician's referral) with `authorizationSupporting` saying which. The decision itself is in extensions on
that item, under our namespace: `eligibility-outcome` (valueCode eligible | partly_eligible |
not_eligible), `units-per-session` (valueQuantity, CPT 97124 units), one `eligibility-reason` per reason
(sub-extensions code, message, blocking, citation = the citation's label, citationUrl) and one
`evidence-citation` per citation (label, reference, url). `error[]` is kept for what we could not process
(an unreadable referral), not for the reasons a course is not covered.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from fhir.resources.R4B import get_fhir_model_class
from fhir.resources.R4B.coverageeligibilityrequest import CoverageEligibilityRequest
from fhir.resources.R4B.coverageeligibilityresponse import CoverageEligibilityResponse
from fhir.resources.R4B.resource import Resource
from pydantic import ValidationError

from massage_booking.domain import evidence
from massage_booking.domain.eligibility import Decision, Outcome, PlanRules
from massage_booking.domain.errors import DomainError
from massage_booking.fhir.outcome import ROOT, FhirProblem, Issue, primitive_type_issues, pydantic_issues
from massage_booking.formatting import money
from massage_booking.services.eligibility import (
    MAX_MINUTES,
    MAX_SESSIONS,
    PLAN_NOT_FOUND,
    YEARS,
    CheckRequest,
)

BASE = "https://massage-booking.example/fhir"
EXT_SESSIONS = f"{BASE}/StructureDefinition/course-sessions"
EXT_SESSIONS_PER_WEEK = f"{BASE}/StructureDefinition/sessions-per-week"
EXT_VISITS_USED = f"{BASE}/StructureDefinition/visits-used"
EXT_OUTCOME = f"{BASE}/StructureDefinition/eligibility-outcome"
EXT_UNITS = f"{BASE}/StructureDefinition/units-per-session"
EXT_COVERED = f"{BASE}/StructureDefinition/covered-sessions"
EXT_REASON = f"{BASE}/StructureDefinition/eligibility-reason"
EXT_CITATION = f"{BASE}/StructureDefinition/evidence-citation"
CONDITION_SYSTEM = f"{BASE}/CodeSystem/condition"
PROCESSING_SYSTEM = f"{BASE}/CodeSystem/processing-note"
CHECK_SYSTEM = f"{BASE}/sid/eligibility-check"

CPT = "http://www.ama-assn.org/go/cpt"
ICD10CM = "http://hl7.org/fhir/sid/icd-10-cm"
UCUM = "http://unitsofmeasure.org"
BENEFIT_TYPE = "http://terminology.hl7.org/CodeSystem/benefit-type"
BENEFIT_NETWORK = "http://terminology.hl7.org/CodeSystem/benefit-network"
BENEFIT_TERM = "http://terminology.hl7.org/CodeSystem/benefit-term"

MASSAGE_CPT = "97124"
UNIT_MINUTES = 15
MAX_ID = 2**31 - 1
MAX_VISITS_USED = 366
STATUSES = ("active", "cancelled", "draft", "entered-in-error")
PURPOSES = ("auth-requirements", "benefits", "discovery", "validation")


# ------------------------------------------------------------------------------------------- reading


def parse_request(body: bytes) -> CoverageEligibilityRequest:
    """The body as a valid FHIR R4 CoverageEligibilityRequest, or FhirProblem 400 naming what is wrong."""
    raw = _json_object(body)
    _check_resource_type(raw)
    early = _contained_type_issues(raw)
    if early:
        raise FhirProblem(400, early)
    resource = _validated(body, raw)
    issues = primitive_type_issues(raw, resource.model_dump(mode="json")) + _code_issues(resource)
    if issues:
        raise FhirProblem(400, issues)
    return resource


def _json_object(body: bytes) -> dict[str, Any]:
    """The body's JSON, which must be one object before any FHIR model is worth trying."""
    try:
        raw = json.loads(body)
    except ValueError as exc:
        raise FhirProblem(400, [Issue("structure", f"The body is not valid JSON: {exc}.")]) from exc
    except RecursionError as exc:  # thousands of nested arrays: no FHIR resource is shaped like that
        raise FhirProblem(
            400, [Issue("structure", "The body is nested too deeply to be a resource.")]
        ) from exc
    if not isinstance(raw, dict):
        raise FhirProblem(400, [Issue("structure", "The body must be a JSON object: one FHIR resource.")])
    return raw


def _check_resource_type(raw: Mapping[str, Any]) -> None:
    """fhir.resources accepts a body without `resourceType`; FHIR JSON does not."""
    kind = raw.get("resourceType")
    if kind is None:
        raise FhirProblem(
            400, [Issue("required", "The resource has no resourceType: send a CoverageEligibilityRequest.")]
        )
    if kind != ROOT:
        raise FhirProblem(
            400,
            [Issue("invalid", f"This endpoint takes a CoverageEligibilityRequest, not {json.dumps(kind)}.")],
        )


def _validated(body: bytes, raw: Mapping[str, Any]) -> CoverageEligibilityRequest:
    """The R4B model of the body; every way the model can fail is a 400, never a 500."""
    try:
        return CoverageEligibilityRequest.model_validate_json(body)
    except RecursionError as exc:
        raise FhirProblem(
            400, [Issue("structure", "The body is nested too deeply to be a resource.")]
        ) from exc
    except ValidationError as exc:
        issues = pydantic_issues(exc)
        # The model checks required primitives only once every other element is valid: name them now too.
        named = {issue.expression for issue in issues}
        issues += [issue for issue in _missing_primitives(raw) if issue.expression not in named]
        raise FhirProblem(400, issues) from exc
    except Exception as exc:
        # fhir.resources raises plain KeyError, TypeError... for a few shapes it does not foresee.
        raise FhirProblem(
            400,
            [Issue("structure", f"The resource cannot be read as FHIR R4 ({type(exc).__name__}: {exc}).")],
        ) from exc


def _code_issues(resource: CoverageEligibilityRequest) -> list[Issue]:
    """status and purpose outside their required value sets, which fhir.resources does not enforce."""
    issues = []
    if resource.status not in STATUSES:
        issues.append(
            Issue("code-invalid", f"status must be one of {', '.join(STATUSES)}.", f"{ROOT}.status")
        )
    for index, purpose in enumerate(resource.purpose or []):
        if purpose not in PURPOSES:
            where = f"{ROOT}.purpose[{index}]"
            issues.append(Issue("code-invalid", f"purpose must be one of {', '.join(PURPOSES)}.", where))
    return issues


def _missing_primitives(raw: Mapping[str, Any]) -> list[Issue]:
    """The request's required primitive elements (1..1 or 1..*) that are absent, with no extension either."""
    return [
        Issue("required", f"{ROOT}.{name} is required and missing.", f"{ROOT}.{name}")
        for name in ("status", "purpose", "created")
        if raw.get(name) in (None, []) and not raw.get(f"_{name}")
    ]


def _contained_type_issues(raw: Mapping[str, Any]) -> list[Issue]:
    """Contained resources of no FHIR type (fhir.resources fails on them with a bare KeyError)."""
    contained = raw.get("contained")
    if not isinstance(contained, list):
        return []
    issues = []
    for index, entry in enumerate(contained):
        kind = entry.get("resourceType") if isinstance(entry, dict) else None
        where = f"{ROOT}.contained[{index}]"
        try:
            known = isinstance(kind, str) and issubclass(get_fhir_model_class(kind), Resource)
        except ValueError:
            known = False
        if not known:
            issues.append(
                Issue("structure", f"{where} is not a FHIR R4 resource (resourceType {kind!r}).", where)
            )
    return issues


@dataclass(frozen=True)
class Note:
    """Something in the request we read but could not use; answered in the response's `error[]`."""

    code: str
    text: str


@dataclass(frozen=True)
class Asked:
    """The check a request asks for, with the FHIRPath each CheckRequest field came from."""

    check: CheckRequest
    paths: Mapping[str, str] = field(default_factory=dict)
    notes: tuple[Note, ...] = ()


_Bad = Callable[[str, str, str], None]  # (issue code, sentence, expression)


def to_check(resource: CoverageEligibilityRequest) -> Asked:
    """Our profile (module docstring) read into a CheckRequest; FhirProblem 422 names every element that
    breaks it, all at once."""
    issues: list[Issue] = []

    def bad(code: str, message: str, where: str) -> None:
        issues.append(Issue(code, message, where))

    if resource.status != "active":
        bad(
            "business-rule",
            f"Only active requests are answered; this one is {resource.status}.",
            f"{ROOT}.status",
        )
    items = resource.item or []
    if len(items) > 1:
        bad(
            "not-supported",
            "Send one item, CPT 97124, with the number of sessions in the course-sessions extension.",
            f"{ROOT}.item",
        )
    item = items[0] if items else None
    course = _course(item, bad) if item is not None else None
    if course is not None:
        _service(item, bad, required=False)
        if issues:
            raise FhirProblem(422, issues)
        course_id, where = course
        assert course_id is not None  # a bad CarePlan id is an issue above
        return Asked(CheckRequest(course_id=course_id), {"course_id": where})
    if item is None:
        bad(
            "required",
            "Describe the course in one item: CPT 97124, the ICD-10-CM diagnosis, the minutes per session "
            "(quantity), the sessions and the therapist; or name a booked course: item.detail CarePlan/{id}.",
            f"{ROOT}.item",
        )
        raise FhirProblem(422, issues)

    paths: dict[str, str] = {}
    _service(item, bad, required=True)
    plan_id, visits_used = _plan(resource, bad, paths)
    icd10_code, condition_id = _diagnosis(item, bad, paths)
    minutes = _minutes(item, bad, paths)
    therapist_id = _therapist(resource, item, bad, paths)
    sessions = _extension_value(item, EXT_SESSIONS, "valuePositiveInt", f"{ROOT}.item[0]", bad)
    if sessions is not None and not 1 <= sessions <= MAX_SESSIONS:
        bad("value", f"A course has from 1 to {MAX_SESSIONS} sessions.", f"{ROOT}.item[0].extension")
    per_week = _extension_value(item, EXT_SESSIONS_PER_WEEK, "valueDecimal", f"{ROOT}.item[0]", bad)
    if per_week is not None and not 0.25 <= per_week <= 7:
        bad("value", "Give from 0.25 (one every 4 weeks) to 7 sessions a week.", f"{ROOT}.item[0].extension")
    service_date = _service_date(resource, bad, paths)
    referral_date, notes = _referral(resource, bad, paths)
    if issues:
        raise FhirProblem(422, issues)
    check = CheckRequest(
        plan_id=plan_id,
        icd10_code=icd10_code,
        condition_id=condition_id,
        therapist_id=therapist_id,
        session_minutes=minutes,
        sessions=sessions or 1,
        sessions_per_week=float(per_week) if per_week is not None else None,
        referral_date=referral_date,
        service_date=service_date,
        visits_used=visits_used,
    )
    return Asked(check, paths, tuple(notes))


def _id_of(reference: Any, kind: str) -> int | None:
    """`Coverage/12` -> 12 (a literal, relative reference to one of our ids); None for anything else."""
    text = getattr(reference, "reference", None) or ""
    match = re.fullmatch(rf"{kind}/([1-9][0-9]{{0,9}})", text)
    if match is None or int(match.group(1)) > MAX_ID:
        return None
    return int(match.group(1))


def _course(item: Any, bad: _Bad) -> tuple[int | None, str] | None:
    """The course a CarePlan in item.detail names: (id, path); (None, path) for a CarePlan that is not
    one of our course ids (an issue is added); None when no CarePlan is named."""
    found = [
        (index, detail)
        for index, detail in enumerate(item.detail or [])
        if (detail.reference or "").startswith("CarePlan/")
    ]
    if not found:
        return None
    index, detail = found[0]
    where = f"{ROOT}.item[0].detail[{index}]"
    if len(found) > 1:
        bad("not-supported", "Name one course (CarePlan) per request.", f"{ROOT}.item[0].detail")
    course_id = _id_of(detail, "CarePlan")
    if course_id is None:
        bad(
            "value",
            f"{detail.reference} is not a course: our CarePlan ids are course ids (whole numbers).",
            where,
        )
    return course_id, where


def _service(item: Any, bad: _Bad, *, required: bool) -> None:
    where = f"{ROOT}.item[0].productOrService"
    concept = item.productOrService
    if concept is None:
        if required:
            bad("required", "Give the service: CPT 97124 (system http://www.ama-assn.org/go/cpt).", where)
        return
    codes = [c.code for c in concept.coding or [] if c.system == CPT and c.code]
    if not codes:
        bad("code-invalid", "Code the service in CPT (system http://www.ama-assn.org/go/cpt): 97124.", where)
    elif any(code != MASSAGE_CPT for code in codes):
        other = next(code for code in codes if code != MASSAGE_CPT)
        bad(
            "not-supported",
            f"Only CPT 97124 (therapeutic massage) is checked here, not CPT {other}.",
            where,
        )


def _plan(resource: CoverageEligibilityRequest, bad: _Bad, paths: dict[str, str]) -> tuple[int | None, int]:
    entries = resource.insurance or []
    focal = [index for index, entry in enumerate(entries) if entry.focal]
    if len(focal) == 1:
        index = focal[0]
    elif len(entries) == 1:
        index = 0
    else:
        message = (
            "Name the plan as insurance.coverage Coverage/{plan id}."
            if not entries
            else "Mark the one insurance entry to check with focal: true."
        )
        bad("required" if not entries else "business-rule", message, f"{ROOT}.insurance")
        return None, 0
    entry = entries[index]
    where = f"{ROOT}.insurance[{index}].coverage"
    paths["plan_id"] = where
    plan_id = _id_of(entry.coverage, "Coverage")
    if plan_id is None:
        bad("value", "Name the plan as Coverage/{plan id}: our Coverage ids are plan ids.", where)
    used = _extension_value(entry, EXT_VISITS_USED, "valueUnsignedInt", f"{ROOT}.insurance[{index}]", bad)
    if used is not None and used > MAX_VISITS_USED:
        bad("value", f"visits-used is at most {MAX_VISITS_USED}.", f"{ROOT}.insurance[{index}].extension")
        used = None
    return plan_id, used or 0


def _diagnosis(item: Any, bad: _Bad, paths: dict[str, str]) -> tuple[str | None, str | None]:
    codes: list[tuple[str, str]] = []  # (code, path)
    conditions: list[str] = []
    for index, diagnosis in enumerate(item.diagnosis or []):
        concept = diagnosis.diagnosisCodeableConcept
        where = f"{ROOT}.item[0].diagnosis[{index}].diagnosisCodeableConcept"
        if concept is None:
            bad(
                "not-supported",
                "Give the diagnosis as a code (diagnosisCodeableConcept), not as a reference.",
                f"{ROOT}.item[0].diagnosis[{index}]",
            )
            continue
        for coding in concept.coding or []:
            if coding.system == ICD10CM and coding.code:
                codes.append((coding.code, where))
            elif coding.system == CONDITION_SYSTEM and coding.code:
                conditions.append(coding.code)
    if not codes:
        bad(
            "required",
            "Give the condition's ICD-10-CM code (system http://hl7.org/fhir/sid/icd-10-cm), like M54.2.",
            f"{ROOT}.item[0].diagnosis",
        )
        return None, None
    distinct = {evidence.normalize_icd10(code) or code for code, _ in codes}
    if len(distinct) > 1:
        bad("not-supported", "Give one ICD-10-CM diagnosis: the condition the course treats.", codes[1][1])
    if len(set(conditions)) > 1:
        bad("not-supported", "Give at most one condition coding.", codes[0][1])
    code, where = codes[0]
    paths["icd10_code"] = paths["condition"] = where
    return code, conditions[0] if conditions else None


def _minutes(item: Any, bad: _Bad, paths: dict[str, str]) -> int | None:
    where = f"{ROOT}.item[0].quantity"
    paths["session_minutes"] = where
    quantity = item.quantity
    if quantity is None or quantity.value is None:
        bad(
            "required",
            "Give the minutes per session as quantity: {value: 60, system: http://unitsofmeasure.org, "
            "code: min}, or a count of 15-minute units with no unit ({value: 4}).",
            where,
        )
        return None
    if quantity.system not in (None, UCUM):
        bad("code-invalid", "Give the quantity's unit in UCUM (http://unitsofmeasure.org): min.", where)
        return None
    unit = quantity.code or quantity.unit
    value = Decimal(quantity.value)
    if value != value.to_integral_value() or value < 1:
        bad("value", "Give a whole, positive number of minutes or units.", f"{where}.value")
        return None
    if unit is None:
        minutes = int(value) * UNIT_MINUTES
    elif unit == "min":
        minutes = int(value)
    else:
        bad(
            "code-invalid",
            f"The unit {unit} is not read here: give minutes (min), or no unit for units.",
            where,
        )
        return None
    if not 1 <= minutes <= MAX_MINUTES:
        bad(
            "value", f"A session is from 1 to {MAX_MINUTES} minutes; this one is {minutes}.", f"{where}.value"
        )
        return None
    return minutes


def _therapist(
    resource: CoverageEligibilityRequest, item: Any, bad: _Bad, paths: dict[str, str]
) -> int | None:
    if item.provider is not None:
        reference, where = item.provider, f"{ROOT}.item[0].provider"
    elif resource.provider is not None:
        reference, where = resource.provider, f"{ROOT}.provider"
    else:
        bad(
            "required", "Name the therapist as provider: PractitionerRole/{therapist id}.", f"{ROOT}.provider"
        )
        return None
    paths["therapist_id"] = where
    therapist_id = _id_of(reference, "PractitionerRole")
    if therapist_id is None:
        bad("value", "Name the therapist as PractitionerRole/{therapist id}.", where)
    return therapist_id


def _service_date(resource: CoverageEligibilityRequest, bad: _Bad, paths: dict[str, str]) -> date | None:
    if resource.servicedDate is not None:
        value, where = resource.servicedDate, f"{ROOT}.servicedDate"
    elif resource.servicedPeriod is not None and resource.servicedPeriod.start is not None:
        value, where = resource.servicedPeriod.start, f"{ROOT}.servicedPeriod.start"
    else:
        bad("required", "Give the date of the first session: servicedDate or servicedPeriod.start.", ROOT)
        return None
    paths["service_date"] = where
    day = value.date() if isinstance(value, datetime) else value if isinstance(value, date) else None
    if day is None:
        bad("value", f"Give a full date (YYYY-MM-DD), not {value}.", where)
        return None
    if day.year not in YEARS:  # a plan year around it must be computable
        bad("value", f"Give a date between the years {YEARS.start} and {YEARS.stop - 1}.", where)
        return None
    return day


def _referral(
    resource: CoverageEligibilityRequest, bad: _Bad, paths: dict[str, str]
) -> tuple[date | None, list[Note]]:
    contained = {f"#{r.id}": (index, r) for index, r in enumerate(resource.contained or []) if r.id}
    dates: list[date] = []
    notes: list[Note] = []
    for index, info in enumerate(resource.supportingInfo or []):
        reference = info.information.reference or ""
        where = f"{ROOT}.supportingInfo[{index}].information"
        if reference.startswith("#"):
            if reference not in contained:
                bad("not-found", f"{reference} is not among the contained resources.", where)
                continue
            position, document = contained[reference]
            if document.get_resource_type() != "DocumentReference":
                continue
            paths.setdefault("referral_date", f"{ROOT}.contained[{position}].date")
            if document.date is None:
                bad(
                    "required",
                    "Give the referral's date (DocumentReference.date).",
                    f"{ROOT}.contained[{position}]",
                )
                continue
            dates.append(document.date.date())
        elif reference.startswith("DocumentReference/") or "/DocumentReference/" in reference:
            notes.append(
                Note(
                    "referral-not-contained",
                    f"The referral {reference} (supportingInfo[{index}]) is not contained in the request, so "
                    "its date cannot be read and it does not count as a referral. Contain it, with its date.",
                )
            )
    return (max(dates) if dates else None), notes


def _extension_value(element: Any, url: str, kind: str, where: str, bad: _Bad) -> Any:
    found = [(index, e) for index, e in enumerate(element.extension or []) if e.url == url]
    if not found:
        return None
    index, extension = found[0]
    if len(found) > 1:
        bad("business-rule", f"Give the extension {url} once.", f"{where}.extension[{found[1][0]}]")
    value = getattr(extension, kind)
    if value is None:
        bad("value", f"The extension {url} takes {kind}.", f"{where}.extension[{index}]")
    return value


# -------------------------------------------------------------------------------------- domain errors

_FIELD_CODES = {"icd10_code": "code-invalid", "condition": "multiple-matches"}
_STATUS_CODES = {401: "login", 403: "forbidden", 404: "not-found", 409: "conflict", 422: "business-rule"}


def domain_issues(exc: DomainError, asked: Asked | None) -> list[Issue]:
    """A service's refusal as OperationOutcome issues, each naming the element it is about when we know."""
    paths = asked.paths if asked is not None else {}
    fields = exc.details.get("fields")
    if isinstance(fields, Mapping) and fields:
        return [
            Issue(_FIELD_CODES.get(name, "value"), message, paths.get(name))
            for name, messages in fields.items()
            for message in messages
        ]
    where = None
    if exc.status == 404 and asked is not None:
        if asked.check.course_id is not None:
            where = paths.get("course_id")
        elif exc.message == PLAN_NOT_FOUND:
            where = paths.get("plan_id")
        else:
            where = paths.get("therapist_id")
    return [Issue(_STATUS_CODES.get(exc.status, "processing"), exc.message, where)]


# ------------------------------------------------------------------------------------------ writing


@dataclass(frozen=True)
class Answer:
    """What the response tells of a check, as plain values (the view reads them off the rows)."""

    check_id: int
    decision: Decision
    rules: PlanRules
    plan_id: int
    plan_name: str
    payer_id: int
    payer_name: str
    therapist_id: int
    therapist_name: str
    service_date: date
    plan_year: tuple[date, date]
    in_network: bool
    visits_used: int | None


def to_response(
    resource: CoverageEligibilityRequest, asked: Asked, answer: Answer, now: datetime
) -> CoverageEligibilityResponse:
    decision, rules = answer.decision, answer.rules
    check_identifier = {"system": CHECK_SYSTEM, "value": str(answer.check_id)}
    if resource.identifier:
        request_identifier = resource.identifier[0].model_dump(mode="json")
    else:
        request_identifier = check_identifier
    item: dict[str, Any] = {
        "extension": _decision_extensions(decision),
        "productOrService": {"coding": [{"system": CPT, "code": decision.cpt_code}]},
        "provider": {
            "reference": f"PractitionerRole/{answer.therapist_id}",
            "display": answer.therapist_name,
        },
        "excluded": not rules.covers_massage,
        "network": {"coding": [{"system": BENEFIT_NETWORK, "code": "in" if answer.in_network else "out"}]},
        "benefit": _benefits(decision, answer),
        "authorizationRequired": rules.referral_required,
    }
    if rules.annual_visit_limit is not None:
        item["term"] = {"coding": [{"system": BENEFIT_TERM, "code": "annual"}]}
    if rules.referral_required:
        within = f", at most {rules.referral_valid_days} days old" if rules.referral_valid_days else ""
        item["authorizationSupporting"] = [
            {"text": f"A physician's referral dated on or before the first session{within}."}
        ]
    body: dict[str, Any] = {
        "identifier": [check_identifier],
        "status": "active",
        "purpose": list(resource.purpose or []),
        "patient": resource.patient.model_dump(mode="json"),
        "servicedDate": answer.service_date,
        "created": now,
        "request": {"type": ROOT, "identifier": request_identifier},
        "outcome": "complete",
        "disposition": disposition(decision),
        "insurer": {"reference": f"Organization/{answer.payer_id}", "display": answer.payer_name},
        "insurance": [
            {
                "coverage": {
                    "reference": f"Coverage/{answer.plan_id}",
                    "display": f"{answer.payer_name} {answer.plan_name}",
                },
                "inforce": True,
                "benefitPeriod": {"start": answer.plan_year[0], "end": answer.plan_year[1]},
                "item": [item],
            }
        ],
    }
    if asked.notes:
        body["error"] = [
            {"code": {"coding": [{"system": PROCESSING_SYSTEM, "code": note.code}], "text": note.text}}
            for note in asked.notes
        ]
    return CoverageEligibilityResponse.model_validate(body)


def _benefits(decision: Decision, answer: Answer) -> list[dict[str, Any]]:
    # FHIR's meaning: the plan's visit allowance for the benefit period, and what is used of it. The sessions
    # this answer covers are in the covered-sessions extension.
    visit: dict[str, Any] = {
        "type": {"coding": [{"system": BENEFIT_TYPE, "code": "visit", "display": "Visit"}]},
    }
    if answer.rules.annual_visit_limit is not None:
        visit["allowedUnsignedInt"] = answer.rules.annual_visit_limit
    else:
        visit["allowedString"] = "No annual visit limit"
    if answer.visits_used is not None:
        visit["usedUnsignedInt"] = answer.visits_used
    copay = {
        "type": {"coding": [{"system": BENEFIT_TYPE, "code": "copay", "display": "Copayment per service"}]},
        "allowedMoney": {"value": Decimal(decision.copay_cents) / 100, "currency": "USD"},
    }
    return [visit, copay]


def _decision_extensions(decision: Decision) -> list[dict[str, Any]]:
    extensions: list[dict[str, Any]] = [
        {"url": EXT_OUTCOME, "valueCode": decision.outcome.value},
        {"url": EXT_COVERED, "valueUnsignedInt": decision.covered_sessions},
        {
            "url": EXT_UNITS,
            "valueQuantity": {
                "value": decision.units_per_session,
                "unit": f"units of CPT {decision.cpt_code}",
            },
        },
    ]
    for reason in decision.reasons:
        parts: list[dict[str, Any]] = [
            {"url": "code", "valueCode": reason.code},
            {"url": "message", "valueString": reason.message},
            {"url": "blocking", "valueBoolean": reason.blocking},
        ]
        cited = evidence.citation(reason.citation_id) if reason.citation_id else None
        if cited is not None:
            parts.append({"url": "citation", "valueString": cited.short})
            if cited.link:
                parts.append({"url": "citationUrl", "valueUri": cited.link})
        extensions.append({"url": EXT_REASON, "extension": parts})
    for citation_id in decision.citations:
        cited = evidence.citation(citation_id)
        if cited is None:
            continue
        parts = [
            {"url": "label", "valueString": cited.short},
            {"url": "reference", "valueString": cited.reference},
        ]
        if cited.link:
            parts.append({"url": "url", "valueUri": cited.link})
        extensions.append({"url": EXT_CITATION, "extension": parts})
    return extensions


def disposition(decision: Decision) -> str:
    """One line for a person: the outcome, what is covered, and why not when it is not."""
    if decision.outcome is Outcome.NOT_ELIGIBLE:
        why = " ".join(r.message for r in decision.reasons if r.blocking)
        return " ".join(f"Not eligible: {why}".split())
    units = decision.units_per_session
    label = "Eligible" if decision.outcome is Outcome.ELIGIBLE else "Partly eligible"
    text = (
        f"{label}: {decision.covered_sessions} of {decision.requested_sessions} sessions covered, "
        f"{units} unit{'' if units == 1 else 's'} of CPT {decision.cpt_code} each"
    )
    if decision.copay_cents:
        text += f", copay {money(decision.copay_cents)} a visit"
    text += "."
    notes = [r.message for r in decision.reasons]
    return " ".join(" ".join([text, *notes]).split())
