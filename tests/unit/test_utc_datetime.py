"""Timestamps come back timezone-aware in UTC, and local naive times are refused (DESIGN.md invariant)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest
from sqlalchemy import create_engine, select
from sqlalchemy.exc import StatementError
from sqlalchemy.orm import Session

from massage_booking.models import AuditEvent, Base


@pytest.fixture
def session():
    engine = create_engine("sqlite://")
    Base.metadata.create_all(engine)
    with Session(engine) as s:
        yield s


def test_aware_times_round_trip_as_utc(session):
    new_york = timezone(timedelta(hours=-5))
    session.add(
        AuditEvent(at=datetime(2026, 3, 8, 1, 30, tzinfo=new_york), action="x", subject_type="y", details={})
    )
    session.commit()
    session.expire_all()
    at = session.scalar(select(AuditEvent.at))
    assert at == datetime(2026, 3, 8, 6, 30, tzinfo=UTC)
    assert at.tzinfo is UTC


def test_naive_times_are_refused(session):
    session.add(AuditEvent(at=datetime(2026, 3, 8, 1, 30), action="x", subject_type="y", details={}))
    with pytest.raises(StatementError, match="timezone-aware"):
        session.flush()
