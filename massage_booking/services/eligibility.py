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

from collections.abc import Mapping
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
from massage_booking.services import audit

COURSE_NOT_FOUND = "None of your members has a course with that id."
PLAN_NOT_FOUND = "Your payer has no plan with that id."
MAX_MINUTES = 240
MAX_SESSIONS = 60
YEARS = range(1900, 9000)  # dates a plan year can be computed around without overflowing


@dataclass(frozen=True)
class CheckRequest:
    """Either `course_id`, or the explicit fields (plan, code, therapist, minutes, sessions, date)."""

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


def parse_check(raw: Any) -> CheckRequest:
    """The body of POST /api/v1/eligibility. Every bad field is named at once (422)."""
    if not isinstance(raw, Mapping):
        raise ValidationFailed("Send a JSON object.")
    errors: dict[str, list[str]] = {}

    def bad(name: str, message: str) -> None:
        errors.setdefault(name, []).append(message)

    def whole(name: str, low: int, high: int, *, required: bool) -> int | None:
        value = raw.get(name)
        if value is None:
            if required:
                bad(name, "Required.")
            return None
        if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
            bad(name, f"Give a whole number from {low} to {high}.")
            return None
        return value

    def day(name: str, *, required: bool) -> date | None:
        value = raw.get(name)
        if value is None:
            if required:
                bad(name, "Required.")
            return None
        try:
            if isinstance(value, str) and len(value) == 10 and int(value[:4]) in YEARS:
                return date.fromisoformat(value)
        except ValueError:
            pass
        bad(name, "Give a date as YYYY-MM-DD.")
        return None

    if raw.get("course_id") is not None:
        course_id = whole("course_id", 1, 2**31 - 1, required=True)
        extra = sorted(set(raw) - {"course_id"})
        for name in extra:
            bad(name, "Give either course_id alone, or the course's fields without course_id.")
        if errors:
            raise ValidationFailed.for_fields(errors)
        return CheckRequest(course_id=course_id)

    code = raw.get("icd10_code")
    if not isinstance(code, str) or not code.strip():
        bad("icd10_code", "Give the ICD-10-CM code of the condition, like M54.2.")
    condition_id = raw.get("condition")
    if condition_id is not None and not isinstance(condition_id, str):
        bad("condition", "Give a condition id from /api/v1/conditions.")
    per_week = raw.get("sessions_per_week")
    if per_week is not None and (
        isinstance(per_week, bool) or not isinstance(per_week, int | float) or not 0.25 <= per_week <= 7
    ):
        bad("sessions_per_week", "Give a number of sessions a week from 0.25 (one every 4 weeks) to 7.")
        per_week = None
    wanted = CheckRequest(
        plan_id=whole("plan_id", 1, 2**31 - 1, required=True),
        icd10_code=code.strip() if isinstance(code, str) else None,
        condition_id=condition_id if isinstance(condition_id, str) else None,
        therapist_id=whole("therapist_id", 1, 2**31 - 1, required=True),
        session_minutes=whole("session_minutes", 1, MAX_MINUTES, required=True),
        sessions=whole("sessions", 1, MAX_SESSIONS, required=True),
        sessions_per_week=float(per_week) if per_week is not None else None,
        referral_date=day("referral_date", required=False),
        service_date=day("service_date", required=True),
        visits_used=whole("visits_used", 0, 366, required=False) or 0,
    )
    if errors:
        raise ValidationFailed.for_fields(errors)
    return wanted


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
    """The decision as the API gives it; citations resolved to labels and links from the registry."""
    return {
        "outcome": decision.outcome.value,
        "requested_sessions": decision.requested_sessions,
        "covered_sessions": decision.covered_sessions,
        "units_per_session": decision.units_per_session,
        "cpt_code": decision.cpt_code,
        "copay_cents": decision.copay_cents,
        "visits_remaining": decision.visits_remaining,
        "reasons": [
            {"code": r.code, "message": r.message, "blocking": r.blocking, "citation": r.citation_id}
            for r in decision.reasons
        ],
        "citations": [_citation_json(c) for c in decision.citations],
    }


def _citation_json(citation_id: str) -> dict[str, Any]:
    found = evidence.citation(citation_id)
    if found is None:
        return {"id": citation_id}
    return {"id": citation_id, "label": found.short, "reference": found.reference, "url": found.link}


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
