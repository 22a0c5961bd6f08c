"""The money ledger of card payments (every charge Stripe made for a course, every refund we made on one)
and the Stripe events the product has applied.

A course's `paid_cents` and `refunded_cents` are not stored on the course: they are sums over this ledger
in the course's currency (column properties defined at the end of this module), so the balance a page
shows can never drift from the rows that say where each cent came from and went. `flask payments
reconcile` compares the ledger with Stripe's own records.

Card details never reach these tables (the browser gives them to Stripe.js); a PaymentIntent, Refund or
Event id is all that ties a row to Stripe.
"""

from __future__ import annotations

import enum
from datetime import datetime
from typing import Any

from sqlalchemy import JSON, CheckConstraint, ForeignKey, String, false, func, select
from sqlalchemy.orm import Mapped, column_property, mapped_column, relationship

from massage_booking.models.base import Base, portable_enum, utcnow
from massage_booking.models.courses import Course


class ChargeOutcome(enum.StrEnum):
    """What a succeeded PaymentIntent did to its course. Only PAID keeps the money; every other outcome is
    refunded whole in the transaction that records it."""

    PAID = "paid"  # booked the course it was for
    DUPLICATE = "duplicate"  # the course was already paid (two tabs, two cards)
    LATE = "late"  # the course was no longer held: cancelled, released, expired
    MISMATCH = "mismatch"  # amount or currency differ from what the course costs: flagged for an admin


class CourseCharge(Base):
    """Money Stripe took for a course: one row per succeeded PaymentIntent, written under the course's lock
    in the transaction that decides what the payment does (services/payment_ledger.py)."""

    __tablename__ = "course_charges"
    __table_args__ = (CheckConstraint("amount_cents > 0", name="amount_positive"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    course_id: Mapped[int] = mapped_column(ForeignKey("courses.id", ondelete="RESTRICT"), index=True)
    # Unique: a PaymentIntent is charged once, so a second report of it (webhook, 3-D Secure return,
    # expiry check) finds its row and changes nothing.
    payment_intent_id: Mapped[str] = mapped_column(String(255), unique=True)
    amount_cents: Mapped[int]
    currency: Mapped[str] = mapped_column(String(3))
    outcome: Mapped[ChargeOutcome] = mapped_column(portable_enum(ChargeOutcome, "charge_outcome"))
    # Set for a payment a person must look at (the wrong amount or currency): the admin payments page
    # lists it until `reviewed_at` is set.
    flagged: Mapped[bool] = mapped_column(default=False, server_default=false())
    reviewed_at: Mapped[datetime | None]
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    course: Mapped[Course] = relationship()


class CourseRefund(Base):
    """Money given back on a course's PaymentIntent, and for which of its sessions."""

    __tablename__ = "course_refunds"
    __table_args__ = (CheckConstraint("amount_cents > 0", name="amount_positive"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    course_id: Mapped[int] = mapped_column(ForeignKey("courses.id", ondelete="RESTRICT"), index=True)
    stripe_refund_id: Mapped[str] = mapped_column(String(255), unique=True)
    # The PaymentIntent the money went back to, in its currency.
    payment_intent_id: Mapped[str] = mapped_column(String(255), index=True)
    amount_cents: Mapped[int]
    currency: Mapped[str] = mapped_column(String(3))
    status: Mapped[str] = mapped_column(String(32))
    # The appointment ids it pays back; empty for a whole refund (a payment that arrived too late).
    appointment_ids: Mapped[list[int]] = mapped_column(JSON, default=list)
    # True when a therapist waived the 24-hour notice for these sessions.
    waived: Mapped[bool] = mapped_column(default=False)
    reason: Mapped[str] = mapped_column(String(40))
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    course: Mapped[Course] = relationship()


class StripeEvent(Base):
    """A webhook event that was applied. Its row is written in the same transaction as its effect, so an
    event Stripe sends again (it retries for days, and repeats) finds its id here and changes nothing."""

    __tablename__ = "stripe_events"

    id: Mapped[str] = mapped_column(String(255), primary_key=True)
    type: Mapped[str] = mapped_column(String(80))
    course_id: Mapped[int | None] = mapped_column(ForeignKey("courses.id", ondelete="SET NULL"), index=True)
    # What applying it did, e.g. "confirmed", "ignored: course already booked" (no payload is kept).
    outcome: Mapped[str] = mapped_column(String(120))
    details: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    received_at: Mapped[datetime] = mapped_column(default=utcnow)


# The course's totals, derived from the ledger (in the course's own currency: a payment in another one is a
# mismatch, refunded in its own currency, and counts in neither total). Loaded with the course in one
# query; services/payment_ledger.py expires them when it writes a row.
Course.paid_cents = column_property(
    select(func.coalesce(func.sum(CourseCharge.amount_cents), 0))
    .where(CourseCharge.course_id == Course.id, CourseCharge.currency == Course.currency)
    .correlate_except(CourseCharge)
    .scalar_subquery()
)
Course.refunded_cents = column_property(
    select(func.coalesce(func.sum(CourseRefund.amount_cents), 0))
    .where(CourseRefund.course_id == Course.id, CourseRefund.currency == Course.currency)
    .correlate_except(CourseRefund)
    .scalar_subquery()
)
