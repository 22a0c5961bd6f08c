"""Registering, authenticating, and the two kinds of credential a user can hold after logging in:
a browser login session and an API bearer token. Both are random secrets stored as digests."""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from massage_booking.domain.account_rules import display_name_problem, normalize_email, password_problem
from massage_booking.domain.errors import AuthenticationFailed, Conflict, ValidationFailed
from massage_booking.models import ApiToken, LoginSession, Role, User, utcnow
from massage_booking.services import audit
from massage_booking.services.passwords import hash_password, needs_rehash, verify_password

SELF_SERVICE_ROLES = (Role.PATIENT, Role.THERAPIST)
LOGIN_SESSION_TTL = timedelta(days=14)
TOKEN_PREFIX = "mb_"  # noqa: S105 - a public marker that tells our tokens apart, not a secret
TOKEN_USE_RESOLUTION = timedelta(minutes=5)


def _digest(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def register(
    session: Session, *, email: str, password: str, display_name: str, role: Role = Role.PATIENT
) -> User:
    """Create a patient or therapist account. Insurer and admin accounts are made by an admin. The edges
    check the same rules first (schemas/accounts.py, auth/forms.py); they are checked again here because
    an account that breaks them must never be stored, whoever calls."""
    errors: dict[str, list[str]] = {}
    try:
        email_norm = normalize_email(email)
    except ValidationFailed as exc:
        errors.update(exc.details["fields"])
        email_norm = ""
    if problem := password_problem(password):
        errors["password"] = [problem]
    if problem := display_name_problem(display_name):
        errors["display_name"] = [problem]
    if role not in SELF_SERVICE_ROLES:
        errors["role"] = ["Choose patient or therapist."]
    if errors:
        raise ValidationFailed.for_fields(errors)

    if session.scalar(select(User.id).where(User.email == email_norm)) is not None:
        raise _email_taken()
    user = User(
        email=email_norm, password_hash=hash_password(password), role=role, display_name=display_name.strip()
    )
    session.add(user)
    try:
        # A savepoint, so that losing a race for the same e-mail leaves the caller's transaction usable.
        with session.begin_nested():
            session.flush()
    except IntegrityError:
        raise _email_taken() from None
    audit.record(session, user, "account.registered", "user", user.id, role=role.value)
    return user


def _email_taken() -> Conflict:
    return Conflict(
        "An account with that e-mail already exists. Log in instead, or use another address.",
        {"fields": {"email": ["An account with that e-mail already exists."]}},
    )


def authenticate(session: Session, email: object, password: object) -> User:
    """The user whose e-mail and password these are; one vague error for every failure."""
    failure = AuthenticationFailed("The e-mail or password is incorrect.")
    if not isinstance(email, str) or not isinstance(password, str) or not password:
        raise failure
    try:
        email_norm = normalize_email(email)
    except ValidationFailed:
        raise failure from None
    user = session.scalar(select(User).where(User.email == email_norm))
    if not verify_password(user.password_hash if user else None, password) or user is None:
        raise failure
    if not user.is_active:
        raise AuthenticationFailed("This account is disabled. Contact support.")
    if needs_rehash(user.password_hash):
        user.password_hash = hash_password(password)
    user.last_login_at = utcnow()
    return user


def open_login_session(session: Session, user: User, now: datetime | None = None) -> str:
    """Start a browser login; the returned token goes into the signed cookie via Flask-Login."""
    now = now or utcnow()
    token = secrets.token_urlsafe(32)
    session.add(
        LoginSession(
            user_id=user.id, token_hash=_digest(token), created_at=now, expires_at=now + LOGIN_SESSION_TTL
        )
    )
    user.login_token = token
    audit.record(session, user, "auth.login", "user", user.id)
    return token


def user_for_login_session(session: Session, token: str, now: datetime | None = None) -> User | None:
    now = now or utcnow()
    login = session.scalar(
        select(LoginSession).where(
            LoginSession.token_hash == _digest(token),
            LoginSession.revoked_at.is_(None),
            LoginSession.expires_at > now,
        )
    )
    if login is None or not login.user.is_active:
        return None
    login.user.login_token = token
    return login.user


def close_login_session(session: Session, token: str | None) -> None:
    """Revoke this login on the server, so a copied cookie stops working after logout."""
    if not token:
        return
    session.execute(
        update(LoginSession)
        .where(LoginSession.token_hash == _digest(token), LoginSession.revoked_at.is_(None))
        .values(revoked_at=utcnow())
    )


@dataclass(frozen=True)
class IssuedToken:
    token: str
    expires_at: datetime
    record: ApiToken


def issue_api_token(session: Session, user: User, ttl: timedelta, name: str = "api") -> IssuedToken:
    now = utcnow()
    token = TOKEN_PREFIX + secrets.token_urlsafe(32)
    record = ApiToken(
        user_id=user.id,
        name=name[:80],
        prefix=token[:12],
        token_hash=_digest(token),
        created_at=now,
        expires_at=now + ttl,
    )
    session.add(record)
    session.flush()
    audit.record(session, user, "auth.token_issued", "api_token", record.id)
    return IssuedToken(token=token, expires_at=record.expires_at, record=record)


def user_for_api_token(session: Session, token: str, now: datetime | None = None) -> User | None:
    now = now or utcnow()
    if not token.startswith(TOKEN_PREFIX):
        return None
    record = session.scalar(
        select(ApiToken).where(
            ApiToken.token_hash == _digest(token), ApiToken.revoked_at.is_(None), ApiToken.expires_at > now
        )
    )
    if record is None or not record.user.is_active:
        return None
    # Record use at most every few minutes: a write on every API read would serialise SQLite.
    if record.last_used_at is None or now - record.last_used_at > TOKEN_USE_RESOLUTION:
        record.last_used_at = now
    return record.user
