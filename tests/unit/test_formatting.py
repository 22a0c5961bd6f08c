"""massage_booking/formatting.py: one way money, dates and times read, on pages, in e-mails and in the FHIR
answer's text alike."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest

from massage_booking import formatting

NEW_YORK = ZoneInfo("America/New_York")


@pytest.mark.parametrize(
    ("cents", "currency", "shown"),
    [
        (12_000, "usd", "$120"),
        (12_050, "USD", "$120.50"),
        (96_000_005, "usd", "$960,000.05"),
        (0, "usd", "$0"),
        (12_000, "eur", "120 EUR"),  # "$" would be wrong for another currency
    ],
)
def test_money_reads_the_same_everywhere(cents, currency, shown):
    assert formatting.money(cents, currency) == shown


def test_a_price_field_shows_what_a_person_would_type():
    assert [formatting.typed_amount(c) for c in (12_000, 12_050, 123_400)] == ["120", "120.50", "1234"]


def test_times_read_on_the_practice_clock_with_its_abbreviation_across_daylight_saving():
    winter = datetime(2026, 12, 7, 14, 0, tzinfo=UTC)
    summer = datetime(2026, 7, 6, 13, 30, tzinfo=UTC)
    assert formatting.clock(winter.astimezone(NEW_YORK)) == "9:00 AM EST"
    assert formatting.clock(summer.astimezone(NEW_YORK)) == "9:30 AM EDT"
    assert formatting.clock(datetime(2026, 12, 7, 0, 5, tzinfo=NEW_YORK)) == "12:05 AM EST"
    assert formatting.local_moment(winter, "America/New_York") == "Mon, Dec 7, 9:00 AM EST"
    assert formatting.local_moment(winter, "Not/AZone") == "Mon, Dec 7, 2:00 PM UTC"
    assert formatting.local_moment(None, "America/New_York") == ""


def test_wall_times_and_ranges_read_on_the_same_12_hour_clock():
    assert [formatting.wall_clock(time(h, m)) for h, m in ((0, 0), (9, 5), (12, 0), (13, 30), (23, 55))] == [
        "12:00 AM",
        "9:05 AM",
        "12:00 PM",
        "1:30 PM",
        "11:55 PM",
    ]
    assert formatting.wall_range(time(9), time(17)) == "9:00 AM\u20135:00 PM"


def test_a_range_names_its_zone_once_or_at_each_end_across_a_clock_change():
    morning = datetime(2026, 12, 7, 10, 0, tzinfo=NEW_YORK)
    assert formatting.clock_range(morning, morning + timedelta(hours=1)) == "10:00 AM\u201311:00 AM EST"
    noon = datetime(2026, 7, 6, 11, 30, tzinfo=NEW_YORK)
    assert formatting.clock_range(noon, noon + timedelta(hours=2)) == "11:30 AM\u20131:30 PM EDT"
    # 2026-11-01: 02:00 EDT becomes 01:00 EST, so a 45-minute session from 01:30 EDT ends at 01:15 EST.
    start = datetime(2026, 11, 1, 5, 30, tzinfo=UTC).astimezone(NEW_YORK)
    end = (start.astimezone(UTC) + timedelta(minutes=45)).astimezone(NEW_YORK)
    assert formatting.clock_range(start, end) == "1:30 AM EDT\u20131:15 AM EST"
    # 2027-03-14: 02:00 EST becomes 03:00 EDT; an hour from 01:30 EST ends at 03:30 EDT.
    spring = datetime(2027, 3, 14, 6, 30, tzinfo=UTC).astimezone(NEW_YORK)
    later = (spring.astimezone(UTC) + timedelta(hours=1)).astimezone(NEW_YORK)
    assert formatting.clock_range(spring, later) == "1:30 AM EST\u20133:30 AM EDT"


def test_dates_read_in_full():
    assert formatting.long_date(date(2027, 3, 3)) == "March 3, 2027"
    assert formatting.day_heading(date(2026, 12, 7)) == "Monday, December 7"
    assert formatting.utc_datetime(datetime(2027, 3, 3, 14, 5, tzinfo=UTC)) == "March 3, 2027, 14:05 UTC"
    assert formatting.time_zone_label("America/New_York", datetime(2026, 12, 7, tzinfo=UTC)) == (
        "America/New_York (UTC\u221205:00 today)"
    )
