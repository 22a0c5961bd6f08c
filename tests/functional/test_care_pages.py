"""The patient's pages through the real app: the booking wizard from intake to a booked course, My care,
cancelling and moving sessions within the 24-hour policy, the course's calendar file, and privacy (another
patient's course or intake is a 404 that leaves an audit record).

The therapist works every day 08:00-20:00 in New York with no minimum notice (as in the courses API
tests), so plans lay out on real dates a week or more ahead; expectations come from zoneinfo.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime, time, timedelta

import icalendar
import pytest
from sqlalchemy import func, select

from massage_booking.domain import evidence
from massage_booking.models import (
    Appointment,
    AppointmentStatus,
    AuditEvent,
    AvailabilitySettings,
    Course,
    PracticeLocation,
)
from tests.factories import NEW_YORK, bookable_therapist, monday_10
from tests.pages import NECK_FORM, book, csrf, form_fields, intake_id_of, start_intake, text_of


@pytest.fixture
def patient(auth):
    user = auth.create_user("patient", display_name="Pat Kim")
    auth.login(user.email)
    return user


def booked_course(client, auth, db) -> Course:
    therapist_id = bookable_therapist(auth, db, "Dana Reyes", trained=False)
    intake_id = intake_id_of(start_intake(client, auth, NECK_FORM))
    response = book(client, auth, intake_id, therapist_id)
    assert response.status_code == 302, text_of(response)
    return db.scalar(select(Course))


# --- the wizard -------------------------------------------------------------------------------------------


def test_the_wizard_walks_from_intake_to_a_booked_course(client, auth, db, patient):
    therapist_id = bookable_therapist(auth, db, "Dana Reyes", trained=False)
    start = client.get("/care/start")
    assert start.status_code == 200
    page = text_of(start)
    assert "Have you ever had cancer?" in page and "Fever in the last 24 hours" in page
    assert "possible clot" in page  # the clot-sign screen, in plain words

    plan_url = start_intake(client, auth, NECK_FORM)
    assert plan_url.startswith("/care/plan?intake=")
    plan = client.get(plan_url)
    assert plan.status_code == 200
    body = plan.get_data(as_text=True)
    assert "Sherman 2014" in text_of(plan) and 'href="/evidence/chronic_neck_pain"' in body
    assert re.search(r'<option value="60" selected>60 minutes \(the plan\)', body)
    assert 'value="8"' in body  # eight sessions

    intake_id = intake_id_of(plan_url)
    found = client.get("/care/therapist", query_string={"intake": intake_id, "near": "10001"})
    assert found.status_code == 200 and "Dana Reyes" in text_of(found)
    assert f"therapist={therapist_id}" in found.get_data(as_text=True)

    first = monday_10()
    slots = client.get(
        "/care/therapist",
        query_string={"intake": intake_id, "therapist": therapist_id, "from": first.date().isoformat()},
    )
    assert slots.status_code == 200
    assert f'value="{first.isoformat()}"' in slots.get_data(as_text=True)
    assert f"10:00 AM {first:%Z}" in text_of(slots)

    response = book(client, auth, intake_id, therapist_id, first)
    assert response.status_code == 302
    course = db.scalar(select(Course))
    assert response.headers["Location"] == f"/care/courses/{course.id}"
    assert db.scalar(select(func.count()).select_from(Appointment)) == 8
    shown = client.get(response.headers["Location"])
    assert "Booked: 8 sessions with Dana Reyes" in text_of(shown)
    assert "8 of 8" in text_of(shown) and "Add to calendar (.ics)" in text_of(shown)


def test_the_review_lists_every_session_with_its_zone_and_the_policy(client, auth, db, patient):
    therapist_id = bookable_therapist(auth, db, "Dana Reyes", trained=True)
    intake_id = intake_id_of(start_intake(client, auth, NECK_FORM, precautions="lymphedema_risk"))
    review = client.get(
        "/care/review",
        query_string={"intake": intake_id, "therapist": therapist_id, "first_start": monday_10().isoformat()},
    )
    page = text_of(review)
    assert page.count("Free") >= 8 and "Session 8" in page
    assert f"10:00 AM {monday_10():%Z}" in page
    assert "up to 24 hours before" in page
    assert "lymphedema" in page.lower()  # the precaution travels to the therapist
    assert "Book all 8 sessions" in page


def test_a_changed_plan_below_the_dose_is_warned_with_the_trial(client, auth, patient):
    plan_url = start_intake(client, auth, NECK_FORM)
    plan = client.get(plan_url + "&session_minutes=30&total_sessions=4")
    page = text_of(plan)
    assert plan.status_code == 200
    assert "Below the dose that worked" in page and "Sherman 2014" in page
    assert "4 sessions of 30 minutes" in page
    bad = client.get(plan_url + "&session_minutes=50")
    assert bad.status_code == 422 and "Choose a session length" in text_of(bad)


def test_step_one_shows_each_problem_beside_its_question(client, auth, patient):
    response = client.post(
        "/care/start",
        data={"condition": "", "referral_npi": "123", "csrf_token": csrf(auth)},
    )
    assert response.status_code == 422
    body = response.get_data(as_text=True)
    for field in ("condition", "cancer_history", "referral_npi"):
        assert f'id="{field}-error"' in body
    # An ICD-10 code works in place of the list.
    ok = client.post(
        "/care/start",
        data={"condition_code": "M54.2", "cancer_history": "no", "csrf_token": csrf(auth)},
    )
    assert ok.status_code == 302


def test_a_cancer_history_needs_an_oncology_trained_therapist(client, auth, db, patient):
    untrained = bookable_therapist(auth, db, "Una Trained", trained=False)
    trained = bookable_therapist(auth, db, "Tess Oncology", trained=True, zip_code="10002", lat=40.7157)
    answers = {**NECK_FORM, "cancer_history": "yes", "treatment_phase": "survivorship"}
    intake_id = intake_id_of(start_intake(client, auth, answers, therapist=str(untrained)))

    # The search only offers trained therapists, and says so.
    found = client.get("/care/therapist", query_string={"intake": intake_id, "near": "10001"})
    page = text_of(found)
    assert "Tess Oncology" in page and "Una Trained" not in page
    assert "Oncology-trained therapists only" in page

    # Picking the untrained one (as from their profile): a clear message and trained ones instead.
    chosen = client.get("/care/therapist", query_string={"intake": intake_id, "therapist": untrained})
    assert chosen.status_code == 422
    page = text_of(chosen)
    assert "Una Trained has no verified, current oncology massage training" in page
    assert "Continue with Tess Oncology" in page
    assert f"therapist={trained}" in chosen.get_data(as_text=True)

    # The review of a course with them goes back to that message.
    review = client.get(
        "/care/review",
        query_string={"intake": intake_id, "therapist": untrained, "first_start": monday_10().isoformat()},
    )
    assert review.status_code == 302 and f"therapist={untrained}" in review.headers["Location"]

    # Posting the booking anyway books nothing.
    posted = client.post(
        "/care/book",
        data={
            "intake": intake_id,
            "therapist": untrained,
            "first_start": monday_10().isoformat(),
            "csrf_token": csrf(auth),
        },
    )
    assert posted.status_code == 422 and "Continue with Tess Oncology" in text_of(posted)
    assert db.scalar(select(func.count()).select_from(Appointment)) == 0
    assert book(client, auth, intake_id, trained).status_code == 302


def test_a_fever_stops_the_wizard_with_the_reason(client, auth, db, patient):
    therapist_id = bookable_therapist(auth, db, "Tess Oncology", trained=True)
    answers = {
        **NECK_FORM,
        "cancer_history": "yes",
        "treatment_phase": "active_treatment",
        "precautions": "fever",
    }
    plan_url = start_intake(client, auth, answers)
    stop = client.get(plan_url)
    assert stop.status_code == 422
    page = text_of(stop)
    assert "Please do not book a massage now" in page and "fever" in page.lower()
    assert "Book all" not in page
    posted = client.post(
        "/care/book",
        data={
            "intake": intake_id_of(plan_url),
            "therapist": therapist_id,
            "first_start": monday_10().isoformat(),
            "csrf_token": csrf(auth),
        },
    )
    assert posted.status_code == 422 and "Please do not book" in text_of(posted)
    assert db.scalar(select(func.count()).select_from(Course)) == 0


def test_a_taken_session_offers_alternatives_and_the_chosen_one_books(client, auth, db, patient):
    therapist_id = bookable_therapist(auth, db, "Dana Reyes", trained=False)
    other = auth.create_user("patient")
    third = monday_10() + timedelta(days=7)
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
    intake_id = intake_id_of(start_intake(client, auth, NECK_FORM))
    review = client.get(
        "/care/review",
        query_string={"intake": intake_id, "therapist": therapist_id, "first_start": monday_10().isoformat()},
    )
    body = review.get_data(as_text=True)
    assert "1 session is not free at that time" in text_of(review) and "Taken" in text_of(review)
    assert "/care/book" not in body  # no Book button while a session conflicts
    choice = form_fields(body, "/care/review")
    assert set(choice) >= {f"s{n}" for n in range(1, 9)}
    assert choice["s3"] != third.isoformat()

    again = client.get("/care/review", query_string=choice)
    assert again.status_code == 200 and "not free" not in text_of(again)
    fields = form_fields(again.get_data(as_text=True), "/care/book")
    fields["csrf_token"] = csrf(auth)
    assert client.post("/care/book", data=fields).status_code == 302
    starts = db.scalars(
        select(Appointment.starts_at)
        .where(Appointment.patient_id == patient.id)
        .order_by(Appointment.starts_at)
    ).all()
    assert datetime.fromisoformat(choice["s3"]) in starts and third not in starts


def test_a_time_taken_while_reviewing_sends_the_patient_back_with_alternatives(client, auth, db, patient):
    therapist_id = bookable_therapist(auth, db, "Dana Reyes", trained=False)
    intake_id = intake_id_of(start_intake(client, auth, NECK_FORM))
    review = client.get(
        "/care/review",
        query_string={"intake": intake_id, "therapist": therapist_id, "first_start": monday_10().isoformat()},
    )
    fields = form_fields(review.get_data(as_text=True), "/care/book")
    other = auth.create_user("patient")
    taken = monday_10() + timedelta(days=3)  # session 2
    db.add(
        Appointment(
            therapist_id=therapist_id,
            location_id=db.scalar(select(PracticeLocation.id)),
            patient_id=other.id,
            starts_at=taken,
            ends_at=taken + timedelta(minutes=60),
        )
    )
    db.commit()
    fields["csrf_token"] = csrf(auth)
    response = client.post("/care/book", data=fields)
    assert response.status_code == 409
    page = text_of(response)
    assert "Nothing was booked" in page and "Someone else booked" in page and "Taken" in page
    assert db.scalar(select(func.count()).select_from(Course)) == 0


# --- My care, cancelling, moving ----------------------------------------------------------------------------


def test_my_care_lists_the_course_with_progress_and_next_session(client, auth, db, patient):
    empty = client.get("/care")
    assert empty.status_code == 200 and "You have no courses yet" in text_of(empty)
    course = booked_course(client, auth, db)
    page = text_of(client.get("/care"))
    assert "Chronic neck pain with Dana Reyes" in page
    assert "0 of 8 done" in page
    assert (
        f"Next session: {monday_10():%a}, {monday_10():%b} {monday_10().day}, 10:00 AM {monday_10():%Z}"
        in page
    )
    assert f'href="/care/courses/{course.id}"' in client.get("/care").get_data(as_text=True)


def test_cancelling_one_session_asks_first(client, auth, db, patient):
    course = booked_course(client, auth, db)
    second = db.scalar(
        select(Appointment).where(Appointment.course_id == course.id, Appointment.session_number == 2)
    )
    confirm = client.get(f"/care/courses/{course.id}/cancel", query_string={"session": second.id})
    assert confirm.status_code == 200
    assert "Cancel this session?" in text_of(confirm) and "Cancel session 2" in text_of(confirm)
    db.expire_all()
    assert db.get(Appointment, second.id).status is AppointmentStatus.BOOKED  # asking changes nothing

    fields = form_fields(confirm.get_data(as_text=True), f"/care/courses/{course.id}/cancel")
    done = client.post(f"/care/courses/{course.id}/cancel", data=fields)
    assert done.status_code == 302
    page = text_of(client.get(done.headers["Location"]))
    assert "Session 2 (" in page and "is cancelled" in page
    assert "(1 cancelled)" in page
    db.expire_all()
    statuses = db.scalars(select(Appointment.status).where(Appointment.course_id == course.id)).all()
    assert statuses.count(AppointmentStatus.CANCELLED) == 1


def test_cancelling_the_rest_of_the_course_leaves_a_late_session_to_the_therapist(client, auth, db, patient):
    course = booked_course(client, auth, db)
    first = db.scalar(
        select(Appointment).where(Appointment.course_id == course.id, Appointment.session_number == 1)
    )
    first.starts_at = datetime.now(UTC) + timedelta(hours=3)
    first.ends_at = first.starts_at + timedelta(minutes=60)
    db.commit()
    shown = text_of(client.get(f"/care/courses/{course.id}"))
    assert "Less than 24 hours away: contact your therapist" in shown

    confirm = client.get(f"/care/courses/{course.id}/cancel")
    page = text_of(confirm)
    assert "Cancel the rest of this course?" in page and "Cancel 7 sessions" in page
    assert "contact your therapist to cancel it" in page
    fields = form_fields(confirm.get_data(as_text=True), f"/care/courses/{course.id}/cancel")
    assert client.post(f"/care/courses/{course.id}/cancel", data=fields).status_code == 302
    db.expire_all()
    assert db.get(Appointment, first.id).status is AppointmentStatus.BOOKED


def test_a_late_cancellation_is_refused(client, auth, db, patient):
    course = booked_course(client, auth, db)
    first = db.scalar(
        select(Appointment).where(Appointment.course_id == course.id, Appointment.session_number == 1)
    )
    first.starts_at = datetime.now(UTC) + timedelta(hours=3)
    first.ends_at = first.starts_at + timedelta(minutes=60)
    db.commit()
    confirm = client.get(f"/care/courses/{course.id}/cancel", query_string={"session": first.id})
    assert "Contact your therapist" in text_of(confirm) and '/cancel" method' not in confirm.get_data(
        as_text=True
    )
    response = client.post(
        f"/care/courses/{course.id}/cancel",
        data={"appointment": first.id, "csrf_token": csrf(auth)},
        follow_redirects=True,
    )
    assert "less than 24 hours away can only be cancelled by your therapist" in text_of(response)
    db.expire_all()
    assert db.get(Appointment, first.id).status is AppointmentStatus.BOOKED


def test_moving_one_session_to_a_free_time(client, auth, db, patient):
    course = booked_course(client, auth, db)
    second = db.scalar(
        select(Appointment).where(Appointment.course_id == course.id, Appointment.session_number == 2)
    )
    old_start = second.starts_at
    form = client.get(f"/care/sessions/{second.id}/reschedule")
    assert form.status_code == 200 and "Move session 2" in text_of(form)
    body = form.get_data(as_text=True)
    offered = re.findall(r'name="start" value="([^"]+)"', body)
    assert offered and old_start.astimezone(NEW_YORK).isoformat() not in offered
    # One hour after its own time: free only because the session itself no longer counts.
    wanted = (old_start + timedelta(hours=1)).astimezone(NEW_YORK).isoformat()
    assert wanted in offered
    moved = client.post(
        f"/care/sessions/{second.id}/reschedule", data={"start": wanted, "csrf_token": csrf(auth)}
    )
    assert moved.status_code == 302 and moved.headers["Location"] == f"/care/courses/{course.id}"
    assert "Session 2 moved to" in text_of(client.get(moved.headers["Location"]))
    db.expire_all()
    assert db.get(Appointment, second.id).starts_at == datetime.fromisoformat(wanted)
    assert db.scalar(select(AuditEvent).where(AuditEvent.action == "appointment.rescheduled")) is not None

    # A time that is not free (the third session's) is refused, with nearby times offered.
    third = db.scalar(
        select(Appointment).where(Appointment.course_id == course.id, Appointment.session_number == 3)
    )
    clash = client.post(
        f"/care/sessions/{second.id}/reschedule",
        data={"start": third.starts_at.astimezone(NEW_YORK).isoformat(), "csrf_token": csrf(auth)},
    )
    assert (
        clash.status_code == 409
        and "not free" in text_of(clash)
        and "The nearest free times" in text_of(clash)
    )
    nothing = client.post(f"/care/sessions/{second.id}/reschedule", data={"csrf_token": csrf(auth)})
    assert nothing.status_code == 422 and "Choose a new time." in text_of(nothing)


def test_a_session_within_24_hours_cannot_be_moved_by_the_patient(client, auth, db, patient):
    course = booked_course(client, auth, db)
    first = db.scalar(
        select(Appointment).where(Appointment.course_id == course.id, Appointment.session_number == 1)
    )
    first.starts_at = datetime.now(UTC) + timedelta(hours=5)
    first.ends_at = first.starts_at + timedelta(minutes=60)
    db.commit()
    page = client.get(f"/care/sessions/{first.id}/reschedule")
    assert (
        page.status_code == 200
        and "contact them" in text_of(page)
        and 'name="start"' not in page.get_data(as_text=True)
    )
    refused = client.post(
        f"/care/sessions/{first.id}/reschedule",
        data={"start": monday_10().isoformat(), "csrf_token": csrf(auth)},
    )
    assert refused.status_code == 422 and "therapist" in text_of(refused)


# --- the calendar file and privacy -------------------------------------------------------------------------


def test_the_ics_file_has_times_place_and_therapist_but_no_health_details(client, auth, db, patient):
    answers = {**NECK_FORM, "precautions": "lymphedema_risk"}  # it needs an oncology-trained therapist
    therapist_id = bookable_therapist(auth, db, "Dana Reyes", trained=True)
    intake_id = intake_id_of(start_intake(client, auth, answers))
    assert book(client, auth, intake_id, therapist_id).status_code == 302
    course = db.scalar(select(Course))
    response = client.get(f"/care/courses/{course.id}.ics")
    assert response.status_code == 200 and response.mimetype == "text/calendar"
    assert "attachment" in response.headers["Content-Disposition"]
    calendar = icalendar.Calendar.from_ical(response.data)
    events = list(calendar.walk("VEVENT"))
    assert len(events) == 8
    assert str(events[0]["SUMMARY"]) == "Massage session 1 of 8 with Dana Reyes"
    assert "New York" in str(events[0]["LOCATION"]) and "10001" in str(events[0]["LOCATION"])
    assert events[0].decoded("DTSTART") == monday_10()
    raw = response.get_data(as_text=True).lower()
    condition = evidence.condition("chronic_neck_pain")
    for secret in ("neck", condition.name.lower(), "lymph", "precaution", *condition.icd10_codes):
        assert secret.lower() not in raw, secret


def test_another_patients_course_intake_and_session_are_404_and_audited(client, auth, db, patient):
    course = booked_course(client, auth, db)
    appointment_id = db.scalar(select(Appointment.id).where(Appointment.course_id == course.id))
    auth.logout()
    stranger = auth.create_user("patient")
    auth.login(stranger.email)
    assert client.get(f"/care/courses/{course.id}").status_code == 404
    assert client.get(f"/care/courses/{course.id}.ics").status_code == 404
    assert client.get(f"/care/plan?intake={course.intake_id}").status_code == 404
    assert client.get(f"/care/sessions/{appointment_id}/reschedule").status_code == 404
    cancel = client.post(
        f"/care/courses/{course.id}/cancel", data={"appointment": appointment_id, "csrf_token": csrf(auth)}
    )
    assert cancel.status_code == 404
    denied = db.scalars(
        select(AuditEvent.action).where(AuditEvent.actor_id == stranger.id, AuditEvent.action.like("%denied"))
    ).all()
    assert denied.count("course.read_denied") == 3
    assert "intake.read_denied" in denied and "appointment.read_denied" in denied
    db.expire_all()
    assert (
        db.scalar(select(func.count()).select_from(Appointment).where(Appointment.status == "cancelled")) == 0
    )
    assert "Chronic neck pain" not in text_of(client.get("/care"))


def test_the_pages_are_for_patients_and_the_profile_offers_booking(client, auth, db):
    therapist_id = bookable_therapist(auth, db, "Dana Reyes", trained=False)
    anonymous = client.get("/care/start")
    assert anonymous.status_code == 302 and "/login" in anonymous.headers["Location"]
    profile = client.get(f"/therapists/{therapist_id}").get_data(as_text=True)
    assert (
        f'href="/care/start?therapist={therapist_id}"' in profile
        and "Book a course with Dana Reyes" in profile
    )
    therapist = auth.create_user("therapist")
    auth.login(therapist.email)
    assert client.get("/care").status_code == 403
    assert "Book a course with" not in client.get(f"/therapists/{therapist_id}").get_data(as_text=True)


def test_step_three_proposes_whole_courses_and_the_chosen_one_reaches_the_review(client, auth, db, patient):
    therapist_id = bookable_therapist(auth, db, "Dana Reyes", trained=False)
    intake_id = intake_id_of(start_intake(client, auth, NECK_FORM))
    wednesday = monday_10().date() + timedelta(days=2)
    page = client.get(
        "/care/therapist",
        query_string={
            "intake": intake_id,
            "therapist": therapist_id,
            "sessions_per_week": "3",
            "start": wednesday.isoformat(),
            "days": ["mon", "wed", "fri"],
            "time": "morning",
        },
    )
    assert page.status_code == 200
    shown = text_of(page)
    assert "Courses that fit: 8 sessions of 60 minutes, three times a week" in shown
    assert "Mondays, Wednesdays and Fridays at 8:00 AM" in shown  # the days and time of day asked for
    assert "All 8 sessions are free." in shown and "On the days you chose." in shown
    assert 'value="mon" aria-describedby="wish-days-hint" checked' in page.get_data(as_text=True)

    chosen = form_fields(page.get_data(as_text=True), "/care/review")
    review = client.get("/care/review", query_string=chosen)
    assert review.status_code == 200
    listed = text_of(review)
    assert "Taken" not in listed and listed.count("Free") >= 8
    first = datetime.combine(wednesday, time(8), NEW_YORK)
    assert f"{first:%A}, {first:%B} {first.day}, 8:00 AM" in listed


def test_step_three_names_the_lengths_a_therapist_offers_when_the_plans_length_is_not_one(
    client, auth, db, patient
):
    therapist_id = bookable_therapist(auth, db, "Dana Reyes", trained=False)
    db.get(AvailabilitySettings, therapist_id).session_lengths = [90]
    db.commit()
    intake_id = intake_id_of(start_intake(client, auth, NECK_FORM))
    page = client.get("/care/therapist", query_string={"intake": intake_id, "therapist": therapist_id})
    assert page.status_code == 200
    assert "Dana Reyes offers sessions of 90 minutes" in text_of(page)
    assert "Use 90-minute sessions" in text_of(page)


def test_what_blocks_a_whole_course_reads_on_the_pages_12_hour_clock(client, auth, db, patient):
    """A two-week horizon leaves no room for 8 sessions: the planner's reasons name times as the cards do."""
    therapist_id = bookable_therapist(auth, db, "Dana Reyes", trained=False)
    db.get(AvailabilitySettings, therapist_id).horizon_days = 14
    db.commit()
    intake_id = intake_id_of(start_intake(client, auth, NECK_FORM))
    page = client.get("/care/therapist", query_string={"intake": intake_id, "therapist": therapist_id})
    assert page.status_code == 200
    shown = text_of(page)
    assert "No whole course of 8 sessions fits" in shown
    clock = r"(1[0-2]|[1-9]):[0-5]\d [AP]M"
    assert re.search(
        rf"Dana Reyes takes bookings up to \w+day, \w+ \d+ at {clock}: sessions? [\w ]+ would", shown
    )
    clocks = re.sub(r"UTC[+\u2212]\d\d:\d\d", "", shown)  # the zone's offset is not a time of day
    assert not re.search(r"\b\d{1,2}:\d\d\b(?! [AP]M)", clocks)  # no 24-hour time anywhere on the page


def test_moving_a_session_suggests_times_that_keep_the_courses_rhythm_first(client, auth, db, patient):
    """The neck-pain course is Mondays and Thursdays at 10:00: moving Thursday's session suggests 10:00 on
    Wednesday, Friday and Saturday (a day's rest from Monday either side), never Tuesday or Sunday."""
    course = booked_course(client, auth, db)
    second = db.scalar(
        select(Appointment).where(Appointment.course_id == course.id, Appointment.session_number == 2)
    )
    thursday = second.starts_at.astimezone(NEW_YORK)
    page = client.get(f"/care/sessions/{second.id}/reschedule").get_data(as_text=True)
    block = re.search(r'<fieldset class="slot-choice-group rhythm-suggestions">(.*?)</fieldset>', page, re.S)
    assert block, "no suggestions"
    suggested = [datetime.fromisoformat(v) for v in re.findall(r'value="([^"]+)"', block.group(1))]
    expected = [thursday + timedelta(days=d) for d in (-1, 1, 2)]
    assert suggested == expected
    assert "Keeps your course&#39;s rhythm" in page or "Keeps your course's rhythm" in page
    others = re.findall(r'name="start" value="([^"]+)"', page)
    assert len(others) == len(set(others))  # a suggested time is not offered twice


def test_the_first_session_picker_folds_under_the_proposals_until_the_patient_pages_through_it(
    client, auth, db, patient
):
    therapist_id = bookable_therapist(auth, db, "Dana Reyes", trained=False)
    intake_id = intake_id_of(start_intake(client, auth, NECK_FORM))
    query = {"intake": intake_id, "therapist": therapist_id}
    folded = client.get("/care/therapist", query_string=query).get_data(as_text=True)
    assert '<details class="own-first-session">' in folded and "Choose this course" in folded
    later = (datetime.now(NEW_YORK).date() + timedelta(days=7)).isoformat()
    paging = client.get("/care/therapist", query_string={**query, "from": later}).get_data(as_text=True)
    assert '<details class="own-first-session" open>' in paging
