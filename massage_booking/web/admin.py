"""Credential review for administrators: the queue, and verify or reject with a reason.

Rejecting takes a second step (a page that asks for the reason and shows what is being rejected), so it
works without JavaScript under the strict CSP and a stray click cannot reject someone's training.
"""

from __future__ import annotations

from typing import Any

from flask import abort, flash, redirect, render_template, url_for
from flask_login import current_user

from massage_booking.domain.errors import NotFound, ValidationFailed
from massage_booking.extensions import db
from massage_booking.models import OncologyCredential, Role
from massage_booking.services import therapists
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
        credential = therapists.review_credential(
            db.session, current_user, credential_id, approve=approve, note=form.note.data or ""
        )
    except NotFound as exc:
        db.session.rollback()
        abort(404, description=exc.message)
    except ValidationFailed as exc:
        db.session.rollback()
        if "note" not in exc.details.get("fields", {}):  # already verified or rejected by someone else
            flash(f"{exc.message} Nothing was changed.", "info")
            return redirect(url_for("web.admin_credentials"))
        apply_errors(form, exc)
        pending = _pending(credential_id)
        if pending is None:
            return redirect(url_for("web.admin_credentials"))
        return render_template("web/confirm_reject.html", credential=pending, form=form), 422
    name = credential.therapist.name
    db.session.commit()
    if approve:
        flash(f"Verified. {name}'s public page now shows this oncology credential.", "success")
    else:
        flash(f"Rejected. {name} will see your note on their profile page.", "success")
    return redirect(url_for("web.admin_credentials"))
