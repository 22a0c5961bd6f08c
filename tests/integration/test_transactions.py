"""The edge owns its transaction (massage_booking/transactions.py): all of a change is stored, or none.

`atomic()` is what every /api/v1 operation runs its handler in, and what the webhook, the FHIR endpoint
and the CLI use; these tests read the database through a second connection, so "stored" means committed.
"""

from __future__ import annotations

import pytest
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError

from massage_booking.domain.errors import NotFound
from massage_booking.extensions import db as flask_db
from massage_booking.models import AuditEvent, Payer
from massage_booking.services import audit
from massage_booking.transactions import atomic, keeps_denials


def _stored_payers(app) -> list[str]:
    """The payer codes another connection sees: only what was committed."""
    with flask_db.engine.connect() as other:
        return list(other.scalars(select(Payer.code).order_by(Payer.code)))


def test_a_block_that_ends_is_committed(app, db):
    with atomic() as session:
        session.add(Payer(code="ACME", name="Acme Health"))

    assert _stored_payers(app) == ["ACME"]


def test_a_block_that_raises_stores_nothing_and_the_error_goes_on(app, db):
    with pytest.raises(RuntimeError, match="later step failed"), atomic() as session:
        session.add(Payer(code="ACME", name="Acme Health"))
        session.flush()  # written in the transaction, as a service would
        raise RuntimeError("a later step failed")

    assert _stored_payers(app) == []
    assert db.scalar(select(func.count()).select_from(Payer)) == 0  # the session was rolled back too


def test_a_commit_the_database_refuses_is_rolled_back_and_the_session_goes_on(app, db):
    with atomic() as session:
        session.add(Payer(code="ACME", name="Acme Health"))

    with pytest.raises(IntegrityError), atomic() as session:
        session.add(Payer(code="ACME", name="Acme Again"))  # refused only at the commit's flush

    with atomic() as session:  # usable again: no "transaction has been rolled back" error
        session.add(Payer(code="BETA", name="Beta Health"))
    assert _stored_payers(app) == ["ACME", "BETA"]


def _denied_reads(subject_id: str) -> list[str]:
    with flask_db.engine.connect() as other:
        return list(other.scalars(select(AuditEvent.action).where(AuditEvent.subject_id == subject_id)))


def test_a_refused_read_keeps_its_audit_record(app, db, auth):
    """Services raise NotFound for another's record after auditing the refusal, before changing anything."""
    user = auth.create_user()

    with pytest.raises(NotFound), atomic():
        audit.record(db, user, "course.read_denied", "course", 7)
        raise NotFound("No course has that id.")

    assert _denied_reads("7") == ["course.read_denied"]


def test_a_page_keeps_a_refused_reads_audit_record_across_the_error_handlers_rollback(app, db, auth):
    user = auth.create_user()

    @keeps_denials
    def view() -> None:
        audit.record(db, user, "course.read_denied", "course", 8)  # a read outside any block
        raise NotFound("No course has that id.")

    with pytest.raises(NotFound):
        view()
    db.rollback()  # what the error handler does

    assert _denied_reads("8") == ["course.read_denied"]


def test_a_kept_refusal_is_committed_and_any_other_error_is_not(app, db):
    class Refusal(Exception):
        pass

    with pytest.raises(Refusal), atomic(Refusal) as session:
        session.add(Payer(code="KEPT", name="Audited before the refusal"))
        raise Refusal

    with pytest.raises(RuntimeError), atomic(Refusal) as session:
        session.add(Payer(code="LOST", name="Written before a failure"))
        raise RuntimeError("not a refusal")

    assert _stored_payers(app) == ["KEPT"]
