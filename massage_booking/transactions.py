"""One decorator for views (pages and API alike) that read health data for an actor.

The services raise NotFound for someone else's record after writing the audit record of the refused
read, and before changing anything else. The error handlers roll the session back, which would lose
that record; committing first keeps it (DESIGN.md: every access is audited, refused ones too).
"""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any, TypeVar

from massage_booking.domain.errors import NotFound
from massage_booking.extensions import db

F = TypeVar("F", bound=Callable[..., Any])


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
