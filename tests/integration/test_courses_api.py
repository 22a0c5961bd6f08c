"""Booking a course over the API: the evidence plan, the intake's gates, whole-or-nothing booking, privacy.

The therapist works every day 08:00-20:00 in New York with no minimum notice, so the plan lays out on
real dates a week or more ahead; expectations come from zoneinfo, so they hold in summer and winter.
"""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta

import pytest
from sqlalchemy import event, func, select

from massage_booking.extensions import db as flask_db
from massage_booking.models import (
    Appointment,
    AppointmentStatus,
    AuditEvent,
    AvailabilitySettings,
    Course,
    PracticeLocation,
    TherapistProfile,
)
from tests.factories import NECK, NEW_YORK, bookable_therapist, course_body, monday_10, post_intake

# `patient` (with API headers) is in tests/conftest.py.


def test_neck_pain_defaults_to_the_sherman_plan_and_books_all_eight(client, auth, db, patient):
    _, headers = patient
    therapist_id = bookable_therapist(auth, db, "Dana Reyes", trained=False)
    intake_id = post_intake(client, headers)
    preview = client.post(
        "/api/v1/courses/plan", json=course_body(intake_id, therapist_id), headers=headers
    ).get_json()
    assert preview["plan"]["session_minutes"] == 60
    assert preview["plan"]["sessions_per_week"] == 2 and preview["plan"]["weeks"] == 4
    assert preview["plan"]["total_sessions"] == 8 and "Sherman" in preview["plan"]["citation"]["label"]
    assert preview["bookable"] and all(s["free"] for s in preview["sessions"])
    assert db.scalar(select(func.count()).select_from(Course)) == 0  # a preview books nothing

    response = client.post("/api/v1/courses", json=course_body(intake_id, therapist_id), headers=headers)
    assert response.status_code == 201, response.get_data(as_text=True)
    course = response.get_json()
    starts = [datetime.fromisoformat(s["start"]) for s in course["sessions"]]
    first = monday_10()
    expected_days = [first.date() + timedelta(days=d) for d in (0, 3, 7, 10, 14, 17, 21, 24)]
    assert [s.astimezone(NEW_YORK).date() for s in starts] == expected_days
    assert all(s.astimezone(NEW_YORK).time() == time(10) for s in starts)  # the same local time, DST or not
    assert [s["number"] for s in course["sessions"]] == list(range(1, 9))
    # Booked times are no longer offered to anyone.
    slots = client.get(
        f"/api/v1/therapists/{therapist_id}/slots",
        query_string={"from": first.date().isoformat(), "to": (first.date() + timedelta(days=1)).isoformat()},
    ).get_json()["slots"]
    assert first.isoformat() not in [s["start"] for s in slots]


def test_a_course_with_one_impossible_session_books_nothing_and_offers_alternatives(
    client, auth, db, patient
):
    _, headers = patient
    therapist_id = bookable_therapist(auth, db, "Dana Reyes", trained=False)
    other = auth.create_user("patient")
    third = monday_10() + timedelta(days=7)  # session 3 of a Mon/Thu course
    db.add(
        Appointment(
            therapist_id=therapist_id,
            location_id=db.scalar(select(PracticeLocation.id)),
            patient_id=other.id,
            starts_at=third,
            ends_at=third + timedelta(minutes=60),
        )
    )
    db.commit()
    intake_id = post_intake(client, headers)
    response = client.post("/api/v1/courses", json=course_body(intake_id, therapist_id), headers=headers)
    assert response.status_code == 409
    error = response.get_json()["error"]
    assert error["code"] == "sessions_conflict" and "nothing was booked" in error["message"]
    [conflict] = error["details"]["conflicts"]
    assert conflict["number"] == 3 and conflict["alternatives"]
    assert all(
        datetime.fromisoformat(a).isocalendar()[1] == third.isocalendar()[1] for a in conflict["alternatives"]
    )
    assert db.scalar(select(func.count()).select_from(Course)) == 0
    assert db.scalar(select(func.count()).select_from(Appointment)) == 1

    # Taking an alternative for that session books the course.
    starts = [
        s["start"]
        for s in client.post(
            "/api/v1/courses/plan", json=course_body(intake_id, therapist_id), headers=headers
        ).get_json()["sessions"]
    ]
    starts[2] = conflict["alternatives"][0]
    booked = client.post(
        "/api/v1/courses",
        json={"intake_id": intake_id, "therapist_id": therapist_id, "starts": starts},
        headers=headers,
    )
    assert booked.status_code == 201, booked.get_data(as_text=True)


def test_a_thirty_minute_neck_plan_is_booked_with_a_warning_citing_the_trial(client, auth, db, patient):
    _, headers = patient
    therapist_id = bookable_therapist(auth, db, "Dana Reyes", trained=False)
    intake_id = post_intake(client, headers)
    response = client.post(
        "/api/v1/courses", json=course_body(intake_id, therapist_id, session_minutes=30), headers=headers
    )
    assert response.status_code == 201
    [warning] = response.get_json()["warnings"]
    assert warning["code"] == "below_minimum_dose" and "Sherman 2014" in warning["message"]
    assert all(s["end"] > s["start"] for s in response.get_json()["sessions"])
    first = response.get_json()["sessions"][0]
    assert datetime.fromisoformat(first["end"]) - datetime.fromisoformat(first["start"]) == timedelta(
        minutes=30
    )


def test_a_cancer_history_needs_an_oncology_trained_therapist(client, auth, db, patient):
    _, headers = patient
    untrained = bookable_therapist(auth, db, "Una Trained", trained=False)
    trained = bookable_therapist(auth, db, "Tess Oncology", trained=True, zip_code="10002", lat=40.7157)
    intake_id = post_intake(
        client, headers, {**NECK, "cancer_history": True, "treatment_phase": "survivorship"}
    )
    response = client.post("/api/v1/courses", json=course_body(intake_id, untrained), headers=headers)
    assert response.status_code == 422
    error = response.get_json()["error"]
    assert error["code"] == "oncology_training_required" and "oncology" in error["message"]
    assert [s["id"] for s in error["details"]["suggestions"]] == [trained]
    assert db.scalar(select(func.count()).select_from(Appointment)) == 0
    assert (
        client.post("/api/v1/courses", json=course_body(intake_id, trained), headers=headers).status_code
        == 201
    )


def test_a_fever_defers_booking_with_the_reason(client, auth, db, patient):
    _, headers = patient
    therapist_id = bookable_therapist(auth, db, "Tess Oncology", trained=True)
    intake_id = post_intake(
        client,
        headers,
        {**NECK, "cancer_history": True, "treatment_phase": "active_treatment", "precautions": ["fever"]},
    )
    response = client.post("/api/v1/courses", json=course_body(intake_id, therapist_id), headers=headers)
    assert response.status_code == 422
    error = response.get_json()["error"]
    assert error["code"] == "booking_deferred" and "fever" in error["message"].lower()
    assert db.scalar(select(func.count()).select_from(Course)) == 0


def test_precautions_travel_with_the_course_to_the_therapist(client, auth, db, patient):
    _, headers = patient
    therapist_id = bookable_therapist(auth, db, "Tess Oncology", trained=True)
    answers = {
        **NECK,
        "cancer_history": True,
        "treatment_phase": "survivorship",
        "precautions": ["bone_metastases"],
    }
    intake_id = post_intake(client, headers, answers)
    course = client.post(
        "/api/v1/courses", json=course_body(intake_id, therapist_id), headers=headers
    ).get_json()
    assert any("bone" in note.lower() for note in course["session_notes"])
    therapist_user = db.get(TherapistProfile, therapist_id).user
    token = auth.api_token(therapist_user.email)
    seen = client.get(f"/api/v1/courses/{course['id']}", headers={"Authorization": f"Bearer {token}"})
    assert seen.status_code == 200 and seen.get_json()["session_notes"] == course["session_notes"]


def test_another_patients_course_and_intake_are_404_and_audited(client, auth, db, patient):
    _, headers = patient
    therapist_id = bookable_therapist(auth, db, "Dana Reyes", trained=False)
    intake_id = post_intake(client, headers)
    course_id = client.post(
        "/api/v1/courses", json=course_body(intake_id, therapist_id), headers=headers
    ).get_json()["id"]
    stranger = auth.create_user("patient")
    other = {"Authorization": f"Bearer {auth.api_token(stranger.email)}"}
    assert client.get(f"/api/v1/courses/{course_id}", headers=other).status_code == 404
    assert client.get(f"/api/v1/intakes/{intake_id}", headers=other).status_code == 404
    assert (
        client.post("/api/v1/courses", json=course_body(intake_id, therapist_id), headers=other).status_code
        == 404
    )
    denied = db.scalars(
        select(AuditEvent.action).where(AuditEvent.actor_id == stranger.id, AuditEvent.action.like("%denied"))
    ).all()
    assert sorted(denied) == ["course.read_denied", "intake.read_denied", "intake.read_denied"]
    # The owner's reads are all in the log too (planning, booking, viewing).
    assert client.get(f"/api/v1/intakes/{intake_id}", headers=headers).status_code == 200
    reads = db.scalars(select(AuditEvent.action).where(AuditEvent.action.like("intake.%"))).all()
    assert reads.count("intake.read") == 2 and reads.count("intake.created") == 1


def test_cancelling_one_session_ahead_and_refusing_a_late_one(client, auth, db, patient):
    _, headers = patient
    therapist_id = bookable_therapist(auth, db, "Dana Reyes", trained=False)
    intake_id = post_intake(client, headers)
    course = client.post(
        "/api/v1/courses", json=course_body(intake_id, therapist_id), headers=headers
    ).get_json()
    second = course["sessions"][1]["id"]
    response = client.post(
        f"/api/v1/courses/{course['id']}/cancel", json={"appointment_ids": [second]}, headers=headers
    )
    assert response.status_code == 200
    statuses = {s["id"]: s["status"] for s in response.get_json()["sessions"]}
    assert statuses[second] == "cancelled" and list(statuses.values()).count("booked") == 7
    # A session inside 24 hours is the therapist's to cancel.
    soon = db.get(Appointment, course["sessions"][0]["id"])
    soon.starts_at = datetime.now(UTC) + timedelta(hours=3)
    soon.ends_at = soon.starts_at + timedelta(minutes=60)
    db.commit()
    late = client.post(
        f"/api/v1/courses/{course['id']}/cancel", json={"appointment_ids": [soon.id]}, headers=headers
    )
    assert late.status_code == 422 and "24 hours" in late.get_json()["error"]["message"]
    db.expire_all()
    assert db.get(Appointment, soon.id).status is AppointmentStatus.BOOKED


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"therapist_id": 1, "first_start": "2030-01-07T10:00:00-05:00"}, "intake_id"),
        ({"intake_id": 1, "therapist_id": "one", "first_start": "2030-01-07T10:00:00-05:00"}, "therapist_id"),
        ({"intake_id": 1, "therapist_id": 1, "first_start": "next monday"}, "first_start"),
        ({"intake_id": 1, "therapist_id": 1, "first_start": "2030-01-07T10:00:00"}, "first_start"),
        ({"intake_id": 1, "therapist_id": 1, "starts": []}, "starts"),
    ],
)
def test_bad_course_requests_are_422(client, patient, body, field):
    _, headers = patient
    response = client.post("/api/v1/courses", json=body, headers=headers)
    assert response.status_code == 422
    assert field in response.get_json()["error"]["details"]["fields"]


def test_bad_plan_changes_and_unknown_records(client, auth, db, patient):
    _, headers = patient
    therapist_id = bookable_therapist(auth, db, "Dana Reyes", trained=False)
    intake_id = post_intake(client, headers)
    bad = client.post(
        "/api/v1/courses", json=course_body(intake_id, therapist_id, session_minutes=50), headers=headers
    )
    assert bad.status_code == 422 and "session_minutes" in bad.get_json()["error"]["details"]["fields"]
    assert (
        client.post("/api/v1/courses", json=course_body(intake_id, 999999), headers=headers).status_code
        == 404
    )
    assert (
        client.post("/api/v1/courses", json=course_body(999999, therapist_id), headers=headers).status_code
        == 404
    )
    unknown = client.post("/api/v1/intakes", json={**NECK, "condition": "Z99.99"}, headers=headers)
    assert unknown.status_code == 422 and "condition" in unknown.get_json()["error"]["details"]["fields"]
    therapist_token = auth.api_token(db.get(TherapistProfile, therapist_id).user.email)
    as_therapist = client.post(
        "/api/v1/courses",
        json=course_body(intake_id, therapist_id),
        headers={"Authorization": f"Bearer {therapist_token}"},
    )
    assert as_therapist.status_code == 403
    assert db.scalar(select(func.count()).select_from(Course)) == 0


@pytest.mark.parametrize(
    "first_start", ["9999-12-31T10:00:00-05:00", "0001-01-01T00:00:00+14:00", "1850-06-03T10:00:00-05:00"]
)
def test_a_first_start_outside_the_calendars_years_is_a_422(client, auth, db, patient, first_start):
    """Found by the fuzzer: laying the course out overflowed (500), and pre-1900 times got local mean time."""
    _, headers = patient
    therapist_id = bookable_therapist(auth, db, "Dana Reyes", trained=False)
    intake_id = post_intake(client, headers)
    body = {**course_body(intake_id, therapist_id), "first_start": first_start}
    for path in ("/api/v1/courses/plan", "/api/v1/courses"):
        response = client.post(path, json=body, headers=headers)
        assert response.status_code == 422, response.get_data(as_text=True)
        assert "first_start" in response.get_json()["error"]["details"]["fields"]
    assert db.scalar(select(func.count()).select_from(Course)) == 0


def test_a_length_the_therapist_does_not_offer_is_a_422_naming_session_minutes_and_books_nothing(
    client, auth, db, patient
):
    _, headers = patient
    therapist_id = bookable_therapist(auth, db, "Dana Reyes", trained=False)
    db.get(AvailabilitySettings, therapist_id).session_lengths = [60, 90]
    db.commit()
    intake_id = post_intake(client, headers)
    for path in ("/api/v1/courses/plan", "/api/v1/courses"):
        response = client.post(
            path, json=course_body(intake_id, therapist_id, session_minutes=30), headers=headers
        )
        assert response.status_code == 422, (path, response.get_data(as_text=True))
        error = response.get_json()["error"]
        assert "offers sessions of 60 and 90 minutes" in error["message"]
        assert error["details"]["fields"]["session_minutes"] == ["Choose 60 or 90 minutes."]
        assert error["details"]["offered"] == [60, 90]
    assert db.scalar(select(func.count()).select_from(Course)) == 0
    assert db.scalar(select(func.count()).select_from(Appointment)) == 0
    booked = client.post(
        "/api/v1/courses", json=course_body(intake_id, therapist_id, session_minutes=90), headers=headers
    )
    assert booked.status_code == 201 and booked.get_json()["session_minutes"] == 90


def test_listing_courses_takes_as_many_queries_for_one_course_as_for_five(client, auth, db, patient):
    """No query per course: each course's sessions and refunds are loaded for the whole list at once."""
    _, headers = patient
    therapist_id = bookable_therapist(auth, db, "Dana Reyes", trained=False)
    intake_id = post_intake(client, headers)

    def book(hour: int) -> None:
        first = monday_10().replace(hour=hour).isoformat()
        response = client.post(
            "/api/v1/courses", json=course_body(intake_id, therapist_id, first_start=first), headers=headers
        )
        assert response.status_code == 201, response.get_data(as_text=True)

    def statements_to_list() -> tuple[int, int]:
        counted: list[str] = []

        def count(conn, cursor, statement, parameters, context, executemany) -> None:
            counted.append(statement)

        engine = flask_db.engine
        event.listen(engine, "before_cursor_execute", count)
        try:
            response = client.get("/api/v1/me/courses", headers=headers)
        finally:
            event.remove(engine, "before_cursor_execute", count)
        assert response.status_code == 200
        return len(response.get_json()["courses"]), len(counted)

    book(8)
    one, with_one = statements_to_list()
    for hour in (10, 12, 14, 16):
        book(hour)
    five, with_five = statements_to_list()
    assert (one, five) == (1, 5)
    assert with_five == with_one, f"{with_one} statements for one course, {with_five} for five"
