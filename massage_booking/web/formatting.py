"""Template filters and the navigation context shared by every page.

How money, dates and times read is massage_booking/formatting.py, shared with the e-mails; here it is
registered as filters on the blueprint for the whole app, so error pages rendered outside it work too.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date

from flask_login import current_user
from sqlalchemy.exc import SQLAlchemyError

from massage_booking import formatting
from massage_booking.extensions import db
from massage_booking.models import CredentialKind, CredentialStatus, OncologyCredential, Role
from massage_booking.services import directory
from massage_booking.web import bp
from massage_booking.web.forms import CREDENTIAL_KIND_LABELS

# The shared formatting (massage_booking/formatting.py), as template filters.
for _name, _filter in {
    "money": formatting.money,
    "long_date": formatting.long_date,
    "utc_datetime": formatting.utc_datetime,
    "time_zone": formatting.time_zone_label,
    "local_moment": formatting.local_moment,
}.items():
    bp.add_app_template_filter(_filter, _name)


@bp.app_template_filter("credential_kind")
def credential_kind(kind: CredentialKind | str) -> str:
    try:
        return CREDENTIAL_KIND_LABELS[CredentialKind(kind)]
    except ValueError:
        return str(kind)


def credential_state(credential: OncologyCredential, today: date) -> str:
    """pending, verified, rejected or expired: what the therapist needs to know about a credential."""
    if credential.status is CredentialStatus.VERIFIED and not credential.is_active_on(today):
        return "expired"
    return credential.status.value


@bp.app_context_processor
def _navigation() -> dict[str, Callable[..., object]]:
    """`nav_public_profile_id()` for the therapist's "Public page" link, queried only when a page asks."""

    def nav_public_profile_id() -> int | None:
        if not current_user.is_authenticated or current_user.role is not Role.THERAPIST:
            return None
        try:
            return directory.public_profile_id(db.session, current_user.id)
        except SQLAlchemyError:  # an error page must still render when the database is the problem
            db.session.rollback()
            return None

    def state_of(credential: OncologyCredential) -> str:
        return credential_state(credential, date.today())

    return {"nav_public_profile_id": nav_public_profile_id, "credential_state": state_of}


COURSE_STATUS_LABELS = {
    "pending_payment": "Waiting for payment",
    "booked": "Booked",
    "cancelled": "Cancelled",
    "completed": "Completed",
    "expired": "Times released (not paid)",
}


@bp.app_template_filter("course_status")
def course_status(value: str) -> str:
    """A course's status as patients read it ("expired" means its held times went back, unpaid)."""
    return COURSE_STATUS_LABELS.get(value, value.replace("_", " ").capitalize())


REFUND_REASON_LABELS = {
    "cancelled": "Cancelled sessions",
    "late_payment": "A payment made after the times were released or the course was cancelled",
    "duplicate": "A second payment for the same course",
    "amount_mismatch": "A payment that did not match the course's price",
}


@bp.app_template_filter("refund_reason")
def refund_reason(value: str) -> str:
    """Why money went back, as the patient and the therapist read it (CourseRefund.reason)."""
    return REFUND_REASON_LABELS.get(value, value.replace("_", " ").capitalize())
