"""What every API handler needs: the JSON body as a dict, the bearer-token user, and ids in range."""

from __future__ import annotations

import re
from collections.abc import Callable
from functools import wraps
from typing import Any, TypeVar

from flask import g, request
from werkzeug.exceptions import BadRequest, Forbidden, NotFound, Unauthorized, UnsupportedMediaType

from massage_booking.api import bp
from massage_booking.extensions import db
from massage_booking.models import Role, User
from massage_booking.schemas.base import MAX_ID
from massage_booking.services import accounts

F = TypeVar("F", bound=Callable[..., Any])

_UNSTORABLE = re.compile("[\x00\ud800-\udfff]")


@bp.url_value_preprocessor
def _ids_in_range(endpoint: str | None, values: dict[str, Any] | None) -> None:
    """An id in the path (`<int:...>`) beyond any row's is a 404 before the handler runs: looked up, it
    would be a 500 (SQLite: OverflowError binding it; PostgreSQL: an out-of-range integer)."""
    for value in (values or {}).values():
        if isinstance(value, int) and value > MAX_ID:
            raise NotFound("Nothing has that id.")


def json_object() -> dict[str, Any]:
    """The request body, which must be a JSON object; anything else is a 400/415 with a clear reason."""
    if not request.is_json:
        raise UnsupportedMediaType("Send the body as JSON with Content-Type: application/json.")
    try:
        body = request.get_json(silent=True)
    except RecursionError:  # `silent` covers malformed JSON, not JSON nested past the parser's depth
        raise BadRequest("The request body nests too deeply.") from None
    if body is None:
        raise BadRequest("The request body is not valid JSON.")
    if not isinstance(body, dict):
        raise BadRequest("The request body must be a JSON object.")
    if not _storable(body):
        raise BadRequest("Text in the body must not contain NUL characters or unpaired surrogates.")
    return body


def _storable(body: Any) -> bool:
    """Whether every string in the JSON value (keys too) can be stored: PostgreSQL text refuses NUL, and
    an unpaired surrogate (`"\\ud800"` is valid JSON) has no UTF-8 form, so neither could be saved,
    hashed or sent on. A loop, not recursion: JSON nests as deep as the parser allows."""
    pending = [body]
    while pending:
        value = pending.pop()
        if isinstance(value, str):
            if _UNSTORABLE.search(value):
                return False
        elif isinstance(value, dict):
            pending.extend(value)
            pending.extend(value.values())
        elif isinstance(value, list):
            pending.extend(value)
    return True


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
