"""Billing rules, pure: CPT 97124 units, course prices and refunds, all money in integer cents.

Integer cents because Stripe takes amounts in the currency's smallest unit and a refund must be *exactly* the
price of the sessions cancelled; floats would drift by a cent.

A course booked under an insurance plan that covers it costs the patient the plan's copay for each covered
session and the full (self-pay) price for the rest. The covered sessions are the first N by number, the
order in which a payer counts visits against an annual limit; a course keeps N, the copay and the full
price, so every session's price (`session_charge_cents`) and so every refund is exact.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime, timedelta

CPT_MASSAGE = "97124"
UNIT_MINUTES = 15
MIN_BILLABLE_MINUTES = 8
# A session cancelled at least this long before it starts is refunded; later, only if the therapist waives it.
# The same 24 hours as the cancellation policy in services/courses.py (CANCEL_NOTICE).
REFUND_NOTICE = timedelta(hours=24)
# Stripe's smallest charge in US dollars; a cheaper course (a free one, say) is simply paid at the visit.
MIN_CARD_CHARGE_CENTS = 50


def cpt_97124_units(direct_minutes: int) -> int:
    """Units of CPT 97124 (each 15 minutes) by the CMS 8-minute rule (total-time method, Medicare Claims
    Processing Manual ch. 5 §20.2): 8-22 minutes = 1 unit, 23-37 = 2, 38-52 = 3, 53-67 = 4, and on; under 8
    minutes nothing is billable. Only direct, one-on-one minutes count, not the booked time: a 60-minute
    booking with 10 minutes of intake is 50 minutes, 3 units (reference/evidence.md §4.2)."""
    if isinstance(direct_minutes, bool) or not isinstance(direct_minutes, int) or direct_minutes < 0:
        raise ValueError(f"direct_minutes must be a non-negative integer, not {direct_minutes!r}")
    if direct_minutes < MIN_BILLABLE_MINUTES:
        return 0
    return (direct_minutes + UNIT_MINUTES - MIN_BILLABLE_MINUTES) // UNIT_MINUTES


def session_price_cents(hourly_rate_cents: int, minutes: int) -> int:
    """One session's price from the therapist's rate for 60 minutes (what profiles show), pro rata to the
    minute and rounded half up to the cent: a 90-minute session at $120 an hour is $180.00, 45 minutes at
    $110.50 is $82.88. Every session of a self-pay course costs this; under a plan, the uncovered ones do."""
    _check_non_negative_int("hourly_rate_cents", hourly_rate_cents)
    _check_non_negative_int("minutes", minutes)
    return (hourly_rate_cents * minutes * 2 + 60) // 120


def course_price_cents(
    session_cents: int, sessions: int, *, covered_sessions: int = 0, copay_cents: int = 0
) -> int:
    """The price of a course (one PaymentIntent): the sum of its sessions' prices, which is one session's
    price times the sessions when none is covered by a plan (see `session_charge_cents`)."""
    _check_non_negative_int("session_cents", session_cents)
    _check_non_negative_int("sessions", sessions)
    return sum(
        session_charge_cents(
            number, session_cents, covered_sessions=covered_sessions, copay_cents=copay_cents
        )
        for number in range(1, sessions + 1)
    )


def covered_charge_cents(session_cents: int, copay_cents: int) -> int:
    """What a covered session costs the patient: the plan's copay, never more than the self-pay price."""
    _check_non_negative_int("session_cents", session_cents)
    _check_non_negative_int("copay_cents", copay_cents)
    return min(copay_cents, session_cents)


def session_charge_cents(
    number: int | None, session_cents: int, *, covered_sessions: int = 0, copay_cents: int = 0
) -> int:
    """The price of session `number` (1-based) of a course whose first `covered_sessions` sessions are
    covered by a plan: the copay (capped at the full price) for those, `session_cents` for the others.
    A session without a number (not part of a course) is never covered."""
    _check_non_negative_int("session_cents", session_cents)
    _check_non_negative_int("covered_sessions", covered_sessions)
    if number is not None and 1 <= number <= covered_sessions:
        return covered_charge_cents(session_cents, copay_cents)
    return session_cents


def refundable(starts_at: datetime, now: datetime, *, waived: bool = False) -> bool:
    """Whether cancelling a session starting at `starts_at` is refunded. Both times must be aware."""
    if starts_at.tzinfo is None or now.tzinfo is None:
        raise ValueError("refundable() needs timezone-aware datetimes")
    return waived or starts_at - now >= REFUND_NOTICE


def refund_cents_for_sessions(
    cancelled: Iterable[tuple[datetime, int]],
    now: datetime,
    *,
    waived: bool = False,
    remaining_cents: int | None = None,
) -> int:
    """The refund for cancelling sessions of a paid course, given as (start, that session's price): exactly
    the price of each one cancelled at least REFUND_NOTICE ahead (or each one, if the therapist waives the
    notice), never more than `remaining_cents` (paid minus already refunded). The cap is ours to keep:
    localstripe accepts a refund larger than what is left, so a test server would not catch an over-refund."""
    amount = 0
    for start, price in cancelled:
        _check_non_negative_int("price", price)
        if refundable(start, now, waived=waived):
            amount += price
    if remaining_cents is not None:
        _check_non_negative_int("remaining_cents", remaining_cents)
        amount = min(amount, remaining_cents)
    return amount


def _check_non_negative_int(name: str, value: int) -> None:
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise ValueError(f"{name} must be a non-negative integer, not {value!r}")
