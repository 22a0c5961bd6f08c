"""Stripe adapter: PaymentIntents, refunds and webhook verification over the `stripe` SDK.

One PaymentIntent per course, not one per session. Why:
- The patient books a course as one thing (8 weekly sessions, say) and should see one charge for it on their
  card statement and in their receipts, not eight.
- Cancelling single sessions within policy becomes a *partial* refund of that one PaymentIntent, for exactly
  those sessions' price in cents; Stripe keeps the running total (`amount_refunded`) against one object, so
  the course's balance is never spread over several payments that could disagree.
- A course is booked whole or not at all, and while it waits for payment all its slots are held together: one
  PaymentIntent succeeds or fails (or is abandoned) for all of them, so the holds are confirmed, or expire
  and are released, together. Per-session intents could leave a course half paid.
- One payment needs one idempotency key and one `payment_intent.succeeded` event to apply.

The adapter is plain Python (no Flask): it takes its settings as constructor arguments, or from a mapping such
as `app.config` through `StripePayments.from_config`. Each instance has its own `stripe.StripeClient`, so the
API base (Stripe's, or a localstripe server's in development and tests) is never set process-wide on the
`stripe` module.

No health information may reach Stripe. Nothing the adapter sends says what the care is for: no description,
no statement descriptor, and metadata is limited to the opaque ids in `ALLOWED_METADATA_KEYS` (course,
appointment, patient and therapist ids). A condition, an ICD-10 code, a precaution or a note is refused
before any request is made. Card details never pass through here either: the browser sends them to
Stripe.js, and the server only sees a PaymentMethod id.

Errors from Stripe become `PaymentError` subclasses (which are `DomainError`s, so the API serialises them);
their messages carry Stripe's code and request id, never the request body, the API key or card details.
"""

from __future__ import annotations

import ipaddress
import json
import re
import time
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from urllib.parse import urlsplit

import stripe

from massage_booking.domain.errors import DomainError

STRIPE_JS_URL = "https://js.stripe.com/v3/"
ALLOWED_METADATA_KEYS = frozenset({"course_id", "appointment_id", "patient_id", "therapist_id"})
_METADATA_VALUE = re.compile(r"[A-Za-z0-9_-]{1,64}")
_CURRENCY = re.compile(r"[a-z]{3}")
# A `Stripe-Signature` timestamp: plain ASCII digits (int() would also take "+17", " 17" or "1_7").
_SIGNATURE_TIMESTAMP = re.compile(r"[0-9]{1,12}")
# Text no database column can hold: PostgreSQL refuses NUL, and a lone surrogate has no UTF-8 encoding.
_UNSTORABLE = re.compile(r"[\x00\ud800-\udfff]")
# Real events nest about ten levels (event > data > object > payment_method_details > card > ...); the SDK
# and `to_dict()` recurse per level, so a signed body nested hundreds deep would crash them.
_MAX_EVENT_DEPTH = 32
# Stripe's documented ceiling for `amount`: eight digits in the currency's smallest unit.
_MAX_STRIPE_AMOUNT = 99_999_999
_NOT_AN_EVENT = "The webhook body is not a Stripe event."


class PaymentError(DomainError):
    """Stripe could not be reached, or refused a request for a reason that is not the card's."""

    code = "payment_error"
    status = 502


class PaymentDeclined(PaymentError):
    """The card was declined. `payment_intent_id` names the now unpaid PaymentIntent if Stripe says which."""

    code = "payment_declined"
    status = 402

    def __init__(
        self,
        message: str,
        *,
        decline_code: str | None = None,
        payment_intent_id: str | None = None,
    ) -> None:
        super().__init__(message, {"decline_code": decline_code, "payment_intent_id": payment_intent_id})
        self.decline_code = decline_code
        self.payment_intent_id = payment_intent_id


class SignatureInvalid(PaymentError):
    """A webhook whose `Stripe-Signature` does not verify: forged, altered, too old, or signed with another
    secret. Nothing in it may be acted on."""

    code = "signature_invalid"
    status = 400


class EventInvalid(PaymentError):
    """A correctly signed webhook body that is not a Stripe event the service can apply: not JSON, not an
    event object, or a PaymentIntent whose fields have types Stripe never sends. 400, not 5xx, because
    delivering the same bytes again can never succeed; `details["reason"]` names the rule it broke (never
    the offending value)."""

    code = "event_invalid"
    status = 400


class PaymentMethodInvalid(PaymentError):
    """The PaymentMethod id names no usable card (unknown to Stripe, or not a card): the client sent a wrong
    id, so this is the client's to fix (422), not a processor failure (502)."""

    code = "payment_method_invalid"
    status = 422


class PaymentsDisabled(PaymentError):
    """A Stripe call on an adapter with no secret key: the site is in "pay at the visit" mode."""

    code = "payments_disabled"
    status = 409


@dataclass(frozen=True, slots=True)
class PaymentIntentResult:
    """What the product keeps of a PaymentIntent. `client_secret` goes to the patient's browser only
    (Stripe.js needs it to confirm the card); it is not a secret key and is not stored."""

    id: str
    status: str
    client_secret: str | None
    amount: int
    currency: str

    @property
    def succeeded(self) -> bool:
        return self.status == "succeeded"


@dataclass(frozen=True, slots=True)
class SetupResult:
    """A SetupIntent's id and the client secret the card form confirms it with."""

    id: str
    client_secret: str


@dataclass(frozen=True, slots=True)
class RefundResult:
    id: str
    status: str
    amount: int


@dataclass(frozen=True, slots=True)
class ListedPaymentIntent:
    """A PaymentIntent as Stripe lists it. `course_id` is the course our metadata names (None for an
    intent that is not ours); `created` is Stripe's Unix time in seconds; `amount_received` is what
    was actually taken (less than `amount` after a partial capture; localstripe does not say)."""

    id: str
    status: str
    amount: int
    currency: str
    course_id: int | None
    created: int
    latest_charge_id: str | None = None
    amount_received: int | None = None

    @property
    def succeeded(self) -> bool:
        return self.status == "succeeded"

    @property
    def received(self) -> int:
        if self.amount_received is not None:
            return self.amount_received
        return self.amount if self.succeeded else 0


@dataclass(frozen=True, slots=True)
class ListedRefund:
    """A Refund as Stripe lists it. `payment_intent_id` is None for a refund made on a bare charge
    (`charge_id`), which the caller ties to its PaymentIntent through `latest_charge_id`."""

    id: str
    payment_intent_id: str | None
    charge_id: str | None
    amount: int
    currency: str
    status: str
    created: int


class StripePayments:
    """Talks to Stripe (or localstripe) for the product. `enabled` is False without a secret key, which is the
    "pay at the visit" mode: the caller checks it and then takes no card payment at all.

    Every write takes an idempotency key chosen by the caller from our own ids (e.g. `course-42-pay`), so
    that a retried request (ours, or the SDK's own network retries) cannot charge or refund twice.
    """

    def __init__(
        self,
        secret_key: str | None,
        *,
        publishable_key: str | None = None,
        webhook_secret: str | None = None,
        api_base: str | None = None,
        js_url: str | None = None,
        timeout_seconds: float = 30.0,
        max_network_retries: int = 2,
        webhook_tolerance_seconds: int = stripe.Webhook.DEFAULT_TOLERANCE,
    ) -> None:
        if api_base:
            _check_api_base(api_base)
        self._secret_key = secret_key or None
        self.publishable_key = publishable_key or None
        self._webhook_secret = webhook_secret or None
        self.api_base = api_base or None
        self.js_url = js_url or STRIPE_JS_URL
        self.webhook_tolerance_seconds = webhook_tolerance_seconds
        self._client: stripe.StripeClient | None = None
        if self._secret_key:
            self._client = stripe.StripeClient(
                self._secret_key,
                base_addresses={"api": self.api_base} if self.api_base else {},
                http_client=stripe.RequestsClient(timeout=timeout_seconds),
                max_network_retries=max_network_retries,
            )

    @classmethod
    def from_config(cls, config: Mapping[str, Any]) -> StripePayments:
        """From `app.config` (or any mapping) with the keys STRIPE_SECRET_KEY, STRIPE_PUBLISHABLE_KEY,
        STRIPE_WEBHOOK_SECRET, STRIPE_API_BASE and STRIPE_JS_URL; missing keys mean "not configured"."""
        return cls(
            config.get("STRIPE_SECRET_KEY"),
            publishable_key=config.get("STRIPE_PUBLISHABLE_KEY"),
            webhook_secret=config.get("STRIPE_WEBHOOK_SECRET"),
            api_base=config.get("STRIPE_API_BASE"),
            js_url=config.get("STRIPE_JS_URL"),
        )

    def __repr__(self) -> str:  # never show the keys
        return f"<StripePayments enabled={self.enabled} api_base={self.api_base or 'stripe'}>"

    @property
    def enabled(self) -> bool:
        return self._client is not None

    @property
    def client(self) -> stripe.StripeClient:
        if self._client is None:
            raise PaymentsDisabled("Card payments are not configured: payment is taken at the visit.")
        return self._client

    # ------------------------------------------------------------------------------------ PaymentIntents

    def create_payment_intent(
        self,
        amount_cents: int,
        currency: str,
        metadata: Mapping[str, str | int],
        idempotency_key: str,
        payment_method: str | None = None,
        confirm: bool = False,
    ) -> PaymentIntentResult:
        """Create a PaymentIntent for a whole course; with `confirm=True` and a PaymentMethod id, charge it
        now (the API's pay endpoint). Without, the browser confirms it with Stripe.js and the client secret.

        A declined card raises `PaymentDeclined`, naming the PaymentIntent, which stays unpaid
        (`requires_payment_method`). Confirm on create, not with a separate confirm call: localstripe does
        not implement confirming with a payment method.
        """
        _check_amount(amount_cents)
        if not _CURRENCY.fullmatch(currency):
            raise ValueError(f"currency must be a lower-case ISO 4217 code, not {currency!r}")
        if confirm and not payment_method:
            raise ValueError("confirm=True needs a payment_method")
        params: dict[str, Any] = {
            "amount": amount_cents,
            "currency": currency,
            "metadata": _checked_metadata(metadata),
        }
        if payment_method:
            params["payment_method"] = payment_method
        if confirm:
            params["confirm"] = True
        try:
            intent = self.client.v1.payment_intents.create(
                params=params, options={"idempotency_key": _checked_key(idempotency_key)}
            )
        except stripe.CardError as exc:
            raise self._declined(exc) from None
        except stripe.InvalidRequestError as exc:
            # Stripe answers an unknown PaymentMethod with resource_missing on `payment_method`; localstripe
            # with a bare 404. Either way the id the client gave is wrong.
            if payment_method and (exc.param == "payment_method" or exc.http_status == 404):
                raise PaymentMethodInvalid(
                    "That payment method was not found: enter the card again.",
                    {"request_id": exc.request_id},
                ) from None
            raise _provider_error("create the payment", exc) from None
        except stripe.StripeError as exc:
            raise _provider_error("create the payment", exc) from None
        return _intent_result(intent)

    def retrieve_payment_intent(self, payment_intent_id: str) -> PaymentIntentResult:
        try:
            intent = self.client.v1.payment_intents.retrieve(payment_intent_id)
        except stripe.StripeError as exc:
            raise _provider_error("read the payment", exc) from None
        return _intent_result(intent)

    def cancel_payment_intent(self, payment_intent_id: str) -> PaymentIntentResult:
        """Cancel an unpaid PaymentIntent, e.g. when its course's hold expires, so a late confirmation in an
        abandoned browser tab cannot charge for slots that were released."""
        try:
            intent = self.client.v1.payment_intents.cancel(payment_intent_id)
        except stripe.StripeError as exc:
            raise _provider_error("cancel the payment", exc) from None
        return _intent_result(intent)

    def create_setup_intent(self, metadata: Mapping[str, str | int], idempotency_key: str) -> SetupResult:
        """A SetupIntent for the browser's card form: Stripe.js `confirmCardSetup` sends the card to Stripe
        and gives back a PaymentMethod id, which the server then charges (`create_payment_intent` with
        `confirm=True`). Why not `confirmCardPayment` on a PaymentIntent directly: localstripe's Stripe.js
        ignores the card given to that call (it only completes 3-D Secure), while `confirmCardSetup`
        reads the card element in both localstripe's and Stripe's Stripe.js, so one page works with both."""
        try:
            setup = self.client.v1.setup_intents.create(
                params={"usage": "on_session", "metadata": _checked_metadata(metadata)},
                options={"idempotency_key": _checked_key(idempotency_key)},
            )
        except stripe.StripeError as exc:
            raise _provider_error("prepare the card form", exc) from None
        return SetupResult(id=setup.id, client_secret=setup.client_secret or "")

    # ------------------------------------------------------------------------------------------ refunds

    def refund(self, payment_intent_id: str, amount_cents: int, idempotency_key: str) -> RefundResult:
        """Refund part (or all) of a course's PaymentIntent: the price of the sessions being cancelled."""
        _check_amount(amount_cents)
        try:
            refund = self.client.v1.refunds.create(
                params={"payment_intent": payment_intent_id, "amount": amount_cents},
                options={"idempotency_key": _checked_key(idempotency_key)},
            )
        except stripe.StripeError as exc:
            raise _provider_error("refund the payment", exc) from None
        return RefundResult(id=refund.id, status=refund.status or "pending", amount=int(refund.amount))

    # --------------------------------------------------------------------- listings, for reconciliation
    # `flask payments reconcile` and the admin payments page compare Stripe's own records with the ledger
    # (services/payment_reconciliation.py).

    def list_payment_intents(self, created_since: datetime) -> list[ListedPaymentIntent]:
        """Every PaymentIntent created at or after `created_since`, all pages of them."""
        since = self._unix_seconds(created_since)
        try:
            pages = self.client.v1.payment_intents.list(params=self._listing_params(since))
            listed = [self._listed_intent(intent) for intent in pages.auto_paging_iter()]
        except stripe.StripeError as exc:
            raise _provider_error("list the payments", exc) from None
        return [intent for intent in listed if intent.created >= since]

    def find_payment_intent(self, payment_intent_id: str) -> ListedPaymentIntent | None:
        """One PaymentIntent with its metadata, or None if Stripe has no such id: for a reconciliation
        that must tell "Stripe does not know it" apart from "Stripe could not be asked"."""
        try:
            intent = self.client.v1.payment_intents.retrieve(payment_intent_id)
        except stripe.InvalidRequestError as exc:
            if exc.http_status == 404:
                return None
            raise _provider_error("read the payment", exc) from None
        except stripe.StripeError as exc:
            raise _provider_error("read the payment", exc) from None
        return self._listed_intent(intent)

    def list_refunds(
        self, created_since: datetime | None = None, *, payment_intent_id: str | None = None
    ) -> list[ListedRefund]:
        """Every Refund created at or after `created_since`, or every Refund of one PaymentIntent (whatever
        its date: a course paid months ago may be refunded today), all pages of them."""
        if (created_since is None) == (payment_intent_id is None):
            raise ValueError("give created_since or payment_intent_id, not both or neither")
        since = self._unix_seconds(created_since) if created_since is not None else None
        params: dict[str, Any] = {"limit": 100, "payment_intent": payment_intent_id}
        if since is not None:
            params = self._listing_params(since)
        try:
            pages = self.client.v1.refunds.list(params=params)
            listed = [self._listed_refund(refund) for refund in pages.auto_paging_iter()]
        except stripe.StripeError as exc:
            raise _provider_error("list the refunds", exc) from None
        return [refund for refund in listed if since is None or refund.created >= since]

    def _listing_params(self, since: int) -> dict[str, Any]:
        """Stripe filters by `created` itself (and lists newest first). Another API server is asked for
        everything, and the caller filters: localstripe answers a `created` filter on PaymentIntents with
        400 and on refunds with 500 (which the SDK retries), so sending it there would fail every run."""
        if self.api_base is None:
            return {"limit": 100, "created": {"gte": since}}
        return {"limit": 100}

    @staticmethod
    def _unix_seconds(moment: datetime) -> int:
        if moment.tzinfo is None:
            raise ValueError("created_since must be timezone-aware (UTC)")
        return int(moment.timestamp())

    @staticmethod
    def _object_id(value: object) -> str | None:
        """An id the API gives either as a string or, expanded (localstripe always expands
        `latest_charge`), as the object itself."""
        if isinstance(value, str):
            return value
        found = value.get("id") if isinstance(value, dict) else None
        return found if isinstance(found, str) else None

    @staticmethod
    def _listed_intent(intent: stripe.PaymentIntent) -> ListedPaymentIntent:
        data = intent.to_dict()  # plain dicts: a StripeObject has no .get, and fields may be absent
        course = (data.get("metadata") or {}).get("course_id")
        # The same reading as the webhook's: ASCII digits only (str.isdigit() also takes "²").
        course_id = int(course) if isinstance(course, str) and course.isascii() and course.isdigit() else None
        received = data.get("amount_received")
        return ListedPaymentIntent(
            id=data["id"],
            status=data["status"],
            amount=int(data["amount"]),
            currency=data["currency"],
            course_id=course_id,
            created=int(data["created"]),
            latest_charge_id=StripePayments._object_id(data.get("latest_charge")),
            amount_received=received if isinstance(received, int) else None,
        )

    @staticmethod
    def _listed_refund(refund: stripe.Refund) -> ListedRefund:
        data = refund.to_dict()
        return ListedRefund(
            id=data["id"],
            payment_intent_id=StripePayments._object_id(data.get("payment_intent")),
            charge_id=StripePayments._object_id(data.get("charge")),
            amount=int(data["amount"]),
            currency=data["currency"],
            status=data.get("status") or "pending",
            created=int(data["created"]),
        )

    # ------------------------------------------------------------------------------------------ webhooks

    def construct_event(
        self, payload: bytes, signature_header: str | None, *, now: float | None = None
    ) -> stripe.Event:
        """Verify a webhook's `Stripe-Signature` against the webhook secret and parse the event.

        `payload` must be the raw request body, byte for byte: the signature covers those bytes, and any
        re-serialised JSON would fail. The signature's `t` must lie within `webhook_tolerance_seconds` of
        `now` (the clock, unless a test fixes it) in either direction: the SDK only refuses a `t` that is
        too old, so a forward-dated signature would stay valid until its time came and went.

        Raises `SignatureInvalid` for a missing, forged, stale or forward-dated signature, and (only once
        the signature verified) `EventInvalid` for a body that is not an event `apply_event` can take.
        """
        if not self._webhook_secret:
            raise PaymentsDisabled("No Stripe webhook secret is configured; webhooks cannot be verified.")
        tolerance = _checked_tolerance(self.webhook_tolerance_seconds)
        timestamp = _signature_timestamp(signature_header)
        current = time.time() if now is None else now
        if abs(current - timestamp) > tolerance:
            raise SignatureInvalid(
                f"The webhook signature's timestamp is more than {tolerance} seconds from now.",
                {"tolerance_seconds": tolerance},
            )
        try:
            # Stripe signs text; bytes that are not UTF-8 cannot be an event it sent, whatever their MAC.
            text = payload.decode("utf-8") if isinstance(payload, bytes | bytearray) else payload
        except UnicodeDecodeError:
            raise EventInvalid(_NOT_AN_EVENT, {"reason": "not UTF-8"}) from None
        try:
            # The timestamp window is ours (above): the SDK's one-sided check is switched off.
            stripe.WebhookSignature.verify_header(
                text, signature_header, self._webhook_secret, tolerance=None
            )
        except stripe.SignatureVerificationError:
            raise SignatureInvalid("The webhook signature does not verify.") from None
        return stripe.Event.construct_from(_checked_event(text), None)

    # ---------------------------------------------------------------------------------------- internals

    def _declined(self, exc: stripe.CardError) -> PaymentDeclined:
        """The decline, with the PaymentIntent it left unpaid. Stripe puts that intent in the error;
        localstripe gives only the failed charge, whose `payment_intent` names it."""
        error = exc.error
        intent_id: str | None = None
        if error is not None and error.payment_intent is not None:
            intent_id = error.payment_intent.id
        elif error is not None and error.charge:
            try:
                intent_id = self.client.v1.charges.retrieve(error.charge).payment_intent
            except stripe.StripeError:
                intent_id = None
        decline_code = (error.decline_code if error is not None else None) or exc.code
        return PaymentDeclined(
            exc.user_message or "The card was declined.",
            decline_code=decline_code,
            payment_intent_id=intent_id if isinstance(intent_id, str) else None,
        )


def _intent_result(intent: stripe.PaymentIntent) -> PaymentIntentResult:
    return PaymentIntentResult(
        id=intent.id,
        status=intent.status,
        client_secret=intent.client_secret,
        amount=int(intent.amount),
        currency=intent.currency,
    )


def _provider_error(action: str, exc: stripe.StripeError) -> PaymentError:
    """A domain error naming Stripe's code and request id (enough to find it in Stripe's dashboard) but not
    the request, the response body or the key."""
    return PaymentError(
        f"Could not {action}: the payment provider answered {exc.http_status or 'nothing'}.",
        {"stripe_code": exc.code, "request_id": exc.request_id, "kind": type(exc).__name__},
    )


def _check_amount(amount_cents: int) -> None:
    if isinstance(amount_cents, bool) or not isinstance(amount_cents, int) or amount_cents <= 0:
        raise ValueError(f"amount_cents must be a positive integer number of cents, not {amount_cents!r}")


def _checked_key(idempotency_key: str) -> str:
    if not idempotency_key or len(idempotency_key) > 255:
        raise ValueError("an idempotency key of 1 to 255 characters is required")
    return idempotency_key


def _checked_metadata(metadata: Mapping[str, str | int]) -> dict[str, str]:
    """Only opaque ids may go to Stripe: anything else could carry health information."""
    checked: dict[str, str] = {}
    for key, value in metadata.items():
        if key not in ALLOWED_METADATA_KEYS:
            raise ValueError(f"metadata key {key!r} is not allowed; allowed: {sorted(ALLOWED_METADATA_KEYS)}")
        text = str(value)
        if isinstance(value, bool) or not _METADATA_VALUE.fullmatch(text):
            raise ValueError(f"metadata {key!r} must be an id (letters, digits, '-' or '_')")
        checked[key] = text
    return checked


def _checked_tolerance(tolerance: object) -> int:
    """The SDK reads a tolerance of 0 or None as "no check at all": a configuration that would silently
    accept any old signature is refused loudly instead."""
    if isinstance(tolerance, bool) or not isinstance(tolerance, int) or tolerance < 1:
        raise ValueError(f"webhook_tolerance_seconds must be a positive whole number, not {tolerance!r}")
    return tolerance


def _signature_timestamp(header: str | None) -> int:
    """The one `t=` of a `Stripe-Signature` header. Exactly one, so that the timestamp checked here is the
    one the SDK's MAC covers (it takes the first of several); ASCII only, because the SDK compares the
    `v1` values with `hmac.compare_digest`, which raises (a 500) on non-ASCII text."""
    if not header or not header.isascii():
        raise SignatureInvalid("The webhook has no Stripe-Signature header with a timestamp.")
    stamps = [value for key, _, value in (item.partition("=") for item in header.split(",")) if key == "t"]
    if len(stamps) != 1 or not _SIGNATURE_TIMESTAMP.fullmatch(stamps[0]):
        raise SignatureInvalid("The webhook has no Stripe-Signature header with a timestamp.")
    return int(stamps[0])


def _reject_constant(name: str) -> Any:
    """NaN and Infinity: Python's json reads them, but they are not JSON and Stripe never sends them."""
    raise ValueError(f"{name} is not JSON")


def _not_an_event(reason: str) -> EventInvalid:
    return EventInvalid(_NOT_AN_EVENT, {"reason": reason})


def _checked_event(text: str) -> dict[str, Any]:
    """The parsed event, if it has the shape `services/course_payments.apply_event` relies on. Most rules
    are ones a signed body broke with a 500 or a half-applied 502 (a list body, a string `metadata`, a text
    `amount`, an id too long for its PostgreSQL column, a NUL): refusing here, before anything is written,
    keeps the answer a clean 400. The rest hold fields to the types Stripe documents."""
    try:
        event = json.loads(text, parse_constant=_reject_constant)
    except (ValueError, RecursionError):
        raise _not_an_event("not JSON") from None
    if not isinstance(event, dict) or event.get("object") != "event":
        raise _not_an_event("not an event object")
    _check_text(event.get("id"), 255, "id")
    _check_text(event.get("type"), 80, "type")
    data = event.get("data")
    obj = data.get("object") if isinstance(data, dict) else None
    if not isinstance(obj, dict):
        raise _not_an_event("data.object")
    _check_storable(event)
    if obj.get("object") == "payment_intent" or event["type"].startswith("payment_intent."):
        _check_payment_intent(obj)
    return event


def _check_text(value: object, max_length: int, field: str) -> None:
    """An id or type: stored in a column of `max_length`, so no longer, and printable."""
    if not isinstance(value, str) or not 0 < len(value) <= max_length or not value.isprintable():
        raise _not_an_event(field)


def _check_storable(event: dict[str, Any]) -> None:
    """No string anywhere (keys too) that a database would refuse, and no nesting the SDK cannot convert.
    Iterative, so the walk itself cannot overflow the stack."""
    stack: list[tuple[object, int]] = [(event, 1)]
    while stack:
        value, depth = stack.pop()
        if depth > _MAX_EVENT_DEPTH:
            raise _not_an_event("nested too deep")
        if isinstance(value, dict):
            for key, item in value.items():
                if _UNSTORABLE.search(key):
                    raise _not_an_event("unstorable text")
                stack.append((item, depth + 1))
        elif isinstance(value, list):
            stack.extend((item, depth + 1) for item in value)
        elif isinstance(value, str) and _UNSTORABLE.search(value):
            raise _not_an_event("unstorable text")


def _check_payment_intent(obj: dict[str, Any]) -> None:
    """The PaymentIntent fields `apply_event` reads, with the types Stripe gives them. A field that is
    absent or null is left to the service's defaults, except `id` and `amount`, which every PaymentIntent
    has and which a charge row needs (a positive amount that fits the ledger's integer column)."""
    _check_text(obj.get("id"), 255, "data.object.id")
    amount = obj.get("amount")
    if isinstance(amount, bool) or not isinstance(amount, int) or not 0 < amount <= _MAX_STRIPE_AMOUNT:
        raise _not_an_event("data.object.amount")
    currency = obj.get("currency")
    if currency is not None and not (isinstance(currency, str) and _CURRENCY.fullmatch(currency)):
        raise _not_an_event("data.object.currency")
    if obj.get("status") is not None and not isinstance(obj["status"], str):
        raise _not_an_event("data.object.status")
    metadata = obj.get("metadata")
    if metadata is not None and not isinstance(metadata, dict):
        raise _not_an_event("data.object.metadata")
    course_id = (metadata or {}).get("course_id")
    # The service reads digits with str.isdigit() and then int(), which fails on e.g. a superscript two.
    if isinstance(course_id, str) and course_id.isdigit() and not course_id.isascii():
        raise _not_an_event("data.object.metadata.course_id")
    error = obj.get("last_payment_error")
    if error is not None and not isinstance(error, dict):
        raise _not_an_event("data.object.last_payment_error")


def _check_api_base(api_base: str) -> None:
    """Refuse to send a secret key in clear text: plain http only to this machine (localstripe)."""
    parts = urlsplit(api_base)
    if parts.scheme == "https" and parts.hostname:
        return
    if parts.scheme == "http" and parts.hostname:
        host = parts.hostname
        if host == "localhost":
            return
        try:
            if ipaddress.ip_address(host).is_loopback:
                return
        except ValueError:
            pass
    raise ValueError(
        f"STRIPE_API_BASE must be https://..., or http:// to a loopback address, not {api_base!r}"
    )
