"""Billing rules, pure: CPT 97124 units, course prices and refunds, all money in integer cents.

Integer cents because Stripe takes amounts in the currency's smallest unit and a refund must be *exactly* the
price of the sessions cancelled; floats would drift by a cent.
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
    $110.50 is $82.88. A course's sessions all cost the same, so a refund is exactly this times the count."""
    _check_non_negative_int("hourly_rate_cents", hourly_rate_cents)
    _check_non_negative_int("minutes", minutes)
    return (hourly_rate_cents * minutes * 2 + 60) // 120


def course_price_cents(session_cents: int, sessions: int) -> int:
    """The price of a course: one session's price times the sessions (one PaymentIntent)."""
    _check_non_negative_int("session_cents", session_cents)
    _check_non_negative_int("sessions", sessions)
    return session_cents * sessions


def refundable(starts_at: datetime, now: datetime, *, waived: bool = False) -> bool:
    """Whether cancelling a session starting at `starts_at` is refunded. Both times must be aware."""
    if starts_at.tzinfo is None or now.tzinfo is None:
        raise ValueError("refundable() needs timezone-aware datetimes")
    return waived or starts_at - now >= REFUND_NOTICE


def refund_cents_for(
    cancelled_starts: Iterable[datetime],
    rate_cents: int,
    now: datetime,
    *,
    waived: bool = False,
    remaining_cents: int | None = None,
) -> int:
    """The refund for cancelling sessions of a paid course: exactly the rate for each one cancelled at least
    REFUND_NOTICE ahead (or each one, if the therapist waives the notice), never more than `remaining_cents`
    (paid minus already refunded). The cap is ours to keep: localstripe accepts a refund larger than what
    is left, so a test server would not catch an over-refund."""
    _check_non_negative_int("rate_cents", rate_cents)
    amount = rate_cents * sum(1 for start in cancelled_starts if refundable(start, now, waived=waived))
    if remaining_cents is not None:
        _check_non_negative_int("remaining_cents", remaining_cents)
        amount = min(amount, remaining_cents)
    return amount


def _check_non_negative_int(name: str, value: int) -> None:
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise ValueError(f"{name} must be a non-negative integer, not {value!r}")
