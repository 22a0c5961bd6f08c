"""The tests' shared builders, in one place: therapists with a practice (and hours), payers and insurers,
intakes and courses over the API, Stripe cards and signed webhooks, and the outbox.

Test modules import builders from here (or the page-reading helpers from tests/pages.py), never from one
another; tests/unit/test_test_layout.py checks that. Fixtures shared by several modules live in the
conftest.py of the directory that holds them all.

Prices follow `practice_therapist`: $120 for a session, so the Sherman neck-pain plan (8 x 60 minutes) is
$960.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import secrets
import time as clock
from datetime import date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import stripe
from sqlalchemy import select

from massage_booking.models import (
    AvailabilitySettings,
    CredentialKind,
    CredentialStatus,
    GeocodePrecision,
    InsurancePlan,
    OncologyCredential,
    OutboxMessage,
    Payer,
    PlanType,
    PracticeLocation,
    TherapistProfile,
    User,
    WeeklyHours,
)
from massage_booking.notifications import sender

NEW_YORK = ZoneInfo("America/New_York")

# --------------------------------------------------------------------------------- therapists, practices


def verified_oncology_credential(today: date) -> OncologyCredential:
    """A verified S4OM foundational credential, current for another 600 days: what makes a therapist
    oncology-trained in search and booking."""
    return OncologyCredential(
        kind=CredentialKind.S4OM_FOUNDATIONAL,
        issuer="Society for Oncology Massage",
        training_hours=32,
        issued_on=today - timedelta(days=100),
        expires_on=today + timedelta(days=600),
        status=CredentialStatus.VERIFIED,
    )


def practice_therapist(
    auth,
    db,
    name: str = "Dana Reyes",
    *,
    trained: bool = False,
    zip_code: str = "10001",
    latitude: float = 40.7506,
    longitude: float = -73.9972,
) -> tuple[TherapistProfile, User]:
    """A committed therapist profile with one New York practice (and a current credential if `trained`).

    Licensed in NY for another year, $120 a session, the practice at a ZIP centroid (ZIP precision); no
    hours yet."""
    user = auth.create_user("therapist", display_name=name)
    today = date.today()
    profile = TherapistProfile(
        user_id=user.id,
        name=name,
        license_number="MT-1",
        license_state="NY",
        license_expires_on=today + timedelta(days=365),
        session_rate_cents=12000,
    )
    profile.locations.append(
        PracticeLocation(
            city="New York",
            state="NY",
            zip_code=zip_code,
            latitude=latitude,
            longitude=longitude,
            time_zone="America/New_York",
            geocode_precision=GeocodePrecision.ZIP,
        )
    )
    if trained:
        profile.credentials.append(verified_oncology_credential(today))
    db.add(profile)
    db.commit()
    return profile, user


def bookable_therapist(
    auth, db, name: str, *, trained: bool, zip_code: str = "10001", lat: float = 40.7506
) -> int:
    """A `practice_therapist` open every day 08:00-20:00 with no notice, offering 30, 60 and 90 minutes
    (15-minute steps, 15 minutes after each session); returns the profile id."""
    profile, _ = practice_therapist(auth, db, name, trained=trained, zip_code=zip_code, latitude=lat)
    location_id = profile.locations[0].id
    db.add(
        AvailabilitySettings(
            therapist_id=profile.id,
            min_notice_hours=0,
            buffer_after_minutes=15,
            slot_step_minutes=15,
            session_lengths=[30, 60, 90],
        )
    )
    db.add_all(
        WeeklyHours(location_id=location_id, weekday=d, starts_at=time(8), ends_at=time(20)) for d in range(7)
    )
    db.commit()
    return profile.id


def token_therapist(auth, db, name: str) -> tuple[int, dict[str, str]]:
    """A `practice_therapist` (no hours yet) and their API bearer headers: (profile id, headers)."""
    profile, user = practice_therapist(auth, db, name)
    token = auth.api_token(user.email)
    return profile.id, {"Authorization": f"Bearer {token}"}


def open_weekday_hours(client, headers, lengths=(60, 90)) -> None:
    """The therapist (by their API headers) opens Monday to Friday 09:00-17:00, 24 hours' notice, offering
    `lengths` minutes, through PUT /api/v1/me/availability."""
    days = ("monday", "tuesday", "wednesday", "thursday", "friday")
    response = client.put(
        "/api/v1/me/availability",
        json={
            "weekly_hours": [{"weekday": d, "start": "09:00", "end": "17:00"} for d in days],
            "settings": {"min_notice_hours": 24, "session_lengths": list(lengths)},
        },
        headers=headers,
    )
    assert response.status_code == 200, response.get_data(as_text=True)


# -------------------------------------------------------------------------------------- payers, insurers

# Acme's Choice PPO by default: a referral valid 90 days, 20 visits a year, a $25 copay.
CHOICE_PPO: dict[str, Any] = {
    "referral_required": True,
    "referral_valid_days": 90,
    "annual_visit_limit": 20,
    "copay_cents": 2500,
}
# The service date the eligibility checks ask about (ISO): two weeks from today.
SERVICE_DATE = (date.today() + timedelta(days=14)).isoformat()


def acme_and_other(db, **choice_rules: Any) -> tuple[Payer, Payer]:
    """Two committed payers, Acme Health (Choice PPO) and Other Mutual (Basic HMO); `choice_rules` change or
    add to Acme Choice PPO's rules."""
    acme = Payer(code="ACME", name="Acme Health")
    other = Payer(code="OTHER", name="Other Mutual")
    acme.plans.append(
        InsurancePlan(name="Choice PPO", plan_type=PlanType.PPO, **{**CHOICE_PPO, **choice_rules})
    )
    other.plans.append(InsurancePlan(name="Basic HMO", plan_type=PlanType.HMO))
    db.add_all([acme, other])
    db.commit()
    return acme, other


def insurer_headers(auth, db, payer: Payer) -> dict[str, str]:
    """A new insurer user of `payer`, and their API bearer headers."""
    user = auth.create_user("insurer")
    user.payer_id = payer.id
    db.commit()
    return {"Authorization": f"Bearer {auth.api_token(user.email)}"}


# ----------------------------------------------------------------------------------- intakes and courses

# A neck-pain intake as the JSON API takes it (no cancer history): the Sherman plan, 8 x 60 minutes.
NECK = {
    "condition": "chronic neck pain",
    "cancer_history": False,
    "treatment_phase": "none",
    "precautions": [],
}


def monday_10() -> datetime:
    """10:00 New York time on the Monday 7 to 13 days from today (so a course fits before it is near)."""
    today = datetime.now(NEW_YORK).date()
    monday = today + timedelta(days=7 + (7 - today.weekday()) % 7)
    return datetime.combine(monday, time(10), NEW_YORK)


def post_intake(client, headers, answers=NECK) -> int:
    """POST /api/v1/intakes as the patient of `headers`; returns the intake's id."""
    response = client.post("/api/v1/intakes", json=answers, headers=headers)
    assert response.status_code == 201, response.get_data(as_text=True)
    return response.get_json()["id"]


def course_body(intake_id: int, therapist_id: int, **extra) -> dict:
    """The JSON of a course request (preview or booking) starting `monday_10()`; `extra` adds fields."""
    return {
        "intake_id": intake_id,
        "therapist_id": therapist_id,
        "first_start": monday_10().isoformat(),
        **extra,
    }


def book_over_api(client, auth, db, patient, answers=NECK, *, trained: bool = False) -> dict:
    """`patient` (user, headers) books the intake's course with a new `bookable_therapist`, Dana Reyes, from
    `monday_10()`; returns the booked course's JSON."""
    _, headers = patient
    therapist_id = bookable_therapist(auth, db, "Dana Reyes", trained=trained)
    intake_id = post_intake(client, headers, answers)
    response = client.post("/api/v1/courses", json=course_body(intake_id, therapist_id), headers=headers)
    assert response.status_code == 201, response.get_data(as_text=True)
    return response.get_json()


# ------------------------------------------------------------------------------------------ Stripe, cards

SESSION_CENTS = 12_000  # `practice_therapist`: $120 for 60 minutes; the Sherman plan is 8 x 60 minutes
COURSE_CENTS = 8 * SESSION_CENTS
VISA = "4242424242424242"
DECLINED_ON_CHARGE = "4000000000000341"  # attaches to a customer, declined when charged


def card_method(stripe_client: stripe.StripeClient, number: str) -> str:
    """A card PaymentMethod made on localstripe, as Stripe.js makes one in the browser; returns its id."""
    method = stripe_client.v1.payment_methods.create(
        params={"type": "card", "card": {"number": number, "exp_month": 12, "exp_year": 2031, "cvc": "123"}}
    )
    return method.id


def pay(client, headers, course_id: int, method: str):
    """POST /api/v1/courses/<id>/pay with the PaymentMethod id `method`; returns the response."""
    return client.post(f"/api/v1/courses/{course_id}/pay", json={"payment_method": method}, headers=headers)


def signed_webhook(payload: dict, secret: str, *, at: int | None = None) -> tuple[bytes, str]:
    """A webhook body and its Stripe-Signature header, by Stripe's documented scheme."""
    body = json.dumps(payload).encode()
    timestamp = at if at is not None else int(clock.time())
    digest = hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256).hexdigest()
    return body, f"t={timestamp},v1={digest}"


def stripe_event(kind: str, intent: dict, event_id: str | None = None) -> dict:
    """A Stripe event of type `kind` carrying `intent`, made now, with a fresh id unless given."""
    return {
        "id": event_id or f"evt_{secrets.token_hex(8)}",
        "object": "event",
        "type": kind,
        "created": int(clock.time()),
        "data": {"object": intent},
    }


def intent_object(course_id: int, *, status: str, amount: int = COURSE_CENTS, intent_id: str | None = None):
    """A PaymentIntent as a webhook carries it, for our course `course_id` (a decline message unless it
    succeeded)."""
    return {
        "id": intent_id or f"pi_{secrets.token_hex(8)}",
        "object": "payment_intent",
        "amount": amount,
        "currency": "usd",
        "status": status,
        "metadata": {"course_id": str(course_id)},
        "last_payment_error": {"message": "Your card was declined."} if status != "succeeded" else None,
    }


def post_event(client, stripe_settings, payload: dict, *, secret: str | None = None):
    """POST the event to /stripe/webhook, signed with the session's webhook secret (or `secret`)."""
    body, signature = signed_webhook(payload, secret or stripe_settings["STRIPE_WEBHOOK_SECRET"])
    return client.post(
        "/stripe/webhook",
        data=body,
        headers={"Stripe-Signature": signature, "Content-Type": "application/json"},
    )


# ------------------------------------------------------------------------------------------------ outbox


def outbox_rows(db) -> list[OutboxMessage]:
    """Every outbox message, fresh from the database, in the order queued."""
    db.expire_all()
    return list(db.scalars(select(OutboxMessage).order_by(OutboxMessage.id)))


def mail_settings(app) -> sender.MailSettings:
    """The app's SMTP settings, as `flask send-outbox` reads them."""
    return sender.MailSettings.from_config(app.config)
