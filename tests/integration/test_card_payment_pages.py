"""The payment pages in the real app, against localstripe: booking leads to the card page, a card pays,
a decline is shown on the form, the course page and the therapist's session page show the money, the
therapist can waive the late-cancellation fee; and without Stripe, "pay at the visit" says so."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

import pytest
import requests
import stripe
from sqlalchemy import select

from massage_booking.models import Appointment, Course, CourseStatus
from tests.factories import DECLINED_ON_CHARGE, VISA, bookable_therapist
from tests.pages import NECK_FORM, book, csrf, intake_id_of, start_intake, text_of


@pytest.fixture
def patient(auth):
    user = auth.create_user("patient", display_name="Pat Kim")
    auth.login(user.email)
    return user


def _booked(client, auth, db) -> Course:
    therapist_id = bookable_therapist(auth, db, "Dana Reyes", trained=False)
    intake_id = intake_id_of(start_intake(client, auth, NECK_FORM))
    response = book(client, auth, intake_id, therapist_id)
    assert response.status_code == 302, text_of(response)
    course = db.scalar(select(Course))
    assert response.headers["Location"].endswith(
        f"/care/courses/{course.id}/pay" if course.status is CourseStatus.PENDING_PAYMENT else f"/{course.id}"
    )
    return course


class TestWithCardPayments:
    @pytest.fixture
    def app_overrides(self, stripe_settings):
        return dict(stripe_settings)

    @pytest.fixture
    def card(self, stripe_settings):
        client = stripe.StripeClient(
            stripe_settings["STRIPE_SECRET_KEY"], base_addresses={"api": stripe_settings["STRIPE_API_BASE"]}
        )

        def make(number: str) -> str:
            params = {
                "type": "card",
                "card": {"number": number, "exp_month": 12, "exp_year": 2031, "cvc": "123"},
            }
            return client.v1.payment_methods.create(params=params).id

        return make

    def test_the_review_says_the_price_and_that_the_card_is_taken_next(self, client, auth, db, patient):
        therapist_id = bookable_therapist(auth, db, "Dana Reyes", trained=False)
        intake_id = intake_id_of(start_intake(client, auth, NECK_FORM))
        review = client.get(
            "/care/review",
            query_string={
                "intake": intake_id,
                "therapist": therapist_id,
                "first_start": (datetime.now(UTC) + timedelta(days=8)).isoformat(),
            },
        )
        page = text_of(review)
        assert "$120 a session × 8 = $960" in page
        assert "You pay by card on the next page" in page and "held for 15 minutes" in page

    def test_booking_leads_to_the_card_form_with_stripe_js(self, client, auth, db, patient, stripe_settings):
        course = _booked(client, auth, db)
        page = client.get(f"/care/courses/{course.id}/pay")
        assert page.status_code == 200
        body = page.get_data(as_text=True)
        assert f'<script src="{stripe_settings["STRIPE_JS_URL"]}"></script>' in body
        assert 'data-client-secret="seti_' in body and 'data-publishable-key="pk_test_localstripe"' in body
        assert "Pay $960" in text_of(page)
        policy = page.headers["Content-Security-Policy"]
        assert stripe_settings["STRIPE_API_BASE"] in policy and "script-src 'self' http://127.0.0.1" in policy
        # Other pages keep the strict policy.
        assert "127.0.0.1" not in client.get("/care").headers["Content-Security-Policy"]

    def test_a_card_pays_and_the_course_page_shows_it(self, client, auth, db, patient, card):
        course = _booked(client, auth, db)
        response = client.post(
            f"/care/courses/{course.id}/pay", data={"payment_method": card(VISA), "csrf_token": csrf(auth)}
        )
        assert response.status_code == 302 and response.headers["Location"].endswith(
            f"/care/courses/{course.id}"
        )
        page = text_of(client.get(response.headers["Location"]))
        assert "Paid $960. Your 8 sessions with Dana Reyes are booked" in page
        assert "Paid by card $960" in page and "Booked" in page

    def test_a_declined_card_shows_the_form_again_with_the_reason(self, client, auth, db, patient, card):
        course = _booked(client, auth, db)
        response = client.post(
            f"/care/courses/{course.id}/pay",
            data={"payment_method": card(DECLINED_ON_CHARGE), "csrf_token": csrf(auth)},
        )
        assert response.status_code == 402
        assert "Your card was declined." in text_of(response) and 'id="card-form"' in response.get_data(True)
        db.refresh(course)
        assert course.status is CourseStatus.PENDING_PAYMENT

    def test_the_patient_can_give_up_an_unpaid_course_and_its_times_are_freed(
        self, client, auth, db, patient
    ):
        course = _booked(client, auth, db)
        confirm = client.get(f"/care/courses/{course.id}/cancel")
        assert "Nothing has been charged for this course" in text_of(confirm)
        ids = db.scalars(select(Appointment.id).where(Appointment.course_id == course.id)).all()
        response = client.post(
            f"/care/courses/{course.id}/cancel", data={"appointment": ids, "csrf_token": csrf(auth)}
        )
        assert response.status_code == 302
        db.refresh(course)
        assert course.status is CourseStatus.CANCELLED

    def test_the_therapist_sees_the_payment_and_can_waive_the_late_fee(self, client, auth, db, patient, card):
        course = _booked(client, auth, db)
        paid = client.post(
            f"/care/courses/{course.id}/pay", data={"payment_method": card(VISA), "csrf_token": csrf(auth)}
        )
        assert paid.status_code == 302
        first = db.scalars(
            select(Appointment).where(Appointment.course_id == course.id).order_by(Appointment.starts_at)
        ).first()
        auth.logout()
        auth.login(course.therapist.user.email)
        page = client.get(f"/me/sessions/{first.id}")
        assert "Paid by card $960" in text_of(page) and "will be refunded to Pat Kim's card" in text_of(page)

        response = client.post(
            f"/me/sessions/{first.id}/cancel",
            data={"csrf_token": auth.csrf_token(f"/me/sessions/{first.id}")},
        )

        assert response.status_code == 302
        after = text_of(client.get(response.headers["Location"]))
        assert "Cancelled the session with Pat Kim. $120 is refunded to their card." in after
        assert "Refunded $120" in after and "1 cancelled session" in after


def test_without_stripe_the_course_is_paid_at_the_visit_and_says_so(client, auth, db, patient):
    course = _booked(client, auth, db)
    assert course.status is CourseStatus.BOOKED
    page = text_of(client.get(f"/care/courses/{course.id}"))
    assert (
        "Pay at the visit $120 a session, paid to Dana Reyes at each visit ($960 for the whole course)"
        in page
    )
    refused = client.get(f"/care/courses/{course.id}/pay")
    assert refused.status_code == 302


class TestThreeDSecure:
    """A card that needs 3-D Secure (4000 0025 0000 3155): the server's charge comes back requires_action,
    the browser completes it with Stripe.js, and /pay/done applies what Stripe then says."""

    @pytest.fixture
    def app_overrides(self, stripe_settings):
        return dict(stripe_settings)

    @pytest.fixture
    def stripe_client(self, stripe_settings):
        return stripe.StripeClient(
            stripe_settings["STRIPE_SECRET_KEY"], base_addresses={"api": stripe_settings["STRIPE_API_BASE"]}
        )

    def _pay_3ds(self, client, auth, db, stripe_client) -> tuple[Course, str]:
        course = _booked(client, auth, db)
        params = {
            "type": "card",
            "card": {"number": "4000002500003155", "exp_month": 12, "exp_year": 2031, "cvc": "123"},
        }
        method = stripe_client.v1.payment_methods.create(params=params).id
        page = client.post(
            f"/care/courses/{course.id}/pay", data={"payment_method": method, "csrf_token": csrf(auth)}
        )
        assert page.status_code == 200 and "Confirm your card with your bank" in text_of(page)
        secret = re.search(r'data-client-secret="([^"]+)"', page.get_data(as_text=True)).group(1)
        return course, secret

    def _authenticate(self, stripe_settings, secret: str, *, success: bool) -> None:
        """What localstripe's Stripe.js does when the patient answers its 3-D Secure dialog."""
        intent_id = secret.split("_secret_")[0]
        response = requests.post(
            f"{stripe_settings['STRIPE_API_BASE']}/v1/payment_intents/{intent_id}/_authenticate",
            params={"success": "true" if success else "false"},
            json={"key": stripe_settings["STRIPE_PUBLISHABLE_KEY"], "client_secret": secret},
            timeout=10,
        )
        assert response.status_code == 200, response.text

    def test_an_authenticated_payment_books_the_course(
        self, client, auth, db, patient, stripe_client, stripe_settings
    ):
        course, secret = self._pay_3ds(client, auth, db, stripe_client)
        db.refresh(course)
        assert course.status is CourseStatus.PENDING_PAYMENT  # nothing is booked before the bank says yes
        self._authenticate(stripe_settings, secret, success=True)

        done = client.get(f"/care/courses/{course.id}/pay/done")

        assert done.status_code == 302
        assert "Paid $960." in text_of(client.get(done.headers["Location"]))
        db.refresh(course)
        assert course.status is CourseStatus.BOOKED and course.paid_cents == 96_000

    def test_a_failed_authentication_leaves_it_unpaid_with_a_reason(
        self, client, auth, db, patient, stripe_client, stripe_settings
    ):
        course, secret = self._pay_3ds(client, auth, db, stripe_client)
        self._authenticate(stripe_settings, secret, success=False)

        done = client.get(f"/care/courses/{course.id}/pay/done")

        assert done.status_code == 302 and done.headers["Location"].endswith(f"/care/courses/{course.id}/pay")
        page = text_of(client.get(done.headers["Location"]))
        assert "could not be authenticated" in page
        db.refresh(course)
        assert course.status is CourseStatus.PENDING_PAYMENT and course.paid_cents == 0
