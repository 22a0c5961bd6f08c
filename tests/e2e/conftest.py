"""Fixtures the browser tests share: the booking server (a patient and a bookable, oncology-trained therapist
on the live server) and the console errors a page reports. Other shared pieces are in tests/e2e/browser.py."""

from __future__ import annotations

from datetime import date, time, timedelta
from pathlib import Path

import pytest
from playwright.sync_api import ConsoleMessage, Page

from massage_booking import create_app
from massage_booking.extensions import db
from massage_booking.models import (
    AvailabilitySettings,
    GeocodePrecision,
    PracticeLocation,
    Role,
    TherapistProfile,
    WeeklyHours,
)
from massage_booking.services import accounts
from tests.e2e.browser import PASSWORD, PATIENT
from tests.factories import verified_oncology_credential


@pytest.fixture
def booking_server(live_server: str, tmp_path: Path) -> tuple[str, int]:
    """The live server with a patient account and an oncology-trained therapist in New York who works
    every day 08:00-20:00 (no minimum notice). Yields (base URL, therapist id)."""
    app = create_app("testing", {"SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp_path / 'live.sqlite3'}"})
    with app.app_context():
        accounts.register(
            db.session, email=PATIENT, password=PASSWORD, display_name="Pat Kim", role=Role.PATIENT
        )
        user = accounts.register(
            db.session,
            email="dana.reyes@example.org",
            password=PASSWORD,
            display_name="Dana Reyes",
            role=Role.THERAPIST,
        )
        today = date.today()
        profile = TherapistProfile(
            user=user,
            name="Dana Reyes",
            license_number="MT-012345",
            license_state="NY",
            license_expires_on=today + timedelta(days=400),
            session_rate_cents=13500,
        )
        location = PracticeLocation(
            address_line1="350 Fifth Avenue",
            city="New York",
            state="NY",
            zip_code="10001",
            latitude=40.7506,
            longitude=-73.9972,
            time_zone="America/New_York",
            geocode_precision=GeocodePrecision.ZIP,
        )
        profile.locations.append(location)
        profile.credentials.append(verified_oncology_credential(today))
        db.session.add(profile)
        db.session.flush()
        db.session.add(
            AvailabilitySettings(
                therapist_id=profile.id,
                min_notice_hours=0,
                slot_step_minutes=30,
                session_lengths=[30, 60, 90],
            )
        )
        db.session.add_all(
            WeeklyHours(location_id=location.id, weekday=d, starts_at=time(8), ends_at=time(20))
            for d in range(7)
        )
        db.session.commit()
        therapist_id = profile.id
        db.engine.dispose()
    return live_server, therapist_id


@pytest.fixture
def console_errors(page: Page) -> list[str]:
    """Console errors and CSP violations the page reports; a blocked script or style shows up here."""
    errors: list[str] = []

    def record(message: ConsoleMessage) -> None:
        if message.type == "error":
            errors.append(message.text)

    page.on("console", record)
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    return errors
