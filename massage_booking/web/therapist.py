"""The therapist's own pages: edit the practice profile and submit oncology credentials for review.

Each POST parses its form, calls one service, and commits; on a validation error it rolls back and shows
the same page with the messages beside the fields and a 422, so nothing is half-saved.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from flask import flash, redirect, render_template, url_for
from flask_login import current_user

from massage_booking.domain.errors import ValidationFailed
from massage_booking.extensions import db, geocoder
from massage_booking.models import InsurancePlan, Role, TherapistProfile
from massage_booking.services import therapists
from massage_booking.transactions import atomic
from massage_booking.web import bp
from massage_booking.web.forms import CredentialForm, ProfileForm, apply_errors
from massage_booking.web.session_auth import roles_required


def _render(
    profile: TherapistProfile | None,
    plans: list[InsurancePlan],
    profile_form: ProfileForm,
    credential_form: CredentialForm,
    status: int = 200,
) -> Any:
    profile_form.set_plans(plans)
    return (
        render_template(
            "web/my_profile.html",
            profile=profile,
            plans=plans,
            form=profile_form,
            credential_form=credential_form,
            today=date.today(),
        ),
        status,
    )


@bp.route("/me/profile", methods=["GET", "POST"])
@roles_required(Role.THERAPIST)
def my_profile() -> Any:
    """Show and save the therapist's profile: practice details, license, networks and location."""
    profile = therapists.profile_of(db.session, current_user)
    plans = therapists.all_plans(db.session)
    form = ProfileForm()  # reads the POSTed fields; on a GET it is replaced by the stored profile below
    if not form.is_submitted():
        return _render(profile, plans, ProfileForm.from_profile(profile), CredentialForm(formdata=None))
    form.set_plans(plans)
    if not form.validate():  # CSRF, and values that cannot be parsed (a date like 2027-02-30)
        return _render(profile, plans, form, CredentialForm(formdata=None), 422)
    created = profile is None
    try:
        with atomic():
            therapists.save_profile(
                db.session, current_user, form.to_input(), date.today(), geocoder=geocoder()
            )
    except ValidationFailed as exc:
        apply_errors(form, exc)
        profile = therapists.profile_of(db.session, current_user)  # as stored: the rollback expired it
        return _render(profile, plans, form, CredentialForm(formdata=None), 422)
    if created:
        flash("Your profile is saved. Patients can now find you in the directory.", "success")
    else:
        flash("Your profile is saved.", "success")
    return redirect(url_for("web.my_profile"))


@bp.post("/me/credentials")
@roles_required(Role.THERAPIST)
def submit_credential() -> Any:
    """Add an oncology credential; it stays pending (no badge) until an administrator verifies it."""
    credential_form = CredentialForm()
    if credential_form.validate():
        try:
            with atomic():
                therapists.submit_credential(
                    db.session, current_user, credential_form.to_input(), date.today()
                )
        except ValidationFailed as exc:
            apply_errors(credential_form, exc)
        else:
            flash(
                "Thank you. Your credential is pending: an administrator will check it before the oncology "
                "badge appears on your public page.",
                "success",
            )
            return redirect(url_for("web.my_profile"))  # the top of the page, where the message shows
    profile = therapists.profile_of(db.session, current_user)
    plans = therapists.all_plans(db.session)
    return _render(profile, plans, ProfileForm.from_profile(profile), credential_form, 422)
