"""The few directory queries outside search: featured therapists for the home page, and the navigation's
link to a therapist's own public page. Finding therapists by place and filters is services/search.py.
"""

from __future__ import annotations

from datetime import date

from sqlalchemy import and_, func, or_, select
from sqlalchemy.orm import Session, selectinload

from massage_booking.models import (
    CredentialStatus,
    InsurancePlan,
    NetworkMembership,
    OncologyCredential,
    TherapistProfile,
)

FEATURED_LIMIT = 3


def featured(session: Session, today: date, limit: int = FEATURED_LIMIT) -> list[TherapistProfile]:
    """A few therapists holding a verified oncology credential unexpired on `today`, for the home page.

    Those accepting new patients come first: featuring someone a patient cannot book would waste the
    patient's time.
    """
    active = and_(
        OncologyCredential.status == CredentialStatus.VERIFIED,
        or_(OncologyCredential.expires_on.is_(None), OncologyCredential.expires_on >= today),
    )
    return list(
        session.scalars(
            select(TherapistProfile)
            .where(TherapistProfile.credentials.any(active))
            .options(
                selectinload(TherapistProfile.credentials),
                selectinload(TherapistProfile.locations),
                selectinload(TherapistProfile.networks)
                .selectinload(NetworkMembership.plan)
                .selectinload(InsurancePlan.payer),
            )
            .order_by(
                TherapistProfile.accepting_new_patients.desc(),
                func.lower(TherapistProfile.name),
                TherapistProfile.id,
            )
            .limit(limit)
        )
    )


def public_profile_id(session: Session, user_id: int) -> int | None:
    """The id of the user's public therapist page, if they have saved a profile (the navigation links it)."""
    return session.scalar(select(TherapistProfile.id).where(TherapistProfile.user_id == user_id))
