"""The money ledger: what Stripe charged for a course and what we gave back, one row each
(models/payments.py). The only writer of those rows, so the course's derived totals are refreshed here.

Callers hold the course's lock (services/locks.py): deciding what a payment does from the ledger and
writing its row happen under one lock, so two reports of two payments can never both see "not paid yet".
"""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import select
from sqlalchemy.orm import Session

from massage_booking.models import ChargeOutcome, Course, CourseCharge, CourseRefund, User
from massage_booking.payments import PaymentIntentResult, RefundResult


def charge_of(session: Session, payment_intent_id: str) -> CourseCharge | None:
    """The ledger row of a PaymentIntent, if its success was already recorded."""
    return session.scalar(select(CourseCharge).where(CourseCharge.payment_intent_id == payment_intent_id))


def kept_charge(session: Session, course_id: int) -> CourseCharge | None:
    """The payment that paid the course (at most one: any later one is a duplicate and given back)."""
    return session.scalar(
        select(CourseCharge).where(
            CourseCharge.course_id == course_id, CourseCharge.outcome == ChargeOutcome.PAID
        )
    )


def record_charge(
    session: Session, course: Course, intent: PaymentIntentResult, outcome: ChargeOutcome
) -> CourseCharge:
    row = CourseCharge(
        course_id=course.id,
        payment_intent_id=intent.id,
        amount_cents=intent.amount,
        currency=intent.currency,
        outcome=outcome,
        flagged=outcome is ChargeOutcome.MISMATCH,
    )
    session.add(row)
    session.flush()
    _totals_changed(session, course)
    return row


def record_refund(
    session: Session,
    actor: User | None,
    course: Course,
    result: RefundResult,
    *,
    payment_intent_id: str,
    currency: str,
    appointment_ids: Sequence[int],
    waived: bool,
    reason: str,
) -> CourseRefund:
    row = CourseRefund(
        course_id=course.id,
        stripe_refund_id=result.id,
        payment_intent_id=payment_intent_id,
        amount_cents=result.amount,
        currency=currency,
        status=result.status,
        appointment_ids=list(appointment_ids),
        waived=waived,
        reason=reason,
        actor_id=actor.id if actor is not None else None,
    )
    session.add(row)
    session.flush()
    _totals_changed(session, course)
    return row


def _totals_changed(session: Session, course: Course) -> None:
    """`paid_cents` and `refunded_cents` are sums over the ledger: load them again on next use."""
    session.expire(course, ["paid_cents", "refunded_cents"])
