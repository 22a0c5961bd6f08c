"""The intake's rules: health answers -> which therapists may be booked, what must happen first, and the
precautions every session carries to the therapist.

Pure Python. The facts come from the evidence registry (`evidence.json`, "intake_precautions": each
precaution's gate, adaptation and clearance/deferral wording) and `reference/evidence.md` section 2
("Gate logic for booking"):

- Any cancer history means an oncology-trained therapist only (integrative-oncology seed, S4OM). So does a
  cancer-related condition (the registry marks them) and any precaution whose gate is `oncology_trained`.
- Some answers need a physician's clearance before the first session: a diagnosed blood clot (DVT/PE now
  or in the last 6 months, "clearance: always") and surgery in the last 6 weeks.
- Some answers stop booking for now: a fever of 38.0 C / 100.4 F or more in the last 24 hours, and signs
  of a clot nobody has diagnosed ("hard stop and urgent referral if DVT is suspected but undiagnosed").

Design choices, each documented where it is applied:
- An undiagnosed clot is its own answer, CLOT_SIGNS_UNDIAGNOSED ("clot_signs_undiagnosed"), not a flag on
  `blood_clot`: it is a symptom screen every patient is asked (one-sided swelling, redness, warmth or pain
  in a calf or arm), while `blood_clot` records a diagnosis. The two can both be true (a treated DVT and
  new signs in the other leg), and each has its own gate: clearance for the diagnosis, deferral for the
  signs (the registry's `blood_clot.defer_when`).
- A physician referral on file counts as the clearance: a named physician with a valid NPI, dated within
  `referral_valid_days` (default 90) and not in the future. evidence.md asks for "a clearance document";
  the referral is that document, and the clinic checks its content before the first session.
- Lab thresholds (platelets below 50,000/uL, ANC below 1,000/uL) need counts this intake does not take;
  their precautions gate on oncology training here, as the registry's `gate` says.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from massage_booking.domain import evidence
from massage_booking.domain.errors import ValidationFailed
from massage_booking.domain.identifiers import is_valid_npi

TREATMENT_PHASE_LABELS: Mapping[str, str] = {
    "none": "No cancer treatment",
    "active_treatment": "In active treatment (chemotherapy, radiation, surgery or targeted therapy)",
    "recovery": "Recovering from treatment",
    "survivorship": "Finished treatment (survivorship)",
    "palliative": "Palliative or hospice care",
}
TREATMENT_PHASES = tuple(TREATMENT_PHASE_LABELS)
NO_TREATMENT = "none"

CLOT_SIGNS_UNDIAGNOSED = "clot_signs_undiagnosed"
CLOT_SIGNS_LABEL = (
    "Swelling, redness, warmth or pain in one calf or arm that a doctor has not yet checked (possible clot)"
)
BLOOD_CLOT = "blood_clot"
FEVER = "fever"
REFERRAL_VALID_DAYS = 90
PHYSICIAN_CLEARANCE = "physician_clearance"
DEFER = "defer"

# What the patient should do when booking is deferred: the registry says why (`defer_when`), these say
# what next in the patient's words (evidence.md: fever -> contact the oncology team at once, it may be
# neutropenic fever; suspected DVT -> urgent referral).
_DEFER_ACTIONS: Mapping[str, str] = {
    FEVER: (
        "Do not book while you have a fever of 38.0 °C / 100.4 °F or more; contact your oncology team"
        " (or your doctor) now, and book once you have had no fever for 24 hours."
    ),
    CLOT_SIGNS_UNDIAGNOSED: (
        "Do not book a massage: get urgent medical care today, and book once a clinician has checked it."
    ),
}

FIELDS = (
    "condition",
    "cancer_history",
    "treatment_phase",
    "precautions",
    "referral_name",
    "referral_npi",
    "referral_date",
)
REFERRAL_FIELDS = ("referral_name", "referral_npi", "referral_date")

_Fail = Callable[[str, str], None]  # record one message against one field


def answer_ids() -> tuple[str, ...]:
    """Every precaution answer intake accepts: the registry's precautions, then the clot-sign screen."""
    return (*(p.id for p in evidence.precautions()), CLOT_SIGNS_UNDIAGNOSED)


# --------------------------------------------------------------------------------------- the answers


@dataclass(frozen=True)
class IntakeAnswers:
    """A patient's intake, validated: a registry condition id, registry precaution ids (plus
    CLOT_SIGNS_UNDIAGNOSED), and an optional referral (all three referral fields or none)."""

    condition_id: str
    cancer_history: bool
    treatment_phase: str
    precautions: frozenset[str]
    referral_name: str | None = None
    referral_npi: str | None = None
    referral_date: date | None = None

    @property
    def has_referral(self) -> bool:
        return bool(self.referral_name and self.referral_npi and self.referral_date)


@dataclass(frozen=True)
class Gate:
    """One reason booking must wait: `code` is the answer id (a precaution or CLOT_SIGNS_UNDIAGNOSED)."""

    code: str
    message: str


@dataclass(frozen=True)
class IntakeDecision:
    """What the answers do to a booking.

    `session_notes` travel with every session to the therapist, in registry order, one note per clause
    of each precaution's adaptation ("No deep pressure and no pressure on the affected bones (level 1 when
    in doubt): bone metastases or fragile bones").
    """

    requires_oncology_trained: bool
    clearance_needed: tuple[Gate, ...]
    deferred: tuple[Gate, ...]
    session_notes: tuple[str, ...]

    @property
    def can_book(self) -> bool:
        """Whether a course may be booked now (clearance holds the first session, not the booking)."""
        return not self.deferred


# ------------------------------------------------------------------------------------------- assess


def assess(
    answers: IntakeAnswers, today: date, referral_valid_days: int = REFERRAL_VALID_DAYS
) -> IntakeDecision:
    """Apply the gates of the registry and evidence.md section 2 to one intake."""
    chosen = [p for p in evidence.precautions() if p.id in answers.precautions]
    return IntakeDecision(
        requires_oncology_trained=_requires_oncology_trained(answers, chosen),
        clearance_needed=_clearance_needed(answers, chosen, today, referral_valid_days),
        deferred=_deferred(answers, chosen),
        session_notes=tuple(note for p in chosen if p.gate != DEFER for note in session_notes_for(p)),
    )


def _requires_oncology_trained(answers: IntakeAnswers, chosen: list[evidence.Precaution]) -> bool:
    """Cancer history (or a treatment phase, which implies one), a cancer-related condition, or any
    precaution gated on oncology training (evidence.md: "Any cancer history means ... oncology-trained")."""
    condition = evidence.condition(answers.condition_id)
    return (
        answers.cancer_history
        or answers.treatment_phase != NO_TREATMENT
        or (condition is not None and condition.requires_oncology_trained_therapist)
        or any(p.gate == evidence.ONCOLOGY_TRAINED for p in chosen)
    )


def _clearance_needed(
    answers: IntakeAnswers, chosen: list[evidence.Precaution], today: date, valid_days: int
) -> tuple[Gate, ...]:
    """Precautions gated on physician clearance, unless a current referral is on file (it is the
    clearance document; see the module docstring)."""
    gated = [p for p in chosen if p.gate == PHYSICIAN_CLEARANCE]
    if not gated:
        return ()
    problem = referral_problem(answers, today, valid_days)
    if problem is None:
        return ()
    return tuple(
        Gate(
            code=p.id,
            message=(
                f"{p.name}: a physician's clearance is needed before the first session. Add a referral"
                f" (the physician's name, NPI and date, from the last {valid_days} days). {problem}"
            ),
        )
        for p in gated
    )


def referral_problem(
    answers: IntakeAnswers, today: date, valid_days: int = REFERRAL_VALID_DAYS
) -> str | None:
    """Why the referral on file does not count as clearance, or None when it does."""
    if not answers.has_referral:
        return "No referral is on file."
    if not is_valid_npi(answers.referral_npi or ""):
        return "The referral's NPI is not a valid NPI."
    referral_date = answers.referral_date
    if referral_date is None or referral_date > today:
        return "The referral is dated in the future."
    if today - referral_date > timedelta(days=valid_days):
        return f"The referral is from {referral_date.isoformat()}, more than {valid_days} days ago."
    return None


def _deferred(answers: IntakeAnswers, chosen: list[evidence.Precaution]) -> tuple[Gate, ...]:
    """Fever (the registry's `defer` gate) and clot signs nobody has diagnosed (`blood_clot.defer_when`)."""
    gates = [Gate(p.id, _defer_message(p.id, p.defer_when)) for p in chosen if p.gate == DEFER]
    if CLOT_SIGNS_UNDIAGNOSED in answers.precautions:
        clot = evidence.precaution(BLOOD_CLOT)
        gates.append(
            Gate(CLOT_SIGNS_UNDIAGNOSED, _defer_message(CLOT_SIGNS_UNDIAGNOSED, clot and clot.defer_when))
        )
    return tuple(gates)


def _defer_message(code: str, reason: str | None) -> str:
    action = _DEFER_ACTIONS.get(code, "Do not book now; contact your care team.")
    return f"{action} Why: {reason}" if reason else action


def session_notes_for(precaution: evidence.Precaution) -> list[str]:
    """Short imperative notes for the therapist, one per clause of the registry's adaptation, each naming
    the precaution it comes from: "Light pressure only (level 1-2): low platelets or bleeding risk"."""
    reason = precaution.name[:1].lower() + precaution.name[1:]
    clauses = [c.strip().rstrip(".") for c in precaution.adaptation.split(";")]
    return [f"{c[:1].upper()}{c[1:]}: {reason}" for c in clauses if c]


# ----------------------------------------------------------------------------------------- validate


def validate_answers(raw: Mapping[str, Any], *, today: date | None = None) -> IntakeAnswers:
    """Parse JSON-like intake input, or raise one ValidationFailed naming every bad field.

    Keys: condition (registry id, name, alias or ICD-10-CM code), cancer_history (true/false),
    treatment_phase (one of TREATMENT_PHASES; "none" by default, and it must be "none" without a cancer
    history), precautions (a list of `answer_ids()`), and referral_name, referral_npi, referral_date
    (ISO date, not after `today`; the server's date when None): all three or none.
    """
    if not isinstance(raw, Mapping):
        raise ValidationFailed(
            "Send the intake as a JSON object.", {"fields": {"intake": ["Expected an object."]}}
        )
    today = today or date.today()
    errors: dict[str, list[str]] = {}

    def fail(field: str, message: str) -> None:
        errors.setdefault(field, []).append(message)

    condition_id = _condition(raw.get("condition"), fail)
    cancer_history = _cancer_history(raw.get("cancer_history"), fail)
    phase = _treatment_phase(raw.get("treatment_phase"), cancer_history, fail)
    precautions = _precautions(raw.get("precautions"), fail)
    name, npi, referral_date = _referral(raw, today, fail)
    if errors:
        raise ValidationFailed("Please correct the highlighted answers.", {"fields": errors})
    return IntakeAnswers(
        condition_id=condition_id,
        cancer_history=bool(cancer_history),
        treatment_phase=phase,
        precautions=precautions,
        referral_name=name,
        referral_npi=npi,
        referral_date=referral_date,
    )


def _condition(value: Any, fail: _Fail) -> str:
    """Registry id, name, alias or ICD-10 code; a code two conditions share (F41.9) must be resolved."""
    if not isinstance(value, str) or not value.strip():
        fail("condition", "Choose a condition, by name or ICD-10 code.")
        return ""
    found = evidence.matches(value)
    if len(found) == 1:
        return found[0].id
    if found:
        names = " or ".join(c.name for c in found)
        fail("condition", f"{value.strip()!r} could mean {names}; choose one.")
    else:
        fail("condition", f"No condition in the evidence registry matches {value.strip()!r}.")
    return ""


def _cancer_history(value: Any, fail: _Fail) -> bool | None:
    if not isinstance(value, bool):
        fail("cancer_history", "Answer yes or no: have you ever had cancer?")
        return None
    return value


def _treatment_phase(value: Any, cancer_history: bool | None, fail: _Fail) -> str:
    if value is None or value == "":
        if cancer_history:
            fail("treatment_phase", "Choose where you are in cancer treatment.")
        return NO_TREATMENT
    if value not in TREATMENT_PHASES:
        fail("treatment_phase", f"Choose one of: {', '.join(TREATMENT_PHASES)}.")
        return NO_TREATMENT
    if cancer_history is False and value != NO_TREATMENT:
        fail("treatment_phase", "A cancer treatment phase needs a cancer history; answer that question too.")
    return value


def _precautions(value: Any, fail: _Fail) -> frozenset[str]:
    if value is None:
        return frozenset()
    if not isinstance(value, list | tuple | set | frozenset) or not all(isinstance(v, str) for v in value):
        fail("precautions", "Send the precautions as a list of their ids.")
        return frozenset()
    known = set(answer_ids())
    unknown = sorted({v for v in value if v not in known})
    if unknown:
        fail(
            "precautions",
            f"Unknown precaution(s): {', '.join(unknown)}. Expected: {', '.join(answer_ids())}.",
        )
    return frozenset(v for v in value if v in known)


def _referral(raw: Mapping[str, Any], today: date, fail: _Fail) -> tuple[str | None, str | None, date | None]:
    """All three referral fields or none; the NPI's check digit (CMS Luhn rule); a date not in the future."""
    given = {f: raw.get(f) for f in REFERRAL_FIELDS if raw.get(f) not in (None, "")}
    if not given:
        return None, None, None
    for field in REFERRAL_FIELDS:
        if field not in given:
            fail(field, "A referral needs the physician's name, NPI and date.")
    name = given.get("referral_name")
    if name is not None and (not isinstance(name, str) or not name.strip()):
        fail("referral_name", "Give the referring physician's name.")
        name = None
    npi = _npi(given.get("referral_npi"), fail)
    referral_date = _date(given.get("referral_date"), today, fail)
    return (name.strip() if isinstance(name, str) else None), npi, referral_date


def _npi(value: Any, fail: _Fail) -> str | None:
    if value is None:
        return None
    text = "".join(str(value).split()) if isinstance(value, str | int) and not isinstance(value, bool) else ""
    if not is_valid_npi(text):
        fail("referral_npi", "Enter the physician's 10-digit NPI; this one fails the NPI check digit.")
        return None
    return text


def _date(value: Any, today: date, fail: _Fail) -> date | None:
    if value is None:
        return None
    if isinstance(value, date) and not isinstance(value, datetime):
        parsed: date | None = value
    else:
        try:
            parsed = date.fromisoformat(value) if isinstance(value, str) else None
        except ValueError:
            parsed = None
    if parsed is None:
        fail("referral_date", "Enter the referral's date as YYYY-MM-DD.")
        return None
    if parsed > today:
        fail("referral_date", "The referral's date cannot be in the future.")
        return None
    return parsed
