"""Therapists: the public profile, oncology credentials, practice locations, modalities and languages."""

from __future__ import annotations

import enum
from datetime import date, datetime

from sqlalchemy import CheckConstraint, ForeignKey, Index, Integer, String, Text, cast, literal_column
from sqlalchemy.orm import Mapped, mapped_column, relationship

from massage_booking.models.base import Base, portable_enum, utcnow
from massage_booking.models.users import User


class CredentialKind(enum.StrEnum):
    """Oncology training a therapist can show; see reference/evidence.md, "credentials"."""

    S4OM_FOUNDATIONAL = "s4om_foundational"  # S4OM-recognised foundational course, at least 24 hours
    HOSPITAL_BASED = "hospital_based"  # e.g. Mayo Clinic hospital-based massage therapy course
    ONCOLOGY_CERTIFICATE = "oncology_certificate"  # another supervised oncology massage programme


class CredentialStatus(enum.StrEnum):
    PENDING = "pending"
    VERIFIED = "verified"
    REJECTED = "rejected"


class GeocodePrecision(enum.StrEnum):
    POINT = "point"
    ZIP = "zip"
    CITY = "city"


class TherapistProfile(Base):
    __tablename__ = "therapist_profiles"
    __table_args__ = (
        CheckConstraint("session_rate_cents >= 0", name="rate_not_negative"),
        CheckConstraint("length(license_state) = 2", name="license_state_code"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), unique=True)
    name: Mapped[str] = mapped_column(String(120))
    credentials_suffix: Mapped[str] = mapped_column(String(40), default="LMT")
    bio: Mapped[str] = mapped_column(Text, default="")
    license_number: Mapped[str] = mapped_column(String(40))
    license_state: Mapped[str] = mapped_column(String(2))
    license_expires_on: Mapped[date]
    license_verified_at: Mapped[datetime | None]
    # One NPI per provider (NPPES); NULLs do not collide, so therapists without one are unaffected.
    npi: Mapped[str | None] = mapped_column(String(10), unique=True)
    session_rate_cents: Mapped[int] = mapped_column(Integer)
    currency: Mapped[str] = mapped_column(String(3), default="USD")
    accepting_new_patients: Mapped[bool] = mapped_column(default=True, index=True)
    # Bumped by every booking as its first write: the lock that serialises one therapist's bookings
    # (services/courses.py).
    bookings_version: Mapped[int] = mapped_column(default=0, server_default="0")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)

    user: Mapped[User] = relationship()
    credentials: Mapped[list[OncologyCredential]] = relationship(
        back_populates="therapist",
        cascade="all, delete-orphan",
        order_by="OncologyCredential.issued_on.desc()",
        foreign_keys="OncologyCredential.therapist_id",
    )
    locations: Mapped[list[PracticeLocation]] = relationship(
        back_populates="therapist", cascade="all, delete-orphan", order_by="PracticeLocation.id"
    )
    modalities: Mapped[list[TherapistModality]] = relationship(cascade="all, delete-orphan")
    languages: Mapped[list[TherapistLanguage]] = relationship(cascade="all, delete-orphan")
    networks: Mapped[list[NetworkMembership]] = relationship(cascade="all, delete-orphan")

    @property
    def modality_names(self) -> list[str]:
        return sorted(m.modality for m in self.modalities)

    @property
    def language_names(self) -> list[str]:
        return sorted(lang.language for lang in self.languages)

    def active_oncology_credentials(self, on: date) -> list[OncologyCredential]:
        return [c for c in self.credentials if c.is_active_on(on)]


class OncologyCredential(Base):
    __tablename__ = "oncology_credentials"
    __table_args__ = (
        CheckConstraint("training_hours > 0", name="training_hours_positive"),
        CheckConstraint("expires_on IS NULL OR expires_on >= issued_on", name="expiry_after_issue"),
        # Search asks "which therapists hold a verified credential unexpired today?".
        Index("ix_oncology_credentials_status_expiry", "status", "expires_on", "therapist_id"),
        # The oncology filter's per-therapist EXISTS, answered from the index alone.
        Index("ix_oncology_credentials_therapist_status_expiry", "therapist_id", "status", "expires_on"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    # Indexed by ix_oncology_credentials_therapist_status_expiry, whose first column it is.
    therapist_id: Mapped[int] = mapped_column(ForeignKey("therapist_profiles.id", ondelete="CASCADE"))
    kind: Mapped[CredentialKind] = mapped_column(portable_enum(CredentialKind, "credential_kind"))
    issuer: Mapped[str] = mapped_column(String(160))
    training_hours: Mapped[int]
    issued_on: Mapped[date]
    expires_on: Mapped[date | None]
    status: Mapped[CredentialStatus] = mapped_column(
        portable_enum(CredentialStatus, "credential_status"), default=CredentialStatus.PENDING
    )
    submitted_at: Mapped[datetime] = mapped_column(default=utcnow)
    verified_at: Mapped[datetime | None]
    verified_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    review_note: Mapped[str | None] = mapped_column(String(500))

    therapist: Mapped[TherapistProfile] = relationship(
        back_populates="credentials", foreign_keys=[therapist_id]
    )
    verified_by: Mapped[User | None] = relationship(foreign_keys=[verified_by_id])

    def is_active_on(self, on: date) -> bool:
        """Verified and not expired on `on` (the expiry day itself still counts)."""
        return self.status is CredentialStatus.VERIFIED and (self.expires_on is None or self.expires_on >= on)


class PracticeLocation(Base):
    __tablename__ = "practice_locations"
    __table_args__ = (
        CheckConstraint("latitude BETWEEN -90 AND 90", name="latitude_range"),
        CheckConstraint("longitude BETWEEN -180 AND 180", name="longitude_range"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    therapist_id: Mapped[int] = mapped_column(
        ForeignKey("therapist_profiles.id", ondelete="CASCADE"), index=True
    )
    label: Mapped[str] = mapped_column(String(80), default="Practice")
    address_line1: Mapped[str] = mapped_column(String(200), default="")
    address_line2: Mapped[str] = mapped_column(String(200), default="")
    city: Mapped[str] = mapped_column(String(100))
    state: Mapped[str] = mapped_column(String(2))
    zip_code: Mapped[str] = mapped_column(String(10), index=True)
    latitude: Mapped[float]
    longitude: Mapped[float]
    time_zone: Mapped[str] = mapped_column(String(64))
    geocode_precision: Mapped[GeocodePrecision] = mapped_column(
        portable_enum(GeocodePrecision, "geocode_precision"), default=GeocodePrecision.ZIP
    )

    therapist: Mapped[TherapistProfile] = relationship(back_populates="locations")


# A B-tree on (latitude, longitude) narrows a box search to the box's whole latitude band, coast to coast
# (172,000 rows at New York's latitude in the million-therapist demo). Indexing (latitude slice, longitude,
# latitude, therapist_id) lets the search seek each 0.1-degree slice straight to the box's longitudes and
# answer from the index alone. The query must use this exact expression (services/search.py does).
LATITUDE_SLICES_PER_DEGREE = 10
LATITUDE_SLICE = cast(
    PracticeLocation.__table__.c.latitude * literal_column(str(LATITUDE_SLICES_PER_DEGREE)), Integer
)
Index(
    "ix_practice_locations_lat_slice",
    LATITUDE_SLICE,
    PracticeLocation.__table__.c.longitude,
    PracticeLocation.__table__.c.latitude,
    PracticeLocation.__table__.c.therapist_id,
)


class TherapistModality(Base):
    __tablename__ = "therapist_modalities"

    therapist_id: Mapped[int] = mapped_column(
        ForeignKey("therapist_profiles.id", ondelete="CASCADE"), primary_key=True
    )
    modality: Mapped[str] = mapped_column(String(60), primary_key=True, index=True)


class TherapistLanguage(Base):
    __tablename__ = "therapist_languages"

    therapist_id: Mapped[int] = mapped_column(
        ForeignKey("therapist_profiles.id", ondelete="CASCADE"), primary_key=True
    )
    language: Mapped[str] = mapped_column(String(40), primary_key=True, index=True)


class NetworkMembership(Base):
    """A therapist is in-network for an insurance plan."""

    __tablename__ = "network_memberships"

    therapist_id: Mapped[int] = mapped_column(
        ForeignKey("therapist_profiles.id", ondelete="CASCADE"), primary_key=True
    )
    plan_id: Mapped[int] = mapped_column(
        ForeignKey("insurance_plans.id", ondelete="CASCADE"), primary_key=True, index=True
    )
    joined_on: Mapped[date | None]

    plan: Mapped[InsurancePlan] = relationship()


from massage_booking.models.payers import InsurancePlan  # noqa: E402  (resolves the forward reference)
