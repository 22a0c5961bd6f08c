"""Forms for the pages. They shape the input and carry the CSRF token; the rules live in the services.

Choice fields do not check their choices (`validate_choice=False`) and dates are optional here: the
service says what is wrong in the product's words ("This license has expired"), and the API gets the
same answers, so the two can never disagree. A form only rejects what cannot be parsed at all.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING

from flask_wtf import FlaskForm
from wtforms import (
    BooleanField,
    DateField,
    HiddenField,
    SelectChoice,
    SelectField,
    SelectMultipleField,
    StringField,
    TextAreaField,
)
from wtforms.validators import Optional

from massage_booking.domain import course_search
from massage_booking.domain.course_fit import WEEKDAY_NAMES
from massage_booking.domain.errors import DomainError
from massage_booking.domain.identifiers import US_STATES
from massage_booking.domain.vocabulary import LANGUAGES, MODALITIES
from massage_booking.formatting import typed_amount
from massage_booking.models import CredentialKind, InsurancePlan, TherapistProfile
from massage_booking.services.therapists import CredentialInput, ProfileInput
from massage_booking.web.course_choice import TIMES_OF_DAY

if TYPE_CHECKING:
    from massage_booking.domain.evidence import Condition

CREDENTIAL_KIND_LABELS: dict[CredentialKind, str] = {
    CredentialKind.S4OM_FOUNDATIONAL: "S4OM-recognized foundational oncology massage course (24+ hours)",
    CredentialKind.HOSPITAL_BASED: "Hospital-based massage therapy training (for example, Mayo Clinic)",
    CredentialKind.ONCOLOGY_CERTIFICATE: "Another supervised oncology massage program",
}


def _text(value: str | None) -> str:
    return value or ""


RADIUS_CHOICES: tuple[int, ...] = (5, 10, 25, 50, 100, 250)
UNIT_LABELS: dict[str, str] = {"mi": "miles", "km": "kilometers"}
# What a shared or hand-written URL may say for "no" (the API accepts the same); the checkbox sends "true".
FALSE_VALUES = (False, "", "false", "False", "FALSE", "0", "off", "no")


class SearchForm(FlaskForm):
    """The search page's form; the home page shows its first field. A GET form: nothing changes on the
    server, so it carries no CSRF token, and the search lives in the URL where it can be shared.

    Field names are the query parameters of GET /api/v1/therapists, so the service parses the page's query
    string exactly as it parses the API's, and its field errors land beside these fields by name. Choices
    for plans and conditions come from the database and the evidence registry (`set_choices`).
    """

    class Meta:
        csrf = False

    near = StringField("Where? ZIP code, City, ST, or latitude,longitude")
    radius = SelectField(
        "Radius",
        choices=[SelectChoice(str(r)) for r in RADIUS_CHOICES],
        default="25",
        validate_choice=False,
    )
    unit = SelectField(
        "Unit",
        choices=[SelectChoice(code, label) for code, label in UNIT_LABELS.items()],
        default="mi",
        validate_choice=False,
    )
    oncology_trained = BooleanField(
        "Only therapists with verified oncology massage training", false_values=FALSE_VALUES
    )
    insurance = SelectField("Insurance plan", validate_choice=False)
    condition = SelectField("Condition", validate_choice=False)
    modality = SelectField(
        "Modality",
        choices=[SelectChoice("", "Any modality")] + [SelectChoice(m) for m in MODALITIES],
        validate_choice=False,
    )
    language = SelectField(
        "Language",
        choices=[SelectChoice("", "Any language")] + [SelectChoice(lang) for lang in LANGUAGES],
        validate_choice=False,
    )
    accepting_new_patients = BooleanField("Only therapists accepting new patients", false_values=FALSE_VALUES)
    available_within_days = SelectField(
        "Free within",
        choices=[SelectChoice("", "Any time")]
        + [SelectChoice(str(days), f"{days} days") for days in (2, 7, 14, 30)],
        validate_choice=False,
    )
    course = SelectField("Course of care", validate_choice=False)
    weekdays = SelectMultipleField(
        "Days you can come",
        choices=[SelectChoice(day, day.capitalize()) for day in WEEKDAY_NAMES],
        validate_choice=False,
    )
    time_of_day = SelectMultipleField(
        "Times you can come",
        choices=[SelectChoice(key, label) for key, (label, _, _) in TIMES_OF_DAY.items()],
        validate_choice=False,
    )
    sort = SelectField(
        "Sort by",
        choices=[SelectChoice("distance", "Nearest first"), SelectChoice("soonest", "Soonest available")],
        default="distance",
        validate_choice=False,
    )

    def set_choices(self, plans: Iterable[InsurancePlan], conditions: Iterable[Condition]) -> None:
        """Plans grouped by payer; conditions related to cancer first, each saying what it implies.

        A cancer-related condition narrows the search to oncology-trained therapists (the service adds
        that filter), so its option says so: otherwise the checkbox above would look ignored.
        """
        self.insurance.choices = [SelectChoice("", "Any plan, or self-pay")] + [
            SelectChoice(str(p.id), p.name, optgroup=p.payer.name) for p in plans
        ]
        conditions = list(conditions)
        cancer = [c for c in conditions if c.cancer_related or c.requires_oncology_trained_therapist]
        other = [c for c in conditions if c not in cancer]
        self.condition.choices = (
            [SelectChoice("", "Any condition")]
            + [
                SelectChoice(
                    c.id, f"{c.name} (oncology-trained therapists only)", optgroup="Related to cancer"
                )
                for c in cancer
            ]
            + [SelectChoice(c.id, c.name, optgroup="Other conditions") for c in other]
        )
        self.course.choices = [SelectChoice("", "No course: show every therapist")] + [
            SelectChoice(c.id, f"{c.name}: {course_search.plan_words(c)}") for c in conditions
        ]
        # A radius typed into the URL (or sent by the API's documentation) stays selected, not replaced
        # by the first option, so the form never shows a different search from the one on the page.
        current = (self.radius.data or "").strip()
        if current and current not in {str(r) for r in RADIUS_CHOICES}:
            try:
                extra = float(current)
            except ValueError:
                extra = None
            if extra is not None and extra in RADIUS_CHOICES:
                self.radius.data = str(int(extra))  # "10.0" is the 10 on the list
            elif extra is not None and extra > 0:
                self.radius.choices = sorted(
                    [*self.radius.choices, SelectChoice(current)], key=lambda c: float(c.value)
                )


class ProfileForm(FlaskForm):
    """ "Edit my profile". Field names match the keys of the service's field errors."""

    name = StringField("Name patients will see")
    bio = TextAreaField("About your practice")
    license_number = StringField("License number")
    license_state = SelectField(
        "License state",
        choices=[SelectChoice("", "Choose a state")]
        + [SelectChoice(code, name) for code, name in US_STATES.items()],
        validate_choice=False,
    )
    license_expires_on = DateField("License expires on", validators=[Optional()])
    npi = StringField("NPI (optional)")
    session_rate = StringField("Rate for a 60-minute session, in US dollars")
    accepting_new_patients = BooleanField("I am accepting new patients", default=True)
    modalities = SelectMultipleField(
        "Modalities you practice", choices=[SelectChoice(m) for m in MODALITIES], validate_choice=False
    )
    languages = SelectMultipleField(
        "Languages you treat in", choices=[SelectChoice(lang) for lang in LANGUAGES], validate_choice=False
    )
    plan_ids = SelectMultipleField(
        "Insurance plans you are in-network for", coerce=int, validate_choice=False
    )
    zip_code = StringField("ZIP code")
    address_line1 = StringField("Street address (optional)")
    address_line2 = StringField("Suite, floor or building (optional)")

    def set_plans(self, plans: Iterable[InsurancePlan]) -> None:
        self.plan_ids.choices = [SelectChoice(p.id, p.full_name) for p in plans]

    @classmethod
    def from_profile(cls, profile: TherapistProfile | None) -> ProfileForm:
        """A form showing the saved profile, or an empty one for a therapist who has none yet."""
        if profile is None:
            return cls(formdata=None)
        location = profile.locations[0] if profile.locations else None
        return cls(
            formdata=None,  # never the request's form: a credential POST must not blank these fields
            data={
                "name": profile.name,
                "bio": profile.bio,
                "license_number": profile.license_number,
                "license_state": profile.license_state,
                "license_expires_on": profile.license_expires_on,
                "npi": profile.npi or "",
                "session_rate": typed_amount(profile.session_rate_cents),
                "accepting_new_patients": profile.accepting_new_patients,
                "modalities": profile.modality_names,
                "languages": profile.language_names,
                "plan_ids": [m.plan_id for m in profile.networks],
                "zip_code": location.zip_code if location else "",
                "address_line1": location.address_line1 if location else "",
                "address_line2": location.address_line2 if location else "",
            },
        )

    def to_input(self) -> ProfileInput:
        return ProfileInput(
            name=_text(self.name.data),
            bio=_text(self.bio.data),
            license_number=_text(self.license_number.data),
            license_state=_text(self.license_state.data),
            license_expires_on=self.license_expires_on.data,
            npi=_text(self.npi.data),
            session_rate_dollars=_text(self.session_rate.data),
            accepting_new_patients=bool(self.accepting_new_patients.data),
            modalities=list(self.modalities.data or []),
            languages=list(self.languages.data or []),
            plan_ids=list(self.plan_ids.data or []),
            zip_code=_text(self.zip_code.data),
            address_line1=_text(self.address_line1.data),
            address_line2=_text(self.address_line2.data),
        )


class CredentialForm(FlaskForm):
    """A new oncology credential, which starts pending until an administrator checks it."""

    kind = SelectField(
        "Kind of training",
        choices=[SelectChoice("", "Choose the kind of training")]
        + [SelectChoice(k.value, label) for k, label in CREDENTIAL_KIND_LABELS.items()],
        validate_choice=False,
    )
    issuer = StringField("Issued by (school, hospital or program)")
    training_hours = StringField("Training hours")
    issued_on = DateField("Issued on", validators=[Optional()])
    expires_on = DateField("Expires on", validators=[Optional()])

    def to_input(self) -> CredentialInput:
        return CredentialInput(
            kind=_text(self.kind.data),
            issuer=_text(self.issuer.data),
            training_hours=_text(self.training_hours.data),
            issued_on=self.issued_on.data,
            expires_on=self.expires_on.data,
        )


class ReviewForm(FlaskForm):
    """An administrator's decision on one pending credential."""

    decision = HiddenField()
    note = TextAreaField("Reason for rejecting (the therapist will see this)")


def apply_errors(form: FlaskForm, exc: DomainError) -> None:
    """Put a service's field errors beside the fields; a message for no field goes in the form banner."""
    fields = exc.details.get("fields", {})
    unplaced = []
    for name, messages in fields.items():
        field = getattr(form, name, None)
        if field is None:
            unplaced.extend(messages)
        else:
            field.errors = [*field.errors, *messages]
    if not fields:
        unplaced.append(exc.message)
    form.form_errors.extend(unplaced)
