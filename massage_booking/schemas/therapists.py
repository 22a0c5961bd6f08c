"""A therapist's public profile and the pieces search results share with it."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date
from typing import Any, Protocol

from pydantic import Field

from massage_booking.models import CredentialKind, TherapistProfile
from massage_booking.schemas.base import Date, ResponseModel, read
from massage_booking.schemas.places import Location, location_of


class SessionRate(ResponseModel):
    """Price of a session."""

    amount_cents: int
    currency: str


class InsuranceNetwork(ResponseModel):
    plan_id: int
    payer: str
    plan: str


class License(ResponseModel):
    number: str
    state: str
    expires_on: Date
    verified: bool


class Credential(ResponseModel):
    kind: CredentialKind
    issuer: str
    training_hours: int
    issued_on: Date
    expires_on: Date | None


class Therapist(ResponseModel):
    """A therapist's public profile."""

    id: int
    name: str
    credentials_suffix: str
    bio: str
    license: License
    npi: str | None
    session_rate: SessionRate
    accepting_new_patients: bool
    modalities: list[str]
    languages: list[str]
    location: Location | None
    oncology_credentials: list[Credential] = Field(description="Verified credentials active today.")
    insurance: list[InsuranceNetwork]


class _Networked(Protocol):
    @property
    def networks(self) -> Sequence[Any]: ...


def networks_of(profile: _Networked) -> list[InsuranceNetwork]:
    """The plans a therapist is in network for, from the profile row or a search's result card."""
    return [
        InsuranceNetwork(plan_id=m.plan.id, payer=m.plan.payer.name, plan=m.plan.name)
        for m in profile.networks
    ]


def therapist_of(profile: TherapistProfile, today: date) -> Therapist:
    location = profile.locations[0] if profile.locations else None
    return read(
        Therapist,
        profile,
        license=License(
            number=profile.license_number,
            state=profile.license_state,
            expires_on=profile.license_expires_on,
            verified=profile.license_verified_at is not None,
        ),
        session_rate=SessionRate(amount_cents=profile.session_rate_cents, currency=profile.currency),
        modalities=profile.modality_names,
        languages=profile.language_names,
        location=None if location is None else location_of(location),
        oncology_credentials=[read(Credential, c) for c in profile.active_oncology_credentials(today)],
        insurance=networks_of(profile),
    )
