"""The therapist's sessions pages, through the real pages: the next 14 days with each patient's precautions
and clearance, one session, and marking attendance (completed, or no-show after a confirmation) once a
session has started. Someone else's session is "not found" and the attempt is audited; a patient cannot
open these pages at all. The course is booked through the real services (tests/integration/session_data.py).
"""

from __future__ import annotations

import html
import re

import pytest
from sqlalchemy import select

from massage_booking.models import Appointment, AppointmentStatus, AuditEvent, Course, CourseStatus
from tests.integration.session_data import HEALTH_WORDS, PLAIN, book, make_therapist, move_to_past


@pytest.fixture
def therapist(auth, db):
    return make_therapist(auth, db)


@pytest.fixture
def patient(auth):
    return auth.create_user("patient", display_name="Pat Kim")


@pytest.fixture
def booked(db, patient, therapist):
    return book(db, patient, therapist)


def _text(response) -> str:
    """The page as text (tags dropped, entities decoded, whitespace collapsed): what people read."""
    without_tags = re.sub(r"<[^>]+>", " ", response.get_data(as_text=True))
    return re.sub(r"\s+", " ", html.unescape(without_tags))


def _form_token(page: str) -> str:
    match = re.search(r'name="csrf_token" value="([^"]+)"', page)
    assert match, "no CSRF token on the page"
    return match.group(1)


def _status(db, appointment_id: int) -> AppointmentStatus:
    db.expire_all()
    return db.get(Appointment, appointment_id).status


def test_the_list_shows_the_next_two_weeks_with_precautions_and_clearance(
    client, auth, db, therapist, booked
):
    auth.login(therapist.email)
    response = client.get("/me/sessions")
    assert response.status_code == 200
    page = _text(response)
    assert "All times are in America/New_York" in page
    for n in range(1, 5):
        assert f"Session {n} of 8" in page
    assert "Session 5 of 8" not in page  # 15 days ahead: outside the window
    assert page.count("Pat Kim") >= 4 and "Chronic neck pain" in page and "60 min" in page
    assert "Precautions" in page and "No deep pressure" in page and "Keep off incisions" in page
    assert "Physician clearance needed before the first session" in page
    assert "Tomorrow," in page
    # Each session opens its own page.
    for appointment_id in booked.appointment_ids[:4]:
        assert f'href="/me/sessions/{appointment_id}"' in response.get_data(as_text=True)
    listed = db.scalars(select(AuditEvent).where(AuditEvent.action == "sessions.listed")).all()
    upcoming = [e for e in listed if not e.details.get("awaiting")]
    assert [(e.actor_id, e.details["count"]) for e in upcoming] == [(therapist.id, 4)]


def test_no_sessions_shows_an_empty_state(client, auth, therapist):
    auth.login(therapist.email)
    page = _text(client.get("/me/sessions"))
    assert "No sessions booked" in page and "No patient has a session with you in the next 14 days" in page


def test_a_course_without_precautions_shows_no_precaution_box(client, auth, db, patient, therapist):
    book(db, patient, therapist, PLAIN)
    auth.login(therapist.email)
    page = _text(client.get("/me/sessions"))
    assert "Session 1 of 8" in page and "Precautions" not in page and "clearance" not in page


def test_another_therapists_session_is_not_found_and_audited(client, auth, db, booked):
    other = make_therapist(auth, db, "Olga Other", zip_code="10002")
    auth.login(other.email)
    first = booked.appointment_ids[0]
    move_to_past(db, first)
    response = client.get(f"/me/sessions/{first}")
    assert response.status_code == 404 and "Pat Kim" not in response.get_data(as_text=True)
    token = auth.csrf_token("/me/sessions")
    posted = client.post(
        f"/me/sessions/{first}/attendance", data={"status": "completed", "csrf_token": token}
    )
    assert posted.status_code == 404
    assert _status(db, first) is AppointmentStatus.BOOKED
    denied = db.scalars(
        select(AuditEvent.action).where(AuditEvent.actor_id == other.id, AuditEvent.subject_id == str(first))
    ).all()
    assert sorted(denied) == ["session.attendance_denied", "session.read_denied"]
    # Their own list does not show it either.
    assert "Pat Kim" not in _text(client.get("/me/sessions"))


def test_a_patient_cannot_open_the_therapist_pages(client, auth, patient, booked):
    auth.login(patient.email)
    assert client.get("/me/sessions").status_code == 403
    assert client.get(f"/me/sessions/{booked.appointment_ids[0]}").status_code == 403
    token = auth.csrf_token("/")
    posted = client.post(
        f"/me/sessions/{booked.appointment_ids[0]}/attendance",
        data={"status": "no_show", "csrf_token": token},
    )
    assert posted.status_code == 403


def test_attendance_before_the_session_starts_is_refused_and_changes_nothing(
    client, auth, db, therapist, booked
):
    auth.login(therapist.email)
    first = booked.appointment_ids[0]
    page = client.get(f"/me/sessions/{first}")
    text = _text(page)
    assert page.status_code == 200 and re.search(r"once it starts, at 10:00 AM E[SD]T\.", text)
    assert "Mark completed" not in text
    response = client.post(
        f"/me/sessions/{first}/attendance",
        data={"status": "completed", "csrf_token": _form_token(page.get_data(as_text=True))},
    )
    assert response.status_code == 422
    assert "has not started yet" in _text(response) and "Attendance not recorded" in _text(response)
    assert _status(db, first) is AppointmentStatus.BOOKED


def test_marking_a_started_session_completed(client, auth, db, therapist, booked):
    auth.login(therapist.email)
    first = booked.appointment_ids[0]
    move_to_past(db, first, hours_ago=0.5)  # in progress: it may be marked already
    page = client.get(f"/me/sessions/{first}")
    text = _text(page)
    assert "Mark completed" in text and "Mark no-show" in text and "In progress" in text
    assert "Session 1 of 8" in text and "No deep pressure" in text
    response = client.post(
        f"/me/sessions/{first}/attendance",
        data={"status": "completed", "csrf_token": _form_token(page.get_data(as_text=True))},
        follow_redirects=True,
    )
    assert response.status_code == 200
    text = _text(response)
    assert (
        "Marked completed: the session with Pat Kim." in text and "This session is marked completed." in text
    )
    assert "Mark completed" not in text
    assert _status(db, first) is AppointmentStatus.COMPLETED
    assert (
        db.scalar(select(AuditEvent).where(AuditEvent.action == "session.completed")).actor_id == therapist.id
    )
    # Once a session has been given, the clearance it needed first is no longer flagged.
    later = _text(client.get("/me/sessions"))
    assert "No deep pressure" in later and "Physician clearance needed" not in later
    # A second press is refused.
    again = client.post(
        f"/me/sessions/{first}/attendance",
        data={"status": "no_show", "csrf_token": _form_token(page.get_data(as_text=True))},
    )
    assert again.status_code == 422 and "is completed" in _text(again)
    assert _status(db, first) is AppointmentStatus.COMPLETED


def test_a_no_show_is_confirmed_on_the_page_then_recorded(client, auth, db, therapist, booked):
    auth.login(therapist.email)
    first = booked.appointment_ids[0]
    move_to_past(db, first, hours_ago=3)
    listing = _text(client.get("/me/sessions"))
    assert "Waiting for you to mark attendance" in listing  # over, still booked
    page = client.get(f"/me/sessions/{first}")
    raw = page.get_data(as_text=True)
    assert '<details class="confirm">' in raw and "Yes, Pat Kim did not come" in raw
    response = client.post(
        f"/me/sessions/{first}/attendance",
        data={"status": "no_show", "csrf_token": _form_token(raw)},
        follow_redirects=True,
    )
    assert "Marked no-show" in _text(response) and "marked as a no-show" in _text(response)
    assert _status(db, first) is AppointmentStatus.NO_SHOW
    assert "Waiting for you to mark attendance" not in _text(client.get("/me/sessions"))


def test_attendance_needs_the_csrf_token(client, auth, db, therapist, booked):
    auth.login(therapist.email)
    first = booked.appointment_ids[0]
    move_to_past(db, first)
    assert client.post(f"/me/sessions/{first}/attendance", data={"status": "completed"}).status_code == 400
    assert _status(db, first) is AppointmentStatus.BOOKED


def test_the_course_is_completed_when_every_session_is_settled(client, auth, db, therapist, booked):
    auth.login(therapist.email)
    ids = booked.appointment_ids
    for n, appointment_id in enumerate(ids):  # a day apart each, all in the past
        move_to_past(db, appointment_id, hours_ago=24 * (len(ids) - n))
    db.get(Appointment, ids[-1]).status = AppointmentStatus.CANCELLED
    db.commit()
    token = auth.csrf_token("/me/sessions")
    for appointment_id in ids[:-2]:
        client.post(
            f"/me/sessions/{appointment_id}/attendance", data={"status": "completed", "csrf_token": token}
        )
        db.expire_all()
        assert db.get(Course, booked.course_id).status is CourseStatus.BOOKED
    last = client.post(
        f"/me/sessions/{ids[-2]}/attendance",
        data={"status": "no_show", "csrf_token": token},
        follow_redirects=True,
    )
    assert "the course of care is now complete" in _text(last)
    db.expire_all()
    assert db.get(Course, booked.course_id).status is CourseStatus.COMPLETED


def test_audit_records_hold_no_health_details(client, auth, db, therapist, booked):
    auth.login(therapist.email)
    first = booked.appointment_ids[0]
    move_to_past(db, first)
    client.get("/me/sessions")
    page = client.get(f"/me/sessions/{first}").get_data(as_text=True)
    client.post(
        f"/me/sessions/{first}/attendance", data={"status": "completed", "csrf_token": _form_token(page)}
    )
    events = db.scalars(select(AuditEvent).where(AuditEvent.action.like("session%"))).all()
    assert {e.action for e in events} >= {"sessions.listed", "session.read", "session.completed"}
    for event in events:
        flat = repr(event.details).lower()
        assert not any(word in flat for word in HEALTH_WORDS), event.details


def test_the_week_calendar_links_each_session_to_its_page(client, auth, db, therapist, booked):
    auth.login(therapist.email)
    appointment = db.get(Appointment, booked.appointment_ids[0])
    week = appointment.starts_at.date().isoformat()
    page = client.get("/me/calendar", query_string={"week": week}).get_data(as_text=True)
    assert f'href="/me/sessions/{appointment.id}"' in page
