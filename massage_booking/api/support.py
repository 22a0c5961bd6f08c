"""What every API handler needs: the JSON body as a dict, and the bearer-token user."""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any, TypeVar

from flask import g, request
from werkzeug.exceptions import BadRequest, Forbidden, Unauthorized, UnsupportedMediaType

from massage_booking.extensions import db
from massage_booking.models import Role, User
from massage_booking.services import accounts

F = TypeVar("F", bound=Callable[..., Any])


def json_object() -> dict[str, Any]:
    """The request body, which must be a JSON object; anything else is a 400/415 with a clear reason."""
    if not request.is_json:
        raise UnsupportedMediaType("Send the body as JSON with Content-Type: application/json.")
    body = request.get_json(silent=True)
    if body is None:
        raise BadRequest("The request body is not valid JSON.")
    if not isinstance(body, dict):
        raise BadRequest("The request body must be a JSON object.")
    return body


def bearer_user() -> User | None:
    """The user of a valid `Authorization: Bearer` token; 401 for a token that is present but wrong."""
    if "bearer_user" in g:
        return g.bearer_user
    header = request.headers.get("Authorization", "")
    user = None
    if header:
        scheme, _, token = header.partition(" ")
        if scheme.lower() != "bearer" or not token.strip():
            raise Unauthorized("Use an Authorization header of the form 'Bearer <token>'.")
        user = accounts.user_for_api_token(db.session, token.strip())
        if user is None:
            raise Unauthorized("The API token is invalid, expired or revoked.")
        db.session.commit()  # keeps last_used_at; nothing else is pending at this point
    g.bearer_user = user
    return user


def token_required(*roles: Role) -> Callable[[F], F]:
    """Require a bearer token; with `roles`, also one of those roles (403 otherwise)."""

    def decorator(view: F) -> F:
        @wraps(view)
        def wrapped(*args: Any, **kwargs: Any) -> Any:
            user = bearer_user()
            if user is None:
                raise Unauthorized("This endpoint needs an API token: POST /api/v1/auth/token.")
            if roles and not user.has_role(*roles):
                raise Forbidden("Your account's role cannot use this endpoint.")
            return view(*args, user=user, **kwargs)

        return wrapped  # type: ignore[return-value]

    return decorator
