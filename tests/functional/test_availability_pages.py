"""A therapist's availability pages, through the real pages: the week editor and booking rules, extra hours,
time off (with the warning about booked sessions inside it), the week calendar, and the open times on the
public profile, which must follow every change at once.

Dates are relative to the real clock (the slot engine measures notice from now): a Monday 7 to 13 days
ahead, well past the default 24 hours of notice and inside the 90-day horizon. Expected times come from
zoneinfo, so the tests hold in summer and winter.
"""

from __future__ import annotations

import re
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
    GeocodePrecision,
    PracticeLocation,
    TherapistProfile,
    TimeOff,
    WeeklyHours,
)

NEW_YORK = ZoneInfo("America/New_York")
WEEKDAYS = range(5)  # Monday to Friday
DEFAULT_RULES = {
    "buffer_before_minutes": "0",
    "buffer_after_minutes": "15",
    "min_notice_hours": "24",
    "horizon_days": "90",
    "slot_step_minutes": "60",
    "session_lengths": ["60", "90"],
}


def today_here() -> date:
    return datetime.now(NEW_YORK).date()


def monday_ahead() -> date:
    today = today_here()
    return today + timedelta(days=7 + (7 - today.weekday()) % 7)


def local(day: date, hour: int, minute: int = 0) -> datetime:
    return datetime.combine(day, time(hour, minute), NEW_YORK)


def make_profile(db, user, *, city: str = "New York") -> TherapistProfile:
    profile = TherapistProfile(
        user_id=user.id,
        name=user.display_name,
        license_number="MT-1",
        license_state="NY",
        license_expires_on=date.today() + timedelta(days=365),
        session_rate_cents=12000,
    )
    profile.locations.append(
        PracticeLocation(
            city=city,
            state="NY",
            zip_code="10001",
            latitude=40.7506,
            longitude=-73.9972,
            time_zone="America/New_York",
            geocode_precision=GeocodePrecision.ZIP,
        )
    )
    db.add(profile)
    db.commit()
    return profile


@pytest.fixture
def therapist(auth, db) -> TherapistProfile:
    user = auth.create_user("therapist", email="dana@example.org", display_name="Dana Reyes")
    profile = make_profile(db, user)
    auth.login("dana@example.org")
    return profile


@pytest.fixture
def patient(auth):
    return auth.create_user("patient", email="ann@example.org", display_name="Ann Lee")


def week_form(auth, location_id: int, hours: dict[int, list[tuple[str, str]]], **rules) -> dict:
    """The week editor's fields: `hours` maps weekday (0 = Monday) to (from, to) rows."""
    data: dict = {"csrf_token": auth.csrf_token("/me/availability"), **DEFAULT_RULES, **rules}
    for weekday, rows in hours.items():
        for n, (start, end) in enumerate(rows):
            data[f"w{location_id}-{weekday}-{n}-start"] = start
            data[f"w{location_id}-{weekday}-{n}-end"] = end
    return {k: v for k, v in data.items() if v is not None}


def nine_to_five(days=WEEKDAYS) -> dict[int, list[tuple[str, str]]]:
    return {day: [("09:00", "17:00")] for day in days}


def save_hours(client, auth, profile, hours, **rules):
    return client.post("/me/availability", data=week_form(auth, profile.locations[0].id, hours, **rules))


def slots(client, therapist_id: int, day: date, **params) -> list[datetime]:
    response = client.get(
        f"/api/v1/therapists/{therapist_id}/slots",
        query_string={"from": day.isoformat(), "to": (day + timedelta(days=1)).isoformat(), **params},
    )
    assert response.status_code == 200, response.get_data(as_text=True)
    return [datetime.fromisoformat(slot["start"]) for slot in response.get_json()["slots"]]


def book(db, profile, patient, start: datetime, minutes: int = 60) -> Appointment:
    appointment = Appointment(
        therapist_id=profile.id,
        location_id=profile.locations[0].id,
        patient_id=patient.id,
        starts_at=start,
        ends_at=start + timedelta(minutes=minutes),
    )
    db.add(appointment)
    db.commit()
    return appointment


def page_text(response) -> str:
    """The page's visible words, one space between them (for sentences split across tags)."""
    body = re.sub(r"<[^>]+>", " ", response.get_data(as_text=True))
    return re.sub(r"\s+", " ", body).replace("&#39;", "'").replace("&amp;", "&")


# --- who may see the pages ------------------------------------------------------------------------------


@pytest.mark.parametrize("path", ["/me/availability", "/me/calendar"])
def test_anonymous_visitors_are_sent_to_log_in(client, path):
    response = client.get(path)
    assert response.status_code == 302
    assert response.headers["Location"].startswith("/login?next=")


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("get", "/me/availability"),
        ("get", "/me/calendar"),
        ("post", "/me/availability"),
        ("post", "/me/time-off"),
        ("post", "/me/time-off/1/remove"),
        ("post", "/me/availability/extra"),
    ],
)
def test_patients_are_refused(client, auth, patient, method, path):
    auth.login("ann@example.org")
    data = {"csrf_token": auth.csrf_token("/")} if method == "post" else None
    response = getattr(client, method)(path, data=data)
    assert response.status_code == 403


def test_a_therapist_without_a_profile_is_sent_to_make_one(client, auth):
    auth.create_user("therapist", email="new@example.org")
    auth.login("new@example.org")
    for path in ("/me/availability", "/me/calendar"):
        response = client.get(path)
        assert response.status_code == 200
        text = page_text(response)
        assert "Create your practice profile first" in text
        assert 'href="/me/profile"' in response.get_data(as_text=True)


# --- the page -------------------------------------------------------------------------------------------


def test_the_page_shows_the_time_zone_an_empty_week_and_every_section(client, therapist):
    response = client.get("/me/availability")
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    text = page_text(response)
    assert "All times are in America/New_York" in text
    assert "Patients cannot book any time with you yet." in text
    for heading in ("Weekly hours", "Booking rules", "Extra hours on a date", "Time off", "Calendar feed"):
        assert f">{heading}</h2>" in page
    location_id = therapist.locations[0].id
    # Every weekday has two blank rows, each input labelled with its day.
    for weekday, name in enumerate(
        ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")
    ):
        assert f"<legend>{name}</legend>" in page
        for n in (0, 1):
            assert f'id="w{location_id}-{weekday}-{n}-start"' in page
    assert re.search(
        rf'<label for="w{location_id}-0-0-start"><span class="visually-hidden">Monday, hours 1, ', page
    )
    assert 'type="time" step="300"' in page
    assert 'value="60" id="session_lengths-60" checked' in page  # the defaults
    assert 'value="45" id="session_lengths-45">' in page
    assert "You have no upcoming time off." in text
    assert "No extra hours on upcoming dates." in text
    assert 'action="/me/calendar-feed"' in page and "Create a calendar feed address" in text
    assert 'src="/static/js/availability.js"' in page
    assert "<script>" not in page and "style=" not in page  # the CSP allows neither


def test_the_navigation_links_to_availability_and_calendar(client, therapist):
    page = client.get("/me/availability").get_data(as_text=True)
    assert '<a href="/me/availability" aria-current="page">Availability</a>' in page
    assert '<a href="/me/calendar">Calendar</a>' in page


def test_saving_hours_changes_the_public_slots_at_once(client, auth, db, therapist):
    monday = monday_ahead()
    assert slots(client, therapist.id, monday) == []

    response = save_hours(client, auth, therapist, nine_to_five())

    assert response.status_code == 302
    assert response.headers["Location"] == "/me/availability"
    assert slots(client, therapist.id, monday) == [local(monday, hour) for hour in range(9, 17)]
    assert slots(client, therapist.id, monday + timedelta(days=5)) == []  # Saturday
    page = client.get("/me/availability")
    text = page_text(page)
    assert "Saved. The soonest time patients can book is" in text
    assert "The soonest time patients can book a 60-minute session with you:" in text
    assert 'value="09:00"' in page.get_data(as_text=True)
    stored = db.get(AvailabilitySettings, therapist.id)
    db.refresh(stored)
    assert stored.next_available_at is not None  # the cache search sorts by was stored with the save


def test_rules_and_session_lengths_are_saved(client, auth, db, therapist):
    response = save_hours(
        client,
        auth,
        therapist,
        nine_to_five(),
        buffer_before_minutes="10",
        horizon_days="30",
        slot_step_minutes="30",
        session_lengths=["45", "90"],
    )
    assert response.status_code == 302
    settings = db.get(AvailabilitySettings, therapist.id)
    db.refresh(settings)
    assert (settings.buffer_before_minutes, settings.horizon_days, settings.slot_step_minutes) == (10, 30, 30)
    assert settings.session_lengths == [45, 90]
    page = client.get("/me/availability").get_data(as_text=True)
    assert '<option value="30" selected>30 minutes</option>' in page
    assert 'value="45" id="session_lengths-45" checked' in page


def test_closing_on_public_holidays_is_saved_and_shown(client, auth, db, therapist):
    page = client.get("/me/availability").get_data(as_text=True)
    assert 'value="yes" id="works_public_holidays-yes"' in page and "I am closed on public holidays" in page
    assert 'id="works_public_holidays-yes" aria-describedby="works_public_holidays-hint" checked' in page

    response = save_hours(client, auth, therapist, nine_to_five(), works_public_holidays="no")

    assert response.status_code == 302
    settings = db.get(AvailabilitySettings, therapist.id)
    db.refresh(settings)
    assert settings.works_public_holidays is False
    page = client.get("/me/availability").get_data(as_text=True)
    assert 'id="works_public_holidays-no" aria-describedby="works_public_holidays-hint" checked' in page


def test_two_intervals_a_day_and_removing_one(client, auth, db, therapist):
    monday = monday_ahead()
    hours = {0: [("09:00", "12:00"), ("13:00", "17:00")]}
    assert save_hours(client, auth, therapist, hours).status_code == 302
    assert local(monday, 12) not in slots(client, therapist.id, monday)  # lunch
    assert local(monday, 13) in slots(client, therapist.id, monday)

    data = week_form(auth, therapist.locations[0].id, hours)
    data[f"w{therapist.locations[0].id}-0-1-remove"] = "y"
    assert client.post("/me/availability", data=data).status_code == 302
    assert [(w.starts_at, w.ends_at) for w in db.scalars(select(WeeklyHours))] == [(time(9), time(12))]
    assert slots(client, therapist.id, monday) == [local(monday, h) for h in (9, 10, 11)]


def test_an_end_before_the_start_is_refused_beside_the_field_and_nothing_is_stored(
    client, auth, db, therapist
):
    assert save_hours(client, auth, therapist, nine_to_five()).status_code == 302
    location_id = therapist.locations[0].id
    hours = nine_to_five()
    hours[1] = [("17:00", "09:00")]  # Tuesday

    response = save_hours(client, auth, therapist, hours, horizon_days="60")

    assert response.status_code == 422
    page = response.get_data(as_text=True)
    field = f"w{location_id}-1-0-end"
    assert re.search(rf'<p class="error" id="{field}-error">The end must be after the start', page)
    assert re.search(rf'id="{field}" name="{field}" value="09:00" aria-describedby="{field}-error"', page)
    assert f'<a href="#{field}">Tuesday, hours 1, to</a>' in page  # the summary links to it
    assert 'value="17:00"' in page and 'value="60"' in page  # what was typed is kept
    db.expire_all()
    assert db.scalar(select(func.count()).select_from(WeeklyHours)) == 5  # as before
    assert db.get(AvailabilitySettings, therapist.id).horizon_days == 90  # the rules too: all or nothing


@pytest.mark.parametrize(
    ("override", "field", "message"),
    [
        ({"horizon_days": "many"}, "horizon_days", "Booking horizon: 1 to 365 days."),
        ({"buffer_after_minutes": "500"}, "buffer_after_minutes", "Buffer after sessions: 0 to 240 minutes."),
        ({"session_lengths": None}, "session_lengths", "Offer at least one session length"),
        ({"slot_step_minutes": "7"}, "slot_step_minutes", "Start times every"),
    ],
)
def test_bad_rules_are_refused_beside_their_field(client, auth, db, therapist, override, field, message):
    response = save_hours(client, auth, therapist, nine_to_five(), **override)
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    assert f'<p class="error" id="{field}-error">{message}' in page
    assert re.search(rf'aria-describedby="[^"]*{field}-error"', page)
    db.expire_all()
    assert db.scalar(select(func.count()).select_from(WeeklyHours)) == 0


def test_half_an_interval_is_an_error_not_ignored(client, auth, db, therapist):
    response = save_hours(client, auth, therapist, {2: [("09:00", "")]})
    assert response.status_code == 422
    assert f'id="w{therapist.locations[0].id}-2-0-end-error"' in response.get_data(as_text=True)


def test_rows_added_in_the_browser_are_saved_too(client, auth, db, therapist):
    """availability.js adds rows with the next free number; the server reads any number."""
    hours = {3: [("08:00", "09:00"), ("10:00", "11:00"), ("12:00", "13:00"), ("14:00", "15:00")]}
    assert save_hours(client, auth, therapist, hours).status_code == 302
    assert db.scalar(select(func.count()).select_from(WeeklyHours).where(WeeklyHours.weekday == 3)) == 4


def test_a_form_without_the_csrf_token_is_refused(client, auth, db, therapist):
    data = week_form(auth, therapist.locations[0].id, nine_to_five())
    data["csrf_token"] = "forged"
    assert client.post("/me/availability", data=data).status_code == 400
    assert db.scalar(select(func.count()).select_from(WeeklyHours)) == 0


# --- extra hours ----------------------------------------------------------------------------------------


def test_extra_hours_on_a_saturday_open_slots_and_removing_them_closes_them(client, auth, db, therapist):
    saturday = monday_ahead() + timedelta(days=5)
    data = {
        "csrf_token": auth.csrf_token("/me/availability"),
        "extra_date": saturday.isoformat(),
        "extra_start": "10:00",
        "extra_end": "13:00",
    }
    response = client.post("/me/availability/extra", data=data)
    assert response.status_code == 302
    found = slots(client, therapist.id, saturday)  # every 15 minutes by default, the last at 12:00
    assert (found[0], found[-1], len(found)) == (local(saturday, 10), local(saturday, 12), 9)
    page = client.get("/me/availability")
    assert f"{saturday:%a} {saturday.day} {saturday:%b} {saturday.year}, 10:00 AM–1:00 PM" in page_text(page)
    entry = db.scalar(select(ExtraHours))

    # Overlapping the hours already there, after them or before them: the message is on the new hours.
    for start, end, message in (
        ("12:00", "14:00", "Overlaps the hours before it on the same day (until 13:00)."),
        ("09:00", "11:00", "These hours overlap extra hours you already have that day, 10:00 AM–1:00 PM."),
    ):
        data["extra_start"], data["extra_end"] = start, end
        refused = client.post("/me/availability/extra", data=data)
        assert refused.status_code == 422
        assert f'<p class="error" id="extra_start-error">{message}</p>' in refused.get_data(as_text=True)
    assert db.scalar(select(func.count()).select_from(ExtraHours)) == 1

    removed = client.post(
        f"/me/availability/extra/{entry.id}/remove", data={"csrf_token": auth.csrf_token("/me/availability")}
    )
    assert removed.status_code == 302
    assert slots(client, therapist.id, saturday) == []
    assert (
        client.post(
            f"/me/availability/extra/{entry.id}/remove",
            data={"csrf_token": auth.csrf_token("/me/availability")},
        ).status_code
        == 404
    )


def test_extra_hours_in_the_past_are_refused(client, auth, db, therapist):
    response = client.post(
        "/me/availability/extra",
        data={
            "csrf_token": auth.csrf_token("/me/availability"),
            "extra_date": (today_here() - timedelta(days=1)).isoformat(),
            "extra_start": "10:00",
            "extra_end": "13:00",
        },
    )
    assert response.status_code == 422
    assert '<p class="error" id="extra_date-error">This date has passed.' in response.get_data(as_text=True)


# --- time off -------------------------------------------------------------------------------------------


def add_days_off(client, auth, first: date, last: date | None = None, reason: str = ""):
    return client.post(
        "/me/time-off",
        data={
            "csrf_token": auth.csrf_token("/me/availability"),
            "kind": "days",
            "start_date": first.isoformat(),
            "end_date": last.isoformat() if last else "",
            "days_reason": reason,
        },
    )


def test_a_day_off_removes_that_days_slots_and_is_listed(client, auth, db, therapist):
    save_hours(client, auth, therapist, nine_to_five())
    monday = monday_ahead()
    tuesday = monday + timedelta(days=1)

    response = add_days_off(client, auth, monday, reason="Conference")

    assert response.status_code == 302
    assert response.headers["Location"] == "/me/availability#time-off-heading"
    assert slots(client, therapist.id, monday) == []
    assert len(slots(client, therapist.id, tuesday)) == 8
    text = page_text(client.get("/me/availability"))
    when = f"{monday:%a} {monday.day} {monday:%b} {monday.year}, all day"
    assert f"Time off added: {when}." in text
    assert when in text and "(Conference)" in text


def test_part_of_a_day_off(client, auth, db, therapist):
    save_hours(client, auth, therapist, nine_to_five())
    monday = monday_ahead()
    response = client.post(
        "/me/time-off",
        data={
            "csrf_token": auth.csrf_token("/me/availability"),
            "kind": "part",
            "part_date": monday.isoformat(),
            "part_start": "12:00",
            "part_end": "17:00",
        },
    )
    assert response.status_code == 302
    assert slots(client, therapist.id, monday) == [local(monday, h) for h in (9, 10, 11)]
    zone = local(monday, 12).tzname()
    assert f"12:00 PM–5:00 PM {zone}" in page_text(client.get("/me/availability"))


@pytest.mark.parametrize(
    ("data", "field", "message"),
    [
        ({"kind": "part", "part_start": "09:00", "part_end": "10:00"}, "part_date", "Choose the date."),
        (
            {"kind": "part", "part_date": "{monday}", "part_start": "15:00", "part_end": "10:00"},
            "part_end",
            "The end must be after the start.",
        ),
        (
            {"kind": "days", "start_date": "{monday}", "end_date": "{yesterday}"},
            "end_date",
            "This time has already passed.",
        ),
        ({"kind": "days", "start_date": ""}, "start_date", "Give the first day off"),
    ],
)
def test_bad_time_off_is_refused_beside_its_field(client, auth, db, therapist, data, field, message):
    yesterday = today_here() - timedelta(days=1)
    values = {"monday": monday_ahead().isoformat(), "yesterday": yesterday.isoformat()}
    if data.get("end_date") == "{yesterday}":
        data = {**data, "start_date": (today_here() - timedelta(days=3)).isoformat()}
    form = {k: v.format(**values) for k, v in data.items()}
    response = client.post("/me/time-off", data={"csrf_token": auth.csrf_token("/me/availability"), **form})
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    assert re.search(rf'<p class="error" id="{field}-error">{re.escape(message)}', page)
    assert re.search(rf'aria-describedby="[^"]*{field}-error"', page)
    db.expire_all()
    assert db.scalar(select(func.count()).select_from(TimeOff)) == 0


def test_time_off_over_a_booked_session_lists_it_and_keeps_it_booked(client, auth, db, therapist, patient):
    save_hours(client, auth, therapist, nine_to_five())
    monday = monday_ahead()
    booking = book(db, therapist, patient, local(monday, 10))
    cancelled = book(db, therapist, patient, local(monday, 14))
    cancelled.status = AppointmentStatus.CANCELLED
    db.commit()

    response = add_days_off(client, auth, monday)

    assert response.status_code == 200  # the answer is this page, not a flash message
    text = page_text(response)
    assert "1 booked session falls in this time off and is still booked" in text
    zone = local(monday, 10).tzname()
    assert f"{monday:%a} {monday.day} {monday:%b} {monday.year}, 10:00 AM–11:00 AM {zone}" in text
    assert "60 min" in text and "Ann Lee" in text
    assert re.search(r"\b2:00 PM", text) is None  # a cancelled session is not in the way
    assert f'href="/me/calendar?week={monday.isoformat()}"' in response.get_data(as_text=True)
    db.expire_all()
    assert db.get(Appointment, booking.id).status is AppointmentStatus.BOOKED
    assert db.scalar(select(func.count()).select_from(TimeOff)) == 1  # the time off was added too


def test_two_booked_sessions_are_counted_in_the_plural(client, auth, db, therapist, patient):
    monday = monday_ahead()
    book(db, therapist, patient, local(monday, 10))
    book(db, therapist, patient, local(monday + timedelta(days=1), 10))
    response = add_days_off(client, auth, monday, monday + timedelta(days=1))
    assert "2 booked sessions fall in this time off and are still booked" in page_text(response)


def test_removing_time_off_asks_first_then_reopens_the_slots(client, auth, db, therapist):
    save_hours(client, auth, therapist, nine_to_five())
    monday = monday_ahead()
    add_days_off(client, auth, monday)
    entry = db.scalar(select(TimeOff))
    page = client.get("/me/availability").get_data(as_text=True)
    # The Remove control only opens a confirmation; the POST button is inside it.
    confirm = re.search(r'<details class="confirm">\s*<summary[^>]*>Remove.*?</details>', page, re.S)
    assert confirm is not None
    assert f'action="/me/time-off/{entry.id}/remove"' in confirm.group(0)
    assert "Patients will be able to book these hours again." in confirm.group(0)

    response = client.post(
        f"/me/time-off/{entry.id}/remove", data={"csrf_token": auth.csrf_token("/me/availability")}
    )

    assert response.status_code == 302
    assert len(slots(client, therapist.id, monday)) == 8
    text = page_text(client.get("/me/availability"))
    assert "Time off removed." in text and "You have no upcoming time off." in text


def test_another_therapists_time_off_is_not_found(client, auth, db, therapist):
    other_user = auth.create_user("therapist", email="other@example.org", display_name="Other")
    other = make_profile(db, other_user, city="Boston")
    theirs = TimeOff(
        therapist_id=other.id,
        starts_at=local(monday_ahead(), 0).astimezone(UTC),
        ends_at=local(monday_ahead() + timedelta(days=1), 0).astimezone(UTC),
    )
    db.add(theirs)
    db.commit()
    response = client.post(
        f"/me/time-off/{theirs.id}/remove", data={"csrf_token": auth.csrf_token("/me/availability")}
    )
    assert response.status_code == 404
    assert "You have no time off with that id." in response.get_data(as_text=True)
    db.expire_all()
    assert db.get(TimeOff, theirs.id) is not None


# --- the calendar ---------------------------------------------------------------------------------------


def test_the_calendar_shows_a_session_on_its_local_day_and_time(client, auth, db, therapist, patient):
    monday = monday_ahead()
    tuesday = monday + timedelta(days=1)
    # 21:30 in New York is the next day in UTC: it must still be on Tuesday.
    late = book(db, therapist, patient, local(tuesday, 21, 30))
    assert late.starts_at.astimezone(UTC).date() == tuesday + timedelta(days=1)

    response = client.get(f"/me/calendar?week={(monday + timedelta(days=3)).isoformat()}")  # any day of it

    assert response.status_code == 200
    page = response.get_data(as_text=True)
    zone = local(tuesday, 21).tzname()
    sentence = f"{tuesday:%a} {tuesday.day} {tuesday:%b}, 9:30 PM–10:30 PM {zone}, 60 min, Ann Lee, booked"
    assert sentence in page
    column = r'<li class="week-column[^"]*"[^>]*>(.*?)</li>\s*(?=<li class="week-column|</ol>)'
    columns = re.findall(column, page, re.S)
    assert len(columns) == 7
    assert sentence in columns[1] and f"{tuesday:%a} {tuesday.day} {tuesday:%b}" in columns[1]
    assert "1 session this week" in page_text(response)
    assert f'href="/me/calendar?week={(monday - timedelta(days=7)).isoformat()}"' in page
    assert f'href="/me/calendar?week={(monday + timedelta(days=7)).isoformat()}"' in page
    assert "All times are in America/New_York" in page_text(response)
    listed = db.scalars(select(AuditEvent).where(AuditEvent.action == "appointments.listed")).all()
    assert len(listed) == 1  # reading who is booked when is recorded


def test_the_calendar_shows_hours_and_time_off_and_an_empty_week(client, auth, db, therapist):
    save_hours(client, auth, therapist, nine_to_five())
    monday = monday_ahead()
    add_days_off(client, auth, monday + timedelta(days=2), reason="Dentist")
    response = client.get(f"/me/calendar?week={monday.isoformat()}")
    text = page_text(response)
    assert "No sessions this week" in text
    assert "9:00 AM–5:00 PM" in text
    wednesday = monday + timedelta(days=2)
    assert f"{wednesday:%a} {wednesday.day} {wednesday:%b}, All day, time off: Dentist" in text


def test_this_week_is_the_default_and_a_bad_week_is_explained(client, therapist):
    today = today_here()
    this_monday = today - timedelta(days=today.weekday())
    page = page_text(client.get("/me/calendar"))
    assert f"{this_monday:%a} {this_monday.day} {this_monday:%b} {this_monday.year} to" in page
    assert "This week" in page and "today" in page
    response = client.get("/me/calendar?week=next-tuesday")
    assert response.status_code == 200
    assert "is not a date like 2026-12-01" in page_text(response)


# --- the public profile ---------------------------------------------------------------------------------


def test_the_public_profile_lists_open_times_and_follows_changes(client, auth, db, therapist):
    day = today_here() + timedelta(days=3)  # past the 24 hours of notice, inside the next 7 days
    heading = f"{day:%A} {day.day} {day:%B}"
    zone = local(day, 9).tzname()

    empty = page_text(client.get(f"/therapists/{therapist.id}"))
    assert "Next available times" in empty and "No open times in the next 7 days." in empty

    save_hours(client, auth, therapist, nine_to_five(range(7)))
    page = client.get(f"/therapists/{therapist.id}")
    text = page_text(page)
    assert heading in text
    assert f"9:00 AM {zone}" in text and f"4:00 PM {zone}" in text
    assert f"5:00 PM {zone}" not in text
    assert f'<time datetime="{local(day, 9).isoformat()}">9:00 AM {zone}</time>' in page.get_data(
        as_text=True
    )
    assert "Start times for a 60-minute session." in text

    add_days_off(client, auth, day)
    assert heading not in page_text(client.get(f"/therapists/{therapist.id}"))


def test_the_public_profile_offers_other_lengths_and_later_weeks(client, auth, db, therapist):
    save_hours(client, auth, therapist, {d: [("09:00", "11:00")] for d in range(7)})
    later = today_here() + timedelta(days=7)
    page = client.get(f"/therapists/{therapist.id}").get_data(as_text=True)
    assert '<option value="90">90 minutes</option>' in page
    assert f"from={later.isoformat()}" in page  # "Later: the next 7 days"

    ninety = page_text(client.get(f"/therapists/{therapist.id}?minutes=90"))
    assert "Start times for a 90-minute session." in ninety
    assert "9:00 AM" in ninety and "10:00 AM" not in ninety  # 10:00-11:30 does not fit hours ending at 11:00

    next_week = client.get(f"/therapists/{therapist.id}?from={later.isoformat()}")
    text = page_text(next_week)
    assert f"{later:%A} {later.day} {later:%B}" in text and "Earlier times" in text

    odd = client.get(f"/therapists/{therapist.id}?minutes=33&from=soon")
    assert odd.status_code == 200
    assert "This therapist offers sessions of 60, 90 minutes." in page_text(odd)


def test_an_empty_week_points_to_the_soonest_open_time(client, auth, db, therapist):
    far = today_here() + timedelta(days=20)
    client.post(
        "/me/availability/extra",
        data={
            "csrf_token": auth.csrf_token("/me/availability"),
            "extra_date": far.isoformat(),
            "extra_start": "10:00",
            "extra_end": "12:00",
        },
    )
    response = client.get(f"/therapists/{therapist.id}")
    text = page_text(response)
    assert "No open times in the next 7 days." in text
    assert f"The soonest open time is {far:%a} {far.day} {far:%b}, 10:00 AM {local(far, 10):%Z}" in text
    assert f"from={far.isoformat()}" in response.get_data(as_text=True)


def test_a_practice_with_two_locations_edits_each_ones_hours(client, auth, db, therapist):
    therapist.locations.append(
        PracticeLocation(
            label="Clinic",
            city="Brooklyn",
            state="NY",
            zip_code="11201",
            latitude=40.6943,
            longitude=-73.9903,
            time_zone="America/New_York",
        )
    )
    db.commit()
    first, second = (loc.id for loc in therapist.locations)
    page = client.get("/me/availability").get_data(as_text=True)
    assert "Clinic, Brooklyn, NY</h3>" in page
    assert f'id="w{second}-0-0-start"' in page

    data = week_form(auth, first, {0: [("09:00", "12:00")]})
    data.update({f"w{second}-0-0-start": "13:00", f"w{second}-0-0-end": "17:00"})
    assert client.post("/me/availability", data=data).status_code == 302
    stored = {(w.location_id, w.starts_at) for w in db.scalars(select(WeeklyHours))}
    assert stored == {(first, time(9)), (second, time(13))}
    monday = monday_ahead()
    assert len(slots(client, therapist.id, monday)) == 3 + 4
