"""Reminders, the unsubscribe link, and the other message kinds of issue 8 (credential reviewed, payment
failed), delivered to the real aiosmtpd server on loopback.

Reminders are queued for booked sessions starting within REMINDER_HOURS_BEFORE hours, once per session and
start time; the sender checks again just before sending, so a session cancelled or moved after its
reminder was queued, or a patient who turned reminders off, gets nothing. Every service here takes `now`,
so the tests move the clock instead of sleeping.
"""

from __future__ import annotations

import base64
import re
from datetime import UTC, date, datetime, timedelta

import pytest
from icalendar import Calendar
from sqlalchemy import select

from massage_booking.extensions import links
from massage_booking.models import (
    Appointment,
    Course,
    CredentialKind,
    CredentialStatus,
    OncologyCredential,
    OutboxMessage,
    User,
)
from massage_booking.notifications import outbox, sender
from massage_booking.services import therapists
from tests.factories import (
    DECLINED_ON_CHARGE,
    NECK,
    NEW_YORK,
    VISA,
    book_over_api,
    card_method,
    intent_object,
    mail_settings,
    outbox_rows,
    pay,
    post_event,
    practice_therapist,
    stripe_event,
)

# `patient` (with API headers) is in tests/conftest.py; `outbox_overrides` in tests/integration/conftest.py.

UNSUBSCRIBE = re.compile(r"https://massage\.test(/unsubscribe/[A-Za-z0-9_.\-]+)")


@pytest.fixture
def cards() -> bool:
    """Ask for it to book with card payments on (localstripe); see `outbox_overrides`."""
    return True


@pytest.fixture
def app_overrides(outbox_overrides):
    return outbox_overrides


def _start(course: dict, n: int = 0) -> datetime:
    return datetime.fromisoformat(course["sessions"][n]["start"]).astimezone(UTC)


def _queue(db, now: datetime, hours: float = 24) -> int:
    count = outbox.queue_reminders(db, now, hours, links())
    db.commit()
    return count


def _deliver(app, db, now: datetime) -> sender.SendReport:
    return sender.send_pending(db, mail_settings(app), now)


def _reminders(db) -> list[OutboxMessage]:
    return [r for r in outbox_rows(db) if r.kind == "reminder"]


def _booked_and_confirmed(app, client, auth, db, patient, smtp_server, **kwargs) -> dict:
    """A booked course whose confirmations were already sent (so the mailbox holds only what follows)."""
    course = book_over_api(client, auth, db, patient, **kwargs)
    assert _deliver(app, db, datetime.now(UTC)).sent == 2
    smtp_server.clear()
    return course


# --- reminders --------------------------------------------------------------------------------------------


def test_a_reminder_goes_out_once_per_session_within_the_window_and_not_before(
    app, client, auth, db, patient, smtp_server
):
    user, _ = patient
    course = _booked_and_confirmed(app, client, auth, db, patient, smtp_server)
    first = _start(course)

    assert _queue(db, first - timedelta(hours=25)) == 0  # outside the window: nothing yet
    assert _queue(db, first - timedelta(hours=24)) == 1  # the window is (now, now + 24h]: exactly 24h is in
    now = first - timedelta(hours=23)
    assert _queue(db, now) == 0  # already queued for this time
    [row] = _reminders(db)
    assert row.dedupe_key == f"appointment-{course['sessions'][0]['id']}-reminder-{int(first.timestamp())}"
    assert row.appointment_id == course["sessions"][0]["id"]

    assert _deliver(app, db, now).sent == 1
    assert _queue(db, now + timedelta(hours=1)) == 0  # sent: still not queued again
    assert _deliver(app, db, now + timedelta(hours=1)).sent == 0
    [message] = smtp_server.to(user.email)
    assert smtp_server.messages == [message]  # the patient's only; the therapist gets no reminder
    local = first.astimezone(NEW_YORK)
    assert (
        message["Subject"]
        == f"Reminder: massage with Dana Reyes, Mon {local.day} {local:%b}, 10:00 AM {local:%Z}"
    )
    # One calendar event, this session's, at its UTC time.
    [attachment] = list(message.iter_attachments())
    assert attachment.get_content_type() == "text/calendar"
    [event] = Calendar.from_ical(attachment.get_payload(decode=True)).walk("VEVENT")
    assert event.decoded("DTSTART") == first
    # RFC 2369 / RFC 8058 headers, pointing at the same link as the body.
    link = UNSUBSCRIBE.search(message.get_body(("plain",)).get_content())
    assert link is not None
    assert message["List-Unsubscribe"].strip() == f"<https://massage.test{link.group(1)}>"  # may be folded
    assert message["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    assert link.group(1) in message.get_body(("html",)).get_content()

    # The second session (days later) is outside the window until its own day comes.
    second = _start(course, 1)
    assert second - first > timedelta(days=2)
    assert _queue(db, second - timedelta(hours=2)) == 1
    assert _deliver(app, db, second - timedelta(hours=2)).sent == 1
    assert len(smtp_server.to(user.email)) == 2


def test_a_past_session_or_one_outside_a_shorter_window_gets_no_reminder(app, client, auth, db, patient):
    course = book_over_api(client, auth, db, patient)
    first = _start(course)
    assert _queue(db, first) == 0  # starting now is not "within the next hours"
    assert _queue(db, first + timedelta(minutes=1)) == 0
    assert _queue(db, first - timedelta(hours=3), hours=2) == 0  # REMINDER_HOURS_BEFORE=2
    assert _queue(db, first - timedelta(hours=2), hours=2) == 1


def test_no_reminder_for_a_cancelled_session(app, client, auth, db, patient, smtp_server):
    _, headers = patient
    course = _booked_and_confirmed(app, client, auth, db, patient, smtp_server)
    first_id = course["sessions"][0]["id"]
    response = client.post(
        f"/api/v1/courses/{course['id']}/cancel", json={"appointment_ids": [first_id]}, headers=headers
    )
    assert response.status_code == 200, response.get_data(as_text=True)
    _deliver(app, db, datetime.now(UTC))  # the cancellation notices
    smtp_server.clear()

    now = _start(course) - timedelta(hours=23)
    assert _queue(db, now) == 0
    assert _deliver(app, db, now).sent == 0
    assert smtp_server.messages == []


def test_a_session_cancelled_after_its_reminder_was_queued_is_not_reminded(
    app, client, auth, db, patient, smtp_server
):
    _, headers = patient
    course = _booked_and_confirmed(app, client, auth, db, patient, smtp_server)
    now = _start(course) - timedelta(hours=23)
    assert _queue(db, now) == 1
    first_id = course["sessions"][0]["id"]
    response = client.post(
        f"/api/v1/courses/{course['id']}/cancel", json={"appointment_ids": [first_id]}, headers=headers
    )
    assert response.status_code == 200, response.get_data(as_text=True)

    report = _deliver(app, db, now)

    assert (report.sent, report.withdrawn) == (2, 1)  # the two cancellation notices; the reminder withdrawn
    assert {m["Subject"].split(":")[0] for m in smtp_server.messages} == {"Cancelled"}
    assert _reminders(db) == []
    assert _queue(db, now) == 0  # and a cancelled session is never queued again


def test_a_rescheduled_session_is_reminded_for_its_new_time(app, client, auth, db, patient, smtp_server):
    user, headers = patient
    course = _booked_and_confirmed(app, client, auth, db, patient, smtp_server)
    first = _start(course)
    first_id = course["sessions"][0]["id"]
    now = first - timedelta(hours=23)
    assert _queue(db, now) == 1  # for 10:00 ...
    new_start = first + timedelta(hours=3)
    response = client.post(
        f"/api/v1/appointments/{first_id}/reschedule", json={"start": new_start.isoformat()}, headers=headers
    )
    assert response.status_code == 200, response.get_data(as_text=True)

    report = _deliver(app, db, now)  # ... which the sender withdraws: the session is no longer at 10:00
    assert (report.sent, report.withdrawn) == (2, 1)  # the two "moved" notices
    assert _reminders(db) == []
    later = new_start - timedelta(hours=23)
    assert _queue(db, later) == 1  # a new reminder for 13:00, once the new time is within the window
    [row] = _reminders(db)
    assert row.dedupe_key == f"appointment-{first_id}-reminder-{int(new_start.timestamp())}"
    smtp_server.clear()
    assert _deliver(app, db, later).sent == 1
    [message] = smtp_server.to(user.email)
    assert message["Subject"].endswith(f", 1:00 PM {new_start.astimezone(NEW_YORK):%Z}")  # the new time
    [attachment] = list(message.iter_attachments())
    [event] = Calendar.from_ical(attachment.get_payload(decode=True)).walk("VEVENT")
    assert event.decoded("DTSTART") == new_start
    assert _queue(db, later + timedelta(hours=1)) == 0


# --- preferences and unsubscribe --------------------------------------------------------------------------


def test_a_patient_with_reminders_off_gets_none_but_still_gets_confirmations(
    app, client, auth, db, patient, smtp_server
):
    user, _ = patient
    auth.login(user.email)
    page = client.get("/care/notifications")
    assert page.status_code == 200
    assert 'value="on" checked' in page.get_data(as_text=True)
    response = client.post(
        "/care/notifications",
        data={"reminders": "off", "csrf_token": auth.csrf_token("/care/notifications")},
        follow_redirects=True,
    )
    assert response.status_code == 200
    assert "Reminders are off" in response.get_data(as_text=True)
    assert 'value="off" checked' in response.get_data(as_text=True)
    db.expire_all()
    assert db.get(User, user.id).reminders_enabled is False
    # Without the form's CSRF token the change is refused.
    assert client.post("/care/notifications", data={"reminders": "on"}).status_code == 400

    course = book_over_api(client, auth, db, patient)
    assert _deliver(app, db, datetime.now(UTC)).sent == 2  # the booking confirmations still go out
    assert len(smtp_server.to(user.email)) == 1
    now = _start(course) - timedelta(hours=23)
    assert _queue(db, now) == 0
    assert _deliver(app, db, now).sent == 0
    assert len(smtp_server.to(user.email)) == 1

    client.post(
        "/care/notifications",
        data={"reminders": "on", "csrf_token": auth.csrf_token("/care/notifications")},
    )
    assert _queue(db, now) == 1  # back on: the reminder comes after all


def test_the_unsubscribe_link_in_a_delivered_reminder_shows_a_page_and_its_button_turns_reminders_off(
    app, client, auth, db, patient, smtp_server
):
    user, _ = patient
    course = _booked_and_confirmed(app, client, auth, db, patient, smtp_server)
    now = _start(course) - timedelta(hours=23)
    _queue(db, now)
    _deliver(app, db, now)
    [message] = smtp_server.to(user.email)
    path = UNSUBSCRIBE.search(message.get_body(("plain",)).get_content()).group(1)

    page = client.get(path)  # not logged in
    assert page.status_code == 200
    assert "Stop session reminders?" in page.get_data(as_text=True)
    db.expire_all()
    assert db.get(User, user.id).reminders_enabled is True  # a GET (a mail scanner) changes nothing

    done = client.post(path)  # the page's button: no login, no CSRF token, the signed link is enough
    assert done.status_code == 200
    assert "Reminders turned off" in done.get_data(as_text=True)
    db.expire_all()
    assert db.get(User, user.id).reminders_enabled is False
    assert client.post(path).status_code == 200  # repeating it is harmless

    second = _start(course, 1)
    assert _queue(db, second - timedelta(hours=2)) == 0


def test_one_click_unsubscribe_withdraws_a_reminder_already_queued(
    app, client, auth, db, patient, smtp_server
):
    user, _ = patient
    course = _booked_and_confirmed(app, client, auth, db, patient, smtp_server)
    now = _start(course) - timedelta(hours=23)
    second = _start(course, 1)
    _queue(db, now)
    _deliver(app, db, now)
    [reminder] = smtp_server.to(user.email)
    url = reminder["List-Unsubscribe"].strip().strip("<>")  # a long header is folded: strip what unfolds
    assert _queue(db, second - timedelta(hours=2)) == 1  # the next one is queued ...

    # ... then the mail provider's one-click POST (RFC 8058) arrives.
    response = client.post(
        url.removeprefix("https://massage.test"),
        data="List-Unsubscribe=One-Click",
        content_type="application/x-www-form-urlencoded",
    )
    assert response.status_code == 200
    report = _deliver(app, db, second - timedelta(hours=2))
    assert (report.sent, report.withdrawn) == (0, 1)
    assert len(smtp_server.to(user.email)) == 1


def test_a_tampered_or_foreign_unsubscribe_token_is_404(app, client, auth, db, patient):
    from itsdangerous import URLSafeSerializer

    user, _ = patient
    token = links().unsubscribe_url(user.id).rsplit("/", 1)[1]
    payload, _, signature = token.rpartition(".")
    tampered = f"{payload}.{signature[:-2]}{'AA' if signature[-2:] != 'AA' else 'BB'}"
    other_user = URLSafeSerializer(app.config["SECRET_KEY"], salt="another purpose").dumps(user.id)
    wrong_key = URLSafeSerializer("not the key", salt="massage_booking.reminders.unsubscribe").dumps(user.id)
    for bad in (tampered, other_user, wrong_key, "nonsense"):
        assert client.get(f"/unsubscribe/{bad}").status_code == 404
        assert client.post(f"/unsubscribe/{bad}").status_code == 404
    db.expire_all()
    assert db.get(User, user.id).reminders_enabled is True
    assert client.get(f"/unsubscribe/{token}").status_code == 200


# --- credential reviews -----------------------------------------------------------------------------------


def _pending_credential(db, therapist_user: User) -> OncologyCredential:
    profile = therapists.profile_of(db, therapist_user)
    credential = OncologyCredential(
        therapist_id=profile.id,
        kind=CredentialKind.S4OM_FOUNDATIONAL,
        issuer="Healwell",
        training_hours=24,
        issued_on=date(2025, 3, 1),
        expires_on=None,
        status=CredentialStatus.PENDING,
    )
    db.add(credential)
    db.commit()
    return credential


@pytest.mark.parametrize("approve", [True, False])
def test_a_credential_review_reaches_the_therapist_once(app, client, auth, db, smtp_server, approve):
    profile, therapist_user = practice_therapist(auth, db, "Dana Reyes", trained=False)
    credential = _pending_credential(db, db.get(User, profile.user_id))
    admin = auth.create_user("admin")
    auth.login(admin.email)
    data = {
        "decision": "verify" if approve else "reject",
        "note": "" if approve else "The certificate is unreadable.",
    }
    data["csrf_token"] = auth.csrf_token("/admin/credentials")
    response = client.post(f"/admin/credentials/{credential.id}/review", data=data)
    assert response.status_code in (302, 303), response.get_data(as_text=True)

    [row] = outbox_rows(db)
    verdict = "verified" if approve else "rejected"
    assert (row.kind, row.dedupe_key) == (f"credential_{verdict}", f"credential-{credential.id}-{verdict}")
    _deliver(app, db, datetime.now(UTC))
    _deliver(app, db, datetime.now(UTC) + timedelta(hours=1))
    email = db.get(User, profile.user_id).email
    [message] = smtp_server.to(email)
    assert smtp_server.messages == [message]
    text = message.get_body(("plain",)).get_content()
    if approve:
        assert message["Subject"] == "Your oncology training is verified"
    else:
        assert message["Subject"] == "Your oncology training could not be verified"
        assert "The certificate is unreadable." in text
    assert "Healwell, 24 hours" in text and "https://massage.test/me/profile" in text


# --- payment failed ---------------------------------------------------------------------------------------


def test_a_declined_card_sends_one_payment_failed_message_even_when_the_webhook_is_replayed(
    cards, client, auth, db, patient, smtp_server, stripe_client, stripe_settings, app
):
    user, headers = patient
    course = book_over_api(client, auth, db, patient)
    assert course["status"] == "pending_payment"

    response = pay(client, headers, course["id"], card_method(stripe_client, DECLINED_ON_CHARGE))
    assert response.status_code == 402, response.get_data(as_text=True)
    intent_id = db.get(Course, course["id"]).payment_intent_id
    assert intent_id
    # Stripe's webhook for the same failure, delivered twice (Stripe repeats events) and once more under
    # a new event id: nothing more is queued.
    intent = intent_object(course["id"], status="requires_payment_method", intent_id=intent_id)
    event = stripe_event("payment_intent.payment_failed", intent)
    for payload in (event, event, {**event, "id": event["id"] + "x"}):
        assert post_event(client, stripe_settings, payload).status_code == 200

    [row] = outbox_rows(db)
    assert (row.kind, row.recipient) == ("payment_failed", user.email)
    assert row.dedupe_key == f"course-{course['id']}-payment-failed-{intent_id}"
    now = datetime.now(UTC)
    _deliver(app, db, now)
    _deliver(app, db, now + timedelta(minutes=5))
    [message] = smtp_server.to(user.email)
    assert smtp_server.messages == [message]
    assert message["Subject"].startswith("Card declined")
    text = message.get_body(("plain",)).get_content()
    assert "Your card was declined" in text
    assert "Your times are held until" in text
    assert f"https://massage.test/care/courses/{course['id']}/pay" in text

    # A failure reported only by webhook (another attempt) is a new message; a paid course gets none.
    other = intent_object(course["id"], status="requires_payment_method", intent_id="pi_other_attempt")
    assert (
        post_event(client, stripe_settings, stripe_event("payment_intent.payment_failed", other)).status_code
        == 200
    )
    assert len([r for r in outbox_rows(db) if r.kind == "payment_failed"]) == 2
    assert pay(client, headers, course["id"], card_method(stripe_client, VISA)).status_code == 200
    late = intent_object(course["id"], status="requires_payment_method", intent_id="pi_late_failure")
    assert (
        post_event(client, stripe_settings, stripe_event("payment_intent.payment_failed", late)).status_code
        == 200
    )
    assert len([r for r in outbox_rows(db) if r.kind == "payment_failed"]) == 2


# --- privacy ----------------------------------------------------------------------------------------------


def test_no_health_detail_appears_in_the_new_kinds_of_message(
    cards, app, client, auth, db, patient, smtp_server, stripe_client
):
    from massage_booking.domain import evidence

    _, headers = patient
    answers = {
        **NECK,
        "cancer_history": True,
        "treatment_phase": "survivorship",
        "precautions": ["bone_metastases"],
    }
    course = book_over_api(client, auth, db, patient, answers, trained=True)
    assert (
        pay(client, headers, course["id"], card_method(stripe_client, DECLINED_ON_CHARGE)).status_code == 402
    )
    assert pay(client, headers, course["id"], card_method(stripe_client, VISA)).status_code == 200
    row = db.get(Course, course["id"])
    assert row.session_notes
    _queue(db, _start(course) - timedelta(hours=23))
    therapist_user = row.therapist.user
    credential = _pending_credential(db, therapist_user)
    admin = auth.create_user("admin")
    therapists.review_credential(
        db, db.get(User, admin.id), credential.id, approve=False, links=links(), note="Unreadable."
    )
    db.commit()

    rows = outbox_rows(db)
    assert {"reminder", "payment_failed", "credential_rejected"} <= {r.kind for r in rows}
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
    for r in rows:
        texts = [r.subject, r.text_body, r.html_body, *(r.headers or {}).values()]
        texts += [base64.b64decode(a["content"]).decode() for a in r.attachments]
        for text in texts:
            for word in forbidden:
                assert word.lower() not in text.lower(), f"{word!r} in {r.kind} to {r.recipient}"
    _deliver(app, db, _start(course) - timedelta(hours=23))
    assert len(smtp_server.messages) == len(rows)
    for message in smtp_server.messages:
        raw = message.as_string().lower()
        assert not any(word in raw for word in ("neck pain", "metasta", "cancer", "m54.2"))
    assert db.scalar(select(Appointment.id).where(Appointment.course_id == row.id).limit(1))
