"""The printable superbill of a course (services/superbill.py), for its patient and its therapist.

Someone else's course is a 404 whose audit record is committed before the error leaves (`keeps_denials`).
The page is health information with the patient's name on it: never cached, not even by the browser.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from flask import make_response, render_template
from flask_login import current_user

from massage_booking.extensions import db
from massage_booking.models import Role
from massage_booking.services import superbill
from massage_booking.transactions import atomic, keeps_denials
from massage_booking.web import bp
from massage_booking.web.session_auth import roles_required


@bp.get("/courses/<int:course_id>/superbill")
@roles_required(Role.PATIENT, Role.THERAPIST)
@keeps_denials
def course_superbill(course_id: int) -> Any:
    """The course's superbill: provider, patient, diagnosis, the attended sessions as CPT 97124 lines, and
    what was paid and refunded. Printable (static/css/superbill.css)."""
    with atomic():  # the audit records of the read
        bill = superbill.build_superbill(db.session, current_user, course_id, datetime.now(UTC))
    response = make_response(
        render_template(
            "web/superbill.html",
            bill=bill,
            viewer=current_user.role.value,
        )
    )
    response.headers["Cache-Control"] = "private, no-store"
    return response
