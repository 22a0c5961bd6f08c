"""Accounts: registering, exchanging credentials for a token, and who a token belongs to."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import AfterValidator, Field, model_validator
from pydantic_core import PydanticCustomError

from massage_booking.domain import account_rules
from massage_booking.domain.account_rules import MAX_DISPLAY_NAME, MAX_PASSWORD_LENGTH, MIN_PASSWORD_LENGTH
from massage_booking.domain.errors import ValidationFailed
from massage_booking.models import Role
from massage_booking.schemas.base import RequestModel, ResponseModel, Says, Timestamp, field_error


def _email(raw: str) -> str:
    try:
        return account_rules.normalize_email(raw)
    except ValidationFailed as exc:
        raise PydanticCustomError("invalid", exc.message) from None


def _password(raw: str) -> str:
    if problem := account_rules.password_problem(raw):
        raise PydanticCustomError("invalid", problem)
    return raw


def _name(raw: str) -> str:
    if problem := account_rules.display_name_problem(raw):
        raise PydanticCustomError("invalid", problem)
    return raw.strip()


Name = Annotated[str, Says("Enter your name."), AfterValidator(_name)]


class RegisterRequest(RequestModel):
    email: Annotated[
        str,
        Says("Enter your e-mail address."),
        AfterValidator(_email),
        Field(json_schema_extra={"format": "email"}),
    ] = Field(description="Your e-mail address.")
    password: Annotated[str, Says("Enter a password."), AfterValidator(_password)] = Field(
        json_schema_extra={"minLength": MIN_PASSWORD_LENGTH, "maxLength": MAX_PASSWORD_LENGTH}
    )
    display_name: Name | None = Field(
        None,
        description="Your name; required unless `name` is given.",
        json_schema_extra={"minLength": 1, "maxLength": MAX_DISPLAY_NAME},
    )
    name: Name | None = Field(
        None,
        description="Accepted instead of `display_name`.",
        json_schema_extra={"minLength": 1, "maxLength": MAX_DISPLAY_NAME},
    )
    role: Annotated[Literal["patient", "therapist"], Says("Choose patient or therapist.")] = "patient"

    model_config = RequestModel.model_config | {
        "json_schema_extra": {"anyOf": [{"required": ["display_name"]}, {"required": ["name"]}]}
    }

    @model_validator(mode="after")
    def _named(self) -> RegisterRequest:
        if self.display_name is None and self.name is None:
            raise field_error("RegisterRequest", "display_name", "Enter your name.")
        return self

    @property
    def full_name(self) -> str:
        return self.display_name or self.name or ""


class TokenRequest(RequestModel):
    """E-mail and password as typed: a wrong pair is one vague 401, never a hint of which part was wrong."""

    email: str = Field(description="Your account's e-mail address.")
    password: str


class User(ResponseModel):
    id: int
    email: str
    display_name: str
    role: Role
    created_at: Timestamp


class Account(ResponseModel):
    user: User


class IssuedToken(ResponseModel):
    token: str
    token_type: Literal["Bearer"] = "Bearer"  # noqa: S105 - the scheme name, not a secret
    expires_at: Timestamp
    user: User


def user_of(user: object) -> User:
    """The account as the API shows it (the model reads the ORM row's attributes)."""
    return User.model_validate(user, from_attributes=True)
