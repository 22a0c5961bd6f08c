"""POST /stripe/webhook: Stripe's signed events about our PaymentIntents.

The signature is checked over the raw body (`request.get_data()`, never re-serialised JSON) before
anything is read from it; a bad one is 400 and changes nothing. A verified event is applied once
(services/course_payments.apply_event) and answered 200, also when it is a repeat or not one we act on,
so Stripe stops retrying it. If applying fails (Stripe unreachable for a refund, say) the transaction
rolls back, the event is not recorded, and the 5xx makes Stripe deliver it again later.
Nothing here logs the body: it names people's payments.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from flask import Blueprint, request

from massage_booking.extensions import db, payments
from massage_booking.services import course_payments

bp = Blueprint("stripe", __name__, url_prefix="/stripe")

MAX_EVENT_BYTES = 512 * 1024


@bp.post("/webhook")
def webhook() -> Any:
    if (request.content_length or 0) > MAX_EVENT_BYTES:
        return {"error": {"code": "payload_too_large", "message": "Event too large.", "details": {}}}, 413
    adapter = payments()
    event = adapter.construct_event(request.get_data(), request.headers.get("Stripe-Signature"))
    try:
        outcome = course_payments.apply_event(db.session, event, datetime.now(UTC), adapter)
    except course_payments.DuplicateEvent:
        db.session.rollback()
        return {"received": True, "outcome": "duplicate"}
    db.session.commit()
    return {"received": True, "outcome": outcome}
