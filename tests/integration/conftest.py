"""Fixtures several integration test modules share (the rest are in tests/conftest.py); builders are in
tests/factories.py."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from massage_booking.models import NetworkMembership, Payer, TherapistProfile
from tests.conftest import postgres_lane
from tests.factories import acme_and_other, bookable_therapist

# ------------------------------------------------------------------------------------ eligibility checks
# The eligibility API's and FHIR's world: Acme (a PPO wanting a referral, 20 visits a year, $25 copay) and
# Other Mutual; a licensed therapist in Acme's network without an oncology credential.


@pytest.fixture
def payers(db) -> tuple[Payer, Payer]:
    """Acme's PPO wants a referral (90 days) and allows 20 visits a year, copay $25."""
    return acme_and_other(db)


@pytest.fixture
def therapist(auth, db, payers) -> int:
    """A licensed (verified) therapist in Acme's network, without an oncology credential; the profile id."""
    therapist_id = bookable_therapist(auth, db, "Dana Reyes", trained=False)
    profile = db.get(TherapistProfile, therapist_id)
    profile.license_verified_at = datetime.now(UTC) - timedelta(days=30)
    db.add(NetworkMembership(therapist_id=therapist_id, plan_id=payers[0].plans[0].id))
    db.commit()
    return therapist_id


# ------------------------------------------------------------------------------------------------ e-mail


@pytest.fixture
def outbox_overrides(request: pytest.FixtureRequest, smtp_settings, tmp_path) -> dict:
    """App config for the outbox tests (their `app_overrides`): mail to `smtp_server`, SQLite in a file (the
    concurrent-sender test needs one connection per thread), and card payments on (localstripe, 15-minute
    holds) if the test asks for a `cards` fixture."""
    overrides = dict(smtp_settings)
    if not postgres_lane(request.config):
        overrides["SQLALCHEMY_DATABASE_URI"] = f"sqlite:///{tmp_path / 'notifications.sqlite3'}"
    if "cards" in request.fixturenames:
        overrides.update(request.getfixturevalue("stripe_settings"), PAYMENT_HOLD_MINUTES=15)
    return overrides
