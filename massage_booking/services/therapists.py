"""Therapist profiles: the public view, the therapist's own edits, and credential review by an admin.

Therapists edit only their own profile; a credential they submit starts as pending and only an admin
can verify or reject it, because patients rely on the oncology badge when choosing someone to treat them.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from geopy.geocoders.base import Geocoder
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, selectinload

from massage_booking.domain.credentials import S4OM_MIN_FOUNDATIONAL_HOURS
from massage_booking.domain.errors import FIX_FIELDS, Forbidden, NotFound, ValidationFailed
from massage_booking.domain.identifiers import US_STATES, is_valid_npi
from massage_booking.domain.vocabulary import LANGUAGES, MODALITIES
from massage_booking.geocoding import Place, locate_street, zip_place
from massage_booking.models import (
    CredentialKind,
    CredentialStatus,
    InsurancePlan,
    NetworkMembership,
    OncologyCredential,
    Payer,
    PracticeLocation,
    Role,
    TherapistLanguage,
    TherapistModality,
    TherapistProfile,
    User,
    utcnow,
)
from massage_booking.notifications import outbox as notify
from massage_booking.notifications.links import Links
from massage_booking.services import audit

NPI_TAKEN = "Another therapist's profile already uses this NPI. Check the number, or contact support."


def _profile_query():  # noqa: ANN202 - a Select of TherapistProfile with what pages show
    return select(TherapistProfile).options(
        selectinload(TherapistProfile.credentials),
        selectinload(TherapistProfile.locations),
        selectinload(TherapistProfile.modalities),
        selectinload(TherapistProfile.languages),
        selectinload(TherapistProfile.networks)
        .selectinload(NetworkMembership.plan)
        .selectinload(InsurancePlan.payer),
    )


def get_profile(session: Session, therapist_id: int) -> TherapistProfile:
    profile = session.scalar(_profile_query().where(TherapistProfile.id == therapist_id))
    if profile is None:
        raise NotFound("No therapist has that id.")
    return profile


def profile_of(session: Session, user: User) -> TherapistProfile | None:
    return session.scalar(_profile_query().where(TherapistProfile.user_id == user.id))


def all_plans(session: Session) -> list[InsurancePlan]:
    return list(
        session.scalars(
            select(InsurancePlan)
            .join(Payer)
            .options(selectinload(InsurancePlan.payer))
            .order_by(Payer.name, InsurancePlan.name)
        )
    )


@dataclass
class ProfileInput:
    """What a therapist types into "Edit my profile"; strings as submitted, checked by `save_profile`."""

    name: str
    bio: str
    license_number: str
    license_state: str
    license_expires_on: date | None
    npi: str
    session_rate_dollars: str
    accepting_new_patients: bool
    modalities: list[str]
    languages: list[str]
    plan_ids: list[int]
    zip_code: str
    address_line1: str = ""
    address_line2: str = ""


@dataclass(frozen=True)
class _CheckedProfile:
    """A profile form's values once every field passed: what is stored, in its stored spelling."""

    name: str
    license_number: str
    license_state: str
    license_expires_on: date
    npi: str
    rate_cents: int
    plan_ids: list[int]
    place: Place


class _Problems:
    """The fields' messages in the order the form shows them (one 422 names every mistake)."""

    def __init__(self) -> None:
        self.fields: dict[str, list[str]] = {}

    def add(self, field: str, message: str) -> None:
        self.fields.setdefault(field, []).append(message)


def _check_identity(session: Session, actor: User, data: ProfileInput, today: date, bad: _Problems) -> None:
    """Name, bio, the state license and the NPI: who the therapist is."""
    name = data.name.strip()
    if not name:
        bad.add("name", "Enter the name patients will see.")
    elif len(name) > 120:
        bad.add("name", "Use at most 120 characters.")
    if len(data.bio) > 4000:
        bad.add("bio", "Use at most 4,000 characters.")
    license_number = data.license_number.strip().upper()
    if not license_number:
        bad.add("license_number", "Enter your state massage license number.")
    elif len(license_number) > 40:
        bad.add("license_number", "Use at most 40 characters.")
    if data.license_state.strip().upper() not in US_STATES:
        bad.add("license_state", "Choose the state that issued your license.")
    if data.license_expires_on is None:
        bad.add("license_expires_on", "Enter the license expiry date.")
    elif data.license_expires_on < today:
        bad.add("license_expires_on", "This license has expired; renew it before taking bookings.")
    npi = data.npi.strip()
    if npi and not is_valid_npi(npi):
        bad.add("npi", "An NPI is 10 digits with a valid check digit; leave it empty if you have none.")
    elif npi and session.scalar(
        select(TherapistProfile.id).where(TherapistProfile.npi == npi, TherapistProfile.user_id != actor.id)
    ):
        bad.add("npi", NPI_TAKEN)


def _check_practice(session: Session, data: ProfileInput, bad: _Problems) -> list[int]:
    """The rate, modalities, languages and plans: what the therapist offers. Returns the plans' ids."""
    if _dollars_to_cents(data.session_rate_dollars) is None:
        bad.add("session_rate", "Enter the rate for a 60-minute session in dollars, like 120 or 120.50.")
    if set(data.modalities) - set(MODALITIES):
        bad.add("modalities", "Choose modalities from the list.")
    if set(data.languages) - set(LANGUAGES):
        bad.add("languages", "Choose languages from the list.")
    if not data.languages:
        bad.add("languages", "Choose at least one language you treat in.")
    found = set(session.scalars(select(InsurancePlan.id).where(InsurancePlan.id.in_(data.plan_ids))))
    if len(found) != len(set(data.plan_ids)):
        bad.add("plan_ids", "One of the chosen plans no longer exists; reload the page.")
    return sorted(found)


def _checked(session: Session, actor: User, data: ProfileInput, today: date) -> _CheckedProfile:
    """The form's values, or ValidationFailed naming every field that is wrong."""
    bad = _Problems()
    _check_identity(session, actor, data, today, bad)
    plan_ids = _check_practice(session, data, bad)
    place = None
    try:
        place = zip_place(data.zip_code)
    except ValidationFailed as exc:
        bad.fields.update(exc.details["fields"])
    rate_cents = _dollars_to_cents(data.session_rate_dollars)
    if bad.fields:
        raise ValidationFailed(FIX_FIELDS, {"fields": bad.fields})
    assert place is not None and rate_cents is not None and data.license_expires_on is not None
    return _CheckedProfile(
        name=data.name.strip(),
        license_number=data.license_number.strip().upper(),
        license_state=data.license_state.strip().upper(),
        license_expires_on=data.license_expires_on,
        npi=data.npi.strip(),
        rate_cents=rate_cents,
        plan_ids=plan_ids,
        place=place,
    )


def _place(location: PracticeLocation, place: Place, data: ProfileInput, street: str) -> None:
    location.address_line1 = street
    location.address_line2 = data.address_line2.strip()[:200]
    assert place.zip_code and place.city and place.state and place.time_zone  # always set for a ZIP
    location.zip_code = place.zip_code
    location.city = place.city
    location.state = place.state
    location.latitude = place.latitude
    location.longitude = place.longitude
    location.time_zone = place.time_zone
    location.geocode_precision = place.precision


def save_profile(
    session: Session, actor: User, data: ProfileInput, today: date, *, geocoder: Geocoder | None
) -> TherapistProfile:
    """Create or update the acting therapist's own profile and primary location, all or nothing.

    The location is the street address's point when the app has an online geocoder (`geocoder`, None
    when offline) and it finds the address near the ZIP; otherwise the ZIP's centroid. Its precision is
    stored so that search and maps can say how exact a pin is.
    """
    if actor.role is not Role.THERAPIST:
        raise Forbidden("Only therapists have a practice profile.")
    checked = _checked(session, actor, data, today)
    # Only a valid form is geocoded online: a form with mistakes must not cost a remote request.
    street = data.address_line1.strip()[:200]
    place = locate_street(session, street, checked.place, geocoder)

    profile = profile_of(session, actor)
    created = profile is None
    if profile is None:
        profile = TherapistProfile(user_id=actor.id)
        session.add(profile)
    profile.name = checked.name
    profile.bio = data.bio.strip()
    if profile.license_number != checked.license_number or profile.license_state != checked.license_state:
        profile.license_verified_at = None  # a new license must be verified again
    profile.license_number = checked.license_number
    profile.license_state = checked.license_state
    profile.license_expires_on = checked.license_expires_on
    profile.npi = checked.npi or None
    profile.session_rate_cents = checked.rate_cents
    profile.accepting_new_patients = data.accepting_new_patients
    profile.modalities = [TherapistModality(modality=m) for m in sorted(set(data.modalities))]
    profile.languages = [TherapistLanguage(language=lang) for lang in sorted(set(data.languages))]
    existing = {m.plan_id: m for m in profile.networks}
    profile.networks = [
        existing.get(pid) or NetworkMembership(plan_id=pid, joined_on=today) for pid in checked.plan_ids
    ]
    location = profile.locations[0] if profile.locations else PracticeLocation()
    _place(location, place, data, street)
    if not profile.locations:
        profile.locations.append(location)
    try:
        with session.begin_nested():  # a concurrent save with the same NPI loses here, cleanly
            session.flush()
    except IntegrityError:
        raise ValidationFailed(FIX_FIELDS, {"fields": {"npi": [NPI_TAKEN]}}) from None
    audit.record(
        session,
        actor,
        "therapist.profile_created" if created else "therapist.profile_updated",
        "therapist",
        profile.id,
    )
    return profile


def _dollars_to_cents(raw: str) -> int | None:
    text = raw.strip().removeprefix("$").replace(",", "")
    whole, _, frac = text.partition(".")
    if not whole.isdigit() or (frac and (not frac.isdigit() or len(frac) > 2)):
        return None
    cents = int(whole) * 100 + int(frac.ljust(2, "0") or 0)
    return cents if 0 < cents <= 100_000 else None


@dataclass
class CredentialInput:
    kind: str
    issuer: str
    training_hours: str
    issued_on: date | None
    expires_on: date | None


def submit_credential(
    session: Session, actor: User, data: CredentialInput, today: date
) -> OncologyCredential:
    """Add an oncology credential to the actor's profile, pending an admin's verification."""
    profile = profile_of(session, actor)
    if profile is None:
        raise ValidationFailed("Save your profile before adding credentials.")
    errors: dict[str, list[str]] = {}
    try:
        kind = CredentialKind(data.kind)
    except ValueError:
        kind = None
        errors["kind"] = ["Choose the kind of training."]
    issuer = data.issuer.strip()
    if not issuer or len(issuer) > 160:
        errors["issuer"] = ["Enter who issued it (at most 160 characters)."]
    hours = int(data.training_hours) if data.training_hours.strip().isdigit() else 0
    if not 0 < hours <= 5000:
        errors["training_hours"] = ["Enter the training hours as a whole number."]
    elif kind is CredentialKind.S4OM_FOUNDATIONAL and hours < S4OM_MIN_FOUNDATIONAL_HOURS:
        errors["training_hours"] = [
            f"An S4OM foundational course is at least {S4OM_MIN_FOUNDATIONAL_HOURS} hours."
        ]
    if data.issued_on is None or data.issued_on > today:
        errors["issued_on"] = ["Enter the date it was issued (not in the future)."]
    if data.expires_on is not None and data.issued_on is not None and data.expires_on < data.issued_on:
        errors["expires_on"] = ["The expiry date must be after the issue date."]
    if errors:
        raise ValidationFailed(FIX_FIELDS, {"fields": errors})
    assert kind is not None and data.issued_on is not None
    credential = OncologyCredential(
        therapist_id=profile.id,
        kind=kind,
        issuer=issuer,
        training_hours=hours,
        issued_on=data.issued_on,
        expires_on=data.expires_on,
        status=CredentialStatus.PENDING,
    )
    session.add(credential)
    session.flush()
    audit.record(session, actor, "credential.submitted", "oncology_credential", credential.id)
    return credential


def pending_credentials(session: Session, actor: User) -> list[OncologyCredential]:
    _require_admin(actor)
    return list(
        session.scalars(
            select(OncologyCredential)
            .where(OncologyCredential.status == CredentialStatus.PENDING)
            .options(selectinload(OncologyCredential.therapist))
            .order_by(OncologyCredential.submitted_at)
        )
    )


def review_credential(
    session: Session, actor: User, credential_id: int, *, approve: bool, links: Links, note: str = ""
) -> OncologyCredential:
    """Verify or reject a pending credential. A rejection must say why, so the therapist can fix it."""
    _require_admin(actor)
    credential = session.get(OncologyCredential, credential_id)
    if credential is None:
        raise NotFound("No credential has that id.")
    if credential.status is not CredentialStatus.PENDING:
        raise ValidationFailed(f"This credential was already {credential.status.value}.")
    note = note.strip()
    if not approve and not note:
        raise ValidationFailed.for_field("note", "Say why the credential is rejected.")
    credential.status = CredentialStatus.VERIFIED if approve else CredentialStatus.REJECTED
    now = utcnow()
    credential.verified_at = now
    credential.verified_by_id = actor.id
    credential.review_note = note[:500] or None
    audit.record(
        session, actor, f"credential.{credential.status.value}", "oncology_credential", credential.id
    )
    session.flush()
    notify.credential_reviewed(session, credential, now, links)
    return credential


def _require_admin(actor: User) -> None:
    if actor.role is not Role.ADMIN:
        raise Forbidden("Only administrators review credentials.")
