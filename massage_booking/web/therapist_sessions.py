"""The therapist's sessions: the next two weeks day by day with each patient's precautions, one session in
full, and marking it completed or no-show once it has started.

The precautions are the point of the list: a therapist glancing at tomorrow must not miss "no deep
pressure over the spine", so they sit in a highlighted box on every session, not behind a link. Times are
the practice's local clock with the zone's abbreviation, and the zone is named at the top of each page.

Reads are audited by the service; the view commits so the audit record stays, including the record of a
refused read (a NotFound is committed before it leaves the view, since the error handler rolls back).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any, TypeVar
from zoneinfo import ZoneInfo

from flask import flash, redirect, render_template, request, url_for
from flask_login import current_user

from massage_booking.domain.errors import Conflict, NotFound, ValidationFailed
from massage_booking.extensions import db, links, payments
from massage_booking.formatting import clock, clock_range, money
from massage_booking.models import Role, utcnow
from massage_booking.schemas.parse import parse_body
from massage_booking.schemas.sessions import AttendanceRequest
from massage_booking.services import availability, courses, refunds, sessions
from massage_booking.services.sessions import SessionNotBooked, SessionNotStarted, SessionView
from massage_booking.transactions import atomic, keeps_denials
from massage_booking.web import bp
from massage_booking.web.availability import full_day, short_day, zone_note
from massage_booking.web.session_auth import roles_required

F = TypeVar("F", bound=Callable[..., Any])
UPCOMING_DAYS = 14
STATUS_LABELS = {"booked": "Booked", "completed": "Completed", "no_show": "No-show", "cancelled": "Cancelled"}


@dataclass(frozen=True)
class SessionCard:
    """One session as the pages show it, its times already in the practice's local clock."""

    view: SessionView
    day: date
    time: str  # "10:00 AM–11:00 AM EST"
    when: str  # "Tue 2 Dec 2025, 10:00 AM–11:00 AM EST"
    in_progress: bool
    can_mark: bool
    status: str
    status_label: str

    @property
    def id(self) -> int:
        return self.view.id

    @property
    def label(self) -> str:
        """The card's heading for screen readers and link text: time, patient and place in the course."""
        parts = [self.time, self.view.patient_name]
        if self.view.sequence:
            parts.append(self.view.sequence.lower())
        return ", ".join(parts)

    @classmethod
    def of(cls, view: SessionView, zone: ZoneInfo, now: datetime) -> SessionCard:
        start, end = view.starts_at.astimezone(zone), view.ends_at.astimezone(zone)
        span = clock_range(start, end)
        return cls(
            view=view,
            day=start.date(),
            time=span,
            when=f"{full_day(start.date())}, {span}",
            in_progress=view.started(now) and view.ends_at > now,
            can_mark=view.can_mark(now),
            status=view.status.value,
            status_label=STATUS_LABELS.get(view.status.value, view.status.value),
        )


@dataclass(frozen=True)
class SessionDay:
    day: date
    heading: str  # "Today, Tue 2 Dec", "Tomorrow, Wed 3 Dec", "Thu 4 Dec"
    cards: list[SessionCard]


def _day_heading(day: date, today: date) -> str:
    if day == today:
        return f"Today, {short_day(day)}"
    if day == today + timedelta(days=1):
        return f"Tomorrow, {short_day(day)}"
    return short_day(day) if day.year == today.year else full_day(day)


def group_by_day(cards: Sequence[SessionCard], today: date) -> list[SessionDay]:
    days: dict[date, list[SessionCard]] = {}
    for card in cards:
        days.setdefault(card.day, []).append(card)
    return [SessionDay(day, _day_heading(day, today), found) for day, found in sorted(days.items())]


def _practice_zone() -> str:
    return availability.own_profile(db.session, current_user).locations[0].time_zone


@bp.get("/me/sessions")
@roles_required(Role.THERAPIST)
def therapist_sessions() -> Any:
    """The next 14 days of booked sessions, by local day, each with its precautions; above them, any
    session that is over but not yet marked."""
    now = utcnow()
    try:
        zone_name = _practice_zone()
    except NotFound as exc:
        return render_template("web/availability_no_profile.html", message=exc.message)
    zone = ZoneInfo(zone_name)
    today = now.astimezone(zone).date()
    with atomic():  # the audit records of these reads
        upcoming = [
            SessionCard.of(v, zone, now)
            for v in sessions.upcoming_sessions(db.session, current_user, now, UPCOMING_DAYS)
        ]
        awaiting = [
            SessionCard.of(v, zone, now) for v in sessions.awaiting_attendance(db.session, current_user, now)
        ]
    last_day = today + timedelta(days=UPCOMING_DAYS - 1)
    return render_template(
        "web/sessions.html",
        days=group_by_day(upcoming, today),
        count=len(upcoming),
        awaiting=awaiting,
        zone_name=zone_name,
        zone_note=zone_note(zone, now),
        first_day=full_day(today),
        last_day=full_day(last_day),
        window_days=UPCOMING_DAYS,
    )


def _detail_page(appointment_id: int, *, error: str | None = None, status: int = 200) -> Any:
    now = utcnow()
    with atomic():  # the audit records of the reads
        view = sessions.session_detail(db.session, current_user, appointment_id)
        course = courses.get_course(db.session, current_user, view.course_id) if view.course_id else None
        course_refunds = refunds.refunds_of(db.session, course.id) if course else []
    zone = ZoneInfo(view.time_zone)
    card = SessionCard.of(view, zone, now)
    start = view.starts_at.astimezone(zone)
    return (
        render_template(
            "web/session_detail.html",
            card=card,
            detail=view,
            error=error,
            zone_name=view.time_zone,
            zone_note=zone_note(zone, now),
            starts_clock=clock(start),
            week=start.date().isoformat(),
            course=course,
            refunds=course_refunds,
            viewer="therapist",
            can_cancel=view.status == "booked" and view.starts_at > now,
            late=view.starts_at - now < courses.CANCEL_NOTICE,
            session_cents=course.session_charge_cents(view.session_number) if course else 0,
        ),
        status,
    )


@bp.get("/me/sessions/<int:appointment_id>")
@roles_required(Role.THERAPIST)
@keeps_denials
def therapist_session(appointment_id: int) -> Any:
    """One session in full; once it has started, the buttons to mark it completed or no-show."""
    return _detail_page(appointment_id)


@bp.post("/me/sessions/<int:appointment_id>/attendance")
@roles_required(Role.THERAPIST)
@keeps_denials
def mark_session_attendance(appointment_id: int) -> Any:
    """Mark a started session completed or no-show, then back to it with what was recorded. A refusal
    (not started, already marked, an unknown status) shows the same page with the reason and a 422."""
    try:
        with atomic():
            # The same command as POST /api/v1/appointments/{id}/attendance, parsed by the same model.
            attendance = parse_body(AttendanceRequest, {"status": request.form.get("status", "")})
            appointment = sessions.mark_attendance(
                db.session, current_user, appointment_id, attendance, utcnow()
            )
            course_done = appointment.course is not None and appointment.course.status.value == "completed"
    except (SessionNotStarted, SessionNotBooked, ValidationFailed, Conflict) as exc:
        return _detail_page(appointment_id, error=exc.message, status=exc.status)
    who = appointment.patient.display_name
    if appointment.status.value == "completed":
        message = f"Marked completed: the session with {who}."
    else:
        message = f"Marked no-show: {who} did not come to this session."
    if course_done:
        message += " That was the last session, so the course of care is now complete."
    flash(message, "success")
    return redirect(url_for("web.therapist_session", appointment_id=appointment_id))


@bp.post("/me/sessions/<int:appointment_id>/cancel")
@roles_required(Role.THERAPIST)
@keeps_denials
def therapist_cancel_session(appointment_id: int) -> Any:
    """The therapist cancels one upcoming session (confirmed on the session page). A paid session at
    least 24 hours away is refunded; a later one only if they tick "waive the late-cancellation fee"."""
    now = utcnow()
    with atomic():  # the audit record of the read, whether or not the session can be cancelled
        appointment = courses.get_appointment(db.session, current_user, appointment_id, purpose="cancel")
    if appointment.course is None or appointment.status.value != "booked" or appointment.starts_at <= now:
        return _detail_page(
            appointment_id, error="Only an upcoming booked session can be cancelled.", status=422
        )
    with atomic():
        done = courses.cancel_appointments(
            db.session,
            current_user,
            appointment.course,
            [appointment.id],
            now,
            payments(),
            links=links(),
            waive_notice=request.form.get("waive") == "1",
        )
    message = f"Cancelled the session with {appointment.patient.display_name}."
    if done.refund is not None:
        message += (
            f" {money(done.refund.amount_cents, appointment.course.currency)} is refunded to their card."
        )
    flash(message, "success")
    return redirect(url_for("web.therapist_session", appointment_id=appointment_id))
