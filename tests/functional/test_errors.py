"""Unexpected errors give a friendly page (or the JSON envelope) and leave nothing half-written."""

from __future__ import annotations

from sqlalchemy import func, select

from massage_booking.extensions import db as ext_db
from massage_booking.models import Role, User


def _add_user_then_fail() -> str:
    ext_db.session.add(
        User(email="half@example.org", password_hash="x", role=Role.PATIENT, display_name="Half")
    )
    ext_db.session.flush()
    raise RuntimeError("boom")


def test_a_500_rolls_back_and_shows_the_error_page(app, client, db):
    app.add_url_rule("/boom", "boom", _add_user_then_fail)
    app.add_url_rule("/api/v1/boom", "api_boom", _add_user_then_fail)

    page = client.get("/boom")
    assert page.status_code == 500
    assert page.mimetype == "text/html"
    assert "boom" not in page.get_data(as_text=True)  # no internals leak to the visitor

    api = client.get("/api/v1/boom")
    assert api.status_code == 500
    assert api.get_json()["error"]["code"] == "internal_error"

    db.rollback()
    assert db.scalar(select(func.count()).select_from(User)) == 0


def test_405_on_the_api_is_json(client):
    response = client.get("/api/v1/auth/token")
    assert response.status_code == 405
    assert response.get_json()["error"]["code"] == "method_not_allowed"
