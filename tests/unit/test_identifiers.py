"""NPI, ZIP and state checks: what a therapist types into their profile."""

from __future__ import annotations

import pytest

from massage_booking.domain.identifiers import is_us_state, is_valid_npi, is_zip_code


@pytest.mark.parametrize("npi", ["1234567893", "1245319599", "1003000126"])
def test_real_npis_pass_the_check_digit(npi):
    assert is_valid_npi(npi)


@pytest.mark.parametrize("npi", ["1234567890", "123456789", "12345678931", "abcdefghij", ""])
def test_wrong_npis_fail(npi):
    assert not is_valid_npi(npi)


def test_zip_and_state():
    assert is_zip_code("10016") and is_zip_code("10016-1234")
    assert not is_zip_code("1001") and not is_zip_code("10016-12") and not is_zip_code("ABCDE")
    assert is_us_state("ny") and is_us_state("PR")
    assert not is_us_state("XX")
