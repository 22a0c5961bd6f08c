"""A therapist's sessions over the API: `GET /api/v1/me/sessions` with each patient's precautions, and
`POST /api/v1/appointments/{id}/attendance`: only the session's therapist, only a booked session, only once it
has started; every read and refusal audited; the course completed when nothing in it is left to happen.
"""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest
from sqlalchemy import select

from massage_booking.models import Appointment, AppointmentStatus, AuditEvent, Course, CourseStatus
from tests.integration.session_data import (
    HEALTH_WORDS,
    NEW_YORK,
    book,
    make_therapist,
    move_to_past,
    tomorrow_10,
)


@pytest.fixture
def therapist(auth, db):
    user = make_therapist(auth, db)
    return user, {"Authorization": f"Bearer {auth.api_token(user.email)}"}


@pytest.fixture
def patient(auth):
    user = auth.create_user("patient", display_name="Pat Kim")
    return user, {"Authorization": f"Bearer {auth.api_token(user.email)}"}


@pytest.fixture
def booked(db, patient, therapist):
    return book(db, patient[0], therapist[0])


def _mark(client, headers, appointment_id: int, status: str = "completed"):
    return client.post(
        f"/api/v1/appointments/{appointment_id}/attendance", json={"status": status}, headers=headers
    )


def _status(db, appointment_id: int) -> AppointmentStatus:
    db.expire_all()
    return db.get(Appointment, appointment_id).status


def test_upcoming_sessions_carry_precautions_clearance_and_place_in_the_course(client, db, therapist, booked):
    user, headers = therapist
    response = client.get("/api/v1/me/sessions", headers=headers)
    assert response.status_code == 200
    body = response.get_json()
    assert body["time_zone"] == "America/New_York" and body["days"] == 14
    assert [s["id"] for s in body["sessions"]] == booked.appointment_ids[:4]
    first = body["sessions"][0]
    start = datetime.fromisoformat(first["start"])
    assert start == tomorrow_10() and start.utcoffset() == tomorrow_10().utcoffset()  # the practice's offset
    assert first["minutes"] == 60 and first["status"] == "booked" and not first["can_mark_attendance"]
    assert first["patient"]["name"] == "Pat Kim"
    assert first["course"] == {
        "id": booked.course_id,
        "condition": "Chronic neck pain",
        "session_number": 1,
        "total_sessions": 8,
    }
    assert any("No deep pressure" in note for note in first["session_notes"])
    assert [g["code"] for g in first["clearance_needed"]] == ["recent_surgery"]
    assert len(client.get("/api/v1/me/sessions?days=31", headers=headers).get_json()["sessions"]) == 8
    listed = db.scalars(select(AuditEvent).where(AuditEvent.action == "sessions.listed")).all()
    assert [(e.actor_id, e.details["count"]) for e in listed] == [(user.id, 4), (user.id, 8)]


@pytest.mark.parametrize("days", ["0", "abc", "93", "-1", "1000"])
def test_a_bad_window_is_422(client, therapist, days):
    response = client.get(f"/api/v1/me/sessions?days={days}", headers=therapist[1])
    assert response.status_code == 422 and "days" in response.get_json()["error"]["details"]["fields"]


def test_patients_and_anonymous_callers_cannot_use_these_endpoints(client, patient, booked):
    _, headers = patient
    assert client.get("/api/v1/me/sessions", headers=headers).status_code == 403
    assert _mark(client, headers, booked.appointment_ids[0]).status_code == 403
    assert client.get("/api/v1/me/sessions").status_code == 401


def test_another_therapists_session_is_404_and_audited(client, auth, db, booked):
    other = make_therapist(auth, db, "Olga Other", zip_code="10002")
    headers = {"Authorization": f"Bearer {auth.api_token(other.email)}"}
    first = booked.appointment_ids[0]
    move_to_past(db, first)
    response = _mark(client, headers, first)
    assert response.status_code == 404 and response.get_json()["error"]["code"] == "not_found"
    assert _mark(client, headers, 999999).status_code == 404
    assert _status(db, first) is AppointmentStatus.BOOKED
    denied = db.scalars(
        select(AuditEvent.subject_id).where(
            AuditEvent.actor_id == other.id, AuditEvent.action == "session.attendance_denied"
        )
    ).all()
    assert sorted(denied) == sorted([str(first), "999999"])
    assert client.get("/api/v1/me/sessions", headers=headers).get_json()["sessions"] == []


def test_attendance_before_the_start_is_422_and_changes_nothing(client, db, therapist, booked):
    first = booked.appointment_ids[0]
    response = _mark(client, therapist[1], first)
    assert response.status_code == 422
    error = response.get_json()["error"]
    assert error["code"] == "session_not_started" and "has not started" in error["message"]
    assert _status(db, first) is AppointmentStatus.BOOKED


@pytest.mark.parametrize("body", [{}, {"status": "done"}, {"status": "cancelled"}, {"status": 1}])
def test_an_unknown_status_is_422_naming_the_field(client, db, therapist, booked, body):
    first = booked.appointment_ids[0]
    move_to_past(db, first)
    response = client.post(f"/api/v1/appointments/{first}/attendance", json=body, headers=therapist[1])
    assert response.status_code == 422 and "status" in response.get_json()["error"]["details"]["fields"]
    assert _status(db, first) is AppointmentStatus.BOOKED


def test_completed_then_no_second_mark(client, db, therapist, booked):
    user, headers = therapist
    first = booked.appointment_ids[0]
    move_to_past(db, first)
    response = _mark(client, headers, first)
    assert response.status_code == 200, response.get_data(as_text=True)
    body = response.get_json()
    assert body["status"] == "completed" and body["course_status"] == "booked"
    assert body["clearance_needed"] == [] and body["session_notes"]  # given: clearance was seen to
    assert not body["can_mark_attendance"]
    assert _status(db, first) is AppointmentStatus.COMPLETED
    again = _mark(client, headers, first, "no_show")
    assert again.status_code == 422 and again.get_json()["error"]["code"] == "session_not_booked"
    assert _status(db, first) is AppointmentStatus.COMPLETED
    [event] = db.scalars(select(AuditEvent).where(AuditEvent.action == "session.completed")).all()
    assert (
        event.actor_id == user.id and event.subject_type == "appointment" and event.subject_id == str(first)
    )


def test_no_show_and_a_cancelled_session_cannot_be_marked(client, db, therapist, booked):
    _, headers = therapist
    first, second = booked.appointment_ids[:2]
    move_to_past(db, first, hours_ago=30)
    move_to_past(db, second, hours_ago=2)
    assert _mark(client, headers, first, "no_show").get_json()["status"] == "no_show"
    assert _status(db, first) is AppointmentStatus.NO_SHOW
    db.get(Appointment, second).status = AppointmentStatus.CANCELLED
    db.commit()
    refused = _mark(client, headers, second)
    assert refused.status_code == 422 and "cancelled" in refused.get_json()["error"]["message"]


def test_the_course_completes_once_every_session_is_settled(client, db, therapist, booked):
    _, headers = therapist
    ids = booked.appointment_ids
    for n, appointment_id in enumerate(ids):
        move_to_past(db, appointment_id, hours_ago=24 * (len(ids) - n))
    for appointment_id in ids[:-1]:
        assert _mark(client, headers, appointment_id, "no_show").get_json()["course_status"] == "booked"
    # Only no-shows so far: still booked. The last session given completes the course.
    last = _mark(client, headers, ids[-1])
    assert last.get_json()["course_status"] == "completed"
    db.expire_all()
    assert db.get(Course, booked.course_id).status is CourseStatus.COMPLETED


def test_a_course_of_only_no_shows_and_cancellations_stays_open(client, db, therapist, booked):
    _, headers = therapist
    ids = booked.appointment_ids
    for appointment_id in ids[1:]:
        db.get(Appointment, appointment_id).status = AppointmentStatus.CANCELLED
    db.commit()
    move_to_past(db, ids[0])
    assert _mark(client, headers, ids[0], "no_show").get_json()["course_status"] == "booked"


def test_audit_details_hold_no_health_information(client, db, therapist, booked):
    _, headers = therapist
    first = booked.appointment_ids[0]
    move_to_past(db, first)
    client.get("/api/v1/me/sessions", headers=headers)
    _mark(client, headers, first)
    events = db.scalars(select(AuditEvent).where(AuditEvent.action.like("session%"))).all()
    assert {e.action for e in events} >= {"sessions.listed", "session.completed"}
    for event in events:
        assert not any(word in repr(event.details).lower() for word in HEALTH_WORDS), event.details


def test_a_session_in_progress_can_be_marked_and_times_keep_the_practice_offset(
    client, db, therapist, booked
):
    _, headers = therapist
    first = booked.appointment_ids[0]
    move_to_past(db, first, hours_ago=0.25)
    [current] = [
        s
        for s in client.get("/api/v1/me/sessions", headers=headers).get_json()["sessions"]
        if s["id"] == first
    ]
    assert current["can_mark_attendance"]
    start = datetime.fromisoformat(current["start"])
    assert start.utcoffset() == start.astimezone(NEW_YORK).utcoffset()
    assert datetime.fromisoformat(current["end"]) - start == timedelta(minutes=60)
