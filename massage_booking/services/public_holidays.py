"""Public holidays of a practice, from the `holidays` package: the United States' federal holidays and the
practice's state's own (PracticeLocation.state), with their observed days.

A therapist who does not work on public holidays (AvailabilitySettings.works_public_holidays False) gets
them as closed days: services/slots.py adds each as a whole local day of time off, so slots, course
proposals, the soonest-start cache and booking all see the same calendar. A therapist who does work on
them keeps ordinary days, and the course planner names the holidays a proposed course includes.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date, datetime, time, timedelta
from functools import lru_cache
from zoneinfo import ZoneInfo

import holidays

from massage_booking.domain import scheduling
from massage_booking.models import PracticeLocation

COUNTRY = "US"


@lru_cache(maxsize=256)
def _calendar(state: str, year: int) -> dict[date, str]:
    """One state's holidays of one year (cached: the package builds them from rules on every call). An
    unknown subdivision (a territory the package spells differently) falls back to the federal list."""
    try:
        found = holidays.country_holidays(COUNTRY, subdiv=state or None, years=year)
    except NotImplementedError:
        found = holidays.country_holidays(COUNTRY, years=year)
    return dict(found.items())


def between(state: str, first: date, last: date) -> dict[date, str]:
    """The holidays of `state` from `first` to `last`, both included, by date."""
    days: dict[date, str] = {}
    for year in range(first.year, last.year + 1):
        days.update({d: name for d, name in _calendar(state, year).items() if first <= d <= last})
    return dict(sorted(days.items()))


def closed_days(
    locations: Iterable[PracticeLocation], start: datetime, end: datetime
) -> list[scheduling.Busy]:
    """Each location's holidays touching [start, end) as whole local days of time off. Time off is the
    therapist's, not a location's, so a holiday of one location's state closes every location that day:
    the rare practice in two states with different holidays loses a day it could have worked."""
    spans: list[scheduling.Busy] = []
    for location in locations:
        zone = ZoneInfo(location.time_zone)
        first, last = start.astimezone(zone).date(), end.astimezone(zone).date()
        for day in between(location.state, first - timedelta(days=1), last + timedelta(days=1)):
            spans.append(
                scheduling.Busy(
                    datetime.combine(day, time(0), zone),
                    datetime.combine(day + timedelta(days=1), time(0), zone),
                )
            )
    return spans
