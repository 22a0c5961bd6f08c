"""The app's payment mode comes from its configuration: no Stripe key is "pay at the visit"; with the keys it
talks to the configured Stripe API (here a real localstripe server)."""

from __future__ import annotations

import pytest

from config import ConfigError, ProductionConfig
from massage_booking import create_app
from massage_booking.payments import PaymentsDisabled


def test_without_a_key_the_app_takes_payment_at_the_visit(app):
    payments = app.extensions["payments"]
    assert not payments.enabled
    with pytest.raises(PaymentsDisabled, match="at the visit"):
        payments.create_payment_intent(12000, "usd", {"course_id": "1"}, idempotency_key="course-1")


def test_with_the_keys_the_app_charges_through_the_configured_api(stripe_settings):
    app = create_app("testing", {"SQLALCHEMY_DATABASE_URI": "sqlite://", **stripe_settings})
    payments = app.extensions["payments"]
    assert payments.enabled
    intent = payments.create_payment_intent(
        24000,
        "usd",
        {"course_id": "7"},
        idempotency_key="course-7",
        payment_method="pm_card_visa",
        confirm=True,
    )
    assert (intent.status, intent.amount) == ("succeeded", 24000)
    assert payments.retrieve_payment_intent(intent.id).amount == 24000


def test_production_refuses_a_secret_key_without_the_webhook_secret(monkeypatch):
    monkeypatch.setenv("SECRET_KEY", "x" * 40)
    monkeypatch.setenv("DATABASE_URL", "sqlite:///tmp/unused.sqlite3")
    monkeypatch.setenv("STRIPE_SECRET_KEY", "sk_live_example")
    monkeypatch.delenv("STRIPE_WEBHOOK_SECRET", raising=False)
    monkeypatch.setenv("STRIPE_PUBLISHABLE_KEY", "pk_live_example")
    with pytest.raises(ConfigError, match="STRIPE_WEBHOOK_SECRET"):
        ProductionConfig().validate()
    monkeypatch.setenv("STRIPE_WEBHOOK_SECRET", "whsec_example")
    ProductionConfig().validate()  # all three: accepted
