"""The search page by course fit: the patient chooses a course and the days and times they can come, and each
result says when the whole course could start; a course nobody near can fit offers what to give up."""

from __future__ import annotations

import re
from datetime import datetime
from html import unescape
from zoneinfo import ZoneInfo

from tests.factories import open_weekday_hours, token_therapist
from tests.pages import is_checked, result_names, selected, summary

NEW_YORK = ZoneInfo("America/New_York")


def _words(page: str) -> str:
    """The page's text, tags dropped and spaces collapsed, as a reader sees it."""
    return " ".join(unescape(re.sub(r"<[^>]+>", " ", page)).split())


def _page(client, **params) -> str:
    response = client.get("/therapists", query_string={"near": "10001", "radius": "5", **params})
    assert response.status_code == 200, response.status_code
    return response.get_data(as_text=True)


def test_a_course_search_says_when_each_course_could_start(client, auth, db):
    _, headers = token_therapist(auth, db, "Nora Weekdays")
    open_weekday_hours(client, headers)  # Monday to Friday, 09:00-17:00, 60 and 90 minutes
    page = _page(
        client,
        course="chronic_neck_pain",
        weekdays=["tuesday", "friday"],
        time_of_day="afternoon",
    )
    assert result_names(page) == ["Nora Weekdays"]
    assert "soonest course start first" in summary(page)
    text = _words(page)
    wanted = "8 sessions of 60 minutes, 2 a week, on Tuesdays or Fridays, in the afternoon"
    assert f"room for the whole course ({wanted})" in text
    pattern = r'<p class="course-start"><strong>Your course could start <time datetime="([^"]+)"'
    found = re.search(pattern, page)
    start = datetime.fromisoformat(found.group(1))
    local = start.astimezone(NEW_YORK)
    assert local.weekday() in (1, 4) and 12 <= local.hour < 17
    assert "every session free (8 sessions of 60 minutes, 2 a week)" in text
    # The form shows the search as it was understood.
    assert selected(page, "course") == ["chronic_neck_pain"]
    assert 'value="tuesday" checked' in page and 'value="friday" checked' in page
    assert 'value="afternoon" checked' in page and 'value="morning" checked' not in page
    assert not is_checked(page, "oncology_trained")
    assert "Your course could start" in text and "Next available" in text


def test_a_course_that_fits_nobody_offers_what_to_give_up(client, auth, db):
    _, headers = token_therapist(auth, db, "Otto Daytime")
    open_weekday_hours(client, headers)
    page = _page(client, course="12x60@3", weekdays="saturday,sunday", time_of_day="evening")
    assert result_names(page) == []
    text = _words(page)
    assert "Any day of the week for the course" in text
    assert "Any time of day for the course" in text
    assert "Show every therapist, not only those with room for the whole course" in text
    # An explicit plan from a shared link stays chosen, in words.
    assert selected(page, "course") == ["12x60@3"]
    assert "12 sessions of 60 minutes, 3 a week" in text


def test_bad_course_wishes_are_shown_beside_their_field(client, auth, db):
    response = client.get(
        "/therapists", query_string={"near": "10001", "course": "cipn", "weekdays": "funday"}
    )
    assert response.status_code == 422
    assert '"funday" is not a weekday' in unescape(response.get_data(as_text=True))
