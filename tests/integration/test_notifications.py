"""E-mail notifications through the outbox, delivered to a real SMTP server (aiosmtpd) on loopback.

Messages are queued in the transaction of the change that causes them (a rolled-back booking queues
nothing), sent after commit by `flask send-outbox`, once each even with two senders at once, retried with
backoff when the server is down, and never carry health details.
"""

from __future__ import annotations

import base64
import re
import threading
from datetime import UTC, datetime, timedelta

import pytest
from icalendar import Calendar
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from massage_booking.extensions import links
from massage_booking.models import Appointment, Course, CourseStatus, OutboxMessage, OutboxStatus, User
from massage_booking.notifications import sender
from tests.factories import (
    NECK,
    SESSION_CENTS,
    VISA,
    book_over_api,
    bookable_therapist,
    card_method,
    course_body,
    intent_object,
    mail_settings,
    monday_10,
    outbox_rows,
    pay,
    post_event,
    post_intake,
    stripe_event,
)

# `patient` (with API headers) is in tests/conftest.py; `outbox_overrides` in tests/integration/conftest.py.


@pytest.fixture
def cards() -> bool:
    """Ask for it to book with card payments on (localstripe)."""
    return True


@pytest.fixture
def app_overrides(outbox_overrides):
    return outbox_overrides


def _send(runner) -> str:
    result = runner.invoke(args=["send-outbox"])
    assert result.exit_code == 0, result.output
    return result.output


def _therapist_email(db, course_id: int) -> str:
    return db.get(Course, course_id).therapist.user.email


# --- booking ----------------------------------------------------------------------------------------------


def test_a_booking_queues_one_message_per_recipient_and_send_outbox_delivers_each_once(
    client, auth, db, runner, patient, smtp_server
):
    user, _ = patient
    course = book_over_api(client, auth, db, patient)
    therapist_email = _therapist_email(db, course["id"])

    rows = outbox_rows(db)
    assert sorted((r.dedupe_key, r.recipient) for r in rows) == sorted(
        [
            (f"course-{course['id']}-booked-patient", user.email),
            (f"course-{course['id']}-booked-therapist", therapist_email),
        ]
    )
    assert {r.status for r in rows} == {OutboxStatus.PENDING}
    assert smtp_server.messages == []  # queued, not sent: sending happens after commit, by the sender

    assert "Sent 2 message(s)" in _send(runner)
    [to_patient] = smtp_server.to(user.email)
    [to_therapist] = smtp_server.to(therapist_email)
    assert "8 massage sessions with Dana Reyes" in to_patient["Subject"]
    assert "Pat Kim" in to_therapist["Subject"]
    patient_text = to_patient.get_body(("plain",)).get_content()
    assert f"https://massage.test/care/courses/{course['id']}" in patient_text
    first = monday_10()  # the practice's clock, as the pages show it, with the offset
    offset = "-05:00" if first.tzname() == "EST" else "-04:00"
    when = f"{first:%a} {first.day} {first:%b %Y}, 10:00 AM {first:%Z} (UTC{offset})"
    assert f"Session 1 of 8: {when}" in patient_text
    therapist_html = to_therapist.get_body(("html",)).get_content()
    first_session = course["sessions"][0]["id"]
    assert f"https://massage.test/me/sessions/{first_session}" in therapist_html
    assert {r.status for r in outbox_rows(db)} == {OutboxStatus.SENT}
    assert all(r.attempts == 1 and r.sent_at is not None and r.claim is None for r in outbox_rows(db))

    # A replayed sender sends nothing twice.
    assert "Sent 0 message(s)" in _send(runner)
    assert len(smtp_server.messages) == 2


def test_the_ics_attachment_parses_back_with_every_session_at_its_utc_time(
    client, auth, db, runner, patient, smtp_server
):
    user, _ = patient
    course = book_over_api(client, auth, db, patient)
    _send(runner)
    expected = {
        f"appointment-{s['id']}@": datetime.fromisoformat(s["start"]).astimezone(UTC)
        for s in course["sessions"]
    }
    for message in (*smtp_server.to(user.email), *smtp_server.to(_therapist_email(db, course["id"]))):
        [attachment] = list(message.iter_attachments())
        assert attachment.get_content_type() == "text/calendar"
        assert attachment.get_filename() == f"course-{course['id']}.ics"
        calendar = Calendar.from_ical(attachment.get_payload(decode=True))
        events = calendar.walk("VEVENT")
        assert len(events) == 8
        got = {str(e["UID"]).split("@")[0] + "@": e.decoded("DTSTART") for e in events}
        assert got == expected
        assert all(start.utcoffset() == timedelta(0) for start in got.values())


def test_a_booking_that_fails_and_rolls_back_queues_and_sends_nothing(
    client, auth, db, runner, patient, smtp_server
):
    course = book_over_api(client, auth, db, patient)
    _send(runner)
    smtp_server.clear()
    before = len(outbox_rows(db))

    other = auth.create_user("patient")
    headers = {"Authorization": f"Bearer {auth.api_token(other.email)}"}
    intake_id = post_intake(client, headers)
    taken = client.post(
        "/api/v1/courses",
        json=course_body(intake_id, db.get(Course, course["id"]).therapist_id),
        headers=headers,
    )
    assert taken.status_code == 409 and taken.get_json()["error"]["code"] == "sessions_conflict"

    assert len(outbox_rows(db)) == before
    assert "Sent 0 message(s)" in _send(runner)
    assert smtp_server.messages == []


def test_a_rolled_back_transaction_takes_its_messages_with_it(app, client, auth, db, patient):
    from massage_booking.schemas.courses import CourseRequest
    from massage_booking.schemas.parse import parse_body
    from massage_booking.services import courses

    user, headers = patient
    therapist_id = bookable_therapist(auth, db, "Dana Reyes", trained=False)
    intake_id = post_intake(client, headers)
    actor = db.get(User, user.id)
    wanted = courses.request_of(parse_body(CourseRequest, course_body(intake_id, therapist_id)))
    booked = courses.book_course(db, actor, wanted, datetime.now(UTC), links=links())
    assert booked.status is CourseStatus.BOOKED
    assert db.scalar(select(func.count()).select_from(OutboxMessage)) == 2  # in the transaction
    db.rollback()
    assert db.scalar(select(func.count()).select_from(OutboxMessage)) == 0


# --- the sender -------------------------------------------------------------------------------------------


def test_two_senders_interleaved_send_each_message_once(app, client, auth, db, patient, smtp_server):
    book_over_api(client, auth, db, patient)
    now = datetime.now(UTC)
    with Session(db.get_bind()) as first, Session(db.get_bind()) as second:
        ids = sender.due_ids(first, now, 10)  # the first sender read what is due ...
        first.commit()
        report = sender.send_pending(second, mail_settings(app), now)  # ... the second sent it all ...
        assert report.sent == 2
        assert [sender.claim(first, i, now) for i in ids] == [None, None]  # ... so the first claims nothing
    assert len(smtp_server.messages) == 2


def test_two_senders_running_at_once_in_threads_never_send_a_message_twice(
    app, client, auth, db, patient, smtp_server
):
    for n in range(3):  # 3 courses, 6 messages, on 3 therapists
        other = auth.create_user("patient")
        book_over_api(client, auth, db, (other, {"Authorization": f"Bearer {auth.api_token(other.email)}"}))
    assert len(outbox_rows(db)) == 6
    now = datetime.now(UTC)
    engine = db.get_bind()
    barrier = threading.Barrier(4)
    reports: list[sender.SendReport] = []

    def run() -> None:
        with Session(engine) as session:
            barrier.wait()
            reports.append(sender.send_pending(session, mail_settings(app), now))

    threads = [threading.Thread(target=run) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    assert sum(r.sent for r in reports) == 6
    assert len(smtp_server.messages) == 6
    ids = [m["Message-ID"] for m in smtp_server.messages]
    assert len(set(ids)) == 6


def test_a_failing_smtp_server_leaves_the_message_pending_with_backoff_then_a_later_run_delivers_it(
    app, client, auth, db, patient, smtp_server
):
    user, _ = patient
    book_over_api(client, auth, db, patient)
    now = datetime.now(UTC)
    closed = sender.MailSettings(server="127.0.0.1", port=_closed_port(), use_tls=False, timeout=2)

    report = sender.send_pending(db, closed, now)

    assert (report.sent, report.retrying) == (0, 2)
    rows = outbox_rows(db)
    assert {r.status for r in rows} == {OutboxStatus.PENDING}
    assert {r.attempts for r in rows} == {1}
    assert {r.next_attempt_at for r in rows} == {now + sender.BACKOFF[0]}
    assert all(r.last_error and user.email not in r.last_error and "Hello" not in r.last_error for r in rows)
    # Not due yet: the working server gets nothing until the backoff has passed.
    assert sender.send_pending(db, mail_settings(app), now).sent == 0
    later = now + timedelta(minutes=2)
    assert sender.send_pending(db, mail_settings(app), later).sent == 2
    assert len(smtp_server.to(user.email)) == 1
    assert {(r.status, r.attempts) for r in outbox_rows(db)} == {(OutboxStatus.SENT, 2)}


def test_a_message_that_keeps_failing_is_given_up_after_the_last_attempt(app, client, auth, db, patient):
    book_over_api(client, auth, db, patient)
    closed = sender.MailSettings(server="127.0.0.1", port=_closed_port(), use_tls=False, timeout=2)
    at = datetime.now(UTC)
    for _ in range(sender.MAX_ATTEMPTS):
        sender.send_pending(db, closed, at)
        at += timedelta(days=1)
    assert {(r.status, r.attempts) for r in outbox_rows(db)} == {(OutboxStatus.FAILED, sender.MAX_ATTEMPTS)}
    assert sender.send_pending(db, closed, at).retrying == 0


def test_a_crashed_senders_claim_lapses_and_another_sender_takes_the_message(
    app, client, auth, db, patient, smtp_server
):
    book_over_api(client, auth, db, patient)
    now = datetime.now(UTC)
    ids = sender.due_ids(db, now, 10)
    assert all(sender.claim(db, i, now) for i in ids)  # claimed, then the sender died
    assert sender.send_pending(db, mail_settings(app), now + timedelta(minutes=1)).sent == 0
    assert sender.send_pending(db, mail_settings(app), now + sender.CLAIM + timedelta(seconds=1)).sent == 2
    assert len(smtp_server.messages) == 2


def test_without_a_mail_server_messages_are_logged_and_marked_sent(app, client, auth, db, patient, caplog):
    user, _ = patient
    book_over_api(client, auth, db, patient)
    caplog.set_level("INFO", logger="massage_booking.mail")
    report = sender.send_pending(db, sender.MailSettings(server=None), datetime.now(UTC))
    assert report.sent == 2
    logged = "\n".join(r.getMessage() for r in caplog.records if r.name == "massage_booking.mail")
    assert f"To: {user.email}" in logged and "Booked: 8 massage sessions" in logged
    assert {r.status for r in outbox_rows(db)} == {OutboxStatus.SENT}


def _closed_port() -> int:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]  # nothing listens once the socket is closed


# --- card payments ----------------------------------------------------------------------------------------


def test_with_card_payments_nothing_is_sent_until_paid_then_one_confirmation_each(
    cards, client, auth, db, runner, patient, smtp_server, stripe_client, stripe_settings
):
    user, headers = patient
    course = book_over_api(client, auth, db, patient)
    assert course["status"] == "pending_payment"
    assert outbox_rows(db) == []
    assert "Sent 0 message(s)" in _send(runner)

    response = pay(client, headers, course["id"], card_method(stripe_client, VISA))
    assert response.status_code == 200, response.get_data(as_text=True)
    # Stripe's webhook for the same payment arrives too: applied, but it queues nothing more.
    intent_id = db.get(Course, course["id"]).payment_intent_id
    intent = intent_object(course["id"], status="succeeded", intent_id=intent_id)
    assert (
        post_event(client, stripe_settings, stripe_event("payment_intent.succeeded", intent)).status_code
        == 200
    )

    assert len(outbox_rows(db)) == 2
    _send(runner)
    [to_patient] = smtp_server.to(user.email)
    assert len(smtp_server.to(_therapist_email(db, course["id"]))) == 1
    assert "Paid: $960." in to_patient.get_body(("plain",)).get_content()


def test_a_course_paid_by_webhook_alone_is_confirmed_once(
    cards, client, auth, db, runner, patient, smtp_server, stripe_settings
):
    course = book_over_api(client, auth, db, patient)
    intent = intent_object(course["id"], status="succeeded", intent_id="pi_webhook_only")
    event = stripe_event("payment_intent.succeeded", intent)
    assert post_event(client, stripe_settings, event).status_code == 200
    assert post_event(client, stripe_settings, {**event, "id": event["id"] + "x"}).status_code == 200
    assert db.get(Course, course["id"]).status is CourseStatus.BOOKED
    _send(runner)
    assert len(smtp_server.messages) == 2


def test_cancelling_two_sessions_of_a_paid_course_tells_the_patient_the_refund(
    cards, client, auth, db, runner, patient, smtp_server, stripe_client
):
    user, headers = patient
    course = book_over_api(client, auth, db, patient)
    assert pay(client, headers, course["id"], card_method(stripe_client, VISA)).status_code == 200
    _send(runner)
    smtp_server.clear()
    two = [course["sessions"][2]["id"], course["sessions"][5]["id"]]
    response = client.post(
        f"/api/v1/courses/{course['id']}/cancel", json={"appointment_ids": two}, headers=headers
    )
    assert response.status_code == 200, response.get_data(as_text=True)

    _send(runner)
    [to_patient] = smtp_server.to(user.email)
    [to_therapist] = smtp_server.to(_therapist_email(db, course["id"]))
    assert to_patient["Subject"] == "Cancelled: 2 sessions with Dana Reyes"
    refund = re.compile(rf"\${2 * SESSION_CENTS // 100}(?![.\d])")  # "$240", as the pages write it
    assert refund.search(to_patient.get_body(("plain",)).get_content())
    assert refund.search(to_patient.get_body(("html",)).get_content())
    assert "Session 3 of 8" in to_therapist.get_body(("plain",)).get_content()


# --- privacy ----------------------------------------------------------------------------------------------


def test_no_health_detail_appears_in_any_message(client, auth, db, runner, patient, smtp_server):
    from massage_booking.domain import evidence

    _, headers = patient
    answers = {
        **NECK,
        "cancer_history": True,
        "treatment_phase": "survivorship",
        "precautions": ["bone_metastases"],
    }
    course = book_over_api(client, auth, db, patient, answers, trained=True)
    row = db.get(Course, course["id"])
    assert row.session_notes  # the course does carry health details for the therapist's session page
    moved = course["sessions"][1]["id"]
    new_start = datetime.fromisoformat(course["sessions"][1]["start"]) + timedelta(hours=3)
    response = client.post(
        f"/api/v1/appointments/{moved}/reschedule", json={"start": new_start.isoformat()}, headers=headers
    )
    assert response.status_code == 200, response.get_data(as_text=True)
    cancelled = course["sessions"][4]["id"]
    response = client.post(
        f"/api/v1/courses/{course['id']}/cancel", json={"appointment_ids": [cancelled]}, headers=headers
    )
    assert response.status_code == 200, response.get_data(as_text=True)

    rows = outbox_rows(db)
    assert sorted({r.kind for r in rows}) == ["course_booked", "session_rescheduled", "sessions_cancelled"]
    assert len(rows) == 6
    condition = evidence.condition(row.condition_id)
    precaution = evidence.precaution("bone_metastases")
    forbidden = [
        condition.name,
        "neck pain",
        *condition.icd10_codes,
        precaution.name,
        precaution.adaptation,
        "metasta",
        "cancer",
        "survivorship",
        *row.session_notes,
        *(w["message"] for w in row.warnings),
        *(c["message"] for c in row.clearance_needed),
    ]
    _send(runner)
    assert len(smtp_server.messages) == 6
    for r in rows:
        texts = [r.subject, r.text_body, r.html_body]
        texts += [base64.b64decode(a["content"]).decode() for a in r.attachments]
        for text in texts:
            for word in forbidden:
                assert word.lower() not in text.lower(), f"{word!r} in {r.kind} to {r.recipient}"
    for message in smtp_server.messages:
        raw = message.as_string().lower()
        assert not any(word.lower() in raw for word in ("neck pain", "metasta", "cancer", "m54.2"))
    assert db.scalar(select(func.count()).select_from(Appointment).where(Appointment.id == moved)) == 1
    assert monday_10()  # the layout the helpers book on
