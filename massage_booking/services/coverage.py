"""Coverage for the patient booking a course: which plans to offer, and the plan's decision on the course
before it is booked (issue: "the booking wizard lets the patient pick their plan and shows the decision
before booking; covered courses charge the copay").

This is the patient's own check, not an insurer's (services/eligibility.py `check` is that one): no insurer
account is involved and the patient may check any plan, the therapist's in-network plans offered first.
The facts are the previewed course's (condition, minutes, sessions, cadence, weeks), the therapist's on the
first session's date (license, network, oncology credential), the referral the intake gave, and the visits
used: the patient's own sessions booked under that plan in the plan year of the first session
(`services.eligibility.visits_used`), earlier or later than this course, so that two courses booked under one
plan never both count the same remaining visits, and the sessions of a course of theirs still held for
payment under the plan (it will most likely be paid). The decision is `domain.eligibility.decide`.

Every check is recorded as an EligibilityCheck with channel "booking" and the patient as its actor, and
audited, in the caller's transaction: the plan's payer may later see, in its list of recent checks, that
one of its members asked. Nothing about the intake but the referral's date goes into the decision, and
the record keeps only what an insurer's own check would (code, minutes, sessions, outcome, reasons).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time
from zoneinfo import ZoneInfo

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from massage_booking.domain import courses as plans
from massage_booking.domain import eligibility, evidence
from massage_booking.domain.errors import Forbidden, ValidationFailed
from massage_booking.models import (
    HELD_STATUS,
    Appointment,
    Course,
    CourseStatus,
    EligibilityCheck,
    InsurancePlan,
    NetworkMembership,
    Role,
    TherapistProfile,
    User,
)
from massage_booking.services import audit, therapists
from massage_booking.services import eligibility as checks

CHANNEL = "booking"
PLAN_NOT_FOUND = "There is no insurance plan with that id; choose one from the list, or none to pay yourself."


class PlanNotCovered(ValidationFailed):
    """The plan covers none of the course's sessions: book it without the plan (self-pay), or change it.
    `details["coverage"]` is the decision, with every reason."""

    code = "not_covered"


@dataclass(frozen=True)
class PlanChoices:
    """The plans a patient may pick for a course with one therapist: theirs in network first."""

    in_network: list[InsurancePlan]
    other: list[InsurancePlan]


def plan_choices(session: Session, therapist: TherapistProfile) -> PlanChoices:
    """Every plan (`therapists.all_plans`: by payer and plan name), split by the therapist's network."""
    every = therapists.all_plans(session)
    member = set(
        session.scalars(
            select(NetworkMembership.plan_id).where(NetworkMembership.therapist_id == therapist.id)
        )
    )
    return PlanChoices(
        in_network=[p for p in every if p.id in member], other=[p for p in every if p.id not in member]
    )


def find_plan(session: Session, plan_id: int) -> InsurancePlan:
    """The plan with that id, or a 422 naming the `plan_id` field."""
    plan = session.get(InsurancePlan, plan_id)
    if plan is None:
        raise ValidationFailed.for_field("plan_id", PLAN_NOT_FOUND)
    return plan


def _plan_year_end(plan: InsurancePlan, on: date) -> date:
    start = checks.plan_year_start(plan, on)
    return date(start.year + 1, start.month, 1)


def _visits_used(
    session: Session,
    patient: User,
    plan: InsurancePlan,
    on: date,
    zone: ZoneInfo,
    now: datetime,
    exclude_course: int | None,
) -> int:
    """The patient's sessions under `plan` in the plan year of `on`: booked or had (as an insurer's check
    counts them), plus those of a course held for payment whose hold is still running."""
    start = datetime.combine(checks.plan_year_start(plan, on), time(0), zone)
    end = datetime.combine(_plan_year_end(plan, on), time(0), zone)
    booked = checks.visits_used(session, patient.id, plan, on, before=end, exclude_course=exclude_course)
    held = (
        select(func.count())
        .select_from(Appointment)
        .join(Course, Course.id == Appointment.course_id)
        .where(
            Course.patient_id == patient.id,
            Course.plan_id == plan.id,
            Course.status == CourseStatus.PENDING_PAYMENT,
            Course.hold_expires_at > now,
            Appointment.status == HELD_STATUS,
            Appointment.starts_at >= start,
            Appointment.starts_at < end,
        )
    )
    if exclude_course is not None:
        held = held.where(Course.id != exclude_course)
    return booked + int(session.scalar(held) or 0)


def coverage_for(
    session: Session,
    patient: User,
    plan_id: int,
    therapist: TherapistProfile,
    course_plan: plans.CoursePlan,
    first_session: date,
    referral_date: date | None,
    now: datetime,
    *,
    course: Course | None = None,
) -> eligibility.Decision:
    """The plan's decision on the course `course_plan` with `therapist`, its first session on
    `first_session` (the practice's local date), for the patient asking; recorded and audited. With
    `course` (at booking) the record names the course being booked, and its own sessions are not counted
    as visits used."""
    if patient.role is not Role.PATIENT:
        raise Forbidden("Only patients check coverage for a course they book.")
    plan = find_plan(session, plan_id)
    condition = evidence.condition(course_plan.condition_id)
    if condition is None:
        raise ValidationFailed.for_field(
            "intake_id", "This intake's condition is no longer listed; fill in a new one."
        )
    zone = ZoneInfo(therapist.locations[0].time_zone)
    question = eligibility.Question(
        condition=condition,
        session_minutes=course_plan.session_minutes,
        sessions=course_plan.total_sessions,
        sessions_per_week=course_plan.sessions_per_week,
        weeks=course_plan.weeks,
        service_date=first_session,
        therapist=checks.therapist_facts(session, therapist, plan, first_session),
        referral_date=referral_date,
        visits_used=_visits_used(
            session,
            patient,
            plan,
            first_session,
            zone,
            now,
            course.id if course is not None else None,
        ),
    )
    decision = eligibility.decide(plan.rules, question)
    row = EligibilityCheck(
        payer_id=plan.payer_id,
        plan_id=plan.id,
        actor_id=patient.id,
        course_id=course.id if course is not None else None,
        channel=CHANNEL,
        icd10_code=condition.icd10_codes[0],
        session_minutes=question.session_minutes,
        sessions=question.sessions,
        outcome=decision.outcome.value,
        covered_sessions=decision.covered_sessions,
        reason_codes=[r.code for r in decision.reasons],
        answer=checks.decision_json(decision),
        created_at=now,
    )
    session.add(row)
    session.flush()
    subject = ("course", course.id) if course is not None else ("plan", plan.id)
    audit.record(
        session,
        patient,
        "eligibility.checked",
        *subject,
        check_id=row.id,
        channel=CHANNEL,
        outcome=decision.outcome.value,
    )
    return decision


def require_covered(plan: InsurancePlan, decision: eligibility.Decision) -> None:
    """Raise PlanNotCovered (naming the `plan_id` field) unless the plan covers some of the course: a
    course is booked under a plan only when the plan pays for part of it, so that its sessions count as
    the plan's visits only then."""
    if decision.covered_sessions > 0:
        return
    reasons = " ".join(r.message for r in decision.reasons if r.blocking)
    message = f"{plan.full_name} does not cover this course: {reasons} Book it without a plan (self-pay)."
    raise PlanNotCovered(
        message, {"fields": {"plan_id": [message]}, "coverage": checks.decision_json(decision)}
    )
