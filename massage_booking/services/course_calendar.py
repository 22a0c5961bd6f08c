"""A patient's course as an iCalendar file, to add every session to their own calendar app.

Reading it is reading the course, so it goes through `courses.get_course`: the patient's own course only
(anyone else gets "not found", audited). The file itself is written by massage_booking/calendars.py.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.orm import Session

from massage_booking.calendars import course_calendar
from massage_booking.models import User
from massage_booking.services import courses


def course_ics(session: Session, actor: User, course_id: int, now: datetime, url: str | None = None) -> bytes:
    """The actor's course as a VCALENDAR, one VEVENT per session (times in UTC, as calendar_feed.py
    writes them); `url` is the course page, linked from each event."""
    course = courses.get_course(session, actor, course_id)
    return course_calendar(course, courses.sessions_of(session, course), now, url)
