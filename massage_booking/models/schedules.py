"""Schedules: a therapist's availability settings, weekly hours, extra hours, time off, and appointments.

Hours are stored as local wall-clock times (a therapist works 9 to 5 in their own time zone, summer and
winter alike) and turned into instants only by `domain.scheduling`, with the location's IANA zone.
Time off and appointments are instants (UTC), because they happen once: a vacation does not move when
the clocks change.
"""

from __future__ import annotations

import enum
from datetime import date, datetime, time

from sqlalchemy import DDL, JSON, BigInteger, CheckConstraint, ForeignKey, Index, String, Time, event, true
from sqlalchemy.orm import Mapped, mapped_column, relationship

from massage_booking.models.base import Base, portable_enum, utcnow
from massage_booking.models.therapists import PracticeLocation, TherapistProfile
from massage_booking.models.users import User

DEFAULT_SESSION_LENGTHS = [60, 90]


class AvailabilitySettings(Base):
    """One row per therapist: the rules every slot obeys, the calendar-feed secret, and the cached
    soonest free start that search sorts by (see services/soonest_cache.py)."""

    __tablename__ = "availability_settings"
    __table_args__ = (
        CheckConstraint("buffer_before_minutes BETWEEN 0 AND 240", name="buffer_before_range"),
        CheckConstraint("buffer_after_minutes BETWEEN 0 AND 240", name="buffer_after_range"),
        CheckConstraint("min_notice_hours BETWEEN 0 AND 720", name="notice_range"),
        CheckConstraint("horizon_days BETWEEN 1 AND 365", name="horizon_range"),
        CheckConstraint("slot_step_minutes IN (5, 10, 15, 20, 30, 60)", name="slot_step_choice"),
    )

    therapist_id: Mapped[int] = mapped_column(
        ForeignKey("therapist_profiles.id", ondelete="CASCADE"), primary_key=True
    )
    buffer_before_minutes: Mapped[int] = mapped_column(default=0)
    buffer_after_minutes: Mapped[int] = mapped_column(default=15)
    min_notice_hours: Mapped[int] = mapped_column(default=24)
    horizon_days: Mapped[int] = mapped_column(default=90)
    slot_step_minutes: Mapped[int] = mapped_column(default=15)
    session_lengths: Mapped[list[int]] = mapped_column(JSON, default=lambda: list(DEFAULT_SESSION_LENGTHS))
    # False: the practice's public holidays (its state's, from the `holidays` package) are closed days,
    # as if they were time off. True (the default, as before this setting existed): they are ordinary
    # days, and the course planner names any holiday a proposed course includes.
    works_public_holidays: Mapped[bool] = mapped_column(default=True, server_default=true())
    # The iCal feed's secret is shown once and kept only as a SHA-256 digest (like API tokens).
    feed_token_digest: Mapped[str | None] = mapped_column(String(64), unique=True)
    feed_token_created_at: Mapped[datetime | None]
    # Search's cache of the soonest free start (None: nothing free within the horizon). It stays right
    # until `next_available_valid_until`, or until hours, time off or bookings change (which recompute it).
    next_available_at: Mapped[datetime | None]
    # Indexed for `flask refresh-availability`, which looks for the ones about to go stale.
    next_available_valid_until: Mapped[datetime | None] = mapped_column(index=True)
    # Counts changes to hours, time off and bookings (`soonest.refresh_next_available`). A cached
    # course fit (CourseFitCache) holds only while it was computed at the current count: a change need
    # not find and delete the fits, and a fit computed while a change committed is never taken as fresh.
    calendar_version: Mapped[int] = mapped_column(default=0, server_default="0")
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)

    therapist: Mapped[TherapistProfile] = relationship()


class WeeklyHours(Base):
    """A recurring working interval at one practice location: weekday (0 = Monday) and local times."""

    __tablename__ = "weekly_hours"
    __table_args__ = (
        CheckConstraint("weekday BETWEEN 0 AND 6", name="weekday_range"),
        CheckConstraint("ends_at > starts_at", name="ends_after_start"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    location_id: Mapped[int] = mapped_column(
        ForeignKey("practice_locations.id", ondelete="CASCADE"), index=True
    )
    weekday: Mapped[int]
    starts_at: Mapped[time] = mapped_column(Time)
    ends_at: Mapped[time] = mapped_column(Time)

    location: Mapped[PracticeLocation] = relationship()


class ExtraHours(Base):
    """Hours added on one local date (a date override), e.g. a Saturday clinic once a month."""

    __tablename__ = "extra_hours"
    __table_args__ = (CheckConstraint("ends_at > starts_at", name="ends_after_start"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    location_id: Mapped[int] = mapped_column(
        ForeignKey("practice_locations.id", ondelete="CASCADE"), index=True
    )
    day: Mapped[date]
    starts_at: Mapped[time] = mapped_column(Time)
    ends_at: Mapped[time] = mapped_column(Time)

    location: Mapped[PracticeLocation] = relationship()


class TimeOff(Base):
    """Time the therapist is away, at every location: whole days or part of one, as UTC instants."""

    __tablename__ = "time_off"
    __table_args__ = (
        CheckConstraint("ends_at > starts_at", name="ends_after_start"),
        Index("ix_time_off_therapist_ends", "therapist_id", "ends_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    therapist_id: Mapped[int] = mapped_column(ForeignKey("therapist_profiles.id", ondelete="CASCADE"))
    starts_at: Mapped[datetime]
    ends_at: Mapped[datetime]
    reason: Mapped[str] = mapped_column(String(200), default="")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class AppointmentStatus(enum.StrEnum):
    # Held for a course waiting for payment: occupies the time only until the course's hold expires.
    PENDING_PAYMENT = "pending_payment"
    BOOKED = "booked"
    CANCELLED = "cancelled"
    COMPLETED = "completed"
    NO_SHOW = "no_show"
    # A hold that lapsed (not paid in time, or the payment failed for good): the time went back.
    RELEASED = "released"


# Statuses whose time the therapist cannot give to anyone else.
OCCUPYING_STATUSES = (AppointmentStatus.BOOKED, AppointmentStatus.COMPLETED, AppointmentStatus.NO_SHOW)
# ... and the status that occupies only while its course's hold runs (services/slots.py checks the
# expiry when it computes slots; PostgreSQL's constraint counts it until it is released, which booking
# does for expired holds under the therapist's booking lock).
HELD_STATUS = AppointmentStatus.PENDING_PAYMENT


class Appointment(Base):
    """One session with a patient. Courses of care (issue 5) group them; the availability pages, the
    slot engine and the calendar feed only need the time, the place and the status."""

    __tablename__ = "appointments"
    __table_args__ = (
        CheckConstraint("ends_at > starts_at", name="ends_after_start"),
        Index("ix_appointments_therapist_starts", "therapist_id", "starts_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    therapist_id: Mapped[int] = mapped_column(ForeignKey("therapist_profiles.id", ondelete="CASCADE"))
    location_id: Mapped[int] = mapped_column(ForeignKey("practice_locations.id", ondelete="RESTRICT"))
    patient_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="RESTRICT"), index=True)
    course_id: Mapped[int | None] = mapped_column(ForeignKey("courses.id", ondelete="CASCADE"), index=True)
    session_number: Mapped[int | None]
    starts_at: Mapped[datetime]
    ends_at: Mapped[datetime]
    status: Mapped[AppointmentStatus] = mapped_column(
        portable_enum(AppointmentStatus, "appointment_status"), default=AppointmentStatus.BOOKED
    )
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)

    therapist: Mapped[TherapistProfile] = relationship()
    location: Mapped[PracticeLocation] = relationship()
    patient: Mapped[User] = relationship()
    course: Mapped[Course | None] = relationship()

    @property
    def minutes(self) -> int:
        return int((self.ends_at - self.starts_at).total_seconds() // 60)


# The database's own guarantee that a therapist is never double-booked (DESIGN.md, "Invariants"), on
# PostgreSQL: no two occupying appointments of one therapist overlap. Written as DDL on table creation
# (and in migration 0005) because it needs the btree_gist extension; SQLite has no equivalent, so there
# booking relies on its single writer (services/courses.py takes the write lock before checking).
NO_OVERLAP_CONSTRAINT = "appointments_no_overlap"
_OCCUPYING_SQL = ", ".join(f"'{status.value}'" for status in (*OCCUPYING_STATUSES, HELD_STATUS))
event.listen(
    Appointment.__table__,
    "before_create",
    DDL("CREATE EXTENSION IF NOT EXISTS btree_gist").execute_if(dialect="postgresql"),
)
event.listen(
    Appointment.__table__,
    "after_create",
    DDL(
        f"ALTER TABLE appointments ADD CONSTRAINT {NO_OVERLAP_CONSTRAINT} EXCLUDE USING gist "
        "(therapist_id WITH =, tstzrange(starts_at, ends_at, '[)') WITH &&) "
        f"WHERE (status IN ({_OCCUPYING_SQL}))"
    ).execute_if(dialect="postgresql"),
)


from massage_booking.models.courses import Course  # noqa: E402  (resolves the forward reference)


class CourseFitCache(Base):
    """Search's cache of one therapist's course fit for one course shape (domain/course_fit.py): every
    weekday pattern with a whole course, and its soonest first session at any time and per part of the
    day, as `CourseFit.as_rows()`.

    Written by search when it meets a therapist without a current row (services/course_fit.py), and by
    `flask refresh-availability` before rows go stale. A row answers only while `calendar_version`
    equals the therapist's and `valid_until` has not passed.
    """

    __tablename__ = "course_fit_cache"

    therapist_id: Mapped[int] = mapped_column(
        ForeignKey("availability_settings.therapist_id", ondelete="CASCADE"), primary_key=True
    )
    session_minutes: Mapped[int] = mapped_column(primary_key=True)
    # Sessions a fortnight (1.5 a week is 3): a whole number, so the key compares exactly.
    sessions_per_fortnight: Mapped[int] = mapped_column(primary_key=True)
    total_sessions: Mapped[int] = mapped_column(primary_key=True)
    calendar_version: Mapped[int]
    patterns: Mapped[list[list[int | None]]] = mapped_column(JSON)
    # The soonest first session of a whole course of any pattern, at any time and per part of the day, in
    # whole seconds since the epoch (None: none fits): search filters and sorts thousands of rows by these
    # without decoding `patterns` or a datetime per row; only weekday wishes need `patterns`.
    soonest: Mapped[int | None] = mapped_column(BigInteger)
    morning: Mapped[int | None] = mapped_column(BigInteger)
    afternoon: Mapped[int | None] = mapped_column(BigInteger)
    evening: Mapped[int | None] = mapped_column(BigInteger)
    valid_until: Mapped[datetime] = mapped_column(index=True)
    computed_at: Mapped[datetime] = mapped_column(default=utcnow)
