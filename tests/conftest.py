"""Fixtures and the three test lanes.

Lanes (one pytest run each; `make test` runs all three):
  sqlite    `pytest -m "not e2e"`: tests/unit, tests/integration and tests/functional on in-memory SQLite,
            a fresh schema per test.
  postgres  `pytest --postgres tests/integration tests/functional` (or TEST_POSTGRES=1): the same
            integration and functional tests on PostgreSQL, plus tests marked `postgres`. The server is a
            throwaway cluster (tests/pg_cluster.py), or the one TEST_DATABASE_URL names if it is a
            postgresql:// URL. Schema made once per session; every table emptied before each test.
  browser   `pytest tests/e2e`: Playwright driving Debian's chromium against a live server.

A lane whose service (PostgreSQL binaries, chromium) is missing is skipped with a loud banner; with
REQUIRE_ALL_LANES=1 (set by .ci/run) it is an error instead, so CI cannot pass without running it.
"""

from __future__ import annotations

import contextvars
import itertools
import os
import re
import secrets
import shutil
import signal
import threading
import time
from pathlib import Path

import pytest
import stripe
from flask import has_app_context
from flask.testing import FlaskClient
from sqlalchemy import text

from massage_booking import create_app
from massage_booking.extensions import db as flask_db
from massage_booking.localstripe_dev import LocalStripe, LocalStripeError
from massage_booking.models import Role, User
from massage_booking.services import accounts
from massage_booking.services.passwords import hash_password
from tests import factories, pg_cluster

TESTS_DIR = Path(__file__).resolve().parent
ARTIFACTS_DIR = TESTS_DIR / "artifacts"
PASSWORD = "correct horse battery"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
    "--disable-sync",
]
LANE_KEY = pytest.StashKey[str]()
LANE_PROBLEM_KEY = pytest.StashKey[str | None]()
START_KEY = pytest.StashKey[float]()
REPORTS_KEY = pytest.StashKey[dict]()


# --------------------------------------------------------------------------------------------- lanes


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption(
        "--postgres",
        action="store_true",
        help="run tests/integration, tests/functional and `postgres`-marked tests on PostgreSQL",
    )


def postgres_lane(config: pytest.Config) -> bool:
    return bool(
        config.getoption("--postgres") or os.environ.get("TEST_POSTGRES") == "1" or _external_postgres_url()
    )


def _external_postgres_url() -> str | None:
    """TEST_DATABASE_URL, if it names a PostgreSQL server, with the psycopg driver spelled out."""
    url = os.environ.get("TEST_DATABASE_URL", "")
    for prefix in ("postgres://", "postgresql://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url.removeprefix(prefix)
    return url if url.startswith("postgresql+") else None


def _chromium_path() -> str | None:
    return os.environ.get("CHROMIUM") or shutil.which("chromium")


def _browser_problem() -> str | None:
    if _chromium_path() is None:
        return "no `chromium` on PATH (apt-get install chromium, or set CHROMIUM=/path/to/chromium)"
    return None


def _top_dir(item: pytest.Item) -> str:
    try:
        return item.path.relative_to(TESTS_DIR).parts[0]
    except ValueError:
        return ""


def pytest_itemcollected(item: pytest.Item) -> None:
    if _top_dir(item) == "e2e":
        item.add_marker(pytest.mark.e2e)  # before `-m "not e2e"` filters


@pytest.hookimpl(trylast=True)  # after `-m` and `-k` have filtered
def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Route each test to its lane; skip (or, under REQUIRE_ALL_LANES=1, refuse) a lane we cannot run."""
    postgres = postgres_lane(config)
    keep, drop = [], []
    for item in items:
        if postgres:
            wanted = _top_dir(item) in ("integration", "functional") or item.get_closest_marker("postgres")
        else:
            wanted = item.get_closest_marker("postgres") is None
        (keep if wanted else drop).append(item)
    if drop:
        config.hook.pytest_deselected(items=drop)
        items[:] = keep

    e2e_items = [item for item in items if item.get_closest_marker("e2e")]
    lane = "postgres" if postgres else "browser" if items and len(e2e_items) == len(items) else "sqlite"
    config.stash[LANE_KEY] = lane
    if postgres and not _external_postgres_url():
        blocked, problem = items, pg_cluster.missing_tools()
    else:
        blocked, problem = e2e_items, _browser_problem() if e2e_items else None
    if problem is None:
        return
    problem = f"{'PostgreSQL' if postgres else 'browser'} lane: {problem}"
    config.stash[LANE_PROBLEM_KEY] = problem
    if os.environ.get("REQUIRE_ALL_LANES") == "1":
        message = f"LANE {lane:<8} CANNOT RUN, and REQUIRE_ALL_LANES=1. The {problem}"
        _append_to_summary_file(message)
        pytest.exit(f"\n\n*** {message} ***\n", returncode=3)
    for item in blocked:
        item.add_marker(pytest.mark.skip(reason=f"{problem.split(':')[0].upper()} SKIPPED, see the banner"))


def pytest_sessionstart(session: pytest.Session) -> None:
    session.config.stash[START_KEY] = time.monotonic()
    # Stop on SIGTERM (a CI timeout, `make test PARALLEL=1` interrupted) as on Ctrl-C, so that fixture
    # teardown still stops the PostgreSQL cluster.
    if signal.getsignal(signal.SIGTERM) == signal.SIG_DFL:
        signal.signal(signal.SIGTERM, _interrupt)


def _interrupt(signum: int, _frame: object) -> None:
    raise KeyboardInterrupt(f"signal {signum}")


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    """Under REQUIRE_ALL_LANES=1 a lane that passed no test at all has not proven anything: fail it."""
    reporter = session.config.pluginmanager.get_plugin("terminalreporter")
    passed = reporter is not None and any(r.when == "call" for r in reporter.stats.get("passed", []))
    if os.environ.get("REQUIRE_ALL_LANES") == "1" and exitstatus == 0 and not passed:
        session.exitstatus = pytest.ExitCode.NO_TESTS_COLLECTED


def pytest_terminal_summary(terminalreporter, exitstatus: int, config: pytest.Config) -> None:
    """One line per run saying which lane ran how many tests; a banner if the lane was skipped."""
    lane = config.stash.get(LANE_KEY, "sqlite")
    problem = config.stash.get(LANE_PROBLEM_KEY, None)
    if problem:
        bar = "!" * 100
        terminalreporter.write_line(f"{bar}\n!!! SKIPPED the {problem}\n{bar}", red=True, bold=True)
    counts = {k: len(terminalreporter.stats.get(k, [])) for k in ("passed", "failed", "error", "skipped")}
    counts["passed"] = sum(1 for r in terminalreporter.stats.get("passed", []) if r.when == "call")
    seconds = time.monotonic() - config.stash.get(START_KEY, time.monotonic())
    line = f"LANE {lane:<8} " + ", ".join(f"{n} {k}" for k, n in counts.items()) + f" in {seconds:.1f}s"
    line += f" (exit {exitstatus})" + (" -- SKIPPED: " + problem if problem else "")
    terminalreporter.write_line(line, bold=True)
    _append_to_summary_file(line)


def _append_to_summary_file(line: str) -> None:
    """`make test` collects one line per lane in the file LANE_SUMMARY_FILE names."""
    if summary_file := os.environ.get("LANE_SUMMARY_FILE"):
        with open(summary_file, "a") as fh:
            fh.write(line + "\n")


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo):
    report = yield
    item.stash.setdefault(REPORTS_KEY, {})[report.when] = report  # lets fixtures see if the test failed
    return report


# ------------------------------------------------------------------------------------------ database


@pytest.fixture(scope="session")
def postgres_url():
    """URL of the PostgreSQL database the postgres lane uses; starts (and finally removes) the cluster."""
    if url := _external_postgres_url():
        yield url
        return
    cluster = pg_cluster.PostgresCluster()
    try:
        url = cluster.start()
        os.environ["TEST_DATABASE_URL"] = url  # for subprocesses; the app fixture passes it explicitly
        yield url
    finally:
        os.environ.pop("TEST_DATABASE_URL", None)
        cluster.stop()


@pytest.fixture(scope="session")
def _postgres_schema(postgres_url: str) -> str:
    app = create_app("testing", {"SQLALCHEMY_DATABASE_URI": postgres_url})
    with app.app_context():
        flask_db.drop_all()
        flask_db.create_all()
        flask_db.engine.dispose()
    return postgres_url


@pytest.fixture
def app_overrides() -> dict:
    """Extra config for the `app` fixture; override this fixture in a module to change it."""
    return {}


class IsolatedClient(FlaskClient):
    """A test client whose every request runs in its own app context, even while the test holds one
    (the `db` fixture). Otherwise requests would share the test's `g` (Flask-Login's user, Flask-WTF's
    CSRF token) and its database session, and one client's login could leak into another's request."""

    def open(self, *args, **kwargs):
        if self.preserve_context:  # `with client:` keeps the request context for the test to inspect
            return super().open(*args, **kwargs)
        return contextvars.Context().run(super().open, *args, **kwargs)


@pytest.fixture
def app(request: pytest.FixtureRequest, app_overrides: dict):
    """The app on a fresh, empty schema: in-memory SQLite, or PostgreSQL in the postgres lane."""
    postgres = postgres_lane(request.config)
    url = request.getfixturevalue("_postgres_schema") if postgres else "sqlite://"
    app = create_app("testing", {"SQLALCHEMY_DATABASE_URI": url, **app_overrides})
    app.test_client_class = IsolatedClient
    with app.app_context():
        if url == "sqlite://":
            flask_db.create_all()
        else:
            _empty_all_tables()
    yield app
    with app.app_context():
        flask_db.session.remove()
        flask_db.engine.dispose()


def _empty_all_tables() -> None:
    """Delete every row and restart every id sequence, so each test sees what a fresh database holds.

    DELETE in reverse dependency order, not TRUNCATE: on these small tables it takes ~10 ms instead of ~60.
    """
    with flask_db.engine.begin() as conn:
        for table in reversed(flask_db.metadata.sorted_tables):
            conn.execute(table.delete())
        sequences = conn.scalars(
            text(
                "SELECT quote_ident(sequence_schema) || '.' || quote_ident(sequence_name)"
                " FROM information_schema.sequences WHERE sequence_schema = current_schema()"
            )
        )
        for sequence in sequences.all():
            conn.execute(text(f"ALTER SEQUENCE {sequence} RESTART"))


@pytest.fixture
def db(app):
    """The SQLAlchemy session, inside an app context held for the whole test."""
    with app.app_context():
        yield flask_db.session


@pytest.fixture
def client(app) -> FlaskClient:
    return app.test_client()


@pytest.fixture
def runner(app):
    return app.test_cli_runner()


@pytest.fixture
def fresh_database_url(request: pytest.FixtureRequest, tmp_path: Path):
    """URL of a new, EMPTY database in this lane's backend (a SQLite file, or a new PostgreSQL database)."""
    if not postgres_lane(request.config):
        yield f"sqlite:///{tmp_path / 'fresh.sqlite3'}"
        return
    server = request.getfixturevalue("postgres_url")
    name = f"fresh_{os.getpid()}_{next(_fresh_numbers)}"
    yield pg_cluster.create_database(server, name)
    pg_cluster.drop_database(server, name)


_fresh_numbers = itertools.count(1)


# ---------------------------------------------------------------------------------------------- auth


class AuthActions:
    """Make users and log in or out through the real pages and API."""

    def __init__(self, app, client: FlaskClient) -> None:
        self.app = app
        self.client = client
        self._numbers = itertools.count(1)

    def create_user(
        self,
        role: str = "patient",
        email: str | None = None,
        password: str = PASSWORD,
        display_name: str | None = None,
    ) -> User:
        """A committed user. Inside the `db` fixture it stays in that session; otherwise it is detached,
        with its columns loaded."""
        n = next(self._numbers)
        email = email or f"{role}{n}@example.org"
        display_name = display_name or f"Test {role.title()} {n}"
        if has_app_context():
            return self._create_user(role, email, password, display_name)
        with self.app.app_context():
            user = self._create_user(role, email, password, display_name)
            flask_db.session.refresh(user)
            flask_db.session.expunge(user)
            return user

    @staticmethod
    def _create_user(role: str, email: str, password: str, display_name: str) -> User:
        session = flask_db.session
        if Role(role) in accounts.SELF_SERVICE_ROLES:
            user = accounts.register(
                session, email=email, password=password, display_name=display_name, role=Role(role)
            )
        else:
            user = User(
                email=email, password_hash=hash_password(password), role=Role(role), display_name=display_name
            )
            session.add(user)
        session.commit()
        return user

    def csrf_token(self, path: str = "/login") -> str:
        page = self.client.get(path, follow_redirects=True).get_data(as_text=True)
        for tag in re.findall(r"<input\b[^>]*>", page):
            if re.search(r'\bname="csrf_token"', tag) and (value := re.search(r'\bvalue="([^"]*)"', tag)):
                return value.group(1)
        raise AssertionError(f"no csrf_token input on {path}")

    def login(self, email: str, password: str = PASSWORD):
        data = {"email": email, "password": password, "csrf_token": self.csrf_token("/login")}
        return self.client.post("/login", data=data)

    def logout(self):
        return self.client.post("/logout", data={"csrf_token": self.csrf_token("/")})

    def api_token(self, email: str, password: str = PASSWORD) -> str:
        response = self.client.post("/api/v1/auth/token", json={"email": email, "password": password})
        assert response.status_code == 201, response.get_data(as_text=True)
        return response.get_json()["token"]


@pytest.fixture
def auth(app, client: FlaskClient) -> AuthActions:
    return AuthActions(app, client)


# ------------------------------------------------------------------------------------------- browser


@pytest.fixture
def live_overrides() -> dict:
    """Extra config for `live_server` (e.g. `stripe_settings`); override this fixture in a module."""
    return {}


@pytest.fixture
def live_server(tmp_path: Path, live_overrides: dict):
    """The real app served over HTTP from a background thread, on a temp-file SQLite database.
    Yields its base URL."""
    from werkzeug.serving import make_server

    url = f"sqlite:///{tmp_path / 'live.sqlite3'}"
    app = create_app("testing", {"SQLALCHEMY_DATABASE_URI": url, **live_overrides})
    with app.app_context():
        flask_db.create_all()
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, name="live-server", daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}"
    server.shutdown()
    thread.join(10)
    with app.app_context():
        flask_db.engine.dispose()


@pytest.fixture(scope="session")
def browser():
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=_chromium_path(), args=CHROMIUM_ARGS, headless=True
        )
        yield browser
        browser.close()


@pytest.fixture
def page(browser, request: pytest.FixtureRequest):
    """A fresh browser context and page; on failure a screenshot goes to tests/artifacts/."""
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    page = context.new_page()
    page.set_default_timeout(10_000)
    yield page
    report = request.node.stash.get(REPORTS_KEY, {}).get("call")
    if report is not None and report.failed:
        ARTIFACTS_DIR.mkdir(exist_ok=True)
        page.screenshot(path=ARTIFACTS_DIR / f"FAILED-{request.node.name}.png", full_page=True)
    context.close()


# ------------------------------------------------------------------------------------------- Stripe
# `localstripe` starts one real Stripe API server per test session (only if some test asks for it) and stops
# it at the end. It FAILS, never skips, when localstripe cannot start: it is a pinned dev dependency that
# every lane installs, so a missing server is a broken environment, not a lane to leave out.

# localstripe accepts any key that starts with sk_ / pk_; these are not Stripe credentials.
TEST_SECRET_KEY = "sk_test_localstripe"
TEST_PUBLISHABLE_KEY = "pk_test_localstripe"


@pytest.fixture(scope="session")
def localstripe():
    """A running localstripe (`.url`, `.js_url`, `.flush()`), from scratch, on a free loopback port."""
    server = LocalStripe()
    try:
        server.start()
    except LocalStripeError as exc:
        pytest.fail(str(exc), pytrace=False)
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture(scope="session")
def stripe_settings(localstripe: LocalStripe) -> dict[str, str]:
    """App config pointing at the session's localstripe, with a webhook secret made for this session; use it
    as (part of) `app_overrides`, or with `StripePayments.from_config`."""
    return {
        "STRIPE_SECRET_KEY": TEST_SECRET_KEY,
        "STRIPE_PUBLISHABLE_KEY": TEST_PUBLISHABLE_KEY,
        "STRIPE_WEBHOOK_SECRET": "whsec_" + secrets.token_hex(16),
        "STRIPE_API_BASE": localstripe.url,
        "STRIPE_JS_URL": localstripe.js_url,
    }


@pytest.fixture
def stripe_client(stripe_settings: dict[str, str]):
    """Our direct line to the session's localstripe: what Stripe.js does in a browser (cards, 3-D Secure),
    what someone with the key does behind the app's back, and the dashboard's view of what Stripe kept."""
    return stripe.StripeClient(
        stripe_settings["STRIPE_SECRET_KEY"], base_addresses={"api": stripe_settings["STRIPE_API_BASE"]}
    )


@pytest.fixture
def empty_stripe(localstripe: LocalStripe) -> LocalStripe:
    """localstripe with none of the other tests' objects. It is shared by the whole test session, and course
    ids repeat across the tests' fresh databases: another test's payment for "course 1" would look like one
    made behind this test's back to a reconciliation (request it before anything pays)."""
    localstripe.flush()
    return localstripe


# ------------------------------------------------------------------------------ patients, booked courses
# A patient of the JSON API, and (for the card-payment tests: `stripe_settings` in `app_overrides`) their
# course held for payment, then paid. A module that drives the pages, or books otherwise, has its own.


@pytest.fixture
def patient(auth: AuthActions) -> tuple[User, dict[str, str]]:
    """Pat Kim, a patient, and their API bearer headers."""
    user = auth.create_user("patient", display_name="Pat Kim")
    return user, {"Authorization": f"Bearer {auth.api_token(user.email)}"}


@pytest.fixture
def booked(client, auth, db, patient) -> dict:
    """A neck-pain course of 8 x 60 minutes from `monday_10()`, just booked by `patient` over the API (with
    card payments on: held, not paid); its JSON."""
    _, headers = patient
    therapist_id = factories.bookable_therapist(auth, db, "Dana Reyes", trained=False)
    intake_id = factories.post_intake(client, headers)
    response = client.post(
        "/api/v1/courses", json=factories.course_body(intake_id, therapist_id), headers=headers
    )
    assert response.status_code == 201, response.get_data(as_text=True)
    return response.get_json()


@pytest.fixture
def paid(client, patient, booked, stripe_client) -> dict:
    """`booked`, paid in full by card (4242) on localstripe; the paid course's JSON."""
    _, headers = patient
    method = factories.card_method(stripe_client, factories.VISA)
    response = factories.pay(client, headers, booked["id"], method)
    assert response.status_code == 200, response.get_data(as_text=True)
    return response.get_json()


# --------------------------------------------------------------------------------------------- e-mail
# One real SMTP server (aiosmtpd) per test session on a free loopback port, started only if a test asks for
# it. It keeps every message it receives; `smtp_server.clear()` empties the box between tests.


class _Mailbox:
    """aiosmtpd handler that keeps each message it receives (as parsed e-mail, with its envelope)."""

    def __init__(self) -> None:
        self.messages: list = []
        self.lock = threading.Lock()

    async def handle_DATA(self, server, session, envelope):  # noqa: N802 - aiosmtpd's hook name
        from email import message_from_bytes, policy

        message = message_from_bytes(envelope.content, policy=policy.default)
        with self.lock:
            self.messages.append((list(envelope.rcpt_tos), message))
        return "250 Message accepted for delivery"


class SmtpServer:
    def __init__(self) -> None:
        from aiosmtpd.controller import Controller

        self.mailbox = _Mailbox()
        self.controller = Controller(self.mailbox, hostname="127.0.0.1", port=_free_port())

    @property
    def port(self) -> int:
        return self.controller.port

    @property
    def messages(self) -> list:
        with self.mailbox.lock:
            return [message for _, message in self.mailbox.messages]

    def to(self, address: str) -> list:
        with self.mailbox.lock:
            return [message for rcpts, message in self.mailbox.messages if address in rcpts]

    def clear(self) -> None:
        with self.mailbox.lock:
            self.mailbox.messages.clear()


def _free_port() -> int:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture(scope="session")
def _smtp_session():
    server = SmtpServer()
    server.controller.start()
    try:
        yield server
    finally:
        server.controller.stop()


@pytest.fixture
def smtp_server(_smtp_session: SmtpServer) -> SmtpServer:
    """The session's SMTP server, with an empty mailbox for this test."""
    _smtp_session.clear()
    return _smtp_session


@pytest.fixture
def smtp_settings(smtp_server: SmtpServer) -> dict:
    """App config that sends to `smtp_server` (plain SMTP on loopback); use it in `app_overrides`."""
    return {
        "MAIL_SERVER": "127.0.0.1",
        "MAIL_PORT": smtp_server.port,
        "MAIL_USE_TLS": False,
        "MAIL_USE_SSL": False,
        "MAIL_SENDER": "massage_booking <no-reply@massage.test>",
        "MAIL_TIMEOUT": 5,
        "PUBLIC_BASE_URL": "https://massage.test",
    }
