"""POST /api/v1/auth/register and /api/v1/auth/token, and GET /api/v1/me to check a token."""

from __future__ import annotations

from datetime import timedelta

from flask import current_app

from massage_booking.api.contract import ANY_ROLE, Reply, operation
from massage_booking.extensions import db, limiter
from massage_booking.models import Role, User
from massage_booking.schemas.accounts import Account, IssuedToken, RegisterRequest, TokenRequest, user_of
from massage_booking.schemas.replies import RATE_LIMITED, VALIDATION
from massage_booking.services import accounts


def _auth_limit() -> str:
    return current_app.config["AUTH_RATE_LIMIT"]


@operation(
    "POST",
    "/auth/register",
    operation_id="register",
    tag="Accounts",
    summary="Create an account",
    description="A patient or therapist account (insurer and admin accounts are made by an admin).",
    body=RegisterRequest,
    body_description="The new account.",
    example={"email": "pat@example.org", "password": "correct horse battery", "display_name": "Pat Kim"},
    responses={
        201: Reply("The account.", Account),
        409: "An account with that e-mail already exists.",
        422: VALIDATION,
        429: RATE_LIMITED,
    },
)
@limiter.limit(_auth_limit)
def register(body: RegisterRequest) -> Account:
    user = accounts.register(
        db.session,
        email=body.email,
        password=body.password,
        display_name=body.full_name,
        role=Role(body.role),
    )
    return Account(user=user_of(user))


@operation(
    "POST",
    "/auth/token",
    operation_id="issueToken",
    tag="Accounts",
    summary="Get a bearer token",
    description="Exchange e-mail and password for a token; send it as `Authorization: Bearer <token>`.",
    body=TokenRequest,
    body_description="Your credentials.",
    responses={
        201: Reply("The token; it is shown only once.", IssuedToken),
        401: "The e-mail or password is incorrect, or the account is disabled.",
        422: VALIDATION,
        429: RATE_LIMITED,
    },
)
@limiter.limit(_auth_limit)
def token(body: TokenRequest) -> IssuedToken:
    user = accounts.authenticate(db.session, body.email, body.password)
    issued = accounts.issue_api_token(
        db.session, user, timedelta(days=current_app.config["API_TOKEN_TTL_DAYS"]), name="api"
    )
    return IssuedToken(token=issued.token, expires_at=issued.expires_at, user=user_of(user))


@operation(
    "GET",
    "/me",
    operation_id="me",
    tag="Accounts",
    summary="Who a token belongs to",
    description="Check a token: the account it stands for.",
    roles=ANY_ROLE,
    responses={200: Reply("The account.", Account)},
)
def me(user: User) -> Account:
    return Account(user=user_of(user))
