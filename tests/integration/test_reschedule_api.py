"""Moving and cancelling one session over the API: POST /api/v1/appointments/{id}/reschedule and /cancel.

The policy: a patient changes a session only 24 hours or more ahead; the therapist may change later ones.
A new time must be a free slot now (hours, notice, time off, other bookings with buffers), the session's
own old time not counting against it. Someone else's session is a 404 that leaves an audit record.
"""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta

import pytest
from sqlalchemy import select

from massage_booking.models import Appointment, AppointmentStatus, AuditEvent, TherapistProfile
from tests.factories import NECK, NEW_YORK, bookable_therapist, course_body, monday_10, post_intake


@pytest.fixture
def booked(client, auth, db):
    """A patient's token headers, their course (8 sessions from next-week Monday 10:00) and the therapist."""
    user = auth.create_user("patient", display_name="Pat Kim")
    headers = {"Authorization": f"Bearer {auth.api_token(user.email)}"}
    therapist_id = bookable_therapist(auth, db, "Dana Reyes", trained=False)
    intake_id = post_intake(client, headers, NECK)
    course = client.post(
        "/api/v1/courses", json=course_body(intake_id, therapist_id), headers=headers
    ).get_json()
    return headers, course, therapist_id


def _url(appointment_id: int, action: str = "reschedule") -> str:
    return f"/api/v1/appointments/{appointment_id}/{action}"


def test_a_patient_moves_a_session_to_a_free_time(client, db, booked):
    headers, course, _ = booked
    second = course["sessions"][1]
    new_start = datetime.fromisoformat(second["start"]) + timedelta(hours=1)  # overlaps its own old time
    response = client.post(_url(second["id"]), json={"start": new_start.isoformat()}, headers=headers)
    assert response.status_code == 200, response.get_data(as_text=True)
    body = response.get_json()
    assert datetime.fromisoformat(body["start"]) == new_start and body["course_id"] == course["id"]
    assert datetime.fromisoformat(body["end"]) - new_start == timedelta(minutes=60)
    assert body["start"].endswith(("-05:00", "-04:00"))  # the practice's local time, with its offset
    db.expire_all()
    assert db.get(Appointment, second["id"]).starts_at == new_start
    event = db.scalar(select(AuditEvent).where(AuditEvent.action == "appointment.rescheduled"))
    assert event is not None and event.subject_id == str(second["id"])


def test_a_time_that_is_not_free_is_409_with_alternatives_and_nothing_changes(client, db, booked):
    headers, course, _ = booked
    second, third = course["sessions"][1], course["sessions"][2]
    response = client.post(_url(second["id"]), json={"start": third["start"]}, headers=headers)
    assert response.status_code == 409
    error = response.get_json()["error"]
    assert error["code"] == "sessions_conflict" and error["details"]["conflicts"][0]["alternatives"]
    late_night = datetime.fromisoformat(second["start"]).replace(hour=22)  # outside 08:00-20:00
    assert (
        client.post(_url(second["id"]), json={"start": late_night.isoformat()}, headers=headers).status_code
        == 409
    )
    db.expire_all()
    assert db.get(Appointment, second["id"]).starts_at == datetime.fromisoformat(second["start"])


def test_inside_24_hours_only_the_therapist_may_move_or_cancel(client, auth, db, booked):
    headers, course, therapist_id = booked
    first = db.get(Appointment, course["sessions"][0]["id"])
    first.starts_at = datetime.now(UTC).replace(microsecond=0, second=0, minute=0) + timedelta(hours=4)
    first.ends_at = first.starts_at + timedelta(minutes=60)
    db.commit()
    tomorrow = datetime.now(NEW_YORK).date() + timedelta(days=1)
    later = datetime.combine(tomorrow, time(12), NEW_YORK).isoformat()  # inside the 08:00-20:00 hours
    for action, body in (("reschedule", {"start": later}), ("cancel", None)):
        response = client.post(_url(first.id, action), json=body, headers=headers)
        assert response.status_code == 422, action
        assert "24 hours" in response.get_json()["error"]["message"]
    therapist = db.get(TherapistProfile, therapist_id).user
    as_therapist = {"Authorization": f"Bearer {auth.api_token(therapist.email)}"}
    moved = client.post(_url(first.id), json={"start": later}, headers=as_therapist)
    assert moved.status_code == 200, moved.get_data(as_text=True)
    cancelled = client.post(_url(first.id, "cancel"), headers=as_therapist)
    assert cancelled.status_code == 200 and cancelled.get_json()["status"] == "cancelled"


def test_a_patient_cancels_one_session_ahead_of_time(client, db, booked):
    headers, course, _ = booked
    second = course["sessions"][1]["id"]
    response = client.post(_url(second, "cancel"), headers=headers)
    assert response.status_code == 200 and response.get_json()["status"] == "cancelled"
    again = client.post(_url(second, "cancel"), headers=headers)
    assert again.status_code == 422 and "cancelled" in again.get_json()["error"]["message"]
    moved = client.post(_url(second), json={"start": monday_10().isoformat()}, headers=headers)
    assert moved.status_code == 422
    db.expire_all()
    statuses = db.scalars(select(Appointment.status).where(Appointment.course_id == course["id"])).all()
    assert statuses.count(AppointmentStatus.CANCELLED) == 1


@pytest.mark.parametrize(
    ("body", "status"),
    [
        ({}, 422),
        ({"start": "next tuesday"}, 422),
        ({"start": "2030-01-07T10:00:00"}, 422),  # no offset
        ({"start": 12}, 422),
        ([], 400),
    ],
)
def test_bad_reschedule_input_is_4xx_with_the_field(client, booked, body, status):
    headers, course, _ = booked
    response = client.post(_url(course["sessions"][1]["id"]), json=body, headers=headers)
    assert response.status_code == status
    if status == 422:
        assert "start" in response.get_json()["error"]["details"]["fields"]


def test_moving_to_its_current_time_or_a_past_time_is_refused(client, booked):
    headers, course, _ = booked
    second = course["sessions"][1]
    same = client.post(_url(second["id"]), json={"start": second["start"]}, headers=headers)
    assert same.status_code == 422
    past = client.post(_url(second["id"]), json={"start": "2020-01-06T10:00:00-05:00"}, headers=headers)
    assert past.status_code == 409


def test_another_users_session_is_404_and_audited(client, auth, db, booked):
    _, course, _ = booked
    appointment_id = course["sessions"][1]["id"]
    stranger = auth.create_user("patient")
    other = {"Authorization": f"Bearer {auth.api_token(stranger.email)}"}
    moved = client.post(_url(appointment_id), json={"start": monday_10().isoformat()}, headers=other)
    assert moved.status_code == 404 and moved.get_json()["error"]["code"] == "not_found"
    assert client.post(_url(appointment_id, "cancel"), headers=other).status_code == 404
    assert client.post(_url(999999, "cancel"), headers=other).status_code == 404
    denied = db.scalars(
        select(AuditEvent.action).where(AuditEvent.actor_id == stranger.id, AuditEvent.action.like("%denied"))
    ).all()
    assert denied == ["appointment.read_denied"] * 3
    db.expire_all()
    assert db.get(Appointment, appointment_id).status is AppointmentStatus.BOOKED
    assert client.post(_url(appointment_id, "cancel")).status_code == 401
