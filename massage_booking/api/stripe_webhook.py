"""POST /stripe/webhook: Stripe's signed events about our PaymentIntents.

The signature is checked over the raw body (`request.get_data()`, never re-serialised JSON) before
anything is read from it; a bad one, or a signature dated more than the tolerance (300 s) before or after
now, is 400 `signature_invalid` and changes nothing. A signed body that is not an event the service can
apply is 400 `event_invalid`, also before anything is written: sending those bytes again cannot help.
A verified event is applied once (services/course_payments.apply_event) and answered 200, also when it is
a repeat or not one we act on, so Stripe stops retrying it. If applying fails (Stripe unreachable for a
refund, say) the transaction rolls back, the event is not recorded, and the 5xx makes Stripe deliver it
again later.
Nothing here logs the body or the signature header: they name people's payments.
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime
from typing import Any

from flask import Blueprint, request

from massage_booking.extensions import links, payments
from massage_booking.payments import EventInvalid, SignatureInvalid
from massage_booking.services import course_payments
from massage_booking.transactions import atomic

bp = Blueprint("stripe", __name__, url_prefix="/stripe")
log = logging.getLogger(__name__)

MAX_EVENT_BYTES = 512 * 1024


@bp.post("/webhook")
def webhook() -> Any:
    if (request.content_length or 0) > MAX_EVENT_BYTES:
        return _too_large()
    # A body sent without Content-Length (chunked) has no size to check up front, and Werkzeug silently
    # stops reading at `max_content_length`: read one byte more than allowed to tell "too large" apart.
    request.max_content_length = MAX_EVENT_BYTES + 1
    body = request.get_data()
    if len(body) > MAX_EVENT_BYTES:
        return _too_large()
    adapter = payments()
    try:
        event = adapter.construct_event(body, request.headers.get("Stripe-Signature"))
    except (SignatureInvalid, EventInvalid) as refused:
        # Only our own code and reason or message: enough to tell a wrong secret or a skewed clock from a
        # bad sender, and none of it comes from the request.
        log.warning(
            "Refused a Stripe webhook: %s: %s", refused.code, refused.details.get("reason") or refused.message
        )
        raise
    try:
        with atomic() as session:
            outcome = course_payments.apply_event(session, event, datetime.now(UTC), adapter, links())
    except course_payments.DuplicateEvent:
        return {"received": True, "outcome": "duplicate"}
    return {"received": True, "outcome": outcome}


def _too_large() -> tuple[dict[str, Any], int]:
    return {"error": {"code": "payload_too_large", "message": "Event too large.", "details": {}}}, 413
