"""Payment holds: a course booked with card payments on holds its sessions' times until it is paid, or
until its hold runs out (HOLD_MINUTES, 15 by default), so an abandoned checkout never keeps a slot.

An expired hold stops counting as busy the moment it expires (services/slots.py compares the
expiry with the clock when it computes slots), before anything writes. Releasing writes it down:
- `flask expire-holds` (services/course_payments.expire_holds), on a schedule, which also cancels the
  unpaid PaymentIntent so a forgotten browser tab cannot pay for times given away;
- a booking of the same therapist, under their booking lock, for expired holds in its way: PostgreSQL's
  no-overlap constraint counts held sessions until they are released.
A payment that still arrives for a released course is refunded in full (services/course_payments.py).
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from massage_booking.models import Appointment, AppointmentStatus, Course, CourseStatus
from massage_booking.services import audit, soonest_cache


def hold_sessions(course: Course, appointments: list[Appointment], now: datetime, hold: timedelta) -> None:
    """Put a just-booked course and its sessions on hold until now + `hold`."""
    course.status = CourseStatus.PENDING_PAYMENT
    course.hold_expires_at = now + hold
    for appointment in appointments:
        appointment.status = AppointmentStatus.PENDING_PAYMENT


def confirm_sessions(session: Session, course: Course) -> None:
    """The course is paid: its held sessions become booked, and the hold ends."""
    course.status = CourseStatus.BOOKED
    course.hold_expires_at = None
    for appointment in _held(session, course.id):
        appointment.status = AppointmentStatus.BOOKED


def release(session: Session, course: Course, now: datetime, *, reason: str) -> None:
    """Give a held course's times back: the course is EXPIRED and its held sessions RELEASED."""
    course.status = CourseStatus.EXPIRED
    course.hold_expires_at = None
    for appointment in _held(session, course.id):
        appointment.status = AppointmentStatus.RELEASED
    session.flush()
    soonest_cache.refresh_next_available(session, course.therapist_id, now)
    audit.record(session, None, "course.hold_released", "course", course.id, reason=reason)


def expired_holds(session: Session, now: datetime, therapist_id: int | None = None) -> list[Course]:
    """Courses whose hold has run out but that have not been released yet, oldest first."""
    stmt = select(Course).where(Course.status == CourseStatus.PENDING_PAYMENT, Course.hold_expires_at <= now)
    if therapist_id is not None:
        stmt = stmt.where(Course.therapist_id == therapist_id)
    # Re-read: a copy this session held may predate a payment another transaction applied since.
    stmt = stmt.order_by(Course.hold_expires_at, Course.id).execution_options(populate_existing=True)
    return list(session.scalars(stmt))


def release_expired(session: Session, therapist_id: int, now: datetime) -> int:
    """Release one therapist's expired holds. A booking does this under the therapist's lock, which every
    payment change of their courses takes first (services/locks.py): no payment can land meanwhile."""
    found = expired_holds(session, now, therapist_id)
    for course in found:
        release(session, course, now, reason="expired")
    return len(found)


def _held(session: Session, course_id: int) -> list[Appointment]:
    return list(
        session.scalars(
            select(Appointment).where(
                Appointment.course_id == course_id, Appointment.status == AppointmentStatus.PENDING_PAYMENT
            )
        )
    )
