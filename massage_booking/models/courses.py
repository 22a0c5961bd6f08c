"""Courses of care and the intake they are booked from.

An intake is health information: who reads or writes one is checked and audited in
services/intake.py. A course keeps a copy of what its sessions need (the plan, the session notes the
therapist must see, the clearance still owed), so a later intake does not rewrite a booked course.
"""

from __future__ import annotations

import enum
from datetime import date, datetime
from typing import Any

from sqlalchemy import JSON, CheckConstraint, ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from massage_booking.models.base import Base, portable_enum, utcnow
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
    BOOKED = "booked"
    CANCELLED = "cancelled"
    COMPLETED = "completed"


class Course(Base):
    """A whole course of sessions with one therapist, booked in one transaction."""

    __tablename__ = "courses"
    __table_args__ = (
        CheckConstraint("session_minutes > 0", name="session_minutes_positive"),
        CheckConstraint("total_sessions BETWEEN 1 AND 40", name="total_sessions_range"),
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
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)

    patient: Mapped[User] = relationship()
    therapist: Mapped[TherapistProfile] = relationship()
    location: Mapped[PracticeLocation] = relationship()
    intake: Mapped[Intake] = relationship()
