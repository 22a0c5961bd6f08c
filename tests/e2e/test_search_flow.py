"""A patient searches from the home page, narrows the search, reads the map and opens a profile, in a real
browser against the real app with 300 demo therapists.

Locators go by role and accessible name or by label, as a screen reader would find things. The map is
checked for what the page promises: one marker per result on the page, the search circle, and popups
linking to profiles; with no tile server configured (the testing config) it must still draw all of that,
and the Content-Security-Policy (scripts and styles from 'self' only) must not block any of it.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect

from massage_booking import create_app
from massage_booking.demo.data import seed_demo
from massage_booking.extensions import db

ARTIFACTS_DIR = Path(__file__).resolve().parents[1] / "artifacts"  # git-ignored
PLAN_PAYER = "Cigna Healthcare"
PLAN_NAME = "Open Access Plus"


@pytest.fixture
def seeded_server(live_server: str, tmp_path: Path) -> str:
    """The live server, its database (the fixture's tmp_path/live.sqlite3) holding the demo data."""
    app = create_app("testing", {"SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp_path / 'live.sqlite3'}"})
    with app.app_context():
        seed_demo(db.session, therapists=300)
        db.session.commit()
        db.engine.dispose()
    return live_server


def results(page: Page):
    return page.locator("ol.result-list > li")


def test_search_by_zip_with_filters_shows_results_and_map_then_a_profile(
    seeded_server: str, page: Page, console_errors: list[str]
):
    page.goto(seeded_server + "/")
    home_search = page.get_by_role("search", name="Find a therapist near you")
    home_search.get_by_label("Where? ZIP code, City, ST, or latitude,longitude").fill("10001")
    home_search.get_by_role("button", name="Search").click()

    expect(page.get_by_role("heading", level=1)).to_have_text("Therapists near New York, NY 10001")
    expect(page).to_have_url(re.compile(r"/therapists\?near=10001$"))
    status = page.get_by_role("status")
    expect(status).to_contain_text(re.compile(r"Showing 1–20 of \d+ therapists within 25 mi"))

    # Narrow it: oncology-trained and in-network for one plan (the select groups plans by payer).
    search = page.get_by_role("search", name="Find a therapist")
    search.get_by_label("Only therapists with verified oncology massage training").check()
    plan = page.locator(f'#insurance optgroup[label="{PLAN_PAYER}"] option', has_text=PLAN_NAME)
    search.get_by_label("Insurance plan").select_option(plan.get_attribute("value"))
    search.get_by_role("button", name="Search").click()

    expect(page).to_have_url(re.compile(r"oncology_trained=true.*insurance=\d+"))
    expect(status).to_contain_text(re.compile(r"Showing 1(–\d+)? of \d+ therap"))
    expect(page.get_by_text(f"in network for {PLAN_PAYER} {PLAN_NAME}")).to_be_visible()
    items = results(page)
    count = items.count()
    assert count > 0
    for i in range(count):  # every result says why it matched
        expect(items.nth(i)).to_contain_text("Oncology-trained")
        expect(items.nth(i)).to_contain_text(f"{PLAN_PAYER} {PLAN_NAME} (your plan)")
        expect(items.nth(i)).to_contain_text(re.compile(r"\d+\.\d mi|less than 0\.1 mi"))

    # The map: one numbered marker per result on the page, and the search circle.
    the_map = page.locator("#results-map")
    expect(the_map).to_be_visible()
    expect(the_map.locator(".leaflet-marker-icon")).to_have_count(count)
    expect(the_map.locator("path.search-circle")).to_have_count(1)
    expect(the_map).to_have_class(re.compile(r"results-map-plain"))  # no tile server in tests
    first_name = items.first.get_by_role("heading", level=3).get_by_role("link").inner_text()
    the_map.locator(".leaflet-marker-icon").first.click()
    popup = the_map.locator(".leaflet-popup")
    expect(popup).to_be_visible()
    expect(popup.get_by_role("link", name=first_name).first).to_be_visible()

    ARTIFACTS_DIR.mkdir(exist_ok=True)
    page.screenshot(path=ARTIFACTS_DIR / "search_flow_results.png", full_page=True)

    popup.get_by_role("link", name=first_name).first.click()
    expect(page.get_by_role("heading", level=1)).to_contain_text(first_name)
    expect(page.get_by_role("heading", name="Oncology massage training")).to_be_visible()
    page.screenshot(path=ARTIFACTS_DIR / "search_flow_profile.png", full_page=True)

    page.go_back()
    results(page).first.get_by_role("heading", level=3).get_by_role("link").click()
    expect(page.get_by_role("heading", level=1)).to_contain_text(first_name)
    assert console_errors == []


def test_next_page_moves_the_markers_with_the_list(seeded_server: str, page: Page, console_errors: list[str]):
    page.goto(seeded_server + "/therapists?near=10001&radius=50")
    status = page.get_by_role("status")
    expect(status).to_contain_text(re.compile(r"^Showing 1–20 of \d+"))
    total = int(re.search(r"of (\d+)", status.inner_text()).group(1))
    assert total > 20
    expect(page.locator("#results-map .leaflet-marker-icon")).to_have_count(20)

    page.get_by_role("navigation", name="Result pages").get_by_role("link", name="Next page").click()
    on_page_two = min(20, total - 20)
    expect(status).to_contain_text(f"Showing 21–{20 + on_page_two} of {total}")
    expect(page.locator("#results-map .leaflet-marker-icon")).to_have_count(on_page_two)
    expect(page.locator(".leaflet-marker-icon").first).to_have_text("21")
    assert console_errors == []


def test_a_place_we_cannot_find_and_an_empty_search_are_explained(seeded_server: str, page: Page):
    page.goto(seeded_server + "/therapists")
    where = page.get_by_label("Where? ZIP code, City, ST, or latitude,longitude")
    where.fill("zzz")
    page.get_by_role("button", name="Search").click()
    expect(page.get_by_role("alert")).to_contain_text('We could not find "zzz"')
    expect(where).to_have_attribute("aria-invalid", "true")
    expect(page.locator("#near-error")).to_contain_text("Try a 5-digit ZIP code or City, ST.")

    # Somewhere with nobody: the empty state offers a wider search, which finds someone.
    where.fill("59001")  # Absarokee, Montana
    page.get_by_label("Radius").select_option("5")
    page.get_by_role("button", name="Search").click()
    expect(page.get_by_role("status")).to_contain_text("No therapists found within 5 mi")
    expect(page.locator("#results-map")).to_have_count(0)
    page.get_by_role("link", name="Search within 10 mi instead").click()
    expect(page).to_have_url(re.compile(r"radius=10"))
    ARTIFACTS_DIR.mkdir(exist_ok=True)
    page.screenshot(path=ARTIFACTS_DIR / "search_flow_empty_state.png", full_page=True)


def test_the_page_works_without_javascript(seeded_server: str, browser):
    context = browser.new_context(java_script_enabled=False, viewport={"width": 390, "height": 844})
    try:
        page = context.new_page()
        page.goto(seeded_server + "/")
        page.get_by_label("Where? ZIP code, City, ST, or latitude,longitude").fill("Boston, MA")
        page.get_by_role("button", name="Search").click()
        expect(page.get_by_role("heading", level=1)).to_have_text("Therapists near Boston, MA")
        expect(page.get_by_role("status")).to_contain_text("Showing 1–")
        expect(page.locator(".map-figure")).to_be_hidden()  # no empty box where the map would be
        assert results(page).count() > 0
        page.screenshot(path=ARTIFACTS_DIR / "search_flow_no_js_phone.png", full_page=True)
    finally:
        context.close()


def test_on_a_phone_the_filters_fold_away_above_the_results(seeded_server: str, browser):
    context = browser.new_context(viewport={"width": 390, "height": 844})
    try:
        page = context.new_page()
        page.goto(seeded_server + "/therapists?near=10001&oncology_trained=true")
        panel = page.locator("details.filter-panel")
        expect(panel).not_to_have_attribute("open", re.compile(".*"))
        expect(page.get_by_text("Filters and sorting (1 in use)")).to_be_visible()
        expect(page.get_by_role("status")).to_be_in_viewport()  # the answer is on the first screen
        ARTIFACTS_DIR.mkdir(exist_ok=True)
        page.screenshot(path=ARTIFACTS_DIR / "search_flow_phone.png")
        page.get_by_text("Filters and sorting").click()
        expect(page.get_by_label("Only therapists with verified oncology massage training")).to_be_checked()
    finally:
        context.close()
