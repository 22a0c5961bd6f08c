"""Courses of care and the intake they are booked from.

An intake is health information: who reads or writes one is checked and audited in
services/intake.py. A course keeps a copy of what its sessions need (the plan, the session notes the
therapist must see, the clearance still owed), so a later intake does not rewrite a booked course.
"""

from __future__ import annotations

import enum
from datetime import date, datetime
from typing import TYPE_CHECKING, Any

from sqlalchemy import JSON, CheckConstraint, ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from massage_booking.domain import billing
from massage_booking.models.base import Base, portable_enum, utcnow
from massage_booking.models.payers import InsurancePlan
from massage_booking.models.therapists import PracticeLocation, TherapistProfile
from massage_booking.models.users import User


class Intake(Base):
    """A patient's answers before a course: condition, cancer history, precautions, referral."""

    __tablename__ = "intakes"

    id: Mapped[int] = mapped_column(primary_key=True)
    patient_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    condition_id: Mapped[str] = mapped_column(String(64))
    cancer_history: Mapped[bool]
    treatment_phase: Mapped[str] = mapped_column(String(32))
    precautions: Mapped[list[str]] = mapped_column(JSON, default=list)
    referral_name: Mapped[str | None] = mapped_column(String(120))
    referral_npi: Mapped[str | None] = mapped_column(String(10))
    referral_date: Mapped[date | None]
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    patient: Mapped[User] = relationship()


class CourseStatus(enum.StrEnum):
    # Booked with card payments on: its sessions are held until `hold_expires_at`, then released.
    PENDING_PAYMENT = "pending_payment"
    BOOKED = "booked"
    CANCELLED = "cancelled"
    COMPLETED = "completed"
    # Not paid before its hold ran out (or the patient gave it up): its times went back to the calendar.
    EXPIRED = "expired"


class PaymentMode(enum.StrEnum):
    """How a course is paid: by card when booked (Stripe), or at the visit when the site takes no cards."""

    CARD = "card"
    AT_VISIT = "at_visit"


class Course(Base):
    """A whole course of sessions with one therapist, booked in one transaction."""

    __tablename__ = "courses"
    __table_args__ = (
        CheckConstraint("session_minutes > 0", name="session_minutes_positive"),
        CheckConstraint("total_sessions BETWEEN 1 AND 40", name="total_sessions_range"),
        CheckConstraint("price_cents >= 0 AND session_price_cents >= 0", name="prices_not_negative"),
        CheckConstraint(
            "covered_sessions >= 0 AND covered_sessions <= total_sessions", name="covered_sessions_range"
        ),
        CheckConstraint("copay_cents >= 0 AND copay_cents <= session_price_cents", name="copay_range"),
        CheckConstraint("covered_sessions = 0 OR plan_id IS NOT NULL", name="covered_needs_plan"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    patient_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="RESTRICT"), index=True)
    therapist_id: Mapped[int] = mapped_column(
        ForeignKey("therapist_profiles.id", ondelete="RESTRICT"), index=True
    )
    location_id: Mapped[int] = mapped_column(ForeignKey("practice_locations.id", ondelete="RESTRICT"))
    intake_id: Mapped[int] = mapped_column(ForeignKey("intakes.id", ondelete="RESTRICT"))
    condition_id: Mapped[str] = mapped_column(String(64))
    session_minutes: Mapped[int]
    sessions_per_week: Mapped[float | None]
    total_sessions: Mapped[int]
    citation_id: Mapped[str] = mapped_column(String(64))
    # Copied from the plan and the intake when booked: [{"code", "fields", "message"}] and notes as text.
    warnings: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)
    session_notes: Mapped[list[str]] = mapped_column(JSON, default=list)
    clearance_needed: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)
    status: Mapped[CourseStatus] = mapped_column(
        portable_enum(CourseStatus, "course_status"), default=CourseStatus.BOOKED
    )
    # The insurance plan the patient chose for this course (None: self-pay); set only when the plan covers
    # at least one of its sessions (services/coverage.py). The plan's payer may check it.
    plan_id: Mapped[int | None] = mapped_column(
        ForeignKey("insurance_plans.id", ondelete="RESTRICT"), index=True
    )
    # Money, in integer cents of `currency` (ISO 4217, lower case as Stripe writes it). The prices are
    # fixed when booked: a later change of the therapist's rate or of a plan does not change a booked course.
    payment_mode: Mapped[PaymentMode] = mapped_column(
        portable_enum(PaymentMode, "payment_mode"), default=PaymentMode.AT_VISIT, server_default="at_visit"
    )
    # The full (self-pay) price of one session. Under a plan the first `covered_sessions` sessions (by
    # number) cost `copay_cents` each instead (domain/billing.session_charge_cents); `price_cents` is the
    # sum of every session's price, and a cancelled session is refunded its own price.
    session_price_cents: Mapped[int] = mapped_column(default=0, server_default="0")
    covered_sessions: Mapped[int] = mapped_column(default=0, server_default="0")
    copay_cents: Mapped[int] = mapped_column(default=0, server_default="0")
    price_cents: Mapped[int] = mapped_column(default=0, server_default="0")
    currency: Mapped[str] = mapped_column(String(3), default="usd", server_default="usd")
    # While PENDING_PAYMENT: its sessions occupy the calendar until then (indexed for `flask expire-holds`).
    hold_expires_at: Mapped[datetime | None] = mapped_column(index=True)
    # The PaymentIntent that paid (or is paying) for the course; webhooks find the course by it.
    payment_intent_id: Mapped[str | None] = mapped_column(String(255), unique=True)
    if TYPE_CHECKING:  # sums over the money ledger, mapped in models/payments.py: not columns of a course
        paid_cents: int
        refunded_cents: int
    # How many PaymentIntents were started for it: each attempt's idempotency key names its number.
    payment_attempts: Mapped[int] = mapped_column(default=0, server_default="0")
    paid_at: Mapped[datetime | None]
    # The processor's words for the last failed attempt ("Your card was declined."), shown to the patient.
    payment_error: Mapped[str | None] = mapped_column(String(300))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)

    patient: Mapped[User] = relationship()
    therapist: Mapped[TherapistProfile] = relationship()
    location: Mapped[PracticeLocation] = relationship()
    intake: Mapped[Intake] = relationship()
    plan: Mapped[InsurancePlan | None] = relationship()

    def holds_until(self, now: datetime) -> datetime | None:
        """The end of the payment hold if it is still running at `now`; None once paid, or lapsed."""
        expires = self.hold_expires_at
        if self.status is CourseStatus.PENDING_PAYMENT and expires is not None and expires > now:
            return expires
        return None

    def session_charge_cents(self, number: int | None) -> int:
        """What session `number` of this course costs the patient: the copay if the plan covers it."""
        return billing.session_charge_cents(
            number,
            self.session_price_cents,
            covered_sessions=self.covered_sessions,
            copay_cents=self.copay_cents,
        )

    @property
    def balance_cents(self) -> int:
        """What the patient has paid by card and not had back."""
        return self.paid_cents - self.refunded_cents
