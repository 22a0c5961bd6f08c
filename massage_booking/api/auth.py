"""POST /api/v1/auth/register and /api/v1/auth/token, and GET /api/v1/me to check a token."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from flask import current_app

from massage_booking.api import bp
from massage_booking.api.support import json_object, token_required
from massage_booking.extensions import db, limiter
from massage_booking.models import User
from massage_booking.services import accounts


def _auth_limit() -> str:
    return current_app.config["AUTH_RATE_LIMIT"]


def user_json(user: User) -> dict[str, Any]:
    return {
        "id": user.id,
        "email": user.email,
        "display_name": user.display_name,
        "role": user.role.value,
        "created_at": user.created_at.isoformat(),
    }


@bp.post("/auth/register")
@limiter.limit(_auth_limit)
def register() -> Any:
    body = json_object()
    user = accounts.register(
        db.session,
        email=body.get("email"),
        password=body.get("password"),
        display_name=body.get("display_name") or body.get("name"),
        role=body.get("role", "patient"),
    )
    db.session.commit()
    return {"user": user_json(user)}, 201


@bp.post("/auth/token")
@limiter.limit(_auth_limit)
def token() -> Any:
    body = json_object()
    user = accounts.authenticate(db.session, body.get("email"), body.get("password"))
    issued = accounts.issue_api_token(
        db.session, user, timedelta(days=current_app.config["API_TOKEN_TTL_DAYS"]), name="api"
    )
    db.session.commit()
    return {
        "token": issued.token,
        "token_type": "Bearer",
        "expires_at": issued.expires_at.isoformat(),
        "user": user_json(user),
    }, 201


@bp.get("/me")
@token_required()
def me(user: User) -> Any:
    return {"user": user_json(user)}
