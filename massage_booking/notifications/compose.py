"""Rendering messages: plain text and HTML from templates/email/<kind>_<role>.{txt,html}, with an .ics.

What a message may say is what an appointment card says: when, where, with whom, which session of how many,
amounts, and links to the site. Never the condition, precautions, intake answers or session notes: an e-mail
is copied to phones, shared inboxes and backups we do not control. The therapist reads the precautions on
the session page (/me/sessions/<id>) after logging in; the patient reads their course at /care/courses/<id>.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape

from massage_booking.calendars import address, course_calendar
from massage_booking.formatting import clock, money
from massage_booking.models import Appointment, Course, CourseRefund, OncologyCredential

TEMPLATE_DIR = Path(__file__).resolve().parents[2] / "templates" / "email"
ICS_TYPE = "text/calendar"

_env = Environment(
    loader=FileSystemLoader(TEMPLATE_DIR),
    autoescape=select_autoescape(enabled_extensions=("html",), default_for_string=False),
    undefined=StrictUndefined,
    trim_blocks=True,
    lstrip_blocks=True,
)


@dataclass(frozen=True)
class Attachment:
    filename: str
    content_type: str
    content: bytes


@dataclass(frozen=True)
class Email:
    """One message to one recipient, ready for the outbox."""

    kind: str
    dedupe_key: str
    recipient: str
    subject: str
    text: str
    html: str
    attachments: tuple[Attachment, ...] = ()
    headers: Mapping[str, str] = field(default_factory=dict)
    # The session a reminder is about (checked again by the sender before it goes out).
    appointment_id: int | None = None


def when(instant: datetime, zone: str) -> str:
    """ "Mon 7 Dec 2026, 10:00 AM EST (UTC-05:00)": the practice's clock as the pages show it, with the
    offset for a reader whose own clock (phone, travel) is elsewhere."""
    local = instant.astimezone(ZoneInfo(zone))
    offset = local.strftime("%z")
    return f"{local:%a} {local.day} {local:%b %Y}, {clock(local)} (UTC{offset[:3]}:{offset[3:]})"


def _short_when(instant: datetime, zone: str) -> str:
    """ "Mon 7 Dec, 10:00 AM EST": short enough for a subject line (the body has the offset and year)."""
    local = instant.astimezone(ZoneInfo(zone))
    return f"{local:%a} {local.day} {local:%b}, {clock(local)}"


def _email(kind: str, role: str, context: dict[str, Any], **fields: Any) -> Email:
    """The message of `kind` to `role`, its text and HTML rendered from templates/email/<kind>_<role>."""
    text, html = (_env.get_template(f"{kind}_{role}.{ext}").render(**context) for ext in ("txt", "html"))
    return Email(kind=kind, text=text, html=html, **fields)


def _place(course: Course) -> str:
    return address(course.location)


def _sessions(course: Course, appointments: Sequence[Appointment], base_url: str) -> list[dict[str, Any]]:
    zone = course.location.time_zone
    return [
        {
            "number": a.session_number,
            "when": when(a.starts_at, zone),
            "minutes": int((a.ends_at - a.starts_at).total_seconds() // 60),
            "therapist_url": f"{base_url}/me/sessions/{a.id}",
        }
        for a in appointments
    ]


def _common(course: Course, base_url: str) -> dict[str, Any]:
    return {
        "patient_name": course.patient.display_name,
        "therapist_name": course.therapist.name,
        "place": _place(course),
        "total_sessions": course.total_sessions,
        "course_url": f"{base_url}/care/courses/{course.id}",
        "sessions_url": f"{base_url}/me/sessions",
        "site_url": base_url,
    }


def course_booked(
    course: Course, appointments: Sequence[Appointment], now: datetime, base_url: str
) -> list[Email]:
    """ "Your course is booked" to the patient and "new booking" to the therapist, each with the .ics."""
    context = {
        **_common(course, base_url),
        "sessions": _sessions(course, appointments, base_url),
        "price": money(course.price_cents, course.currency),
        "paid": money(course.paid_cents, course.currency) if course.paid_cents else None,
        "pay_at_visit": course.paid_cents == 0,
    }
    patient_ics = course_calendar(course, list(appointments), now, context["course_url"])
    therapist_ics = course_calendar(course, list(appointments), now, None)
    first = context["sessions"][0]["when"] if appointments else ""
    return [
        _email(
            "course_booked",
            role,
            context,
            dedupe_key=f"course-{course.id}-booked-{role}",
            recipient=recipient,
            subject=subject,
            attachments=(Attachment(f"course-{course.id}.ics", ICS_TYPE, ics),),
        )
        for role, recipient, subject, ics in (
            (
                "patient",
                course.patient.email,
                f"Booked: {len(appointments)} massage sessions with {course.therapist.name}",
                patient_ics,
            ),
            (
                "therapist",
                course.therapist.user.email,
                f"New booking: {len(appointments)} sessions with {course.patient.display_name} from {first}",
                therapist_ics,
            ),
        )
    ]


def sessions_cancelled(
    course: Course, appointments: Sequence[Appointment], refund: CourseRefund | None, base_url: str
) -> list[Email]:
    """Some sessions of a booked course were cancelled: to the patient (with the refund) and the therapist.
    A session is cancelled once, so the lowest id of the batch names this event."""
    ordered = sorted(appointments, key=lambda a: a.session_number)
    context = {
        **_common(course, base_url),
        "sessions": _sessions(course, ordered, base_url),
        "count": len(ordered),
        "refund": money(refund.amount_cents, course.currency) if refund is not None else None,
        "course_cancelled": course.status.value == "cancelled",
    }
    first_id = min(a.id for a in ordered)
    plural = "s" if len(ordered) != 1 else ""
    return [
        _email(
            "sessions_cancelled",
            role,
            context,
            dedupe_key=f"appointment-{first_id}-cancelled-{role}",
            recipient=recipient,
            subject=f"Cancelled: {len(ordered)} session{plural} with {who}",
        )
        for role, recipient, who in (
            ("patient", course.patient.email, course.therapist.name),
            ("therapist", course.therapist.user.email, course.patient.display_name),
        )
    ]


def session_rescheduled(
    course: Course, appointment: Appointment, old_start: datetime, now: datetime, base_url: str
) -> list[Email]:
    """One session moved: to the patient and the therapist. A session can move many times, so the key
    carries the moment of this move as well."""
    zone = course.location.time_zone
    [session_row] = _sessions(course, [appointment], base_url)
    context = {
        **_common(course, base_url),
        "session": session_row,
        "old_when": when(old_start, zone),
        "new_when": session_row["when"],
    }
    stamp = f"{now.timestamp():.6f}"
    return [
        _email(
            "session_rescheduled",
            role,
            context,
            dedupe_key=f"appointment-{appointment.id}-moved-{stamp}-{role}",
            recipient=recipient,
            subject=f"Moved: session {appointment.session_number} with {who} is now {session_row['when']}",
        )
        for role, recipient, who in (
            ("patient", course.patient.email, course.therapist.name),
            ("therapist", course.therapist.user.email, course.patient.display_name),
        )
    ]


def reminder_key(appointment: Appointment) -> str:
    """One reminder per session per start time: a moved session gets a new one for its new time, and the
    sender drops a queued reminder whose key no longer matches the session (moved, or not booked)."""
    return f"appointment-{appointment.id}-reminder-{int(appointment.starts_at.timestamp())}"


def reminder(
    course: Course, appointment: Appointment, now: datetime, base_url: str, unsubscribe_url: str
) -> Email:
    """ "Your session is tomorrow" to the patient, with the session's .ics (one event) and an unsubscribe
    link (and the List-Unsubscribe headers of RFC 2369 and RFC 8058, for a one-click unsubscribe)."""
    zone = course.location.time_zone
    [session_row] = _sessions(course, [appointment], base_url)
    context = {
        **_common(course, base_url),
        "session": session_row,
        "unsubscribe_url": unsubscribe_url,
        "settings_url": f"{base_url}/care/notifications",
    }
    ics = course_calendar(course, [appointment], now, context["course_url"])
    return _email(
        "reminder",
        "patient",
        context,
        dedupe_key=reminder_key(appointment),
        recipient=course.patient.email,
        subject=f"Reminder: massage with {course.therapist.name}, {_short_when(appointment.starts_at, zone)}",
        attachments=(Attachment(f"session-{appointment.id}.ics", ICS_TYPE, ics),),
        headers={
            "List-Unsubscribe": f"<{unsubscribe_url}>",
            "List-Unsubscribe-Post": "List-Unsubscribe=One-Click",
        },
        appointment_id=appointment.id,
    )


def credential_reviewed(credential: OncologyCredential, base_url: str) -> Email:
    """An admin verified or rejected a therapist's oncology credential: to the therapist, with the reason
    for a rejection (the admin's note about the training, never anything about a patient)."""
    therapist = credential.therapist
    verdict = credential.status.value  # "verified" or "rejected"
    context = {
        "therapist_name": therapist.name,
        "issuer": credential.issuer,
        "hours": credential.training_hours,
        "note": credential.review_note,
        "profile_url": f"{base_url}/me/profile",
        "site_url": base_url,
    }
    subject = (
        "Your oncology training is verified"
        if verdict == "verified"
        else "Your oncology training could not be verified"
    )
    return _email(
        f"credential_{verdict}",
        "therapist",
        context,
        dedupe_key=f"credential-{credential.id}-{verdict}",
        recipient=therapist.user.email,
        subject=subject,
    )


def payment_failed(course: Course, failure: str, now: datetime, base_url: str) -> Email:
    """The card was declined while the course waits for payment: to the patient, with how long the times
    stay held and the payment page. `failure` names the failed attempt (its PaymentIntent), so the
    decline the pay request saw and Stripe's webhook for it queue one message."""
    zone = course.location.time_zone
    held = course.holds_until(now)
    context = {
        **_common(course, base_url),
        "held_until": when(held, zone) if held is not None else None,
        "price": money(course.price_cents, course.currency),
        "pay_url": f"{base_url}/care/courses/{course.id}/pay",
    }
    return _email(
        "payment_failed",
        "patient",
        context,
        dedupe_key=f"course-{course.id}-payment-failed-{failure}"[:200],
        recipient=course.patient.email,
        subject=f"Card declined: your sessions with {course.therapist.name} are not paid yet",
    )


# Why a whole payment was given back, in the patient's words (ChargeOutcome values other than "paid").
REFUND_REASONS = {
    "duplicate": "this course was already paid, so the second payment was not needed.",
    "late": "the payment arrived after the course was cancelled or its held times were released.",
    "mismatch": (
        "the payment did not match the price of the course, so it could not be accepted. "
        "If the course is still waiting for payment, please pay again from the course page."
    ),
}


def payment_refunded(
    course: Course, payment_intent_id: str, amount_cents: int, currency: str, why: str, base_url: str
) -> Email:
    """A whole payment was refunded because the course could not keep it: to the patient, saying why.
    One per PaymentIntent, however often its success is reported."""
    context = {
        **_common(course, base_url),
        "amount": money(amount_cents, currency),
        "why": REFUND_REASONS[why],
    }
    return _email(
        "payment_refunded",
        "patient",
        context,
        dedupe_key=f"course-{course.id}-payment-refunded-{payment_intent_id}"[:200],
        recipient=course.patient.email,
        subject=f"Refund of {money(amount_cents, currency)} for your sessions with {course.therapist.name}",
    )
