"""The money ledger against a real localstripe: every charge and refund has its row, a payment the course
cannot keep is refunded at once with the patient told why, and a course has at most one live PaymentIntent.

A payment for the wrong amount or currency never marks a course paid: a tester paid a 96,000-cent course
with a PaymentIntent of 1 cent and the site booked it.
"""

from __future__ import annotations

import pytest
import requests
from sqlalchemy import select

from massage_booking.models import (
    AuditEvent,
    ChargeOutcome,
    Course,
    CourseCharge,
    CourseRefund,
    CourseStatus,
    OutboxMessage,
)
from tests.factories import COURSE_CENTS, DECLINED_ON_CHARGE, VISA, card_method, pay, post_event, stripe_event

# `patient` and `booked` (a course held for payment) are in tests/conftest.py.

NEEDS_3DS = "4000002500003155"


@pytest.fixture
def app_overrides(stripe_settings):
    return {**stripe_settings, "PAYMENT_HOLD_MINUTES": 15}


def _paid_on_stripe(stripe_client, course_id: int, amount: int, currency: str = "usd"):
    """A PaymentIntent that succeeded on Stripe's side for the course (Stripe.js, or someone with the key)."""
    return stripe_client.v1.payment_intents.create(
        params={
            "amount": amount,
            "currency": currency,
            "payment_method": card_method(stripe_client, VISA),
            "confirm": True,
            "metadata": {"course_id": str(course_id)},
        }
    )


def _refunded_on_stripe(stripe_client, intent_id: str) -> int:
    return sum(r.amount for r in stripe_client.v1.refunds.list(params={"payment_intent": intent_id}).data)


def _shown(client, headers, course_id: int) -> dict:
    return client.get(f"/api/v1/courses/{course_id}", headers=headers).get_json()


def _mail_to(db, email: str, kind: str) -> list[OutboxMessage]:
    return list(
        db.scalars(select(OutboxMessage).where(OutboxMessage.recipient == email, OutboxMessage.kind == kind))
    )


@pytest.mark.parametrize(
    ("amount", "currency"),
    [(1, "usd"), (COURSE_CENTS - 1, "usd"), (COURSE_CENTS + 100, "usd"), (COURSE_CENTS, "eur")],
    ids=["one-cent", "a-cent-short", "too-much", "wrong-currency"],
)
def test_a_payment_of_the_wrong_amount_or_currency_never_books_the_course_and_is_refunded(
    client, db, patient, booked, stripe_client, stripe_settings, amount, currency
):
    user, headers = patient
    intent = _paid_on_stripe(stripe_client, booked["id"], amount, currency)

    response = post_event(client, stripe_settings, stripe_event("payment_intent.succeeded", intent.to_dict()))

    assert response.status_code == 200
    assert response.get_json()["outcome"] == "refunded: amount or currency mismatch"
    shown = _shown(client, headers, booked["id"])
    assert shown["status"] == "pending_payment" and {s["status"] for s in shown["sessions"]} == {
        "pending_payment"
    }
    assert shown["payment"]["paid_cents"] - shown["payment"]["refunded_cents"] == 0
    assert "did not match the price" in shown["payment"]["error"]
    assert _refunded_on_stripe(stripe_client, intent.id) == amount
    [charge] = db.scalars(select(CourseCharge)).all()
    assert (charge.outcome, charge.flagged, charge.amount_cents, charge.currency) == (
        ChargeOutcome.MISMATCH,
        True,
        amount,
        currency,
    )
    [refund] = db.scalars(select(CourseRefund)).all()
    assert (refund.payment_intent_id, refund.amount_cents, refund.currency, refund.reason) == (
        intent.id,
        amount,
        currency,
        "amount_mismatch",
    )
    [mail] = _mail_to(db, user.email, "payment_refunded")
    assert "did not match the price" in mail.text_body and "Refund of" in mail.subject
    assert db.scalar(select(AuditEvent).where(AuditEvent.action == "course.payment_mismatch")) is not None
    # The course can still be paid properly afterwards.
    paid = pay(client, headers, booked["id"], card_method(stripe_client, VISA))
    assert paid.status_code == 200 and paid.get_json()["status"] == "booked"
    assert paid.get_json()["payment"]["paid_cents"] - paid.get_json()["payment"]["refunded_cents"] == (
        COURSE_CENTS
    )


def test_a_second_payment_is_refunded_at_once_and_the_patient_told_why(
    client, db, patient, booked, stripe_client, stripe_settings
):
    user, headers = patient
    assert pay(client, headers, booked["id"], card_method(stripe_client, VISA)).status_code == 200
    second = _paid_on_stripe(stripe_client, booked["id"], COURSE_CENTS)

    response = post_event(client, stripe_settings, stripe_event("payment_intent.succeeded", second.to_dict()))

    assert response.get_json()["outcome"] == "refunded: duplicate payment"
    assert _refunded_on_stripe(stripe_client, second.id) == COURSE_CENTS
    payment = _shown(client, headers, booked["id"])["payment"]
    assert (payment["paid_cents"], payment["refunded_cents"]) == (2 * COURSE_CENTS, COURSE_CENTS)
    assert [r["reason"] for r in payment["refunds"]] == ["duplicate"]
    [mail] = _mail_to(db, user.email, "payment_refunded")
    assert "already paid" in mail.text_body
    assert len(_mail_to(db, user.email, "course_booked")) == 1
    # Reported again (Stripe repeats events; a new event id for the same PaymentIntent too): no new refund.
    again = post_event(client, stripe_settings, stripe_event("payment_intent.succeeded", second.to_dict()))
    assert again.get_json()["outcome"] == "ignored: already recorded (duplicate)"
    assert _refunded_on_stripe(stripe_client, second.id) == COURSE_CENTS
    assert len(db.scalars(select(CourseRefund)).all()) == 1


def test_a_payment_for_a_cancelled_course_is_refunded_at_once(
    client, db, patient, booked, stripe_client, stripe_settings
):
    user, headers = patient
    assert client.post(f"/api/v1/courses/{booked['id']}/cancel", json={}, headers=headers).status_code == 200
    late = _paid_on_stripe(stripe_client, booked["id"], COURSE_CENTS)

    response = post_event(client, stripe_settings, stripe_event("payment_intent.succeeded", late.to_dict()))

    assert response.get_json()["outcome"] == "refunded: course no longer held"
    assert _refunded_on_stripe(stripe_client, late.id) == COURSE_CENTS
    assert _shown(client, headers, booked["id"])["status"] == "cancelled"
    [mail] = _mail_to(db, user.email, "payment_refunded")
    assert "cancelled or its held times were released" in mail.text_body


def test_paying_again_after_a_decline_cancels_the_first_payment_intent_first(
    client, db, patient, booked, stripe_client
):
    """At most one live PaymentIntent per course: the declined attempt could still take another card in
    a forgotten tab, so it is cancelled before the next one is made."""
    _, headers = patient
    assert (
        pay(client, headers, booked["id"], card_method(stripe_client, DECLINED_ON_CHARGE)).status_code == 402
    )
    first = db.get(Course, booked["id"]).payment_intent_id
    assert first is not None

    assert pay(client, headers, booked["id"], card_method(stripe_client, VISA)).status_code == 200

    assert stripe_client.v1.payment_intents.retrieve(first).status == "canceled"
    db.expire_all()
    course = db.get(Course, booked["id"])
    assert course.payment_intent_id != first and course.payment_attempts == 2
    assert [c.payment_intent_id for c in db.scalars(select(CourseCharge))] == [course.payment_intent_id]


def test_a_3d_secure_check_left_open_in_one_tab_cannot_charge_after_another_tab_paid(
    client, db, patient, booked, stripe_client
):
    _, headers = patient
    waiting = pay(client, headers, booked["id"], card_method(stripe_client, NEEDS_3DS))
    assert waiting.status_code == 202, waiting.get_data(as_text=True)
    open_check = db.get(Course, booked["id"]).payment_intent_id

    assert pay(client, headers, booked["id"], card_method(stripe_client, VISA)).status_code == 200

    assert stripe_client.v1.payment_intents.retrieve(open_check).status == "canceled"


def test_paying_again_when_the_open_3d_secure_payment_went_through_charges_nothing_more(
    client, db, patient, booked, stripe_client, stripe_settings
):
    """The first tab finished 3-D Secure with Stripe, but its answer never reached us; the patient then
    tries another card. The earlier payment is found and books the course; the new card is not charged."""
    _, headers = patient
    assert pay(client, headers, booked["id"], card_method(stripe_client, NEEDS_3DS)).status_code == 202
    intent_id = db.get(Course, booked["id"]).payment_intent_id
    secret = stripe_client.v1.payment_intents.retrieve(intent_id).client_secret
    # What localstripe's Stripe.js does when the patient passes the check.
    requests.post(
        f"{stripe_settings['STRIPE_API_BASE']}/v1/payment_intents/{intent_id}/_authenticate",
        params={"success": "true"},
        json={"key": stripe_settings["STRIPE_PUBLISHABLE_KEY"], "client_secret": secret},
        timeout=10,
    ).raise_for_status()
    assert stripe_client.v1.payment_intents.retrieve(intent_id).status == "succeeded"

    new_card = card_method(stripe_client, VISA)
    response = pay(client, headers, booked["id"], new_card)

    assert response.status_code == 200 and response.get_json()["status"] == "booked"
    assert db.get(Course, booked["id"]).payment_intent_id == intent_id
    intents = list(stripe_client.v1.payment_intents.list(params={"limit": 100}).auto_paging_iter())
    assert intent_id in [i.id for i in intents]  # the listing reaches this test's payments
    assert [i.id for i in intents if i.payment_method == new_card] == []  # the new card was never charged


def test_the_course_totals_are_the_ledgers_sums(client, db, patient, booked, stripe_client):
    """`paid_cents` and `refunded_cents` are derived from the ledger rows, never kept apart from them."""
    _, headers = patient
    pay(client, headers, booked["id"], card_method(stripe_client, VISA))
    sessions = _shown(client, headers, booked["id"])["sessions"]
    ids = [s["id"] for s in sessions[-2:]]
    cancel = client.post(
        f"/api/v1/courses/{booked['id']}/cancel", json={"appointment_ids": ids}, headers=headers
    )
    assert cancel.status_code == 200
    db.expire_all()
    course = db.get(Course, booked["id"])
    charges = sum(c.amount_cents for c in db.scalars(select(CourseCharge)))
    refunds = sum(r.amount_cents for r in db.scalars(select(CourseRefund)))
    assert (course.paid_cents, course.refunded_cents) == (charges, refunds) == (COURSE_CENTS, 2 * 12_000)
    assert course.status is CourseStatus.BOOKED
