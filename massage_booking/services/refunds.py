"""Refunds on a course's PaymentIntent: for sessions cancelled within policy, and for payments that came
too late to keep their times.

The Stripe Refund is made inside the transaction that cancels the sessions, before it commits: if Stripe
refuses, the cancellation rolls back and nothing changed. If the commit fails after Stripe refunded, the
retry sends the same idempotency key (the course and the sessions' ids), which Stripe answers with the
refund it already made instead of a second one.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from massage_booking.domain import billing
from massage_booking.models import Appointment, Course, CourseRefund, PaymentMode, User
from massage_booking.payments import StripePayments
from massage_booking.services import audit


def refund_cancelled(
    session: Session,
    actor: User,
    course: Course,
    cancelled: Sequence[Appointment],
    now: datetime,
    payments: StripePayments,
    *,
    waived: bool,
) -> CourseRefund | None:
    """Refund exactly the price of each cancelled session that was at least 24 hours away (every one, if
    the therapist `waived` the notice), never more than the course's balance. Each session's own price:
    the copay for a session the course's plan covers, the full price for any other
    (`Course.session_charge_cents`). None if nothing is owed: paid at the visit, not paid, or cancelled
    late."""
    if (
        course.payment_mode is not PaymentMode.CARD
        or course.balance_cents <= 0
        or not course.payment_intent_id
    ):
        return None
    owed = [a for a in cancelled if billing.refundable(a.starts_at, now, waived=waived)]
    amount = billing.refund_cents_for_sessions(
        [(a.starts_at, course.session_charge_cents(a.session_number)) for a in owed],
        now,
        waived=waived,
        remaining_cents=course.balance_cents,
    )
    if amount <= 0:
        return None
    ids = sorted(a.id for a in owed)
    key = f"course-{course.id}-refund-" + "-".join(map(str, ids))
    result = payments.refund(course.payment_intent_id, amount, key)
    return _record(session, actor, course, result.id, result.status, amount, ids, waived, "cancelled")


def refund_whole_payment(
    session: Session,
    course: Course,
    payment_intent_id: str,
    amount: int,
    payments: StripePayments,
    reason: str,
) -> CourseRefund:
    """Give back a whole payment that must not be kept: it arrived after the course's times were released,
    or it paid a second time for a course already paid."""
    result = payments.refund(payment_intent_id, amount, f"course-{course.id}-{reason}-{payment_intent_id}")
    return _record(session, None, course, result.id, result.status, amount, [], False, reason)


def refunds_of(session: Session, course_id: int) -> list[CourseRefund]:
    return list(
        session.scalars(
            select(CourseRefund)
            .where(CourseRefund.course_id == course_id)
            .order_by(CourseRefund.created_at, CourseRefund.id)
        )
    )


def _record(
    session: Session,
    actor: User | None,
    course: Course,
    refund_id: str,
    status: str,
    amount: int,
    appointment_ids: list[int],
    waived: bool,
    reason: str,
) -> CourseRefund:
    row = CourseRefund(
        course_id=course.id,
        stripe_refund_id=refund_id,
        amount_cents=amount,
        status=status,
        appointment_ids=appointment_ids,
        waived=waived,
        reason=reason,
        actor_id=actor.id if actor is not None else None,
    )
    session.add(row)
    course.refunded_cents += amount
    session.flush()
    audit.record(session, actor, "course.refunded", "course", course.id, amount_cents=amount, reason=reason)
    return row
