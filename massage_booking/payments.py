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
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

import stripe

from massage_booking.domain.errors import DomainError

STRIPE_JS_URL = "https://js.stripe.com/v3/"
ALLOWED_METADATA_KEYS = frozenset({"course_id", "appointment_id", "patient_id", "therapist_id"})
_METADATA_VALUE = re.compile(r"[A-Za-z0-9_-]{1,64}")
_CURRENCY = re.compile(r"[a-z]{3}")


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

    # ------------------------------------------------------------------------------------------ webhooks

    def construct_event(self, payload: bytes, signature_header: str | None) -> stripe.Event:
        """Verify a webhook's `Stripe-Signature` against the webhook secret and parse the event.

        `payload` must be the raw request body, byte for byte: the signature covers those bytes, and any
        re-serialised JSON would fail. Raises `SignatureInvalid` for a missing, forged or stale signature and
        `PaymentError` for a signed body that is not a Stripe event.
        """
        if not self._webhook_secret:
            raise PaymentsDisabled("No Stripe webhook secret is configured; webhooks cannot be verified.")
        try:
            return stripe.Webhook.construct_event(
                payload, signature_header, self._webhook_secret, tolerance=self.webhook_tolerance_seconds
            )
        except stripe.SignatureVerificationError:
            raise SignatureInvalid("The webhook signature does not verify.") from None
        except ValueError:  # signed, but not JSON or not an event
            raise PaymentError("The webhook body is not a Stripe event.") from None

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
