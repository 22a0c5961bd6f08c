"""Therapists placed where a search test wants them, and a brute-force search to check the real one against.

The brute force is deliberately naive: every therapist, every location, `geopy.distance.great_circle`
straight from geopy, filters written out from the rules in the issue rather than from the service's code.
Because the service measures with the same geopy formula (domain/geo.py), the two must agree exactly:
same therapists, same nearest locations, same distances to the last bit, same order.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass, field
from datetime import date, timedelta

from geopy.distance import great_circle
from sqlalchemy.orm import Session

from massage_booking.geocoding import Place
from massage_booking.models import (
    CredentialKind,
    CredentialStatus,
    GeocodePrecision,
    InsurancePlan,
    NetworkMembership,
    OncologyCredential,
    Payer,
    PlanType,
    PracticeLocation,
    Role,
    TherapistLanguage,
    TherapistModality,
    TherapistProfile,
    User,
)

TODAY = date(2025, 6, 2)
PLAN_NAMES = ("Gold PPO", "Silver HMO", "Bronze EPO", "Empty POS")  # nobody joins the last one
# What the issue says each condition implies (independent of the evidence registry's code).
CONDITION_NEEDS_ONCOLOGY = {"cancer_related_pain": True, "chronic_neck_pain": False}

ACTIVE = (CredentialStatus.VERIFIED, TODAY + timedelta(days=200))
NO_EXPIRY = (CredentialStatus.VERIFIED, None)
EXPIRES_TODAY = (CredentialStatus.VERIFIED, TODAY)
EXPIRED = (CredentialStatus.VERIFIED, TODAY - timedelta(days=1))
PENDING = (CredentialStatus.PENDING, TODAY + timedelta(days=200))
REJECTED = (CredentialStatus.REJECTED, TODAY + timedelta(days=200))


def place(latitude: float, longitude: float, label: str = "test origin") -> Place:
    return Place(
        latitude=latitude, longitude=longitude, label=label, precision=GeocodePrecision.POINT, time_zone=None
    )


@dataclass
class Therapist:
    """What the brute force knows about a therapist (ids are filled in once the rows exist)."""

    id: int
    locations: list[tuple[int, float, float]]  # (location id, latitude, longitude)
    credentials: list[tuple[CredentialStatus, date | None]]
    plan_ids: set[int]
    modalities: set[str]
    languages: set[str]
    accepting: bool


@dataclass
class World:
    """Builds therapists in `session` (flushed, not committed) and remembers them for the brute force."""

    session: Session
    therapists: dict[int, Therapist] = field(default_factory=dict)
    plans: dict[str, int] = field(default_factory=dict)
    _numbers: itertools.count = field(default_factory=lambda: itertools.count(1))
    _unflushed: list[tuple[TherapistProfile, Therapist]] = field(default_factory=list)

    def __post_init__(self) -> None:
        payer = Payer(code="TESTCARE", name="Testcare")
        for name in PLAN_NAMES:
            payer.plans.append(InsurancePlan(name=name, plan_type=PlanType.PPO))
        self.session.add(payer)
        self.session.flush()
        self.plans = {plan.name: plan.id for plan in payer.plans}

    def add(
        self,
        *locations: tuple[float, float],
        credentials: tuple[tuple[CredentialStatus, date | None], ...] = (),
        plans: tuple[str, ...] = (),
        modalities: tuple[str, ...] = ("Swedish massage",),
        languages: tuple[str, ...] = ("English",),
        accepting: bool = True,
        flush: bool = True,
    ) -> TherapistProfile:
        n = next(self._numbers)
        user = User(
            email=f"search-therapist-{n}@example.org",
            password_hash="not-a-real-hash",
            role=Role.THERAPIST,
            display_name=f"Therapist {n}",
        )
        profile = TherapistProfile(
            user=user,
            name=f"Therapist {n}",
            license_number=f"T{n:06d}",
            license_state="NY",
            license_expires_on=TODAY + timedelta(days=365),
            session_rate_cents=9_500,
            accepting_new_patients=accepting,
            locations=[
                PracticeLocation(
                    city="Testville",
                    state="NY",
                    zip_code="10001",
                    latitude=lat,
                    longitude=lon,
                    time_zone="America/New_York",
                )
                for lat, lon in locations
            ],
            credentials=[
                OncologyCredential(
                    kind=CredentialKind.S4OM_FOUNDATIONAL,
                    issuer="Society for Oncology Massage",
                    training_hours=24,
                    issued_on=(expires or TODAY) - timedelta(days=400),
                    expires_on=expires,
                    status=status,
                )
                for status, expires in credentials
            ],
            modalities=[TherapistModality(modality=m) for m in modalities],
            languages=[TherapistLanguage(language=language) for language in languages],
            networks=[NetworkMembership(plan_id=self.plans[name]) for name in plans],
        )
        self.session.add(profile)
        facts = Therapist(
            id=0,
            locations=[],
            credentials=list(credentials),
            plan_ids={self.plans[name] for name in plans},
            modalities=set(modalities),
            languages=set(languages),
            accepting=accepting,
        )
        self._unflushed.append((profile, facts))
        if flush:
            self.flush()
        return profile

    def flush(self) -> None:
        """Write what `add(..., flush=False)` queued (one flush for hundreds of therapists is faster)."""
        self.session.flush()
        for profile, facts in self._unflushed:
            facts.id = profile.id
            facts.locations = [(loc.id, loc.latitude, loc.longitude) for loc in profile.locations]
            self.therapists[profile.id] = facts
        self._unflushed.clear()


def brute_force(
    world: World,
    origin: tuple[float, float],
    radius: float,
    unit: str,
    *,
    today: date = TODAY,
    oncology_trained: bool = False,
    plan_id: int | None = None,
    condition: str | None = None,
    modality: str | None = None,
    language: str | None = None,
    accepting_new_patients: bool = False,
) -> list[tuple[int, int, float]]:
    """(therapist id, location id, distance) of every match, nearest first, ties by therapist id."""
    needs_oncology = oncology_trained or (condition is not None and CONDITION_NEEDS_ONCOLOGY[condition])
    found = []
    for t in world.therapists.values():
        if needs_oncology and not any(
            status is CredentialStatus.VERIFIED and (expires is None or expires >= today)
            for status, expires in t.credentials
        ):
            continue
        if plan_id is not None and plan_id not in t.plan_ids:
            continue
        if modality is not None and modality not in t.modalities:
            continue
        if language is not None and language not in t.languages:
            continue
        if accepting_new_patients and not t.accepting:
            continue
        best = None
        for location_id, lat, lon in t.locations:
            d = great_circle(origin, (lat, lon))
            distance = d.miles if unit == "mi" else d.km
            if distance <= radius and (best is None or (distance, location_id) < best):
                best = (distance, location_id)
        if best is not None:
            found.append((best[0], t.id, best[1]))
    found.sort()
    return [(therapist_id, location_id, distance) for distance, therapist_id, location_id in found]
