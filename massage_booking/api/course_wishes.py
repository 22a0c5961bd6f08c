"""The planner's part of POST /api/v1/courses/plan: the patient's wishes in, whole-course proposals out.

Parsed here, at the edge, into the service's typed `course_proposals.Wishes`; the planner then judges what
only the calendar can (a start in the past or beyond the booking horizon). Every bad field is named at once
(`weekdays[1]`, `time_windows[0].end`), and nothing is written either way.
"""

from __future__ import annotations

from datetime import date, time
from typing import Any

from massage_booking.domain import course_patterns
from massage_booking.domain.errors import ValidationFailed
from massage_booking.services import availability, course_proposals

MAX_WINDOWS = 7


def parse_wishes(raw: dict[str, Any]) -> course_proposals.Wishes:
    errors: dict[str, list[str]] = {}

    def bad(field: str, message: str) -> None:
        errors.setdefault(field, []).append(message)

    earliest = _date(raw.get("earliest_start"), "earliest_start", bad)
    not_after = _date(raw.get("not_after"), "not_after", bad)
    weekdays: set[int] = set()
    names = raw.get("weekdays", [])
    if not isinstance(names, list) or len(names) > 7:
        bad("weekdays", 'Give weekdays as a list of names, like ["monday", "wednesday"].')
    else:
        for n, name in enumerate(names):
            if isinstance(name, str) and name.strip().lower() in availability.WEEKDAYS:
                weekdays.add(availability.WEEKDAYS.index(name.strip().lower()))
            else:
                bad(f"weekdays[{n}]", "Use a weekday's name: monday, tuesday, ... sunday.")
    windows: list[tuple[time, time]] = []
    items = raw.get("time_windows", [])
    if not isinstance(items, list) or len(items) > MAX_WINDOWS:
        bad("time_windows", f'Give up to {MAX_WINDOWS} windows like [{{"start": "09:00", "end": "12:00"}}].')
    else:
        for n, item in enumerate(items):
            if not isinstance(item, dict):
                bad(f"time_windows[{n}]", 'Give a window as {"start": "09:00", "end": "12:00"}.')
                continue
            start = _clock(item.get("start"), f"time_windows[{n}].start", bad)
            end = _clock(item.get("end"), f"time_windows[{n}].end", bad)
            if start is not None and end is not None:
                if end <= start:
                    bad(f"time_windows[{n}].end", "The window must end after it starts.")
                else:
                    windows.append((start, end))
    count = raw.get("count", course_proposals.DEFAULT_COUNT)
    if type(count) is not int or not course_patterns.MIN_COUNT <= count <= course_patterns.MAX_COUNT:
        bad("count", f"Ask for {course_patterns.MIN_COUNT} to {course_patterns.MAX_COUNT} proposals.")
    if earliest is not None and not_after is not None and not_after < earliest:
        bad("not_after", "The last date must not be before the earliest start.")
    if errors:
        raise ValidationFailed.for_fields(errors)
    return course_proposals.Wishes(
        earliest_start=earliest,
        weekdays=frozenset(weekdays),
        time_windows=tuple(windows),
        not_after=not_after,
        count=count,
    )


def _date(value: Any, field: str, bad: Any) -> date | None:
    if value is None:
        return None
    try:
        if not isinstance(value, str) or len(value) != 10:
            raise ValueError
        day = date.fromisoformat(value)
    except ValueError:
        bad(field, "Give a date as YYYY-MM-DD, in the practice's time zone.")
        return None
    return day


def _clock(value: Any, field: str, bad: Any) -> time | None:
    try:
        if not isinstance(value, str) or len(value) != 5:
            raise ValueError
        found = time.fromisoformat(value)
    except ValueError:
        bad(field, 'Give a local time as HH:MM, like "09:00".')
        return None
    return found


def proposals_json(found: course_proposals.CourseProposals) -> dict[str, Any]:
    result, plan = found.result, found.plan
    return {
        "plan": {
            "condition": plan.condition_id,
            "session_minutes": plan.session_minutes,
            "sessions_per_week": plan.sessions_per_week,
            "total_sessions": plan.total_sessions,
        },
        "therapist": {"id": found.therapist.id, "name": found.therapist.name},
        "time_zone": found.location.time_zone,
        "searched": {"from": result.first_day.isoformat(), "to": result.last_day.isoformat()},
        "proposals": [_proposal_json(p) for p in result.proposals],
        "partial": _proposal_json(result.partial) if result.partial is not None else None,
        "blocked": [
            {
                "kind": b.kind,
                "sessions": list(b.sessions),
                "weekday": availability.WEEKDAYS[b.weekday] if b.weekday is not None else None,
                "time": f"{b.time:%H:%M}" if b.time is not None else None,
                "until": b.until.isoformat() if b.until is not None else None,
                "message": b.sentence(found.therapist.name),
            }
            for b in result.blocked
        ],
    }


def _proposal_json(proposal: course_patterns.Proposal) -> dict[str, Any]:
    pattern = proposal.pattern
    return {
        "rank": proposal.rank,
        "complete": proposal.complete,
        "pattern": {
            "weekdays": [availability.WEEKDAYS[d] for d in pattern.weekly],
            "every_other_week": [availability.WEEKDAYS[d] for d in pattern.alternate],
            "time": f"{pattern.time:%H:%M}",
            "description": pattern.describe(),
        },
        "starts": [s.start.isoformat() for s in proposal.sessions],
        "sessions": [
            {
                "number": s.number,
                "start": s.start.isoformat(),
                "end": s.end.isoformat(),
                "free": s.free,
                "holiday": s.holiday,
                "cause": s.cause,
                "alternatives": [
                    {"start": a.start.isoformat(), "end": a.end.isoformat(), "keeps_spacing": a.keeps_spacing}
                    for a in s.alternatives
                ],
            }
            for s in proposal.sessions
        ],
        "reasons": list(proposal.reasons),
        "explanation": proposal.explanation,
        "holidays": [{"date": d.isoformat(), "name": name} for d, name in proposal.holidays],
    }
