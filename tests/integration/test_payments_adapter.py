"""The Stripe adapter against a real localstripe server, through the real stripe SDK.

Card numbers are Stripe's test cards, which localstripe honours: 4242 4242 4242 4242 pays, 4000 0000 0000 0341
attaches and is declined when charged. Webhook signatures are made here with Stripe's scheme
(`t=<unix time>,v1=<hex HMAC-SHA256(secret, "<t>.<raw body>")>`), because localstripe sends each event once
and never a replay or a forgery; one test also checks an event that localstripe itself signed and sent.
"""

from __future__ import annotations

import hashlib
import hmac
import itertools
import json
import queue
import threading
import time
import urllib.request
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
import stripe

from massage_booking.payments import (
    PaymentDeclined,
    PaymentError,
    PaymentIntentResult,
    PaymentsDisabled,
    SignatureInvalid,
    StripePayments,
)

COURSE_PRICE = 8 * 11_000  # 8 sessions at $110.00, in cents
_keys = itertools.count(1)


def key(label: str) -> str:
    """A fresh idempotency key (localstripe ignores them, real Stripe would replay a reused one)."""
    return f"test-{label}-{time.monotonic_ns()}-{next(_keys)}"


@pytest.fixture
def payments(stripe_settings: dict[str, str]) -> StripePayments:
    return StripePayments.from_config(stripe_settings)


def card(payments: StripePayments, number: str) -> str:
    """A PaymentMethod id for a test card, made the way Stripe.js makes one in the browser."""
    method = payments.client.v1.payment_methods.create(
        params={"type": "card", "card": {"number": number, "exp_month": 12, "exp_year": 2034, "cvc": "123"}}
    )
    return method.id


def pay(payments: StripePayments, amount: int = COURSE_PRICE) -> PaymentIntentResult:
    return payments.create_payment_intent(
        amount,
        "usd",
        {"course_id": 42},
        key("pay"),
        payment_method=card(payments, "4242424242424242"),
        confirm=True,
    )


def stripe_signature(secret: str, payload: bytes, timestamp: int | None = None) -> str:
    """A `Stripe-Signature` header computed by Stripe's documented scheme, independently of the SDK."""
    t = int(time.time()) if timestamp is None else timestamp
    digest = hmac.new(secret.encode(), f"{t}.".encode() + payload, hashlib.sha256).hexdigest()
    return f"t={t},v1={digest}"


def event_payload(event_id: str = "evt_test_1", intent_id: str = "pi_test_1") -> bytes:
    event = {
        "id": event_id,
        "object": "event",
        "type": "payment_intent.succeeded",
        "created": int(time.time()),
        "data": {"object": {"id": intent_id, "object": "payment_intent", "amount": COURSE_PRICE}},
    }
    return json.dumps(event).encode()


# ---------------------------------------------------------------------------------------- paying


def test_card_4242_pays_the_whole_course_in_integer_cents(payments):
    result = pay(payments)

    assert result.status == "succeeded" and result.succeeded
    assert result.amount == COURSE_PRICE and isinstance(result.amount, int)
    assert result.currency == "usd"
    assert result.id.startswith("pi_")
    again = payments.retrieve_payment_intent(result.id)
    assert (again.id, again.status, again.amount) == (result.id, "succeeded", COURSE_PRICE)


def test_only_ids_reach_stripe_metadata(payments):
    result = pay(payments)

    intent = payments.client.v1.payment_intents.retrieve(result.id)
    assert intent.metadata.to_dict() == {"course_id": "42"}
    assert intent.to_dict().get("description") is None


@pytest.mark.parametrize(
    "metadata",
    [{"condition": "breast cancer"}, {"icd10": "C50.911"}, {"course_id": "chemo induced neuropathy"}],
)
def test_metadata_that_could_carry_health_information_is_refused_before_any_request(payments, metadata):
    with pytest.raises(ValueError, match="metadata"):
        payments.create_payment_intent(COURSE_PRICE, "usd", metadata, key("meta"))


def test_an_unconfirmed_intent_waits_for_the_browser_with_a_client_secret(payments):
    result = payments.create_payment_intent(COURSE_PRICE, "usd", {"course_id": 7}, key("open"))

    assert result.status == "requires_payment_method"
    assert result.client_secret and result.client_secret.startswith(result.id + "_secret_")


def test_canonical_test_payment_method_ids_work_too(payments):
    result = payments.create_payment_intent(
        5_000, "usd", {"course_id": 1}, key("pm"), payment_method="pm_card_visa", confirm=True
    )
    assert result.status == "succeeded"


def test_a_declined_card_raises_a_clear_error_and_leaves_the_intent_unpaid(payments):
    declined_card = card(payments, "4000000000000341")  # attaches, then its charge is declined

    with pytest.raises(PaymentDeclined) as caught:
        payments.create_payment_intent(
            COURSE_PRICE, "usd", {"course_id": 9}, key("declined"), payment_method=declined_card, confirm=True
        )

    error = caught.value
    assert error.code == "payment_declined" and error.status == 402
    assert error.message == "Your card was declined."
    assert error.decline_code == "card_declined"
    assert error.payment_intent_id and error.payment_intent_id.startswith("pi_")
    assert payments.retrieve_payment_intent(error.payment_intent_id).status == "requires_payment_method"
    assert "4000" not in json.dumps(error.details)


def test_an_abandoned_intent_can_be_cancelled(payments):
    result = payments.create_payment_intent(COURSE_PRICE, "usd", {"course_id": 3}, key("abandon"))

    assert payments.cancel_payment_intent(result.id).status == "canceled"


def test_provider_errors_become_payment_errors_without_the_key(payments, stripe_settings):
    with pytest.raises(PaymentError) as caught:
        payments.retrieve_payment_intent("pi_does_not_exist")

    assert type(caught.value) is PaymentError and caught.value.code == "payment_error"
    assert "404" in caught.value.message
    assert stripe_settings["STRIPE_SECRET_KEY"] not in repr(caught.value) + json.dumps(caught.value.details)


@pytest.mark.parametrize("amount", [0, -100, 12.5, True, "1000"])
def test_amounts_must_be_positive_integer_cents(payments, amount):
    with pytest.raises(ValueError, match="cents"):
        payments.create_payment_intent(amount, "usd", {"course_id": 1}, key("amount"))


def test_confirming_needs_a_payment_method_and_an_idempotency_key(payments):
    with pytest.raises(ValueError, match="payment_method"):
        payments.create_payment_intent(COURSE_PRICE, "usd", {"course_id": 1}, key("c"), confirm=True)
    with pytest.raises(ValueError, match="idempotency"):
        payments.create_payment_intent(COURSE_PRICE, "usd", {"course_id": 1}, "")


# --------------------------------------------------------------------------------------- refunds


def test_refunding_two_sessions_refunds_exactly_their_price(payments):
    paid = pay(payments)

    refund = payments.refund(paid.id, 2 * 11_000, key("refund"))

    assert refund.amount == 22_000 and refund.status == "succeeded"
    assert refund.id.startswith("re_")
    intent = payments.client.v1.payment_intents.retrieve(paid.id)
    charge = intent.latest_charge  # localstripe expands it; Stripe gives its id
    if isinstance(charge, str):
        charge = payments.client.v1.charges.retrieve(charge)
    assert charge.amount_refunded == 22_000
    assert payments.retrieve_payment_intent(paid.id).amount == COURSE_PRICE  # the intent keeps its amount


def test_partial_refunds_add_up_on_one_intent(payments):
    paid = pay(payments)

    first = payments.refund(paid.id, 11_000, key("r1"))
    second = payments.refund(paid.id, 11_000, key("r2"))

    assert (first.amount, second.amount) == (11_000, 11_000) and first.id != second.id
    refunds = payments.client.v1.refunds.list(params={"payment_intent": paid.id})
    assert sum(r.amount for r in refunds.data) == 22_000


def test_an_unpaid_intent_cannot_be_refunded(payments):
    unpaid = payments.create_payment_intent(COURSE_PRICE, "usd", {"course_id": 5}, key("unpaid"))

    with pytest.raises(PaymentError):
        payments.refund(unpaid.id, 11_000, key("refund-unpaid"))


# -------------------------------------------------------------------------------------- webhooks


def test_a_webhook_signed_by_stripes_scheme_is_accepted(payments, stripe_settings):
    payload = event_payload("evt_ok", "pi_ok")

    event = payments.construct_event(
        payload, stripe_signature(stripe_settings["STRIPE_WEBHOOK_SECRET"], payload)
    )

    assert isinstance(event, stripe.Event)
    assert (event.id, event.type, event.data.object.id) == ("evt_ok", "payment_intent.succeeded", "pi_ok")


def test_a_replayed_webhook_still_verifies_so_the_caller_must_dedupe_by_event_id(payments, stripe_settings):
    payload = event_payload("evt_twice")
    header = stripe_signature(stripe_settings["STRIPE_WEBHOOK_SECRET"], payload)

    first = payments.construct_event(payload, header)
    second = payments.construct_event(payload, header)

    assert first.id == second.id == "evt_twice"


def _forgeries(secret: str) -> dict[str, tuple[bytes, str | None]]:
    payload = event_payload("evt_forged")
    good = stripe_signature(secret, payload)
    return {
        "signed with another secret": (payload, stripe_signature("whsec_attacker", payload)),
        "body altered after signing": (payload.replace(b"evt_forged", b"evt_altered"), good),
        "signature made up": (payload, f"t={int(time.time())},v1={'0' * 64}"),
        "older than the tolerance": (payload, stripe_signature(secret, payload, int(time.time()) - 3600)),
        "no v1 signature": (payload, f"t={int(time.time())}"),
        "no header": (payload, None),
        "empty header": (payload, ""),
    }


@pytest.mark.parametrize(
    "case",
    [
        "signed with another secret",
        "body altered after signing",
        "signature made up",
        "older than the tolerance",
        "no v1 signature",
        "no header",
        "empty header",
    ],
)
def test_a_forged_webhook_is_refused(payments, stripe_settings, case):
    payload, header = _forgeries(stripe_settings["STRIPE_WEBHOOK_SECRET"])[case]

    with pytest.raises(SignatureInvalid) as caught:
        payments.construct_event(payload, header)

    assert caught.value.code == "signature_invalid" and caught.value.status == 400


def test_a_signed_body_that_is_not_an_event_is_a_payment_error_not_a_crash(payments, stripe_settings):
    payload = b"not json"

    with pytest.raises(PaymentError) as caught:
        payments.construct_event(payload, stripe_signature(stripe_settings["STRIPE_WEBHOOK_SECRET"], payload))

    assert not isinstance(caught.value, SignatureInvalid)


class _Receiver(BaseHTTPRequestHandler):
    received: queue.Queue

    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers["Content-Length"]))
        self.received.put((body, self.headers.get("Stripe-Signature")))
        self.send_response(200)
        self.end_headers()

    def log_message(self, *args) -> None:
        pass


def test_an_event_localstripe_signs_and_sends_verifies(payments, localstripe, stripe_settings):
    received: queue.Queue = queue.Queue()
    handler = type("Receiver", (_Receiver,), {"received": received})
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        hook_id = f"test-{time.monotonic_ns()}"
        config = {
            "url": f"http://127.0.0.1:{server.server_port}/stripe/webhook",
            "secret": stripe_settings["STRIPE_WEBHOOK_SECRET"],
            "events": ["payment_intent.succeeded"],
        }
        request = urllib.request.Request(
            f"{localstripe.url}/_config/webhooks/{hook_id}",
            data=json.dumps(config).encode(),
            headers={
                "Content-Type": "application/json",
                "Authorization": f"Bearer {stripe_settings['STRIPE_SECRET_KEY']}",
            },
            method="POST",
        )
        urllib.request.urlopen(request, timeout=5).close()

        paid = pay(payments)

        deadline = time.monotonic() + 15  # localstripe waits a second before sending
        while True:
            body, header = received.get(timeout=max(0.1, deadline - time.monotonic()))
            event = payments.construct_event(body, header)
            if event.data.object.id == paid.id:
                break
        assert event.type == "payment_intent.succeeded"
        assert event.data.object.amount == COURSE_PRICE
    finally:
        server.shutdown()
        server.server_close()
        thread.join(5)


# --------------------------------------------------------------------------------- pay at the visit


@pytest.mark.parametrize("config", [{}, {"STRIPE_SECRET_KEY": ""}, {"STRIPE_PUBLISHABLE_KEY": "pk_test_x"}])
def test_without_a_secret_key_the_adapter_is_disabled(config):
    payments = StripePayments.from_config(config)

    assert payments.enabled is False
    with pytest.raises(PaymentsDisabled):
        payments.create_payment_intent(COURSE_PRICE, "usd", {"course_id": 1}, key("off"))
    with pytest.raises(PaymentsDisabled):
        payments.refund("pi_x", 100, key("off"))
    assert payments.js_url == "https://js.stripe.com/v3/"


def test_without_a_webhook_secret_no_event_is_accepted(stripe_settings):
    payments = StripePayments.from_config({**stripe_settings, "STRIPE_WEBHOOK_SECRET": ""})
    payload = event_payload()

    with pytest.raises(PaymentsDisabled):
        payments.construct_event(payload, stripe_signature("", payload))


def test_the_secret_key_never_shows_in_repr_and_never_travels_in_clear_text():
    payments = StripePayments("sk_test_do_not_print", api_base="http://127.0.0.1:8420")

    assert "sk_test_do_not_print" not in repr(payments)
    with pytest.raises(ValueError, match="loopback"):
        StripePayments("sk_test_x", api_base="http://payments.example.org")
    assert StripePayments("sk_test_x", api_base="https://api.stripe.com").enabled
