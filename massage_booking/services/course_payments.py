"""Paying for a course by card: the card form's setup, the charge, Stripe's webhooks, and lapsed holds.

The payment flow (one PaymentIntent per course; massage_booking/payments.py says why):
1. Booking holds the sessions (services/holds.py) and fixes the price.
2. The patient's browser confirms a SetupIntent with the card (Stripe.js `confirmCardSetup`), which gives
   a PaymentMethod id; an API client brings its own PaymentMethod id.
3. `pay` charges it: one PaymentIntent for the course's price, created and confirmed at once. Success
   books the course in the same transaction; a decline keeps the hold, with Stripe's message, so another
   card can be tried until the hold runs out. A card that needs 3-D Secure comes back `requires_action`;
   the browser completes it and `reconcile` reads the outcome.
4. Stripe's `payment_intent.succeeded` webhook applies the same confirmation (idempotently), so a
   payment whose answer never reached us (a closed tab, a timeout) still books the course.

Every Stripe event is applied at most once: its id is written in the transaction of its effect
(`StripeEvent`), and a course that is already paid, given up or released decides what a late or
repeated event may still do. A payment for a course that can no longer be booked is refunded whole.
"""

from __future__ import annotations

import contextlib
import secrets
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import stripe
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from massage_booking.domain.errors import Conflict, Forbidden
from massage_booking.models import ChargeOutcome, Course, CourseStatus, PaymentMode, Role, StripeEvent, User
from massage_booking.notifications import outbox as notify
from massage_booking.notifications.links import Links
from massage_booking.payments import (
    PaymentDeclined,
    PaymentError,
    PaymentIntentResult,
    PaymentsDisabled,
    StripePayments,
)
from massage_booking.services import (
    audit,
    courses,
    holds,
    locks,
    payment_ledger,
    refunds,
    soonest_cache,
)

LATE_PAYMENT_MESSAGE = (
    "Your payment arrived after the held times were released, so it has been refunded in full. "
    "Please book the course again."
)
MISMATCH_MESSAGE = (
    "A payment did not match the price of this course, so it was refunded in full. Please pay again."
)


class DuplicateEvent(Exception):
    """Another delivery of this event was applied concurrently; the caller rolls back and answers 200."""


@dataclass(frozen=True)
class PayOutcome:
    """What a payment attempt did: `course` is booked when it succeeded; `declined` holds Stripe's message
    for a refused card; `action_secret` is the client secret the browser needs to finish 3-D Secure."""

    course: Course
    declined: PaymentDeclined | None = None
    action_secret: str | None = None


@dataclass(frozen=True)
class CardForm:
    """What the card page needs: the SetupIntent's client secret and Stripe.js's address and key."""

    course: Course
    client_secret: str
    publishable_key: str
    js_url: str


def _payable(
    session: Session, actor: User, course_id: int, now: datetime, payments: StripePayments
) -> Course:
    """The patient's own course, waiting for payment with its hold still running."""
    course = courses.get_course(session, actor, course_id)
    if actor.role is not Role.PATIENT or course.patient_id != actor.id:
        raise Forbidden("Only the patient pays for their course.")
    if not payments.enabled:
        raise PaymentsDisabled("Card payments are not set up on this site: the course is paid at the visit.")
    _require_payable(course, now)
    return course


def _require_payable(course: Course, now: datetime) -> None:
    if course.status is not CourseStatus.PENDING_PAYMENT:
        raise Conflict(_not_payable_message(course))
    if course.holds_until(now) is None:
        raise Conflict("The times held for this course were released because it was not paid in time.")


def _not_payable_message(course: Course) -> str:
    if course.payment_mode is PaymentMode.CARD and course.paid_at is not None:
        return "This course is already paid."
    if course.status is CourseStatus.EXPIRED:
        return "The times held for this course were released because it was not paid in time."
    if course.payment_mode is PaymentMode.AT_VISIT:
        return "This course is paid at the visit."
    return f"This course is {course.status.value.replace('_', ' ')}; there is nothing to pay."


def card_form(
    session: Session, actor: User, course_id: int, now: datetime, payments: StripePayments
) -> CardForm:
    """A fresh SetupIntent for the card page (a declined card cancels its SetupIntent, so each showing
    of the form gets its own; no money moves until `pay`)."""
    course = _payable(session, actor, course_id, now, payments)
    setup = payments.create_setup_intent(
        {"course_id": course.id}, idempotency_key=f"course-{course.id}-setup-{secrets.token_hex(8)}"
    )
    assert payments.publishable_key is not None  # production config refuses a secret key without it
    return CardForm(course, setup.client_secret, payments.publishable_key, payments.js_url)


def pay(
    session: Session,
    actor: User,
    course_id: int,
    payment_method: str,
    now: datetime,
    payments: StripePayments,
    *,
    links: Links,
) -> PayOutcome:
    """Charge the course's price to a PaymentMethod. A decline is an outcome (kept on the course, so the
    page can say so), not an exception: the caller commits it and answers 402.

    Under the course's lock, with at most one live PaymentIntent per course: an earlier attempt (a
    declined card, a 3-D Secure check left open in another tab) is settled first. If it succeeded after
    all, it pays the course and no new charge is made; otherwise it is cancelled before the next one is
    created, so it can no longer take money. Each attempt has its own idempotency key (course, attempt
    number, PaymentMethod): a retried request replays the same charge instead of making a second."""
    course = _payable(session, actor, course_id, now, payments)
    course = locks.lock_course(session, course.id)
    _require_payable(course, now)  # again, under the lock: another tab may have paid meanwhile
    if course.payment_intent_id:
        previous = payments.retrieve_payment_intent(course.payment_intent_id)
        if previous.succeeded:
            confirm_payment(session, course, previous, now, payments, links)
            return PayOutcome(course)
        if previous.status != "canceled":
            payments.cancel_payment_intent(previous.id)
    course.payment_attempts += 1
    key = f"course-{course.id}-pay-{course.payment_attempts}-{payment_method}"
    try:
        intent = payments.create_payment_intent(
            course.price_cents,
            course.currency,
            {"course_id": course.id, "patient_id": course.patient_id, "therapist_id": course.therapist_id},
            key,
            payment_method=payment_method,
            confirm=True,
        )
    except PaymentDeclined as declined:
        course.payment_error = declined.message[:300]
        # Kept so that the next attempt or the hold's expiry cancels it (it could still take another card).
        course.payment_intent_id = declined.payment_intent_id
        audit.record(
            session, actor, "course.payment_declined", "course", course.id, code=declined.decline_code
        )
        notify.payment_failed(session, course, declined.payment_intent_id or payment_method, now, links)
        return PayOutcome(course, declined=declined)
    course.payment_intent_id = intent.id
    audit.record(session, actor, "course.payment_attempted", "course", course.id, status=intent.status)
    if intent.succeeded:
        confirm_payment(session, course, intent, now, payments, links)
        return PayOutcome(course)
    if intent.status == "requires_action":
        return PayOutcome(course, action_secret=intent.client_secret)
    return PayOutcome(course)


def reconcile(
    session: Session, actor: User, course_id: int, now: datetime, payments: StripePayments, *, links: Links
) -> Course:
    """After the browser finished 3-D Secure: read the course's PaymentIntent and apply what Stripe says,
    as its webhook would, without waiting for it (a payment the course cannot keep is refunded now, not
    when the webhook comes). Harmless to repeat."""
    course = courses.get_course(session, actor, course_id)
    if not (course.payment_intent_id and payments.enabled):
        return course
    course = locks.lock_course(session, course.id)
    if course.payment_intent_id is None or payment_ledger.charge_of(session, course.payment_intent_id):
        return course
    intent = payments.retrieve_payment_intent(course.payment_intent_id)
    if intent.succeeded:
        confirm_payment(session, course, intent, now, payments, links)
    elif intent.status == "requires_payment_method" and course.status is CourseStatus.PENDING_PAYMENT:
        course.payment_error = "The card could not be authenticated; try again or use another card."
    return course


def confirm_payment(
    session: Session,
    course: Course,
    intent: PaymentIntentResult,
    now: datetime,
    payments: StripePayments,
    links: Links,
) -> str:
    """Apply a succeeded PaymentIntent to its course, once; returns what it did. The caller holds the
    course's lock (services/locks.py), so the ledger it reads cannot change before the row is written.

    Only the first payment of the right amount and currency for a course still waiting for payment is
    kept, and books the course. Any other success is recorded and refunded whole at once, and the patient
    is told why: a second payment (two tabs, two cards), one for a course cancelled or released, or one
    for another amount or currency (also flagged for an admin: something charged what we did not ask)."""
    if (known := payment_ledger.charge_of(session, intent.id)) is not None:
        return f"ignored: already recorded ({known.outcome.value})"
    if intent.amount != course.price_cents or intent.currency != course.currency:
        outcome = ChargeOutcome.MISMATCH
    elif payment_ledger.kept_charge(session, course.id) is not None:
        outcome = ChargeOutcome.DUPLICATE
    elif course.status is not CourseStatus.PENDING_PAYMENT:
        outcome = ChargeOutcome.LATE
    else:
        outcome = ChargeOutcome.PAID
    charge = payment_ledger.record_charge(session, course, intent, outcome)
    if outcome is ChargeOutcome.PAID:
        course.paid_at = now
        course.payment_intent_id = intent.id
        holds.confirm_sessions(session, course)  # even if the hold lapsed: nobody took the times
        course.payment_error = None
        session.flush()
        soonest_cache.refresh_next_available(session, course.therapist_id, now)
        notify.course_booked(session, course, now, links)
        audit.record(session, None, "course.paid", "course", course.id, amount_cents=intent.amount)
        return "confirmed"
    refunds.refund_whole_charge(session, course, charge, payments, _REFUND_REASONS[outcome])
    notify.payment_refunded(session, course, charge, now, links)
    audit.record(
        session,
        None,
        f"course.payment_{outcome.value}",
        "course",
        course.id,
        payment_intent=intent.id,
        amount_cents=intent.amount,
        currency=intent.currency,
    )
    if course.status is CourseStatus.PENDING_PAYMENT:
        course.payment_error = MISMATCH_MESSAGE
    elif outcome is ChargeOutcome.LATE and course.status is CourseStatus.EXPIRED:
        course.payment_error = LATE_PAYMENT_MESSAGE
    return _OUTCOME_TEXT[outcome]


# What a refunded charge is called in the refunds table (and the reason shown with it on the pages).
_REFUND_REASONS = {
    ChargeOutcome.DUPLICATE: "duplicate",
    ChargeOutcome.LATE: "late_payment",
    ChargeOutcome.MISMATCH: "amount_mismatch",
}
_OUTCOME_TEXT = {
    ChargeOutcome.DUPLICATE: "refunded: duplicate payment",
    ChargeOutcome.LATE: "refunded: course no longer held",
    ChargeOutcome.MISMATCH: "refunded: amount or currency mismatch",
}


# --- webhooks -------------------------------------------------------------------------------------------


def apply_event(
    session: Session, event: stripe.Event, now: datetime, payments: StripePayments, links: Links
) -> str:
    """Apply a verified Stripe event at most once; returns its outcome ("duplicate" for a repeat)."""
    if session.get(StripeEvent, event.id) is not None:
        return "duplicate"
    # The claim is the transaction's first write and is not in a savepoint: on SQLite (pysqlite) a
    # SAVEPOINT opened before any other write starts the transaction and its RELEASE commits it, so an
    # effect that failed afterwards would leave the event marked as applied and Stripe's retry ignored.
    claim = StripeEvent(id=event.id, type=event.type, outcome="pending", details={})
    session.add(claim)
    try:
        session.flush()
    except IntegrityError as error:  # a concurrent delivery of the same event committed first
        raise DuplicateEvent(event.id) from error
    obj: dict[str, Any] = event.to_dict()["data"]["object"]  # plain dicts (StripeObject has no .get)
    course_id = _course_id_of(obj)
    course = locks.lock_course(session, course_id) if course_id and session.get(Course, course_id) else None
    claim.course_id = course.id if course is not None else None
    if course is None:
        outcome = "ignored: no course"
    elif event.type == "payment_intent.succeeded":
        outcome = confirm_payment(session, course, _intent(obj), now, payments, links)
    elif event.type == "payment_intent.payment_failed":
        outcome = _record_failure(session, course, obj, now, links)
    else:
        outcome = "ignored: not handled"
    claim.outcome = outcome
    claim.details = {"payment_intent": obj.get("id")} if obj.get("object") == "payment_intent" else {}
    session.flush()
    return outcome


def _course_id_of(obj: dict[str, Any]) -> int | None:
    """The course a PaymentIntent event is about (its metadata names it), if that course exists. Its
    currency is not checked here: a payment in the wrong currency must still be found, to be refunded."""
    if obj.get("object") != "payment_intent":
        return None
    raw = (obj.get("metadata") or {}).get("course_id")
    if not isinstance(raw, str) or not raw.isdigit() or len(raw) > 9:
        return None
    return int(raw)


def _intent(obj: dict[str, Any]) -> PaymentIntentResult:
    return PaymentIntentResult(
        id=obj["id"],
        status=obj.get("status") or "",
        client_secret=None,
        amount=int(obj.get("amount") or 0),
        currency=obj.get("currency") or "",
    )


def _record_failure(
    session: Session, course: Course, obj: dict[str, Any], now: datetime, links: Links
) -> str:
    """A failed attempt matters only while the course waits for payment: after success (events arrive in
    any order) or release it changes nothing. The patient is told once per PaymentIntent (the pay request
    that saw the decline queued the same message)."""
    if course.status is not CourseStatus.PENDING_PAYMENT or course.paid_at is not None:
        return f"ignored: course {course.status.value}"
    error = obj.get("last_payment_error") or {}
    course.payment_error = str(error.get("message") or "The card payment failed.")[:300]
    notify.payment_failed(session, course, str(obj["id"]), now, links)
    return "recorded failure"


# --- lapsed holds ---------------------------------------------------------------------------------------


def expire_holds(session: Session, now: datetime, payments: StripePayments, links: Links) -> tuple[int, int]:
    """Release every hold that has run out (`flask expire-holds`): cancel its unpaid PaymentIntent first,
    so that a tab left open cannot pay for times given back. If Stripe says the payment went through after
    all, the course is booked instead. Each course is decided under its lock, from what it says then (a
    payment may have been applied since the list was read). Returns (released, confirmed)."""
    released = confirmed = 0
    for candidate in holds.expired_holds(session, now):
        course = locks.lock_course(session, candidate.id)
        if course.status is not CourseStatus.PENDING_PAYMENT or course.holds_until(now) is not None:
            continue
        intent_id = course.payment_intent_id
        if intent_id and payments.enabled and payment_ledger.charge_of(session, intent_id) is None:
            try:
                intent = payments.retrieve_payment_intent(intent_id)
            except PaymentError:
                continue  # Stripe unreachable: try again on the next run rather than guess
            if intent.succeeded:
                if confirm_payment(session, course, intent, now, payments, links) == "confirmed":
                    confirmed += 1
                    continue
            else:
                _cancel_quietly(payments, intent_id)
        holds.release(session, course, now, reason="expired")
        released += 1
    return released, confirmed


def _cancel_quietly(payments: StripePayments, intent_id: str) -> None:
    with contextlib.suppress(PaymentError):
        payments.cancel_payment_intent(intent_id)
