"""The demo patient books "3 a week" starting on a Friday with the demo therapist, in a real browser on the
real demo data (`seed_demo`, as `make run` has it).

Before the course planner, the course was laid out Fri / Sun / Tue from the first session: the demo
therapist works Monday to Saturday, so Sunday sessions showed as "Taken" on the review. Now every proposed
course keeps one local time on days the therapist works, and the review has no taken row. Screenshots land
in tests/artifacts/ (git-ignored): course_proposals_*.png.
"""

from __future__ import annotations

import re
from datetime import datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from playwright.sync_api import Page, expect

from massage_booking import create_app
from massage_booking.demo.data import DEMO_LOGINS, seed_demo
from massage_booking.extensions import db

ARTIFACTS_DIR = Path(__file__).resolve().parents[1] / "artifacts"
NEW_YORK = ZoneInfo("America/New_York")
PATIENT = DEMO_LOGINS[0]
DEMO_THERAPIST = "Dana Whitfield"


@pytest.fixture
def demo_server(live_server: str, tmp_path: Path) -> str:
    app = create_app("testing", {"SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp_path / 'live.sqlite3'}"})
    with app.app_context():
        seed_demo(db.session, 20)
        db.session.commit()
        db.engine.dispose()
    return live_server


def shot(page: Page, name: str) -> None:
    ARTIFACTS_DIR.mkdir(exist_ok=True)
    page.screenshot(path=ARTIFACTS_DIR / f"course_proposals_{name}.png", full_page=True)


def test_the_demo_patient_books_three_a_week_from_a_friday_on_days_the_therapist_works(
    demo_server: str, page: Page
):
    base = demo_server
    errors: list[str] = []
    page.on("console", lambda message: errors.append(message.text) if message.type == "error" else None)
    page.goto(base + "/login")
    page.get_by_label("E-mail").fill(PATIENT.email)
    page.get_by_label("Password", exact=True).fill(PATIENT.password)
    page.get_by_role("button", name="Log in").click()

    page.goto(base + "/therapists?near=10016")
    page.get_by_role("link", name=DEMO_THERAPIST).first.click()
    page.get_by_role("link", name=f"Book a course with {DEMO_THERAPIST}").click()
    page.get_by_label("Condition", exact=True).select_option(label="Chronic neck pain")
    page.get_by_role("group", name="Have you ever had cancer?").get_by_label("Yes").check()
    page.get_by_label("Where are you in cancer treatment?").select_option(index=1)
    page.get_by_role("button", name="Continue: your plan").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Your plan: Chronic neck pain")
    page.get_by_label("How often").select_option(label="Three times a week")
    page.get_by_role("button", name="Continue: choose a therapist").click()

    expect(page.get_by_role("heading", level=1)).to_have_text(f"Choose your times with {DEMO_THERAPIST}")
    today = datetime.now(NEW_YORK).date()
    friday = today + timedelta(days=3) + timedelta(days=(4 - (today + timedelta(days=3)).weekday()) % 7)
    page.get_by_label("Start on or after").fill(friday.isoformat())
    page.get_by_role("button", name="Find courses").click()
    cards = page.locator(".proposal-card")
    expect(cards.first).to_be_visible()
    assert cards.count() == 3
    for n in range(cards.count()):
        title = cards.nth(n).locator("h3").inner_text()
        assert "Sunday" not in title, title
        assert re.search(r" at \d{1,2}:\d\d [AP]M$", title), title  # one local time
    shot(page, "proposals")
    first_title = cards.first.locator("h3").inner_text()
    cards.first.get_by_role("button", name=re.compile("^Choose this course")).click()

    expect(page.get_by_role("heading", level=1)).to_have_text("Review your course")
    sessions = page.locator(".care-sessions > li")
    expect(sessions).to_have_count(8)
    texts = sessions.all_inner_texts()
    assert not [t for t in texts if "Taken" in t or "not free" in t.lower()], texts
    assert not [t for t in texts if "Sunday" in t], texts
    clock = first_title.rsplit(" at ", 1)[1]
    assert all(clock in t for t in texts), (clock, texts)  # the same local time every session
    shot(page, "review")
    page.get_by_role("button", name=re.compile(r"^Book all 8 sessions")).click()
    expect(page.get_by_role("status").first).to_contain_text(f"8 sessions with {DEMO_THERAPIST}")
    shot(page, "booked")
    assert errors == []
