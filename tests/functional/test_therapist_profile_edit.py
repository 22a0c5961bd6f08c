"""A therapist edits their own profile and submits oncology credentials, through the real pages."""

from __future__ import annotations

import re
from datetime import date, timedelta

import pytest
from sqlalchemy import func, select

from massage_booking.models import (
    CredentialStatus,
    InsurancePlan,
    OncologyCredential,
    Payer,
    PlanType,
    TherapistProfile,
)

TODAY = date.today()


@pytest.fixture
def plans(db) -> list[InsurancePlan]:
    aetna = Payer(code="AETNA", name="Aetna")
    aetna.plans = [
        InsurancePlan(name="Open Access PPO", plan_type=PlanType.PPO),
        InsurancePlan(name="Select HMO", plan_type=PlanType.HMO),
    ]
    cigna = Payer(code="CIGNA", name="Cigna")
    cigna.plans = [InsurancePlan(name="LocalPlus", plan_type=PlanType.EPO)]
    db.add_all([aetna, cigna])
    db.commit()
    return [*aetna.plans, *cigna.plans]


@pytest.fixture
def therapist(auth, db):
    user = auth.create_user(role="therapist", email="dana@example.org", display_name="Dana")
    auth.login("dana@example.org")
    return user


def valid_form(auth, plans: list[InsurancePlan], **overrides) -> dict:
    data = {
        "csrf_token": auth.csrf_token("/me/profile"),
        "name": "Dana Reyes",
        "bio": "Fifteen years with people in and after cancer treatment.",
        "license_number": "mt-012345",
        "license_state": "NY",
        "license_expires_on": (TODAY + timedelta(days=400)).isoformat(),
        "npi": "1234567893",
        "session_rate": "135.50",
        "accepting_new_patients": "y",
        "modalities": ["Oncology massage", "Manual lymphatic drainage"],
        "languages": ["English", "Spanish"],
        "plan_ids": [str(plans[0].id), str(plans[2].id)],
        "zip_code": "10016",
        "address_line1": "200 Lexington Ave",
        "address_line2": "Suite 4",
    }
    data.update(overrides)
    return {k: v for k, v in data.items() if v is not None}


def profile_count(db) -> int:
    return db.scalar(select(func.count()).select_from(TherapistProfile))


def test_anonymous_visitor_is_sent_to_log_in_and_back(client):
    response = client.get("/me/profile")
    assert response.status_code == 302
    assert response.headers["Location"].startswith("/login?next=")
    assert "%2Fme%2Fprofile" in response.headers["Location"]


def test_a_patient_cannot_open_the_profile_editor(client, auth):
    auth.create_user(role="patient", email="pat@example.org")
    auth.login("pat@example.org")

    response = client.get("/me/profile")

    assert response.status_code == 403
    assert "not for your account" in response.get_data(as_text=True)


def test_a_new_therapist_sees_the_empty_form_and_why_to_save_it(client, therapist, plans):
    page = client.get("/me/profile").get_data(as_text=True)

    assert "Patients can find you in the directory" in page
    assert '<label for="name">' in page
    assert "<legend>Aetna</legend>" in page and "<legend>Cigna</legend>" in page
    assert '<option value="NY">New York</option>' in page
    assert "Save your practice details first" in page
    assert 'action="/me/credentials"' not in page


def test_saving_a_valid_profile_creates_it_and_the_public_page_shows_it(client, auth, db, therapist, plans):
    response = client.post("/me/profile", data=valid_form(auth, plans))

    assert response.status_code == 302
    assert response.headers["Location"] == "/me/profile"
    profile = db.scalar(select(TherapistProfile))
    assert profile.user_id == therapist.id
    assert profile.license_number == "MT-012345"
    assert profile.session_rate_cents == 13550
    assert profile.locations[0].city == "New York"

    editor = client.get("/me/profile").get_data(as_text=True)
    assert "Your profile is saved." in editor
    assert 'value="Dana Reyes"' in editor and 'value="135.50"' in editor
    assert f'href="/therapists/{profile.id}"' in editor  # the "Public page" link in the navigation

    public = client.get(f"/therapists/{profile.id}").get_data(as_text=True)
    for shown in (
        "Dana Reyes",
        "Fifteen years with people",
        "$135.50 per 60-minute session",
        "Manual lymphatic drainage",
        "Spanish",
        "Aetna",
        "Open Access PPO",
        "LocalPlus",
        "New York, NY 10016",
        "1234567893",
        "MT-012345",
    ):
        assert shown in public, shown
    assert "Select HMO" not in public  # not chosen
    assert "200 Lexington" not in public  # the street address stays private


def test_saving_again_updates_the_same_profile(client, auth, db, therapist, plans):
    client.post("/me/profile", data=valid_form(auth, plans))
    response = client.post(
        "/me/profile",
        data=valid_form(
            auth, plans, name="Dana R. Reyes", plan_ids=[str(plans[1].id)], accepting_new_patients=None
        ),
    )

    assert response.status_code == 302
    assert profile_count(db) == 1
    profile = db.scalar(select(TherapistProfile))
    db.refresh(profile)
    assert profile.name == "Dana R. Reyes"
    assert profile.accepting_new_patients is False
    assert [m.plan_id for m in profile.networks] == [plans[1].id]


BAD_INPUT = [
    ({"zip_code": "1001"}, "zip_code", "Enter a 5-digit US ZIP code"),
    (
        {"license_expires_on": (TODAY - timedelta(days=1)).isoformat()},
        "license_expires_on",
        "This license has expired",
    ),
    ({"npi": "1234567890"}, "npi", "An NPI is 10 digits with a valid check digit"),
    ({"plan_ids": ["999999"]}, "plan_ids", "One of the chosen plans no longer exists"),
    ({"license_state": "XX"}, "license_state", "Choose the state that issued your license"),
    ({"session_rate": "a lot"}, "session_rate", "Enter the rate for a 60-minute session in dollars"),
    ({"languages": None}, "languages", "Choose at least one language"),
]


@pytest.mark.parametrize(("override", "field", "message"), BAD_INPUT)
def test_bad_input_is_refused_with_the_message_and_nothing_is_saved(
    client, auth, db, therapist, plans, override, field, message
):
    response = client.post("/me/profile", data=valid_form(auth, plans, **override))
    page = response.get_data(as_text=True)

    assert response.status_code == 422
    assert message in page
    assert f'id="{field}-error"' in page  # the message sits beside its field ...
    assert re.search(rf'aria-describedby="[^"]*\b{field}-error"', page)  # ... and is read out with it
    assert 'value="Dana Reyes"' in page  # what the therapist typed is kept
    db.rollback()
    assert profile_count(db) == 0


@pytest.mark.parametrize(("override", "field", "message"), BAD_INPUT)
def test_bad_input_leaves_a_saved_profile_unchanged(
    client, auth, db, therapist, plans, override, field, message
):
    assert client.post("/me/profile", data=valid_form(auth, plans)).status_code == 302

    response = client.post("/me/profile", data=valid_form(auth, plans, name="Changed Name", **override))

    assert response.status_code == 422
    assert message in response.get_data(as_text=True)
    db.expire_all()
    profile = db.scalar(select(TherapistProfile))
    assert profile.name == "Dana Reyes"
    assert profile.locations[0].zip_code == "10016"
    assert profile.npi == "1234567893"
    assert sorted(m.plan_id for m in profile.networks) == sorted([plans[0].id, plans[2].id])


def test_a_malformed_date_is_a_422_not_a_crash(client, auth, db, therapist, plans):
    response = client.post("/me/profile", data=valid_form(auth, plans, license_expires_on="2027-02-30"))

    assert response.status_code == 422
    assert "Not a valid date value" in response.get_data(as_text=True)
    assert profile_count(db) == 0


def credential_form(auth, **overrides) -> dict:
    data = {
        "csrf_token": auth.csrf_token("/me/profile"),
        "kind": "s4om_foundational",
        "issuer": "Healwell Oncology Massage Institute",
        "training_hours": "32",
        "issued_on": (TODAY - timedelta(days=100)).isoformat(),
        "expires_on": (TODAY + timedelta(days=600)).isoformat(),
    }
    data.update(overrides)
    return data


def test_a_submitted_credential_is_pending_and_not_yet_public(client, auth, db, therapist, plans):
    client.post("/me/profile", data=valid_form(auth, plans))

    response = client.post("/me/credentials", data=credential_form(auth))

    assert response.status_code == 302
    credential = db.scalar(select(OncologyCredential))
    assert credential.status is CredentialStatus.PENDING
    editor = client.get("/me/profile").get_data(as_text=True)
    assert "Healwell Oncology Massage Institute" in editor
    assert "badge-pending" in editor and "Pending" in editor
    profile = db.scalar(select(TherapistProfile))
    assert "Healwell Oncology Massage Institute" not in client.get(f"/therapists/{profile.id}").get_data(
        as_text=True
    )


def test_a_credential_with_too_few_hours_is_refused(client, auth, db, therapist, plans):
    client.post("/me/profile", data=valid_form(auth, plans))

    response = client.post("/me/credentials", data=credential_form(auth, training_hours="8"))
    page = response.get_data(as_text=True)

    assert response.status_code == 422
    assert "at least 24 hours" in page
    assert 'value="Dana Reyes"' in page  # the profile form above is still filled in
    assert db.scalar(select(func.count()).select_from(OncologyCredential)) == 0


def test_a_credential_before_any_profile_is_refused_with_a_reason(client, auth, db, therapist):
    response = client.post("/me/credentials", data=credential_form(auth))

    assert response.status_code == 422
    assert "Save your profile before adding credentials." in response.get_data(as_text=True)
    assert db.scalar(select(func.count()).select_from(OncologyCredential)) == 0


def test_rejected_and_expired_credentials_show_their_status(client, auth, db, therapist, plans):
    client.post("/me/profile", data=valid_form(auth, plans))
    profile = db.scalar(select(TherapistProfile))
    common = {"therapist_id": profile.id, "kind": "hospital_based", "training_hours": 90}
    db.add_all(
        [
            OncologyCredential(
                **common,
                issuer="Rejected Place",
                issued_on=TODAY - timedelta(days=50),
                status=CredentialStatus.REJECTED,
                review_note="The certificate image is unreadable.",
            ),
            OncologyCredential(
                **common,
                issuer="Lapsed Place",
                issued_on=TODAY - timedelta(days=900),
                expires_on=TODAY - timedelta(days=3),
                status=CredentialStatus.VERIFIED,
            ),
        ]
    )
    db.commit()

    page = client.get("/me/profile").get_data(as_text=True)

    assert "badge-rejected" in page and "The certificate image is unreadable." in page
    assert "badge-expired" in page and "Expired" in page


def test_an_npi_already_on_another_profile_is_refused(client, auth, db, therapist, plans):
    assert client.post("/me/profile", data=valid_form(auth, plans)).status_code == 302
    auth.logout()
    auth.create_user(role="therapist", email="sam@example.org", display_name="Sam")
    auth.login("sam@example.org")
    response = client.post("/me/profile", data=valid_form(auth, plans, name="Sam Ortiz"))
    assert response.status_code == 422
    assert "already uses this NPI" in response.get_data(as_text=True)
    assert profile_count(db) == 1
