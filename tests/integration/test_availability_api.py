"""Availability over the API: a therapist sets hours and time off, and anyone's slots follow at once.

Dates are chosen relative to the real clock (the API measures notice from now), always a Monday at least
a week ahead, and the expected offsets come from zoneinfo, so the tests hold in summer and winter.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import func, select

from massage_booking.models import (
    Appointment,
    AppointmentStatus,
    AuditEvent,
    AvailabilitySettings,
    ExtraHours,
    PracticeLocation,
    TherapistProfile,
    TimeOff,
    WeeklyHours,
)
from massage_booking.services import public_holidays
from tests.factories import practice_therapist

NEW_YORK = ZoneInfo("America/New_York")
WEEKDAYS_9_TO_5 = [
    {"weekday": day, "start": "09:00", "end": "17:00"}
    for day in ("monday", "tuesday", "wednesday", "thursday", "friday")
]


def _monday_ahead(weeks: int = 1) -> date:
    today = datetime.now(NEW_YORK).date()
    return today + timedelta(days=7 * weeks + (7 - today.weekday()) % 7)  # a Monday, 7-13 days on


def _local(day: date, hour: int, minute: int = 0) -> datetime:
    return datetime.combine(day, time(hour, minute), NEW_YORK)


def _make_therapist(auth, db, name: str = "Dana Reyes") -> tuple[TherapistProfile, str]:
    profile, user = practice_therapist(auth, db, name)
    return profile, auth.api_token(user.email)


@pytest.fixture
def therapist(auth, db):
    return _make_therapist(auth, db)


def _bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def _slots(client, therapist_id: int, day: date, **params) -> list[datetime]:
    response = client.get(
        f"/api/v1/therapists/{therapist_id}/slots",
        query_string={"from": day.isoformat(), "to": (day + timedelta(days=1)).isoformat(), **params},
    )
    assert response.status_code == 200, response.get_data(as_text=True)
    return [datetime.fromisoformat(slot["start"]) for slot in response.get_json()["slots"]]


def _put(client, token: str, body) -> object:
    return client.put("/api/v1/me/availability", json=body, headers=_bearer(token))


def test_a_new_therapist_has_default_rules_and_no_hours(client, therapist):
    profile, token = therapist
    body = client.get("/api/v1/me/availability", headers=_bearer(token)).get_json()
    assert body["time_zone"] == "America/New_York"
    assert body["settings"] == {
        "buffer_before_minutes": 0,
        "buffer_after_minutes": 15,
        "min_notice_hours": 24,
        "horizon_days": 90,
        "slot_step_minutes": 15,
        "session_lengths": [60, 90],
        "works_public_holidays": True,
    }
    assert body["weekly_hours"] == [] and body["time_off"] == [] and body["next_available"] is None
    assert _slots(client, profile.id, _monday_ahead()) == []


def test_weekly_hours_give_slots_on_the_grid_in_local_time(client, therapist):
    profile, token = therapist
    response = _put(client, token, {"weekly_hours": WEEKDAYS_9_TO_5, "settings": {"slot_step_minutes": 60}})
    assert response.status_code == 200, response.get_data(as_text=True)
    monday = _monday_ahead()
    slots = _slots(client, profile.id, monday)
    assert slots == [_local(monday, hour) for hour in range(9, 17)]  # 16:00 is the last 60-minute start
    assert all(s.utcoffset() == _local(monday, 9).utcoffset() for s in slots)  # shown with the local offset
    assert _slots(client, profile.id, monday + timedelta(days=5)) == []  # Saturday: no hours
    ninety = _slots(client, profile.id, monday, minutes="90")
    assert ninety[-1] == _local(monday, 15)  # 15:00-16:30 is the last that ends by 17:00


def test_time_off_removes_slots_at_once_and_removing_it_brings_them_back(client, therapist):
    profile, token = therapist
    _put(client, token, {"weekly_hours": WEEKDAYS_9_TO_5})
    tuesday = _monday_ahead() + timedelta(days=1)
    assert _slots(client, profile.id, tuesday)
    added = client.post(
        "/api/v1/me/time-off",
        json={"date": tuesday.isoformat(), "reason": "Conference"},
        headers=_bearer(token),
    )
    assert added.status_code == 201, added.get_data(as_text=True)
    entry = added.get_json()["time_off"]
    assert entry["start"] == _local(tuesday, 0).isoformat()
    assert entry["end"] == _local(tuesday + timedelta(days=1), 0).isoformat()
    assert added.get_json()["conflicting_appointments"] == []
    assert _slots(client, profile.id, tuesday) == []
    assert _slots(client, profile.id, tuesday + timedelta(days=1))  # Wednesday untouched

    removed = client.delete(f"/api/v1/me/time-off/{entry['id']}", headers=_bearer(token))
    assert removed.status_code == 204
    assert _slots(client, profile.id, tuesday)


def test_part_day_time_off_in_local_time(client, therapist):
    profile, token = therapist
    _put(client, token, {"weekly_hours": WEEKDAYS_9_TO_5, "settings": {"slot_step_minutes": 60}})
    monday = _monday_ahead()
    added = client.post(
        "/api/v1/me/time-off",
        json={"start": f"{monday}T12:00", "end": f"{monday}T14:00"},
        headers=_bearer(token),
    )
    assert added.status_code == 201
    hours = [s.hour for s in _slots(client, profile.id, monday)]
    assert hours == [9, 10, 11, 14, 15, 16]


def test_time_off_over_a_booking_warns_and_keeps_the_booking(client, db, auth, therapist):
    profile, token = therapist
    _put(client, token, {"weekly_hours": WEEKDAYS_9_TO_5})
    patient = auth.create_user("patient", display_name="Pat Kim")
    monday = _monday_ahead()
    booking = Appointment(
        therapist_id=profile.id,
        location_id=profile.locations[0].id,
        patient_id=patient.id,
        starts_at=_local(monday, 10),
        ends_at=_local(monday, 11),
    )
    db.add(booking)
    db.commit()
    response = client.post("/api/v1/me/time-off", json={"date": monday.isoformat()}, headers=_bearer(token))
    assert response.status_code == 201
    body = response.get_json()
    assert "still booked" in body["warning"]
    assert [a["id"] for a in body["conflicting_appointments"]] == [booking.id]
    assert body["conflicting_appointments"][0]["patient"]["name"] == "Pat Kim"
    db.expire_all()
    assert db.get(Appointment, booking.id).status is AppointmentStatus.BOOKED


def test_a_booking_blocks_its_time_and_its_buffer(client, db, auth, therapist):
    profile, token = therapist
    _put(client, token, {"weekly_hours": WEEKDAYS_9_TO_5, "settings": {"buffer_after_minutes": 15}})
    patient = auth.create_user("patient")
    monday = _monday_ahead()
    db.add(
        Appointment(
            therapist_id=profile.id,
            location_id=profile.locations[0].id,
            patient_id=patient.id,
            starts_at=_local(monday, 11),
            ends_at=_local(monday, 12),
        )
    )
    db.commit()
    slots = set(_slots(client, profile.id, monday))
    # A 60-minute session plus the 15-minute buffer after it must end by 11:00 ...
    assert _local(monday, 9, 45) in slots and _local(monday, 10) not in slots
    # ... and the next may start once the booking's own buffer is over.
    assert _local(monday, 12) not in slots and _local(monday, 12, 15) in slots


def test_a_cancelled_booking_frees_its_time(client, db, auth, therapist):
    profile, token = therapist
    _put(client, token, {"weekly_hours": WEEKDAYS_9_TO_5})
    patient = auth.create_user("patient")
    monday = _monday_ahead()
    db.add(
        Appointment(
            therapist_id=profile.id,
            location_id=profile.locations[0].id,
            patient_id=patient.id,
            starts_at=_local(monday, 11),
            ends_at=_local(monday, 12),
            status=AppointmentStatus.CANCELLED,
        )
    )
    db.commit()
    assert _local(monday, 11) in _slots(client, profile.id, monday)


def test_notice_and_horizon_bound_the_slots(client, therapist):
    profile, token = therapist
    every_day = [{"weekday": d, "start": "00:00", "end": "23:55"} for d in range(7)]
    _put(client, token, {"weekly_hours": every_day, "settings": {"min_notice_hours": 48, "horizon_days": 3}})
    now = datetime.now(UTC)
    response = client.get(
        f"/api/v1/therapists/{profile.id}/slots", query_string={"to": (now + timedelta(days=6)).isoformat()}
    )
    starts = [datetime.fromisoformat(s["start"]) for s in response.get_json()["slots"]]
    assert starts
    assert min(starts) >= now + timedelta(hours=48)
    assert min(starts) < now + timedelta(hours=48, minutes=15)
    assert max(starts) < now + timedelta(days=3)


def test_bad_availability_is_refused_whole_and_names_the_field(client, therapist, db):
    profile, token = therapist
    assert _put(client, token, {"weekly_hours": WEEKDAYS_9_TO_5}).status_code == 200
    bad = _put(
        client,
        token,
        {
            "weekly_hours": [{"weekday": "monday", "start": "10:00", "end": "09:00"}],
            "settings": {"horizon_days": 0, "session_lengths": [61]},
        },
    )
    assert bad.status_code == 422
    fields = bad.get_json()["error"]["details"]["fields"]
    assert set(fields) == {"weekly_hours[0].end", "settings.horizon_days", "settings.session_lengths"}
    # Nothing changed: the five weekdays are still there, the horizon is still 90.
    body = client.get("/api/v1/me/availability", headers=_bearer(token)).get_json()
    assert len(body["weekly_hours"]) == 5 and body["settings"]["horizon_days"] == 90


@pytest.mark.parametrize(
    ("body", "field"),
    [
        (
            {"weekly_hours": [{"weekday": "funday", "start": "09:00", "end": "10:00"}]},
            "weekly_hours[0].weekday",
        ),
        ({"weekly_hours": [{"weekday": 1, "start": "9am", "end": "10:00"}]}, "weekly_hours[0].start"),
        (
            {"weekly_hours": [{"weekday": 1, "start": "09:00", "end": "10:00", "location_id": 999}]},
            "weekly_hours[0].location_id",
        ),
        (
            {
                "weekly_hours": [
                    {"weekday": 1, "start": "09:00", "end": "12:00"},
                    {"weekday": 1, "start": "11:00", "end": "13:00"},
                ]
            },
            "weekly_hours[1].start",
        ),
        ({"weekly_hours": "all week"}, "weekly_hours"),
        ({"extra_hours": [{"date": "2001-01-01", "start": "09:00", "end": "10:00"}]}, "extra_hours[0].date"),
        ({"settings": {"slot_step_minutes": 7}}, "settings.slot_step_minutes"),
        ({"settings": {"buffer_after_minutes": "15"}}, "settings.buffer_after_minutes"),
        ({"settings": {"colour": "blue"}}, "settings.colour"),
        ({"settings": {"works_public_holidays": "no"}}, "settings.works_public_holidays"),
        ({"holidays": []}, "holidays"),
    ],
)
def test_each_bad_value_is_a_422_naming_it(client, therapist, body, field):
    _, token = therapist
    response = _put(client, token, body)
    assert response.status_code == 422
    assert field in response.get_json()["error"]["details"]["fields"]


def test_malformed_json_and_wrong_roles(client, auth, therapist):
    _, token = therapist
    response = client.put(
        "/api/v1/me/availability", data="{not json", content_type="application/json", headers=_bearer(token)
    )
    assert response.status_code == 400
    assert client.get("/api/v1/me/availability").status_code == 401
    patient = auth.create_user("patient")
    patient_token = auth.api_token(patient.email)
    assert client.get("/api/v1/me/availability", headers=_bearer(patient_token)).status_code == 403
    assert client.post("/api/v1/me/time-off", json={}, headers=_bearer(patient_token)).status_code == 403


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"date": "2001-01-01"}, "end_date"),
        ({"start_date": "2030-01-05", "end_date": "2030-01-01"}, "end_date"),
        ({"start": "2030-01-05T12:00", "end": "2030-01-05T11:00"}, "end"),
        ({"start": "tomorrow", "end": "2030-01-05T11:00"}, "start"),
        ({"date": "2030-01-05", "reason": "x" * 201}, "reason"),
    ],
)
def test_bad_time_off_is_a_422_and_stores_nothing(client, db, therapist, body, field):
    _, token = therapist
    response = client.post("/api/v1/me/time-off", json=body, headers=_bearer(token))
    assert response.status_code == 422
    assert field in response.get_json()["error"]["details"]["fields"]
    assert db.scalar(select(func.count()).select_from(TimeOff)) == 0


def test_another_therapists_time_off_cannot_be_removed(client, db, auth, therapist):
    _, token = therapist
    other, other_token = _make_therapist(auth, db, "Other Therapist")
    added = client.post("/api/v1/me/time-off", json={"date": "2030-01-07"}, headers=_bearer(other_token))
    entry_id = added.get_json()["time_off"]["id"]
    assert client.delete(f"/api/v1/me/time-off/{entry_id}", headers=_bearer(token)).status_code == 404
    assert client.delete("/api/v1/me/time-off/999999", headers=_bearer(token)).status_code == 404
    assert db.get(TimeOff, entry_id) is not None


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"minutes": "45"}, "minutes"),
        ({"minutes": "sixty"}, "minutes"),
        ({"from": "2030-01-01", "to": "2030-03-01"}, "to"),
        ({"from": "2030-01-05", "to": "2030-01-01"}, "to"),
        ({"from": "2001-01-01", "to": "2001-01-05"}, "to"),
        ({"from": "soon"}, "from"),
    ],
)
def test_bad_slot_requests_are_422(client, therapist, params, field):
    profile, _ = therapist
    response = client.get(f"/api/v1/therapists/{profile.id}/slots", query_string=params)
    assert response.status_code == 422
    assert field in response.get_json()["error"]["details"]["fields"]


def test_slots_of_an_unknown_therapist_are_404(client):
    assert client.get("/api/v1/therapists/424242/slots").status_code == 404


def test_my_appointments_in_local_time_and_audited(client, db, auth, therapist):
    profile, token = therapist
    patient = auth.create_user("patient", display_name="Pat Kim")
    monday = _monday_ahead()
    db.add(
        Appointment(
            therapist_id=profile.id,
            location_id=profile.locations[0].id,
            patient_id=patient.id,
            starts_at=_local(monday, 10).astimezone(UTC),
            ends_at=_local(monday, 11).astimezone(UTC),
        )
    )
    db.commit()
    response = client.get(
        "/api/v1/me/appointments",
        query_string={"from": monday.isoformat(), "to": (monday + timedelta(days=1)).isoformat()},
        headers=_bearer(token),
    )
    assert response.status_code == 200
    [item] = response.get_json()["appointments"]
    assert item["start"] == _local(monday, 10).isoformat()
    assert item["minutes"] == 60 and item["status"] == "booked" and item["patient"]["name"] == "Pat Kim"
    audited = db.scalars(select(AuditEvent).where(AuditEvent.action == "appointments.listed")).all()
    assert len(audited) == 1 and "Pat" not in str(audited[0].details)
    too_long = client.get(
        "/api/v1/me/appointments",
        query_string={"from": "2030-01-01", "to": "2030-12-31"},
        headers=_bearer(token),
    )
    assert too_long.status_code == 422


def test_replacing_hours_replaces_them(client, db, therapist):
    profile, token = therapist
    _put(client, token, {"weekly_hours": WEEKDAYS_9_TO_5})
    _put(client, token, {"weekly_hours": [{"weekday": "saturday", "start": "10:00", "end": "14:00"}]})
    rows = db.scalars(select(WeeklyHours)).all()
    assert [(r.weekday, r.starts_at, r.ends_at) for r in rows] == [(5, time(10), time(14))]
    monday = _monday_ahead()
    assert _slots(client, profile.id, monday) == []
    assert _slots(client, profile.id, monday + timedelta(days=5))


def test_extra_hours_open_a_day_without_weekly_hours(client, therapist):
    profile, token = therapist
    sunday = _monday_ahead() + timedelta(days=6)
    response = _put(
        client,
        token,
        {
            "extra_hours": [{"date": sunday.isoformat(), "start": "10:00", "end": "12:00"}],
            "settings": {"slot_step_minutes": 60},
        },
    )
    assert response.status_code == 200
    assert _slots(client, profile.id, sunday) == [_local(sunday, 10), _local(sunday, 11)]


def test_saving_hours_stores_the_soonest_free_start_for_search(client, db, therapist):
    profile, token = therapist
    _put(client, token, {"weekly_hours": WEEKDAYS_9_TO_5})
    body = client.get("/api/v1/me/availability", headers=_bearer(token)).get_json()
    first = client.get(
        f"/api/v1/therapists/{profile.id}/slots",
        query_string={"to": (datetime.now(UTC) + timedelta(days=8)).isoformat()},
    ).get_json()["slots"][0]["start"]
    assert body["next_available"] == first
    db.expire_all()
    stored = db.get(AvailabilitySettings, profile.id)
    assert stored.next_available_at == datetime.fromisoformat(first)
    assert stored.next_available_valid_until == datetime.fromisoformat(first) - timedelta(hours=24)


def test_what_get_returns_can_be_put_back_unchanged(client, db, therapist):
    _, token = therapist
    soon = _monday_ahead()
    _put(
        client,
        token,
        {
            "weekly_hours": WEEKDAYS_9_TO_5,
            "extra_hours": [{"date": soon.isoformat(), "start": "18:00", "end": "20:00"}],
        },
    )
    # An extra day that has passed stays stored but is no longer shown, so it cannot make the PUT fail.
    db.add(
        ExtraHours(
            location_id=db.scalar(select(PracticeLocation.id)),
            day=date(2020, 1, 1),
            starts_at=time(9),
            ends_at=time(10),
        )
    )
    db.commit()
    body = client.get("/api/v1/me/availability", headers=_bearer(token)).get_json()
    assert [e["date"] for e in body["extra_hours"]] == [soon.isoformat()]
    again = _put(client, token, {k: body[k] for k in ("settings", "weekly_hours", "extra_hours")})
    assert again.status_code == 200, again.get_data(as_text=True)
    assert again.get_json()["settings"] == body["settings"]
    strip = lambda items: [{k: v for k, v in i.items() if k != "id"} for i in items]  # noqa: E731
    assert strip(again.get_json()["weekly_hours"]) == strip(body["weekly_hours"])
    assert strip(again.get_json()["extra_hours"]) == strip(body["extra_hours"])


def test_the_repeated_fall_back_hour_gives_two_distinct_slots_with_true_end_times(client, therapist):
    profile, token = therapist
    fall_back = date(2027, 11, 7)  # a Sunday: 02:00 EDT becomes 01:00 EST
    response = _put(
        client,
        token,
        {
            "extra_hours": [{"date": fall_back.isoformat(), "start": "00:00", "end": "04:00"}],
            "settings": {"slot_step_minutes": 60, "horizon_days": 365, "buffer_after_minutes": 0},
        },
    )
    assert response.status_code == 200
    body = client.get(
        f"/api/v1/therapists/{profile.id}/slots",
        query_string={"from": fall_back.isoformat(), "to": (fall_back + timedelta(days=1)).isoformat()},
    ).get_json()
    starts = [s["start"] for s in body["slots"]]
    assert starts == [
        "2027-11-07T00:00:00-04:00",
        "2027-11-07T01:00:00-04:00",
        "2027-11-07T01:00:00-05:00",  # the same wall time an hour later: not a duplicate
        "2027-11-07T02:00:00-05:00",
        "2027-11-07T03:00:00-05:00",
    ]
    for slot in body["slots"]:  # every session is 60 real minutes, across the change too
        elapsed = datetime.fromisoformat(slot["end"]) - datetime.fromisoformat(slot["start"])
        assert elapsed == timedelta(minutes=60), slot


EVERY_DAY_9_TO_5 = [
    {"weekday": day, "start": "09:00", "end": "17:00"}
    for day in ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")
]


def test_a_therapist_closed_on_public_holidays_offers_no_time_on_one(client, therapist):
    """New York's next public holiday (whatever day the suite runs: one always falls within 80 days)."""
    profile, token = therapist
    today = datetime.now(NEW_YORK).date()
    holiday, name = next(
        iter(public_holidays.between("NY", today + timedelta(days=3), today + timedelta(days=80)).items())
    )
    assert _put(client, token, {"weekly_hours": EVERY_DAY_9_TO_5}).status_code == 200
    assert _slots(client, profile.id, holiday), f"{name} is an ordinary day by default"

    closed = _put(client, token, {"settings": {"works_public_holidays": False}})

    assert closed.status_code == 200 and closed.get_json()["settings"]["works_public_holidays"] is False
    assert _slots(client, profile.id, holiday) == [], f"{name} on {holiday} is a closed day"
    assert _slots(client, profile.id, holiday - timedelta(days=1))  # the day before is not
    assert _slots(client, profile.id, holiday + timedelta(days=1)) or (holiday + timedelta(days=1)) in (
        public_holidays.between("NY", holiday, holiday + timedelta(days=1))
    )
    reopened = _put(client, token, {"settings": {"works_public_holidays": True}})
    assert reopened.status_code == 200 and _slots(client, profile.id, holiday)
