"""Administrators' pages: credential review (the queue, verify or reject with a reason) and insurers
(accounts of a payer, their API tokens shown once, revoking).

Rejecting and revoking take a second step (a page that shows what is affected), so they work without
JavaScript under the strict CSP and a stray click cannot reject someone's training or cut off a payer.
"""

from __future__ import annotations

from typing import Any

from flask import abort, flash, redirect, render_template, request, url_for
from flask_login import current_user
from flask_wtf import FlaskForm
from sqlalchemy import select
from wtforms import PasswordField, SelectChoice, SelectField, StringField

from massage_booking.domain.errors import Conflict, NotFound, ValidationFailed
from massage_booking.extensions import db, links
from massage_booking.models import OncologyCredential, Payer, Role, User, utcnow
from massage_booking.services import insurers, therapists
from massage_booking.transactions import atomic
from massage_booking.web import bp
from massage_booking.web.forms import ReviewForm, apply_errors
from massage_booking.web.session_auth import roles_required

DECISIONS = {"verify": True, "reject": False}


def _pending(credential_id: int) -> OncologyCredential | None:
    return next(
        (c for c in therapists.pending_credentials(db.session, current_user) if c.id == credential_id), None
    )


@bp.get("/admin/credentials")
@roles_required(Role.ADMIN)
def admin_credentials() -> Any:
    """The queue of credentials waiting for review, oldest first."""
    pending = therapists.pending_credentials(db.session, current_user)
    return render_template("web/admin_credentials.html", pending=pending, form=ReviewForm(formdata=None))


@bp.get("/admin/credentials/<int:credential_id>/reject")
@roles_required(Role.ADMIN)
def confirm_reject(credential_id: int) -> Any:
    """Second step of a rejection: show the credential again and ask for the reason."""
    credential = _pending(credential_id)
    if credential is None:
        flash("That credential is no longer waiting for review.", "info")
        return redirect(url_for("web.admin_credentials"))
    form = ReviewForm(formdata=None, decision="reject")
    return render_template("web/confirm_reject.html", credential=credential, form=form)


@bp.post("/admin/credentials/<int:credential_id>/review")
@roles_required(Role.ADMIN)
def review_credential(credential_id: int) -> Any:
    """Verify or reject one pending credential, then go back to the queue."""
    form = ReviewForm()
    if not form.validate() or form.decision.data not in DECISIONS:
        abort(400, description="Choose to verify or to reject the credential.")
    approve = DECISIONS[form.decision.data]
    try:
        with atomic():
            credential = therapists.review_credential(
                db.session,
                current_user,
                credential_id,
                approve=approve,
                links=links(),
                note=form.note.data or "",
            )
            name = credential.therapist.name
    except NotFound as exc:
        abort(404, description=exc.message)
    except ValidationFailed as exc:
        if "note" not in exc.details.get("fields", {}):  # already verified or rejected by someone else
            flash(f"{exc.message} Nothing was changed.", "info")
            return redirect(url_for("web.admin_credentials"))
        apply_errors(form, exc)
        pending = _pending(credential_id)
        if pending is None:
            return redirect(url_for("web.admin_credentials"))
        return render_template("web/confirm_reject.html", credential=pending, form=form), 422
    if approve:
        flash(f"Verified. {name}'s public page now shows this oncology credential.", "success")
    else:
        flash(f"Rejected. {name} will see your note on their profile page.", "success")
    return redirect(url_for("web.admin_credentials"))


# --- insurers: accounts of a payer and their API tokens --------------------------------------------------
#
# Accounts are made here (never self-service) with a payer; tokens are issued per account, and the secret
# is shown once, on the page that answers the POST (sent with Cache-Control: no-store, web/security.py):
# only its digest is stored. Revoking takes a confirmation page, as rejecting a credential does.


class InsurerForm(FlaskForm):
    """A new insurer account of one payer."""

    payer_id = SelectField("Payer", validate_choice=False)
    email = StringField("E-mail address")
    display_name = StringField("Name")
    password = PasswordField("Password")
    confirm = PasswordField("Password again")


class TokenForm(FlaskForm):
    """An API token for one insurer account."""

    name = StringField("Token name")
    days = SelectField(
        "Expires after",
        choices=[SelectChoice(str(d), f"{d} days") for d in insurers.TOKEN_DAY_CHOICES],
        default=str(insurers.DEFAULT_TOKEN_DAYS),
        validate_choice=False,
    )


def _insurer_form(formdata: Any = None, payer: int | None = None) -> InsurerForm:
    form = InsurerForm(formdata=formdata) if formdata is not None else InsurerForm(formdata=None)
    payers = db.session.scalars(select(Payer).order_by(Payer.name)).all()
    form.payer_id.choices = [SelectChoice("", "Choose a payer")] + [
        SelectChoice(str(p.id), f"{p.name} ({p.code})") for p in payers
    ]
    if payer is not None and formdata is None:
        form.payer_id.data = str(payer)
    return form


def _insurers_page(form: InsurerForm, status: int = 200) -> Any:
    overview = insurers.payers_overview(db.session, current_user)
    unassigned = insurers.unassigned_insurers(db.session, current_user)
    page = render_template(
        "web/admin_insurers.html",
        overview=overview,
        unassigned=unassigned,
        form=form,
    )
    return page, status


@bp.get("/admin/insurers")
@roles_required(Role.ADMIN)
def admin_insurers() -> Any:
    """Payers with their insurer accounts and active tokens, and the form to add an account."""
    raw = request.args.get("payer", "")
    return _insurers_page(_insurer_form(payer=int(raw) if raw.isdigit() else None))


@bp.post("/admin/insurers")
@roles_required(Role.ADMIN)
def create_insurer_account() -> Any:
    form = _insurer_form(request.form)
    if not form.validate():  # only the CSRF token can fail here
        abort(400, description="This form expired. Reload the page and try again.")
    payer_raw = form.payer_id.data or ""
    try:
        with atomic():
            user = insurers.create_insurer(
                db.session,
                current_user,
                payer_id=int(payer_raw) if payer_raw.isdigit() else None,
                email=form.email.data,
                display_name=form.display_name.data,
                password=form.password.data or "",
                password_again=form.confirm.data or "",
            )
            email, payer_name = user.email, db.session.get(Payer, user.payer_id).name
    except (ValidationFailed, Conflict) as exc:
        apply_errors(form, exc)
        return _insurers_page(form, exc.status)
    flash(
        f"Created {email}, an insurer account of {payer_name}. Give its holder the password by another "
        "channel than the e-mail address, or issue it an API token below.",
        "success",
    )
    return redirect(url_for("web.admin_insurers") + f"#insurer-{user.id}")


def _insurer_or_404(user_id: int) -> User:
    user = db.session.get(User, user_id)
    if user is None or user.role is not Role.INSURER:
        abort(404, description=insurers.INSURER_NOT_FOUND)
    return user


def _token_form_page(user: User, form: TokenForm, status: int = 200) -> Any:
    payer = db.session.get(Payer, user.payer_id) if user.payer_id is not None else None
    return render_template("web/admin_insurer_token_new.html", account=user, payer=payer, form=form), status


@bp.get("/admin/insurers/<int:user_id>/tokens/new")
@roles_required(Role.ADMIN)
def new_insurer_token(user_id: int) -> Any:
    """Name a new token and choose its expiry."""
    return _token_form_page(_insurer_or_404(user_id), TokenForm(formdata=None))


@bp.post("/admin/insurers/<int:user_id>/tokens")
@roles_required(Role.ADMIN)
def issue_insurer_token(user_id: int) -> Any:
    """Issue the token and show its secret, once."""
    user = _insurer_or_404(user_id)
    form = TokenForm()
    if not form.validate():
        abort(400, description="This form expired. Reload the page and try again.")
    days_raw = form.days.data or ""
    try:
        with atomic():
            issued = insurers.issue_token(
                db.session,
                current_user,
                user.id,
                name=form.name.data,
                days=int(days_raw) if days_raw.isdigit() else None,
            )
            record = issued.record
            shown = {
                "token": issued.token,
                "prefix": record.prefix,
                "name": record.name,
                "expires_at": issued.expires_at,
            }
            payer = db.session.get(Payer, user.payer_id)
    except ValidationFailed as exc:
        apply_errors(form, exc)
        return _token_form_page(user, form, exc.status)
    return render_template("web/admin_insurer_token_issued.html", account=user, payer=payer, issued=shown)


@bp.get("/admin/insurers/tokens/<int:token_id>/revoke")
@roles_required(Role.ADMIN)
def confirm_revoke_token(token_id: int) -> Any:
    """Second step of revoking: show which token, whose, and what stops working."""
    try:
        token = insurers.insurer_token(db.session, current_user, token_id)
    except NotFound as exc:
        abort(404, description=exc.message)
    if token.revoked_at is not None:
        flash("That token is already revoked.", "info")
        return redirect(url_for("web.admin_insurers"))
    return render_template("web/admin_insurer_token_revoke.html", token=token, now=utcnow())


@bp.post("/admin/insurers/tokens/<int:token_id>/revoke")
@roles_required(Role.ADMIN)
def revoke_insurer_token(token_id: int) -> Any:
    form = FlaskForm()
    if not form.validate():
        abort(400, description="This form expired. Reload the page and try again.")
    try:
        with atomic():
            token, changed = insurers.revoke_token(db.session, current_user, token_id)
            label, email = f"{token.name} ({token.prefix}…)", token.user.email
    except NotFound as exc:
        abort(404, description=exc.message)
    if changed:
        flash(f"Revoked {label} of {email}. Requests with it are refused from now on.", "success")
    else:
        flash(f"{label} of {email} was already revoked. Nothing was changed.", "info")
    return redirect(url_for("web.admin_insurers"))
