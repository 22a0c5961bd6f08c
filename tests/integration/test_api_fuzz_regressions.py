"""Inputs schemathesis (tests/integration/test_openapi_fuzz.py) found answered with a 500 or outside the
documented contract, each now a clear 4xx. Every test here failed before its fix."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from massage_booking.models import Payer, TimeOff, User
from tests.integration.session_data import make_therapist


@pytest.fixture
def therapist_headers(auth, db) -> dict[str, str]:
    user = make_therapist(auth, db)
    return {"Authorization": f"Bearer {auth.api_token(user.email)}"}


@pytest.fixture
def therapist_id(db, therapist_headers) -> int:
    from massage_booking.models import TherapistProfile

    return db.scalar(select(TherapistProfile.id))


def _assert_error(response, status: int, code: str) -> dict:
    assert response.status_code == status, response.get_data(as_text=True)
    body = response.get_json()
    assert body["error"]["code"] == code and body["error"]["message"]
    return body["error"]


# --- ids beyond any row: SQLite raised OverflowError binding them (500) -------------------------------------


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("GET", "/api/v1/therapists/99999999999999999999"),
        ("GET", "/api/v1/therapists/99999999999999999999/slots"),
        ("DELETE", "/api/v1/me/time-off/99999999999999999999"),
        ("GET", "/api/v1/courses/99999999999999999999"),
    ],
)
def test_an_id_beyond_the_database_range_is_not_found(client, therapist_headers, method, path):
    _assert_error(client.open(path, method=method, headers=therapist_headers), 404, "not_found")


# --- JSON bodies ------------------------------------------------------------------------------------------


def test_a_password_with_an_unpaired_surrogate_is_refused_not_a_500(client, db):
    # Valid JSON ("\ud800" is an escape JSON allows) that has no UTF-8 form: hashing it raised
    # UnicodeEncodeError.
    escaped = "\\ud800" * 12  # the six characters \ u d 8 0 0, as a client would send them
    body = '{"email": "pat@example.org", "name": "Pat", "password": "' + escaped + '"}'
    response = client.post("/api/v1/auth/register", data=body, content_type="application/json")
    _assert_error(response, 400, "bad_request")
    assert db.scalar(select(func.count()).select_from(User)) == 0


def test_a_nul_character_is_refused_before_anything_is_stored(client, db):
    # PostgreSQL text cannot hold NUL: this was a 500 there, and stored on SQLite.
    response = client.post(
        "/api/v1/auth/register",
        json={"email": "pat@example.org", "password": "correct horse battery", "display_name": "Pat\x00"},
    )
    error = _assert_error(response, 400, "bad_request")
    assert "NUL" in error["message"]
    assert db.scalar(select(func.count()).select_from(User)) == 0


def test_a_nul_in_a_nested_value_or_key_is_refused_too(client, therapist_headers, db):
    response = client.put(
        "/api/v1/me/availability",
        json={"weekly_hours": [{"weekday": "monday", "start": "09:00", "end": "17:00", "no\x00te": 1}]},
        headers=therapist_headers,
    )
    _assert_error(response, 400, "bad_request")
    response = client.post(
        "/api/v1/me/time-off", json={"date": "2031-01-02", "reason": "a\x00b"}, headers=therapist_headers
    )
    _assert_error(response, 400, "bad_request")
    assert db.scalar(select(func.count()).select_from(TimeOff)) == 0


def test_json_nested_past_the_parsers_depth_is_a_400(client):
    # json.loads raises RecursionError, which get_json(silent=True) does not catch.
    body = '{"email":' * 5000 + "1" + "}" * 5000
    response = client.post("/api/v1/auth/token", data=body, content_type="application/json")
    _assert_error(response, 400, "bad_request")


# --- digits that are not ASCII digits: str.isdigit() accepts "²", int() does not ----------------------------


def test_a_superscript_digit_in_days_is_a_422(client, therapist_headers):
    response = client.get("/api/v1/me/sessions", query_string={"days": "²"}, headers=therapist_headers)
    assert "days" in _assert_error(response, 422, "validation_failed")["details"]["fields"]


def test_a_superscript_digit_in_minutes_is_a_422(client, therapist_id):
    response = client.get(f"/api/v1/therapists/{therapist_id}/slots", query_string={"minutes": "²"})
    assert "minutes" in _assert_error(response, 422, "validation_failed")["details"]["fields"]


def test_a_superscript_digit_in_limit_is_a_422(client, auth, db):
    payer = Payer(code="ACME", name="Acme Health")
    db.add(payer)
    db.commit()
    insurer = auth.create_user("insurer")
    insurer.payer_id = payer.id
    db.commit()
    headers = {"Authorization": f"Bearer {auth.api_token(insurer.email)}"}
    response = client.get("/api/v1/eligibility/checks", query_string={"limit": "²"}, headers=headers)
    assert "limit" in _assert_error(response, 422, "validation_failed")["details"]["fields"]


# --- dates at the ends of the calendar: OverflowError in zone conversion or window arithmetic -------------


@pytest.mark.parametrize(
    ("path", "query", "field"),
    [
        ("/api/v1/therapists/{id}/slots", {"from": "9999-12-31"}, "from"),
        ("/api/v1/me/appointments", {"from": "9999-12-31"}, "from"),
        ("/api/v1/me/appointments", {"from": "0001-01-01T00:00+14:00"}, "from"),
        # Before 1900 zoneinfo gives local mean time (-04:56:02 in New York), not an RFC 3339 offset.
        ("/api/v1/me/appointments", {"from": "1700-01-01", "to": "1700-01-02"}, "from"),
    ],
)
def test_a_window_at_the_ends_of_the_calendar_is_a_422(
    client, therapist_headers, therapist_id, path, query, field
):
    response = client.get(path.format(id=therapist_id), query_string=query, headers=therapist_headers)
    assert field in _assert_error(response, 422, "validation_failed")["details"]["fields"]


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"start": "9999-12-31T22:00", "end": "9999-12-31T23:00"}, "start"),
        ({"start": "9999-12-31T23:00-12:00", "end": "9999-12-31T23:30-12:00"}, "start"),
        ({"start_date": "9999-12-31"}, "start_date"),
    ],
)
def test_time_off_at_the_end_of_the_calendar_is_a_422(client, therapist_headers, db, body, field):
    response = client.post("/api/v1/me/time-off", json=body, headers=therapist_headers)
    assert field in _assert_error(response, 422, "validation_failed")["details"]["fields"]
    assert db.scalar(select(func.count()).select_from(TimeOff)) == 0
