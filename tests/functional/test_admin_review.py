"""An administrator reviews oncology credentials; only a verified, unexpired one shows as a badge."""

from __future__ import annotations

import re
from datetime import date, timedelta

import pytest

from massage_booking.models import (
    CredentialKind,
    CredentialStatus,
    OncologyCredential,
    PracticeLocation,
    TherapistLanguage,
    TherapistProfile,
)

TODAY = date.today()


@pytest.fixture
def credential(db, auth) -> OncologyCredential:
    """A pending credential of a therapist who has a profile."""
    user = auth.create_user(role="therapist", email="dana@example.org")
    profile = TherapistProfile(
        user_id=user.id,
        name="Dana Reyes",
        license_number="MT-1",
        license_state="NY",
        license_expires_on=TODAY + timedelta(days=365),
        session_rate_cents=12000,
    )
    profile.locations.append(
        PracticeLocation(
            city="New York", state="NY", zip_code="10016", latitude=40.7443, longitude=-73.9781,
            time_zone="America/New_York",
        )
    )  # fmt: skip
    profile.languages.append(TherapistLanguage(language="English"))
    profile.credentials.append(
        OncologyCredential(
            kind=CredentialKind.S4OM_FOUNDATIONAL,
            issuer="Healwell Oncology Massage Institute",
            training_hours=32,
            issued_on=TODAY - timedelta(days=30),
            expires_on=TODAY + timedelta(days=700),
            status=CredentialStatus.PENDING,
        )
    )
    db.add(profile)
    db.commit()
    return profile.credentials[0]


@pytest.fixture
def admin(auth):
    user = auth.create_user(role="admin", email="admin@example.org")
    auth.login("admin@example.org")
    return user


def status_of(db, credential_id: int) -> CredentialStatus:
    db.expire_all()
    return db.get(OncologyCredential, credential_id).status


def review(client, auth, credential_id: int, **data):
    data.setdefault("csrf_token", auth.csrf_token("/admin/credentials"))
    return client.post(f"/admin/credentials/{credential_id}/review", data=data)


def test_the_queue_lists_pending_credentials_with_their_details(client, admin, credential):
    page = client.get("/admin/credentials").get_data(as_text=True)

    assert "Dana Reyes" in page
    assert f'href="/therapists/{credential.therapist_id}"' in page
    assert "Healwell Oncology Massage Institute" in page
    assert "S4OM-recognized foundational" in page
    assert ">32<" in page
    assert f'action="/admin/credentials/{credential.id}/review"' in page
    assert f'href="/admin/credentials/{credential.id}/reject"' in page


def test_an_empty_queue_says_so(client, admin):
    page = client.get("/admin/credentials").get_data(as_text=True)
    assert "No credentials are waiting for review." in page


def test_a_credential_a_therapist_submits_appears_in_the_queue(client, auth, db, credential):
    auth.login("dana@example.org")
    token = auth.csrf_token("/me/profile")
    response = client.post(
        "/me/credentials",
        data={
            "csrf_token": token,
            "kind": "hospital_based",
            "issuer": "Mayo Clinic",
            "training_hours": "65",
            "issued_on": (TODAY - timedelta(days=10)).isoformat(),
            "expires_on": "",
        },
    )
    assert response.status_code == 302
    auth.logout()
    auth.create_user(role="admin", email="admin@example.org")
    auth.login("admin@example.org")

    page = client.get("/admin/credentials").get_data(as_text=True)

    assert "Mayo Clinic" in page and "Hospital-based massage therapy training" in page
    assert "Does not expire" in page


def test_verifying_puts_the_badge_on_the_public_page(client, auth, db, admin, credential):
    public = f"/therapists/{credential.therapist_id}"
    assert "Healwell Oncology Massage Institute" not in client.get(public).get_data(as_text=True)

    response = review(client, auth, credential.id, decision="verify")

    assert response.status_code == 302 and response.headers["Location"] == "/admin/credentials"
    assert status_of(db, credential.id) is CredentialStatus.VERIFIED
    queue = client.get("/admin/credentials").get_data(as_text=True)
    assert "Verified." in queue
    assert "No credentials are waiting for review." in queue
    page = client.get(public).get_data(as_text=True)
    assert "Healwell Oncology Massage Institute" in page
    assert "badge-oncology" in page


def test_rejecting_asks_for_confirmation_first(client, admin, credential):
    page = client.get(f"/admin/credentials/{credential.id}/reject").get_data(as_text=True)

    assert "Reject this credential?" in page
    assert "Healwell Oncology Massage Institute" in page
    assert '<label for="note">' in page
    assert re.search(r'name="decision" value="reject"', page)


def test_rejecting_without_a_note_is_refused_and_stays_pending(client, auth, db, admin, credential):
    response = review(client, auth, credential.id, decision="reject", note="   ")
    page = response.get_data(as_text=True)

    assert response.status_code == 422
    assert "Say why the credential is rejected." in page
    assert 'id="note-error"' in page
    assert status_of(db, credential.id) is CredentialStatus.PENDING


def test_rejecting_with_a_note_tells_the_therapist_why(client, auth, db, admin, credential):
    response = review(client, auth, credential.id, decision="reject", note="The certificate is unreadable.")

    assert response.status_code == 302
    assert status_of(db, credential.id) is CredentialStatus.REJECTED
    auth.logout()
    auth.login("dana@example.org")
    page = client.get("/me/profile").get_data(as_text=True)
    assert "The certificate is unreadable." in page and "badge-rejected" in page
    public = client.get(f"/therapists/{credential.therapist_id}").get_data(as_text=True)
    assert "Healwell Oncology Massage Institute" not in public


def test_reviewing_twice_is_explained_not_a_crash(client, auth, db, admin, credential):
    review(client, auth, credential.id, decision="verify")

    again = review(client, auth, credential.id, decision="reject", note="Changed my mind.")

    assert again.status_code == 302
    assert "already verified" in client.get("/admin/credentials").get_data(as_text=True)
    assert status_of(db, credential.id) is CredentialStatus.VERIFIED
    confirm = client.get(f"/admin/credentials/{credential.id}/reject")
    assert confirm.status_code == 302


def test_reviewing_an_unknown_credential_is_a_404_page(client, auth, admin):
    response = review(client, auth, 999999, decision="verify")

    assert response.status_code == 404
    assert "No credential has that id." in response.get_data(as_text=True)


def test_an_unknown_decision_is_a_400(client, auth, db, admin, credential):
    response = review(client, auth, credential.id, decision="maybe")

    assert response.status_code == 400
    assert status_of(db, credential.id) is CredentialStatus.PENDING


def test_a_therapist_cannot_review_credentials(client, auth, db, credential):
    auth.login("dana@example.org")

    assert client.get("/admin/credentials").status_code == 403
    response = client.post(
        f"/admin/credentials/{credential.id}/review",
        data={"csrf_token": auth.csrf_token("/me/profile"), "decision": "verify"},
    )

    assert response.status_code == 403
    assert status_of(db, credential.id) is CredentialStatus.PENDING


def test_anonymous_review_is_sent_to_log_in(client, auth, db, credential):
    response = client.post(
        f"/admin/credentials/{credential.id}/review",
        data={"csrf_token": auth.csrf_token("/login"), "decision": "verify"},
    )

    assert response.status_code == 302
    assert response.headers["Location"].startswith("/login")
    assert status_of(db, credential.id) is CredentialStatus.PENDING


def test_review_without_a_csrf_token_is_refused(client, auth, db, admin, credential):
    response = client.post(f"/admin/credentials/{credential.id}/review", data={"decision": "verify"})

    assert response.status_code == 400
    assert status_of(db, credential.id) is CredentialStatus.PENDING
