"""Refunds: for sessions cancelled within policy (part of the PaymentIntent that paid the course), and
whole refunds of payments the course must not keep (a second payment, a late one, one for the wrong amount).
Each is a row of the money ledger (services/payment_ledger.py), written under the course's lock.

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
from massage_booking.models import Appointment, Course, CourseCharge, CourseRefund, PaymentMode, User
from massage_booking.payments import StripePayments
from massage_booking.services import audit, payment_ledger


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
    row = payment_ledger.record_refund(
        session,
        actor,
        course,
        result,
        payment_intent_id=course.payment_intent_id,
        currency=course.currency,
        appointment_ids=ids,
        waived=waived,
        reason="cancelled",
    )
    audit.record(
        session, actor, "course.refunded", "course", course.id, amount_cents=amount, reason="cancelled"
    )
    return row


def refund_whole_charge(
    session: Session, course: Course, charge: CourseCharge, payments: StripePayments, reason: str
) -> CourseRefund:
    """Give back a whole payment that must not be kept: it paid a course already paid, arrived after the
    course's times were released or cancelled, or does not match what the course costs. The idempotency
    key names the PaymentIntent, so a retried transaction refunds it once."""
    result = payments.refund(
        charge.payment_intent_id,
        charge.amount_cents,
        f"course-{course.id}-{reason}-{charge.payment_intent_id}",
    )
    row = payment_ledger.record_refund(
        session,
        None,
        course,
        result,
        payment_intent_id=charge.payment_intent_id,
        currency=charge.currency,
        appointment_ids=[],
        waived=False,
        reason=reason,
    )
    audit.record(
        session, None, "course.refunded", "course", course.id, amount_cents=charge.amount_cents, reason=reason
    )
    return row


def refunds_of(session: Session, course_id: int) -> list[CourseRefund]:
    return list(
        session.scalars(
            select(CourseRefund)
            .where(CourseRefund.course_id == course_id)
            .order_by(CourseRefund.created_at, CourseRefund.id)
        )
    )
