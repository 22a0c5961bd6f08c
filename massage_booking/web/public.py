"""Pages anyone can read: the home page, the therapist directory and a therapist's public profile."""

from __future__ import annotations

from datetime import date
from typing import Any

from flask import abort, render_template, request

from massage_booking.domain.errors import NotFound, ValidationFailed
from massage_booking.extensions import db
from massage_booking.services import directory, therapists
from massage_booking.web import bp
from massage_booking.web.forms import SearchForm, apply_errors


@bp.get("/")
def home() -> Any:
    """What the product is for, where to search, and a few therapists whose oncology training is verified."""
    featured = directory.featured(db.session, date.today())
    return render_template("web/home.html", form=SearchForm(), featured=featured, today=date.today())


@bp.get("/therapists", endpoint="therapists")
def therapists_index() -> Any:
    """Therapists within 50 miles of `near`, nearest first; without `near`, everyone A to Z.

    The endpoint is "web.therapists"; the function's own name keeps clear of the `therapists` services.
    """
    form = SearchForm(request.args)
    page = request.args.get("page", 1, type=int) or 1
    near = (form.near.data or "").strip()
    if not near:
        results = directory.alphabetical(db.session, page=page)
        return render_template("web/therapists.html", form=form, results=results, today=date.today())
    try:
        origin = directory.resolve_origin(near)
    except ValidationFailed as exc:
        apply_errors(form, exc)
        return render_template("web/therapists.html", form=form, results=None, today=date.today()), 422
    results = directory.nearest(db.session, origin, page=page)
    return render_template("web/therapists.html", form=form, results=results, today=date.today())


@bp.get("/therapists/<int:therapist_id>")
def therapist_profile(therapist_id: int) -> Any:
    """A therapist's public page; an unknown id gets the 404 page with the service's message."""
    try:
        profile = therapists.get_profile(db.session, therapist_id)
    except NotFound as exc:
        abort(404, description=exc.message)
    return render_template("web/profile.html", profile=profile, today=date.today())
