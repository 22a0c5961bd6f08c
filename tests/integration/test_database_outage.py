"""With the database gone, pages and the API answer 503 with Retry-After, and work again once it is back.

The PostgreSQL tests stop a server of their own (never the session's shared cluster, which other tests are
using) while one app object keeps serving, then start it again: the app must recover without a restart,
and nothing a request was writing when the connection went may be stored.
"""

from __future__ import annotations

import logging
import re
import sqlite3
from collections.abc import Iterator
from pathlib import Path

import psycopg
import psycopg.errors
import pytest
from flask import Flask
from flask.testing import FlaskClient
from flask_migrate import upgrade
from sqlalchemy import event, select, text
from sqlalchemy.exc import DBAPIError, IntegrityError, InterfaceError, OperationalError
from sqlalchemy.exc import TimeoutError as PoolTimeoutError

from massage_booking import create_app
from massage_booking.extensions import db
from massage_booking.models import User
from massage_booking.web.errors import RETRY_AFTER_SECONDS, is_database_outage
from tests.pg_cluster import PostgresCluster

PASSWORD = "a long enough secret"
WORDS_A_PATIENT_READS = ("briefly unavailable", "Nothing was changed", "try again in a moment")
INTERNALS = ("OperationalError", "psycopg", "sqlalchemy", "SELECT", "Traceback", "127.0.0.1")


# ------------------------------------------------------------------------------------------ classifier


def _wrapped(cause: Exception, **kwargs: bool) -> DBAPIError:
    """`cause` as SQLAlchemy hands it to the app (OperationalError for the driver's OperationalError)."""
    driver_error = psycopg.Error if isinstance(cause, psycopg.Error) else sqlite3.Error
    return DBAPIError.instance("SELECT 1", {}, cause, driver_error, **kwargs)


@pytest.mark.parametrize(
    "cause",
    [
        psycopg.OperationalError("connection failed: connection to server failed: Connection refused"),
        psycopg.OperationalError("consuming input failed: server closed the connection unexpectedly"),
        psycopg.errors.AdminShutdown("terminating connection due to administrator command"),
        psycopg.errors.CannotConnectNow("the database system is starting up"),
        psycopg.errors.TooManyConnections("sorry, too many clients already"),
        psycopg.errors.ConnectionFailure("connection failure"),
        sqlite3.OperationalError("unable to open database file"),
    ],
    ids=lambda cause: type(cause).__name__ + ":" + str(cause)[:20],
)
def test_a_database_that_cannot_be_reached_is_an_outage(cause: Exception) -> None:
    wrapped = _wrapped(cause)
    assert isinstance(wrapped, OperationalError)
    assert is_database_outage(wrapped)


@pytest.mark.parametrize(
    "cause",
    [
        psycopg.errors.DeadlockDetected("deadlock detected"),
        psycopg.errors.SerializationFailure("could not serialize access"),
        psycopg.errors.LockNotAvailable("could not obtain lock"),
        psycopg.errors.QueryCanceled("canceling statement due to statement timeout"),
        psycopg.errors.InvalidPassword("password authentication failed"),
        sqlite3.OperationalError("database is locked"),
        sqlite3.OperationalError("no such table: users"),
    ],
    ids=lambda cause: type(cause).__name__ + ":" + str(cause)[:20],
)
def test_an_answer_about_the_request_is_not_an_outage(cause: Exception) -> None:
    """A deadlock, a busy SQLite writer or a bad password would not be cured by waiting five seconds."""
    assert not is_database_outage(_wrapped(cause))


def test_a_connection_sqlalchemy_saw_break_or_a_pool_that_timed_out_is_an_outage() -> None:
    invalidated = _wrapped(psycopg.InterfaceError("the connection is closed"), connection_invalidated=True)
    assert isinstance(invalidated, InterfaceError)
    assert is_database_outage(invalidated)
    assert is_database_outage(PoolTimeoutError("QueuePool limit of size 5 overflow 10 reached"))
    assert not is_database_outage(IntegrityError("INSERT", {}, sqlite3.IntegrityError("UNIQUE failed")))
    assert not is_database_outage(RuntimeError("boom"))


# ------------------------------------------------------------------------------------- SQLite lane


def test_a_sqlite_file_that_cannot_be_opened_answers_503(tmp_path: Path) -> None:
    # The "file" is a directory: SQLite answers "unable to open database file", as for a missing volume.
    app = create_app("testing", {"SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp_path}"})
    client = app.test_client()
    api = client.get("/api/v1/therapists?near=10001")
    _assert_json_503(api)
    page = client.get("/therapists?near=10001")
    _assert_html_503(page)


def test_a_query_error_that_is_not_an_outage_stays_a_500(app, client) -> None:
    def broken() -> str:
        db.session.execute(text("SELECT * FROM no_such_table"))
        return "unreachable"

    app.add_url_rule("/api/v1/broken", "broken", broken)
    response = client.get("/api/v1/broken")
    assert response.status_code == 500
    assert response.get_json()["error"]["code"] == "internal_error"
    assert "Retry-After" not in response.headers


# --------------------------------------------------------------------------------- PostgreSQL lane


@pytest.fixture(scope="module")
def _own_cluster() -> Iterator[tuple[PostgresCluster, str]]:
    cluster = PostgresCluster()
    try:
        url = cluster.start()
        yield cluster, url
    finally:
        cluster.stop()


@pytest.fixture
def cluster(_own_cluster: tuple[PostgresCluster, str]) -> Iterator[PostgresCluster]:
    """The test's own server, running again after the test whatever happened in it."""
    server, _url = _own_cluster
    yield server
    if not server.running:
        server.start_server()


@pytest.fixture(scope="module")
def outage_app(_own_cluster: tuple[PostgresCluster, str]) -> Iterator[Flask]:
    _server, url = _own_cluster
    app = create_app("testing", {"SQLALCHEMY_DATABASE_URI": url})
    with app.app_context():
        upgrade()
    yield app
    with app.app_context():
        db.session.remove()
        db.engine.dispose()


def _assert_json_503(response) -> None:
    assert response.status_code == 503
    assert response.headers["Retry-After"] == str(RETRY_AFTER_SECONDS)
    error = response.get_json()["error"]
    assert set(error) == {"code", "message", "details"}
    assert error["code"] == "database_unavailable"
    assert error["details"] == {}
    assert "try again" in error["message"]


def _assert_html_503(response) -> None:
    assert response.status_code == 503
    assert response.headers["Retry-After"] == str(RETRY_AFTER_SECONDS)
    assert response.mimetype == "text/html"
    page = response.get_data(as_text=True)
    for words in WORDS_A_PATIENT_READS:
        assert words in page
    for internal in INTERNALS:
        assert internal not in page


def _csrf_token(client: FlaskClient, path: str) -> str:
    page = client.get(path).get_data(as_text=True)
    match = re.search(r'name="csrf_token"[^>]*value="([^"]*)"', page)
    assert match, f"no csrf_token on {path}"
    return match.group(1)


def _register(client: FlaskClient, email: str):
    return client.post(
        "/api/v1/auth/register", json={"email": email, "password": PASSWORD, "display_name": "Rosa Diaz"}
    )


def _user_exists(app: Flask, email: str) -> bool:
    with app.app_context():
        return db.session.scalar(select(User.id).where(User.email == email)) is not None


@pytest.mark.postgres
def test_an_outage_answers_503_and_the_same_app_recovers(
    outage_app: Flask, cluster: PostgresCluster, caplog: pytest.LogCaptureFixture
) -> None:
    api = outage_app.test_client()
    assert _register(api, "rosa@example.org").status_code == 201
    token = api.post("/api/v1/auth/token", json={"email": "rosa@example.org", "password": PASSWORD})
    bearer = {"Authorization": f"Bearer {token.get_json()['token']}"}
    browser = outage_app.test_client()  # logged in: every page loads the user from the database
    login = {"email": "rosa@example.org", "password": PASSWORD, "csrf_token": _csrf_token(browser, "/login")}
    assert browser.post("/login", data=login).status_code == 302
    visitor = outage_app.test_client()  # not logged in
    wrong_login = {
        "email": "rosa@example.org",
        "password": "not it",
        "csrf_token": _csrf_token(visitor, "/login"),
    }

    def requests() -> dict[str, object]:
        return {
            "search api": api.get("/api/v1/therapists?near=10001"),
            "my courses api": api.get("/api/v1/me/courses", headers=bearer),
            "search page, logged in": browser.get("/therapists?near=10001"),
            "search page, visitor": visitor.get("/therapists?near=10001"),
            "login form": visitor.post("/login", data=wrong_login),
            "fhir eligibility": api.post(
                "/fhir/CoverageEligibilityRequest", json={"resourceType": "X"}, headers=bearer
            ),
        }

    before = requests()
    assert {name: r.status_code for name, r in before.items()} == {
        "search api": 200,
        "my courses api": 200,
        "search page, logged in": 200,
        "search page, visitor": 200,
        "login form": 401,
        "fhir eligibility": 403,  # a patient's token: only insurers may ask
    }
    assert "Rosa Diaz" in before["search page, logged in"].get_data(as_text=True)

    cluster.stop_server()
    caplog.clear()
    with caplog.at_level(logging.WARNING):
        during = requests()
        write = _register(api, "sam@example.org")
    _assert_json_503(during["search api"])
    _assert_json_503(during["my courses api"])
    _assert_html_503(during["search page, logged in"])
    _assert_html_503(during["search page, visitor"])
    _assert_html_503(during["login form"])
    _assert_json_503(write)
    fhir = during["fhir eligibility"]
    assert (fhir.status_code, fhir.headers["Retry-After"]) == (503, str(RETRY_AFTER_SECONDS))
    assert fhir.get_json()["resourceType"] == "OperationOutcome"
    assert fhir.get_json()["issue"][0]["code"] == "transient"
    outage_lines = [r for r in caplog.records if r.name == "massage_booking.web.errors"]
    assert len(outage_lines) == 7
    assert all(r.levelno == logging.WARNING and r.exc_info is None for r in outage_lines)
    assert "sam@example.org" not in caplog.text  # no request bodies, parameters or SQL in the logs
    assert PASSWORD not in caplog.text

    cluster.start_server()
    after = requests()
    assert {name: r.status_code for name, r in after.items()} == {
        name: r.status_code for name, r in before.items()
    }
    assert "Rosa Diaz" in after["search page, logged in"].get_data(as_text=True)  # still logged in
    assert after["my courses api"].get_json() == before["my courses api"].get_json()
    assert not _user_exists(outage_app, "sam@example.org")  # nothing half-written
    assert _register(api, "sam@example.org").status_code == 201


@pytest.mark.postgres
def test_a_connection_lost_at_commit_leaves_nothing_written(
    outage_app: Flask, cluster: PostgresCluster
) -> None:
    """The server goes away between the registration's INSERT and its COMMIT: 503, and no account."""
    with outage_app.app_context():
        engine = db.engine

    def server_goes_away(_connection: object) -> None:
        if cluster.running:
            cluster.stop_server()

    event.listen(engine, "commit", server_goes_away)
    try:
        response = _register(outage_app.test_client(), "lee@example.org")
    finally:
        event.remove(engine, "commit", server_goes_away)
    assert not cluster.running, "the commit hook did not run"
    _assert_json_503(response)

    cluster.start_server()
    assert not _user_exists(outage_app, "lee@example.org")
    assert _register(outage_app.test_client(), "lee@example.org").status_code == 201


@pytest.mark.postgres
def test_after_a_restart_no_request_saw_the_first_request_works(
    outage_app: Flask, cluster: PostgresCluster
) -> None:
    """The pool still holds connections to the old server: pool_pre_ping must replace them unseen."""
    client = outage_app.test_client()
    assert client.get("/api/v1/therapists?near=10001").status_code == 200
    cluster.stop_server()
    cluster.start_server()
    assert client.get("/api/v1/therapists?near=10001").status_code == 200
