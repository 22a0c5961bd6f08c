"""Queue the messages of one event in the caller's transaction: what services call when something happens.

Each function is one call from the service that made the change, after its flush. The rows commit or roll
back with that change, so a booking that fails sends nothing; `dedupe_key` (unique) makes a second report
of the same event (a card payment and its webhook, a retried request) queue nothing more.
"""

from __future__ import annotations

import base64
from collections.abc import Sequence
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from massage_booking.models import (
    Appointment,
    AppointmentStatus,
    Course,
    CourseCharge,
    CourseRefund,
    OncologyCredential,
    OutboxMessage,
    OutboxStatus,
    User,
)
from massage_booking.notifications import compose
from massage_booking.notifications.links import Links


def queue(session: Session, messages: Sequence[compose.Email], now: datetime) -> list[OutboxMessage]:
    """Add the messages whose dedupe key is new; returns the rows added. The unique key is the backstop
    for a concurrent duplicate (its transaction then fails, as a second writer of one event should)."""
    keys = [m.dedupe_key for m in messages]
    known = set(session.scalars(select(OutboxMessage.dedupe_key).where(OutboxMessage.dedupe_key.in_(keys))))
    rows = [
        OutboxMessage(
            dedupe_key=m.dedupe_key,
            kind=m.kind,
            recipient=m.recipient,
            subject=m.subject,
            text_body=m.text,
            html_body=m.html,
            attachments=[
                {
                    "filename": a.filename,
                    "content_type": a.content_type,
                    "content": base64.b64encode(a.content).decode("ascii"),
                }
                for a in m.attachments
            ],
            headers=dict(m.headers) or None,
            appointment_id=m.appointment_id,
            status=OutboxStatus.PENDING,
            attempts=0,
            next_attempt_at=now,
            created_at=now,
        )
        for m in messages
        if m.dedupe_key not in known
    ]
    session.add_all(rows)
    session.flush()
    return rows


def _sessions(session: Session, course: Course) -> list[Appointment]:
    return list(
        session.scalars(
            select(Appointment).where(Appointment.course_id == course.id).order_by(Appointment.session_number)
        )
    )


def course_booked(session: Session, course: Course, now: datetime, links: Links) -> None:
    """A course became booked (at booking, or when its payment was confirmed): tell patient and therapist."""
    queue(session, compose.course_booked(course, _sessions(session, course), now, links.base_url), now)


def sessions_cancelled(
    session: Session,
    course: Course,
    appointments: Sequence[Appointment],
    refund: CourseRefund | None,
    now: datetime,
    links: Links,
) -> None:
    """Booked sessions of a course were cancelled (with the refund made for them, if any)."""
    if appointments:
        queue(session, compose.sessions_cancelled(course, appointments, refund, links.base_url), now)


def session_rescheduled(
    session: Session, appointment: Appointment, old_start: datetime, now: datetime, links: Links
) -> None:
    """A course's session moved from `old_start` to its current time."""
    if appointment.course is not None:
        messages = compose.session_rescheduled(
            appointment.course, appointment, old_start, now, links.base_url
        )
        queue(session, messages, now)


def credential_reviewed(
    session: Session, credential: OncologyCredential, now: datetime, links: Links
) -> None:
    """An admin verified or rejected an oncology credential: tell its therapist."""
    queue(session, [compose.credential_reviewed(credential, links.base_url)], now)


def payment_failed(session: Session, course: Course, failure: str, now: datetime, links: Links) -> None:
    """A card payment for a course waiting for payment was declined; `failure` names the attempt (its
    PaymentIntent id, else the PaymentMethod), so the decline and its webhook queue one message."""
    queue(session, [compose.payment_failed(course, failure, now, links.base_url)], now)


def payment_refunded(
    session: Session, course: Course, charge: CourseCharge, now: datetime, links: Links
) -> None:
    """A whole payment was given back (a second payment, a late one, the wrong amount): tell the patient."""
    message = compose.payment_refunded(
        course,
        charge.payment_intent_id,
        charge.amount_cents,
        charge.currency,
        charge.outcome.value,
        links.base_url,
    )
    queue(session, [message], now)


def reminders_due(session: Session, now: datetime, hours: float) -> list[Appointment]:
    """Booked course sessions starting within the window (now, now + hours] whose patient wants
    reminders. (Whether a reminder for the current time is already queued is the dedupe key's job.)"""
    return list(
        session.scalars(
            select(Appointment)
            .join(User, User.id == Appointment.patient_id)
            .where(
                Appointment.status == AppointmentStatus.BOOKED,
                Appointment.course_id.is_not(None),
                Appointment.starts_at > now,
                Appointment.starts_at <= now + timedelta(hours=hours),
                User.reminders_enabled.is_(True),
            )
            .order_by(Appointment.starts_at, Appointment.id)
        )
    )


def queue_reminders(session: Session, now: datetime, hours: float, links: Links) -> int:
    """Queue a reminder for each booked session starting within `hours` of `now` that has none for its
    current time yet (`flask queue-reminders`, and `flask send-outbox` before it sends); returns how many."""
    messages = []
    for appointment in reminders_due(session, now, hours):
        course = appointment.course
        assert course is not None
        url = links.unsubscribe_url(course.patient_id)
        messages.append(compose.reminder(course, appointment, now, links.base_url, url))
    return len(queue(session, messages, now)) if messages else 0


def reminder_still_wanted(session: Session, row: OutboxMessage) -> bool:
    """Checked by the sender just before a reminder goes out: its session is still booked at the time the
    reminder names (not cancelled, released or moved since it was queued) and its patient still wants
    reminders."""
    if row.appointment_id is None:
        return True
    appointment = session.get(Appointment, row.appointment_id, populate_existing=True)
    if appointment is None or appointment.status is not AppointmentStatus.BOOKED:
        return False
    patient = session.get(User, appointment.patient_id, populate_existing=True)
    return (
        compose.reminder_key(appointment) == row.dedupe_key
        and patient is not None
        and patient.reminders_enabled
    )
