"""Intakes: the health answers of POST /api/v1/intakes (and of the wizard's first step), and an intake as
the API shows it with the gates it implies.

Every answer checks itself, so one 422 names every bad answer at once. Two rules span answers: a treatment
phase needs a cancer history (its check reads `cancer_history`, validated before it), and a referral is
all three of its fields or none (a missing part is marked before the fields are checked, so that it is
named beside every other error). "Not in the future" needs today's date: the validation context's
`today`, else the server's.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date, datetime
from typing import Annotated, Any

from pydantic import Field, ValidationInfo, model_validator

from massage_booking.domain import evidence
from massage_booking.domain import intake as rules
from massage_booking.domain.identifiers import is_valid_npi
from massage_booking.models import Intake as IntakeRow
from massage_booking.schemas.base import (
    Date,
    IfMissing,
    RequestModel,
    ResponseModel,
    Says,
    Timestamp,
    invalid,
    iso,
    parsed,
    read,
)

CHOOSE_CONDITION = "Choose a condition, by name or ICD-10 code."
WHOLE_REFERRAL = "A referral needs the physician's name, NPI and date."


class _PartMissing:
    """Stands for a referral field left out while the others were given."""


_PART_MISSING = _PartMissing()


def _condition(value: Any) -> str:
    """Registry id, name, alias or ICD-10 code; a code two conditions share (F41.9) must be resolved."""
    if not isinstance(value, str) or not value.strip():
        raise invalid(CHOOSE_CONDITION)
    found = evidence.matches(value)
    if len(found) == 1:
        return found[0].id
    if found:
        names = " or ".join(c.name for c in found)
        raise invalid(f"{value.strip()!r} could mean {names}; choose one.")
    raise invalid(f"No condition in the evidence registry matches {value.strip()!r}.")


def _treatment_phase(value: Any, info: ValidationInfo) -> str:
    history = info.data.get("cancer_history")  # absent when that answer was itself wrong
    if value is None or value == "":
        if history:
            raise invalid("Choose where you are in cancer treatment.")
        return rules.NO_TREATMENT
    if value not in rules.TREATMENT_PHASES:
        raise invalid(f"Choose one of: {', '.join(rules.TREATMENT_PHASES)}.")
    if history is False and value != rules.NO_TREATMENT:
        raise invalid("A cancer treatment phase needs a cancer history; answer that question too.")
    return str(value)


def _precautions(value: Any) -> frozenset[str]:
    if value is None:
        return frozenset()
    if not isinstance(value, list | tuple | set | frozenset) or not all(isinstance(v, str) for v in value):
        raise invalid("Send the precautions as a list of their ids.")
    known = set(rules.answer_ids())
    unknown = sorted({v for v in value if v not in known})
    if unknown:
        raise invalid(
            f"Unknown precaution(s): {', '.join(unknown)}. Expected: {', '.join(rules.answer_ids())}."
        )
    return frozenset(value)


def _referral_name(value: Any) -> str:
    if value is _PART_MISSING:
        raise invalid(WHOLE_REFERRAL)
    if not isinstance(value, str) or not value.strip():
        raise invalid("Give the referring physician's name.")
    return value.strip()


def _referral_npi(value: Any) -> str:
    """The NPI's check digit (CMS Luhn rule); spaces are ignored, and a number is read as its digits."""
    if value is _PART_MISSING:
        raise invalid(WHOLE_REFERRAL)
    text = "".join(str(value).split()) if isinstance(value, str | int) and not isinstance(value, bool) else ""
    if not is_valid_npi(text):
        raise invalid("Enter the physician's 10-digit NPI; this one fails the NPI check digit.")
    return text


def _referral_date(value: Any, info: ValidationInfo) -> date:
    if value is _PART_MISSING:
        raise invalid(WHOLE_REFERRAL)
    is_day = isinstance(value, date) and not isinstance(value, datetime)
    parsed = value if is_day else iso(date.fromisoformat, value)
    if parsed is None:
        raise invalid("Enter the referral's date as YYYY-MM-DD.")
    today = (info.context or {}).get("today") or date.today()
    if parsed > today:
        raise invalid("The referral's date cannot be in the future.")
    return parsed


_PHASES = {"type": "string", "enum": list(rules.TREATMENT_PHASES)}
_ANSWERS = {"type": "string", "enum": list(rules.answer_ids())}


class IntakeRequest(RequestModel):
    """The answers. Unknown keys are ignored; `""` counts as no answer for the optional ones."""

    condition: Annotated[
        str, IfMissing(CHOOSE_CONDITION), *parsed(_condition, {"type": "string", "minLength": 1})
    ] = Field(description="Registry id, name, alias or ICD-10-CM code.")
    cancer_history: Annotated[bool, Says("Answer yes or no: have you ever had cancer?")] = Field(
        description="Have you ever had cancer?"
    )
    treatment_phase: Annotated[
        str,
        *parsed(_treatment_phase, {"anyOf": [{**_PHASES, "default": rules.NO_TREATMENT}, {"type": "null"}]}),
    ] = Field(None, validate_default=True, description="Must be `none` without a cancer history.")
    precautions: Annotated[frozenset[str], *parsed(_precautions, {"type": "array", "items": _ANSWERS})] = (
        Field(frozenset(), description="What applies to you now.")
    )
    referral_name: Annotated[str | None, *parsed(_referral_name)] = Field(
        None, description="Referring physician (all three referral fields, or none)."
    )
    referral_npi: Annotated[
        str | None, *parsed(_referral_npi, {"anyOf": [{"type": "string"}, {"type": "integer"}]})
    ] = Field(None, description="The physician's 10-digit NPI (spaces ignored; check digit verified).")
    referral_date: Annotated[date | None, *parsed(_referral_date, {"type": "string", "format": "date"})] = (
        Field(None, description="Not in the future.")
    )

    @model_validator(mode="before")
    @classmethod
    def _whole_referral(cls, data: Any) -> Any:
        """A referral field left empty is no answer; one left out while another is given is marked, so
        that its field says what is missing."""
        if not isinstance(data, Mapping):
            return data
        given = {f for f in rules.REFERRAL_FIELDS if data.get(f) not in (None, "")}
        answers = {k: v for k, v in data.items() if k not in rules.REFERRAL_FIELDS or k in given}
        if given:
            answers.update({f: _PART_MISSING for f in rules.REFERRAL_FIELDS if f not in given})
        return answers

    def answers(self) -> rules.IntakeAnswers:
        """The answers as the intake's rules and the service take them (the same names but `condition_id`)."""
        answers = dict(self)
        return rules.IntakeAnswers(condition_id=answers.pop("condition"), **answers)


# --- the intake as the API shows it ----------------------------------------------------------------------


class IntakeGate(ResponseModel):
    """A gate: what must happen before booking."""

    code: str
    message: str


class Referral(ResponseModel):
    name: str
    npi: str | None
    date: Date | None


class IntakeGates(ResponseModel):
    """The gates the answers imply."""

    requires_oncology_trained: bool
    can_book: bool
    clearance_needed: list[IntakeGate]
    deferred: list[IntakeGate]
    session_notes: list[str] = Field(description="The precautions every session carries, one clause each.")


class Intake(ResponseModel):
    id: int
    condition: str = Field(description="Condition id.")
    cancer_history: bool
    treatment_phase: Annotated[str, Field(json_schema_extra={"enum": list(rules.TREATMENT_PHASES)})]
    precautions: list[Annotated[str, Field(json_schema_extra={"enum": list(rules.answer_ids())})]]
    referral: Referral | None
    created_at: Timestamp
    decision: IntakeGates


def gates_of(gates: tuple[rules.Gate, ...]) -> list[IntakeGate]:
    return [read(IntakeGate, g) for g in gates]


def intake_of(row: IntakeRow, decision: rules.IntakeDecision) -> Intake:
    referral = None
    if row.referral_name is not None:
        referral = Referral(name=row.referral_name, npi=row.referral_npi, date=row.referral_date)
    clearance, deferred = gates_of(decision.clearance_needed), gates_of(decision.deferred)
    gates = read(IntakeGates, decision, clearance_needed=clearance, deferred=deferred)
    return read(Intake, row, condition=row.condition_id, referral=referral, decision=gates)
