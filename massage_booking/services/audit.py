"""Writing the audit log. Callers pass identifiers and action names, never health details."""

from __future__ import annotations

from typing import Any

from sqlalchemy.orm import Session

from massage_booking.models import AuditEvent, User


def record(
    session: Session,
    actor: User | None,
    action: str,
    subject_type: str,
    subject_id: int | str | None = None,
    **details: Any,
) -> AuditEvent:
    event = AuditEvent(
        actor_id=actor.id if actor is not None else None,
        action=action,
        subject_type=subject_type,
        subject_id=None if subject_id is None else str(subject_id),
        details=details,
    )
    session.add(event)
    return event
