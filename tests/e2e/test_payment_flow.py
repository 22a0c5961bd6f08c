"""A patient books a course and pays for it by card in a real browser: the card form is Stripe.js's card
element as served by localstripe (STRIPE_JS_URL), the card goes from it to localstripe, and our server only
charges the PaymentMethod id it gets back. Then the course is confirmed, a declined card first shows its
reason, and nothing on the way is blocked by the Content-Security-Policy.
"""

from __future__ import annotations

import re
from datetime import datetime, time, timedelta

import pytest
from playwright.sync_api import Page, expect

from tests.e2e.browser import PASSWORD, PATIENT, shot
from tests.factories import NEW_YORK


@pytest.fixture
def live_overrides(stripe_settings):
    return dict(stripe_settings)


def _fill_card(page: Page, number: str) -> None:
    """localstripe's card element: plain inputs named by placeholder (Stripe's own uses iframes)."""
    form = page.locator("#card-element")
    form.get_by_placeholder("number").fill(number)
    form.get_by_placeholder("exp_month").fill("12")
    form.get_by_placeholder("exp_year").fill("31")
    form.get_by_placeholder("cvc").fill("123")
    form.get_by_placeholder("postal_code").fill("10001")


def test_a_patient_books_a_course_and_pays_by_card(
    booking_server: tuple[str, int], page: Page, console_errors: list[str]
):
    base, therapist_id = booking_server
    page.goto(base + "/login")
    page.get_by_label("E-mail").fill(PATIENT)
    page.get_by_label("Password", exact=True).fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()

    page.goto(f"{base}/therapists/{therapist_id}")
    page.get_by_role("link", name="Book a course with Dana Reyes").click()
    page.get_by_label("Condition", exact=True).select_option(label="Chronic neck pain")
    page.get_by_role("group", name="Have you ever had cancer?").get_by_label("No").check()
    page.get_by_role("button", name="Continue: your plan").click()
    page.get_by_role("button", name="Continue: choose a therapist").click()
    page.get_by_text("Or pick your first session yourself").click()  # below the proposed courses
    page.get_by_role("link", name=re.compile("Later: the next 7 days")).click()
    first_day = datetime.now(NEW_YORK).date() + timedelta(days=7)
    zone = datetime.combine(first_day, time(10), NEW_YORK).tzname()
    day = page.get_by_role("group", name=f"{first_day:%A}, {first_day:%B} {first_day.day}")
    day.get_by_role("radio", name=re.compile(rf"^10:00 AM {zone}\b")).check()
    page.get_by_role("button", name="Continue: review all sessions").click()
    expect(page.get_by_text("$135 a session × 8 = $1,080")).to_be_visible()
    expect(page.get_by_text("You pay by card on the next page")).to_be_visible()
    page.get_by_role("button", name="Book all 8 sessions").click()

    # The card page: the times are held while the patient pays.
    expect(page.get_by_role("heading", level=1)).to_have_text("Pay for your course")
    expect(page.get_by_text("Times held until")).to_be_visible()
    shot(page, "pay")

    # A card that Stripe declines: the reason, and the form again.
    _fill_card(page, "4000000000000002")
    page.get_by_role("button", name="Pay $1,080").click()
    expect(page.get_by_role("alert")).to_contain_text("Your card was declined.")
    shot(page, "declined")

    # 4242 4242 4242 4242 pays; the course is booked.
    page.reload()
    _fill_card(page, "4242424242424242")
    page.get_by_role("button", name="Pay $1,080").click()
    expect(page.get_by_role("status").first).to_contain_text(
        "Paid $1,080. Your 8 sessions with Dana Reyes are booked"
    )
    expect(page.locator(".care-summary")).to_contain_text("Booked")
    expect(page.locator(".care-payment")).to_contain_text(re.compile(r"Paid by card\s*\$1,080 on"))
    shot(page, "paid")
    # The only error is the declined card's 402 from Stripe's API: no CSP violation, no script error.
    assert [e for e in console_errors if "status of 402" not in e] == []
