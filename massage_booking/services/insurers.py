"""Insurer accounts and their API tokens, made by an administrator; and what an insurer may read back.

An insurer account belongs to exactly one payer (`users.payer_id`): every eligibility check it runs, and
every check it may read again, is that payer's. Accounts are never self-service (accounts.register refuses
the role); an administrator creates them here, from the Insurers page or `flask create-insurer`.

API tokens are issued through `accounts.issue_api_token`: the secret is returned once and only its SHA-256
digest is kept. Revoking sets `revoked_at`, after which the token authenticates nothing (401).

`actor` is the acting administrator; None means an operator at the server's console (the CLI), who is
trusted as the one who can already read the database. Every change is audited with identifiers only.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, selectinload

from massage_booking.domain import evidence
from massage_booking.domain.account_rules import password_problem
from massage_booking.domain.errors import Conflict, Forbidden, NotFound, ValidationFailed
from massage_booking.models import ApiToken, EligibilityCheck, Payer, Role, TherapistProfile, User, utcnow
from massage_booking.services import accounts, audit, eligibility
from massage_booking.services.passwords import hash_password

# What the forms offer; the CLI takes any number of days in the same range.
TOKEN_DAY_CHOICES: tuple[int, ...] = (30, 90, 180, 365)
DEFAULT_TOKEN_DAYS = 90
MAX_TOKEN_DAYS = 365
MAX_TOKEN_NAME = 80
CHECKS_PER_PAGE = 25
NPI_LENGTH = 10

CHECK_NOT_FOUND = "Your payer has no eligibility check with that number."
INSURER_NOT_FOUND = "There is no insurer account with that id."
TOKEN_NOT_FOUND = "There is no insurer API token with that id."  # noqa: S105 - a message, not a secret


def _require_admin(actor: User | None) -> None:
    if actor is not None and actor.role is not Role.ADMIN:
        raise Forbidden("Only administrators manage insurer accounts.")


def _payer_of(actor: User) -> int:
    if actor.role is not Role.INSURER or actor.payer_id is None:
        raise Forbidden("This is for insurer accounts of a payer.")
    return actor.payer_id


# --- reading: the administrator's overview ----------------------------------------------------------------


@dataclass
class InsurerAccount:
    user: User
    tokens: list[ApiToken]  # active ones (not revoked, not expired), newest first


@dataclass
class PayerAccounts:
    payer: Payer
    accounts: list[InsurerAccount] = field(default_factory=list)


def payers_overview(session: Session, actor: User | None, now: datetime | None = None) -> list[PayerAccounts]:
    """Every payer (by name) with its insurer accounts (by e-mail) and their active tokens."""
    _require_admin(actor)
    now = now or utcnow()
    payers = session.scalars(select(Payer).options(selectinload(Payer.plans)).order_by(Payer.name)).all()
    users = session.scalars(
        select(User)
        .where(User.role == Role.INSURER, User.payer_id.is_not(None))
        .options(selectinload(User.api_tokens))
        .order_by(User.email)
    ).all()
    by_payer: dict[int, list[InsurerAccount]] = {}
    for user in users:
        tokens = sorted(
            (t for t in user.api_tokens if t.revoked_at is None and t.expires_at > now),
            key=lambda t: (t.created_at, t.id),
            reverse=True,
        )
        assert user.payer_id is not None
        by_payer.setdefault(user.payer_id, []).append(InsurerAccount(user, tokens))
    return [PayerAccounts(p, by_payer.get(p.id, [])) for p in payers]


def unassigned_insurers(session: Session, actor: User | None) -> list[User]:
    """Insurer accounts that belong to no payer yet (they can run no check until one is set)."""
    _require_admin(actor)
    return list(
        session.scalars(
            select(User).where(User.role == Role.INSURER, User.payer_id.is_(None)).order_by(User.email)
        )
    )


def payer_by_code(session: Session, code: str) -> Payer | None:
    return session.scalar(select(Payer).where(func.upper(Payer.code) == code.strip().upper()))


def insurer_by_email(session: Session, email: str) -> User:
    """The insurer account with this e-mail, or a clear error (for the CLI)."""
    email_norm = accounts.normalize_email(email)
    user = session.scalar(select(User).where(User.email == email_norm))
    if user is None:
        raise NotFound(f"There is no account with the e-mail {email_norm}.")
    if user.role is not Role.INSURER:
        message = f"{email_norm} is a {user.role.value} account, not an insurer."
        raise ValidationFailed.for_field("email", message)
    return user


# --- changes ----------------------------------------------------------------------------------------------


def create_insurer(
    session: Session,
    actor: User | None,
    *,
    payer_id: object,
    email: object,
    display_name: object,
    password: object,
    password_again: object | None = None,
) -> User:
    """A new insurer account of one payer. Every bad field is named at once (422); a taken e-mail is 409.
    `password_again`, when given (a form's second password field, "confirm"), must match `password`."""
    _require_admin(actor)
    errors: dict[str, list[str]] = {}
    payer = None
    if isinstance(payer_id, bool) or not isinstance(payer_id, int):
        errors["payer_id"] = ["Choose the payer this account works for."]
    else:
        payer = session.get(Payer, payer_id)
        if payer is None:
            errors["payer_id"] = ["There is no payer with that id."]
    try:
        email_norm = accounts.normalize_email(email)
    except ValidationFailed as exc:
        errors.update(exc.details["fields"])
        email_norm = ""
    name = display_name.strip() if isinstance(display_name, str) else ""
    if not name:
        errors["display_name"] = ["Enter the name shown for this account, e.g. the team or the person."]
    elif len(name) > 120:
        errors["display_name"] = ["Use at most 120 characters."]
    if not isinstance(password, str) or not password:
        errors["password"] = ["Enter a password."]
    elif problem := password_problem(password):
        errors["password"] = [problem]
    if password_again is not None and password_again != password and "password" not in errors:
        errors["confirm"] = ["The two passwords do not match."]
    if errors:
        raise ValidationFailed.for_fields(errors)
    assert payer is not None and isinstance(password, str)
    if session.scalar(select(User.id).where(User.email == email_norm)) is not None:
        raise _email_taken(email_norm)
    user = User(
        email=email_norm,
        password_hash=hash_password(password),
        role=Role.INSURER,
        display_name=name,
        payer_id=payer.id,
    )
    session.add(user)
    try:
        with session.begin_nested():  # losing a race for the e-mail leaves the caller's transaction usable
            session.flush()
    except IntegrityError:
        raise _email_taken(email_norm) from None
    audit.record(session, actor, "insurer.account_created", "user", user.id, payer_id=payer.id)
    return user


def _email_taken(email: str) -> Conflict:
    message = f"An account with the e-mail {email} already exists."
    return Conflict(message, {"fields": {"email": [message]}})


def _insurer_account(session: Session, user_id: int) -> User:
    user = session.get(User, user_id)
    if user is None or user.role is not Role.INSURER:
        raise NotFound(INSURER_NOT_FOUND)
    return user


def issue_token(
    session: Session, actor: User | None, user_id: int, *, name: object, days: object
) -> accounts.IssuedToken:
    """A new API token for an insurer account of a payer. The secret is in the result and nowhere else."""
    _require_admin(actor)
    user = _insurer_account(session, user_id)
    errors: dict[str, list[str]] = {}
    label = name.strip() if isinstance(name, str) else ""
    if not label:
        errors["name"] = ["Name the token after the system that will use it, e.g. 'claims gateway'."]
    elif len(label) > MAX_TOKEN_NAME:
        errors["name"] = [f"Use at most {MAX_TOKEN_NAME} characters."]
    if isinstance(days, bool) or not isinstance(days, int) or not 1 <= days <= MAX_TOKEN_DAYS:
        errors["days"] = [f"Give the days until it expires, from 1 to {MAX_TOKEN_DAYS}."]
    if errors:
        raise ValidationFailed.for_fields(errors)
    if user.payer_id is None:
        raise ValidationFailed(f"{user.email} belongs to no payer yet: it could not run any check.")
    if not user.is_active:
        raise ValidationFailed(f"{user.email} is disabled: enable it before issuing a token.")
    assert isinstance(days, int)
    issued = accounts.issue_api_token(session, user, timedelta(days=days), label)
    audit.record(
        session,
        actor,
        "insurer.token_issued",
        "api_token",
        issued.record.id,
        user_id=user.id,
        payer_id=user.payer_id,
        days=days,
    )
    return issued


def insurer_token(session: Session, actor: User | None, token_id: int) -> ApiToken:
    """An insurer account's token (to show before revoking it)."""
    _require_admin(actor)
    token = session.get(ApiToken, token_id)
    if token is None or token.user.role is not Role.INSURER:
        raise NotFound(TOKEN_NOT_FOUND)
    return token


def revoke_token(session: Session, actor: User | None, token_id: int) -> tuple[ApiToken, bool]:
    """Revoke an insurer's token at once. Returns (token, whether it was still live); revoking twice is
    harmless and changes nothing."""
    token = insurer_token(session, actor, token_id)
    if token.revoked_at is not None:
        return token, False
    token.revoked_at = utcnow()
    session.flush()
    audit.record(
        session, actor, "insurer.token_revoked", "api_token", token.id, user_id=token.user_id,
        payer_id=token.user.payer_id,
    )  # fmt: skip
    return token, True


# --- the insurer's own reads -------------------------------------------------------------------------------


@dataclass(frozen=True)
class CheckPage:
    checks: list[EligibilityCheck]
    total: int
    page: int
    per_page: int

    @property
    def pages(self) -> int:
        return max(1, -(-self.total // self.per_page))


def checks_page(session: Session, actor: User, page: int = 1, per_page: int = CHECKS_PER_PAGE) -> CheckPage:
    """One page of the payer's checks, newest first (as eligibility.recent_checks orders them)."""
    payer_id = _payer_of(actor)
    page = max(1, page)
    where = eligibility.payers_checks(payer_id)
    total = session.scalar(select(func.count()).select_from(EligibilityCheck).where(where)) or 0
    rows = session.scalars(
        select(EligibilityCheck)
        .where(where)
        .options(selectinload(EligibilityCheck.plan))
        .order_by(EligibilityCheck.created_at.desc(), EligibilityCheck.id.desc())
        .offset((page - 1) * per_page)
        .limit(per_page)
    ).all()
    return CheckPage(list(rows), total, page, per_page)


def read_check(session: Session, actor: User, check_id: int) -> EligibilityCheck:
    """One recorded check, for an insurer of the same payer; anyone else gets "not found". Both the read
    and the refusal are audited (the check names a diagnosis code, and may name a member's course)."""
    payer_id = _payer_of(actor)
    row = session.scalar(
        select(EligibilityCheck).where(EligibilityCheck.id == check_id, eligibility.payers_checks(payer_id))
    )
    if row is None:
        audit.record(session, actor, "eligibility.check_denied", "eligibility_check", check_id)
        raise NotFound(CHECK_NOT_FOUND)
    audit.record(session, actor, "eligibility.check_viewed", "eligibility_check", row.id)
    return row


def therapist_by_npi(session: Session, npi: str) -> TherapistProfile | None:
    return session.scalar(select(TherapistProfile).where(TherapistProfile.npi == npi))


def therapist_id_for(session: Session, text: str) -> int | str | None:
    """The therapist a person typed: an id, or a 10-digit NPI looked up among the therapists. Returns the
    id, or the text unchanged when it is neither (so the check's parser names the field), or None if
    empty. Raises ValidationFailed for an NPI nobody here has."""
    text = text.strip()
    if not text:
        return None
    if not text.isdigit():
        return text
    if len(text) == NPI_LENGTH:
        profile = therapist_by_npi(session, text)
        if profile is None:
            raise ValidationFailed.for_field("therapist_id", f"No therapist here has the NPI {text}.")
        return profile.id
    return int(text)


def condition_for(code: str, citation_ids: list[str]) -> evidence.Condition | None:
    """The registry condition a recorded check was about: the one its ICD-10 code names, or for a shared
    code (F41.9), the one whose plan the check cited first."""
    key = evidence.normalize_icd10(code)
    if key is None:
        return None
    found = [c for c in evidence.matches(code) if key in map(evidence.normalize_icd10, c.icd10_codes)]
    if len(found) > 1 and citation_ids:
        cited = [c for c in found if c.plan_citation.id == citation_ids[0]]
        found = cited or found
    return found[0] if found else None
