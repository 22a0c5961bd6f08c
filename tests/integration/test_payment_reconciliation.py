"""Reconciling the money ledger with Stripe: every kind of disagreement on plain lists, then
`flask payments reconcile` against a real localstripe, with payments and refunds made through the app and
behind its back.

localstripe is one server for the whole test session, and course ids repeat across the tests' fresh
databases, so each end-to-end test empties it first (`empty_stripe`): another test's PaymentIntent for
"course 1" would otherwise look like a payment behind this test's back.
"""

from __future__ import annotations

import socket
from datetime import UTC, datetime, timedelta

import pytest
import stripe
from sqlalchemy import select

from massage_booking.domain.errors import ValidationFailed
from massage_booking.models import ChargeOutcome, Course, CourseCharge
from massage_booking.payments import ListedPaymentIntent, ListedRefund, StripePayments
from massage_booking.services import payment_reconciliation as rec
from massage_booking.services.payment_reconciliation import LedgerCharge, LedgerRefund, MismatchKind
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

SINCE = datetime(2026, 1, 1, tzinfo=UTC)
CREATED = int(SINCE.timestamp()) + 3600


# --- the comparison, on plain lists ------------------------------------------------------------------------


def _intent(pi="pi_1", course=1, amount=COURSE_CENTS, status="succeeded", currency="usd", **more):
    return ListedPaymentIntent(
        id=pi, status=status, amount=amount, currency=currency, course_id=course, created=CREATED, **more
    )


def _stripe_refund(refund_id="re_1", pi="pi_1", amount=SESSION_CENTS, status="succeeded", currency="usd"):
    return ListedRefund(
        id=refund_id,
        payment_intent_id=pi,
        charge_id=None,
        amount=amount,
        currency=currency,
        status=status,
        created=CREATED + 60,
    )


def _charge(pi="pi_1", course=1, amount=COURSE_CENTS, outcome=ChargeOutcome.PAID, currency="usd"):
    return LedgerCharge(
        id=1, course_id=course, payment_intent_id=pi, amount_cents=amount, currency=currency, outcome=outcome
    )


def _ledger_refund(refund_id="re_1", pi="pi_1", course=1, amount=SESSION_CENTS, currency="usd"):
    return LedgerRefund(
        stripe_refund_id=refund_id,
        course_id=course,
        payment_intent_id=pi,
        amount_cents=amount,
        currency=currency,
    )


def _kinds(report) -> list[tuple[str, str | None]]:
    return [(m.kind.value, m.payment_intent_id) for m in report.mismatches]


def test_a_paid_course_with_a_partial_refund_agrees():
    report = rec.compare(SINCE, [_intent()], [_stripe_refund()], [_charge()], [_ledger_refund()])
    assert report.agrees and report.mismatches == []
    assert (report.payments_checked, report.refunds_checked, report.not_comparable) == (1, 1, 0)


def test_intents_that_are_not_ours_or_never_succeeded_are_not_mismatches():
    foreign = _intent("pi_foreign", course=None)
    declined = _intent("pi_declined", status="requires_payment_method")
    report = rec.compare(SINCE, [foreign, declined], [_stripe_refund("re_x", pi="pi_foreign")], [], [])
    assert report.agrees
    assert (report.payments_checked, report.refunds_checked) == (0, 0)


def test_a_succeeded_payment_missing_from_the_ledger_is_one_line():
    report = rec.compare(SINCE, [_intent("pi_back")], [], [], [], known_course_ids={1})
    [mismatch] = report.mismatches
    assert (mismatch.kind, mismatch.course_id, mismatch.payment_intent_id) == (
        MismatchKind.CHARGE_NOT_IN_LEDGER,
        1,
        "pi_back",
    )
    assert (mismatch.stripe_cents, mismatch.ledger_cents, mismatch.currency) == (COURSE_CENTS, None, "usd")
    assert mismatch.message.startswith("Charged on Stripe, not in the ledger")


def test_a_payment_for_a_course_this_database_lacks_says_so():
    report = rec.compare(SINCE, [_intent(course=77)], [], [], [], known_course_ids={1})
    assert "for a course this database does not have" in report.mismatches[0].message


def test_a_ledger_charge_stripe_does_not_know():
    report = rec.compare(SINCE, [], [], [_charge("pi_ghost")], [])
    assert _kinds(report) == [("charge_unknown_to_stripe", "pi_ghost")]
    assert (report.mismatches[0].stripe_cents, report.mismatches[0].ledger_cents) == (None, COURSE_CENTS)


def test_a_ledger_charge_on_a_payment_without_our_metadata_is_still_compared():
    report = rec.compare(SINCE, [_intent(course=None)], [], [_charge()], [])
    assert report.agrees and report.payments_checked == 1


def test_a_ledger_charge_whose_payment_did_not_succeed():
    report = rec.compare(SINCE, [_intent(status="canceled")], [], [_charge()], [])
    assert _kinds(report) == [("charge_not_succeeded", "pi_1")]
    assert "canceled" in report.mismatches[0].message


@pytest.mark.parametrize(("amount", "currency"), [(COURSE_CENTS - 1, "usd"), (COURSE_CENTS, "eur")])
def test_a_ledger_charge_of_another_amount_or_currency(amount, currency):
    report = rec.compare(SINCE, [_intent(amount=amount, currency=currency)], [], [_charge()], [])
    assert _kinds(report) == [("charge_amount_differs", "pi_1")]
    assert (report.mismatches[0].stripe_cents, report.mismatches[0].ledger_cents) == (amount, COURSE_CENTS)


def test_a_ledger_charge_booked_to_another_course():
    report = rec.compare(SINCE, [_intent(course=2)], [], [_charge(course=1)], [])
    assert _kinds(report) == [("charge_course_differs", "pi_1")]


def test_a_refund_on_stripe_missing_from_the_ledger():
    report = rec.compare(SINCE, [_intent()], [_stripe_refund("re_back")], [_charge()], [])
    [mismatch] = report.mismatches
    assert (mismatch.kind, mismatch.refund_id, mismatch.stripe_cents, mismatch.ledger_cents) == (
        MismatchKind.REFUND_NOT_IN_LEDGER,
        "re_back",
        SESSION_CENTS,
        None,
    )


def test_a_refund_on_a_bare_charge_is_tied_to_its_payment_intent():
    refund = ListedRefund(
        id="re_c",
        payment_intent_id=None,
        charge_id="ch_1",
        amount=100,
        currency="usd",
        status="succeeded",
        created=0,
    )
    report = rec.compare(SINCE, [_intent(latest_charge_id="ch_1")], [refund], [_charge()], [])
    assert [(m.kind.value, m.refund_id) for m in report.mismatches] == [("refund_not_in_ledger", "re_c")]


def test_a_failed_refund_the_ledger_never_counted_agrees():
    report = rec.compare(SINCE, [_intent()], [_stripe_refund(status="failed")], [_charge()], [])
    assert report.agrees


def test_a_ledger_refund_that_failed_on_stripe():
    report = rec.compare(
        SINCE, [_intent()], [_stripe_refund(status="failed")], [_charge()], [_ledger_refund()]
    )
    assert _kinds(report) == [("refund_not_succeeded", "pi_1")]


def test_a_ledger_refund_of_another_amount():
    report = rec.compare(
        SINCE, [_intent()], [_stripe_refund(amount=SESSION_CENTS)], [_charge()], [_ledger_refund(amount=1)]
    )
    assert _kinds(report) == [("refund_amount_differs", "pi_1")]
    assert (report.mismatches[0].stripe_cents, report.mismatches[0].ledger_cents) == (SESSION_CENTS, 1)


def test_a_ledger_refund_on_another_payment_is_one_line():
    intents = [_intent("pi_1"), _intent("pi_2")]
    charges = [_charge("pi_1"), LedgerCharge(2, 1, "pi_2", COURSE_CENTS, "usd", ChargeOutcome.DUPLICATE)]
    refunds = [_stripe_refund("re_1", pi="pi_2", amount=COURSE_CENTS)]
    ledger = [_ledger_refund("re_1", pi="pi_1", amount=COURSE_CENTS)]
    report = rec.compare(SINCE, intents, refunds, charges, ledger)
    assert _kinds(report) == [("refund_payment_differs", "pi_2")]


def test_a_ledger_refund_stripe_does_not_have():
    report = rec.compare(SINCE, [_intent()], [], [_charge()], [_ledger_refund("re_ghost")])
    [mismatch] = report.mismatches
    assert (mismatch.kind, mismatch.refund_id, mismatch.stripe_cents, mismatch.ledger_cents) == (
        MismatchKind.REFUND_UNKNOWN_TO_STRIPE,
        "re_ghost",
        None,
        SESSION_CENTS,
    )


def test_what_stripe_kept_is_compared_with_what_the_ledger_kept():
    # A partial capture: Stripe took less than the PaymentIntent's amount, which the ledger recorded.
    report = rec.compare(SINCE, [_intent(amount_received=COURSE_CENTS - 500)], [], [_charge()], [])
    [mismatch] = report.mismatches
    assert (mismatch.kind, mismatch.stripe_cents, mismatch.ledger_cents) == (
        MismatchKind.KEPT_DIFFERS,
        COURSE_CENTS - 500,
        COURSE_CENTS,
    )


def test_a_payment_the_ledger_says_was_given_back_but_was_kept():
    report = rec.compare(SINCE, [_intent()], [], [_charge(outcome=ChargeOutcome.LATE)], [])
    assert _kinds(report) == [("not_given_back", "pi_1")]
    assert "late" in report.mismatches[0].message


def test_rows_from_before_the_ledger_are_not_comparable():
    charges = [_charge("pre-ledger-course-1")]
    refunds = [_ledger_refund("re_old", pi="pre-ledger-course-1")]
    stripe_side = [_intent("pi_unrecorded")], [_stripe_refund("re_old", pi="pi_unrecorded")]
    report = rec.compare(SINCE, *stripe_side, charges, refunds)
    assert report.agrees
    assert report.not_comparable == 3  # the charge row, the refund row, the Stripe payment of that course


def test_a_refund_set_aside_as_not_comparable_does_not_count_against_its_payment():
    charges = [_charge("pi_1"), _charge("pre-ledger-course-1")]
    report = rec.compare(SINCE, [_intent("pi_1")], [_stripe_refund("re_unrecorded")], charges, [])
    assert report.agrees and report.not_comparable == 2


def test_since_is_a_plain_date_at_midnight_utc():
    assert rec.parse_since("2026-03-08") == datetime(2026, 3, 8, tzinfo=UTC)
    for bad in ("20260308", "2026-02-30", "yesterday", ""):
        with pytest.raises(ValidationFailed):
            rec.parse_since(bad)
    assert rec.default_since(datetime(2026, 3, 31, 23, 59, tzinfo=UTC)) == datetime(2026, 3, 1, tzinfo=UTC)


# --- against localstripe -----------------------------------------------------------------------------------


# localstripe is shared by the test session: each test here starts from an empty one.
pytestmark = pytest.mark.usefixtures("empty_stripe")


@pytest.fixture
def app_overrides(stripe_settings):
    return {**stripe_settings, "PAYMENT_HOLD_MINUTES": 15}


def _reconcile(runner, *args: str):
    result = runner.invoke(args=["payments", "reconcile", *args])
    lines = [line for line in result.output.splitlines() if line.startswith("MISMATCH ")]
    return result, lines


def _behind_the_back(stripe_client: stripe.StripeClient, course_id: int, amount: int = COURSE_CENTS):
    return stripe_client.v1.payment_intents.create(
        params={
            "amount": amount,
            "currency": "usd",
            "metadata": {"course_id": str(course_id)},
            "payment_method": card_method(stripe_client, VISA),
            "confirm": True,
        }
    )


def test_a_card_payment_and_a_cancellation_refund_reconcile_cleanly(client, db, runner, patient, paid):
    _, headers = patient
    cancelled = client.post(
        f"/api/v1/courses/{paid['id']}/cancel",
        json={"appointment_ids": [paid["sessions"][3]["id"]]},
        headers=headers,
    )
    assert cancelled.status_code == 200 and cancelled.get_json()["refund"]["amount_cents"] == SESSION_CENTS

    result, lines = _reconcile(runner)

    assert result.exit_code == 0, result.output
    assert lines == []
    assert "Checked 1 payment(s) and 1 refund(s)" in result.output and "no mismatch" in result.output


def test_a_payment_made_behind_the_apps_back_is_the_one_mismatch(db, runner, patient, paid, stripe_client):
    stray = _behind_the_back(stripe_client, paid["id"])
    assert stray.status == "succeeded"

    result, lines = _reconcile(runner)

    assert result.exit_code == 1, result.output
    assert len(lines) == 1 and stray.id in lines[0]
    assert lines[0] == (
        f"MISMATCH charge_not_in_ledger: course {paid['id']} {stray.id}; Stripe {COURSE_CENTS} usd, ledger "
        "none. Charged on Stripe, not in the ledger: a payment made outside the app, or one whose "
        "confirmation was never applied."
    )
    assert "Checked 2 payment(s) and 0 refund(s)" in result.output and "1 mismatch." in result.output
    user, _ = patient
    assert user.display_name not in result.output and user.email not in result.output


def test_a_refund_made_on_stripe_is_reported(db, runner, paid, stripe_client):
    intent_id = db.get(Course, paid["id"]).payment_intent_id
    refund = stripe_client.v1.refunds.create(params={"payment_intent": intent_id, "amount": SESSION_CENTS})

    result, lines = _reconcile(runner)

    assert result.exit_code == 1, result.output
    assert lines == [
        f"MISMATCH refund_not_in_ledger: course {paid['id']} {intent_id} refund {refund.id}; Stripe "
        f"{SESSION_CENTS} usd, ledger none. Refunded on Stripe, not in the ledger: a refund made outside the "
        "app, or one whose cancellation failed to commit."
    ]


def test_a_ledger_charge_stripe_has_never_seen_is_reported(db, runner, paid):
    db.add(
        CourseCharge(
            course_id=paid["id"],
            payment_intent_id="pi_neverseenbystripe",
            amount_cents=500,
            currency="usd",
            outcome=ChargeOutcome.DUPLICATE,
        )
    )
    db.commit()

    result, lines = _reconcile(runner)

    assert result.exit_code == 1, result.output
    assert len(lines) == 1 and "charge_unknown_to_stripe" in lines[0] and "pi_neverseenbystripe" in lines[0]


def test_since_leaves_out_older_payments(db, runner, paid, stripe_client):
    _behind_the_back(stripe_client, paid["id"])
    tomorrow = (datetime.now(UTC) + timedelta(days=1)).strftime("%Y-%m-%d")

    result, lines = _reconcile(runner, "--since", tomorrow)

    assert result.exit_code == 0, result.output
    assert lines == []
    assert (
        f"Checked 0 payment(s) and 0 refund(s) on Stripe and in the ledger since {tomorrow}" in result.output
    )


@pytest.mark.parametrize("bad", ["yesterday", "2026-02-30", "03/08/2026"])
def test_since_must_be_a_date(runner, bad):
    result = runner.invoke(args=["payments", "reconcile", "--since", bad])
    assert result.exit_code == 2
    assert "YYYY-MM-DD" in result.output


def test_a_wrong_amount_payment_is_refunded_flagged_and_noted_not_mismatched(
    app, db, runner, stripe_settings, booked, client
):
    course = db.get(Course, booked["id"])
    intent = app.extensions["payments"].create_payment_intent(
        5_000,
        "usd",
        {"course_id": course.id},
        f"odd-{course.id}",
        payment_method="pm_card_visa",
        confirm=True,
    )
    event = stripe_event(
        "payment_intent.succeeded",
        intent_object(course.id, status="succeeded", amount=5_000, intent_id=intent.id),
    )
    assert post_event(client, stripe_settings, event).get_json()["outcome"].startswith("refunded")
    assert db.scalar(select(CourseCharge.flagged).where(CourseCharge.payment_intent_id == intent.id))

    result, lines = _reconcile(runner)

    assert result.exit_code == 0, result.output
    assert lines == []
    assert "Note: 1 flagged payment(s) await review" in result.output
    assert f"course {course.id} {intent.id} 5000 usd (mismatch)" in result.output


def test_stripe_out_of_reach_fails_the_command_without_a_traceback(app, runner):
    with socket.socket() as sock:  # a loopback port nothing listens on
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    app.extensions["payments"] = StripePayments(
        "sk_test_localstripe", api_base=f"http://127.0.0.1:{port}", max_network_retries=0, timeout_seconds=2
    )

    result = runner.invoke(args=["payments", "reconcile"])

    assert result.exit_code == 1
    assert "Could not list the payments" in result.output and "Traceback" not in result.output


def test_without_stripe_settings_there_is_nothing_to_reconcile(app, runner):
    app.extensions["payments"] = StripePayments(None)
    result = runner.invoke(args=["payments", "reconcile"])
    assert result.exit_code == 1 and "not configured" in result.output
