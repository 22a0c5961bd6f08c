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

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, timedelta

from massage_booking.domain import evidence
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

REFERRAL_FIELDS = ("referral_name", "referral_npi", "referral_date")


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
        when = clot.defer_when if clot else None
        gates.append(Gate(CLOT_SIGNS_UNDIAGNOSED, _defer_message(CLOT_SIGNS_UNDIAGNOSED, when)))
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
