"""Template filters and the navigation context shared by every page.

Money is stored in integer cents and dates as ISO dates; people read "$120" and "March 3, 2027". The
filters are registered on the blueprint for the whole app, so error pages rendered outside it work too.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from flask_login import current_user
from sqlalchemy.exc import SQLAlchemyError

from massage_booking.extensions import db
from massage_booking.models import CredentialKind, CredentialStatus, OncologyCredential, Role
from massage_booking.services import directory
from massage_booking.web import bp
from massage_booking.web.forms import CREDENTIAL_KIND_LABELS


@bp.app_template_filter("money")
def money(cents: int, currency: str = "USD") -> str:
    """$120 or $120.50; other currencies keep their code, since "$" would be wrong for them."""
    whole, rest = divmod(int(cents), 100)
    amount = f"{whole:,}" if rest == 0 else f"{whole:,}.{rest:02d}"
    return f"${amount}" if currency.upper() == "USD" else f"{amount} {currency.upper()}"


@bp.app_template_filter("long_date")
def long_date(day: date | None) -> str:
    return "" if day is None else f"{day:%B} {day.day}, {day.year}"


@bp.app_template_filter("utc_datetime")
def utc_datetime(moment: datetime | None) -> str:
    return "" if moment is None else f"{moment:%B} {moment.day}, {moment.year}, {moment:%H:%M} UTC"


@bp.app_template_filter("time_zone")
def time_zone(name: str, now: datetime | None = None) -> str:
    """ "America/New_York (UTC−05:00 today)": the offset tells a patient elsewhere when sessions are."""
    try:
        zone = ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        return name
    offset = (now or datetime.now(UTC)).astimezone(zone).utcoffset() or timedelta(0)
    minutes = int(offset.total_seconds()) // 60
    sign = "+" if minutes >= 0 else "\u2212"
    hours, mins = divmod(abs(minutes), 60)
    return f"{name} (UTC{sign}{hours:02d}:{mins:02d} today)"


@bp.app_template_filter("local_moment")
def local_moment(moment: datetime | None, zone_name: str) -> str:
    """ "Tue, Dec 2, 9:00 AM EST": the practice's own clock, with its zone's abbreviation, because the
    patient travels to the practice (the abbreviation tells them when their clock differs)."""
    if moment is None:
        return ""
    try:
        local = moment.astimezone(ZoneInfo(zone_name))
    except (ZoneInfoNotFoundError, ValueError):
        local = moment.astimezone(UTC)
    hour, noon = local.hour % 12 or 12, "AM" if local.hour < 12 else "PM"
    return f"{local:%a}, {local:%b} {local.day}, {hour}:{local:%M} {noon} {local:%Z}"


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
