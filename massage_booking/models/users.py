"""Accounts: users with one role, their server-side login sessions and their API tokens.

Secrets (login session ids, API tokens) are stored only as SHA-256 digests: a database leak must not
hand out working credentials. They are high-entropy random strings, so a fast digest is enough;
passwords, which people choose, get argon2id instead (see services/passwords.py).
"""

from __future__ import annotations

import enum
from datetime import datetime

from sqlalchemy import ForeignKey, String, true
from sqlalchemy.orm import Mapped, mapped_column, relationship

from massage_booking.models.base import Base, portable_enum, utcnow


class Role(enum.StrEnum):
    PATIENT = "patient"
    THERAPIST = "therapist"
    INSURER = "insurer"
    ADMIN = "admin"


class User(Base):
    __tablename__ = "users"

    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str] = mapped_column(String(254), unique=True)
    password_hash: Mapped[str] = mapped_column(String(255))
    role: Mapped[Role] = mapped_column(portable_enum(Role, "role"), index=True)
    display_name: Mapped[str] = mapped_column(String(120))
    is_active: Mapped[bool] = mapped_column(default=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    last_login_at: Mapped[datetime | None]
    # Insurer accounts act for exactly one payer: their checks and the courses they may see are that
    # payer's plans' only. NULL for every other role.
    payer_id: Mapped[int | None] = mapped_column(ForeignKey("payers.id", ondelete="RESTRICT"), index=True)
    # Session reminders by e-mail (patients): turned off on /care/notifications or by the unsubscribe link
    # in a reminder. Confirmations of bookings, moves and cancellations are transactional and always sent.
    reminders_enabled: Mapped[bool] = mapped_column(default=True, server_default=true())

    login_sessions: Mapped[list[LoginSession]] = relationship(
        back_populates="user", cascade="all, delete-orphan"
    )
    api_tokens: Mapped[list[ApiToken]] = relationship(back_populates="user", cascade="all, delete-orphan")

    # Set when the user is loaded from (or logged in with) a login session; Flask-Login stores it in the
    # cookie, so logging out can revoke exactly this session on the server.
    login_token = None  # str | None; a plain attribute, not a column

    # Flask-Login's protocol, written out instead of inheriting UserMixin so that the id it stores is the
    # revocable login-session token and never the bare primary key.
    @property
    def is_authenticated(self) -> bool:
        return True

    @property
    def is_anonymous(self) -> bool:
        return False

    def get_id(self) -> str | None:
        return self.login_token

    def has_role(self, *roles: Role) -> bool:
        return self.role in roles

    def __repr__(self) -> str:
        return f"<User {self.id} {self.role}>"


class LoginSession(Base):
    """One browser login. Deleting the cookie is not enough to log out; revoking this row is."""

    __tablename__ = "login_sessions"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    expires_at: Mapped[datetime]
    revoked_at: Mapped[datetime | None]

    user: Mapped[User] = relationship(back_populates="login_sessions")


class ApiToken(Base):
    """A bearer token for /api/v1. Only its digest and a short prefix (to tell tokens apart) are kept."""

    __tablename__ = "api_tokens"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    name: Mapped[str] = mapped_column(String(80))
    prefix: Mapped[str] = mapped_column(String(12))
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    expires_at: Mapped[datetime]
    last_used_at: Mapped[datetime | None]
    revoked_at: Mapped[datetime | None]

    user: Mapped[User] = relationship(back_populates="api_tokens")
