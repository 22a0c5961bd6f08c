"""Intakes and courses over the API (patients), and a course as its therapist sees it.

POST /api/v1/intakes                 patient: record an intake -> 201 with the gates it implies
GET  /api/v1/intakes/{id}            the patient's own (404 otherwise; every read audited)
POST /api/v1/courses/plan            preview: the plan laid out, each session checked; writes nothing
POST /api/v1/courses                 book every session or none: 201, 409 with conflicts, 422; with
                                     `plan_id`, under that insurance plan (copay for covered sessions;
                                     422 `not_covered` when it covers none)
GET  /api/v1/courses/{id}            the patient's or the therapist's own course with its sessions
POST /api/v1/courses/{id}/cancel     cancel some sessions (`appointment_ids`) or every upcoming one;
                                     a paid course is refunded by policy (`waive_late_fee`: therapist)
POST /api/v1/courses/{id}/pay        pay a held course with a Stripe PaymentMethod id: 200, 402, 409
GET  /api/v1/me/courses              the patient's courses
POST /api/v1/appointments/{id}/reschedule   move one session (`start`), within policy: 200, 409, 422
POST /api/v1/appointments/{id}/cancel       cancel one session within policy: 200, 422
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any
from zoneinfo import ZoneInfo

from massage_booking.api import bp, course_wishes
from massage_booking.api.support import json_object, token_required
from massage_booking.denials import keeps_denials
from massage_booking.domain import evidence
from massage_booking.domain.eligibility import Outcome
from massage_booking.domain.errors import ValidationFailed
from massage_booking.extensions import db, payment_hold, payments
from massage_booking.models import Appointment, Course, CourseRefund, InsurancePlan, Role, User
from massage_booking.services import course_payments, course_proposals, courses, eligibility, intake, refunds


def _now() -> datetime:
    return datetime.now(UTC)


def plan_json(plan: InsurancePlan) -> dict[str, Any]:
    return {"id": plan.id, "name": plan.full_name}


def coverage_json(course: Course) -> dict[str, Any] | None:
    """The plan a course is booked under and what it covers (None: self-pay). The covered sessions are the
    first `covered_sessions` by number; `copay_cents` is what each of them costs the patient."""
    if course.plan is None:
        return None
    covered = course.covered_sessions
    if covered >= course.total_sessions:
        outcome = Outcome.ELIGIBLE
    else:
        outcome = Outcome.PARTLY_ELIGIBLE if covered else Outcome.NOT_ELIGIBLE
    return {
        "plan": plan_json(course.plan),
        "outcome": outcome.value,
        "covered_sessions": covered,
        "copay_cents": course.copay_cents,
    }


def session_json(appointment: Appointment, zone: ZoneInfo) -> dict[str, Any]:
    return {
        "id": appointment.id,
        "number": appointment.session_number,
        "start": appointment.starts_at.astimezone(zone).isoformat(),
        "end": appointment.ends_at.astimezone(zone).isoformat(),
        "status": appointment.status.value,
    }


def course_json(course: Course, sessions: list[Appointment]) -> dict[str, Any]:
    zone = ZoneInfo(course.location.time_zone)
    citation = evidence.citation(course.citation_id)
    return {
        "id": course.id,
        "status": course.status.value,
        "condition": course.condition_id,
        "therapist": {"id": course.therapist_id, "name": course.therapist.name},
        "location": {"id": course.location_id, "city": course.location.city, "state": course.location.state},
        "time_zone": course.location.time_zone,
        "session_minutes": course.session_minutes,
        "sessions_per_week": course.sessions_per_week,
        "total_sessions": course.total_sessions,
        "citation": {"id": course.citation_id, "label": citation.short if citation else course.citation_id},
        "warnings": course.warnings,
        "session_notes": course.session_notes,
        "clearance_needed": course.clearance_needed,
        "sessions": [
            {**session_json(a, zone), "price_cents": course.session_charge_cents(a.session_number)}
            for a in sessions
        ],
        "coverage": coverage_json(course),
        "payment": payment_json(course),
    }


def refund_json(refund: CourseRefund) -> dict[str, Any]:
    return {
        "amount_cents": refund.amount_cents,
        "status": refund.status,
        "appointment_ids": refund.appointment_ids,
        "waived_notice": refund.waived,
        "reason": refund.reason,
        "created_at": refund.created_at.isoformat(),
    }


def payment_json(course: Course) -> dict[str, Any]:
    """Money in integer cents with its currency; `hold_expires_at` while the times are held for payment."""
    return {
        "mode": course.payment_mode.value,
        "currency": course.currency,
        "session_price_cents": course.session_price_cents,
        "price_cents": course.price_cents,
        "paid_cents": course.paid_cents,
        "refunded_cents": course.refunded_cents,
        "hold_expires_at": course.hold_expires_at.isoformat() if course.hold_expires_at else None,
        "error": course.payment_error,
        "refunds": [refund_json(r) for r in refunds.refunds_of(db.session, course.id)],
    }


def preview_json(preview: courses.CoursePreview) -> dict[str, Any]:
    plan, decision = preview.plan, preview.decision
    citation = evidence.citation(plan.citation_id)
    return {
        "plan": {
            "condition": plan.condition_id,
            "session_minutes": plan.session_minutes,
            "sessions_per_week": plan.sessions_per_week,
            "total_sessions": plan.total_sessions,
            "weeks": plan.weeks,
            "citation": {"id": plan.citation_id, "label": citation.short if citation else plan.citation_id},
            "warnings": [
                {"code": w.code, "fields": list(w.fields), "message": w.message} for w in plan.warnings
            ],
        },
        "therapist": {"id": preview.therapist.id, "name": preview.therapist.name},
        "time_zone": preview.location.time_zone,
        "sessions": [
            {
                "number": s.number,
                "start": s.start.isoformat(),
                "end": s.end.isoformat(),
                "free": s.free,
                "alternatives": [a.isoformat() for a in s.alternatives],
            }
            for s in preview.sessions
        ],
        "bookable": not preview.conflicts and decision.can_book,
        "gates": {
            "requires_oncology_trained": decision.requires_oncology_trained,
            "therapist_oncology_trained": bool(preview.therapist.active_oncology_credentials(_now().date())),
            "clearance_needed": [{"code": g.code, "message": g.message} for g in decision.clearance_needed],
            "deferred": [{"code": g.code, "message": g.message} for g in decision.deferred],
        },
        "session_notes": list(decision.session_notes),
        "coverage": preview_coverage_json(preview),
        "price": {
            "currency": preview.therapist.currency.lower(),
            "session_price_cents": preview.session_cents,
            "covered_sessions": preview.covered_sessions,
            "copay_cents": preview.copay_cents,
            "price_cents": preview.price_cents,
        },
    }


def preview_coverage_json(preview: courses.CoursePreview) -> dict[str, Any] | None:
    """The chosen plan's decision on the previewed course, with every reason (None: no plan chosen, or a
    gate stops the booking so nothing was checked)."""
    if preview.insurance_plan is None or preview.coverage is None:
        return None
    decision = preview.coverage
    return {
        "plan": plan_json(preview.insurance_plan),
        "outcome": decision.outcome.value,
        "covered_sessions": decision.covered_sessions,
        "copay_cents": preview.copay_cents,
        "decision": eligibility.decision_json(decision),
    }


@bp.post("/intakes")
@token_required(Role.PATIENT)
def create_intake(user: User) -> Any:
    today = date.today()
    row = intake.record_intake(db.session, user, json_object(), today)
    db.session.commit()
    return intake.intake_json(row, today), 201


@bp.get("/intakes/<int:intake_id>")
@token_required()
@keeps_denials
def show_intake(intake_id: int, user: User) -> Any:
    row = intake.read_intake(db.session, user, intake_id)
    db.session.commit()
    return intake.intake_json(row, date.today())


@bp.post("/courses/plan")
@token_required(Role.PATIENT)
@keeps_denials
def plan_course(user: User) -> Any:
    """With `first_start` or `starts`: that course laid out and checked (the preview). Without: whole-course
    proposals from the planner, shaped by the wishes (`earliest_start`, `weekdays`, `time_windows`,
    `not_after`, `count`)."""
    body = json_object()
    if "first_start" in body or "starts" in body:
        preview = courses.preview_course(db.session, user, courses.parse_course_request(body), _now())
        db.session.commit()  # the audit record of the intake read
        return preview_json(preview)
    wanted = courses.parse_course_request(body, times=False)
    found = course_proposals.propose_courses(
        db.session, user, wanted, course_wishes.parse_wishes(body), _now()
    )
    db.session.commit()
    return course_wishes.proposals_json(found)


@bp.post("/courses")
@token_required(Role.PATIENT)
@keeps_denials
def book_course(user: User) -> Any:
    request = courses.parse_course_request(json_object())
    course = courses.book_course(db.session, user, request, _now(), hold=payment_hold())
    db.session.commit()
    return course_json(course, courses.sessions_of(db.session, course)), 201


@bp.post("/courses/<int:course_id>/pay")
@token_required(Role.PATIENT)
@keeps_denials
def pay_course(course_id: int, user: User) -> Any:
    method = course_payments.parse_payment_method(json_object())
    outcome = course_payments.pay(db.session, user, course_id, method, _now(), payments())
    db.session.commit()  # a decline is kept on the course, so the patient's pages show it too
    body = course_json(outcome.course, courses.sessions_of(db.session, outcome.course))
    if outcome.declined is not None:
        error = outcome.declined
        return {"error": {"code": error.code, "message": error.message, "details": error.details}}, 402
    if outcome.action_secret is not None:
        body["next_action"] = {"type": "authenticate", "client_secret": outcome.action_secret}
        return body, 202
    return body


@bp.get("/courses/<int:course_id>")
@token_required()
@keeps_denials
def show_course(course_id: int, user: User) -> Any:
    course = courses.get_course(db.session, user, course_id)
    db.session.commit()
    return course_json(course, courses.sessions_of(db.session, course))


@bp.post("/courses/<int:course_id>/cancel")
@token_required(Role.PATIENT, Role.THERAPIST)
@keeps_denials
def cancel_course_sessions(course_id: int, user: User) -> Any:
    body = json_object()
    ids = body.get("appointment_ids")
    if ids is not None and (not isinstance(ids, list) or not all(type(i) is int for i in ids)):
        raise ValidationFailed.for_field("appointment_ids", "Give the sessions to cancel as a list of ids.")
    waive = body.get("waive_late_fee", False)
    if not isinstance(waive, bool):
        raise ValidationFailed.for_field("waive_late_fee", "Give true or false.")
    course = courses.get_course(db.session, user, course_id)
    done = courses.cancel_appointments(db.session, user, course, ids, _now(), payments(), waive_notice=waive)
    db.session.commit()
    body = course_json(course, courses.sessions_of(db.session, course))
    body["cancelled"] = [a.id for a in done.appointments]
    body["refund"] = refund_json(done.refund) if done.refund is not None else None
    return body


@bp.get("/me/courses")
@token_required(Role.PATIENT)
def my_courses(user: User) -> Any:
    found = courses.my_courses(db.session, user)
    db.session.commit()
    return {"courses": [course_json(c, courses.sessions_of(db.session, c)) for c in found]}


def appointment_json(appointment: Appointment) -> dict[str, Any]:
    body = session_json(appointment, ZoneInfo(appointment.location.time_zone))
    body["course_id"] = appointment.course_id
    return body


@bp.post("/appointments/<int:appointment_id>/reschedule")
@token_required(Role.PATIENT, Role.THERAPIST)
@keeps_denials
def reschedule_appointment(appointment_id: int, user: User) -> Any:
    new_start = courses.parse_new_start(json_object())
    moved = courses.reschedule_appointment(db.session, user, appointment_id, new_start, _now())
    db.session.commit()
    return appointment_json(moved)


@bp.post("/appointments/<int:appointment_id>/cancel")
@token_required(Role.PATIENT, Role.THERAPIST)
@keeps_denials
def cancel_appointment(appointment_id: int, user: User) -> Any:
    cancelled = courses.cancel_appointment(db.session, user, appointment_id, _now(), payments())
    db.session.commit()
    return appointment_json(cancelled)
