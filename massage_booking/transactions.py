"""How an edge ends its transaction: one commit when its work is done, one rollback when anything fails.

Services flush and never commit: only the caller knows whether more belongs to the same change. The edge
(an API operation, a page, the Stripe webhook, a CLI command) owns the transaction: `atomic()` around the
work commits when the block ends and rolls back when an exception leaves it (the exception goes on to its
handler). Every /api/v1 operation runs its handler in one (api/contract.py), so no handler commits by hand.

Refusals are the exception to the rollback. The services raise NotFound for someone else's record after
writing the audit record of the refused read and before changing anything else, and the audit record must
survive (DESIGN.md: every access is audited, refused ones too): `atomic()` commits it before the NotFound
goes on, as it does for the refusals a view names (`atomic(BookingDeferred)`). `@keeps_denials` does the
same for a page whose reads are not all inside a block, since the error handler rolls back.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from functools import wraps
from typing import Any, TypeVar

from sqlalchemy.orm import Session

from massage_booking.domain.errors import NotFound
from massage_booking.extensions import db

F = TypeVar("F", bound=Callable[..., Any])


@contextmanager
def atomic(*kept: type[Exception]) -> Iterator[Session]:
    """The block's changes, committed together or not at all. A NotFound, or an exception of a `kept`
    type, is committed before it goes on: a refusal raised after its audit record and before any change."""
    session = db.session
    try:
        yield session
        session.commit()  # inside: a commit the database refuses is rolled back too
    except (NotFound, *kept):
        session.commit()
        raise
    except BaseException:
        session.rollback()
        raise


def keeps_denials(view: F) -> F:
    """Commit before a NotFound leaves the view, so the audit record of the refused read survives."""

    @wraps(view)
    def wrapped(*args: Any, **kwargs: Any) -> Any:
        try:
            return view(*args, **kwargs)
        except NotFound:
            db.session.commit()
            raise

    return wrapped  # type: ignore[return-value]
