"""Search knows when therapists are free: `next_available`, sort=soonest and available_within_days.

Two therapists at the same ZIP are ordered by id when sorted by distance; their hours make the other one
free sooner, so "soonest" must turn the order round. The cached soonest start must follow changes to
hours and time off at once, and never be reported once it has passed into the notice period.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from massage_booking.models import AvailabilitySettings
from tests.factories import practice_therapist

NEW_YORK = ZoneInfo("America/New_York")
EVERY_DAY = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")


def _therapist(auth, db, name: str) -> tuple[int, str]:
    profile, user = practice_therapist(auth, db, name)
    return profile.id, auth.api_token(user.email)


def _hours(client, token: str, days: tuple[str, ...], notice_hours: int = 24) -> None:
    response = client.put(
        "/api/v1/me/availability",
        json={
            "weekly_hours": [{"weekday": d, "start": "09:00", "end": "17:00"} for d in days],
            "settings": {"min_notice_hours": notice_hours},
        },
        headers={"Authorization": f"Bearer {token}"},
    )
    assert response.status_code == 200, response.get_data(as_text=True)


def _search(client, **params) -> dict:
    response = client.get("/api/v1/therapists", query_string={"near": "10001", "radius": "5", **params})
    assert response.status_code == 200, response.get_data(as_text=True)
    return response.get_json()


def _first_slot(client, therapist_id: int) -> datetime:
    now = datetime.now(UTC)
    for week in range(3):
        response = client.get(
            f"/api/v1/therapists/{therapist_id}/slots",
            query_string={
                "from": (now + timedelta(days=7 * week)).isoformat(),
                "to": (now + timedelta(days=7 * week + 7)).isoformat(),
            },
        )
        if slots := response.get_json()["slots"]:
            return datetime.fromisoformat(slots[0]["start"])
    raise AssertionError("no slot in three weeks")


def test_next_available_is_the_first_public_slot(client, auth, db):
    therapist_id, token = _therapist(auth, db, "Ava Soon")
    assert _search(client)["results"][0]["next_available"] is None  # no hours yet
    _hours(client, token, EVERY_DAY)
    [result] = _search(client)["results"]
    assert datetime.fromisoformat(result["next_available"]) == _first_slot(client, therapist_id)
    assert result["next_available"].endswith(("-05:00", "-04:00"))  # the practice's local offset


def test_soonest_sort_and_the_within_filter(client, auth, db):
    weekly_id, weekly_token = _therapist(auth, db, "Bo Weekly")  # lower id: first by distance
    daily_id, daily_token = _therapist(auth, db, "Cy Daily")
    today = datetime.now(NEW_YORK).date()
    # Bo works one weekday, 4-10 days away; Cy works every day with no notice.
    far_day = EVERY_DAY[(today + timedelta(days=5)).weekday()]
    _hours(client, weekly_token, (far_day,), notice_hours=72)
    _hours(client, daily_token, EVERY_DAY, notice_hours=0)
    by_distance = [r["id"] for r in _search(client)["results"]]
    assert by_distance == [weekly_id, daily_id]
    soonest = _search(client, sort="soonest")["results"]
    assert [r["id"] for r in soonest] == [daily_id, weekly_id]
    assert soonest[0]["next_available"] < soonest[1]["next_available"]
    within = _search(client, available_within_days="2")
    assert [r["id"] for r in within["results"]] == [daily_id] and within["total"] == 1


def test_time_off_moves_next_available_at_once(client, auth, db):
    therapist_id, token = _therapist(auth, db, "Di Away")
    _hours(client, token, EVERY_DAY)
    before = datetime.fromisoformat(_search(client)["results"][0]["next_available"])
    day = before.astimezone(NEW_YORK).date()
    response = client.post(
        "/api/v1/me/time-off", json={"date": day.isoformat()}, headers={"Authorization": f"Bearer {token}"}
    )
    assert response.status_code == 201
    after = datetime.fromisoformat(_search(client)["results"][0]["next_available"])
    assert after.astimezone(NEW_YORK).date() > day
    assert after == _first_slot(client, therapist_id)


def test_a_stale_cached_value_is_not_reported(client, auth, db):
    therapist_id, token = _therapist(auth, db, "Ed Stale")
    _hours(client, token, EVERY_DAY)
    settings = db.get(AvailabilitySettings, therapist_id)
    # Pretend the cache was filled long ago: its start has passed and it stopped being valid.
    settings.next_available_at = datetime(2020, 1, 6, 14, tzinfo=UTC)
    settings.next_available_valid_until = datetime(2020, 1, 5, 14, tzinfo=UTC)
    db.commit()
    for params in ({}, {"sort": "soonest"}):
        [result] = _search(client, **params)["results"]
        assert datetime.fromisoformat(result["next_available"]) == _first_slot(client, therapist_id)


def test_bad_within_days_is_a_422(client):
    for value in ("0", "366", "soon"):
        response = client.get(
            "/api/v1/therapists", query_string={"near": "10001", "available_within_days": value}
        )
        assert response.status_code == 422
        assert "available_within_days" in response.get_json()["error"]["details"]["fields"]


def test_the_search_page_shows_when_each_therapist_is_free(client, auth, db):
    _, token = _therapist(auth, db, "Fay Open")
    _therapist(auth, db, "Gus Closed")
    _hours(client, token, EVERY_DAY)
    page = client.get("/therapists", query_string={"near": "10001", "radius": "5", "sort": "soonest"})
    html = page.get_data(as_text=True)
    assert page.status_code == 200
    assert html.index("Fay Open") < html.index("Gus Closed")  # free sooner comes first
    assert "Next available:" in html and "No open times listed" in html
    assert re.search(
        r"Next available: <time datetime=\"[^\"]+\">\w{3}, \w{3} \d+, \d+:\d\d [AP]M E[SD]T</time>", html
    )
    within = client.get(
        "/therapists", query_string={"near": "10001", "radius": "5", "available_within_days": "7"}
    )
    assert "Fay Open" in within.get_data(as_text=True) and "Gus Closed" not in within.get_data(as_text=True)


def test_refresh_availability_recomputes_only_what_has_gone_stale(client, auth, db, runner):
    fresh_id, fresh_token = _therapist(auth, db, "Hal Fresh")
    stale_id, stale_token = _therapist(auth, db, "Ivy Stale")
    for token in (fresh_token, stale_token):
        _hours(client, token, EVERY_DAY)
    stale = db.get(AvailabilitySettings, stale_id)
    stale.next_available_at = datetime(2020, 1, 6, 14, tzinfo=UTC)
    stale.next_available_valid_until = datetime(2020, 1, 5, 14, tzinfo=UTC)
    # Fresh for days: a value computed now may itself lapse within the refresh's hour when the next start
    # is one slot step past the notice period (during the practice's working hours).
    fresh = db.get(AvailabilitySettings, fresh_id)
    fresh.next_available_valid_until = kept = datetime.now(UTC).replace(microsecond=0) + timedelta(days=3)
    db.commit()
    result = runner.invoke(args=["refresh-availability"])
    assert result.exit_code == 0, result.output
    assert "1 therapist(s)" in result.output
    db.expire_all()
    assert db.get(AvailabilitySettings, stale_id).next_available_at == _first_slot(client, stale_id)
    assert db.get(AvailabilitySettings, fresh_id).next_available_valid_until == kept


def test_a_stale_early_value_does_not_win_soonest_or_pass_the_filter(client, auth, db):
    weekly_id, weekly_token = _therapist(auth, db, "Jo Weekly")  # first by distance (lower id)
    daily_id, daily_token = _therapist(auth, db, "Kit Daily")
    today = datetime.now(NEW_YORK).date()
    _hours(client, weekly_token, (EVERY_DAY[(today + timedelta(days=5)).weekday()],), notice_hours=72)
    _hours(client, daily_token, EVERY_DAY, notice_hours=0)
    # Jo's cache claims a start long past: a lower bound that sorts first until it is recomputed.
    stale = db.get(AvailabilitySettings, weekly_id)
    stale.next_available_at = datetime(2020, 1, 6, 14, tzinfo=UTC)
    stale.next_available_valid_until = datetime(2020, 1, 5, 14, tzinfo=UTC)
    db.commit()
    soonest = _search(client, sort="soonest")["results"]
    assert [r["id"] for r in soonest] == [daily_id, weekly_id]
    assert datetime.fromisoformat(soonest[1]["next_available"]) == _first_slot(client, weekly_id)
    assert [r["id"] for r in _search(client, available_within_days="2")["results"]] == [daily_id]
    # Page 2 of one per page holds the other one: the order is exact across pages.
    assert [r["id"] for r in _search(client, sort="soonest", per_page="1", page="2")["results"]] == [
        weekly_id
    ]
