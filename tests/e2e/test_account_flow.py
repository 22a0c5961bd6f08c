"""A patient registers, logs out and logs back in, in a real browser against the real app.

Locators go by role and accessible name or by label, as a screen reader would find things: if a field
loses its label or a button its name, this test fails.
"""

from __future__ import annotations

import re
from pathlib import Path

from playwright.sync_api import Page, expect

ARTIFACTS_DIR = Path(__file__).resolve().parents[1] / "artifacts"  # git-ignored

NAME = "Rosa Patient"
EMAIL = "rosa.patient@example.org"
PASSWORD = "a long enough password"


def test_patient_registers_logs_out_and_logs_back_in(live_server: str, page: Page):
    page.goto(live_server + "/")
    nav = page.get_by_role("navigation", name="Main")
    nav.get_by_role("link", name="Register").click()

    expect(page.get_by_role("heading", name="Create an account")).to_be_visible()
    page.get_by_label("Your name").fill(NAME)
    page.get_by_label("E-mail").fill(EMAIL)
    page.get_by_label(re.compile(r"^Password")).fill(PASSWORD)
    page.get_by_label("Repeat the password").fill(PASSWORD)
    page.get_by_role("radio", name=re.compile("patient")).check()
    page.get_by_role("button", name="Create account").click()

    expect(nav).to_contain_text(NAME)
    expect(page.locator("[data-role=patient]")).to_have_text(NAME)

    nav.get_by_role("button", name="Log out").click()
    expect(page.get_by_role("status")).to_contain_text("logged out")
    expect(nav).not_to_contain_text(NAME)

    nav.get_by_role("link", name="Log in").click()
    expect(page.get_by_role("heading", name="Log in")).to_be_visible()
    page.get_by_label("E-mail").fill(EMAIL)
    page.get_by_label("Password", exact=True).fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()

    expect(page.locator("[data-role=patient]")).to_have_text(NAME)
    expect(nav.get_by_role("link", name="Find a therapist")).to_be_visible()
    expect(nav.get_by_role("button", name="Log out")).to_be_visible()
    ARTIFACTS_DIR.mkdir(exist_ok=True)
    page.screenshot(path=ARTIFACTS_DIR / "account_flow_patient_logged_in.png", full_page=True)


def test_wrong_password_shows_an_alert_and_stays_logged_out(live_server: str, page: Page):
    page.goto(live_server + "/login")
    page.get_by_label("E-mail").fill("nobody@example.org")
    page.get_by_label("Password", exact=True).fill("not the password")
    page.get_by_role("button", name="Log in").click()
    expect(page.get_by_role("alert")).to_contain_text("incorrect")
    expect(page.locator("[data-role]")).to_have_count(0)
