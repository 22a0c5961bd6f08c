"""Booking a course under an insurance plan over the API: `plan_id` in POST /api/v1/courses[/plan], the
plan's decision in the preview, the copay for covered sessions, `coverage` on the course, the check the
plan's payer may see, and (against localstripe) the card charge and refunds session by session.

Acme Health's plans, all with the therapist in network: Choice PPO wants a referral (the intakes here give
none); Flex PPO copay $25, 10 visits a plan year (starting in the month of the first course); Two PPO copay
$25, 2 visits a year. $120 a session; neck pain's plan is 8 x 60 minutes.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
import stripe
from sqlalchemy import func, select

from massage_booking.models import (
    Appointment,
    Course,
    EligibilityCheck,
    InsurancePlan,
    NetworkMembership,
    Payer,
    PlanType,
    TherapistProfile,
)
from tests.factories import VISA, bookable_therapist, course_body, monday_10, post_intake

SESSION = 12_000
COPAY = 2_500


@pytest.fixture
def plans(db) -> dict[str, InsurancePlan]:
    acme = Payer(code="ACME", name="Acme Health")
    found = {
        "choice": InsurancePlan(
            name="Choice PPO", plan_type=PlanType.PPO, referral_required=True, copay_cents=COPAY
        ),
        "flex": InsurancePlan(
            name="Flex PPO",
            plan_type=PlanType.PPO,
            copay_cents=COPAY,
            annual_visit_limit=10,
            plan_year_start_month=monday_10().month,
        ),
        "two": InsurancePlan(
            name="Two PPO",
            plan_type=PlanType.PPO,
            copay_cents=COPAY,
            annual_visit_limit=2,
            plan_year_start_month=monday_10().month,
        ),
    }
    acme.plans.extend(found.values())
    db.add(acme)
    db.commit()
    return found


@pytest.fixture
def therapist(auth, db, plans) -> int:
    therapist_id = bookable_therapist(auth, db, "Dana Reyes", trained=False)
    db.get(TherapistProfile, therapist_id).license_verified_at = datetime.now(UTC) - timedelta(days=30)
    db.add_all(NetworkMembership(therapist_id=therapist_id, plan_id=p.id) for p in plans.values())
    db.commit()
    return therapist_id


def _book(client, headers, therapist_id: int, plan: InsurancePlan | None, **extra):
    body = course_body(post_intake(client, headers), therapist_id, **extra)
    if plan is not None:
        body["plan_id"] = plan.id
    return client.post("/api/v1/courses", json=body, headers=headers)


def test_the_preview_gives_the_plans_decision_and_the_price(client, patient, therapist, plans):
    _, headers = patient
    intake_id = post_intake(client, headers)
    body = course_body(intake_id, therapist, plan_id=plans["choice"].id)
    preview = client.post("/api/v1/courses/plan", json=body, headers=headers).get_json()
    assert preview["coverage"]["outcome"] == "not_eligible"
    reasons = preview["coverage"]["decision"]["reasons"]
    assert [(r["code"], r["blocking"]) for r in reasons] == [("referral_required", True)]
    assert preview["price"]["price_cents"] == 8 * SESSION  # self-pay

    covered = client.post(
        "/api/v1/courses/plan",
        json=course_body(intake_id, therapist, plan_id=plans["flex"].id),
        headers=headers,
    ).get_json()
    assert covered["coverage"]["plan"] == {"id": plans["flex"].id, "name": "Acme Health Flex PPO"}
    assert (covered["coverage"]["outcome"], covered["coverage"]["covered_sessions"]) == ("eligible", 8)
    assert covered["price"] == {
        "currency": "usd",
        "session_price_cents": SESSION,
        "covered_sessions": 8,
        "copay_cents": COPAY,
        "price_cents": 8 * COPAY,
    }
    self_pay = client.post("/api/v1/courses/plan", json=course_body(intake_id, therapist), headers=headers)
    assert self_pay.get_json()["coverage"] is None


def test_a_covered_course_is_booked_under_the_plan_at_the_copay(client, auth, db, patient, therapist, plans):
    user, headers = patient
    response = _book(client, headers, therapist, plans["flex"])
    assert response.status_code == 201, response.get_data(as_text=True)
    course = response.get_json()
    assert course["coverage"] == {
        "plan": {"id": plans["flex"].id, "name": "Acme Health Flex PPO"},
        "outcome": "eligible",
        "covered_sessions": 8,
        "copay_cents": COPAY,
    }
    payment = course["payment"]
    assert (payment["session_price_cents"], payment["price_cents"]) == (SESSION, 8 * COPAY)
    assert [s["price_cents"] for s in course["sessions"]] == [COPAY] * 8
    assert db.get(Course, course["id"]).plan_id == plans["flex"].id

    # The check that priced it is the patient's own, on the course, and its payer sees that one was made.
    check = db.scalar(select(EligibilityCheck).where(EligibilityCheck.course_id == course["id"]))
    assert (check.channel, check.actor_id, check.outcome) == ("booking", user.id, "eligible")
    insurer = auth.create_user("insurer")
    insurer.payer_id = plans["flex"].payer_id
    db.commit()
    listed = client.get(
        "/api/v1/eligibility/checks", headers={"Authorization": f"Bearer {auth.api_token(insurer.email)}"}
    ).get_json()["checks"]
    assert [(c["channel"], c["course_id"]) for c in listed] == [("booking", course["id"])]


def test_visits_used_under_the_plan_leave_a_later_course_partly_covered(client, patient, therapist, plans):
    _, headers = patient
    assert _book(client, headers, therapist, plans["flex"]).status_code == 201
    later = (monday_10() + timedelta(weeks=5)).isoformat()
    response = _book(client, headers, therapist, plans["flex"], first_start=later)
    assert response.status_code == 201, response.get_data(as_text=True)
    course = response.get_json()
    assert (course["coverage"]["outcome"], course["coverage"]["covered_sessions"]) == ("partly_eligible", 2)
    assert course["payment"]["price_cents"] == 2 * COPAY + 6 * SESSION
    assert [s["price_cents"] for s in course["sessions"]] == [COPAY] * 2 + [SESSION] * 6
    # Used up: a third course (afternoons of the same weeks) is not covered, and is refused under the plan.
    afternoons = (monday_10() + timedelta(weeks=5, hours=4)).isoformat()
    third = _book(client, headers, therapist, plans["flex"], first_start=afternoons)
    assert third.status_code == 422
    assert third.get_json()["error"]["code"] == "not_covered"
    assert "All 10 visits of this plan year have been used." in third.get_json()["error"]["message"]


def test_visits_booked_later_in_the_plan_year_count_too(client, patient, therapist, plans):
    """Booked in the other order, the two courses still share the 10 visits: the one booked second gets
    what is left, whichever comes first in the calendar."""
    _, headers = patient
    later = (monday_10() + timedelta(weeks=5)).isoformat()
    assert _book(client, headers, therapist, plans["flex"], first_start=later).status_code == 201
    earlier = _book(client, headers, therapist, plans["flex"]).get_json()
    assert earlier["coverage"]["covered_sessions"] == 2


def test_a_plan_that_covers_nothing_is_refused_naming_the_field_and_books_nothing(
    client, db, patient, therapist, plans
):
    _, headers = patient
    response = _book(client, headers, therapist, plans["choice"])
    assert response.status_code == 422
    error = response.get_json()["error"]
    assert error["code"] == "not_covered" and "plan_id" in error["details"]["fields"]
    assert [r["code"] for r in error["details"]["coverage"]["reasons"]] == ["referral_required"]
    assert db.scalar(select(func.count()).select_from(Course)) == 0
    assert db.scalar(select(func.count()).select_from(Appointment)) == 0
    assert db.scalar(select(func.count()).select_from(EligibilityCheck)) == 0  # rolled back with the booking


@pytest.mark.parametrize("plan_id", [999, "1", 0, True])
def test_an_unknown_or_malformed_plan_id_is_422_naming_the_field(client, db, patient, therapist, plan_id):
    _, headers = patient
    body = course_body(post_intake(client, headers), therapist, plan_id=plan_id)
    for path in ("/api/v1/courses", "/api/v1/courses/plan"):
        response = client.post(path, json=body, headers=headers)
        assert response.status_code == 422, response.get_data(as_text=True)
        assert list(response.get_json()["error"]["details"]["fields"]) == ["plan_id"]
    assert db.scalar(select(func.count()).select_from(Course)) == 0


def test_a_self_pay_course_has_no_coverage(client, patient, therapist):
    _, headers = patient
    course = _book(client, headers, therapist, None).get_json()
    assert course["coverage"] is None and course["payment"]["price_cents"] == 8 * SESSION
    assert {s["price_cents"] for s in course["sessions"]} == {SESSION}


def test_the_payer_can_check_a_course_booked_under_its_plan(client, auth, db, patient, therapist, plans):
    _, headers = patient
    course_id = _book(client, headers, therapist, plans["flex"]).get_json()["id"]
    insurer = auth.create_user("insurer")
    insurer.payer_id = plans["flex"].payer_id
    db.commit()
    body = client.post(
        "/api/v1/eligibility",
        json={"course_id": course_id},
        headers={"Authorization": f"Bearer {auth.api_token(insurer.email)}"},
    ).get_json()
    assert (body["course_id"], body["outcome"], body["covered_sessions"]) == (course_id, "eligible", 8)


class TestWithCardPayments:
    """Through localstripe: the PaymentIntent is for copay x covered + full price x the rest, and each
    cancelled session gets its own price back."""

    @pytest.fixture
    def app_overrides(self, stripe_settings):
        return {**stripe_settings, "PAYMENT_HOLD_MINUTES": 15}

    @pytest.fixture
    def stripe_client(self, stripe_settings) -> stripe.StripeClient:
        return stripe.StripeClient(
            stripe_settings["STRIPE_SECRET_KEY"], base_addresses={"api": stripe_settings["STRIPE_API_BASE"]}
        )

    def _paid(self, client, db, headers, therapist, plan, stripe_client) -> dict:
        booked = _book(client, headers, therapist, plan)
        assert booked.status_code == 201, booked.get_data(as_text=True)
        course = booked.get_json()
        assert course["status"] == "pending_payment"
        method = stripe_client.v1.payment_methods.create(
            params={"type": "card", "card": {"number": VISA, "exp_month": 12, "exp_year": 2031, "cvc": "123"}}
        ).id
        paid = client.post(
            f"/api/v1/courses/{course['id']}/pay", json={"payment_method": method}, headers=headers
        )
        assert paid.status_code == 200, paid.get_data(as_text=True)
        return paid.get_json()

    def test_a_partly_covered_course_charges_copay_for_the_covered_and_full_price_for_the_rest(
        self, client, db, patient, therapist, plans, stripe_client
    ):
        _, headers = patient
        course = self._paid(client, db, headers, therapist, plans["two"], stripe_client)
        expected = 2 * COPAY + 6 * SESSION
        assert course["payment"]["paid_cents"] == expected and course["coverage"]["covered_sessions"] == 2
        intent = stripe_client.v1.payment_intents.retrieve(db.get(Course, course["id"]).payment_intent_id)
        assert (intent.status, intent.amount) == ("succeeded", expected)

        # Session 1 is covered: its refund is the copay. Session 8 is not: the full price.
        first, last = course["sessions"][0], course["sessions"][-1]
        covered = client.post(
            f"/api/v1/courses/{course['id']}/cancel", json={"appointment_ids": [first["id"]]}, headers=headers
        ).get_json()
        assert covered["refund"]["amount_cents"] == COPAY
        uncovered = client.post(
            f"/api/v1/courses/{course['id']}/cancel", json={"appointment_ids": [last["id"]]}, headers=headers
        ).get_json()
        assert uncovered["refund"]["amount_cents"] == SESSION
        assert uncovered["payment"]["refunded_cents"] == COPAY + SESSION
        refunds = stripe_client.v1.refunds.list(params={"payment_intent": intent.id}).data
        assert sorted(r.amount for r in refunds) == [COPAY, SESSION]

    def test_a_course_held_for_payment_under_the_plan_counts_its_visits(
        self, client, db, patient, therapist, plans
    ):
        _, headers = patient
        held = _book(client, headers, therapist, plans["flex"]).get_json()
        assert held["status"] == "pending_payment"
        later = (monday_10() + timedelta(weeks=5)).isoformat()
        second = _book(client, headers, therapist, plans["flex"], first_start=later).get_json()
        assert second["coverage"]["covered_sessions"] == 2
        # Once the first one's hold has run out, its visits are free again: only the second's 8 count.
        course = db.get(Course, held["id"])
        course.hold_expires_at = datetime.now(UTC) - timedelta(seconds=1)
        db.commit()
        afternoons = (monday_10() + timedelta(hours=4)).isoformat()
        body = course_body(
            post_intake(client, headers), therapist, plan_id=plans["flex"].id, first_start=afternoons
        )
        preview = client.post("/api/v1/courses/plan", json=body, headers=headers).get_json()
        assert preview["coverage"]["covered_sessions"] == 2

    def test_cancelling_the_rest_refunds_each_session_its_own_price(
        self, client, db, patient, therapist, plans, stripe_client
    ):
        _, headers = patient
        course = self._paid(client, db, headers, therapist, plans["two"], stripe_client)
        done = client.post(f"/api/v1/courses/{course['id']}/cancel", json={}, headers=headers).get_json()
        assert done["refund"]["amount_cents"] == 2 * COPAY + 6 * SESSION
        assert done["status"] == "cancelled"


def test_a_patients_coverage_preview_is_not_listed_to_the_payer(client, auth, db, patient, therapist, plans):
    """Looking at a plan while choosing is the patient's business; a course booked under it is the payer's."""
    _, headers = patient
    intake_id = post_intake(client, headers)
    preview = client.post(
        "/api/v1/courses/plan",
        json=course_body(intake_id, therapist, plan_id=plans["flex"].id),
        headers=headers,
    )
    assert preview.status_code == 200, preview.get_data(as_text=True)
    assert db.scalar(select(func.count()).select_from(EligibilityCheck)) == 1  # recorded for the patient
    insurer = auth.create_user("insurer")
    insurer.payer_id = plans["flex"].payer_id
    db.commit()
    listed = client.get(
        "/api/v1/eligibility/checks", headers={"Authorization": f"Bearer {auth.api_token(insurer.email)}"}
    ).get_json()["checks"]
    assert listed == []
