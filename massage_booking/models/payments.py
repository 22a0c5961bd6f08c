"""What the product keeps of card payments: refunds it made, and the Stripe events it has applied.

Card details never reach these tables (the browser gives them to Stripe.js); a PaymentIntent, Refund or
Event id is all that ties a row to Stripe.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, CheckConstraint, ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from massage_booking.models.base import Base, utcnow
from massage_booking.models.courses import Course


class CourseRefund(Base):
    """Money given back on a course's PaymentIntent, and for which of its sessions."""

    __tablename__ = "course_refunds"
    __table_args__ = (CheckConstraint("amount_cents > 0", name="amount_positive"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    course_id: Mapped[int] = mapped_column(ForeignKey("courses.id", ondelete="RESTRICT"), index=True)
    stripe_refund_id: Mapped[str] = mapped_column(String(255), unique=True)
    amount_cents: Mapped[int]
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
