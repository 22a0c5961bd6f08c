"""Browser authentication glue: Flask-Login's loader and the role check used by page views.

The id Flask-Login keeps in the cookie is a login-session token (services/accounts.py), so logging out
revokes the session on the server and a copied cookie stops working.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any, TypeVar
from urllib.parse import urlsplit

from flask import Flask, abort
from flask_login import current_user, login_required

from massage_booking.extensions import db, login_manager
from massage_booking.models import Role, User
from massage_booking.services import accounts

F = TypeVar("F", bound=Callable[..., Any])


def init_app(app: Flask) -> None:
    login_manager.login_view = "auth.login"
    login_manager.login_message = "Please log in to see that page."
    login_manager.login_message_category = "info"
    login_manager.session_protection = "basic"


@login_manager.user_loader
def _load_user(token: str) -> User | None:
    return accounts.user_for_login_session(db.session, token)


def roles_required(*roles: Role) -> Callable[[F], F]:
    """Log in first (redirect), then 403 if the user's role is not one of `roles`."""

    def decorator(view: F) -> F:
        @wraps(view)
        @login_required
        def wrapped(*args: Any, **kwargs: Any) -> Any:
            if not current_user.has_role(*roles):
                abort(403)
            return view(*args, **kwargs)

        return wrapped  # type: ignore[return-value]

    return decorator


def safe_next_url(target: str | None) -> str | None:
    """`target` if it stays on this site (a path, no scheme or host), else None.

    Browsers treat `//evil.example` and `/\\evil.example` as other hosts, so those are refused too.
    """
    if not target:
        return None
    target = target.strip()
    if not target.startswith("/") or target.startswith("//") or "\\" in target:
        return None
    parts = urlsplit(target)
    if parts.scheme or parts.netloc:
        return None
    return target
