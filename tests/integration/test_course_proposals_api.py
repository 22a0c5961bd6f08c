"""POST /api/v1/courses/plan without a start: whole-course proposals from the planner, on the therapist's
real calendar, each bookable as it stands with POST /api/v1/courses.

The case that made issue 15: "3 a week" from a Friday was laid out Fri/Sun/Tue from the first session, so a
therapist who works Monday to Saturday got Sunday sessions the page showed as "Taken".
"""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import delete, func, select

from massage_booking.models import AvailabilitySettings, Course, PracticeLocation, WeeklyHours
from massage_booking.services import public_holidays
from tests.factories import bookable_therapist, post_intake

NEW_YORK = ZoneInfo("America/New_York")


def _monday_to_saturday(
    db, therapist_id: int, *, horizon_days: int = 90, works_holidays: bool = True
) -> None:
    """Dana's week: Monday to Saturday 9-5, closed Sundays (the demo therapist's shape)."""
    location_id = db.scalar(select(PracticeLocation.id).where(PracticeLocation.therapist_id == therapist_id))
    db.execute(delete(WeeklyHours).where(WeeklyHours.location_id == location_id))
    db.add_all(
        WeeklyHours(location_id=location_id, weekday=d, starts_at=time(9), ends_at=time(17)) for d in range(6)
    )
    settings = db.get(AvailabilitySettings, therapist_id)
    settings.horizon_days = horizon_days
    settings.works_public_holidays = works_holidays
    settings.min_notice_hours = 24
    db.commit()


def _next(weekday: int, after_days: int = 3) -> date:
    day = datetime.now(NEW_YORK).date() + timedelta(days=after_days)
    return day + timedelta(days=(weekday - day.weekday()) % 7)


def _ask(client, headers, intake_id: int, therapist_id: int, **wishes):
    body = {
        "intake_id": intake_id,
        "therapist_id": therapist_id,
        "sessions_per_week": 3,
        "total_sessions": 12,
    }
    return client.post("/api/v1/courses/plan", json={**body, **wishes}, headers=headers)


def _local(iso: str) -> datetime:
    return datetime.fromisoformat(iso).astimezone(NEW_YORK)


def test_three_a_week_from_a_friday_is_proposed_on_the_days_the_therapist_works(client, auth, db, patient):
    _, headers = patient
    therapist_id = bookable_therapist(auth, db, "Dana Reyes", trained=False)
    _monday_to_saturday(db, therapist_id)
    friday = _next(4)

    response = _ask(
        client, headers, post_intake(client, headers), therapist_id, earliest_start=friday.isoformat()
    )

    assert response.status_code == 200, response.get_data(as_text=True)
    found = response.get_json()
    assert found["partial"] is None and len(found["proposals"]) == 3
    assert found["proposals"][0]["rank"] == 1
    for proposal in found["proposals"]:
        starts = [_local(s["start"]) for s in proposal["sessions"]]
        assert len(starts) == 12 and all(s["free"] for s in proposal["sessions"])
        assert all(s.weekday() != 6 for s in starts), proposal["pattern"]  # never a Sunday
        assert len({s.time() for s in starts}) == 1  # one local time throughout
        assert starts[0].date() >= friday
        days = [s.date() for s in starts]
        assert all((b - a).days >= 2 for a, b in zip(days, days[1:], strict=False))  # never two days running
        weeks: dict[date, int] = {}
        for day in days:
            monday = day - timedelta(days=day.weekday())
            weeks[monday] = weeks.get(monday, 0) + 1
        assert all(n == 3 for n in list(weeks.values())[1:-1])  # three a week between the first and last
        assert proposal["pattern"]["description"].endswith(f"at {starts[0]:%H:%M}")
    soonest = min(_local(p["sessions"][0]["start"]) for p in found["proposals"])
    assert soonest == datetime.combine(friday, time(9), NEW_YORK)  # the Friday's first hour is free


def test_a_proposal_books_as_it_stands(client, auth, db, patient):
    _, headers = patient
    therapist_id = bookable_therapist(auth, db, "Dana Reyes", trained=False)
    _monday_to_saturday(db, therapist_id)
    intake_id = post_intake(client, headers)
    found = _ask(client, headers, intake_id, therapist_id, earliest_start=_next(4).isoformat()).get_json()
    chosen = found["proposals"][1]

    booked = client.post(
        "/api/v1/courses",
        json={
            "intake_id": intake_id,
            "therapist_id": therapist_id,
            "sessions_per_week": 3,
            "total_sessions": 12,
            "starts": chosen["starts"],
        },
        headers=headers,
    )

    assert booked.status_code == 201, booked.get_data(as_text=True)
    assert [s["start"] for s in booked.get_json()["sessions"]] == chosen["starts"]
    again = _ask(client, headers, intake_id, therapist_id, earliest_start=_next(4).isoformat()).get_json()
    taken = set(chosen["starts"])
    for proposal in again["proposals"]:  # what is now booked is never proposed again
        assert not taken & set(proposal["starts"])


def test_wishes_rank_the_proposals_evenings_only(client, auth, db, patient):
    _, headers = patient
    therapist_id = bookable_therapist(auth, db, "Dana Reyes", trained=False)  # open 08:00-20:00 every day
    found = _ask(
        client,
        headers,
        post_intake(client, headers),
        therapist_id,
        earliest_start=_next(0).isoformat(),
        weekdays=["monday", "wednesday", "friday"],
        time_windows=[{"start": "17:00", "end": "20:00"}],
    ).get_json()
    best = found["proposals"][0]
    assert best["pattern"]["weekdays"] == ["monday", "wednesday", "friday"]
    assert all(_local(s["start"]).time() >= time(17) for s in best["sessions"])
    assert "preferred_times" in best["reasons"] and "preferred_days" in best["reasons"]


def test_no_proposal_falls_on_a_holiday_the_therapist_does_not_work(client, auth, db, patient):
    _, headers = patient
    therapist_id = bookable_therapist(auth, db, "Dana Reyes", trained=False)
    _monday_to_saturday(db, therapist_id, works_holidays=False)
    today = datetime.now(NEW_YORK).date()
    holidays = public_holidays.between("NY", today, today + timedelta(days=90))
    assert holidays  # New York has a public holiday within any 90 days
    first_holiday = next(iter(holidays))
    start = max(first_holiday - timedelta(days=10), today + timedelta(days=2))
    found = _ask(
        client,
        headers,
        post_intake(client, headers),
        therapist_id,
        earliest_start=start.isoformat(),
        count=10,
    ).get_json()
    assert found["proposals"]
    for proposal in found["proposals"]:
        assert not {_local(s["start"]).date() for s in proposal["sessions"]} & set(holidays)


def test_a_course_across_a_clock_change_keeps_its_local_time(client, auth, db, patient):
    _, headers = patient
    therapist_id = bookable_therapist(auth, db, "Dana Reyes", trained=False)
    _monday_to_saturday(db, therapist_id, horizon_days=365)
    today = datetime.now(NEW_YORK).date()
    change = next(
        today + timedelta(days=n)
        for n in range(3, 366)
        if datetime.combine(today + timedelta(days=n), time(12), NEW_YORK).utcoffset()
        != datetime.combine(today + timedelta(days=n - 1), time(12), NEW_YORK).utcoffset()
    )
    start = max(change - timedelta(days=14), today + timedelta(days=2))
    found = _ask(
        client,
        headers,
        post_intake(client, headers),
        therapist_id,
        earliest_start=start.isoformat(),
        sessions_per_week=2,
    ).get_json()
    sessions = found["proposals"][0]["sessions"]
    starts = [datetime.fromisoformat(s["start"]) for s in sessions]
    assert starts[0].date() < change <= starts[-1].date()
    assert len({s.astimezone(NEW_YORK).time() for s in starts}) == 1  # the same wall-clock time
    assert len({s.utcoffset() for s in starts}) == 2  # on both sides of the change


def test_a_fully_booked_week_gives_a_partial_proposal_naming_what_is_missing(client, auth, db, patient):
    _, headers = patient
    therapist_id = bookable_therapist(auth, db, "Dana Reyes", trained=False)
    _monday_to_saturday(db, therapist_id, horizon_days=14)
    found = _ask(
        client,
        headers,
        post_intake(client, headers),
        therapist_id,
        earliest_start=_next(0).isoformat(),
        total_sessions=12,
    ).get_json()
    assert found["proposals"] == []  # 12 sessions at 3 a week cannot fit in a 14-day horizon
    partial = found["partial"]
    assert partial is not None and not partial["complete"]
    missing = [s for s in partial["sessions"] if not s["free"]]
    assert missing and all(s["cause"] for s in missing)
    assert found["blocked"] and all(b["message"] for b in found["blocked"])


@pytest.mark.parametrize(
    ("wishes", "field"),
    [
        ({"weekdays": ["funday"]}, "weekdays[0]"),
        ({"weekdays": "monday"}, "weekdays"),
        ({"time_windows": [{"start": "12:00", "end": "09:00"}]}, "time_windows[0].end"),
        ({"time_windows": [{"start": "9am", "end": "12:00"}]}, "time_windows[0].start"),
        ({"earliest_start": "2020-01-01"}, "earliest_start"),
        ({"earliest_start": "2999-01-01"}, "earliest_start"),
        ({"earliest_start": "next week"}, "earliest_start"),
        ({"count": 0}, "count"),
        ({"count": "3"}, "count"),
        ({"total_sessions": 0}, "total_sessions"),
        ({"total_sessions": 41}, "total_sessions"),
        ({"session_minutes": 45}, "session_minutes"),
    ],
)
def test_bad_wishes_are_a_422_naming_the_field_and_change_nothing(client, auth, db, patient, wishes, field):
    _, headers = patient
    therapist_id = bookable_therapist(auth, db, "Dana Reyes", trained=False)
    db.get(AvailabilitySettings, therapist_id).session_lengths = [60, 90]
    db.commit()
    response = _ask(client, headers, post_intake(client, headers), therapist_id, **wishes)
    assert response.status_code == 422, response.get_data(as_text=True)
    assert field in response.get_json()["error"]["details"]["fields"]
    assert db.scalar(select(func.count()).select_from(Course)) == 0


def test_with_a_first_start_the_plan_endpoint_still_answers_the_preview(client, auth, db, patient):
    _, headers = patient
    therapist_id = bookable_therapist(auth, db, "Dana Reyes", trained=False)
    first = datetime.combine(_next(0), time(10), NEW_YORK)
    response = client.post(
        "/api/v1/courses/plan",
        json={
            "intake_id": post_intake(client, headers),
            "therapist_id": therapist_id,
            "first_start": first.isoformat(),
        },
        headers=headers,
    )
    assert response.status_code == 200 and "bookable" in response.get_json()
    assert "proposals" not in response.get_json()
