"""Availability over the API: a therapist's own rules, time off and appointments; anyone's free slots.

GET  /api/v1/therapists/{id}/slots?from=&to=&minutes=   anyone
GET  /api/v1/me/availability                            therapist
PUT  /api/v1/me/availability                            therapist
POST /api/v1/me/time-off                                therapist (201; warns about bookings inside)
DELETE /api/v1/me/time-off/{id}                         therapist (204)
GET  /api/v1/me/appointments?from=&to=                  therapist
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from flask import request

from massage_booking.api import bp
from massage_booking.api.support import json_object, token_required
from massage_booking.extensions import db
from massage_booking.models import Appointment, Role, TimeOff, User
from massage_booking.services import availability, therapists
from massage_booking.services.availability import Availability, Slot

WEEKDAY_NAMES = availability.WEEKDAYS


def _now() -> datetime:
    return datetime.now(UTC)


def availability_json(found: Availability) -> dict[str, Any]:
    settings = found.settings
    zone = ZoneInfo(found.time_zone)
    return {
        "therapist_id": found.profile.id,
        "time_zone": found.time_zone,
        "locations": [
            {
                "id": loc.id,
                "label": loc.label,
                "city": loc.city,
                "state": loc.state,
                "time_zone": loc.time_zone,
            }
            for loc in found.profile.locations
        ],
        "settings": {
            "buffer_before_minutes": settings.buffer_before_minutes,
            "buffer_after_minutes": settings.buffer_after_minutes,
            "min_notice_hours": settings.min_notice_hours,
            "horizon_days": settings.horizon_days,
            "slot_step_minutes": settings.slot_step_minutes,
            "session_lengths": list(settings.session_lengths),
            "works_public_holidays": settings.works_public_holidays,
        },
        "weekly_hours": [
            {
                "id": w.id,
                "location_id": w.location_id,
                "weekday": WEEKDAY_NAMES[w.weekday],
                "start": f"{w.starts_at:%H:%M}",
                "end": f"{w.ends_at:%H:%M}",
            }
            for w in found.weekly
        ],
        "extra_hours": [
            {
                "id": e.id,
                "location_id": e.location_id,
                "date": e.day.isoformat(),
                "start": f"{e.starts_at:%H:%M}",
                "end": f"{e.ends_at:%H:%M}",
            }
            for e in found.extra
        ],
        "time_off": [time_off_json(t, zone) for t in found.time_off],
        "next_available": _iso(settings.next_available_at, zone),
    }


def time_off_json(entry: TimeOff, zone: ZoneInfo) -> dict[str, Any]:
    return {
        "id": entry.id,
        "start": entry.starts_at.astimezone(zone).isoformat(),
        "end": entry.ends_at.astimezone(zone).isoformat(),
        "reason": entry.reason,
    }


def appointment_json(appointment: Appointment) -> dict[str, Any]:
    """An appointment as its therapist sees it: who, when, where and its state (no health details)."""
    zone = ZoneInfo(appointment.location.time_zone)
    return {
        "id": appointment.id,
        "start": appointment.starts_at.astimezone(zone).isoformat(),
        "end": appointment.ends_at.astimezone(zone).isoformat(),
        "minutes": appointment.minutes,
        "status": appointment.status.value,
        "location_id": appointment.location_id,
        "patient": {"id": appointment.patient_id, "name": appointment.patient.display_name},
    }


def _iso(moment: datetime | None, zone: ZoneInfo) -> str | None:
    return moment.astimezone(zone).isoformat() if moment else None


def _slot_json(slot: Slot) -> dict[str, Any]:
    return {"start": slot.start.isoformat(), "end": slot.end.isoformat(), "location_id": slot.location_id}


@bp.get("/therapists/<int:therapist_id>/slots")
def therapist_slots(therapist_id: int) -> Any:
    """Free start times, ISO 8601 with the practice's offset, for one session length."""
    now = _now()
    profile = therapists.get_profile(db.session, therapist_id)
    zone = profile.locations[0].time_zone if profile.locations else "UTC"
    settings = availability.settings_for(db.session, therapist_id)
    wanted = availability.parse_slot_request(request.args, settings, zone, now)
    slots = availability.free_slots(db.session, therapist_id, wanted.start, wanted.end, wanted.minutes, now)
    tz = ZoneInfo(zone)
    return {
        "therapist_id": therapist_id,
        "time_zone": zone,
        "minutes": wanted.minutes,
        "session_lengths": list(settings.session_lengths),
        "from": wanted.start.astimezone(tz).isoformat(),
        "to": wanted.end.astimezone(tz).isoformat(),
        "slots": [_slot_json(slot) for slot in slots],
    }


@bp.get("/me/availability")
@token_required(Role.THERAPIST)
def my_availability(user: User) -> Any:
    return availability_json(availability.availability_of(db.session, user, _now()))


@bp.put("/me/availability")
@token_required(Role.THERAPIST)
def replace_my_availability(user: User) -> Any:
    found = availability.update_availability(db.session, user, json_object(), _now())
    db.session.commit()
    return availability_json(found)


@bp.post("/me/time-off")
@token_required(Role.THERAPIST)
def add_my_time_off(user: User) -> Any:
    result = availability.add_time_off(db.session, user, json_object(), _now())
    db.session.commit()
    zone = ZoneInfo(availability.own_profile(db.session, user).locations[0].time_zone)
    body: dict[str, Any] = {
        "time_off": time_off_json(result.time_off, zone),
        "conflicting_appointments": [appointment_json(a) for a in result.conflicts],
    }
    if result.conflicts:
        body["warning"] = (
            f"{len(result.conflicts)} booked session(s) fall in this time off. They are still booked: "
            "move or cancel them with your patients."
        )
    return body, 201


@bp.delete("/me/time-off/<int:time_off_id>")
@token_required(Role.THERAPIST)
def remove_my_time_off(time_off_id: int, user: User) -> Any:
    availability.remove_time_off(db.session, user, time_off_id, _now())
    db.session.commit()
    return "", 204


@bp.get("/me/appointments")
@token_required(Role.THERAPIST)
def my_appointments(user: User) -> Any:
    """Appointments in a window (default: the next 30 days), at most 92 days at a time."""
    now = _now()
    profile = availability.own_profile(db.session, user)
    zone = profile.locations[0].time_zone
    window = availability.parse_window(
        request.args, zone, now, default=timedelta(days=30), limit=timedelta(days=92)
    )
    found = availability.my_appointments(db.session, user, window[0], window[1])
    db.session.commit()  # the audit record of this read
    tz = ZoneInfo(zone)
    return {
        "from": window[0].astimezone(tz).isoformat(),
        "to": window[1].astimezone(tz).isoformat(),
        "appointments": [appointment_json(a) for a in found],
    }
