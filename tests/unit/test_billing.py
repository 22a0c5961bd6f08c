"""Billing rules against the numbers in ../shared/reference/evidence.md §4.2 (CMS 8-minute rule) and the
24-hour refund policy of issue 6."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from massage_booking.domain.billing import (
    course_price_cents,
    cpt_97124_units,
    refundable,
    session_price_cents,
)

# evidence.md §4.2: 1 = 8-22, 2 = 23-37, 3 = 38-52, 4 = 53-67, 5 = 68-82, 6 = 83-97 minutes.
UNIT_TABLE = [(1, 8, 22), (2, 23, 37), (3, 38, 52), (4, 53, 67), (5, 68, 82), (6, 83, 97)]


@pytest.mark.parametrize(("units", "low", "high"), UNIT_TABLE)
def test_each_row_of_the_cms_table_holds_at_both_edges(units, low, high):
    assert cpt_97124_units(low) == cpt_97124_units(high) == units
    assert cpt_97124_units(low - 1) == units - 1
    assert cpt_97124_units(high + 1) == units + 1


@pytest.mark.parametrize(
    ("minutes", "units"),
    [(0, 0), (7, 0), (60, 4), (50, 3), (30, 2), (45, 3), (90, 6)],  # evidence.md §4.2's worked examples
)
def test_the_references_examples(minutes, units):
    assert cpt_97124_units(minutes) == units


@pytest.mark.parametrize("minutes", [-1, 7.5, True, "60"])
def test_minutes_must_be_a_non_negative_integer(minutes):
    with pytest.raises(ValueError):
        cpt_97124_units(minutes)


@pytest.mark.parametrize(
    ("hourly", "minutes", "cents"),
    [
        (12_000, 60, 12_000),
        (12_000, 90, 18_000),
        (12_000, 30, 6_000),
        (11_050, 45, 8_288),
        (10_001, 30, 5_001),
    ],
)
def test_a_session_costs_the_hourly_rate_pro_rata_rounded_half_up(hourly, minutes, cents):
    assert session_price_cents(hourly, minutes) == cents


def test_course_price_is_session_price_times_sessions_in_cents():
    assert course_price_cents(11_000, 8) == 88_000
    with pytest.raises(ValueError):
        course_price_cents(110.0, 8)


NOW = datetime(2026, 3, 2, 12, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    ("ahead", "waived", "refunded"),
    [
        (timedelta(hours=24), False, True),  # exactly 24 hours ahead still counts
        (timedelta(hours=24) - timedelta(seconds=1), False, False),
        (timedelta(hours=2), True, True),  # the therapist waived the notice
        (timedelta(days=7), False, True),
    ],
)
def test_refund_needs_24_hours_notice_unless_waived(ahead, waived, refunded):
    assert refundable(NOW + ahead, NOW, waived=waived) is refunded


def test_naive_datetimes_are_refused():
    with pytest.raises(ValueError, match="aware"):
        refundable(datetime(2026, 3, 9), NOW)
