"""Pages anyone can read: the home page and a therapist's public profile (the search page is search.py)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from flask import abort, render_template, request

from massage_booking.domain.errors import NotFound, ValidationFailed
from massage_booking.extensions import db
from massage_booking.formatting import clock
from massage_booking.models import TherapistProfile
from massage_booking.schemas.availability import SlotQuery
from massage_booking.schemas.parse import parse_query
from massage_booking.services import availability, directory, slots, soonest_cache, therapists
from massage_booking.web import bp
from massage_booking.web.forms import SearchForm

SLOT_DAYS = 7  # the profile lists one week of open times at a time


@bp.get("/")
def home() -> Any:
    """What the product is for, where to search, and a few therapists whose oncology training is verified."""
    featured = directory.featured(db.session, date.today())
    return render_template("web/home.html", form=SearchForm(), featured=featured, today=date.today())


@dataclass(frozen=True)
class OpenDay:
    day: date
    times: list[tuple[str, str]]  # (ISO 8601 with offset, "9:00 AM EST")

    @property
    def heading(self) -> str:
        return f"{self.day:%A} {self.day.day} {self.day:%B}"


@dataclass(frozen=True)
class OpenTimes:
    """A week of free start times on the public profile, with what the page needs to page through them."""

    zone: str
    minutes: int
    lengths: list[int]
    first: date
    last: date  # inclusive
    days: list[OpenDay]
    problem: str | None
    earlier: str | None  # `from` of the 7 days before, if any of them are still ahead
    later: str | None  # `from` of the next 7 days, if they are inside the booking horizon
    is_first_week: bool
    soonest: tuple[str, str] | None  # ("Tue 9 Dec, 9:00 AM EST", its date as `from`) when this week is empty

    @property
    def count(self) -> int:
        return sum(len(day.times) for day in self.days)


def _open_times(profile: TherapistProfile, now: datetime) -> OpenTimes | None:
    """The free starts for `?minutes=` (default: the usual length) in the 7 local days from `?from=`.

    A bad `from` or `minutes` does not break the page: the section says so and shows the default."""
    if not profile.locations:
        return None
    zone_name = profile.locations[0].time_zone
    zone = ZoneInfo(zone_name)
    today = now.astimezone(zone).date()
    settings = slots.settings_for(db.session, profile.id)
    problems: list[str] = []
    first = today
    raw_from = (request.args.get("from") or "").strip()
    if raw_from:
        try:
            first = max(date.fromisoformat(raw_from), today)
        except ValueError:
            problems.append("That start date could not be read, so these are the next 7 days.")
    params = {
        "from": first.isoformat(),
        "to": (first + timedelta(days=SLOT_DAYS)).isoformat(),
        "minutes": (request.args.get("minutes") or "").strip(),
    }
    context = availability.slot_context(db.session, profile, now)  # read as the API reads its query
    try:
        wanted = parse_query(SlotQuery, params, context)
    except ValidationFailed as exc:
        problems.append(exc.message)
        wanted = parse_query(SlotQuery, {**params, "minutes": ""}, context)
    free = slots.free_slots(db.session, profile.id, wanted.start, wanted.end, wanted.minutes, now)
    by_day: dict[date, list[tuple[str, str]]] = {}
    for slot in free:
        local = slot.start.astimezone(zone)
        by_day.setdefault(local.date(), []).append((local.isoformat(), clock(local)))
    horizon_end = today + timedelta(days=settings.horizon_days)
    later = first + timedelta(days=SLOT_DAYS)
    earlier = first - timedelta(days=SLOT_DAYS)
    soonest = None
    if not free and wanted.minutes == slots.usual_length(settings):
        at = soonest_cache.next_available(db.session, [profile.id], now).get(profile.id)
        local = at.astimezone(zone) if at is not None else None
        if local is not None and not first <= local.date() < later:
            when = f"{local:%a} {local.day} {local:%b}, {clock(local)}"
            soonest = (when, local.date().isoformat())
    return OpenTimes(
        zone=zone_name,
        minutes=wanted.minutes,
        lengths=list(settings.session_lengths),
        first=first,
        last=first + timedelta(days=SLOT_DAYS - 1),
        days=[OpenDay(day, times) for day, times in sorted(by_day.items())],
        problem=" ".join(problems) or None,
        earlier=None if first <= today else max(earlier, today).isoformat(),
        later=later.isoformat() if later <= horizon_end else None,
        is_first_week=first == today,
        soonest=soonest,
    )


@bp.get("/therapists/<int:therapist_id>")
def therapist_profile(therapist_id: int) -> Any:
    """A therapist's public page with a week of open times; an unknown id gets the 404 page."""
    try:
        profile = therapists.get_profile(db.session, therapist_id)
    except NotFound as exc:
        abort(404, description=exc.message)
    open_times = _open_times(profile, datetime.now(UTC))
    return render_template("web/profile.html", profile=profile, today=date.today(), open_times=open_times)
