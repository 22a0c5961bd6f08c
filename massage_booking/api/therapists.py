"""GET /api/v1/therapists/{id}: a therapist's public profile."""

from __future__ import annotations

from datetime import date
from typing import Any

from massage_booking.api import bp
from massage_booking.extensions import db
from massage_booking.models import TherapistProfile
from massage_booking.services import therapists
from massage_booking.services.search import location_json


def therapist_json(profile: TherapistProfile, today: date) -> dict[str, Any]:
    location = profile.locations[0] if profile.locations else None
    return {
        "id": profile.id,
        "name": profile.name,
        "credentials_suffix": profile.credentials_suffix,
        "bio": profile.bio,
        "license": {
            "number": profile.license_number,
            "state": profile.license_state,
            "expires_on": profile.license_expires_on.isoformat(),
            "verified": profile.license_verified_at is not None,
        },
        "npi": profile.npi,
        "session_rate": {"amount_cents": profile.session_rate_cents, "currency": profile.currency},
        "accepting_new_patients": profile.accepting_new_patients,
        "modalities": profile.modality_names,
        "languages": profile.language_names,
        "location": None if location is None else location_json(location),
        "oncology_credentials": [
            {
                "kind": c.kind.value,
                "issuer": c.issuer,
                "training_hours": c.training_hours,
                "issued_on": c.issued_on.isoformat(),
                "expires_on": c.expires_on.isoformat() if c.expires_on else None,
            }
            for c in profile.active_oncology_credentials(today)
        ],
        "insurance": [
            {"plan_id": m.plan.id, "payer": m.plan.payer.name, "plan": m.plan.name} for m in profile.networks
        ],
    }


@bp.get("/therapists/<int:therapist_id>")
def therapist_detail(therapist_id: int) -> Any:
    profile = therapists.get_profile(db.session, therapist_id)
    return therapist_json(profile, date.today())
