"""The register, log-in and log-out pages as a person uses them."""

from __future__ import annotations

import re

from sqlalchemy import func, select

from massage_booking.models import LoginSession, User

PASSWORD = "correct horse battery"


def _form(auth, path, **fields):
    return {"csrf_token": auth.csrf_token(path), **fields}


def test_register_page_creates_account_and_logs_in(client, auth, db):
    response = client.post(
        "/register",
        data=_form(
            auth,
            "/register",
            display_name="Maria Gomez",
            email="maria@example.org",
            password=PASSWORD,
            confirm=PASSWORD,
            role="patient",
        ),
        follow_redirects=True,
    )
    assert response.status_code == 200
    assert 'data-role="patient"' in response.get_data(as_text=True)
    assert db.scalar(select(User.display_name)) == "Maria Gomez"


def test_register_with_taken_email_shows_the_error_and_adds_nothing(client, auth, db):
    auth.create_user(email="taken@example.org")
    response = client.post(
        "/register",
        data=_form(
            auth,
            "/register",
            display_name="X",
            email="taken@example.org",
            password=PASSWORD,
            confirm=PASSWORD,
            role="patient",
        ),
    )
    assert response.status_code == 409
    assert "already exists" in response.get_data(as_text=True)
    assert db.scalar(select(func.count()).select_from(User)) == 1


def test_register_with_short_password_is_refused(client, auth, db):
    response = client.post(
        "/register",
        data=_form(
            auth, "/register", display_name="X", email="x@example.org", password="short", confirm="short"
        ),
    )
    assert response.status_code == 422
    assert "at least 12 characters" in response.get_data(as_text=True)
    assert db.scalar(select(func.count()).select_from(User)) == 0


def test_post_without_csrf_token_is_refused(client, db):
    response = client.post(
        "/register",
        data={"display_name": "X", "email": "x@example.org", "password": PASSWORD, "confirm": PASSWORD},
    )
    assert response.status_code == 400
    assert db.scalar(select(func.count()).select_from(User)) == 0


def test_login_with_wrong_password_says_so(client, auth):
    auth.create_user(email="p@example.org", password=PASSWORD)
    response = client.post(
        "/login", data=_form(auth, "/login", email="p@example.org", password="wrong one here")
    )
    assert response.status_code == 401
    assert "incorrect" in response.get_data(as_text=True)


def test_next_stays_on_site(client, auth):
    auth.create_user(email="p@example.org", password=PASSWORD)
    for evil in ("https://evil.example/", "//evil.example/x", "/\\evil.example", "javascript:alert(1)"):
        response = client.post(
            "/login", data=_form(auth, "/login", email="p@example.org", password=PASSWORD, next=evil)
        )
        assert response.status_code == 302
        assert "evil" not in response.headers["Location"]
        assert not response.headers["Location"].startswith("javascript")
        auth.logout()
    response = client.post(
        "/login",
        data=_form(auth, "/login", email="p@example.org", password=PASSWORD, next="/therapists?near=10016"),
    )
    assert response.headers["Location"] == "/therapists?near=10016"


def test_logout_revokes_the_session_on_the_server(client, auth, db):
    auth.create_user(email="p@example.org", password=PASSWORD)
    auth.login("p@example.org", PASSWORD)
    with client.session_transaction() as cookie_session:
        stolen = dict(cookie_session)
    auth.logout()
    assert db.scalar(select(LoginSession.revoked_at)) is not None
    # Replaying the old cookie (as a thief who copied it would) no longer logs anyone in.
    with client.session_transaction() as cookie_session:
        cookie_session.update(stolen)
    page = client.get("/").get_data(as_text=True)
    assert 'data-role="patient"' not in page


def test_logout_by_get_or_without_token_does_nothing(client, auth):
    auth.create_user(email="p@example.org", password=PASSWORD)
    auth.login("p@example.org", PASSWORD)
    assert client.get("/logout").status_code == 405
    client.post("/logout", data={})
    assert 'data-role="patient"' in client.get("/").get_data(as_text=True)


def test_security_headers_and_cookie_flags(client, auth):
    response = client.get("/login")
    assert "frame-ancestors 'none'" in response.headers["Content-Security-Policy"]
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["X-Frame-Options"] == "DENY"
    auth.create_user(email="p@example.org", password=PASSWORD)
    login = client.post("/login", data=_form(auth, "/login", email="p@example.org", password=PASSWORD))
    cookie = login.headers["Set-Cookie"]
    assert "HttpOnly" in cookie
    assert "SameSite=Lax" in cookie


def test_unknown_page_gets_the_html_404(client):
    response = client.get("/no/such/page")
    assert response.status_code == 404
    assert response.mimetype == "text/html"
    assert "404" in response.get_data(as_text=True)


def test_login_is_rate_limited():
    """Ten tries a minute per address, then 429: password guessing gets slow (own app: limits on)."""
    from massage_booking import create_app
    from massage_booking.extensions import db as ext_db

    app = create_app("testing", {"RATELIMIT_ENABLED": True, "SQLALCHEMY_DATABASE_URI": "sqlite://"})
    with app.app_context():
        ext_db.create_all()
    client = app.test_client()
    statuses = []
    for _ in range(12):
        page = client.get("/login").get_data(as_text=True)
        token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page)
        token = token or re.search(r'value="([^"]+)"[^>]*name="csrf_token"', page)
        data = {"csrf_token": token.group(1), "email": "x@example.org", "password": "nope nope nope"}
        statuses.append(client.post("/login", data=data).status_code)
    assert statuses[:10] == [401] * 10
    assert statuses[10:] == [429, 429]
