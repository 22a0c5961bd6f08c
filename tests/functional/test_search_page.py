"""The search page as a visitor uses it without JavaScript: the form, results, pages, empty state, errors.

Therapists are stored directly at real ZIP centroids (the profile editor is tested elsewhere), so the
distances below are what the offline gazetteer and geopy give for those places.
"""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, timedelta
from html import unescape
from urllib.parse import parse_qsl, urlsplit

import pytest

from massage_booking.models import (
    CredentialKind,
    CredentialStatus,
    InsurancePlan,
    NetworkMembership,
    OncologyCredential,
    Payer,
    PlanType,
    PracticeLocation,
    TherapistLanguage,
    TherapistModality,
    TherapistProfile,
)
from tests.pages import is_checked, result_names, selected, summary

TODAY = date.today()
# ZIP centroids as the zipcodes package has them.
MANHATTAN_10001 = ("10001", "New York", "NY", 40.7484, -73.9967)
MURRAY_HILL_10016 = ("10016", "New York", "NY", 40.7443, -73.9781)
BROOKLYN_11201 = ("11201", "Brooklyn", "NY", 40.6944, -73.9906)
NEWARK_07102 = ("07102", "Newark", "NJ", 40.7357, -74.1724)
PHILADELPHIA_19103 = ("19103", "Philadelphia", "PA", 39.9526, -75.1652)
BOSTON_02115 = ("02115", "Boston", "MA", 42.3427, -71.0922)


def add_plans(db) -> dict[str, InsurancePlan]:
    aetna = Payer(code="aetna", name="Aetna")
    cigna = Payer(code="cigna", name="Cigna")
    plans = {
        "aetna_ppo": InsurancePlan(payer=aetna, name="Open Choice PPO", plan_type=PlanType.PPO),
        "aetna_hmo": InsurancePlan(payer=aetna, name="Select HMO", plan_type=PlanType.HMO),
        "cigna_ppo": InsurancePlan(payer=cigna, name="Open Access Plus", plan_type=PlanType.PPO),
    }
    db.add_all([aetna, cigna])
    db.commit()
    return plans


def add_therapist(
    db,
    auth,
    name: str,
    place: tuple[str, str, str, float, float],
    *,
    oncology: str | None = None,
    oncology_expires: date | None = None,
    plans: tuple[InsurancePlan, ...] = (),
    modalities: tuple[str, ...] = ("Swedish massage",),
    languages: tuple[str, ...] = ("English",),
    accepting: bool = True,
    rate_cents: int = 12000,
) -> TherapistProfile:
    zip_code, city, state, lat, lon = place
    user = auth.create_user(role="therapist")
    profile = TherapistProfile(
        user_id=user.id,
        name=name,
        license_number="MT-1",
        license_state=state,
        license_expires_on=TODAY + timedelta(days=365),
        license_verified_at=datetime.now(UTC),
        session_rate_cents=rate_cents,
        accepting_new_patients=accepting,
    )
    profile.locations.append(
        PracticeLocation(
            city=city,
            state=state,
            zip_code=zip_code,
            latitude=lat,
            longitude=lon,
            time_zone="America/New_York",
        )
    )
    profile.modalities.extend(TherapistModality(modality=m) for m in modalities)
    profile.languages.extend(TherapistLanguage(language=lang) for lang in languages)
    profile.networks.extend(NetworkMembership(plan=plan) for plan in plans)
    db.add(profile)
    db.flush()
    if oncology:
        db.add(
            OncologyCredential(
                therapist_id=profile.id,
                kind=CredentialKind.S4OM_FOUNDATIONAL,
                issuer=oncology,
                training_hours=32,
                issued_on=TODAY - timedelta(days=400),
                expires_on=oncology_expires,
                status=CredentialStatus.VERIFIED,
            )
        )
    db.commit()
    return profile


def text_of(response) -> str:
    return response.get_data(as_text=True)


def field_error(page: str, field: str) -> str:
    match = re.search(rf'<p class="error" id="{field}-error">(.*?)</p>', page, re.S)
    assert match, f"no error beside {field}"
    return unescape(match.group(1))


def query_of(url: str) -> dict[str, str]:
    return dict(parse_qsl(urlsplit(unescape(url)).query))


@pytest.fixture
def city_therapists(db, auth):
    """Four therapists around New York, one in Philadelphia and one in Boston."""
    plans = add_plans(db)
    expires = TODAY + timedelta(days=200)
    return {
        "plans": plans,
        "expires": expires,
        "murray": add_therapist(
            db,
            auth,
            "Mara Murray",
            MURRAY_HILL_10016,
            oncology="Healwell Institute",
            oncology_expires=expires,
            plans=(plans["aetna_ppo"], plans["cigna_ppo"]),
        ),
        "brooklyn": add_therapist(
            db,
            auth,
            "Bea Brooklyn",
            BROOKLYN_11201,
            plans=(plans["aetna_ppo"],),
            languages=("English", "Spanish"),
        ),
        "newark": add_therapist(
            db,
            auth,
            "Ned Newark",
            NEWARK_07102,
            oncology="Mayo Clinic",
            plans=(plans["aetna_hmo"],),
            modalities=("Manual lymphatic drainage",),
            accepting=False,
        ),
        "chelsea": add_therapist(db, auth, "Chen Chelsea", MANHATTAN_10001, rate_cents=9550),
        "philly": add_therapist(db, auth, "Phil Adelphia", PHILADELPHIA_19103, oncology="Healwell Institute"),
        "boston": add_therapist(db, auth, "Bo Ston", BOSTON_02115, oncology="Dana-Farber"),
    }


# --- the form -----------------------------------------------------------------------------------------


def test_without_a_query_the_page_is_the_empty_form(client, db):
    add_plans(db)
    response = client.get("/therapists")
    page = text_of(response)

    assert response.status_code == 200
    assert "<h1>Find a therapist</h1>" in page
    assert re.search(r'<form class="search-page-form" method="get" action="/therapists" role="search"', page)
    assert '<label for="near">Where? ZIP code, City, ST, or latitude,longitude</label>' in page
    radius = re.search(r'<select id="radius" name="radius">(.*?)</select>', page, re.S).group(1)
    assert re.findall(r'value="(\d+)"', radius) == ["5", "10", "25", "50", "100", "250"]
    assert selected(page, "radius") == ["25"]
    assert re.findall(r'<option[^>]*value="(mi|km)"', page) == ["mi", "km"]
    assert "<legend>How far from there</legend>" in page
    assert '<legend class="visually-hidden">Filters</legend>' in page
    assert re.search(r'<details class="filter-panel" open>\s*<summary>Filters and sorting</summary>', page)
    assert re.search(r'<input[^>]*id="oncology_trained"[^>]*value="true"', page)
    assert re.search(r'<input[^>]*id="accepting_new_patients"[^>]*value="true"', page)
    # Plans grouped by payer.
    insurance = re.search(r'<select[^>]*id="insurance"[^>]*>(.*?)</select>', page, re.S).group(1)
    assert re.search(r'<optgroup label="Aetna"><option value="\d+">Open Choice PPO</option>', insurance)
    assert '<optgroup label="Cigna">' in insurance
    # Conditions from the evidence registry; the cancer-related ones say what they imply.
    condition = re.search(r'<select[^>]*id="condition"[^>]*>(.*?)</select>', page, re.S).group(1)
    assert re.search(
        r'<option value="cancer_related_pain">Cancer-related pain \(oncology-trained therapists only\)',
        condition,
    )
    assert re.search(r'<option value="chronic_neck_pain">Chronic neck pain</option>', condition)
    assert re.search(r'<option value="Manual lymphatic drainage">', page)
    assert re.search(r'<option value="Spanish">', page)
    assert re.findall(r'<option[^>]*value="(distance|soonest)"', page) == ["distance", "soonest"]
    assert "results-summary" not in page and "leaflet" not in page


def test_home_page_search_box_sends_the_same_fields(client):
    page = text_of(client.get("/"))
    form = re.search(
        r'<form class="search-form home-search" method="get" action="/therapists".*?</form>', page, re.S
    )
    assert form, "no search form on the home page"
    assert '<label for="near">Where? ZIP code, City, ST, or latitude,longitude</label>' in form.group(0)
    assert re.search(r'<input[^>]*name="oncology_trained"[^>]*value="true"', form.group(0))
    assert 'type="submit"' in form.group(0)


def test_empty_filters_from_a_submitted_form_are_dropped_from_the_url(client, db):
    response = client.get(
        "/therapists?near=10001&radius=25&unit=mi&insurance=&condition=&modality=&language=&sort=distance"
    )
    assert response.status_code == 302
    assert response.headers["Location"] == "/therapists?near=10001&radius=25&unit=mi&sort=distance"


# --- places the acceptance criteria name ----------------------------------------------------------------


@pytest.mark.parametrize(
    ("near", "heading", "first"),
    [
        ("10001", "New York, NY 10001", "Chen Chelsea"),
        ("Boston, MA", "Boston, MA", "Bo Ston"),
        ("02115-1234", "Boston, MA 02115", "Bo Ston"),
        ("40.7,-74.0", None, "Bea Brooklyn"),
    ],
)
def test_each_kind_of_place_finds_the_nearest_therapists(client, city_therapists, near, heading, first):
    response = client.get("/therapists", query_string={"near": near})
    page = text_of(response)

    assert response.status_code == 200, field_error(page, "near")
    assert result_names(page)[0] == first
    title = re.search(r"<h1>Therapists near (.*?)</h1>", page).group(1)
    if heading:
        assert unescape(title) == heading
    assert "Phil Adelphia" not in result_names(page)  # 80 miles from New York, 270 from Boston


def test_results_are_nearest_first_with_one_decimal_distances_and_the_count(client, city_therapists):
    page = text_of(client.get("/therapists?near=10016"))

    assert result_names(page) == ["Mara Murray", "Chen Chelsea", "Bea Brooklyn", "Ned Newark"]
    assert summary(page) == "Showing 1–4 of 4 therapists within 25 mi of New York, NY 10016, nearest first."
    distances = re.findall(
        r'<p class="distance"><span class="visually-hidden">Distance: </span>([^<]+)</p>', page
    )
    assert distances[0] == "less than 0.1 mi"
    assert all(re.fullmatch(r"\d+\.\d mi", d) for d in distances[1:]), distances
    assert 9.5 < float(distances[3].split()[0]) < 11  # Newark


def test_kilometres_when_asked(client, city_therapists):
    page = text_of(client.get("/therapists?near=10016&radius=10&unit=km"))
    distances = re.findall(
        r'<p class="distance"><span class="visually-hidden">Distance: </span>([^<]+)</p>', page
    )
    assert "Ned Newark" not in result_names(page)  # 16.4 km away
    assert all(d.endswith(" km") for d in distances)
    assert "Bea Brooklyn" in result_names(page)  # 5.6 km
    assert "within 10 km of" in summary(page)
    assert selected(page, "unit") == ["km"]


def test_a_result_shows_badges_plans_and_price(client, city_therapists):
    plans = city_therapists["plans"]
    page = text_of(client.get(f"/therapists?near=10016&insurance={plans['cigna_ppo'].id}"))

    assert result_names(page) == ["Mara Murray"]
    card = re.search(r'<li class="result".*?</li>\s*</ol>', page, re.S).group(0)
    assert "Oncology-trained" in card and "Healwell Institute" in card
    assert city_therapists["expires"].strftime("%B") in card  # valid until <date>
    assert "Licensed in NY" in card
    assert "Cigna Open Access Plus (your plan)" in card and "Aetna Open Choice PPO" in card
    assert "$120 per 60-minute session" in card
    assert "Accepting new patients" in card


def test_filters_narrow_the_results_and_stay_selected(client, city_therapists):
    plans = city_therapists["plans"]
    aetna_ppo = plans["aetna_ppo"].id
    page = text_of(client.get(f"/therapists?near=10016&oncology_trained=true&insurance={aetna_ppo}"))

    assert result_names(page) == ["Mara Murray"]
    assert is_checked(page, "oncology_trained")
    assert selected(page, "insurance") == [str(aetna_ppo)]
    assert "verified oncology training; in network for Aetna Open Choice PPO" in page

    assert result_names(text_of(client.get("/therapists?near=10016&language=spanish"))) == ["Bea Brooklyn"]
    assert result_names(text_of(client.get("/therapists?near=10016&modality=Manual+lymphatic+drainage"))) == [
        "Ned Newark"
    ]
    accepting = result_names(text_of(client.get("/therapists?near=10016&accepting_new_patients=true")))
    assert "Ned Newark" not in accepting and len(accepting) == 3


def test_a_cancer_related_condition_implies_oncology_training(client, city_therapists):
    page = text_of(client.get("/therapists?near=10016&condition=G89.3"))  # cancer-related pain by ICD-10

    assert result_names(page) == ["Mara Murray", "Ned Newark"]
    assert selected(page, "condition") == ["cancer_related_pain"]
    assert "verified oncology training; condition: Cancer-related pain" in page


# --- pages ----------------------------------------------------------------------------------------------


def test_pages_of_twenty_with_showing_x_to_y_of_total(client, db, auth):
    for i in range(45):
        add_therapist(
            db, auth, f"Therapist {i:02d}", ("10016", "New York", "NY", 40.7443 + i * 0.001, -73.9781)
        )

    first = text_of(client.get("/therapists?near=10016&oncology_trained=false"))
    third = text_of(client.get("/therapists?near=10016&oncology_trained=false&page=3"))

    assert summary(first).startswith("Showing 1–20 of 45 therapists")
    assert summary(third).startswith("Showing 41–45 of 45 therapists")
    assert result_names(first)[0] == "Therapist 00" and result_names(third) == [
        f"Therapist {i}" for i in range(40, 45)
    ]
    assert '<ol class="result-list" start="41">' in third
    assert "Page 1 of 3" in first
    assert 'href="/therapists?near=10016&amp;oncology_trained=false&amp;page=2"' in first
    assert re.search(
        r'<a href="/therapists\?near=10016&amp;oncology_trained=false&amp;page=3" aria-current="page">', third
    )


def test_a_page_past_the_end_links_back(client, city_therapists):
    page = text_of(client.get("/therapists?near=10016&page=9"))
    assert "4 therapists, but there is no page 9" in summary(page)
    assert 'href="/therapists?near=10016"' in page


# --- the empty state ------------------------------------------------------------------------------------


def test_no_results_offers_a_wider_radius_and_dropping_each_filter(client, city_therapists):
    plans = city_therapists["plans"]
    cigna = plans["cigna_ppo"].id
    url = f"/therapists?near=19103&radius=10&oncology_trained=true&insurance={cigna}&language=Spanish"
    page = text_of(client.get(url))

    assert result_names(page) == []
    assert summary(page).startswith("No therapists found within 10 mi of Philadelphia, PA 19103")
    links = {
        unescape(label): query_of(href)
        for href, label in re.findall(r'<li><a href="([^"]+)">([^<]+)</a></li>', page)
    }
    base = {
        "near": "19103",
        "radius": "10",
        "oncology_trained": "true",
        "insurance": str(cigna),
        "language": "Spanish",
    }
    assert links["Search within 25 mi instead"] == {**base, "radius": "25"}
    assert links["Search within 250 mi, the widest search"] == {**base, "radius": "250"}
    assert links["Include therapists without verified oncology training"] == {
        k: v for k, v in base.items() if k != "oncology_trained"
    }
    assert links["Include therapists outside the Cigna Open Access Plus network"] == {
        k: v for k, v in base.items() if k != "insurance"
    }
    assert links["Any language, not only Spanish"] == {k: v for k, v in base.items() if k != "language"}
    assert links["Drop every filter"] == {"near": "19103", "radius": "10"}
    # Following a suggestion does what it says: Phil is oncology-trained but in no network.
    assert result_names(text_of(client.get("/therapists?near=19103&radius=10&oncology_trained=true"))) == [
        "Phil Adelphia"
    ]


def test_no_widening_past_the_largest_radius(client, city_therapists):
    page = text_of(client.get("/therapists?near=99501&radius=250"))  # Anchorage
    assert "Search within" not in page
    assert "No therapists have joined within 250 mi of Anchorage, AK 99501 yet" in page


# --- invalid input --------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("near", "message"),
    [("zzz", 'We could not find "zzz"'), ("00000", "We could not find ZIP code 00000.")],
)
def test_a_place_we_cannot_find_gets_a_clear_message_beside_the_field(client, city_therapists, near, message):
    response = client.get("/therapists", query_string={"near": near, "oncology_trained": "true"})
    page = text_of(response)

    assert response.status_code == 422
    assert message in field_error(page, "near")
    near_input = re.search(r'<input[^>]*\bid="near"[^>]*>', page).group(0)
    assert 'aria-describedby="near-hint near-error"' in near_input and 'aria-invalid="true"' in near_input
    assert 'role="alert"' in page and 'href="#near"' in page  # the summary links to the field
    assert re.search(rf'<input[^>]*value="{near}"', page)  # what was typed stays in the box
    assert is_checked(page, "oncology_trained")
    assert "results-summary" not in page
    assert "<title>Check your search" in page


def test_an_ambiguous_place_offers_the_places_it_could_be(client, city_therapists):
    response = client.get("/therapists?near=Springfield&radius=50")
    page = text_of(response)

    assert response.status_code == 422
    suggestions = re.search(r'<div class="place-suggestions" id="near-suggestions">(.*?)</div>', page, re.S)
    assert suggestions, page
    links = {
        unescape(label): query_of(href)
        for href, label in re.findall(r'<a href="([^"]+)">([^<]+)</a>', suggestions.group(1))
    }
    assert "Springfield, MA" in links and "Springfield, IL" in links
    assert links["Springfield, MA"] == {"near": "Springfield, MA", "radius": "50"}
    assert client.get("/therapists?near=Springfield,+MA&radius=50").status_code == 200


def test_a_suggested_place_also_drops_the_other_bad_values(client, city_therapists):
    page = text_of(client.get("/therapists?near=Springfield&radius=999&oncology_trained=true"))
    suggestions = re.search(r'<div class="place-suggestions" id="near-suggestions">(.*?)</div>', page, re.S)
    href = re.search(r'<a href="([^"]+)">Springfield, MA</a>', suggestions.group(1)).group(1)
    assert query_of(href) == {"near": "Springfield, MA", "oncology_trained": "true"}
    assert field_error(page, "radius")


def test_every_bad_field_gets_its_own_message(client, city_therapists):
    response = client.get("/therapists?near=10016&radius=999&language=Klingon&modality=Shiatsu&sort=cheapest")
    page = text_of(response)

    assert response.status_code == 422
    assert "250 miles" in field_error(page, "radius")
    assert "Klingon" in field_error(page, "language")
    assert "Shiatsu" in field_error(page, "modality")
    assert field_error(page, "sort")
    assert selected(page, "radius") == ["999"]  # what was asked


def test_bad_page_number_is_a_message_not_a_500(client, city_therapists):
    response = client.get("/therapists?near=10016&page=abc")
    assert response.status_code == 422
    assert "page" in text_of(response)


def test_no_place_at_all_asks_for_one(client, city_therapists):
    response = client.get("/therapists?near=&oncology_trained=true")
    assert response.status_code == 422
    assert "Enter a ZIP code" in field_error(text_of(response), "near")


# --- the map --------------------------------------------------------------------------------------------


def test_the_map_gets_its_data_from_attributes_and_assets_from_static(client, city_therapists):
    response = client.get("/therapists?near=10016&radius=10")
    page = text_of(response)

    figure = re.search(r'<figure class="map-figure" hidden>(.*?)</figure>', page, re.S)
    assert figure, "the map's figure is hidden until the script shows it"
    div = re.search(r'<div id="results-map"[^>]*>', figure.group(1)).group(0)
    assert 'data-lat="40.7443"' in div and 'data-lon="-73.9781"' in div
    assert 'data-radius-meters="16093"' in div and 'data-unit="mi"' in div
    assert 'data-tile-url=""' in div  # testing config: no tile server
    assert "Map of the 3 therapists on this page" in figure.group(1)
    items = re.findall(r'<li class="result" ([^>]*)>', page)
    assert len(items) == 3 and all("data-marker-lat=" in i and "data-marker-url=" in i for i in items)
    assert '<link rel="stylesheet" href="/static/vendor/leaflet/leaflet.css">' in page
    assert '<script src="/static/vendor/leaflet/leaflet.js" defer></script>' in page
    assert '<script src="/static/js/search-map.js" defer></script>' in page
    # No inline script or style: the CSP allows neither.
    assert not re.search(r"<script(?![^>]*\bsrc=)[^>]*>", page)
    assert not re.search(r"\sstyle=", page)
    assert "script-src 'self'" in response.headers["Content-Security-Policy"]


def test_tile_server_and_attribution_come_from_config(app, client, city_therapists):
    app.config["MAP_TILE_URL"] = "https://tiles.example.org/{z}/{x}/{y}.png"
    app.config["MAP_TILE_ATTRIBUTION"] = "&copy; Example contributors"
    response = client.get("/therapists?near=10016")
    page = text_of(response)
    assert 'data-tile-url="https://tiles.example.org/{z}/{x}/{y}.png"' in page
    assert 'data-attribution="&amp;copy; Example contributors"' in page
    assert "https://tiles.example.org" in response.headers["Content-Security-Policy"]


def test_leaflet_is_served_from_static(client):
    for path in (
        "/static/vendor/leaflet/leaflet.js",
        "/static/vendor/leaflet/leaflet.css",
        "/static/vendor/leaflet/images/marker-icon.png",
        "/static/vendor/leaflet/LICENSE",
        "/static/js/search-map.js",
    ):
        response = client.get(path)
        assert response.status_code == 200, path
        response.close()
