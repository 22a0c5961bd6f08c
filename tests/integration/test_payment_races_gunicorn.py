"""The production shape of the double-charge race: `gunicorn -w 4` on PostgreSQL, with localstripe.

Twenty held courses are each paid twice on Stripe's side (two tabs, two cards), and the forty signed
`payment_intent.succeeded` webhooks are sent over HTTP at the same moment, so four worker processes, each
with its own connections, apply them concurrently. Afterwards no patient is charged more than the course
costs (the second payment is refunded, as Stripe's own records show), every course is paid and booked
once, and each patient has one confirmation. PostgreSQL lane only: this is the database production uses,
and SQLite would serialise the writers and hide the race.
"""

from __future__ import annotations

import os
import secrets
import signal
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
import requests
import stripe
from sqlalchemy import select

from massage_booking import create_app
from massage_booking.extensions import db as flask_db
from massage_booking.models import OutboxMessage
from tests.conftest import IsolatedClient
from tests.factories import (
    VISA,
    bookable_therapist,
    card_method,
    course_body,
    post_intake,
    signed_webhook,
    stripe_event,
)

pytestmark = pytest.mark.postgres

COURSES = 20
WORKERS = 4
REPO = Path(__file__).resolve().parents[2]


@pytest.fixture
def app(fresh_database_url, stripe_settings):
    """The schema and the data, made in-process on a database of the test's own; gunicorn serves it."""
    app = create_app("testing", {"SQLALCHEMY_DATABASE_URI": fresh_database_url, **stripe_settings})
    app.test_client_class = IsolatedClient
    with app.app_context():
        flask_db.create_all()
    yield app
    with app.app_context():
        flask_db.session.remove()
        flask_db.engine.dispose()


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture
def gunicorn(fresh_database_url, stripe_settings, tmp_path):
    """`gunicorn -w 4 app:app` in production configuration on the test's database; yields its base URL."""
    port = _free_port()
    env = {
        **os.environ,
        "MASSAGE_BOOKING_ENV": "production",
        "DATABASE_URL": fresh_database_url,
        "SECRET_KEY": secrets.token_hex(32),
        "RATELIMIT_ENABLED": "0",
        "PUBLIC_BASE_URL": f"http://127.0.0.1:{port}",
        **stripe_settings,
    }
    env.pop("TEST_DATABASE_URL", None)
    log = tmp_path / "gunicorn.log"
    with log.open("wb") as out:
        server = subprocess.Popen(
            [sys.executable, "-m", "gunicorn", "-w", str(WORKERS), "-b", f"127.0.0.1:{port}", "app:app"],
            cwd=REPO,
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 90
        while True:
            try:
                if requests.get(f"{base}/api/v1/conditions", timeout=10).status_code == 200:
                    break
            except requests.RequestException:  # not listening yet, or a worker still starting
                pass
            if server.poll() is not None or time.monotonic() > deadline:
                raise AssertionError(f"gunicorn did not start:\n{log.read_text()[-3000:]}")
            time.sleep(0.2)
        yield base
    finally:
        server.send_signal(signal.SIGTERM)
        try:
            server.wait(timeout=30)
        except subprocess.TimeoutExpired:
            server.kill()


def test_twenty_courses_each_paid_twice_at_once_under_four_workers_are_paid_once(
    app, client, auth, db, runner, gunicorn, stripe_settings, empty_stripe
):
    stripe_client = stripe.StripeClient(
        stripe_settings["STRIPE_SECRET_KEY"], base_addresses={"api": stripe_settings["STRIPE_API_BASE"]}
    )
    patients, held = [], []
    for n in range(COURSES):  # a patient each, so "one confirmation each" is per person
        user = auth.create_user("patient", display_name=f"Patient {n}")
        headers = {"Authorization": f"Bearer {auth.api_token(user.email)}"}
        therapist_id = bookable_therapist(auth, db, f"Therapist {n}", trained=False)
        response = client.post(
            "/api/v1/courses", json=course_body(post_intake(client, headers), therapist_id), headers=headers
        )
        assert response.status_code == 201, response.get_data(as_text=True)
        patients.append((user, headers))
        held.append(response.get_json())
    intents = {
        course["id"]: [
            stripe_client.v1.payment_intents.create(
                params={
                    "amount": course["payment"]["price_cents"],
                    "currency": "usd",
                    "payment_method": card_method(stripe_client, VISA),
                    "confirm": True,
                    "metadata": {"course_id": str(course["id"])},
                }
            )
            for _ in range(2)
        ]
        for course in held
    }
    deliveries = [
        signed_webhook(
            stripe_event("payment_intent.succeeded", intent.to_dict()),
            stripe_settings["STRIPE_WEBHOOK_SECRET"],
        )
        for pair in intents.values()
        for intent in pair
    ]
    barrier = threading.Barrier(len(deliveries))
    statuses: list[int] = []
    lock = threading.Lock()

    def deliver(body: bytes, signature: str) -> None:
        barrier.wait(timeout=30)
        response = requests.post(
            f"{gunicorn}/stripe/webhook",
            data=body,
            headers={"Stripe-Signature": signature, "Content-Type": "application/json"},
            timeout=60,
        )
        with lock:
            statuses.append(response.status_code)

    threads = [threading.Thread(target=deliver, args=d) for d in deliveries]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert statuses == [200] * len(deliveries)

    failures = []
    for course, (user, headers) in zip(held, patients, strict=True):
        price = course["payment"]["price_cents"]
        kept = 0
        for intent in intents[course["id"]]:
            kept += stripe_client.v1.payment_intents.retrieve(intent.id).amount
            refunds = stripe_client.v1.refunds.list(params={"payment_intent": intent.id}).data
            kept -= sum(refund.amount for refund in refunds)
        shown = requests.get(f"{gunicorn}/api/v1/courses/{course['id']}", headers=headers, timeout=10).json()
        balance = shown["payment"]["paid_cents"] - shown["payment"]["refunded_cents"]
        confirmations = db.scalars(
            select(OutboxMessage).where(
                OutboxMessage.kind == "course_booked", OutboxMessage.recipient == user.email
            )
        ).all()
        outcome = (
            kept,
            balance,
            shown["status"],
            {s["status"] for s in shown["sessions"]},
            len(confirmations),
        )
        if outcome != (price, price, "booked", {"booked"}, 1):
            failures.append((course["id"], outcome))
    assert failures == [], f"{len(failures)} of {COURSES} courses went wrong: {failures[:3]}"
    reconciled = runner.invoke(args=["payments", "reconcile"])
    assert reconciled.exit_code == 0 and "no mismatch" in reconciled.output, reconciled.output
