"""Money under real concurrency: two payments of one course, a payment racing a cancellation, a payment
racing the hold's expiry. Whatever wins, what Stripe keeps equals what the course costs (or nothing, when
the course is off), the site's balance says the same, the course is booked once and announced once.

The race that made issue 14: a patient starts paying twice (two tabs, two cards), both PaymentIntents
succeed, and their two signed `payment_intent.succeeded` webhooks arrive at the same moment. On PostgreSQL
both were applied (charged 192,000 cents for a 96,000-cent course, nothing refunded, 20 of 20 rounds); on
SQLite the writes serialise and it looked right. Each round here releases two requests together with a
barrier, each on its own database connection, against real PaymentIntents on localstripe, so the refund
the fix makes is a real one that Stripe's own records show.

The app runs on a database of its own per test (a SQLite file, or a new PostgreSQL database): in-memory
SQLite shares one connection between threads and could not race at all.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select

from massage_booking import create_app
from massage_booking.extensions import db as flask_db
from massage_booking.extensions import links
from massage_booking.models import Appointment, AppointmentStatus, Course, OutboxMessage
from massage_booking.services import course_payments
from tests.conftest import IsolatedClient
from tests.factories import (
    VISA,
    bookable_therapist,
    card_method,
    course_body,
    post_event,
    post_intake,
    stripe_event,
)

ROUNDS = 20


@pytest.fixture
def app(fresh_database_url, stripe_settings):
    """The app on its own database, with a connection for every racer and the test itself."""
    app = create_app(
        "testing",
        {
            "SQLALCHEMY_DATABASE_URI": fresh_database_url,
            "SQLALCHEMY_ENGINE_OPTIONS": {"pool_size": 8, "max_overflow": 0, "pool_timeout": 30},
            "PAYMENT_HOLD_MINUTES": 15,
            **stripe_settings,
        },
    )
    app.test_client_class = IsolatedClient
    with app.app_context():
        flask_db.create_all()
    yield app
    with app.app_context():
        flask_db.session.remove()
        flask_db.engine.dispose()


def _held_courses(client, auth, db, headers, count: int) -> list[dict]:
    """`count` held (unpaid) 8 x 60-minute courses, each with its own therapist."""
    intake_id = post_intake(client, headers)
    held = []
    for n in range(count):
        therapist_id = bookable_therapist(auth, db, f"Therapist {n}", trained=False)
        response = client.post("/api/v1/courses", json=course_body(intake_id, therapist_id), headers=headers)
        assert response.status_code == 201, response.get_data(as_text=True)
        held.append(response.get_json())
    return held


def _succeeded_intent(stripe_client, course: dict, *, amount: int | None = None, currency: str = "usd"):
    """A PaymentIntent for the course, paid by card on Stripe's side (as Stripe.js does after 3-D Secure in
    one of the patient's tabs), of which the site has not heard yet."""
    intent = stripe_client.v1.payment_intents.create(
        params={
            "amount": amount if amount is not None else course["payment"]["price_cents"],
            "currency": currency,
            "payment_method": card_method(stripe_client, VISA),
            "confirm": True,
            "metadata": {"course_id": str(course["id"])},
        }
    )
    assert intent.status == "succeeded"
    return intent


def _kept_by_stripe(stripe_client, intent_ids: list[str]) -> int:
    """What Stripe kept of these PaymentIntents: charged minus refunded, by Stripe's own records."""
    kept = 0
    for intent_id in intent_ids:
        intent = stripe_client.v1.payment_intents.retrieve(intent_id)
        if intent.status == "succeeded":
            kept += intent.amount
        refunds = stripe_client.v1.refunds.list(params={"payment_intent": intent_id})
        kept -= sum(refund.amount for refund in refunds.data)
    return kept


def _race(*actions: Callable[[], object]) -> list[object]:
    """Run the actions at the same moment, one thread each; returns what each returned (or raised)."""
    barrier = threading.Barrier(len(actions))
    results: list[object] = [None] * len(actions)

    def run(i: int, action: Callable[[], object]) -> None:
        barrier.wait(timeout=30)
        try:
            results[i] = action()
        except Exception as error:  # reported by the assertions below, not lost in the thread
            results[i] = error

    threads = [threading.Thread(target=run, args=(i, a)) for i, a in enumerate(actions)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    return results


def _deliver(app, stripe_settings, intent) -> Callable[[], int]:
    """A signed `payment_intent.succeeded` for the intent, posted by its own client; returns the status."""
    payload = stripe_event("payment_intent.succeeded", intent.to_dict())
    return lambda: post_event(app.test_client(), stripe_settings, payload).status_code


def _site_view(client, headers, course_id: int) -> dict:
    response = client.get(f"/api/v1/courses/{course_id}", headers=headers)
    assert response.status_code == 200
    return response.get_json()


def _confirmations(db, course_id: int, patient_email: str) -> int:
    """'Your course is booked' e-mails queued to the patient for this course."""
    rows = db.scalars(
        select(OutboxMessage).where(
            OutboxMessage.kind == "course_booked", OutboxMessage.recipient == patient_email
        )
    ).all()
    return sum(1 for row in rows if f"/care/courses/{course_id}" in row.text_body)


def test_two_payments_of_one_course_delivered_together_leave_it_paid_once(
    app, client, auth, db, patient, stripe_client, stripe_settings, empty_stripe, runner
):
    user, headers = patient
    held = _held_courses(client, auth, db, headers, ROUNDS)
    failures = []
    for course in held:
        tab_a, tab_b = _succeeded_intent(stripe_client, course), _succeeded_intent(stripe_client, course)
        statuses = _race(_deliver(app, stripe_settings, tab_a), _deliver(app, stripe_settings, tab_b))
        price = course["payment"]["price_cents"]
        shown = _site_view(client, headers, course["id"])
        balance = shown["payment"]["paid_cents"] - shown["payment"]["refunded_cents"]
        kept = _kept_by_stripe(stripe_client, [tab_a.id, tab_b.id])
        outcome = (
            statuses,
            kept,
            balance,
            shown["status"],
            {s["status"] for s in shown["sessions"]},
            _confirmations(db, course["id"], user.email),
        )
        if outcome != ([200, 200], price, price, "booked", {"booked"}, 1):
            failures.append((course["id"], outcome))
    assert failures == [], f"{len(failures)} of {ROUNDS} rounds went wrong: {failures[:3]}"
    # Stripe's records and the ledger agree about all 40 payments and 20 refunds.
    reconciled = runner.invoke(args=["payments", "reconcile"])
    assert reconciled.exit_code == 0, reconciled.output
    assert f"Checked {2 * ROUNDS} payment(s) and {ROUNDS} refund(s)" in reconciled.output
    assert "no mismatch" in reconciled.output


def test_a_payment_racing_the_patients_cancellation_is_never_kept(
    app, client, auth, db, patient, stripe_client, stripe_settings
):
    """The patient gives up an unpaid course ("Don't pay: release these times") while a payment they
    started in another tab succeeds. Either order: the course ends cancelled, its times free, and Stripe
    keeps nothing (the sessions are weeks away, so a paid-then-cancelled course is refunded whole)."""
    _, headers = patient
    held = _held_courses(client, auth, db, headers, 6)
    failures = []
    for course in held:
        intent = _succeeded_intent(stripe_client, course)

        def cancel(course_id: int = course["id"]) -> int:
            response = app.test_client().post(f"/api/v1/courses/{course_id}/cancel", json={}, headers=headers)
            return response.status_code

        statuses = _race(_deliver(app, stripe_settings, intent), cancel)
        shown = _site_view(client, headers, course["id"])
        balance = shown["payment"]["paid_cents"] - shown["payment"]["refunded_cents"]
        outcome = (
            statuses,
            _kept_by_stripe(stripe_client, [intent.id]),
            balance,
            shown["status"],
            {s["status"] for s in shown["sessions"]},
        )
        if outcome != ([200, 200], 0, 0, "cancelled", {"cancelled"}):
            failures.append((course["id"], outcome))
    assert failures == [], failures


def test_a_payment_racing_the_holds_expiry_books_the_course_or_is_refunded(
    app, client, auth, db, patient, stripe_client, stripe_settings
):
    """`flask expire-holds` runs just as a payment's webhook arrives, after the hold ran out. Either the
    payment books the course (Stripe keeps the price) or the hold is released first and the payment is
    refunded whole (Stripe keeps nothing); never times released while money is kept, or the reverse."""
    user, headers = patient
    held = _held_courses(client, auth, db, headers, 6)
    later = datetime.now(UTC) + timedelta(minutes=16)
    adapter = app.extensions["payments"]
    failures = []
    for course in held:
        intent = _succeeded_intent(stripe_client, course)

        def expire() -> tuple[int, int]:
            with app.app_context():
                done = course_payments.expire_holds(flask_db.session, later, adapter, links())
                flask_db.session.commit()
                return done

        statuses = _race(_deliver(app, stripe_settings, intent), expire)
        shown = _site_view(client, headers, course["id"])
        balance = shown["payment"]["paid_cents"] - shown["payment"]["refunded_cents"]
        kept = _kept_by_stripe(stripe_client, [intent.id])
        sessions = {s["status"] for s in shown["sessions"]}
        price = course["payment"]["price_cents"]
        booked = (kept, balance, shown["status"], sessions) == (price, price, "booked", {"booked"})
        released = (kept, balance, shown["status"], sessions) == (0, 0, "expired", {"released"})
        announced = _confirmations(db, course["id"], user.email)
        if statuses[0] != 200 or isinstance(statuses[1], Exception) or not (booked or released):
            failures.append((course["id"], statuses, kept, balance, shown["status"], sessions))
        elif announced != (1 if booked else 0):
            failures.append((course["id"], "confirmations", announced))
    assert failures == [], failures


def test_no_session_of_a_raced_course_is_left_held(
    app, client, auth, db, patient, stripe_client, stripe_settings
):
    """After two payments race, nothing stays half-done: no session still waits for payment."""
    _, headers = patient
    [course] = _held_courses(client, auth, db, headers, 1)
    first, second = _succeeded_intent(stripe_client, course), _succeeded_intent(stripe_client, course)
    _race(_deliver(app, stripe_settings, first), _deliver(app, stripe_settings, second))
    db.expire_all()
    statuses = db.scalars(select(Appointment.status).where(Appointment.course_id == course["id"])).all()
    assert set(statuses) == {AppointmentStatus.BOOKED} and len(statuses) == 8
    assert db.get(Course, course["id"]).paid_at is not None
