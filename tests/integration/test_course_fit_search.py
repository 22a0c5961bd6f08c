"""Search by course fit (`course=`, `weekdays=`, `time_of_day=`) agrees with the planner, therapist by
therapist, and follows the calendar when it changes.

The dataset is the demo's (`seed_demo`: therapists across real ZIPs, each with their own hours, lengths,
notice and step), made uneven: a seeded RNG gives most therapists near New York blocks of time off over
the next weeks, so that some whole courses still fit, some start later, some patterns vanish and some
therapists fit none. For every therapist the search could list (every candidate of the same search without
`course`), the expected answer is the planner's own (`course_patterns.propose` on the therapist's real
calendar, given the wishes as weekdays and time windows): its first proposal when that is a whole course
with no misfit, otherwise the therapist must not be listed. The search must list exactly those, each with
that first session, soonest first.
"""

from __future__ import annotations

import random
from dataclasses import replace
from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import func, select

from massage_booking import geocoding
from massage_booking.demo.data import seed_demo
from massage_booking.domain import course_fit, course_patterns
from massage_booking.models import CourseFitCache, PracticeLocation, TimeOff
from massage_booking.schemas.parse import parse_query
from massage_booking.schemas.search import SearchParams
from massage_booking.services import planner_calendar, search, slots, soonest_cache
from tests.factories import open_weekday_hours, token_therapist

RADIUS = 60.0


def _course(raw: str, weekdays: str = "", times: str = "") -> object:
    params = {"near": "10001", "course": raw, "weekdays": weekdays, "time_of_day": times}
    course = parse_query(SearchParams, params, {"locate": geocoding.locate}).course_search
    assert course is not None
    return course


def _uneven(session, therapist_ids: list[int], now: datetime) -> None:
    """Blocks of time off (2 to 9 hours, up to 40 of them, over the next 50 days) for most therapists, and
    a long leave starting within two weeks for a quarter of them."""
    rng = random.Random(15)
    for therapist_id in therapist_ids:
        luck = rng.random()
        if luck < 0.2:
            continue  # some keep an open calendar
        if luck < 0.45:  # some go on leave soon, for longer than most horizons leave room for a course
            leave = now + timedelta(days=rng.uniform(3, 12))
            session.add(
                TimeOff(therapist_id=therapist_id, starts_at=leave, ends_at=leave + timedelta(days=80))
            )
        for _ in range(rng.randrange(5, 40)):
            start = now + timedelta(days=rng.uniform(0, 50))
            start = start.replace(minute=0, second=0, microsecond=0)
            session.add(
                TimeOff(
                    therapist_id=therapist_id,
                    starts_at=start,
                    ends_at=start + timedelta(hours=rng.randrange(2, 10)),
                    reason="test",
                )
            )
        soonest_cache.refresh_next_available(session, therapist_id, now)
    session.commit()


def _query(course, now: datetime, **extra) -> search.SearchQuery:
    origin = geocoding.locate("10016", field="near")
    return search.SearchQuery(
        origin=origin,
        radius=RADIUS,
        unit="mi",
        today=now.date(),
        now=now,
        course=course,
        per_page=search.PER_PAGE_MAX,
        **extra,
    )


def _all_hits(session, query: search.SearchQuery) -> list[search.SearchHit]:
    hits: list[search.SearchHit] = []
    page = 1
    while True:
        results = search.search_therapists(session, replace(query, page=page))
        hits += results.hits
        if not results.has_next:
            return hits
        page += 1


def _planner_first_start(session, therapist_id: int, course, now: datetime) -> datetime | None:
    """What the planner itself proposes first to a patient with these wishes, if it is a whole course that
    fits them: the independent answer the search must match."""
    settings = slots.settings_for(session, therapist_id)
    if course.session_minutes not in settings.session_lengths:
        return None
    location = session.scalars(
        select(PracticeLocation)
        .where(PracticeLocation.therapist_id == therapist_id)
        .order_by(PracticeLocation.id)
    ).first()
    zone = ZoneInfo(location.time_zone)
    today = now.astimezone(zone).date()
    calendar = planner_calendar.planner_calendar(session, therapist_id, location, today, now)
    windows = tuple(course_fit.window_of(name) for name in sorted(course.wishes.times_of_day))
    result = course_patterns.propose(
        course.request,
        calendar.rules,
        now=now,
        wishes=course_patterns.Wishes(
            earliest_start=today, weekdays=course.wishes.weekdays, time_windows=windows
        ),
        holidays=calendar.holidays,
        works_holidays=calendar.works_holidays,
        time_off=calendar.time_off,
        bookings=calendar.bookings,
        count=course_patterns.MAX_COUNT,
    )
    if not result.proposals:
        return None
    first = result.proposals[0]
    pattern = first.pattern
    days = {*pattern.weekly, *pattern.alternate}
    if course.wishes.weekdays and not days <= course.wishes.weekdays:
        return None
    if windows and not _inside(pattern.time, course.request.session_length, windows):
        return None
    return first.sessions[0].start.astimezone(UTC)


def _inside(start: time, length: timedelta, windows) -> bool:
    first = start.hour * 60 + start.minute
    last = first + length // timedelta(minutes=1)
    return any(a.hour * 60 + a.minute <= first and last <= b.hour * 60 + b.minute for a, b in windows)


@pytest.fixture
def demo(db):
    now = datetime.now(UTC).replace(second=0, microsecond=0)
    seed_demo(db, 400)
    db.commit()
    candidates = _all_hits(db, _query(None, now))
    _uneven(db, [hit.therapist.id for hit in candidates], now)
    return now, candidates


@pytest.mark.parametrize(
    ("raw", "weekdays", "times"),
    [
        ("chronic_neck_pain", "", ""),  # 8 x 60 minutes, 2 a week
        ("cipn", "", ""),  # 12 x 30 minutes, 3 a week, oncology training required
        ("12x60@3", "monday,tuesday,wednesday,thursday,friday", "morning"),
        ("15x60@1.5", "", "afternoon,evening"),
        ("knee osteoarthritis", "tuesday,thursday,saturday", ""),
    ],
)
def test_course_fit_search_agrees_with_the_planner_therapist_by_therapist(db, demo, raw, weekdays, times):
    now, candidates = demo
    course = _course(raw, weekdays, times)
    query = _query(course, now, sort="soonest")
    hits = _all_hits(db, query)

    expected = {}
    for hit in candidates:
        if query.needs_oncology_training and not hit.therapist.active_oncology_credentials(now.date()):
            continue
        at = _planner_first_start(db, hit.therapist.id, course, now)
        if at is not None:
            expected[hit.therapist.id] = at
    found = {hit.therapist.id: hit.course_start for hit in hits}

    assert found == expected
    assert 3 <= len(expected) < len(candidates), "the dataset must both include and exclude therapists"
    starts = [(hit.course_start, hit.distance) for hit in hits]
    assert starts == sorted(starts), "soonest whole course first, nearest first among equals"
    # Later searches read the cache the first one filled, and answer the same.
    assert {hit.therapist.id: hit.course_start for hit in _all_hits(db, query)} == expected


def _find(client, **params) -> dict:
    response = client.get("/api/v1/therapists", query_string={"near": "10001", "radius": "5", **params})
    assert response.status_code == 200, response.get_data(as_text=True)
    return response.get_json()


def test_the_api_says_when_each_course_could_start_and_follows_time_off(client, auth, db):
    therapist_id, headers = token_therapist(auth, db, "Rhea Course")
    open_weekday_hours(client, headers)
    body = _find(client, course="8x60@2", time_of_day="morning")
    assert body["course"] == {
        "condition": None,
        "session_minutes": 60,
        "sessions_per_week": 2.0,
        "total_sessions": 8,
        "weekdays": [],
        "time_of_day": ["morning"],
    }
    assert body["sort"] == "soonest"
    (hit,) = body["results"]
    first = datetime.fromisoformat(hit["course_start"])
    assert first.utcoffset() == first.astimezone(ZoneInfo("America/New_York")).utcoffset()
    # A weekday morning inside the 09:00-17:00 hours: 09:00, or later when the run falls in the morning
    # and the 24-hour notice pushes tomorrow's first start past 09:00 (a 60-minute morning session starts
    # by 11:00).
    assert 9 <= first.hour <= 11 and first.weekday() < 5

    # Time off over the whole of that day: the course can no longer start there.
    day = first.astimezone(ZoneInfo("America/New_York")).replace(hour=0, minute=0)
    response = client.post(
        "/api/v1/me/time-off",
        json={"start": day.isoformat(), "end": (day + timedelta(days=1)).isoformat(), "reason": "away"},
        headers=headers,
    )
    assert response.status_code == 201, response.get_data(as_text=True)
    (moved,) = _find(client, course="8x60@2", time_of_day="morning")["results"]
    assert datetime.fromisoformat(moved["course_start"]) > first

    time_off_id = response.get_json()["time_off"]["id"]
    assert client.delete(f"/api/v1/me/time-off/{time_off_id}", headers=headers).status_code == 204
    (back,) = _find(client, course="8x60@2", time_of_day="morning")["results"]
    assert datetime.fromisoformat(back["course_start"]) == first


def test_a_length_the_therapist_does_not_offer_fits_no_course(client, auth, db):
    _, headers = token_therapist(auth, db, "Omar Hour")
    open_weekday_hours(client, headers, lengths=(60, 90))
    assert _find(client, course="12x30@3")["total"] == 0
    assert _find(client, course="12x60@3")["total"] == 1


def test_wishes_bind(client, auth, db):
    _, headers = token_therapist(auth, db, "Ida Weekday")
    open_weekday_hours(client, headers)  # Monday to Friday, 09:00-17:00
    assert _find(client, course="6x60@1", weekdays="saturday,sunday")["total"] == 0
    assert _find(client, course="6x60@1", time_of_day="evening")["total"] == 0
    (hit,) = _find(client, course="6x60@1", weekdays="thursday", time_of_day="afternoon")["results"]
    start = datetime.fromisoformat(hit["course_start"])
    assert start.weekday() == 3 and start.hour >= 12


def test_a_stale_or_outdated_row_is_recomputed(client, auth, db):
    therapist_id, headers = token_therapist(auth, db, "Sam Stale")
    open_weekday_hours(client, headers)
    (hit,) = _find(client, course="8x60@2")["results"]
    row = db.scalars(select(CourseFitCache)).one()
    original = row.soonest
    # A row that lies (an earlier course than the calendar allows) is believed only while it holds.
    row.soonest = original - 7 * 86400
    db.commit()
    (lied,) = _find(client, course="8x60@2")["results"]
    assert datetime.fromisoformat(lied["course_start"]).timestamp() == original - 7 * 86400
    row.valid_until = datetime.now(UTC) - timedelta(seconds=1)
    db.commit()
    (fixed,) = _find(client, course="8x60@2")["results"]
    assert datetime.fromisoformat(fixed["course_start"]) == datetime.fromisoformat(hit["course_start"])
    db.expire_all()
    row = db.scalars(select(CourseFitCache)).one()
    row.soonest = original - 7 * 86400
    row.calendar_version -= 1  # computed before the calendar's last change
    db.commit()
    (again,) = _find(client, course="8x60@2")["results"]
    assert datetime.fromisoformat(again["course_start"]) == datetime.fromisoformat(hit["course_start"])


def test_refresh_availability_recomputes_lapsing_fits(client, auth, db, runner):
    _, headers = token_therapist(auth, db, "Lee Lapse")
    open_weekday_hours(client, headers)
    _find(client, course="8x60@2")
    row = db.scalars(select(CourseFitCache)).one()
    planted = datetime(2020, 1, 1, tzinfo=UTC)
    row.valid_until = datetime.now(UTC) + timedelta(minutes=5)
    row.computed_at = planted
    db.commit()
    result = runner.invoke(args=["refresh-availability"])
    assert result.exit_code == 0, result.output
    assert "1 course fit(s)" in result.output
    db.expire_all()
    # Recomputed now. (Its new validity may itself end within minutes: when the soonest start is one slot
    # step past the notice period, the answer changes at the next step.)
    refreshed = db.scalars(select(CourseFitCache)).one()
    assert refreshed.computed_at > planted
    assert refreshed.valid_until >= datetime.now(UTC) - timedelta(minutes=1)


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"course": "sore feet"}, "course"),
        ({"course": "0x60@3"}, "course"),
        ({"course": "41x60@3"}, "course"),
        ({"course": "12x61@3"}, "course"),
        ({"course": "12x60@4"}, "course"),
        ({"course": "12x60@2.5"}, "course"),
        ({"course": "cipn", "weekdays": "funday"}, "weekdays"),
        ({"course": "cipn", "time_of_day": "midnight"}, "time_of_day"),
        ({"weekdays": "monday"}, "weekdays"),
        ({"time_of_day": "morning"}, "time_of_day"),
    ],
)
def test_bad_course_input_is_a_422_naming_the_field_and_writes_nothing(client, auth, db, params, field):
    _, headers = token_therapist(auth, db, "Bo Bad")
    open_weekday_hours(client, headers)
    response = client.get("/api/v1/therapists", query_string={"near": "10001", **params})
    assert response.status_code == 422
    error = response.get_json()["error"]
    assert field in error["details"]["fields"]
    assert db.scalar(select(func.count()).select_from(CourseFitCache)) == 0
