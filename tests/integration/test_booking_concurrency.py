"""Twenty patients book overlapping courses with one therapist at the same instant: exactly one wins.

This is the invariant "a therapist is never double-booked", proven the way it fails in practice
(DESIGN.md, "Known traps": check-then-insert double-booked 17 of 20 rounds on SQLite and 192 of 20 slots
on PostgreSQL). It runs on a real file database (SQLite) or a new PostgreSQL database, migrated with the
project's migrations, with one thread and one database session per booker released together by a barrier.
"""

from __future__ import annotations

import threading
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from flask_migrate import upgrade
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError

from massage_booking import create_app
from massage_booking.domain.errors import Conflict
from massage_booking.extensions import db, links
from massage_booking.models import (
    Appointment,
    AvailabilitySettings,
    Course,
    GeocodePrecision,
    PracticeLocation,
    Role,
    TherapistProfile,
    User,
    WeeklyHours,
)
from massage_booking.schemas.intakes import IntakeRequest
from massage_booking.schemas.parse import parse_body
from massage_booking.services import courses, intake

BOOKERS = 20
NEW_YORK = ZoneInfo("America/New_York")
NECK = {
    "condition": "chronic_neck_pain",
    "cancer_history": False,
    "treatment_phase": "none",
    "precautions": [],
}


@pytest.fixture
def booking_app(fresh_database_url):
    # One connection per booker, all open at once (the default pool holds 15).
    engine_options = {"pool_pre_ping": True, "pool_size": BOOKERS + 2, "max_overflow": 0}
    app = create_app(
        "testing",
        {"SQLALCHEMY_DATABASE_URI": fresh_database_url, "SQLALCHEMY_ENGINE_OPTIONS": engine_options},
    )
    with app.app_context():
        upgrade()
    yield app
    with app.app_context():
        db.session.remove()
        db.engine.dispose()


def _seed(app) -> tuple[int, list[tuple[int, int]]]:
    """A therapist open every day 08:00-20:00 and BOOKERS patients with an intake each."""
    with app.app_context():
        session = db.session
        therapist_user = User(email="t@example.org", password_hash="x", role=Role.THERAPIST, display_name="T")
        session.add(therapist_user)
        session.flush()
        profile = TherapistProfile(
            user_id=therapist_user.id,
            name="Dana Reyes",
            license_number="MT-1",
            license_state="NY",
            license_expires_on=date.today() + timedelta(days=365),
            session_rate_cents=12000,
        )
        location = PracticeLocation(
            city="New York",
            state="NY",
            zip_code="10001",
            latitude=40.75,
            longitude=-73.99,
            time_zone="America/New_York",
            geocode_precision=GeocodePrecision.ZIP,
        )
        profile.locations.append(location)
        session.add(profile)
        session.flush()
        session.add(AvailabilitySettings(therapist_id=profile.id, min_notice_hours=0, session_lengths=[60]))
        session.add_all(
            WeeklyHours(location_id=location.id, weekday=d, starts_at=time(8), ends_at=time(20))
            for d in range(7)
        )
        bookers = []
        for n in range(BOOKERS):
            patient = User(
                email=f"p{n}@example.org", password_hash="x", role=Role.PATIENT, display_name=f"P{n}"
            )
            session.add(patient)
            session.flush()
            bookers.append(
                (
                    patient.id,
                    intake.record_intake(session, patient, parse_body(IntakeRequest, NECK).answers()).id,
                )
            )
        session.commit()
        return profile.id, bookers


def _first_start(n: int) -> datetime:
    """Booker n's first session: Monday a week or more ahead at 10:00, 10:15, 10:30 or 10:45, so every
    course overlaps every other one (60-minute sessions, the same Mon/Thu cadence)."""
    today = datetime.now(NEW_YORK).date()
    monday = today + timedelta(days=7 + (7 - today.weekday()) % 7)
    return datetime.combine(monday, time(10, 15 * (n % 4)), NEW_YORK)


def test_twenty_parallel_bookers_exactly_one_wins_and_no_partial_course(booking_app):
    therapist_id, bookers = _seed(booking_app)
    barrier = threading.Barrier(BOOKERS)
    outcomes: list[str] = []
    lock = threading.Lock()

    def book(n: int, patient_id: int, intake_id: int) -> None:
        with booking_app.app_context():
            session = db.session
            patient = session.get(User, patient_id)
            request = courses.CourseRequest(
                intake_id=intake_id, therapist_id=therapist_id, first_start=_first_start(n)
            )
            barrier.wait(timeout=30)
            try:
                courses.book_course(session, patient, request, datetime.now(UTC), links=links())
                session.commit()
                outcome = "won"
            except Conflict:
                session.rollback()
                outcome = "409"
            except Exception as error:  # anything else is a failure of the invariant's machinery
                session.rollback()
                outcome = f"error: {type(error).__name__}: {error}"
        with lock:
            outcomes.append(outcome)

    threads = [threading.Thread(target=book, args=(n, *b)) for n, b in enumerate(bookers)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert len(outcomes) == BOOKERS, outcomes
    assert sorted(outcomes) == ["409"] * (BOOKERS - 1) + ["won"], outcomes

    with booking_app.app_context():
        session = db.session
        assert session.scalar(select(func.count()).select_from(Course)) == 1
        rows = session.scalars(select(Appointment).order_by(Appointment.starts_at)).all()
        assert len(rows) == 8  # the winner's whole course, and nothing of anyone else's
        assert len({a.course_id for a in rows}) == 1
        for earlier, later in zip(rows, rows[1:], strict=False):
            assert earlier.ends_at <= later.starts_at


def test_the_database_itself_refuses_overlapping_appointments_on_postgresql(booking_app):
    """The backstop for any code that skips the booking lock. SQLite has no exclusion constraints: there
    the lock in services/courses.py is the only guard, and the test above proves it holds."""
    therapist_id, bookers = _seed(booking_app)
    with booking_app.app_context():
        session = db.session
        location_id = session.scalar(select(PracticeLocation.id))
        start = _first_start(0)
        for offset in (0, 30):  # the second overlaps the first by 30 minutes
            session.add(
                Appointment(
                    therapist_id=therapist_id,
                    location_id=location_id,
                    patient_id=bookers[offset // 30][0],
                    starts_at=start + timedelta(minutes=offset),
                    ends_at=start + timedelta(minutes=offset + 60),
                )
            )
        if db.engine.dialect.name == "postgresql":
            with pytest.raises(IntegrityError, match="appointments_no_overlap"):
                session.commit()
            session.rollback()
            assert session.scalar(select(func.count()).select_from(Appointment)) == 0
        else:
            session.commit()  # documented: nothing in SQLite stops a writer that bypasses the lock
            assert session.scalar(select(func.count()).select_from(Appointment)) == 2
