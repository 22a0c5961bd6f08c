"""Fixtures for tests/integration beyond the shared ones in tests/conftest.py: a real Stripe API server.

`localstripe` starts one server per test session (only if some test asks for it) and stops it at the end.
It FAILS, never skips, when localstripe cannot start: it is a pinned dev dependency that every lane installs,
so a missing server is a broken environment, not a lane to leave out.
"""

from __future__ import annotations

import secrets

import pytest

from tests.localstripe_server import LocalStripe, LocalStripeError

# localstripe accepts any key that starts with sk_ / pk_; these are not Stripe credentials.
TEST_SECRET_KEY = "sk_test_localstripe"
TEST_PUBLISHABLE_KEY = "pk_test_localstripe"


@pytest.fixture(scope="session")
def localstripe():
    """A running localstripe (`.url`, `.js_url`, `.flush()`), from scratch, on a free loopback port."""
    server = LocalStripe()
    try:
        server.start()
    except LocalStripeError as exc:
        pytest.fail(str(exc), pytrace=False)
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture(scope="session")
def stripe_settings(localstripe: LocalStripe) -> dict[str, str]:
    """App config pointing at the session's localstripe, with a webhook secret made for this session; use it
    as (part of) `app_overrides`, or with `StripePayments.from_config`."""
    return {
        "STRIPE_SECRET_KEY": TEST_SECRET_KEY,
        "STRIPE_PUBLISHABLE_KEY": TEST_PUBLISHABLE_KEY,
        "STRIPE_WEBHOOK_SECRET": "whsec_" + secrets.token_hex(16),
        "STRIPE_API_BASE": localstripe.url,
        "STRIPE_JS_URL": localstripe.js_url,
    }
