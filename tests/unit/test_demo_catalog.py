"""The demo vocabulary fits the columns it is stored in and says nothing the seeder cannot back up."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from massage_booking.demo import catalog
from massage_booking.demo.data import geography, npi_with_check_digit
from massage_booking.domain.identifiers import US_STATES, is_valid_npi
from massage_booking.models import CredentialKind, InsurancePlan, OncologyCredential, Payer


def column_length(model: type, column: str) -> int:
    return model.__table__.c[column].type.length


def test_payers_have_unique_codes_and_names_and_two_or_three_plans():
    assert len(catalog.PAYERS) >= 6
    assert (
        len({p.code for p in catalog.PAYERS}) == len({p.name for p in catalog.PAYERS}) == len(catalog.PAYERS)
    )
    for payer in catalog.PAYERS:
        assert len(payer.code) <= column_length(Payer, "code")
        assert 2 <= len(payer.plans) <= 3
        assert len({plan.name for plan in payer.plans}) == len(payer.plans)
        assert all(len(plan.name) <= column_length(InsurancePlan, "name") for plan in payer.plans)
        assert payer.states is None or payer.states <= set(US_STATES)


def test_issuers_fit_and_s4om_courses_meet_the_24_hour_minimum():
    assert len(catalog.ISSUER_WEIGHTS) == len(catalog.ISSUERS)
    assert {spec.kind for spec in catalog.ISSUERS} == set(CredentialKind)
    for spec in catalog.ISSUERS:
        assert len(spec.issuer) <= column_length(OncologyCredential, "issuer")
        if spec.kind is CredentialKind.S4OM_FOUNDATIONAL:
            assert min(spec.hours) >= catalog.S4OM_MIN_FOUNDATIONAL_HOURS
    assert len(catalog.REJECTED_NOTE) <= column_length(OncologyCredential, "review_note")


def test_every_metro_has_zips_within_its_radius():
    geo = geography()
    for metro, zips in zip(catalog.METROS, geo.metro_zips, strict=True):
        assert zips, metro.name
    alaska = {p.state for p in geo.metro_zips[[m.name for m in catalog.METROS].index("Anchorage")]}
    assert alaska == {"AK"}


def test_every_modality_has_bio_sentences_and_fragments_read_as_prose():
    assert set(catalog.MODALITY_SENTENCES) == set(catalog.MODALITIES)
    fragments = [
        *catalog.ONCOLOGY_OPENERS,
        *catalog.GENERAL_OPENERS,
        *catalog.APPROACH_SENTENCES,
        *catalog.PRACTICAL_SENTENCES,
        *(s for sentences in catalog.MODALITY_SENTENCES.values() for s in sentences),
    ]
    for fragment in fragments:
        text = fragment.format(years=12, city="Denver")
        assert text[0].isupper() and text.endswith(".") and text.count(".") == 1, text
        assert "lorem" not in text.lower()
    assert not any(
        "oncology" in opener.lower() or "cancer" in opener.lower() for opener in catalog.GENERAL_OPENERS
    )


def test_the_npi_check_digit_matches_the_cms_example():
    assert npi_with_check_digit("123456789") == "1234567893"  # the CMS worked example


@given(st.integers(min_value=100_000_000, max_value=299_999_999), st.integers(min_value=1, max_value=9))
def test_generated_npis_always_pass_the_npi_check(base, shift):
    npi = npi_with_check_digit(str(base))
    assert is_valid_npi(npi)
    wrong = npi[:-1] + str((int(npi[-1]) + shift) % 10)
    assert not is_valid_npi(wrong)
