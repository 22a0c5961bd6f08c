"""A therapist's sessions over the API: the coming days with each patient's precautions, and attendance.

GET  /api/v1/me/sessions?days=14              therapist: booked sessions not yet over, earliest first
POST /api/v1/appointments/{id}/attendance     therapist of that session: {"status": "completed"|"no_show"}

Both read health data (precautions, condition), so the service checks and audits every call; someone
else's session is a 404 whose audit record is committed before the error leaves (transactions.atomic).
"""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

from massage_booking.api.contract import Reply, operation
from massage_booking.extensions import db
from massage_booking.models import Role, User, utcnow
from massage_booking.schemas.replies import VALIDATION
from massage_booking.schemas.sessions import (
    AttendanceRecorded,
    AttendanceRequest,
    SessionClearance,
    SessionCourse,
    SessionPatient,
    SessionsQuery,
    SessionView,
    UpcomingSessions,
)
from massage_booking.services import availability, sessions

THERAPIST = (Role.THERAPIST.value,)


def session_fields(view: sessions.SessionView, now: datetime) -> dict[str, object]:
    """A session as its therapist needs it: times with the practice's offset, the patient's name, where it
    falls in the course, and the precautions and clearance that travel with it."""
    zone = ZoneInfo(view.time_zone)
    return {
        "id": view.id,
        "start": view.starts_at.astimezone(zone),
        "end": view.ends_at.astimezone(zone),
        "minutes": view.minutes,
        "time_zone": view.time_zone,
        "status": view.status,
        "can_mark_attendance": view.can_mark(now),
        "patient": SessionPatient(id=view.appointment.patient_id, name=view.patient_name),
        "course": None
        if view.course_id is None
        else SessionCourse(
            id=view.course_id,
            condition=view.condition_name,
            session_number=view.session_number,
            total_sessions=view.total_sessions,
        ),
        "session_notes": list(view.session_notes),
        "clearance_needed": [
            SessionClearance(code=g.get("code"), message=g.get("message")) for g in view.clearance_needed
        ],
    }


@operation(
    "GET",
    "/me/sessions",
    operation_id="mySessions",
    tag="Therapist schedule",
    summary="Your coming sessions",
    description="Booked sessions not yet over, earliest first, each with its precautions.",
    roles=THERAPIST,
    query=SessionsQuery,
    responses={
        200: Reply("The sessions.", UpcomingSessions),
        404: "Create your practice first.",
        422: VALIDATION,
    },
)
def my_sessions(user: User, query: SessionsQuery) -> UpcomingSessions:
    """Booked sessions from now to `days` ahead (default 14, at most 92), each with its precautions."""
    now = utcnow()
    found = sessions.upcoming_sessions(db.session, user, now, query.days)
    zone = availability.own_profile(db.session, user).locations[0].time_zone
    return UpcomingSessions(
        time_zone=zone, days=query.days, sessions=[SessionView(**session_fields(v, now)) for v in found]
    )


@operation(
    "POST",
    "/appointments/<int:appointment_id>/attendance",
    operation_id="markAttendance",
    tag="Appointments",
    summary="Record attendance",
    description="The session's therapist marks a started, booked session completed or no-show.",
    roles=THERAPIST,
    path={"appointment_id": "The session."},
    body=AttendanceRequest,
    body_description="What happened.",
    example={"status": "completed"},
    responses={
        200: Reply("The session, and its course's status.", AttendanceRecorded),
        404: "You have no session with that id.",
        422: "A bad status, a session not yet started, or one already marked.",
    },
)
def mark_attendance(appointment_id: int, user: User, body: AttendanceRequest) -> AttendanceRecorded:
    """Mark a started, booked session completed or no-show; 422 before it starts or once it is marked."""
    now = utcnow()
    sessions.mark_attendance(db.session, user, appointment_id, body, now)
    view = sessions.session_detail(db.session, user, appointment_id)
    course = view.appointment.course
    marked = AttendanceRecorded(
        **session_fields(view, now), course_status=course.status if course is not None else None
    )
    return marked
