"""A therapist sets weekly hours and a day off, and the open times on their public page follow, in a real
browser against the real app.

Locators go by role and accessible name or by label, as a screen reader would find things: every time
input of the week editor must say which day and which interval it is. Dates are relative to today in the
practice's zone, past the default 24 hours of notice and inside the 7 days the public page lists first.
The Content-Security-Policy (scripts and styles from 'self' only) must not block anything on the way.
"""

from __future__ import annotations

import re
from datetime import date, datetime, time, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from playwright.sync_api import Page, expect

from massage_booking import create_app
from massage_booking.extensions import db
from massage_booking.models import GeocodePrecision, PracticeLocation, Role, TherapistProfile
from massage_booking.services import accounts

ARTIFACTS_DIR = Path(__file__).resolve().parents[1] / "artifacts"  # git-ignored
NEW_YORK = ZoneInfo("America/New_York")
EMAIL = "dana.reyes@example.org"
PASSWORD = "a long enough password"
WEEKDAY_NAMES = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday")


@pytest.fixture
def therapist_server(live_server: str, tmp_path: Path) -> str:
    """The live server, its database (the fixture's tmp_path/live.sqlite3) holding a therapist with a
    practice in New York and no hours yet."""
    app = create_app("testing", {"SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp_path / 'live.sqlite3'}"})
    with app.app_context():
        user = accounts.register(
            db.session, email=EMAIL, password=PASSWORD, display_name="Dana Reyes", role=Role.THERAPIST
        )
        profile = TherapistProfile(
            user=user,
            name="Dana Reyes",
            license_number="MT-012345",
            license_state="NY",
            license_expires_on=date.today() + timedelta(days=400),
            session_rate_cents=13500,
        )
        profile.locations.append(
            PracticeLocation(
                city="New York",
                state="NY",
                zip_code="10016",
                latitude=40.7459,
                longitude=-73.9781,
                time_zone="America/New_York",
                geocode_precision=GeocodePrecision.ZIP,
            )
        )
        db.session.add(profile)
        db.session.commit()
        db.engine.dispose()
    return live_server


def day_heading(day: date) -> str:
    return f"{day:%A} {day.day} {day:%B}"


def open_weekdays() -> list[date]:
    """Weekdays the public page's first 7 days will show times on: past the 24 hours of notice."""
    today = datetime.now(NEW_YORK).date()
    return [today + timedelta(days=n) for n in range(2, 7) if (today + timedelta(days=n)).weekday() < 5]


def times_of(page: Page, day: date):
    return page.get_by_role("list", name=day_heading(day)).get_by_role("listitem")


def test_therapist_sets_hours_and_a_day_off_and_the_public_times_follow(
    therapist_server: str, page: Page, console_errors: list[str]
):
    base = therapist_server
    page.goto(base + "/login")
    page.get_by_label("E-mail").fill(EMAIL)
    page.get_by_label("Password", exact=True).fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()

    nav = page.get_by_role("navigation", name="Main")
    nav.get_by_role("link", name="Availability").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("My availability")
    expect(page.get_by_text("All times are in America/New_York")).to_be_visible()
    expect(page.get_by_role("status").first).to_contain_text("Patients cannot book any time with you yet")

    # The script's "Add another time" adds a labelled row (and is not blocked by the CSP).
    saturday = page.get_by_role("group", name="Saturday")
    saturday.get_by_role("button", name="Add another time on Saturday").click()
    expect(page.get_by_label("Saturday, hours 3, from")).to_be_focused()

    for name in WEEKDAY_NAMES:
        page.get_by_label(f"{name}, hours 1, from").fill("09:00")
        page.get_by_label(f"{name}, hours 1, to").fill("17:00")
    page.get_by_label("Offer start times every").select_option("60")
    page.get_by_role("button", name="Save hours and booking rules").click()

    expect(page.get_by_role("status").first).to_contain_text("Saved. The soonest time patients can book is")
    expect(page.get_by_label("Monday, hours 1, from")).to_have_value("09:00")
    expect(page.get_by_label("Friday, hours 1, to")).to_have_value("17:00")
    ARTIFACTS_DIR.mkdir(exist_ok=True)
    page.screenshot(path=ARTIFACTS_DIR / "availability_flow_editor.png", full_page=True)

    # The public page lists the hours, 09:00 to 16:00 (the last 60-minute start), on each weekday shown.
    weekdays = open_weekdays()
    day_off, other_day = weekdays[0], weekdays[-1]
    assert day_off != other_day
    zone = datetime.combine(day_off, time(9), NEW_YORK).tzname()
    nav.get_by_role("link", name="Public page").click()
    expect(page.get_by_role("heading", name="Next available times")).to_be_visible()
    for day in (day_off, other_day):
        expect(page.get_by_role("heading", name=day_heading(day))).to_be_visible()
        expect(times_of(page, day)).to_have_count(8)
        expect(times_of(page, day).first).to_have_text(f"9:00 AM {zone}")
    page.screenshot(path=ARTIFACTS_DIR / "availability_flow_public_times.png", full_page=True)

    # A day off on one of those days.
    nav.get_by_role("link", name="Availability").click()
    days_off = page.get_by_role("form", name="Add whole days off")
    days_off.get_by_label("First day off").fill(day_off.isoformat())
    days_off.get_by_label("Note for yourself (optional)").fill("Conference")
    days_off.get_by_role("button", name="Add days off").click()
    when = f"{day_off:%a} {day_off.day} {day_off:%b} {day_off.year}, all day"
    expect(page.get_by_role("status").first).to_contain_text(f"Time off added: {when}.")
    upcoming = page.get_by_role("list", name="Upcoming time off")
    expect(upcoming).to_contain_text(when)
    expect(upcoming).to_contain_text("Conference")

    nav.get_by_role("link", name="Public page").click()
    expect(page.get_by_role("heading", name=day_heading(other_day))).to_be_visible()
    expect(page.get_by_role("heading", name=day_heading(day_off))).to_have_count(0)
    expect(times_of(page, other_day)).to_have_count(8)

    # The calendar shows the day off in its week.
    nav.get_by_role("link", name="Calendar").click()
    page.goto(base + f"/me/calendar?week={day_off.isoformat()}")
    expect(page.get_by_role("status")).to_have_text("No sessions this week")
    expect(page.get_by_text(re.compile(r"All day.*Time off: Conference")).first).to_be_visible()
    page.screenshot(path=ARTIFACTS_DIR / "availability_flow_calendar.png", full_page=True)

    # Removing the day off takes a confirmation, and the times come back.
    nav.get_by_role("link", name="Availability").click()
    entry = page.get_by_role("list", name="Upcoming time off").get_by_role("listitem").first
    confirm = entry.get_by_role("button", name=re.compile(r"^Yes, remove time off"))
    expect(confirm).to_be_hidden()
    entry.locator("summary").click()
    expect(confirm).to_be_visible()
    page.screenshot(path=ARTIFACTS_DIR / "availability_flow_confirm_remove.png", full_page=False)
    confirm.click()
    expect(page.get_by_role("status").first).to_contain_text("Time off removed.")
    nav.get_by_role("link", name="Public page").click()
    expect(times_of(page, day_off)).to_have_count(8)

    assert console_errors == []


def test_a_mistake_is_shown_beside_the_field_on_a_phone_without_javascript(therapist_server: str, browser):
    context = browser.new_context(java_script_enabled=False, viewport={"width": 390, "height": 844})
    try:
        page = context.new_page()
        page.goto(therapist_server + "/login")
        page.get_by_label("E-mail").fill(EMAIL)
        page.get_by_label("Password", exact=True).fill(PASSWORD)
        page.get_by_role("button", name="Log in").click()
        page.goto(therapist_server + "/me/availability")
        expect(page.get_by_role("button", name=re.compile("Add another time"))).to_have_count(0)
        page.get_by_label("Tuesday, hours 1, from").fill("17:00")
        page.get_by_label("Tuesday, hours 1, to").fill("09:00")
        page.get_by_role("button", name="Save hours and booking rules").click()

        field = page.get_by_label("Tuesday, hours 1, to")
        expect(field).to_have_attribute("aria-invalid", "true")
        expect(page.get_by_role("alert")).to_contain_text(
            "Tuesday, hours 1, to: The end must be after the start"
        )
        expect(field).to_have_accessible_description(re.compile("The end must be after the start"))
        ARTIFACTS_DIR.mkdir(exist_ok=True)
        page.screenshot(path=ARTIFACTS_DIR / "availability_flow_error_phone.png", full_page=True)
    finally:
        context.close()
