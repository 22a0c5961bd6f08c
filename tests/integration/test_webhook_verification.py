"""POST /stripe/webhook refuses what Stripe could not have sent, before anything is written.

Stripe signs `<t>.<raw body>`, and its SDK refuses only a `t` that is too old: a signature dated ahead (a
sender's clock running fast, or one made now to be replayed later) stayed valid until that time plus the
tolerance. So the window is checked both ways here. And a correctly signed body is not necessarily an
event the service can apply: each shape that reached `apply_event` and crashed it (500, or 502 after a
refund attempt) must now be a 400 `event_invalid` with nothing stored.

Bodies are signed here by Stripe's documented scheme (`t=<unix time>,v1=<hex HMAC-SHA256(secret,
"<t>.<raw body>")>`), over raw bytes, so bodies that are not JSON or not UTF-8 can be signed too.
"""

from __future__ import annotations

import hashlib
import hmac
import io
import json
import math
import secrets
import time as clock
from collections.abc import Callable
from typing import Any

import pytest
import stripe
from sqlalchemy import func, select

from massage_booking.api.stripe_webhook import MAX_EVENT_BYTES
from massage_booking.models import Course, CourseStatus, StripeEvent
from massage_booking.payments import EventInvalid, SignatureInvalid, StripePayments
from tests.factories import COURSE_CENTS, bookable_therapist, course_body, post_intake

TOLERANCE = 300


@pytest.fixture
def app_overrides(stripe_settings):
    return {**stripe_settings, "PAYMENT_HOLD_MINUTES": 15}


@pytest.fixture
def booked(client, auth, db) -> dict[str, Any]:
    """A neck-pain course of 8 x 60 minutes, just booked with card payments on: held, not paid."""
    patient = auth.create_user("patient", display_name="Pat Kim")
    headers = {"Authorization": f"Bearer {auth.api_token(patient.email)}"}
    therapist_id = bookable_therapist(auth, db, "Dana Reyes", trained=False)
    intake_id = post_intake(client, headers)
    response = client.post("/api/v1/courses", json=course_body(intake_id, therapist_id), headers=headers)
    assert response.status_code == 201, response.get_data(as_text=True)
    return response.get_json()


def _signature(body: bytes, secret: str, at: int | None = None) -> str:
    timestamp = int(clock.time()) if at is None else at
    digest = hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256).hexdigest()
    return f"t={timestamp},v1={digest}"


def _intent_object(course_id: int, **changes: Any) -> dict[str, Any]:
    intent = {
        "id": f"pi_{secrets.token_hex(8)}",
        "object": "payment_intent",
        "amount": COURSE_CENTS,
        "currency": "usd",
        "status": "succeeded",
        "metadata": {"course_id": str(course_id)},
        "last_payment_error": None,
    }
    return {**intent, **changes}


def _event(kind: str, obj: Any, **changes: Any) -> dict[str, Any]:
    event = {
        "id": f"evt_{secrets.token_hex(8)}",
        "object": "event",
        "type": kind,
        "created": int(clock.time()),
        "data": {"object": obj},
    }
    return {**event, **changes}


def _post(client, secret: str, body: bytes, *, at: int | None = None, header: str | None = None):
    return client.post(
        "/stripe/webhook",
        data=body,
        headers={
            "Stripe-Signature": header or _signature(body, secret, at),
            "Content-Type": "application/json",
        },
    )


def _assert_nothing_written(db, course_id: int) -> None:
    assert db.scalar(select(func.count()).select_from(StripeEvent)) == 0
    course = db.get(Course, course_id)
    db.refresh(course)
    assert course.status is CourseStatus.PENDING_PAYMENT and course.paid_cents == 0
    assert course.payment_intent_id is None


def _at_least(offset: int) -> int:
    """A `t` at least `offset` seconds from now (either way), however far into its second the clock is:
    only the few milliseconds until the check can bring it closer."""
    now = clock.time()
    return math.ceil(now) + offset if offset > 0 else math.floor(now) + offset


def _at_most(offset: int) -> int:
    now = clock.time()
    return math.floor(now) + offset if offset > 0 else math.ceil(now) + offset


def _succeeded(course_id: int) -> bytes:
    return json.dumps(_event("payment_intent.succeeded", _intent_object(course_id))).encode()


# --------------------------------------------------------------------------------- timestamp window


@pytest.mark.parametrize("offset", [TOLERANCE + 1, 3600, -(TOLERANCE + 1), -3600])
def test_a_signature_outside_the_window_either_way_is_refused_and_nothing_is_written(
    client, db, stripe_settings, booked, offset
):
    body = _succeeded(booked["id"])

    response = _post(client, stripe_settings["STRIPE_WEBHOOK_SECRET"], body, at=_at_least(offset))

    assert response.status_code == 400
    assert response.get_json()["error"]["code"] == "signature_invalid"
    _assert_nothing_written(db, booked["id"])


@pytest.mark.parametrize("offset", [TOLERANCE - 1, 0, -(TOLERANCE - 1)])
def test_a_signature_inside_the_window_is_applied(client, db, stripe_settings, booked, offset):
    body = _succeeded(booked["id"])

    response = _post(client, stripe_settings["STRIPE_WEBHOOK_SECRET"], body, at=_at_most(offset))

    assert response.status_code == 200, response.get_data(as_text=True)
    assert response.get_json()["outcome"] == "confirmed"
    assert db.scalar(select(func.count()).select_from(StripeEvent)) == 1
    course = db.get(Course, booked["id"])
    db.refresh(course)
    assert course.status is CourseStatus.BOOKED


def _headers_without_a_usable_timestamp(body: bytes, secret: str) -> dict[str, str]:
    now = int(clock.time())
    good = _signature(body, secret, now)
    digest = good.split(",v1=")[1]
    return {
        "no t": f"v1={digest}",
        "empty t": f"t=,v1={digest}",
        "t not a number": f"t=soon,v1={digest}",
        "t with a fraction": f"t={now}.0,v1={digest}",
        "t with a sign": f"t=+{now},v1={digest}",
        # int() reads "1_7..." as a number and the SDK would verify it: refused as not plainly digits.
        "t with underscores": f"t={str(now)[:1]}_{str(now)[1:]},v1={digest}",
        "t twice": f"{good},t={now + 5000}",
        "t far out of range": f"t={'9' * 40},v1={digest}",
        "only a t": f"t={now}",
        "non-ASCII signature": f"t={now},v1=\u00e9{digest[1:]}",
        "empty header": ",",
    }


@pytest.mark.parametrize(
    "case",
    [
        "no t",
        "empty t",
        "t not a number",
        "t with a fraction",
        "t with a sign",
        "t with underscores",
        "t twice",
        "t far out of range",
        "only a t",
        "non-ASCII signature",
        "empty header",
    ],
)
def test_a_header_without_one_plain_timestamp_is_refused(client, db, stripe_settings, booked, case):
    secret = stripe_settings["STRIPE_WEBHOOK_SECRET"]
    body = _succeeded(booked["id"])
    header = _headers_without_a_usable_timestamp(body, secret)[case]

    response = _post(client, secret, body, header=header)

    assert response.status_code == 400, response.get_data(as_text=True)
    assert response.get_json()["error"]["code"] == "signature_invalid"
    _assert_nothing_written(db, booked["id"])


# ----------------------------------------------------------------------------- bodies that are not events


def _nested(depth: int, inner: dict[str, Any]) -> dict[str, Any]:
    for _ in range(depth):
        inner = {"course_id": inner.get("course_id"), "x": inner}
    return inner


_NOT_EVENTS: dict[str, Callable[[int], bytes]] = {
    "a JSON array": lambda _: b"[]",
    "a JSON string": lambda _: b'"x"',
    "JSON null": lambda _: b"null",
    "a number": lambda _: b"42",
    "an empty object": lambda _: b"{}",
    "only object=event": lambda _: b'{"object":"event"}',
    "not JSON": lambda _: b"not json",
    "not UTF-8": lambda _: b'{"id": "\xff\xfe"}',
    "JSON with NaN": lambda c: (
        json.dumps(_event("payment_intent.succeeded", _intent_object(c)))
        .encode()
        .replace(b'"created": ', b'"created": NaN, "x": ')
    ),
    "nested too deep": lambda _: b"[" * 100_000,
    "object is not event": lambda c: json.dumps(
        {**_event("payment_intent.succeeded", _intent_object(c)), "object": "v2.core.event"}
    ).encode(),
    "AWS envelope": lambda c: json.dumps(
        {"detail": _event("payment_intent.succeeded", _intent_object(c))}
    ).encode(),
    "data.object is a list": lambda _: json.dumps(
        {"id": "evt_1", "object": "event", "type": "payment_intent.succeeded", "data": {"object": []}}
    ).encode(),
    "data is not an object": lambda c: json.dumps(
        {**_event("payment_intent.succeeded", _intent_object(c)), "data": [_intent_object(c)]}
    ).encode(),
    "no data": lambda c: json.dumps(
        {k: v for k, v in _event("payment_intent.succeeded", _intent_object(c)).items() if k != "data"}
    ).encode(),
    "id is a number": lambda c: json.dumps(
        _event("payment_intent.succeeded", _intent_object(c), id=5)
    ).encode(),
    "id is empty": lambda c: json.dumps(
        _event("payment_intent.succeeded", _intent_object(c), id="")
    ).encode(),
    "id is 256 characters": lambda c: json.dumps(
        _event("payment_intent.succeeded", _intent_object(c), id="evt_" + "a" * 252)
    ).encode(),
    "id holds a NUL": lambda c: json.dumps(
        _event("payment_intent.succeeded", _intent_object(c), id="evt_\u0000x")
    ).encode(),
    "type is missing": lambda c: json.dumps(
        {k: v for k, v in _event("payment_intent.succeeded", _intent_object(c)).items() if k != "type"}
    ).encode(),
    "type is a list": lambda c: json.dumps(
        _event("payment_intent.succeeded", _intent_object(c), type=["payment_intent.succeeded"])
    ).encode(),
    "type is 81 characters": lambda c: json.dumps(
        _event("payment_intent.succeeded", _intent_object(c), type="payment_intent." + "x" * 66)
    ).encode(),
    "intent metadata is a string": lambda c: json.dumps(
        _event("payment_intent.succeeded", _intent_object(c, metadata="str"))
    ).encode(),
    "intent metadata is a list": lambda c: json.dumps(
        _event("payment_intent.succeeded", _intent_object(c, metadata=[str(c)]))
    ).encode(),
    "intent amount is text": lambda c: json.dumps(
        _event("payment_intent.succeeded", _intent_object(c, amount="abc"))
    ).encode(),
    "intent amount is a fraction": lambda c: json.dumps(
        _event("payment_intent.succeeded", _intent_object(c, amount=960.5))
    ).encode(),
    "intent amount is true": lambda c: json.dumps(
        _event("payment_intent.succeeded", _intent_object(c, amount=True))
    ).encode(),
    "intent amount is negative": lambda c: json.dumps(
        _event("payment_intent.succeeded", _intent_object(c, amount=-COURSE_CENTS))
    ).encode(),
    "intent amount has 12 digits": lambda c: json.dumps(
        _event("payment_intent.succeeded", _intent_object(c, amount=10**11))
    ).encode(),
    "intent currency is a number": lambda c: json.dumps(
        _event("payment_intent.succeeded", _intent_object(c, currency=840))
    ).encode(),
    "intent currency is not ISO 4217": lambda c: json.dumps(
        _event("payment_intent.succeeded", _intent_object(c, currency="dollars"))
    ).encode(),
    "intent status is a number": lambda c: json.dumps(
        _event("payment_intent.succeeded", _intent_object(c, status=1))
    ).encode(),
    "intent has no id": lambda c: json.dumps(
        _event("payment_intent.succeeded", {k: v for k, v in _intent_object(c).items() if k != "id"})
    ).encode(),
    "intent id is a number": lambda c: json.dumps(
        _event("payment_intent.succeeded", _intent_object(c, id=7))
    ).encode(),
    "intent id is 256 characters": lambda c: json.dumps(
        _event("payment_intent.succeeded", _intent_object(c, id="pi_" + "a" * 253))
    ).encode(),
    "course id in non-ASCII digits": lambda c: json.dumps(
        _event("payment_intent.succeeded", _intent_object(c, metadata={"course_id": "\u00b2"}))
    ).encode(),
    "intent has no amount": lambda c: json.dumps(
        _event("payment_intent.succeeded", {k: v for k, v in _intent_object(c).items() if k != "amount"})
    ).encode(),
    "intent amount is zero": lambda c: json.dumps(
        _event("payment_intent.succeeded", _intent_object(c, amount=0))
    ).encode(),
    "id holds a lone surrogate": lambda c: json.dumps(
        _event("payment_intent.succeeded", _intent_object(c), id="evt_\ud800")
    ).encode(),
    "a key holds a NUL": lambda c: json.dumps(
        _event("payment_intent.succeeded", _intent_object(c, metadata={"course_id": str(c), "k\u0000": "v"}))
    ).encode(),
    # 600 deep crashed the SDK's event conversion (RecursionError, a 500); 40 is refused by policy.
    "nested 600 deep": lambda c: json.dumps(
        _event("payment_intent.succeeded", _intent_object(c, metadata=_nested(600, {"course_id": str(c)})))
    ).encode(),
    "nested 40 deep": lambda c: json.dumps(
        _event("payment_intent.succeeded", _intent_object(c, metadata=_nested(40, {"course_id": str(c)})))
    ).encode(),
    "failure's last_payment_error is a string": lambda c: json.dumps(
        _event(
            "payment_intent.payment_failed",
            _intent_object(c, status="requires_payment_method", last_payment_error="declined"),
        )
    ).encode(),
    "failure message holds a lone surrogate": lambda c: json.dumps(
        _event(
            "payment_intent.payment_failed",
            _intent_object(
                c, status="requires_payment_method", last_payment_error={"message": "Declined \udfff"}
            ),
        )
    ).encode(),
    "failure message holds a NUL": lambda c: json.dumps(
        _event(
            "payment_intent.payment_failed",
            _intent_object(
                c, status="requires_payment_method", last_payment_error={"message": "Declined\u0000"}
            ),
        )
    ).encode(),
    "a payment_intent object under another event type": lambda c: json.dumps(
        _event("charge.succeeded", _intent_object(c, metadata="str"))
    ).encode(),
}


@pytest.mark.parametrize("case", list(_NOT_EVENTS))
def test_a_signed_body_that_is_not_a_stripe_event_is_400_and_nothing_is_written(
    client, db, stripe_settings, booked, case
):
    body = _NOT_EVENTS[case](booked["id"])

    response = _post(client, stripe_settings["STRIPE_WEBHOOK_SECRET"], body)

    assert response.status_code == 400, response.get_data(as_text=True)
    error = response.get_json()["error"]
    assert error["code"] == "event_invalid"
    assert error["message"] == "The webhook body is not a Stripe event."
    assert "evt_" not in response.get_data(as_text=True)  # the body is not echoed
    _assert_nothing_written(db, booked["id"])


def test_a_refused_event_is_logged_by_its_reason_only(client, db, stripe_settings, booked, caplog):
    event = _event(
        "payment_intent.succeeded", _intent_object(booked["id"], metadata="str"), id="evt_secretive"
    )

    response = _post(client, stripe_settings["STRIPE_WEBHOOK_SECRET"], json.dumps(event).encode())

    assert response.status_code == 400
    assert "event_invalid: data.object.metadata" in caplog.text
    assert "evt_secretive" not in caplog.text and event["data"]["object"]["id"] not in caplog.text


def test_an_unsigned_body_that_is_not_an_event_is_a_signature_error_first(client, db, booked):
    """Nothing is read from a body before its signature verifies, so its shape is not reported."""
    response = _post(client, "whsec_attacker", b"[]")

    assert response.status_code == 400
    assert response.get_json()["error"]["code"] == "signature_invalid"
    _assert_nothing_written(db, booked["id"])


def _post_chunked(client, secret: str, body: bytes):
    """Chunked: no Content-Length to check up front, so only the read itself can stop at the limit."""
    return client.post(
        "/stripe/webhook",
        input_stream=io.BytesIO(body),
        headers={
            "Stripe-Signature": _signature(body, secret),
            "Content-Type": "application/json",
            "Transfer-Encoding": "chunked",
        },
        environ_overrides={"wsgi.input_terminated": True},
    )


def _customer_event_of(size: int) -> bytes:
    event = _event("customer.created", {"object": "customer", "note": ""})
    padding = size - len(json.dumps(event).encode())
    event["data"]["object"]["note"] = "x" * padding
    body = json.dumps(event).encode()
    assert len(body) == size
    return body


def test_a_body_sent_without_a_length_is_413_one_byte_past_the_limit(client, db, stripe_settings, booked):
    secret = stripe_settings["STRIPE_WEBHOOK_SECRET"]

    too_large = _post_chunked(client, secret, _customer_event_of(MAX_EVENT_BYTES + 1))
    at_limit = _post_chunked(client, secret, _customer_event_of(MAX_EVENT_BYTES))

    assert too_large.status_code == 413
    assert at_limit.status_code == 200, at_limit.get_data(as_text=True)
    assert db.scalar(select(func.count()).select_from(StripeEvent)) == 1  # only the one at the limit


# ----------------------------------------------------------------------- events that are valid but unknown


def test_an_unknown_event_type_is_200_recorded_as_ignored_and_changes_no_course(
    client, db, stripe_settings, booked
):
    customer = {"id": "cus_123", "object": "customer", "metadata": {"course_id": str(booked["id"])}}
    event = _event("customer.created", customer)

    response = _post(client, stripe_settings["STRIPE_WEBHOOK_SECRET"], json.dumps(event).encode())

    assert response.status_code == 200, response.get_data(as_text=True)
    assert response.get_json() == {"received": True, "outcome": "ignored: no course"}
    stored = db.get(StripeEvent, event["id"])
    assert (stored.type, stored.outcome, stored.course_id) == ("customer.created", "ignored: no course", None)
    course = db.get(Course, booked["id"])
    db.refresh(course)
    assert course.status is CourseStatus.PENDING_PAYMENT and course.paid_cents == 0


def test_an_unhandled_payment_intent_event_is_200_and_changes_no_course(client, db, stripe_settings, booked):
    event = _event("payment_intent.created", _intent_object(booked["id"], status="requires_payment_method"))

    response = _post(client, stripe_settings["STRIPE_WEBHOOK_SECRET"], json.dumps(event).encode())

    assert response.status_code == 200, response.get_data(as_text=True)
    assert response.get_json()["outcome"] == "ignored: not handled"
    course = db.get(Course, booked["id"])
    db.refresh(course)
    assert course.status is CourseStatus.PENDING_PAYMENT and course.paid_cents == 0


@pytest.mark.parametrize(
    "changes",
    [
        {"metadata": None},
        {"metadata": {}},
        {"metadata": {"course_id": "not-a-number"}},
        {"metadata": {"course_id": "9" * 18}},
    ],
    ids=["no metadata", "empty metadata", "course id not digits", "course id of 18 digits"],
)
def test_an_intent_for_no_course_of_ours_is_200_and_ignored(client, db, stripe_settings, booked, changes):
    """Intents that are well-formed but name no course we hold are Stripe's to stop sending, not errors."""
    event = _event("payment_intent.succeeded", _intent_object(booked["id"], **changes))

    response = _post(client, stripe_settings["STRIPE_WEBHOOK_SECRET"], json.dumps(event).encode())

    assert response.status_code == 200, response.get_data(as_text=True)
    assert response.get_json()["outcome"] == "ignored: no course"
    course = db.get(Course, booked["id"])
    db.refresh(course)
    assert course.status is CourseStatus.PENDING_PAYMENT and course.paid_cents == 0


# ------------------------------------------------------------------- the adapter on its own (no Flask)

SECRET = "whsec_unit_test"
NOW = 1_700_000_000


def _adapter(tolerance: int = TOLERANCE) -> StripePayments:
    return StripePayments(None, webhook_secret=SECRET, webhook_tolerance_seconds=tolerance)


def _minimal_event() -> bytes:
    return json.dumps(
        {"id": "evt_unit", "object": "event", "type": "customer.created", "data": {"object": {}}}
    ).encode()


@pytest.mark.parametrize(
    ("tolerance", "offset", "accepted"),
    [
        (300, 0, True),
        (300, 300, True),
        (300, -300, True),
        (300, 301, False),
        (300, -301, False),
        (10, 10, True),
        (10, 11, False),
        (10, -11, False),
        (3600, 3600, True),
        (3600, 3601, False),
    ],
)
def test_the_adapter_accepts_a_timestamp_only_within_its_tolerance_both_ways(tolerance, offset, accepted):
    payload = _minimal_event()
    header = _signature(payload, SECRET, NOW + offset)
    adapter = _adapter(tolerance)

    if accepted:
        event = adapter.construct_event(payload, header, now=NOW)
        assert isinstance(event, stripe.Event) and (event.id, event.type) == ("evt_unit", "customer.created")
    else:
        with pytest.raises(SignatureInvalid) as caught:
            adapter.construct_event(payload, header, now=NOW)
        assert (caught.value.code, caught.value.status) == ("signature_invalid", 400)
        assert caught.value.details == {"tolerance_seconds": tolerance}


def test_the_adapter_uses_the_real_clock_by_default():
    payload = _minimal_event()
    adapter = _adapter()

    assert adapter.construct_event(payload, _signature(payload, SECRET)).id == "evt_unit"
    with pytest.raises(SignatureInvalid):
        adapter.construct_event(payload, _signature(payload, SECRET, int(clock.time()) + TOLERANCE + 5))


def test_a_forward_dated_signature_is_refused_even_with_a_matching_mac():
    """The MAC is right, the body is an event; only the clock says no."""
    payload = _minimal_event()
    header = _signature(payload, SECRET, int(clock.time()) + 86_400)

    # The SDK's own check lets it through: it only looks for signatures that are too old.
    assert stripe.WebhookSignature.verify_header(payload, header, SECRET, tolerance=TOLERANCE)
    with pytest.raises(SignatureInvalid):
        _adapter().construct_event(payload, header)


@pytest.mark.parametrize("tolerance", [0, -1, True, 1.5])
def test_a_tolerance_that_would_disable_or_blur_the_check_is_a_configuration_error(tolerance):
    payload = _minimal_event()

    with pytest.raises(ValueError, match="webhook_tolerance_seconds"):
        _adapter(tolerance).construct_event(payload, _signature(payload, SECRET, NOW), now=NOW)


def test_the_adapter_refuses_a_signed_non_event_with_event_invalid():
    payload = b'{"object": "event"}'

    with pytest.raises(EventInvalid) as caught:
        _adapter().construct_event(payload, _signature(payload, SECRET, NOW), now=NOW)

    assert (caught.value.code, caught.value.status) == ("event_invalid", 400)
    assert caught.value.message == "The webhook body is not a Stripe event."
