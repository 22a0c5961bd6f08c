"""Eligibility checks for insurers: who may ask about what, the facts the decision needs, and the record.

An insurer account belongs to one payer (`users.payer_id`). It may check:
- a course booked under one of its payer's plans (by course id): the facts come from the course, its
  intake's referral and the patient's other bookings under that plan this plan year;
- a hypothetical course under one of its payer's plans (by explicit fields: plan, ICD-10 code, therapist,
  minutes, sessions, referral date, date of service).
Anything else is "not found" (a course of another payer's member must not even be confirmed to exist), and
the refusal is audited. The answer carries only what the check needs: no intake answers, no precautions,
no session notes.

Each check is written to `eligibility_checks` (for the insurer's list of recent checks) and to the audit
log, in the caller's transaction. The decision itself is `domain.eligibility.decide`.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import ColumnElement, and_, func, or_, select
from sqlalchemy.orm import Session

from massage_booking.domain import eligibility, evidence
from massage_booking.domain.errors import Forbidden, NotFound, ValidationFailed
from massage_booking.models import (
    OCCUPYING_STATUSES,
    Appointment,
    Course,
    EligibilityCheck,
    InsurancePlan,
    NetworkMembership,
    Role,
    TherapistProfile,
    User,
)

# The request's limits live with its schema; fhir/mapping.py reads them here, beside the command.
from massage_booking.schemas.eligibility import MAX_MINUTES as MAX_MINUTES
from massage_booking.schemas.eligibility import MAX_SESSIONS as MAX_SESSIONS
from massage_booking.schemas.eligibility import YEARS as YEARS
from massage_booking.schemas.eligibility import EligibilityRequest, decision_of
from massage_booking.services import audit

COURSE_NOT_FOUND = "None of your members has a course with that id."
PLAN_NOT_FOUND = "Your payer has no plan with that id."


@dataclass(frozen=True)
class CheckRequest:
    """Either `course_id`, or the explicit fields (plan, code, therapist, minutes, sessions, date): the
    command the API and the portal build from `EligibilityRequest`, and the FHIR endpoint from its
    resource."""

    course_id: int | None = None
    plan_id: int | None = None
    icd10_code: str | None = None
    condition_id: str | None = None
    therapist_id: int | None = None
    session_minutes: int | None = None
    sessions: int | None = None
    sessions_per_week: float | None = None
    referral_date: date | None = None
    service_date: date | None = None
    visits_used: int = 0

    @classmethod
    def of(cls, body: EligibilityRequest) -> CheckRequest:
        """The command a validated body asks for (its fields are this command's; null visits are 0)."""
        return cls(**{**body.model_dump(), "visits_used": body.visits_used or 0})


@dataclass(frozen=True)
class CheckResult:
    record: EligibilityCheck
    decision: eligibility.Decision
    plan: InsurancePlan
    condition: evidence.Condition
    icd10_code: str
    therapist: TherapistProfile
    service_date: date
    course: Course | None


def resolve_condition(code: str, condition_id: str | None) -> evidence.Condition:
    """The condition an ICD-10-CM code stands for: 422 if unknown; a shared code needs `condition`."""
    if evidence.normalize_icd10(code) is None:
        raise ValidationFailed.for_field("icd10_code", f"{code!r} is not an ICD-10-CM code.")
    found = [
        c
        for c in evidence.matches(code)
        if evidence.normalize_icd10(code) in map(evidence.normalize_icd10, c.icd10_codes)
    ]
    if condition_id is not None:
        found = [c for c in found if c.id == condition_id]
    if not found:
        raise ValidationFailed.for_field(
            "icd10_code", f"{code} is not a condition massage is studied for here (see /api/v1/conditions)."
        )
    if len(found) > 1:
        choices = ", ".join(c.id for c in found)
        raise ValidationFailed.for_field(
            "condition", f"{code} is used by more than one condition: say which ({choices})."
        )
    return found[0]


def therapist_facts(
    session: Session, therapist: TherapistProfile, plan: InsurancePlan, on: date
) -> eligibility.TherapistFacts:
    in_network = session.get(NetworkMembership, (therapist.id, plan.id)) is not None
    return eligibility.TherapistFacts(
        licensed=therapist.license_verified_at is not None and therapist.license_expires_on >= on,
        in_network=in_network,
        oncology_credential=bool(therapist.active_oncology_credentials(on)),
    )


def plan_year_start(plan: InsurancePlan, on: date) -> date:
    year = on.year if on.month >= plan.plan_year_start_month else on.year - 1
    return date(year, plan.plan_year_start_month, 1)


def visits_used(
    session: Session,
    patient_id: int,
    plan: InsurancePlan,
    on: date,
    *,
    before: datetime,
    exclude_course: int | None = None,
) -> int:
    """Sessions the patient had or has booked under this plan in its plan year, before `before`."""
    start = datetime.combine(plan_year_start(plan, on), datetime.min.time()).replace(tzinfo=before.tzinfo)
    stmt = (
        select(func.count())
        .select_from(Appointment)
        .join(Course, Course.id == Appointment.course_id)
        .where(
            Course.patient_id == patient_id,
            Course.plan_id == plan.id,
            Appointment.status.in_(OCCUPYING_STATUSES),
            Appointment.starts_at >= start,
            Appointment.starts_at < before,
        )
    )
    if exclude_course is not None:
        stmt = stmt.where(Course.id != exclude_course)
    return int(session.scalar(stmt) or 0)


def _insurer(actor: User) -> int:
    if actor.role is not Role.INSURER or actor.payer_id is None:
        raise Forbidden("Eligibility checks are for insurer accounts of a payer.")
    return actor.payer_id


def check(
    session: Session, actor: User, wanted: CheckRequest, now: datetime, *, channel: str = "api"
) -> CheckResult:
    """Run one check for an insurer, record it, and audit it."""
    payer_id = _insurer(actor)
    if wanted.course_id is not None:
        return _check_course(session, actor, payer_id, wanted.course_id, now, channel)
    assert wanted.plan_id is not None and wanted.therapist_id is not None and wanted.icd10_code is not None
    assert (
        wanted.session_minutes is not None and wanted.sessions is not None and wanted.service_date is not None
    )
    plan = session.get(InsurancePlan, wanted.plan_id)
    if plan is None or plan.payer_id != payer_id:
        audit.record(session, actor, "eligibility.plan_denied", "plan", wanted.plan_id)
        raise NotFound(PLAN_NOT_FOUND)
    condition = resolve_condition(wanted.icd10_code, wanted.condition_id)
    therapist = session.get(TherapistProfile, wanted.therapist_id)
    if therapist is None:
        raise NotFound("There is no therapist with that id.")
    weeks = None
    if wanted.sessions_per_week:
        weeks = max(1, round(wanted.sessions / wanted.sessions_per_week))
    question = eligibility.Question(
        condition=condition,
        session_minutes=wanted.session_minutes,
        sessions=wanted.sessions,
        sessions_per_week=wanted.sessions_per_week,
        weeks=weeks,
        service_date=wanted.service_date,
        therapist=therapist_facts(session, therapist, plan, wanted.service_date),
        referral_date=wanted.referral_date,
        visits_used=wanted.visits_used,
    )
    key = evidence.normalize_icd10(wanted.icd10_code)
    code = next((c for c in condition.icd10_codes if evidence.normalize_icd10(c) == key), wanted.icd10_code)
    return _record(session, actor, plan, condition, code, therapist, question, None, channel)


def _check_course(
    session: Session, actor: User, payer_id: int, course_id: int, now: datetime, channel: str
) -> CheckResult:
    course = session.get(Course, course_id)
    if course is None or course.plan is None or course.plan.payer_id != payer_id:
        audit.record(session, actor, "eligibility.course_denied", "course", course_id)
        raise NotFound(COURSE_NOT_FOUND)
    plan = course.plan
    condition = evidence.condition(course.condition_id)
    if condition is None:
        raise NotFound("This course's condition is no longer in the evidence registry.")
    sessions = list(
        session.scalars(
            select(Appointment)
            .where(Appointment.course_id == course.id, Appointment.status.in_(OCCUPYING_STATUSES))
            .order_by(Appointment.starts_at)
        )
    )
    zone = ZoneInfo(course.location.time_zone)
    first = sessions[0].starts_at if sessions else now
    service_date = first.astimezone(zone).date()
    weeks = None
    if course.sessions_per_week:
        weeks = max(1, round(course.total_sessions / course.sessions_per_week))
    question = eligibility.Question(
        condition=condition,
        session_minutes=course.session_minutes,
        sessions=len(sessions) or course.total_sessions,
        sessions_per_week=course.sessions_per_week,
        weeks=weeks,
        service_date=service_date,
        therapist=therapist_facts(session, course.therapist, plan, service_date),
        referral_date=course.intake.referral_date,
        visits_used=visits_used(
            session, course.patient_id, plan, service_date, before=first, exclude_course=course.id
        ),
    )
    return _record(
        session, actor, plan, condition, condition.icd10_codes[0], course.therapist, question, course, channel
    )


def _record(
    session: Session,
    actor: User | None,
    plan: InsurancePlan,
    condition: evidence.Condition,
    code: str,
    therapist: TherapistProfile,
    question: eligibility.Question,
    course: Course | None,
    channel: str,
) -> CheckResult:
    decision = eligibility.decide(plan.rules, question)
    row = EligibilityCheck(
        payer_id=plan.payer_id,
        plan_id=plan.id,
        actor_id=actor.id if actor is not None else None,
        course_id=course.id if course is not None else None,
        channel=channel,
        icd10_code=code,
        session_minutes=question.session_minutes,
        sessions=question.sessions,
        outcome=decision.outcome.value,
        covered_sessions=decision.covered_sessions,
        reason_codes=[r.code for r in decision.reasons],
        answer=decision_json(decision),
    )
    session.add(row)
    session.flush()
    subject = ("course", course.id) if course is not None else ("plan", plan.id)
    audit.record(
        session, actor, "eligibility.checked", *subject, check_id=row.id, outcome=decision.outcome.value
    )
    return CheckResult(row, decision, plan, condition, code, therapist, question.service_date, course)


def decision_json(decision: eligibility.Decision) -> dict[str, Any]:
    """The decision as `eligibility_checks.answer` stores it (and a course preview's coverage carries it):
    the API's `EligibilityDecision`, so a stored answer reads like the one the insurer got."""
    return decision_of(decision).model_dump(mode="json")


# What a payer's insurers may list and read: the checks they made, and the check that priced a course booked
# under one of their plans (channel "booking" with its course). A patient's coverage previews while choosing
# a plan (no course) stay in the patient's record and the audit log: that someone looked at a plan is not
# the payer's business.
INSURER_CHANNELS = ("api", "fhir", "portal")


def payers_checks(payer_id: int) -> ColumnElement[bool]:
    """The WHERE clause for the checks a payer's insurers may list and read."""
    return and_(
        EligibilityCheck.payer_id == payer_id,
        or_(EligibilityCheck.channel.in_(INSURER_CHANNELS), EligibilityCheck.course_id.is_not(None)),
    )


def recent_checks(session: Session, actor: User, limit: int = 50) -> list[EligibilityCheck]:
    payer_id = _insurer(actor)
    return list(
        session.scalars(
            select(EligibilityCheck)
            .where(payers_checks(payer_id))
            .order_by(EligibilityCheck.created_at.desc(), EligibilityCheck.id.desc())
            .limit(limit)
        )
    )
