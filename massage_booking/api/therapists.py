"""GET /api/v1/therapists/{id}: a therapist's public profile."""

from __future__ import annotations

from datetime import date

from massage_booking.api.contract import Reply, operation
from massage_booking.extensions import db
from massage_booking.schemas.therapists import Therapist, therapist_of
from massage_booking.services import therapists


@operation(
    "GET",
    "/therapists/<int:therapist_id>",
    operation_id="getTherapist",
    tag="Therapists",
    summary="A therapist's profile",
    description="Public profile: license, oncology credentials active today, networks and location.",
    path={"therapist_id": "The therapist."},
    responses={200: Reply("The profile.", Therapist), 404: "No therapist has that id."},
)
def therapist_detail(therapist_id: int) -> Therapist:
    return therapist_of(therapists.get_profile(db.session, therapist_id), date.today())
