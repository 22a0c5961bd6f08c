"""massage_booking/formatting.py: one way money, dates and times read, on pages, in e-mails and in the FHIR
answer's text alike."""

from __future__ import annotations

from datetime import UTC, date, datetime
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


def test_dates_read_in_full():
    assert formatting.long_date(date(2027, 3, 3)) == "March 3, 2027"
    assert formatting.day_heading(date(2026, 12, 7)) == "Monday, December 7"
    assert formatting.utc_datetime(datetime(2027, 3, 3, 14, 5, tzinfo=UTC)) == "March 3, 2027, 14:05 UTC"
    assert formatting.time_zone_label("America/New_York", datetime(2026, 12, 7, tzinfo=UTC)) == (
        "America/New_York (UTC\u221205:00 today)"
    )
