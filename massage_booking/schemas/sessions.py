"""A therapist's sessions: the window of GET /api/v1/me/sessions, the body of POST
/api/v1/appointments/{id}/attendance, and a session as its therapist needs it (times with the practice's
offset, the patient's name, its place in the course, and the precautions that travel with it)."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import Field, PlainValidator, WithJsonSchema
from pydantic_core import PydanticCustomError

from massage_booking.models import AppointmentStatus, CourseStatus
from massage_booking.schemas.base import QueryModel, RequestModel, ResponseModel, Says, Timestamp

DEFAULT_DAYS = 14
MAX_DAYS = 92  # the longest window one list covers, like GET /api/v1/me/appointments
DAYS_MESSAGE = f"Give a number of days from 1 to {MAX_DAYS}."
ATTENDANCE = {"completed": AppointmentStatus.COMPLETED, "no_show": AppointmentStatus.NO_SHOW}


def _days(raw: Any) -> int:
    digits = isinstance(raw, str) and raw.isascii() and raw.isdigit() and len(raw) <= 3
    if digits and 1 <= int(raw) <= MAX_DAYS:
        return int(raw)
    raise PydanticCustomError("invalid", DAYS_MESSAGE)


class SessionsQuery(QueryModel):
    days: Annotated[
        int, PlainValidator(_days), WithJsonSchema({"type": "integer", "minimum": 1, "maximum": MAX_DAYS})
    ] = Field(DEFAULT_DAYS, description=f"Days ahead, 1 to {MAX_DAYS} (default {DEFAULT_DAYS}).")


class AttendanceRequest(RequestModel):
    status: Annotated[
        Literal["completed", "no_show"], Says('Give the status as "completed" or "no_show".')
    ] = Field(description="What happened: the session was given, or the patient did not come.")

    @property
    def outcome(self) -> AppointmentStatus:
        return ATTENDANCE[self.status]


class SessionPatient(ResponseModel):
    id: int
    name: str


class SessionCourse(ResponseModel):
    id: int
    condition: str | None = Field(description="The condition's name.")
    session_number: int | None
    total_sessions: int | None


class SessionClearance(ResponseModel):
    """A physician's clearance still owed before the course's first session."""

    code: str | None
    message: str | None


class SessionView(ResponseModel):
    """A session as its therapist needs it, with the precautions that travel with it."""

    id: int
    start: Timestamp = Field(description="ISO 8601 with the practice's offset.")
    end: Timestamp = Field(description="ISO 8601 with the practice's offset.")
    minutes: int
    time_zone: str = Field(description="The practice location's IANA time zone.")
    status: AppointmentStatus
    can_mark_attendance: bool = Field(description="Booked and started: it can be marked now.")
    patient: SessionPatient
    course: SessionCourse | None = Field(description="Where it falls in its course; null outside one.")
    session_notes: list[str] = Field(description="The precautions every session carries, one clause each.")
    clearance_needed: list[SessionClearance]


class UpcomingSessions(ResponseModel):
    time_zone: str
    days: int
    sessions: list[SessionView]


class AttendanceRecorded(SessionView):
    """The session as marked, and its course's status (completed once nothing in it is left to happen)."""

    course_status: CourseStatus | None
