"""A therapist with a practice, as the availability, search and booking tests need one.

One builder instead of a copy per test module: a licensed therapist with a practice location (New York by
default, ZIP centroid precision), optionally a verified oncology credential, committed, with their user.
"""

from __future__ import annotations

from datetime import date, timedelta

from massage_booking.models import (
    CredentialKind,
    CredentialStatus,
    GeocodePrecision,
    OncologyCredential,
    PracticeLocation,
    TherapistProfile,
    User,
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
    """A committed therapist profile with one New York practice (and a current credential if `trained`)."""
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
        profile.credentials.append(
            OncologyCredential(
                kind=CredentialKind.S4OM_FOUNDATIONAL,
                issuer="Society for Oncology Massage",
                training_hours=32,
                issued_on=today - timedelta(days=100),
                expires_on=today + timedelta(days=600),
                status=CredentialStatus.VERIFIED,
            )
        )
    db.add(profile)
    db.commit()
    return profile, user
