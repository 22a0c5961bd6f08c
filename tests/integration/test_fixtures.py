"""The fixtures in tests/conftest.py keep their promises, in the SQLite and the PostgreSQL lane alike."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from massage_booking.models import Role, User


@pytest.mark.parametrize("run", [1, 2])
def test_every_test_starts_on_an_empty_database_with_ids_from_one(run, auth, db):
    assert db.scalar(select(func.count()).select_from(User)) == 0
    assert auth.create_user().id == 1


def test_requests_do_not_share_the_tests_app_context(app, client, auth, db):
    """Logging in with one client must not log in another, though the test holds an app context."""
    user = auth.create_user()
    assert auth.login(user.email).status_code == 302
    assert 'data-role="patient"' in client.get("/").get_data(as_text=True)
    stranger = app.test_client()
    assert "data-role" not in stranger.get("/").get_data(as_text=True)
    auth.logout()
    assert "data-role" not in client.get("/").get_data(as_text=True)


@pytest.mark.parametrize("role", [role.value for role in Role])
def test_create_user_makes_each_role_and_its_api_token_works(role, client, auth):
    user = auth.create_user(role=role)  # no `db` fixture: the user comes back detached, columns loaded
    assert user.role == Role(role)
    token = auth.api_token(user.email)
    me = client.get("/api/v1/me", headers={"Authorization": f"Bearer {token}"}).get_json()["user"]
    assert (me["email"], me["role"]) == (user.email, role)
