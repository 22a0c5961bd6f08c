"""Availability over the API: a therapist's own rules, time off and appointments; anyone's free slots.

GET  /api/v1/therapists/{id}/slots?from=&to=&minutes=   anyone
GET  /api/v1/me/availability                            therapist
PUT  /api/v1/me/availability                            therapist
POST /api/v1/me/time-off                                therapist (201; warns about bookings inside)
DELETE /api/v1/me/time-off/{id}                         therapist (204)
GET  /api/v1/me/appointments?from=&to=                  therapist

Validation needs the therapist (their locations, zone and session lengths) and the time: each operation's
`context` loads it, after the token is checked and before the body or query is read.
"""

from __future__ import annotations

from typing import Any
from zoneinfo import ZoneInfo

from flask import request

from massage_booking.api.contract import Reply, operation
from massage_booking.api.support import bearer_user
from massage_booking.extensions import db
from massage_booking.models import Role, User, utcnow
from massage_booking.schemas.availability import (
    AppointmentList,
    AppointmentsQuery,
    Availability,
    AvailabilityUpdate,
    Slot,
    SlotQuery,
    Slots,
    TimeOffAdded,
    TimeOffRequest,
    appointment_of,
    availability_reply,
    time_off_added,
)
from massage_booking.services import availability, slots, therapists

THERAPIST = (Role.THERAPIST.value,)
NO_PRACTICE = "Create your practice first."
INVALID = "A field breaks a rule; `details.fields` names each one."


def _therapist_context() -> dict[str, Any]:
    user = bearer_user()
    assert user is not None  # the operation's roles were checked first
    return availability.therapist_context(db.session, user, utcnow())


def _slot_context() -> dict[str, Any]:
    profile = therapists.get_profile(db.session, (request.view_args or {})["therapist_id"])
    return availability.slot_context(db.session, profile, utcnow())


@operation(
    "GET",
    "/therapists/<int:therapist_id>/slots",
    operation_id="getTherapistSlots",
    tag="Therapists",
    summary="Free start times",
    description="Free starts for one session length, ISO 8601 with the practice's offset. The window "
    "defaults to the next 7 days and may span at most 31; one already over is a 422.",
    path={"therapist_id": "The therapist."},
    query=SlotQuery,
    context=_slot_context,
    responses={200: Reply("The free starts.", Slots), 404: "No therapist has that id.", 422: INVALID},
)
def therapist_slots(therapist_id: int, query: SlotQuery) -> Slots:
    """Free start times, ISO 8601 with the practice's offset, for one session length."""
    profile = therapists.get_profile(db.session, therapist_id)
    zone = slots.zone_of(profile)
    tz = ZoneInfo(zone)
    found = slots.free_slots(db.session, therapist_id, query.start, query.end, query.minutes, utcnow())
    return Slots(
        therapist_id=therapist_id,
        time_zone=zone,
        minutes=query.minutes,
        session_lengths=list(slots.settings_for(db.session, therapist_id).session_lengths),
        from_=query.start.astimezone(tz),
        to=query.end.astimezone(tz),
        slots=[Slot(start=s.start, end=s.end, location_id=s.location_id) for s in found],
    )


@operation(
    "GET",
    "/me/availability",
    operation_id="myAvailability",
    tag="Therapist schedule",
    summary="Your hours and settings",
    description="Weekly hours, extra hours, time off not yet over, and booking settings.",
    roles=THERAPIST,
    responses={200: Reply("Your availability.", Availability), 404: NO_PRACTICE},
)
def my_availability(user: User) -> Availability:
    return availability_reply(availability.availability_of(db.session, user, utcnow()))


@operation(
    "PUT",
    "/me/availability",
    operation_id="updateAvailability",
    tag="Therapist schedule",
    summary="Change your hours and settings",
    description="A key left out keeps its value; a list given replaces the stored list. All or nothing.",
    roles=THERAPIST,
    body=AvailabilityUpdate,
    body_description="What to change.",
    example={"weekly_hours": [{"weekday": "monday", "start": "09:00", "end": "17:00"}]},
    context=_therapist_context,
    responses={200: Reply("Your availability now.", Availability), 404: NO_PRACTICE, 422: INVALID},
)
def replace_my_availability(user: User, body: AvailabilityUpdate) -> Availability:
    found = availability.update_availability(db.session, user, body, utcnow())
    return availability_reply(found)


@operation(
    "POST",
    "/me/time-off",
    operation_id="addTimeOff",
    tag="Therapist schedule",
    summary="Add time off",
    description="Booked sessions inside it are kept and listed with a `warning`: move or cancel them with "
    "your patients.",
    roles=THERAPIST,
    body=TimeOffRequest,
    body_description="When.",
    example={"start_date": "2026-12-24", "end_date": "2026-12-26"},
    context=_therapist_context,
    responses={201: Reply("The time off.", TimeOffAdded), 404: NO_PRACTICE, 422: INVALID},
)
def add_my_time_off(user: User, body: TimeOffRequest) -> TimeOffAdded:
    result = availability.add_time_off(db.session, user, body, utcnow())
    zone = ZoneInfo(availability.own_profile(db.session, user).locations[0].time_zone)
    added = time_off_added(result.time_off, result.conflicts, zone)
    return added


@operation(
    "DELETE",
    "/me/time-off/<int:time_off_id>",
    operation_id="removeTimeOff",
    tag="Therapist schedule",
    summary="Remove time off",
    description="Remove one of your time-off entries.",
    roles=THERAPIST,
    path={"time_off_id": "The time-off entry."},
    responses={204: "Removed.", 404: "You have no time off with that id."},
)
def remove_my_time_off(time_off_id: int, user: User) -> None:
    availability.remove_time_off(db.session, user, time_off_id, utcnow())


@operation(
    "GET",
    "/me/appointments",
    operation_id="myAppointments",
    tag="Therapist schedule",
    summary="Your appointments",
    description="Appointments in a window (default the next 30 days, at most 92 days at a time).",
    roles=THERAPIST,
    query=AppointmentsQuery,
    context=_therapist_context,
    responses={200: Reply("The appointments.", AppointmentList), 404: NO_PRACTICE, 422: INVALID},
)
def my_appointments(user: User, query: AppointmentsQuery) -> AppointmentList:
    tz = ZoneInfo(availability.own_profile(db.session, user).locations[0].time_zone)
    found = availability.my_appointments(db.session, user, query.start, query.end)
    listed = AppointmentList(
        from_=query.start.astimezone(tz),
        to=query.end.astimezone(tz),
        appointments=[appointment_of(a) for a in found],
    )
    return listed
