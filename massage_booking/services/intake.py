"""Intakes: a patient's health answers before a course. Every read and write is checked and audited.

Only the patient who gave an intake may read it through this module; anyone else gets "not found" (not
"forbidden": that would confirm the record exists) and the attempt is audited too. The audit log keeps
identifiers and action names only, never the answers (models/audit.py).
"""

from __future__ import annotations

from datetime import date

from sqlalchemy.orm import Session

from massage_booking.domain import intake as rules
from massage_booking.domain.errors import Forbidden, NotFound
from massage_booking.models import Intake, Role, User
from massage_booking.services import audit

NOT_FOUND = "You have no intake with that id."


def record_intake(session: Session, actor: User, answers: rules.IntakeAnswers) -> Intake:
    """Store a new intake: answers already checked at the edge (schemas/intakes.py `IntakeRequest`)."""
    if actor.role is not Role.PATIENT:
        raise Forbidden("Only patients fill in an intake.")
    row = Intake(
        patient_id=actor.id,
        condition_id=answers.condition_id,
        cancer_history=answers.cancer_history,
        treatment_phase=answers.treatment_phase,
        precautions=sorted(answers.precautions),
        referral_name=answers.referral_name,
        referral_npi=answers.referral_npi,
        referral_date=answers.referral_date,
    )
    session.add(row)
    session.flush()
    audit.record(session, actor, "intake.created", "intake", row.id)
    return row


def read_intake(session: Session, actor: User, intake_id: int, *, purpose: str = "view") -> Intake:
    """The actor's own intake. Every call is audited, allowed or not (`purpose` says why it was read)."""
    row = session.get(Intake, intake_id)
    if row is None or row.patient_id != actor.id:
        audit.record(session, actor, "intake.read_denied", "intake", intake_id, purpose=purpose)
        raise NotFound(NOT_FOUND)
    audit.record(session, actor, "intake.read", "intake", intake_id, purpose=purpose)
    return row


def answers_of(row: Intake) -> rules.IntakeAnswers:
    return rules.IntakeAnswers(
        condition_id=row.condition_id,
        cancer_history=row.cancer_history,
        treatment_phase=row.treatment_phase,
        precautions=frozenset(row.precautions),
        referral_name=row.referral_name,
        referral_npi=row.referral_npi,
        referral_date=row.referral_date,
    )


def decision_of(row: Intake, today: date) -> rules.IntakeDecision:
    return rules.assess(answers_of(row), today)
