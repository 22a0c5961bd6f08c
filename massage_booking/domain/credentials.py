"""Rules about oncology massage training (reference/evidence.json, "credentials")."""

from __future__ import annotations

# S4OM: a foundational oncology massage course is at least 24 supervised hours; recorded-webinar-only
# or self-paced courses do not qualify.
S4OM_MIN_FOUNDATIONAL_HOURS = 24
