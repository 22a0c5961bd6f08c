"""Step 3 of the booking wizard with a therapist chosen: the patient's wishes (start date, days, time of
day) in, whole courses out (services/course_proposals.py), each a card that carries its session starts to the
review page as `s1` ... `sN`, where every session is checked again.

Reading the wishes from the query string is forgiving where a form can be: a day or time of day that is not
one of the choices is ignored, and a start date that does not read, or is past, is today. What only the
calendar can judge (a start beyond the booking horizon) comes back from the planner as a message.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime, time
from zoneinfo import ZoneInfo

from massage_booking.domain import course_patterns
from massage_booking.formatting import day_heading, wall_clock
from massage_booking.services import availability, course_proposals

DAY_CHOICES = tuple((name[:3], name.capitalize()) for name in availability.WEEKDAYS)
# Times of day as the wizard offers them: a session fits when it lies wholly inside.
TIMES_OF_DAY = {
    "morning": ("Mornings (before noon)", time(6), time(12)),
    "afternoon": ("Afternoons (noon to 5 PM)", time(12), time(17)),
    "evening": ("Evenings (after 5 PM)", time(17), time(22)),
}


@dataclass(frozen=True)
class WishForm:
    """The wishes as the form shows them again."""

    start: str
    days: tuple[str, ...]
    time_of_day: str


def read_wishes(args: Mapping[str, str], today: date, getlist) -> tuple[course_proposals.Wishes, WishForm]:
    try:
        start = max(date.fromisoformat(str(args.get("start", "")).strip()), today)
    except ValueError:
        start = today
    days = tuple(d for d in getlist("days") if d in dict(DAY_CHOICES))
    time_of_day = str(args.get("time", "")).strip()
    window = TIMES_OF_DAY.get(time_of_day)
    wishes = course_proposals.Wishes(
        earliest_start=start,
        weekdays=frozenset(
            availability.WEEKDAYS.index(full) for full in availability.WEEKDAYS if full[:3] in days
        ),
        time_windows=((window[1], window[2]),) if window else (),
    )
    return wishes, WishForm(start.isoformat(), days, time_of_day if window else "")


@dataclass(frozen=True)
class Card:
    """One proposal as the page shows it."""

    title: str  # "Mondays, Wednesdays and Fridays at 10:00 AM"
    span: str  # "Friday, December 11 to Wednesday, January 6"
    summary: str  # "All 12 sessions are free."
    explanation: str
    holidays: tuple[str, ...]  # "Thursday, December 24: Christmas Eve"
    starts: tuple[str, ...]  # ISO 8601 with the practice's offset, in session order


# What each of the planner's reason codes means to the patient (the planner's own explanation is in its
# 24-hour wall-clock terms; the wizard speaks the practice's 12-hour clock).
_WISH_WORDS = {
    "preferred_days": "On the days you chose.",
    "outside_preferred_days": "Not only on the days you chose.",
    "preferred_times": "At the time of day you chose.",
    "outside_preferred_times": "Outside the time of day you chose.",
}


def cards(found: course_proposals.CourseProposals) -> list[Card]:
    """The whole-course proposals, best first, in the patient's words and the practice's clock."""
    zone = found.zone
    proposals = found.result.proposals
    soonest = min((p.first_start for p in proposals), default=None)
    return [_card(p, zone, soonest) for p in proposals]


def _card(proposal: course_patterns.Proposal, zone: ZoneInfo, soonest: datetime | None) -> Card:
    first = proposal.sessions[0].start.astimezone(zone)
    last = proposal.sessions[-1].start.astimezone(zone)
    pattern = proposal.pattern
    weekly = _days([availability.WEEKDAYS[d] for d in pattern.weekly])
    alternate = _days([availability.WEEKDAYS[d] for d in pattern.alternate])
    if weekly and alternate:
        days = f"{weekly} every week and {alternate} every other week"
    else:
        days = weekly or f"{alternate} every other week"
    at = wall_clock(pattern.time)
    n = len(proposal.sessions)
    words = []
    if soonest is not None and proposal.first_start <= soonest:
        words.append("The soonest start.")
    elif soonest is not None:
        later = (first.date() - soonest.astimezone(zone).date()).days
        words.append(
            "Starts the same day as the soonest."
            if later == 0
            else f"Starts {later} day{'s' if later != 1 else ''} after the soonest."
        )
    words += [_WISH_WORDS[code] for code in proposal.reasons if code in _WISH_WORDS]
    return Card(
        title=f"{days} at {at}",
        span=f"{day_heading(first.date())} to {day_heading(last.date())}",
        summary=f"All {n} sessions are free." if n > 1 else "The session is free.",
        explanation=" ".join(words),
        holidays=tuple(f"{day_heading(day)}: {name}" for day, name in proposal.holidays),
        starts=tuple(s.start.astimezone(zone).isoformat() for s in proposal.sessions),
    )


def _days(names: list[str]) -> str:
    words = [name.capitalize() + "s" for name in names]
    if len(words) <= 1:
        return "".join(words)
    return ", ".join(words[:-1]) + " and " + words[-1]
