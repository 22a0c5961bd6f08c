"""The two row locks every change of bookings and money takes, always in this order: the therapist's
booking lock, then the course's row.

Why locks and not checks: SQLite serialises writers, so a check-then-write race passes every SQLite test
and double-charges on PostgreSQL (DESIGN.md, "Known traps": two concurrent `payment_intent.succeeded`
webhooks for one course were both applied, 20 rounds of 20). Every state change of a course and its
payments (hold, payment started, succeeded, failed, refunded, cancelled, expired) takes `lock_course`
first and decides from what it re-reads under the lock.

Why the therapist first: booking a therapist releases their lapsed holds (courses of that therapist) under
the booking lock, and applying a payment refreshes the therapist's cached next-available time. Taking the
therapist's lock before any course's, everywhere, means two writers can never hold one each and wait for
the other (a deadlock PostgreSQL would break by failing one of them).

- PostgreSQL: the booking lock is an UPDATE of the therapist's `bookings_version` (a row lock held until
  commit); the course row is then locked with SELECT ... FOR UPDATE and re-read.
- SQLite: that UPDATE is the transaction's first write, which takes the database's single writer lock
  (other writers wait up to busy_timeout); SQLAlchemy drops FOR UPDATE there, and needs it not.
"""

from __future__ import annotations

from sqlalchemy import select, update
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session

from massage_booking.domain.errors import Conflict, NotFound
from massage_booking.models import Course, TherapistProfile


def lock_therapist_bookings(session: Session, therapist_id: int) -> None:
    """Serialise bookings and payment changes of one therapist's calendar until the transaction ends."""
    try:
        session.execute(
            update(TherapistProfile)
            .where(TherapistProfile.id == therapist_id)
            .values(bookings_version=TherapistProfile.bookings_version + 1)
            .execution_options(synchronize_session=False)
        )
    except OperationalError as error:  # SQLite's busy_timeout ran out: too many writers at once
        if session.get_bind().dialect.name != "sqlite":
            raise
        raise Conflict("The calendar is busy; please try again in a moment.") from error


def lock_course(session: Session, course_id: int) -> Course:
    """The course, locked for this transaction, and everything this session had read expired so it is read
    again under the lock (another transaction may have paid, cancelled or released the course, or changed
    its sessions, since). Pending changes were flushed by the first query here, so none is lost."""
    therapist_id = session.scalar(select(Course.therapist_id).where(Course.id == course_id))
    if therapist_id is None:
        raise NotFound("There is no course with that id.")
    lock_therapist_bookings(session, therapist_id)
    session.execute(select(Course.id).where(Course.id == course_id).with_for_update())
    session.expire_all()
    course = session.get(Course, course_id)
    assert course is not None  # courses are never deleted (their foreign keys RESTRICT)
    return course
