"""Answers from an online geocoder, kept so that the same address is asked for only once.

Online geocoders are slow, rate-limited (Nominatim allows one request a second and asks clients to
cache) and sometimes down; a therapist's practice address rarely changes. A row with no coordinates
records that the provider found nothing, so a bad address is not asked for again on every save either.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import CheckConstraint, String
from sqlalchemy.orm import Mapped, mapped_column

from massage_booking.models.base import Base, portable_enum, utcnow
from massage_booking.models.therapists import GeocodePrecision

# The longest normalised query the cache keeps: a 200-character street line plus city, state, ZIP and
# country stays well under it; geocoding.py does not cache anything longer.
QUERY_MAX_LENGTH = 400


class GeocodeCache(Base):
    __tablename__ = "geocode_cache"
    __table_args__ = (
        # Either a whole answer (point, label and precision) or "the provider found nothing": never half.
        CheckConstraint(
            "(latitude IS NULL AND longitude IS NULL AND label IS NULL AND precision IS NULL)"
            " OR (latitude IS NOT NULL AND longitude IS NOT NULL AND label IS NOT NULL"
            " AND precision IS NOT NULL)",
            name="whole_answer_or_none",
        ),
        CheckConstraint("latitude BETWEEN -90 AND 90", name="latitude_range"),
        CheckConstraint("longitude BETWEEN -180 AND 180", name="longitude_range"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    # Normalised (case-folded, whitespace collapsed) so that trivially different spellings share a row.
    query: Mapped[str] = mapped_column(String(QUERY_MAX_LENGTH), unique=True)
    provider: Mapped[str] = mapped_column(String(64))  # which geocoder answered, e.g. "nominatim"
    latitude: Mapped[float | None]
    longitude: Mapped[float | None]
    label: Mapped[str | None] = mapped_column(String(255))  # the provider's own description of the place
    precision: Mapped[GeocodePrecision | None] = mapped_column(
        portable_enum(GeocodePrecision, "geocode_precision")
    )
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    @property
    def found(self) -> bool:
        return self.latitude is not None and self.longitude is not None
