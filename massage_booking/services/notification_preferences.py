"""A patient's notification preferences: reminders before each session on or off.

Confirmations of bookings, moves and cancellations, payment failures and credential reviews are
transactional and always sent; only reminders can be turned off (on the patient's notifications page, or
without logging in by the signed link in every reminder).
"""

from __future__ import annotations

from sqlalchemy.orm import Session

from massage_booking.domain.errors import NotFound
from massage_booking.models import User
from massage_booking.notifications import unsubscribe
from massage_booking.services import audit


def set_reminders(session: Session, actor: User | None, user: User, enabled: bool, *, via: str) -> User:
    """Turn `user`'s reminders on or off (`via` says where: "settings" or "unsubscribe_link")."""
    if user.reminders_enabled != enabled:
        user.reminders_enabled = enabled
        audit.record(
            session, actor, f"notifications.reminders_{'on' if enabled else 'off'}", "user", user.id, via=via
        )
        session.flush()
    return user


def user_for_token(session: Session, token: str, secret_key: str) -> User:
    """The account an unsubscribe token was signed (with `secret_key`) for; NotFound for a tampered or
    unknown one."""
    user_id = unsubscribe.user_id_of(token, secret_key)
    user = session.get(User, user_id) if user_id is not None else None
    if user is None:
        raise NotFound("This unsubscribe link is not valid.")
    return user
