"""Unsubscribe tokens for reminder e-mails: `GET/POST /unsubscribe/<token>` turns a patient's reminders off
without logging in.

The token is the user's id signed with the app's SECRET_KEY (itsdangerous, with its own salt so no other
signed value of the app can stand in for it). It does not expire: an old reminder's link must still work,
and all it can do is stop reminders (never read or change anything else). Rotating SECRET_KEY voids them.
"""

from __future__ import annotations

from itsdangerous import BadSignature, URLSafeSerializer

SALT = "massage_booking.reminders.unsubscribe"


def _serializer(secret_key: str) -> URLSafeSerializer:
    return URLSafeSerializer(secret_key, salt=SALT)


def token_for(user_id: int, secret_key: str) -> str:
    return _serializer(secret_key).dumps(user_id)


def user_id_of(token: str, secret_key: str) -> int | None:
    """The user id a token was made for, or None for a token this app did not sign."""
    try:
        value = _serializer(secret_key).loads(token)
    except BadSignature:
        return None
    return value if isinstance(value, int) and not isinstance(value, bool) else None
