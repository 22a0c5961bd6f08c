"""What makes an e-mail address and a new password acceptable: the rules the sign-up page, the API's
request schema and the operator CLI all apply, so that each refuses the same things in the same words."""

from __future__ import annotations

from email_validator import EmailNotValidError, validate_email

from massage_booking.domain.errors import ValidationFailed

MIN_PASSWORD_LENGTH = 12
MAX_PASSWORD_LENGTH = 128
MAX_DISPLAY_NAME = 120


def normalize_email(raw: object) -> str:
    """The canonical form we store and look up, so that Ann@X.org and ann@x.org are one account."""
    if not isinstance(raw, str) or not raw.strip():
        raise ValidationFailed.for_field("email", "Enter your e-mail address.")
    try:
        checked = validate_email(raw.strip(), check_deliverability=False)
    except EmailNotValidError as exc:
        raise ValidationFailed.for_field("email", f"That e-mail address is not valid: {exc}") from None
    return checked.normalized.lower()


def password_problem(password: str) -> str | None:
    """Why a new password is unacceptable, or None. Length is what matters most (NIST SP 800-63B)."""
    if len(password) < MIN_PASSWORD_LENGTH:
        return f"Use at least {MIN_PASSWORD_LENGTH} characters."
    if len(password) > MAX_PASSWORD_LENGTH:
        return f"Use at most {MAX_PASSWORD_LENGTH} characters."
    if not password.strip():
        return "A password cannot be only spaces."
    return None


def display_name_problem(name: str) -> str | None:
    if not name.strip():
        return "Enter your name."
    if len(name.strip()) > MAX_DISPLAY_NAME:
        return f"Use at most {MAX_DISPLAY_NAME} characters."
    return None
