"""The NPI check: what a therapist types into their profile."""

from __future__ import annotations

import pytest

from massage_booking.domain.identifiers import is_valid_npi


@pytest.mark.parametrize("npi", ["1234567893", "1245319599", "1003000126"])
def test_real_npis_pass_the_check_digit(npi):
    assert is_valid_npi(npi)


@pytest.mark.parametrize("npi", ["1234567890", "123456789", "12345678931", "abcdefghij", ""])
def test_wrong_npis_fail(npi):
    assert not is_valid_npi(npi)
