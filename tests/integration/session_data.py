"""Test data for the therapist's sessions: an oncology-trained therapist who works every day 08:00-20:00 in
New York with no minimum notice, and a patient whose course is booked through the real services (intake,
then `book_course`), so each session carries the precautions and clearance the intake implies.

The course starts tomorrow at 10:00 New York time, Mon/Thu-style every 3-4 days (the neck-pain plan: 8
sessions, 2 a week): sessions 1-4 fall within the next 14 days, 5-8 after. Attendance needs a session that
has started; tests move one into the past directly in the database (`move_to_past`).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.orm import Session

from massage_booking.extensions import links
from massage_booking.models import (
    Appointment,
    AvailabilitySettings,
    TherapistProfile,
    User,
    WeeklyHours,
)
from massage_booking.schemas.intakes import IntakeRequest
from massage_booking.schemas.parse import parse_body
from massage_booking.services import courses, intake
from tests.factories import practice_therapist

NEW_YORK = ZoneInfo("America/New_York")
WITH_PRECAUTIONS = {
    "condition": "chronic neck pain",
    "cancer_history": True,
    "treatment_phase": "survivorship",
    "precautions": ["bone_metastases", "recent_surgery"],
}
PLAIN = {
    "condition": "chronic neck pain",
    "cancer_history": False,
    "treatment_phase": "none",
    "precautions": [],
}
# Words from the notes and the condition that must never appear in an audit record's details.
HEALTH_WORDS = ("bone", "pressure", "surgery", "clearance", "neck", "metasta", "incision")


def make_therapist(auth, db: Session, name: str = "Tess Oncology", *, zip_code: str = "10001") -> User:
    """A committed therapist user with a trained, bookable practice in New York (open every day 8-20)."""
    profile, user = practice_therapist(auth, db, name, trained=True, zip_code=zip_code)
    location = profile.locations[0]
    db.add(
        AvailabilitySettings(
            therapist_id=profile.id, min_notice_hours=0, buffer_after_minutes=15, session_lengths=[60, 90]
        )
    )
    db.add_all(
        WeeklyHours(location_id=location.id, weekday=d, starts_at=time(8), ends_at=time(20)) for d in range(7)
    )
    db.commit()
    return user


def tomorrow_10() -> datetime:
    return datetime.combine(datetime.now(NEW_YORK).date() + timedelta(days=1), time(10), NEW_YORK)


@dataclass
class Booked:
    course_id: int
    appointment_ids: list[int]  # in session order


def book(db: Session, patient: User, therapist: User, answers: dict = WITH_PRECAUTIONS) -> Booked:
    """Book an 8-session course from tomorrow 10:00 through the real services, and commit."""
    now = datetime.now(UTC)
    profile = db.scalar(select(TherapistProfile).where(TherapistProfile.user_id == therapist.id))
    row = intake.record_intake(
        db, patient, parse_body(IntakeRequest, answers, {"today": now.date()}).answers()
    )
    course = courses.book_course(
        db,
        patient,
        courses.CourseRequest(intake_id=row.id, therapist_id=profile.id, first_start=tomorrow_10()),
        now,
        links=links(),
    )
    db.commit()
    ids = [a.id for a in courses.sessions_of(db, course)]
    return Booked(course.id, ids)


def move_to_past(db: Session, appointment_id: int, *, hours_ago: float = 2, minutes: int = 60) -> None:
    """Make a session start `hours_ago` hours ago (as if it had happened), directly in the database."""
    appointment = db.get(Appointment, appointment_id)
    assert appointment is not None
    appointment.starts_at = datetime.now(UTC) - timedelta(hours=hours_ago)
    appointment.ends_at = appointment.starts_at + timedelta(minutes=minutes)
    db.commit()
