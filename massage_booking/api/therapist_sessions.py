"""A therapist's sessions over the API: the coming days with each patient's precautions, and attendance.

GET  /api/v1/me/sessions?days=14              therapist: booked sessions not yet over, earliest first
POST /api/v1/appointments/{id}/attendance     therapist of that session: {"status": "completed"|"no_show"}

Both read health data (precautions, condition), so the service checks and audits every call; someone
else's session is a 404 whose audit record is committed before the error leaves (`keeps_denials`).
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any
from zoneinfo import ZoneInfo

from flask import request

from massage_booking.api import bp
from massage_booking.api.support import json_object, token_required
from massage_booking.denials import keeps_denials
from massage_booking.domain.errors import ValidationFailed
from massage_booking.extensions import db
from massage_booking.models import Role, User
from massage_booking.services import availability, sessions
from massage_booking.services.sessions import SessionView

DEFAULT_DAYS = 14


def _now() -> datetime:
    return datetime.now(UTC)


def session_view_json(view: SessionView, now: datetime) -> dict[str, Any]:
    """A session as its therapist needs it: times with the practice's offset, the patient's name, where it
    falls in the course, and the precautions and clearance that travel with it."""
    zone = ZoneInfo(view.time_zone)
    return {
        "id": view.id,
        "start": view.starts_at.astimezone(zone).isoformat(),
        "end": view.ends_at.astimezone(zone).isoformat(),
        "minutes": view.minutes,
        "time_zone": view.time_zone,
        "status": view.status.value,
        "can_mark_attendance": view.can_mark(now),
        "patient": {"id": view.appointment.patient_id, "name": view.patient_name},
        "course": None
        if view.course_id is None
        else {
            "id": view.course_id,
            "condition": view.condition_name,
            "session_number": view.session_number,
            "total_sessions": view.total_sessions,
        },
        "session_notes": list(view.session_notes),
        "clearance_needed": [
            {"code": g.get("code"), "message": g.get("message")} for g in view.clearance_needed
        ],
    }


def _days(raw: str | None) -> int:
    if raw is None or raw == "":
        return DEFAULT_DAYS
    text = raw.strip()
    if not (text.isascii() and text.isdigit()) or len(text) > 3:
        raise ValidationFailed.for_field("days", f"Give a number of days from 1 to {sessions.MAX_DAYS}.")
    return int(text)


@bp.get("/me/sessions")
@token_required(Role.THERAPIST)
def my_sessions(user: User) -> Any:
    """Booked sessions from now to `days` ahead (default 14, at most 92), each with its precautions."""
    now = _now()
    days = _days(request.args.get("days"))
    found = sessions.upcoming_sessions(db.session, user, now, days)
    zone = availability.own_profile(db.session, user).locations[0].time_zone
    db.session.commit()  # the audit record of this read
    return {
        "time_zone": zone,
        "days": days,
        "sessions": [session_view_json(v, now) for v in found],
    }


@bp.post("/appointments/<int:appointment_id>/attendance")
@token_required(Role.THERAPIST)
@keeps_denials
def mark_attendance(appointment_id: int, user: User) -> Any:
    """Mark a started, booked session completed or no-show; 422 before it starts or once it is marked."""
    status = sessions.parse_status(json_object().get("status"))
    now = _now()
    sessions.mark_attendance(db.session, user, appointment_id, status, now)
    view = sessions.session_detail(db.session, user, appointment_id)
    body = session_view_json(view, now)
    course = view.appointment.course
    body["course_status"] = course.status.value if course is not None else None
    db.session.commit()
    return body
