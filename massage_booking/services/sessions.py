"""A therapist's sessions as they work through them: what is coming up, with each patient's precautions,
and marking a session completed or no-show once it has started.

The precautions that travel with a session (`Course.session_notes`), the clearance still owed and the
condition are health information, so every read here is checked against the acting therapist and
audited (DESIGN.md, "Invariants"): a list once per call with a count, a single session by id. Anyone but
the session's therapist gets "not found" (not "forbidden", which would confirm the session exists), and
the refusal is audited too. Audit details hold identifiers and counts, never the notes themselves.

Attendance is a compare-and-swap (`UPDATE ... WHERE status = 'booked'`), so two clicks, or the page and
the API at once, cannot both mark one session, whatever the database's isolation level.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.orm import Session, selectinload

from massage_booking.domain import evidence
from massage_booking.domain.errors import Conflict, DomainError, NotFound, ValidationFailed
from massage_booking.models import (
    Appointment,
    AppointmentStatus,
    Course,
    CourseStatus,
    User,
)
from massage_booking.schemas.sessions import DAYS_MESSAGE, MAX_DAYS, AttendanceRequest
from massage_booking.services import audit, availability

NOT_FOUND = "You have no session with that id."
# Statuses after which a session needs nothing more: a course whose sessions are all in one is over.
_SETTLED = {AppointmentStatus.COMPLETED, AppointmentStatus.NO_SHOW, AppointmentStatus.CANCELLED}


class SessionNotStarted(DomainError):
    """Attendance is a record of what happened, so it cannot be given before the session starts."""

    code = "session_not_started"
    status = 422


class SessionNotBooked(DomainError):
    """Only a booked session can be marked: a cancelled one did not happen, a marked one already is."""

    code = "session_not_booked"
    status = 422


@dataclass(frozen=True)
class SessionView:
    """One session as its therapist needs to see it before the patient arrives."""

    appointment: Appointment
    patient_name: str
    time_zone: str  # the practice location's IANA zone
    course_id: int | None
    condition_name: str | None  # None for a single appointment outside a course
    session_number: int | None
    total_sessions: int | None
    session_notes: tuple[str, ...]  # the precautions, one clause each, as the intake gave them
    # [{"code", "message"}] owed at booking, while no session of the course has been given yet
    clearance_needed: tuple[dict[str, Any], ...]

    @property
    def id(self) -> int:
        return self.appointment.id

    @property
    def starts_at(self) -> datetime:
        return self.appointment.starts_at

    @property
    def ends_at(self) -> datetime:
        return self.appointment.ends_at

    @property
    def minutes(self) -> int:
        return self.appointment.minutes

    @property
    def status(self) -> AppointmentStatus:
        return self.appointment.status

    @property
    def sequence(self) -> str | None:
        """ "Session 3 of 8", or None outside a course."""
        if self.session_number is None or self.total_sessions is None:
            return None
        return f"Session {self.session_number} of {self.total_sessions}"

    @property
    def clearance_applies(self) -> bool:
        """Whether the physician's clearance is still to be seen before the patient's first session.
        Nothing records the clearance arriving yet, so it applies until a session has been given."""
        return bool(self.clearance_needed)

    def started(self, now: datetime) -> bool:
        return self.appointment.starts_at <= now

    def can_mark(self, now: datetime) -> bool:
        return self.status is AppointmentStatus.BOOKED and self.started(now)


def _given_courses(session: Session, appointments: Sequence[Appointment]) -> set[int]:
    """Ids of the courses among `appointments` that already have a completed session (one query)."""
    ids = {a.course_id for a in appointments if a.course_id is not None}
    if not ids:
        return set()
    return set(
        session.scalars(
            select(Appointment.course_id)
            .where(Appointment.course_id.in_(ids), Appointment.status == AppointmentStatus.COMPLETED)
            .distinct()
        )
    )


def _views(session: Session, appointments: Sequence[Appointment]) -> list[SessionView]:
    given = _given_courses(session, appointments)
    return [_view(a, a.course_id in given) for a in appointments]


def _view(appointment: Appointment, course_given: bool) -> SessionView:
    course = appointment.course
    condition = evidence.condition(course.condition_id) if course is not None else None
    clearance = () if course is None or course_given else tuple(course.clearance_needed or ())
    return SessionView(
        appointment=appointment,
        patient_name=appointment.patient.display_name,
        time_zone=appointment.location.time_zone,
        course_id=course.id if course is not None else None,
        condition_name=(condition.name if condition else course.condition_id) if course is not None else None,
        session_number=appointment.session_number,
        total_sessions=course.total_sessions if course is not None else None,
        session_notes=tuple(course.session_notes or ()) if course is not None else (),
        clearance_needed=clearance,
    )


def _with_details() -> Any:
    return select(Appointment).options(
        selectinload(Appointment.patient),
        selectinload(Appointment.location),
        selectinload(Appointment.course),
    )


def upcoming_sessions(session: Session, actor: User, now: datetime, days: int = 14) -> list[SessionView]:
    """The acting therapist's booked sessions not yet over (one in progress is still listed, so it can
    be opened and marked) up to `days` ahead, earliest first. One audit record per call, with the count."""
    profile = availability.own_profile(session, actor)
    if not 1 <= days <= MAX_DAYS:
        raise ValidationFailed.for_field("days", DAYS_MESSAGE)
    found = session.scalars(
        _with_details()
        .where(
            Appointment.therapist_id == profile.id,
            Appointment.status == AppointmentStatus.BOOKED,
            Appointment.ends_at > now,
            Appointment.starts_at < now + timedelta(days=days),
        )
        .order_by(Appointment.starts_at, Appointment.id)
    ).all()
    audit.record(session, actor, "sessions.listed", "therapist", profile.id, count=len(found), days=days)
    return _views(session, found)


def awaiting_attendance(session: Session, actor: User, now: datetime, days: int = 30) -> list[SessionView]:
    """Sessions of the last `days` that are over but still only "booked": the therapist has not said
    whether the patient came. Listed so that none is forgotten (audited like `upcoming_sessions`)."""
    profile = availability.own_profile(session, actor)
    found = session.scalars(
        _with_details()
        .where(
            Appointment.therapist_id == profile.id,
            Appointment.status == AppointmentStatus.BOOKED,
            Appointment.ends_at <= now,
            Appointment.starts_at >= now - timedelta(days=days),
        )
        .order_by(Appointment.starts_at, Appointment.id)
    ).all()
    audit.record(session, actor, "sessions.listed", "therapist", profile.id, count=len(found), awaiting=True)
    return _views(session, found)


def _own_appointment(session: Session, actor: User, appointment_id: int, denied: str) -> Appointment:
    """The appointment if the actor is its therapist; otherwise NotFound, with `denied` audited first."""
    appointment = session.scalar(
        _with_details().options(selectinload(Appointment.therapist)).where(Appointment.id == appointment_id)
    )
    if appointment is None or appointment.therapist.user_id != actor.id:
        audit.record(session, actor, denied, "appointment", appointment_id)
        raise NotFound(NOT_FOUND)
    return appointment


def session_detail(session: Session, actor: User, appointment_id: int) -> SessionView:
    """One session in full, for its therapist only (everyone else: not found, and the attempt audited)."""
    appointment = _own_appointment(session, actor, appointment_id, "session.read_denied")
    audit.record(session, actor, "session.read", "appointment", appointment.id)
    return _views(session, [appointment])[0]


def mark_attendance(
    session: Session, actor: User, appointment_id: int, attendance: AttendanceRequest, now: datetime
) -> Appointment:
    """Record that a started session was given (completed) or that the patient did not come (no_show).

    Only the session's therapist may; only a booked session; only once it has started. When every
    session of its course is settled and at least one was given, the course is completed.
    """
    new_status = attendance.outcome
    appointment = _own_appointment(session, actor, appointment_id, "session.attendance_denied")
    if appointment.status is not AppointmentStatus.BOOKED:
        raise SessionNotBooked(
            f"This session is {appointment.status.value.replace('_', ' ')}, so its attendance cannot be "
            "changed here.",
            {"status": appointment.status.value},
        )
    if appointment.starts_at > now:
        raise SessionNotStarted(
            "This session has not started yet. Mark it completed or no-show once it has begun.",
            {"starts_at": appointment.starts_at.isoformat()},
        )
    swapped = session.execute(
        update(Appointment)
        .where(Appointment.id == appointment.id, Appointment.status == AppointmentStatus.BOOKED)
        .values(status=new_status, updated_at=now)
        .execution_options(synchronize_session=False)
    )
    if swapped.rowcount != 1:  # someone else marked or cancelled it since we read it
        raise Conflict("This session was changed a moment ago; reload the page to see its status.")
    session.refresh(appointment)
    if appointment.course_id is not None:
        _settle_course(session, appointment.course_id)
    audit.record(session, actor, f"session.{new_status.value}", "appointment", appointment.id)
    return appointment


def _settle_course(session: Session, course_id: int) -> None:
    """Complete a course once nothing in it is left to happen and at least one session was given. (A
    course of only no-shows and cancellations stays as it is, for the therapist and patient to sort out.)"""
    statuses = set(session.scalars(select(Appointment.status).where(Appointment.course_id == course_id)))
    if statuses <= _SETTLED and AppointmentStatus.COMPLETED in statuses:
        course = session.get(Course, course_id)
        if course is not None and course.status is CourseStatus.BOOKED:
            course.status = CourseStatus.COMPLETED
            session.flush()
