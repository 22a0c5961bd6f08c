"""Eligibility checks for insurers: the body of POST /api/v1/eligibility, the explained decision, and the
list of a payer's recent checks.

A check names a booked course by `course_id` alone, or describes a hypothetical course by its fields; the
two are exclusive, and every bad field of either is named at once. `null` counts as not given, as it always
has. The decision's shape (`EligibilityDecision`) is also what a course preview's coverage carries and
what `eligibility_checks.answer` stores.
"""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any

import annotated_types as at
from pydantic import (
    Field,
    ModelWrapValidatorHandler,
    StringConstraints,
    ValidationError,
    model_validator,
)
from pydantic_core import InitErrorDetails

from massage_booking.domain import evidence
from massage_booking.domain.eligibility import Decision, Outcome
from massage_booking.models import EligibilityCheck as CheckRow
from massage_booking.schemas.base import (
    MAX_ID,
    Date,
    QueryModel,
    RequestModel,
    ResponseModel,
    Says,
    Timestamp,
    fields_of,
    invalid,
    parsed,
    problem,
    read,
)
from massage_booking.schemas.errors import restated

MAX_MINUTES = 240
MAX_SESSIONS = 60
MAX_VISITS = 366
MAX_LIMIT = 100
YEARS = range(1900, 9000)  # dates a plan year can be computed around without overflowing

REQUIRED = "Required."
EITHER = "Give either course_id alone, or the course's fields without course_id."
ICD10_MESSAGE = "Give the ICD-10-CM code of the condition, like M54.2."
DATE_MESSAGE = "Give a date as YYYY-MM-DD."


def _from_to(low: int, high: int) -> Says:
    return Says(f"Give a whole number from {low} to {high}.")


def _plan_day(raw: Any) -> date:
    """YYYY-MM-DD in a year a plan year can be computed around (wider than schemas.base.Day: a check may
    ask about any date its plan could cover)."""
    if isinstance(raw, str) and len(raw) == 10 and raw[:4].isdigit() and int(raw[:4]) in YEARS:
        return date.fromisoformat(raw)
    raise ValueError("not YYYY-MM-DD")


RowId = Annotated[int, at.Ge(1), at.Le(MAX_ID), _from_to(1, MAX_ID)]
Minutes = Annotated[int, at.Ge(1), at.Le(MAX_MINUTES), _from_to(1, MAX_MINUTES)]
Sessions = Annotated[int, at.Ge(1), at.Le(MAX_SESSIONS), _from_to(1, MAX_SESSIONS)]
Visits = Annotated[int, at.Ge(0), at.Le(MAX_VISITS), _from_to(0, MAX_VISITS)]
PlanDay = Annotated[date, *parsed(_plan_day, {"type": "string", "format": "date"}), Says(DATE_MESSAGE)]
# The fields a check by fields must give, and what a client reads when one is missing.
NEEDED = dict.fromkeys(
    ("plan_id", "icd10_code", "therapist_id", "session_minutes", "sessions", "service_date"), REQUIRED
) | {"icd10_code": ICD10_MESSAGE}


def _not_null(prop: dict[str, Any]) -> dict[str, Any]:
    """A field's schema without the `null` an optional field allows (for the fields a branch requires)."""
    choices = [choice for choice in prop.get("anyOf", []) if choice != {"type": "null"}]
    rest = {key: value for key, value in prop.items() if key not in ("anyOf", "default")}
    return {**choices[0], **rest} if len(choices) == 1 else rest


def _either_schema(schema: dict[str, Any]) -> None:
    """Document the two exclusive forms as `oneOf`: the model itself has every field optional, since which
    fields are required depends on whether `course_id` is given."""
    properties = dict(schema.pop("properties"))
    for key in ("type", "required", "additionalProperties"):
        schema.pop(key, None)
    course = {"course_id": _not_null(properties.pop("course_id"))}
    for name in NEEDED:
        properties[name] = _not_null(properties[name])
    schema["oneOf"] = [
        {"type": "object", "properties": course, "required": ["course_id"], "additionalProperties": False},
        {
            "type": "object",
            "properties": properties,
            "required": list(NEEDED),
            "not": {"required": ["course_id"]},
        },
    ]


class EligibilityRequest(RequestModel):
    """A booked course by `course_id` alone, or a hypothetical course by its fields."""

    course_id: RowId | None = Field(None, description="A course booked under one of your payer's plans.")
    plan_id: RowId | None = Field(None, description="One of your payer's plans.")
    icd10_code: (
        Annotated[str, StringConstraints(strip_whitespace=True, min_length=1), Says(ICD10_MESSAGE)] | None
    ) = Field(None, description="ICD-10-CM code, like M54.2.")
    condition_id: Annotated[str, Says("Give a condition id from /api/v1/conditions.")] | None = Field(
        None, alias="condition", description="Condition id, when the code is shared by several."
    )
    therapist_id: RowId | None = Field(None, description="The rendering therapist.")
    session_minutes: Minutes | None = Field(None, description="Minutes per session.")
    sessions: Sessions | None = Field(None, description="Sessions in the course.")
    sessions_per_week: (
        Annotated[
            float,
            at.Ge(0.25),
            at.Le(7),
            Says("Give a number of sessions a week from 0.25 (one every 4 weeks) to 7."),
        ]
        | None
    ) = Field(None, description="The cadence; it sets the weeks the effective dose is judged over.")
    referral_date: PlanDay | None = Field(None, description="The physician's referral, if any.")
    service_date: PlanDay | None = Field(None, description="The date of service (the first session).")
    visits_used: Visits | None = Field(None, description="Visits already used this plan year.")

    model_config = RequestModel.model_config | {"json_schema_extra": _either_schema}

    @model_validator(mode="wrap")
    @classmethod
    def _one_form(
        cls, data: Any, handler: ModelWrapValidatorHandler[EligibilityRequest]
    ) -> EligibilityRequest:
        """Which form the body is decides what is required; every problem of it is reported at once."""
        if not isinstance(data, dict):
            return handler(data)
        given = {key: value for key, value in data.items() if value is not None}
        problems: list[InitErrorDetails] = []
        if "course_id" in given:
            problems += [problem(EITHER, (name,), data[name]) for name in sorted(set(data) - {"course_id"})]
            given = {"course_id": given["course_id"]}
        else:
            problems += [problem(message, (name,)) for name, message in NEEDED.items() if name not in given]
        try:
            checked = handler(given)
        except ValidationError as exc:
            problems = [*restated(exc, cls), *problems]
        if problems:
            raise ValidationError.from_exception_data(cls.__name__, problems)
        return checked


def _limit(raw: Any) -> int:
    if isinstance(raw, str) and raw.isascii() and raw.isdigit() and 1 <= int(raw) <= MAX_LIMIT:
        return int(raw)
    raise invalid(f"Give a whole number from 1 to {MAX_LIMIT}.")


class ChecksQuery(QueryModel):
    limit: Annotated[int, *parsed(_limit, {"type": "integer", "minimum": 1, "maximum": MAX_LIMIT})] = Field(
        50, description=f"How many, 1 to {MAX_LIMIT} (default 50)."
    )


# --- answers ---------------------------------------------------------------------------------------------


class DecisionReason(ResponseModel):
    code: str = Field(description="Stable reason code, like `referral_required`.")
    message: str
    blocking: bool = Field(description="Whether this reason alone makes the course not eligible.")
    citation: str | None = Field(description="A citation id from the evidence registry.")


class DecisionCitation(ResponseModel):
    id: str
    label: str | None = Field(description='How the evidence is cited, like "Sherman 2014".')
    reference: str | None
    url: str | None


class EligibilityDecision(ResponseModel):
    """The plan's decision, every reason cited."""

    outcome: Outcome
    requested_sessions: int
    covered_sessions: int
    units_per_session: int = Field(description="CPT 97124 units per session (15-minute units).")
    cpt_code: str
    copay_cents: int
    visits_remaining: int | None = Field(description="Visits left this plan year; null without a limit.")
    reasons: list[DecisionReason]
    citations: list[DecisionCitation] = Field(description="The evidence the decision rests on.")


class CheckedPlan(ResponseModel):
    id: int
    name: str
    payer: str = Field(description="The payer's name.")


class CheckedCondition(ResponseModel):
    id: str
    name: str


class CheckedTherapist(ResponseModel):
    id: int
    name: str
    npi: str | None


class _Checked(ResponseModel):
    check_id: int
    course_id: int | None
    plan: CheckedPlan
    condition: CheckedCondition
    icd10_code: str
    therapist: CheckedTherapist
    service_date: Date


class EligibilityResult(EligibilityDecision, _Checked):
    """An explained decision: only what the insurer needs (no intake answers or notes)."""


class EligibilityCheck(ResponseModel):
    check_id: int
    created_at: Timestamp
    channel: str = Field(description="Where the check came from: api, fhir ...")
    plan_id: int
    course_id: int | None
    icd10_code: str
    session_minutes: int
    sessions: int
    outcome: Outcome
    covered_sessions: int
    reason_codes: list[str]


class EligibilityCheckList(ResponseModel):
    checks: list[EligibilityCheck]


def _citation(citation_id: str) -> DecisionCitation:
    """A citation resolved to its label and link in the registry (all null if the registry lost it)."""
    found = evidence.citation(citation_id)
    if found is None:
        return DecisionCitation(id=citation_id, label=None, reference=None, url=None)
    return DecisionCitation(id=citation_id, label=found.short, reference=found.reference, url=found.link)


def decision_fields(decision: Decision) -> dict[str, Any]:
    """The decision's fields, for `EligibilityDecision` and the models that extend it."""
    reasons = [read(DecisionReason, r, citation=r.citation_id) for r in decision.reasons]
    citations = [_citation(c) for c in decision.citations]
    return fields_of(EligibilityDecision, decision, reasons=reasons, citations=citations)


def decision_of(decision: Decision) -> EligibilityDecision:
    return EligibilityDecision(**decision_fields(decision))


def check_of(row: CheckRow) -> EligibilityCheck:
    return read(EligibilityCheck, row, check_id=row.id, outcome=Outcome(row.outcome))
