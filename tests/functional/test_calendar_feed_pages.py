"""A therapist makes, uses and stops their calendar feed address through the real pages."""

from __future__ import annotations

import html
import re
from datetime import date, timedelta

import pytest
from icalendar import Calendar
from sqlalchemy import select

from massage_booking.models import AuditEvent, AvailabilitySettings, PracticeLocation, TherapistProfile, User

FEED_URL = re.compile(r'<input\b[^>]*\bid="feed-url"[^>]*>')


def add_profile(db, user: User) -> TherapistProfile:
    profile = TherapistProfile(
        user=user,
        name="Dana Reyes",
        license_number="LMT-00001",
        license_state="IL",
        license_expires_on=date.today() + timedelta(days=365),
        session_rate_cents=11_000,
        locations=[
            PracticeLocation(
                city="Chicago",
                state="IL",
                zip_code="60657",
                latitude=41.94,
                longitude=-87.65,
                time_zone="America/Chicago",
            )
        ],
    )
    db.add(profile)
    db.commit()
    return profile


@pytest.fixture
def therapist(db, auth) -> User:
    user = auth.create_user(role="therapist", email="dana@example.org", display_name="Dana")
    add_profile(db, user)
    auth.login("dana@example.org")
    return user


def shown_url(page: str) -> str:
    """The feed address in the page's read-only input (the only place it appears)."""
    match = FEED_URL.search(page)
    assert match, "no feed-url input on the page"
    tag = match.group(0)
    assert re.search(r"\breadonly\b", tag)
    return html.unescape(re.search(r'\bvalue="([^"]*)"', tag).group(1))


def issue(client, auth):
    return client.post("/me/calendar-feed", data={"csrf_token": auth.csrf_token("/")})


def test_a_therapist_makes_a_feed_address_and_sees_it_once(client, auth, db, therapist):
    response = issue(client, auth)

    assert response.status_code == 200
    page = response.get_data(as_text=True)
    url = shown_url(page)
    assert re.fullmatch(r"http://localhost/calendar/cal_[A-Za-z0-9_-]{43}\.ics", url), url
    assert '<label for="feed-url">' in page
    for instruction in (
        "From URL",
        "New Calendar Subscription",
        "Subscribe from web",
        "only time it is shown",
    ):
        assert instruction in page, instruction
    assert 'href="/me/availability"' in page
    assert 'action="/me/calendar-feed/revoke"' in page
    # The secret is in this page only: never cached, never put into the (signed, readable) session cookie.
    assert response.headers["Cache-Control"] == "no-store"
    token = url.rsplit("/", 1)[1].removesuffix(".ics")
    assert all(token not in cookie for cookie in response.headers.getlist("Set-Cookie"))
    with client.session_transaction() as flask_session:
        assert token not in repr(dict(flask_session))

    feed = client.get(url.removeprefix("http://localhost"))
    assert feed.status_code == 200
    assert str(Calendar.from_ical(feed.data)["X-WR-CALNAME"]) == "massage_booking: Dana Reyes"

    # Shown once: nothing else the therapist can open shows it again.
    again = client.get("/me/profile").get_data(as_text=True)
    assert token not in again


def test_the_feed_works_without_logging_in(client, auth, db, therapist):
    url = shown_url(issue(client, auth).get_data(as_text=True))
    auth.logout()

    feed = client.get(url.removeprefix("http://localhost"))

    assert feed.status_code == 200
    assert feed.headers["Content-Type"] == "text/calendar; charset=utf-8"


def test_making_a_new_address_stops_the_old_one(client, auth, db, therapist):
    old = shown_url(issue(client, auth).get_data(as_text=True)).removeprefix("http://localhost")
    new = shown_url(issue(client, auth).get_data(as_text=True)).removeprefix("http://localhost")

    assert old != new
    assert client.get(old).status_code == 404
    assert client.get(new).status_code == 200


def test_stopping_the_address_gives_404_and_says_so(client, auth, db, therapist):
    url = shown_url(issue(client, auth).get_data(as_text=True)).removeprefix("http://localhost")

    response = client.post("/me/calendar-feed/revoke", data={"csrf_token": auth.csrf_token("/")})

    assert response.status_code == 302
    assert response.headers["Location"] == "/me/availability"
    landing = client.get(response.headers["Location"])
    assert landing.status_code == 200
    assert "Your calendar feed address no longer works." in landing.get_data(as_text=True)
    assert client.get(url).status_code == 404
    db.expire_all()
    assert db.scalar(select(AvailabilitySettings.feed_token_digest)) is None
    actions = db.scalars(select(AuditEvent.action).where(AuditEvent.action.like("calendar_feed.%"))).all()
    assert actions == ["calendar_feed.issued", "calendar_feed.revoked"]


def test_without_the_csrf_token_nothing_is_issued_or_revoked(client, auth, db, therapist):
    refused = client.post("/me/calendar-feed", data={})
    assert refused.status_code == 400
    assert "cal_" not in refused.get_data(as_text=True)
    db.expire_all()
    assert db.scalar(select(AvailabilitySettings.feed_token_digest)) is None

    url = shown_url(issue(client, auth).get_data(as_text=True)).removeprefix("http://localhost")
    assert client.post("/me/calendar-feed/revoke", data={"csrf_token": "forged"}).status_code == 400
    assert client.get(url).status_code == 200


@pytest.mark.parametrize("path", ["/me/calendar-feed", "/me/calendar-feed/revoke"])
def test_a_patient_cannot_make_or_stop_a_feed(client, auth, db, path):
    auth.create_user(role="patient", email="pat@example.org")
    auth.login("pat@example.org")

    response = client.post(path, data={"csrf_token": auth.csrf_token("/")})

    assert response.status_code == 403
    assert db.scalars(select(AvailabilitySettings)).all() == []


@pytest.mark.parametrize("path", ["/me/calendar-feed", "/me/calendar-feed/revoke"])
def test_a_visitor_is_sent_to_log_in(client, auth, path):
    response = client.post(path, data={"csrf_token": auth.csrf_token("/login")})

    assert response.status_code == 302
    assert response.headers["Location"].startswith("/login?next=")


def test_a_therapist_without_a_practice_is_told_to_create_one(client, auth, db):
    auth.create_user(role="therapist", email="new@example.org")
    auth.login("new@example.org")

    response = issue(client, auth)

    assert response.status_code == 404
    assert "Create your practice profile first" in response.get_data(as_text=True)
    assert db.scalars(select(AvailabilitySettings)).all() == []


def test_an_unknown_address_gets_the_normal_not_found_page(client):
    response = client.get("/calendar/cal_" + "B" * 43 + ".ics")

    assert response.status_code == 404
    assert response.mimetype == "text/html"
    assert "We could not find that page" in response.get_data(as_text=True)
