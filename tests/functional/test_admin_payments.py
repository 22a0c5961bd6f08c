"""The admin payments page: the ledger reconciled with Stripe (localstripe here), and flagged payments that
an administrator marks reviewed. Admins only; ids and amounts only."""

from __future__ import annotations

import re
import socket

import pytest
from sqlalchemy import select

from massage_booking.models import AuditEvent, ChargeOutcome, Course, CourseCharge
from massage_booking.payments import PaymentIntentResult, StripePayments
from massage_booking.services import payment_ledger
from tests.conftest import AuthActions
from tests.factories import (
    COURSE_CENTS,
    SESSION_CENTS,
    VISA,
    card_method,
    intent_object,
    post_event,
    stripe_event,
)

# `patient`, `booked` (a course held for payment) and `paid` are in tests/conftest.py.

# localstripe is shared by the test session: each test here starts from an empty one.
pytestmark = pytest.mark.usefixtures("empty_stripe")


@pytest.fixture
def app_overrides(stripe_settings):
    return {**stripe_settings, "PAYMENT_HOLD_MINUTES": 15}


@pytest.fixture
def admin_client(app, auth):
    """An administrator logged in on a client of their own (the patient's API calls use `client`)."""
    admin = auth.create_user("admin", email="admin@example.org")
    browser = app.test_client()
    login = AuthActions(app, browser).login(admin.email)
    assert login.status_code == 302
    return browser


def _text(response) -> str:
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", response.get_data(as_text=True)))


def _flag_a_wrong_amount_payment(app, db, client, stripe_settings, course_id: int) -> str:
    """A payment of the wrong amount, reported by a signed webhook: the app refunds it and flags it."""
    intent = app.extensions["payments"].create_payment_intent(
        5_000,
        "usd",
        {"course_id": course_id},
        f"odd-{course_id}",
        payment_method="pm_card_visa",
        confirm=True,
    )
    event = stripe_event(
        "payment_intent.succeeded",
        intent_object(course_id, status="succeeded", amount=5_000, intent_id=intent.id),
    )
    assert post_event(client, stripe_settings, event).get_json()["outcome"].startswith("refunded")
    return intent.id


def _mark_reviewed_form(page: str) -> tuple[str, str]:
    action = re.search(r'action="(/admin/payments/charges/\d+/reviewed)"', page).group(1)
    token = re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)
    return action, token


def test_the_admin_sees_stripe_and_the_ledger_agree(client, admin_client, patient, paid):
    _, headers = patient
    one = [paid["sessions"][4]["id"]]
    cancelled = client.post(
        f"/api/v1/courses/{paid['id']}/cancel", json={"appointment_ids": one}, headers=headers
    )
    assert cancelled.status_code == 200 and cancelled.get_json()["refund"]["amount_cents"] == SESSION_CENTS

    response = admin_client.get("/admin/payments")

    assert response.status_code == 200
    text = _text(response)
    assert "Stripe and the ledger agree: 1 payment and 1 refund since" in text
    assert "No flagged payments are waiting for review." in text
    assert 'href="/admin/payments" aria-current="page"' in response.get_data(as_text=True)  # in the nav


def test_a_payment_behind_the_apps_back_is_a_row_of_the_table(admin_client, patient, paid, stripe_client):
    stray = stripe_client.v1.payment_intents.create(
        params={
            "amount": COURSE_CENTS,
            "currency": "usd",
            "metadata": {"course_id": str(paid["id"])},
            "payment_method": card_method(stripe_client, VISA),
            "confirm": True,
        }
    )

    response = admin_client.get("/admin/payments")

    assert response.status_code == 200
    page = response.get_data(as_text=True)
    rows = re.findall(r'<tr class="mismatch" data-kind="([a-z_]+)">(.*?)</tr>', page, re.S)
    assert [kind for kind, _ in rows] == ["charge_not_in_ledger"]
    assert stray.id in rows[0][1] and "$960" in rows[0][1]
    assert "1 difference between Stripe and the ledger, in 2 payments and 0 refunds" in _text(response)
    user, _ = patient
    assert user.display_name not in page and user.email not in page


def test_a_bad_since_date_is_explained(admin_client, empty_stripe):
    response = admin_client.get("/admin/payments?since=2026-02-30")
    assert response.status_code == 422
    assert "Give a date as YYYY-MM-DD" in _text(response)


def test_since_narrows_the_comparison(admin_client, paid):
    response = admin_client.get("/admin/payments?since=2999-01-01")
    assert response.status_code == 200
    assert "agree: 0 payments and 0 refunds since January 1, 2999" in _text(response)


@pytest.mark.parametrize("role", ["patient", "therapist", "insurer"])
def test_only_admins_see_the_page_or_mark_payments_reviewed(app, auth, role):
    user = auth.create_user(role)
    other = app.test_client()
    actions = AuthActions(app, other)
    actions.login(user.email)
    assert other.get("/admin/payments").status_code == 403
    token = actions.csrf_token("/")
    assert other.post("/admin/payments/charges/1/reviewed", data={"csrf_token": token}).status_code == 403


def test_anonymous_visitors_are_sent_to_log_in(client):
    response = client.get("/admin/payments")
    assert response.status_code == 302 and "/login" in response.headers["Location"]


def test_a_flagged_payment_is_listed_until_marked_reviewed(
    app, db, client, admin_client, stripe_settings, booked
):
    intent_id = _flag_a_wrong_amount_payment(app, db, client, stripe_settings, booked["id"])

    page = admin_client.get("/admin/payments")
    assert page.status_code == 200
    text = _text(page)
    assert intent_id in text and "$50" in text and "Mark reviewed" in text
    assert "Stripe and the ledger agree: 1 payment and 1 refund" in text  # refunded whole: no mismatch

    action, token = _mark_reviewed_form(page.get_data(as_text=True))
    assert admin_client.post(action, data={}).status_code == 400  # no CSRF token
    response = admin_client.post(action, data={"csrf_token": token}, follow_redirects=True)

    assert response.status_code == 200
    text = _text(response)
    assert "Marked the payment reviewed" in text
    assert intent_id not in text and "No flagged payments are waiting for review." in text
    db.expire_all()
    charge = db.scalar(select(CourseCharge).where(CourseCharge.payment_intent_id == intent_id))
    assert charge.reviewed_at is not None
    [event] = db.scalars(select(AuditEvent).where(AuditEvent.action == "payment.charge_reviewed")).all()
    assert (event.subject_type, event.subject_id) == ("course_charge", str(charge.id))
    assert event.details == {"course_id": booked["id"], "payment_intent_id": intent_id, "outcome": "mismatch"}
    assert event.actor_id is not None
    # Again (a second tab): nothing changes, and it says so.
    again = admin_client.post(action, data={"csrf_token": token}, follow_redirects=True)
    assert "already marked that payment reviewed" in _text(again)
    assert (
        len(db.scalars(select(AuditEvent).where(AuditEvent.action == "payment.charge_reviewed")).all()) == 1
    )


def test_an_unflagged_or_unknown_charge_cannot_be_marked(db, admin_client, paid):
    charge = db.scalar(select(CourseCharge).where(CourseCharge.course_id == paid["id"]))
    page = admin_client.get("/admin/payments").get_data(as_text=True)
    token = re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)
    for charge_id in (charge.id, 9999):
        response = admin_client.post(
            f"/admin/payments/charges/{charge_id}/reviewed", data={"csrf_token": token}
        )
        assert response.status_code == 404


def _flagged_row(db, course_id: int) -> None:
    course = db.get(Course, course_id)
    intent = PaymentIntentResult(
        id="pi_flaggedbefore", status="succeeded", client_secret=None, amount=1, currency="usd"
    )
    payment_ledger.record_charge(db, course, intent, ChargeOutcome.MISMATCH)
    db.commit()


def test_with_card_payments_off_the_page_says_so_and_lists_flagged_payments(app, db, admin_client, booked):
    _flagged_row(db, booked["id"])
    app.extensions["payments"] = StripePayments(None)

    response = admin_client.get("/admin/payments")

    assert response.status_code == 200
    text = _text(response)
    assert "Card payments are off." in text and "pi_flaggedbefore" in text
    assert "Stripe and the ledger agree" not in text


def test_stripe_out_of_reach_is_said_on_the_page_not_a_500(app, db, admin_client, booked):
    _flagged_row(db, booked["id"])
    with socket.socket() as sock:  # a loopback port nothing listens on
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    app.extensions["payments"] = StripePayments(
        "sk_test_localstripe", api_base=f"http://127.0.0.1:{port}", max_network_retries=0, timeout_seconds=2
    )

    response = admin_client.get("/admin/payments")

    assert response.status_code == 502
    text = _text(response)
    assert "Stripe could not be reached, so nothing was compared." in text
    assert "pi_flaggedbefore" in text  # the ledger's own list still shows


def test_a_refund_made_on_stripe_is_a_row_with_both_sides_amounts(db, admin_client, paid, stripe_client):
    intent_id = db.get(Course, paid["id"]).payment_intent_id
    refund = stripe_client.v1.refunds.create(params={"payment_intent": intent_id, "amount": SESSION_CENTS})

    page = admin_client.get("/admin/payments").get_data(as_text=True)

    rows = re.findall(r'<tr class="mismatch" data-kind="([a-z_]+)">(.*?)</tr>', page, re.S)
    assert [kind for kind, _ in rows] == ["refund_not_in_ledger"]
    assert refund.id in rows[0][1] and "$120" in rows[0][1] and "none" in rows[0][1]
