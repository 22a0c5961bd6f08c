"""How people read money, dates and times, everywhere they are shown: pages, e-mails, the FHIR answer's
text and the reconciliation report.

Money is stored in integer cents with a currency; people read "$120" or "$120.50". Times are shown on the
practice's own clock with its zone's abbreviation ("9:00 AM EST"), because the patient travels to the
practice and the abbreviation tells them when their own clock differs. It is one 12-hour clock for
patients, therapists and e-mails alike; only what machines read (the JSON API, form values, iCalendar)
keeps ISO 8601 and 24-hour "HH:MM". Pure Python: web/formatting.py registers these as template filters,
notifications/compose.py and the services call them directly.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError


def amount(cents: int) -> str:
    """120 dollars as "120", 120.50 as "120.50", with thousands separated: a sum without its symbol, as
    a person would type it into a price field (without the separator) or read it beside a currency."""
    whole, rest = divmod(int(cents), 100)
    return f"{whole:,}" if rest == 0 else f"{whole:,}.{rest:02d}"


def typed_amount(cents: int) -> str:
    """The amount as a price field shows it to be edited: no thousands separator ("1200.50")."""
    return amount(cents).replace(",", "")


def money(cents: int, currency: str = "usd") -> str:
    """$120 or $120.50; other currencies keep their code, since "$" would be wrong for them."""
    return f"${amount(cents)}" if currency.lower() == "usd" else f"{amount(cents)} {currency.upper()}"


def long_date(day: date | None) -> str:
    """ "March 3, 2027"."""
    return "" if day is None else f"{day:%B} {day.day}, {day.year}"


def utc_datetime(moment: datetime | None) -> str:
    """ "March 3, 2027, 14:05 UTC": for records kept in UTC (audit, payments), read by staff."""
    return "" if moment is None else f"{moment:%B} {moment.day}, {moment.year}, {moment:%H:%M} UTC"


def time_zone_label(name: str, now: datetime | None = None) -> str:
    """ "America/New_York (UTC−05:00 today)": the offset tells a patient elsewhere when sessions are."""
    try:
        zone = ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        return name
    offset = (now or datetime.now(UTC)).astimezone(zone).utcoffset() or timedelta(0)
    minutes = int(offset.total_seconds()) // 60
    sign = "+" if minutes >= 0 else "\u2212"
    hours, mins = divmod(abs(minutes), 60)
    return f"{name} (UTC{sign}{hours:02d}:{mins:02d} today)"


def day_heading(day: date) -> str:
    """ "Monday, December 7": a day of a course or a slot list, whose year the page already shows."""
    return f"{day:%A}, {day:%B} {day.day}"


def wall_clock(value: time) -> str:
    """ "9:00 AM": a wall-clock time without a zone (working hours, a course's weekly time), on the same
    12-hour clock as `clock`."""
    hour, noon = value.hour % 12 or 12, "AM" if value.hour < 12 else "PM"
    return f"{hour}:{value:%M} {noon}"


def wall_range(start: time, end: time) -> str:
    """ "9:00 AM–5:00 PM": hours on a day, whose zone the page already names."""
    return f"{wall_clock(start)}\u2013{wall_clock(end)}"


def clock(moment: datetime) -> str:
    """ "9:00 AM EST": an aware time on its own clock, with its zone's abbreviation (it changes with DST)."""
    return f"{wall_clock(moment.time())} {moment:%Z}"


def clock_range(start: datetime, end: datetime) -> str:
    """ "10:00 AM–11:00 AM EST": both ends in full, so none is misread; each end names its zone only when
    a clock change falls between them ("1:30 AM EDT–1:15 AM EST")."""
    if start.tzname() == end.tzname():
        return f"{wall_range(start.time(), end.time())} {end:%Z}"
    return f"{clock(start)}\u2013{clock(end)}"


def local_moment(moment: datetime | None, zone_name: str) -> str:
    """ "Tue, Dec 2, 9:00 AM EST": a moment on the practice's clock (UTC if the zone is unknown)."""
    if moment is None:
        return ""
    try:
        local = moment.astimezone(ZoneInfo(zone_name))
    except (ZoneInfoNotFoundError, ValueError):
        local = moment.astimezone(UTC)
    return f"{local:%a}, {local:%b} {local.day}, {clock(local)}"
