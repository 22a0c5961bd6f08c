"""GET /api/v1/therapists/{id}: the public profile, with only credentials active today."""

from __future__ import annotations

from datetime import date, timedelta

from massage_booking.models import CredentialKind, CredentialStatus, OncologyCredential
from massage_booking.services import therapists
from massage_booking.services.therapists import ProfileInput


def test_profile_shows_location_and_only_active_credentials(client, db, auth):
    user = auth.create_user(role="therapist", email="dana@example.org")
    today = date.today()
    profile = therapists.save_profile(
        db,
        user,
        ProfileInput(
            name="Dana Reyes", bio="", license_number="MT-1", license_state="NY",
            license_expires_on=today + timedelta(days=300), npi="", session_rate_dollars="120",
            accepting_new_patients=True, modalities=["Oncology massage"], languages=["English"],
            plan_ids=[], zip_code="10016",
        ),
        today,
        geocoder=None,
    )  # fmt: skip
    for issuer, expires in (
        ("Current course", today + timedelta(days=30)),
        ("Old course", today - timedelta(days=1)),
    ):
        db.add(
            OncologyCredential(
                therapist_id=profile.id, kind=CredentialKind.S4OM_FOUNDATIONAL, issuer=issuer,
                training_hours=24, issued_on=today - timedelta(days=400), expires_on=expires,
                status=CredentialStatus.VERIFIED,
            )
        )  # fmt: skip
    db.commit()

    body = client.get(f"/api/v1/therapists/{profile.id}").get_json()
    assert body["location"]["zip_code"] == "10016"
    assert body["location"]["time_zone"] == "America/New_York"
    assert body["location"]["precision"] == "zip"
    assert [c["issuer"] for c in body["oncology_credentials"]] == ["Current course"]
    assert body["session_rate"] == {"amount_cents": 12000, "currency": "USD"}
