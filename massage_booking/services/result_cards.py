"""Read-only cards for a page of search results, loaded with six Core queries.

Why not ORM objects: at a million therapists, building 20 `TherapistProfile` objects with their
collections took about 4.7 ms of a 5 ms budget, while the same rows as tuples take well under 2 ms
(issue 3 note). A card has the attribute names the profile has, so the result template and the API's
JSON read either the same way, but it cannot be changed or lazy-load anything.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from sqlalchemy import Select, bindparam, select
from sqlalchemy.orm import Session

from massage_booking.models import (
    AvailabilitySettings,
    CredentialKind,
    CredentialStatus,
    GeocodePrecision,
    InsurancePlan,
    NetworkMembership,
    OncologyCredential,
    Payer,
    PracticeLocation,
    TherapistLanguage,
    TherapistModality,
    TherapistProfile,
)


@dataclass(frozen=True, slots=True)
class PayerCard:
    name: str


@dataclass(frozen=True, slots=True)
class PlanCard:
    id: int
    name: str
    payer: PayerCard

    @property
    def full_name(self) -> str:
        return f"{self.payer.name} {self.name}"


@dataclass(frozen=True, slots=True)
class NetworkCard:
    plan_id: int
    plan: PlanCard


@dataclass(frozen=True, slots=True)
class CredentialCard:
    kind: CredentialKind
    issuer: str
    training_hours: int
    issued_on: date
    expires_on: date | None
    status: CredentialStatus

    def is_active_on(self, on: date) -> bool:
        """The same rule as OncologyCredential.is_active_on: verified, and the expiry day still counts."""
        return self.status is CredentialStatus.VERIFIED and (self.expires_on is None or self.expires_on >= on)


@dataclass(frozen=True, slots=True)
class LocationCard:
    id: int
    therapist_id: int
    city: str
    state: str
    zip_code: str
    latitude: float
    longitude: float
    time_zone: str
    geocode_precision: GeocodePrecision


@dataclass(frozen=True, slots=True)
class TherapistCard:
    id: int
    name: str
    credentials_suffix: str
    license_state: str
    license_verified_at: datetime | None
    session_rate_cents: int
    currency: str
    accepting_new_patients: bool
    credentials: tuple[CredentialCard, ...]
    modality_names: tuple[str, ...]
    language_names: tuple[str, ...]
    networks: tuple[NetworkCard, ...]
    # The cached soonest free start and until when it holds (services/soonest_cache.py); a therapist who
    # never saved hours has no availability settings at all.
    has_availability_settings: bool = False
    next_available_at: datetime | None = None
    next_available_valid_until: datetime | None = None

    def active_oncology_credentials(self, on: date) -> list[CredentialCard]:
        return [c for c in self.credentials if c.is_active_on(on)]


_IDS = bindparam("ids", expanding=True)
_PROFILES: Select[Any] = select(
    TherapistProfile.id,
    TherapistProfile.name,
    TherapistProfile.credentials_suffix,
    TherapistProfile.license_state,
    TherapistProfile.license_verified_at,
    TherapistProfile.session_rate_cents,
    TherapistProfile.currency,
    TherapistProfile.accepting_new_patients,
    AvailabilitySettings.therapist_id.label("settings_id"),
    AvailabilitySettings.next_available_at,
    AvailabilitySettings.next_available_valid_until,
).outerjoin(AvailabilitySettings, AvailabilitySettings.therapist_id == TherapistProfile.id)
_PROFILES = _PROFILES.where(TherapistProfile.id.in_(_IDS))
# Newest first, as the profile's own relationship orders them.
_CREDENTIALS = (
    select(
        OncologyCredential.therapist_id,
        OncologyCredential.kind,
        OncologyCredential.issuer,
        OncologyCredential.training_hours,
        OncologyCredential.issued_on,
        OncologyCredential.expires_on,
        OncologyCredential.status,
    )
    .where(OncologyCredential.therapist_id.in_(_IDS))
    .order_by(OncologyCredential.issued_on.desc(), OncologyCredential.id)
)
_MODALITIES = select(TherapistModality.therapist_id, TherapistModality.modality).where(
    TherapistModality.therapist_id.in_(_IDS)
)
_LANGUAGES = select(TherapistLanguage.therapist_id, TherapistLanguage.language).where(
    TherapistLanguage.therapist_id.in_(_IDS)
)
_NETWORKS = (
    select(NetworkMembership.therapist_id, InsurancePlan.id, InsurancePlan.name, Payer.name)
    .join(InsurancePlan, InsurancePlan.id == NetworkMembership.plan_id)
    .join(Payer, Payer.id == InsurancePlan.payer_id)
    .where(NetworkMembership.therapist_id.in_(_IDS))
    .order_by(NetworkMembership.therapist_id, NetworkMembership.plan_id)
)
_LOCATIONS = select(
    PracticeLocation.id,
    PracticeLocation.therapist_id,
    PracticeLocation.city,
    PracticeLocation.state,
    PracticeLocation.zip_code,
    PracticeLocation.latitude,
    PracticeLocation.longitude,
    PracticeLocation.time_zone,
    PracticeLocation.geocode_precision,
).where(PracticeLocation.id.in_(_IDS))


def _grouped(session: Session, stmt: Select[Any], ids: list[int]) -> dict[int, list[tuple[Any, ...]]]:
    """Rows of `stmt` by their first column (the therapist id), the rest of each row kept in order."""
    groups: dict[int, list[tuple[Any, ...]]] = {i: [] for i in ids}
    for row in session.execute(stmt, {"ids": ids}):
        groups[row[0]].append(tuple(row[1:]))
    return groups


def load_cards(
    session: Session, therapist_ids: list[int], location_ids: list[int]
) -> tuple[dict[int, TherapistCard], dict[int, LocationCard]]:
    """Cards for these therapists and locations: six queries, whatever the page size."""
    if not therapist_ids:
        return {}, {}
    credentials = _grouped(session, _CREDENTIALS, therapist_ids)
    modalities = _grouped(session, _MODALITIES, therapist_ids)
    languages = _grouped(session, _LANGUAGES, therapist_ids)
    networks = _grouped(session, _NETWORKS, therapist_ids)
    therapists = {
        row.id: TherapistCard(
            id=row.id,
            name=row.name,
            credentials_suffix=row.credentials_suffix,
            license_state=row.license_state,
            license_verified_at=row.license_verified_at,
            session_rate_cents=row.session_rate_cents,
            currency=row.currency,
            accepting_new_patients=row.accepting_new_patients,
            credentials=tuple(CredentialCard(*c) for c in credentials[row.id]),
            modality_names=tuple(sorted(m for (m,) in modalities[row.id])),
            language_names=tuple(sorted(lang for (lang,) in languages[row.id])),
            networks=tuple(
                NetworkCard(plan_id=plan_id, plan=PlanCard(plan_id, plan_name, PayerCard(payer_name)))
                for plan_id, plan_name, payer_name in networks[row.id]
            ),
            has_availability_settings=row.settings_id is not None,
            next_available_at=row.next_available_at,
            next_available_valid_until=row.next_available_valid_until,
        )
        for row in session.execute(_PROFILES, {"ids": therapist_ids})
    }
    locations = {row.id: LocationCard(*row) for row in session.execute(_LOCATIONS, {"ids": location_ids})}
    return therapists, locations
