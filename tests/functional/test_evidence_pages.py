"""The public Evidence pages: every plan with its sources, readable by anyone, linked from the nav."""

from __future__ import annotations

import re

from massage_booking.domain import evidence


def _text(html: str) -> str:
    return " ".join(re.sub(r"<[^>]+>", " ", html).split())


def test_evidence_page_lists_every_condition_with_its_plan_and_sources(client):
    response = client.get("/evidence")
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    text = _text(html)
    for condition in evidence.conditions():
        assert condition.name in text
        assert f'href="/evidence/{condition.id}"' in html
        assert condition.plan_citation.short in text
    assert "8 sessions of 60 minutes, twice a week for 4 weeks" in text
    assert "8 sessions of 60 minutes, once a week for 8 weeks" in text
    assert "15 sessions of 60 minutes, 3 every 2 weeks for 10 weeks" in text
    assert 'href="https://doi.org/10.1370/afm.1602"' in html  # Sherman 2014, checkable
    assert f"version {evidence.REGISTRY_VERSION}" in text
    assert "Not medical advice." in text


def test_evidence_page_explains_the_verification_tags(client):
    html = client.get("/evidence").get_data(as_text=True)
    for code, meaning in evidence.registry().verification_tags.items():
        assert f'<abbr class="evidence-tag" title="{meaning}">{code}</abbr>' in html


def test_platform_defaults_are_not_presented_as_studied_doses(client):
    text = _text(client.get("/evidence").get_data(as_text=True))
    assert "a platform default, not a studied dose" in text
    anxiety = _text(client.get("/evidence/breast_cancer_anxiety").get_data(as_text=True))
    assert "A platform default, not a studied dose" in anxiety


def test_condition_page_shows_plan_minimum_precautions_codes_and_full_references(client):
    response = client.get("/evidence/cancer_related_pain")
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    text = _text(html)
    pain = evidence.condition("cancer_related_pain")
    assert "<h1" in html and pain.name in text
    assert "6 sessions of 30 minutes, three times a week for 2 weeks" in text
    assert "Oncology-trained therapist required" in text
    assert "More than 5 sessions" in text
    assert "G89.3" in text and "Z51.5" in text
    for precaution in pain.precautions:
        assert precaution in text
    kutner = evidence.citation("kutner2008")
    assert kutner.title in text
    assert f'href="{kutner.link}"' in html
    assert 'rel="noopener noreferrer"' in html


def test_condition_page_for_a_non_cancer_condition_has_no_oncology_badge(client):
    text = _text(client.get("/evidence/knee_osteoarthritis").get_data(as_text=True))
    assert "Perlman 2012" in text
    assert "Oncology-trained therapist required" not in text


def test_unknown_condition_page_is_a_404_page(client):
    response = client.get("/evidence/not_a_condition")
    assert response.status_code == 404
    assert "We have no evidence page for that condition" in response.get_data(as_text=True)


def test_nav_links_to_evidence_for_visitors_and_marks_the_current_page(client, auth):
    home = client.get("/").get_data(as_text=True)
    assert 'href="/evidence"' in home
    page = client.get("/evidence/cipn").get_data(as_text=True)
    assert '<a href="/evidence" aria-current="page">Evidence</a>' in page

    auth.create_user(role="patient", email="pat@example.org")
    auth.login("pat@example.org")
    assert 'href="/evidence"' in client.get("/").get_data(as_text=True)
