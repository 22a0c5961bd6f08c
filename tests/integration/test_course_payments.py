"""Paying for courses against a real localstripe server: card payments, declines, holds that expire,
signed webhooks applied once, refunds by policy, and no card data or keys in our logs or database.

The "browser" in these tests turns a card number into a PaymentMethod by calling localstripe directly, as
Stripe.js does; our server only ever sees the PaymentMethod id.
"""

from __future__ import annotations

import logging
import re
import time as clock
from datetime import UTC, datetime, timedelta

import pytest
import stripe
from sqlalchemy import func, select, text

from massage_booking.extensions import db as flask_db
from massage_booking.extensions import links
from massage_booking.models import (
    Appointment,
    AppointmentStatus,
    AuditEvent,
    Base,
    Course,
    CourseStatus,
    StripeEvent,
)
from massage_booking.services import course_payments, courses, slots
from tests.factories import (
    COURSE_CENTS,
    DECLINED_ON_CHARGE,
    SESSION_CENTS,
    VISA,
    card_method,
    course_body,
    intent_object,
    pay,
    post_event,
    post_intake,
    signed_webhook,
    stripe_event,
)

# `patient`, `booked` (a course held for payment) and `paid` are in tests/conftest.py.


@pytest.fixture
def app_overrides(stripe_settings):
    return {**stripe_settings, "PAYMENT_HOLD_MINUTES": 15}


# --- paying ------------------------------------------------------------------------------------------------


def test_a_new_course_holds_its_times_for_fifteen_minutes_at_its_price(booked):
    assert booked["status"] == "pending_payment"
    assert {s["status"] for s in booked["sessions"]} == {"pending_payment"}
    payment = booked["payment"]
    assert (payment["mode"], payment["price_cents"], payment["session_price_cents"]) == (
        "card",
        COURSE_CENTS,
        SESSION_CENTS,
    )
    assert payment["paid_cents"] == 0 and payment["currency"] == "usd"
    held_for = datetime.fromisoformat(payment["hold_expires_at"]) - datetime.now(UTC)
    assert timedelta(minutes=14) < held_for <= timedelta(minutes=15)


def test_card_4242_pays_and_confirms_the_course(client, db, patient, booked, stripe_client, caplog):
    caplog.set_level(logging.DEBUG)
    _, headers = patient
    response = pay(client, headers, booked["id"], card_method(stripe_client, VISA))

    assert response.status_code == 200, response.get_data(as_text=True)
    course = response.get_json()
    assert course["status"] == "booked"
    assert {s["status"] for s in course["sessions"]} == {"booked"}
    assert course["payment"]["paid_cents"] == COURSE_CENTS and course["payment"]["hold_expires_at"] is None
    stored = db.get(Course, booked["id"])
    intent = stripe_client.v1.payment_intents.retrieve(stored.payment_intent_id)
    assert (intent.status, intent.amount, intent.currency) == ("succeeded", COURSE_CENTS, "usd")
    # Stripe learns ids only: nothing says what the care is for.
    assert set(intent.metadata.to_dict()) == {"course_id", "patient_id", "therapist_id"}
    assert intent.to_dict().get("description") is None
    # Paying again is refused, and charges nothing.
    again = pay(client, headers, booked["id"], card_method(stripe_client, VISA))
    assert again.status_code == 409 and "already paid" in again.get_json()["error"]["message"]


def test_a_declined_card_leaves_the_course_unpaid_and_its_times_are_released_at_expiry(
    app, client, db, patient, booked, stripe_client
):
    _, headers = patient
    response = pay(client, headers, booked["id"], card_method(stripe_client, DECLINED_ON_CHARGE))

    assert response.status_code == 402
    error = response.get_json()["error"]
    assert error["code"] == "payment_declined" and error["message"] == "Your card was declined."
    shown = client.get(f"/api/v1/courses/{booked['id']}", headers=headers).get_json()
    assert shown["status"] == "pending_payment" and shown["payment"]["paid_cents"] == 0
    assert shown["payment"]["error"] == "Your card was declined."

    course = db.get(Course, booked["id"])
    first = datetime.fromisoformat(booked["sessions"][0]["start"])
    expires = course.hold_expires_at

    def offered(now: datetime) -> bool:
        free = slots.free_slots(db, course.therapist_id, first, first + timedelta(hours=1), 60, now)
        return first in [s.start for s in free]

    assert not offered(expires - timedelta(seconds=1))  # held: nobody else can take it
    assert offered(expires + timedelta(seconds=1))  # expired: free again, before anything writes

    released, confirmed = course_payments.expire_holds(
        db, expires + timedelta(seconds=1), app.extensions["payments"], links()
    )
    db.commit()
    assert (released, confirmed) == (1, 0)
    db.refresh(course)
    assert course.status is CourseStatus.EXPIRED
    statuses = db.scalars(select(Appointment.status).where(Appointment.course_id == course.id)).all()
    assert set(statuses) == {AppointmentStatus.RELEASED}
    # Paying after the hold ran out is refused with a reason.
    late = pay(client, headers, booked["id"], card_method(stripe_client, VISA))
    assert late.status_code == 409 and "released" in late.get_json()["error"]["message"]


def test_the_expire_holds_command_releases_and_cancels_the_unpaid_payment_intent(
    app, client, db, runner, patient, booked, stripe_client
):
    _, headers = patient
    assert (
        pay(client, headers, booked["id"], card_method(stripe_client, DECLINED_ON_CHARGE)).status_code == 402
    )
    course = db.get(Course, booked["id"])
    db.refresh(course)
    intent_id = course.payment_intent_id
    assert intent_id == _intent_left_by_decline(stripe_client, course.id)
    course.hold_expires_at = datetime.now(UTC) - timedelta(seconds=1)
    db.commit()

    result = runner.invoke(args=["expire-holds"])

    assert result.exit_code == 0, result.output
    assert "Released 1 expired hold" in result.output
    db.expire_all()
    assert db.get(Course, booked["id"]).status is CourseStatus.EXPIRED
    assert stripe_client.v1.payment_intents.retrieve(intent_id).status == "canceled"


def _intent_left_by_decline(stripe_client: stripe.StripeClient, course_id: int) -> str:
    found = [
        pi.id
        for pi in stripe_client.v1.payment_intents.list(params={"limit": 100}).data
        if pi.metadata.to_dict().get("course_id") == str(course_id)
    ]
    assert found, "the declined attempt left no PaymentIntent"
    return found[-1]


def test_a_card_number_sent_instead_of_a_payment_method_is_refused_without_being_echoed(
    client, db, patient, booked, caplog
):
    caplog.set_level(logging.DEBUG)
    _, headers = patient
    response = pay(client, headers, booked["id"], VISA)
    assert response.status_code == 422
    assert VISA not in response.get_data(as_text=True) and VISA not in caplog.text
    assert db.get(Course, booked["id"]).status is CourseStatus.PENDING_PAYMENT


def test_only_the_patient_can_pay_their_course(client, auth, db, booked, stripe_client):
    other = auth.create_user("patient")
    headers = {"Authorization": f"Bearer {auth.api_token(other.email)}"}
    response = pay(client, headers, booked["id"], card_method(stripe_client, VISA))
    assert response.status_code == 404
    assert db.get(Course, booked["id"]).paid_cents == 0
    denied = db.scalar(
        select(func.count()).select_from(AuditEvent).where(AuditEvent.action == "course.read_denied")
    )
    assert denied == 1


# --- webhooks ----------------------------------------------------------------------------------------------


def test_a_succeeded_webhook_confirms_the_course_once_however_often_it_is_sent(
    client, db, stripe_settings, booked
):
    event = stripe_event("payment_intent.succeeded", intent_object(booked["id"], status="succeeded"))

    first = post_event(client, stripe_settings, event)
    replay = post_event(client, stripe_settings, event)

    assert (first.status_code, first.get_json()["outcome"]) == (200, "confirmed")
    assert (replay.status_code, replay.get_json()["outcome"]) == (200, "duplicate")
    course = db.get(Course, booked["id"])
    db.refresh(course)
    assert course.status is CourseStatus.BOOKED and course.paid_cents == COURSE_CENTS
    assert db.scalar(select(func.count()).select_from(StripeEvent)) == 1
    paid = db.scalar(select(func.count()).select_from(AuditEvent).where(AuditEvent.action == "course.paid"))
    assert paid == 1


def test_a_late_failure_after_success_changes_nothing(client, db, stripe_settings, booked):
    intent = intent_object(booked["id"], status="succeeded")
    assert (
        post_event(client, stripe_settings, stripe_event("payment_intent.succeeded", intent)).status_code
        == 200
    )
    failed = {**intent, "status": "requires_payment_method", "last_payment_error": {"message": "Declined."}}

    response = post_event(client, stripe_settings, stripe_event("payment_intent.payment_failed", failed))

    assert response.status_code == 200 and response.get_json()["outcome"] == "ignored: course booked"
    course = db.get(Course, booked["id"])
    db.refresh(course)
    assert course.status is CourseStatus.BOOKED and course.payment_error is None
    assert course.paid_cents == COURSE_CENTS


def test_a_failure_before_success_is_shown_and_the_later_success_still_books(
    client, db, stripe_settings, booked
):
    intent = intent_object(booked["id"], status="requires_payment_method")
    post_event(client, stripe_settings, stripe_event("payment_intent.payment_failed", intent))
    course = db.get(Course, booked["id"])
    db.refresh(course)
    assert course.status is CourseStatus.PENDING_PAYMENT and course.payment_error == "Your card was declined."

    ok = {**intent, "status": "succeeded"}
    assert post_event(client, stripe_settings, stripe_event("payment_intent.succeeded", ok)).get_json()[
        "outcome"
    ] == ("confirmed")
    db.refresh(course)
    assert course.status is CourseStatus.BOOKED and course.payment_error is None


@pytest.mark.parametrize(
    "tamper",
    ["wrong secret", "altered body", "no signature", "stale timestamp"],
)
def test_a_forged_webhook_gets_400_and_changes_nothing(client, db, stripe_settings, booked, tamper):
    event = stripe_event("payment_intent.succeeded", intent_object(booked["id"], status="succeeded"))
    secret = stripe_settings["STRIPE_WEBHOOK_SECRET"]
    body, signature = signed_webhook(event, "whsec_forged" if tamper == "wrong secret" else secret)
    headers = {"Stripe-Signature": signature, "Content-Type": "application/json"}
    if tamper == "altered body":
        body = body.replace(str(COURSE_CENTS).encode(), b"1")
    elif tamper == "no signature":
        headers.pop("Stripe-Signature")
    elif tamper == "stale timestamp":
        body, signature = signed_webhook(event, secret, at=int(clock.time()) - 3600)
        headers["Stripe-Signature"] = signature

    response = client.post("/stripe/webhook", data=body, headers=headers)

    assert response.status_code == 400
    assert response.get_json()["error"]["code"] == "signature_invalid"
    course = db.get(Course, booked["id"])
    db.refresh(course)
    assert course.status is CourseStatus.PENDING_PAYMENT and course.paid_cents == 0
    assert db.scalar(select(func.count()).select_from(StripeEvent)) == 0


def test_a_payment_arriving_after_release_is_refunded_in_full(
    app, client, db, stripe_settings, booked, stripe_client
):
    course = db.get(Course, booked["id"])
    payments = app.extensions["payments"]
    course_payments.expire_holds(db, course.hold_expires_at + timedelta(seconds=1), payments, links())
    db.commit()
    # The abandoned tab pays anyway (a real charge on localstripe, for this course).
    intent = payments.create_payment_intent(
        COURSE_CENTS,
        "usd",
        {"course_id": course.id},
        f"late-{course.id}",
        payment_method="pm_card_visa",
        confirm=True,
    )
    event = stripe_event(
        "payment_intent.succeeded", intent_object(course.id, status="succeeded", intent_id=intent.id)
    )

    response = post_event(client, stripe_settings, event)

    assert response.get_json()["outcome"] == "refunded: course no longer held"
    db.refresh(course)
    assert course.status is CourseStatus.EXPIRED
    assert (course.paid_cents, course.refunded_cents) == (COURSE_CENTS, COURSE_CENTS)
    refunds = stripe_client.v1.refunds.list(params={"payment_intent": intent.id}).data
    assert [r.amount for r in refunds] == [COURSE_CENTS]


# --- refunds -----------------------------------------------------------------------------------------------


def test_cancelling_two_sessions_a_day_ahead_refunds_exactly_their_price_seen_by_both_sides(
    client, auth, db, patient, paid, stripe_client
):
    _, headers = patient
    two = [paid["sessions"][2]["id"], paid["sessions"][5]["id"]]

    response = client.post(
        f"/api/v1/courses/{paid['id']}/cancel", json={"appointment_ids": two}, headers=headers
    )

    assert response.status_code == 200, response.get_data(as_text=True)
    body = response.get_json()
    assert body["refund"]["amount_cents"] == 2 * SESSION_CENTS
    assert sorted(body["refund"]["appointment_ids"]) == sorted(two)
    assert body["payment"]["refunded_cents"] == 2 * SESSION_CENTS
    intent_id = db.get(Course, paid["id"]).payment_intent_id
    refunds = stripe_client.v1.refunds.list(params={"payment_intent": intent_id}).data
    assert [r.amount for r in refunds] == [2 * SESSION_CENTS]
    # The therapist sees the same refund on the course.
    therapist = db.get(Course, paid["id"]).therapist.user
    therapist_headers = {"Authorization": f"Bearer {auth.api_token(therapist.email)}"}
    seen = client.get(f"/api/v1/courses/{paid['id']}", headers=therapist_headers).get_json()
    assert seen["payment"]["refunded_cents"] == 2 * SESSION_CENTS
    assert [r["amount_cents"] for r in seen["payment"]["refunds"]] == [2 * SESSION_CENTS]


def test_inside_24_hours_only_a_therapist_waiver_refunds(app, db, paid):
    course = db.get(Course, paid["id"])
    therapist = course.therapist.user
    payments = app.extensions["payments"]
    sessions = courses.sessions_of(db, course)
    soon = sessions[0].starts_at - timedelta(hours=2)  # "now" two hours before session 1

    kept = courses.cancel_appointments(db, therapist, course, [sessions[0].id], soon, payments, links=links())
    waived = courses.cancel_appointments(
        db, therapist, course, [sessions[1].id], soon, payments, links=links(), waive_notice=True
    )
    db.commit()

    assert kept.refund is None  # 2 hours ahead, no waiver: the late-cancellation fee stands
    assert waived.refund is not None and waived.refund.amount_cents == SESSION_CENTS and waived.refund.waived
    db.refresh(course)
    assert course.refunded_cents == SESSION_CENTS


def test_a_patient_cannot_waive_the_notice(client, patient, paid):
    _, headers = patient
    response = client.post(
        f"/api/v1/courses/{paid['id']}/cancel",
        json={"appointment_ids": [paid["sessions"][3]["id"]], "waive_late_fee": True},
        headers=headers,
    )
    assert response.status_code == 403


# --- no secrets stored or logged -------------------------------------------------------------------------


def test_no_card_number_cvc_or_secret_key_reaches_the_database_or_the_logs(
    app, client, patient, booked, stripe_client, stripe_settings, caplog
):
    _, headers = patient
    # The "browser" gives the cards to Stripe first (the SDK would log them in this test process).
    declined, visa = card_method(stripe_client, DECLINED_ON_CHARGE), card_method(stripe_client, VISA)
    caplog.set_level(logging.DEBUG)  # every logger of the app, the SDK's and SQLAlchemy's included
    pay(client, headers, booked["id"], declined)
    pay(client, headers, booked["id"], visa)
    client.post(
        f"/api/v1/courses/{booked['id']}/cancel",
        json={"appointment_ids": [booked["sessions"][4]["id"]]},
        headers=headers,
    )

    secret_key = stripe_settings["STRIPE_SECRET_KEY"]
    forbidden = [VISA, DECLINED_ON_CHARGE, "4242 4242", secret_key, stripe_settings["STRIPE_WEBHOOK_SECRET"]]
    assert caplog.records, "the payment flow logged nothing at all: the capture is not working"
    for needle in forbidden:
        assert needle not in caplog.text
    with app.app_context():
        dump = _database_text()
    for needle in forbidden:
        assert needle not in dump
    # A word of its own: Stripe's random ids (re_ufmcvczer9cytf) may spell "cvc" by chance.
    assert not re.search(r"(?<![a-z0-9])cvc(?![a-z0-9])", dump.lower())


def _database_text() -> str:
    """Every row of every table, as text."""
    parts = []
    with flask_db.engine.connect() as connection:
        for table in Base.metadata.sorted_tables:
            for row in connection.execute(text(f'SELECT * FROM "{table.name}"')):  # noqa: S608 - our tables
                parts.append(repr(tuple(row)))
    return "\n".join(parts)


# --- holds and other bookers --------------------------------------------------------------------------------


def _other_patient_books_the_same_times(client, auth, booked):
    other = auth.create_user("patient")
    headers = {"Authorization": f"Bearer {auth.api_token(other.email)}"}
    intake_id = post_intake(client, headers)
    therapist_id = booked["therapist"]["id"]
    return client.post("/api/v1/courses", json=course_body(intake_id, therapist_id), headers=headers)


def test_held_times_cannot_be_booked_by_anyone_else(client, auth, booked):
    response = _other_patient_books_the_same_times(client, auth, booked)
    assert response.status_code == 409
    assert len(response.get_json()["error"]["details"]["conflicts"]) == 8


def test_an_expired_hold_gives_way_to_the_next_booking_even_before_it_is_released(client, auth, db, booked):
    course = db.get(Course, booked["id"])
    course.hold_expires_at = datetime.now(UTC) - timedelta(seconds=1)  # ran out; nothing released it yet
    db.commit()

    response = _other_patient_books_the_same_times(client, auth, booked)

    # On PostgreSQL the no-overlap constraint counts held sessions: the booking released them first.
    assert response.status_code == 201, response.get_data(as_text=True)
    db.refresh(course)
    assert course.status is CourseStatus.EXPIRED


def test_an_event_whose_effect_fails_is_not_recorded_so_stripe_can_retry_it(
    client, db, stripe_settings, booked
):
    course = db.get(Course, booked["id"])
    course.status = CourseStatus.EXPIRED  # released: a payment for it must be refunded
    db.commit()
    # Stripe refuses the refund (it has no such PaymentIntent): the whole event rolls back.
    event = stripe_event(
        "payment_intent.succeeded", intent_object(course.id, status="succeeded", intent_id="pi_unknown")
    )

    response = post_event(client, stripe_settings, event)

    assert response.status_code == 502
    assert db.scalar(select(func.count()).select_from(StripeEvent)) == 0
    db.refresh(course)
    assert (course.paid_cents, course.refunded_cents) == (0, 0)


@pytest.mark.parametrize("method", ["pm_unknown123", "pm_é"])
def test_an_unknown_or_malformed_payment_method_is_422_and_changes_nothing(
    client, db, patient, booked, method
):
    _, headers = patient
    response = pay(client, headers, booked["id"], method)
    assert response.status_code == 422, response.get_data(as_text=True)
    course = db.get(Course, booked["id"])
    db.refresh(course)
    assert course.status is CourseStatus.PENDING_PAYMENT and course.paid_cents == 0
