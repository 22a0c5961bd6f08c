"""A course as an iCalendar file (RFC 5545): what the course page offers and the booking e-mails attach.

Below both the services and the notifications (each writes it; neither is needed to write it), so the
e-mail composer does not reach up into a use case. The file leaves our hands for good: calendar apps sync
it to phones, share it with family, show it on lock screens. So it holds only what an appointment card
would: when, where, with whom, and which session of how many. No condition, no precautions, no intake
answer; the patient reads those on the site.
"""

from __future__ import annotations

from datetime import UTC, datetime

from icalendar import CLASS, STATUS, TRANSP, Calendar, Event

from massage_booking.models import Appointment, AppointmentStatus, Course, PracticeLocation

UID_DOMAIN = "massagebooking"
PRODID = "-//massage_booking//Course of care//EN"
DESCRIPTION = (
    "Booked through massage_booking. To cancel or move a session, use My care on the site at least "
    "24 hours ahead; later than that, contact your therapist."
)


def address(location: PracticeLocation) -> str:
    """The practice's address as a map app can find it: street lines (when given), city, state, ZIP."""
    street = [part for part in (location.address_line1, location.address_line2) if part]
    parts = [*street, location.city, f"{location.state} {location.zip_code}".strip()]
    return ", ".join(part for part in parts if part)


def _event(course: Course, appointment: Appointment, now: datetime, url: str | None) -> Event:
    """One session. Cancelled ones stay in as STATUS:CANCELLED, so a re-imported file strikes them."""
    cancelled = appointment.status is AppointmentStatus.CANCELLED
    event = Event.new(
        uid=f"appointment-{appointment.id}@{UID_DOMAIN}",
        stamp=now,
        # In UTC even when the rows were just written with the practice's zone (still in this transaction).
        start=appointment.starts_at.astimezone(UTC),
        end=appointment.ends_at.astimezone(UTC),
        last_modified=appointment.updated_at,
        summary=(
            f"Massage session {appointment.session_number} of {course.total_sessions}"
            f" with {course.therapist.name}"
        ),
        location=address(appointment.location),
        description=DESCRIPTION,
        status=STATUS.CANCELLED if cancelled else STATUS.CONFIRMED,
        transparency=TRANSP.TRANSPARENT if cancelled else TRANSP.OPAQUE,
        classification=CLASS.PRIVATE,
    )
    if url:
        event.add("URL", url)
    return event


def course_calendar(course: Course, appointments: list[Appointment], now: datetime, url: str | None) -> bytes:
    """The VCALENDAR of `course` with these sessions, for a reader already allowed to see the course (its
    own page, or the confirmation e-mail sent to its patient and therapist)."""
    calendar = Calendar.new(
        prodid=PRODID,
        uid=f"course-{course.id}@{UID_DOMAIN}",
        name=f"Massage with {course.therapist.name}",
    )
    calendar.add("X-WR-TIMEZONE", course.location.time_zone)
    for appointment in appointments:
        calendar.add_component(_event(course, appointment, now, url))
    return calendar.to_ical()
