"""Public pages as a visitor sees them: the home page and a therapist's public profile.

The search page has its own module, test_search_page.py.
"""

from __future__ import annotations

import re
from datetime import date, timedelta

from massage_booking.models import (
    CredentialKind,
    CredentialStatus,
    OncologyCredential,
    PracticeLocation,
    TherapistLanguage,
    TherapistProfile,
)

TODAY = date.today()


def add_therapist(db, auth, name: str, zip_code: str, lat: float, lon: float, **fields) -> TherapistProfile:
    """A therapist with one practice location, stored directly (the edit page is tested elsewhere)."""
    user = auth.create_user(role="therapist")
    profile = TherapistProfile(
        user_id=user.id,
        name=name,
        license_number="MT-1",
        license_state="NY",
        license_expires_on=TODAY + timedelta(days=365),
        session_rate_cents=fields.pop("session_rate_cents", 12000),
        **fields,
    )
    profile.locations.append(
        PracticeLocation(
            city="Somewhere",
            state="NY",
            zip_code=zip_code,
            latitude=lat,
            longitude=lon,
            time_zone="America/New_York",
        )
    )
    profile.languages.append(TherapistLanguage(language="English"))
    db.add(profile)
    db.commit()
    return profile


def add_credential(
    db, profile: TherapistProfile, issuer: str, status: CredentialStatus, expires_on: date | None
):
    db.add(
        OncologyCredential(
            therapist_id=profile.id,
            kind=CredentialKind.S4OM_FOUNDATIONAL,
            issuer=issuer,
            training_hours=32,
            issued_on=TODAY - timedelta(days=800),
            expires_on=expires_on,
            status=status,
        )
    )
    db.commit()


def text_of(response) -> str:
    return response.get_data(as_text=True)


def test_home_page_explains_the_product_and_has_the_search_box(client):
    response = client.get("/")
    page = text_of(response)
    assert response.status_code == 200
    assert "cancer or chronic pain" in page
    assert re.search(r'<label for="near">Where\? ZIP code, City, ST, or latitude,longitude</label>', page)
    assert re.search(r'<form[^>]*method="get"[^>]*action="/therapists"', page)
    assert 'name="near"' in page
    assert '<main id="main"' in page and 'href="#main"' in page
    assert "does not give medical advice" in page


def test_home_page_features_only_therapists_with_an_active_verified_credential(client, db, auth):
    trained = add_therapist(db, auth, "Ada Trained", "10016", 40.7443, -73.9781)
    add_credential(db, trained, "Healwell Institute", CredentialStatus.VERIFIED, TODAY + timedelta(days=30))
    lapsed = add_therapist(db, auth, "Bea Lapsed", "10016", 40.7443, -73.9781)
    add_credential(db, lapsed, "Old School", CredentialStatus.VERIFIED, TODAY - timedelta(days=1))
    waiting = add_therapist(db, auth, "Cy Waiting", "10016", 40.7443, -73.9781)
    add_credential(db, waiting, "Pending Place", CredentialStatus.PENDING, None)

    page = text_of(client.get("/"))

    assert "Ada Trained" in page and f'href="/therapists/{trained.id}"' in page
    assert "Bea Lapsed" not in page
    assert "Cy Waiting" not in page


def test_profile_shows_an_active_credential_but_not_an_expired_one(client, db, auth):
    profile = add_therapist(
        db, auth, "Dana Reyes", "10016", 40.7443, -73.9781, npi="1234567893", bio="Gentle work."
    )
    add_credential(db, profile, "Healwell Institute", CredentialStatus.VERIFIED, TODAY + timedelta(days=30))
    add_credential(db, profile, "Expired Academy", CredentialStatus.VERIFIED, TODAY - timedelta(days=1))
    add_credential(db, profile, "Rejected College", CredentialStatus.REJECTED, None)

    response = client.get(f"/therapists/{profile.id}")
    page = text_of(response)

    assert response.status_code == 200
    assert "<h1" in page and "Dana Reyes" in page
    assert "Healwell Institute" in page
    assert "Expired Academy" not in page
    assert "Rejected College" not in page
    assert "$120 per 60-minute session" in page
    assert "1234567893" in page
    assert "America/New_York (UTC" in page


def test_profile_expiring_today_still_shows_the_badge(client, db, auth):
    profile = add_therapist(db, auth, "Eli Today", "10016", 40.7443, -73.9781)
    add_credential(db, profile, "Last Day Institute", CredentialStatus.VERIFIED, TODAY)

    assert "Last Day Institute" in text_of(client.get(f"/therapists/{profile.id}"))


def test_unknown_therapist_gets_the_404_page(client):
    response = client.get("/therapists/999999")
    page = text_of(response)
    assert response.status_code == 404
    assert response.mimetype == "text/html"
    assert "No therapist has that id." in page
    assert 'href="/"' in page
