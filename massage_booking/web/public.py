"""Pages anyone can read: the home page and a therapist's public profile (the search page is search.py)."""

from __future__ import annotations

from datetime import date
from typing import Any

from flask import abort, render_template

from massage_booking.domain.errors import NotFound
from massage_booking.extensions import db
from massage_booking.services import directory, therapists
from massage_booking.web import bp
from massage_booking.web.forms import SearchForm


@bp.get("/")
def home() -> Any:
    """What the product is for, where to search, and a few therapists whose oncology training is verified."""
    featured = directory.featured(db.session, date.today())
    return render_template("web/home.html", form=SearchForm(), featured=featured, today=date.today())


@bp.get("/therapists/<int:therapist_id>")
def therapist_profile(therapist_id: int) -> Any:
    """A therapist's public page; an unknown id gets the 404 page with the service's message."""
    try:
        profile = therapists.get_profile(db.session, therapist_id)
    except NotFound as exc:
        abort(404, description=exc.message)
    return render_template("web/profile.html", profile=profile, today=date.today())
