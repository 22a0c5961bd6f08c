"""Public pages as a visitor sees them: the home page, the directory and a therapist's public profile."""

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
    assert re.search(r'<label for="near">Where\? ZIP code or City, ST</label>', page)
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


def test_directory_by_zip_lists_the_nearest_first_with_distances(client, db, auth):
    # Origin ZIP 10016 (Manhattan, 40.7443, -73.9781).
    far = add_therapist(db, auth, "Far Newark", "07102", 40.7357, -74.1724)  # about 10 miles
    near = add_therapist(db, auth, "Near Murray Hill", "10016", 40.7443, -73.9781)  # at the centroid
    middle = add_therapist(db, auth, "Middle Brooklyn", "11201", 40.6944, -73.9906)  # about 3.6 miles
    add_therapist(db, auth, "Out Of Range Philadelphia", "19103", 39.9526, -75.1652)  # about 80 miles
    # About 45 miles north and 45 east: inside the search's bounding box, but 63 miles away.
    add_therapist(db, auth, "Box Corner Connecticut", "06470", 41.39, -73.11)
    add_credential(db, middle, "Healwell Institute", CredentialStatus.VERIFIED, None)
    add_credential(db, far, "Expired Academy", CredentialStatus.VERIFIED, TODAY - timedelta(days=1))

    response = client.get("/therapists?near=10016")
    page = text_of(response)

    assert response.status_code == 200
    positions = [page.index(name) for name in ("Near Murray Hill", "Middle Brooklyn", "Far Newark")]
    assert positions == sorted(positions)
    assert "Out Of Range Philadelphia" not in page
    assert "Box Corner Connecticut" not in page
    assert "3 therapists within 50 miles" in page
    distances = [float(d) for d in re.findall(r"([\d.]+) mi<", page)]
    assert distances == sorted(distances) and 3 < distances[1] < 4.5 and 9 < distances[2] < 12
    assert "less than 0.1 mi" in page
    assert "Healwell Institute" in page  # the oncology badge on the result ...
    assert "Expired Academy" not in page  # ... only while the credential is current
    assert f'href="/therapists/{far.id}"' in page and f'href="/therapists/{near.id}"' in page


def test_directory_by_city_and_state(client, db, auth):
    add_therapist(db, auth, "Boston Therapist", "02115", 42.3427, -71.0922)
    add_therapist(db, auth, "Manhattan Therapist", "10016", 40.7443, -73.9781)

    page = text_of(client.get("/therapists?near=boston,%20ma"))

    assert "Boston Therapist" in page
    assert "Manhattan Therapist" not in page


def test_directory_with_an_invalid_place_says_why_with_a_422(client, db, auth):
    add_therapist(db, auth, "Someone", "10016", 40.7443, -73.9781)

    for bad in ("1234", "00000", "nowhere"):
        response = client.get(f"/therapists?near={bad}")
        page = text_of(response)
        assert response.status_code == 422, bad
        assert 'class="error" id="near-error"' in page
        assert 'aria-describedby="near-error"' in page
        assert "Someone" not in page
    assert "We could not find ZIP code 00000." in text_of(client.get("/therapists?near=00000"))


def test_directory_empty_state_suggests_another_zip(client, db, auth):
    add_therapist(db, auth, "Manhattan Therapist", "10016", 40.7443, -73.9781)

    page = text_of(client.get("/therapists?near=99501"))  # Anchorage

    assert "0 therapists within 50 miles" in page
    assert "Try a ZIP code" in page


def test_directory_without_near_is_alphabetical_and_paginated(client, db, auth):
    for i in range(23):
        add_therapist(db, auth, f"Therapist {i:02d}", "10016", 40.7443, -73.9781)

    first = text_of(client.get("/therapists"))
    second = text_of(client.get("/therapists?page=2"))

    assert "23 therapists, A to Z" in first
    assert "Page 1 of 2" in first
    assert "Therapist 00" in first and "Therapist 19" in first and "Therapist 20" not in first
    assert "Therapist 20" in second and "Therapist 22" in second and "Therapist 19" not in second
    assert 'href="/therapists?page=2"' in first


def test_directory_by_zip_paginates_and_keeps_the_place_in_page_links(client, db, auth):
    for i in range(21):
        add_therapist(db, auth, f"Nearby {i:02d}", "10016", 40.7443 + i * 0.001, -73.9781)

    first = text_of(client.get("/therapists?near=10016"))
    second = text_of(client.get("/therapists?near=10016&page=2"))

    assert "21 therapists within 50 miles" in first
    assert "Nearby 00" in first and "Nearby 20" not in first
    assert "Nearby 20" in second
    assert 'href="/therapists?near=10016&amp;page=2"' in first
