"""Coverage in the booking wizard: the patient picks an insurance plan (or none, self-pay) on the review, sees
the plan's decision and the price that follows before booking, and a covered course charges the copay.

Acme Health's plans (the therapist is in network for both PPOs; the HMO is another payer's):
- Choice PPO wants a physician's referral (the intakes here give none), copay $25;
- Flex PPO wants none, copay $25, 10 visits a plan year (its year starts in the month of the first course,
  so that two courses a few weeks apart always fall in one plan year);
- Zero PPO, no copay.
The therapist charges $120 for 60 minutes; neck pain's plan is 8 x 60 minutes (Sherman 2014).
"""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import func, select

from massage_booking.extensions import links
from massage_booking.models import (
    AuditEvent,
    Course,
    EligibilityCheck,
    InsurancePlan,
    NetworkMembership,
    Payer,
    PaymentMode,
    PlanType,
    TherapistProfile,
)
from massage_booking.services import courses, coverage
from tests.factories import bookable_therapist, monday_10
from tests.pages import NECK_FORM, csrf, form_fields, intake_id_of, start_intake, text_of

REFERRAL_REASON = "This plan requires a physician's referral, and none was given."


@pytest.fixture
def patient(auth):
    user = auth.create_user("patient", display_name="Pat Kim")
    auth.login(user.email)
    return user


@pytest.fixture
def plans(db) -> dict[str, InsurancePlan]:
    acme = Payer(code="ACME", name="Acme Health")
    other = Payer(code="OTHER", name="Other Mutual")
    month = monday_10().month
    found = {
        "choice": InsurancePlan(
            name="Choice PPO", plan_type=PlanType.PPO, referral_required=True, copay_cents=2500
        ),
        "flex": InsurancePlan(
            name="Flex PPO",
            plan_type=PlanType.PPO,
            copay_cents=2500,
            annual_visit_limit=10,
            plan_year_start_month=month,
        ),
        "zero": InsurancePlan(name="Zero PPO", plan_type=PlanType.PPO, copay_cents=0),
        "hmo": InsurancePlan(name="Basic HMO", plan_type=PlanType.HMO),
    }
    acme.plans.extend([found["choice"], found["flex"], found["zero"]])
    other.plans.append(found["hmo"])
    db.add_all([acme, other])
    db.commit()
    return found


@pytest.fixture
def therapist(auth, db, plans) -> int:
    """Dana Reyes: licensed (verified), in network for Acme's three PPOs, not for Other Mutual's HMO."""
    therapist_id = bookable_therapist(auth, db, "Dana Reyes", trained=False)
    profile = db.get(TherapistProfile, therapist_id)
    profile.license_verified_at = datetime.now(UTC) - timedelta(days=30)
    db.add_all(
        NetworkMembership(therapist_id=therapist_id, plan_id=plans[name].id)
        for name in ("choice", "flex", "zero")
    )
    db.commit()
    return therapist_id


def review(client, intake_id: int, therapist_id: int, plan: InsurancePlan | None = None, first=None):
    query = {
        "intake": intake_id,
        "therapist": therapist_id,
        "first_start": (first or monday_10()).isoformat(),
    }
    if plan is not None:
        query["plan_id"] = plan.id
    return client.get("/care/review", query_string=query)


def book_from(client, auth, page) -> object:
    fields = form_fields(page.get_data(as_text=True), "/care/book")
    fields["csrf_token"] = csrf(auth)
    return client.post("/care/book", data=fields)


def new_intake(client, auth) -> int:
    return intake_id_of(start_intake(client, auth, NECK_FORM))


def test_the_review_offers_self_pay_and_every_plan_in_network_first(client, auth, db, patient, therapist):
    page = review(client, new_intake(client, auth), therapist)
    assert page.status_code == 200
    body = page.get_data(as_text=True)
    select_html = re.search(r'<select id="plan_id" name="plan_id".*?</select>', body, re.S).group(0)
    assert re.search(r'<option value="" selected>None \(self-pay\)</option>', select_html)
    network = select_html.index("In Dana Reyes's network")
    others = select_html.index("Other plans (not in Dana Reyes's network)")
    assert network < select_html.index("Acme Health Choice PPO") < others
    assert others < select_html.index("Other Mutual Basic HMO")
    assert "Insurance plan" in text_of(page)
    # Self-pay: the full price, and no check made.
    assert "$120 a session × 8 = $960" in text_of(page)
    assert db.scalar(select(func.count()).select_from(EligibilityCheck)) == 0


def test_a_plan_that_wants_a_referral_the_intake_lacks_is_not_covered_and_books_self_pay(
    client, auth, db, patient, therapist, plans
):
    page = review(client, new_intake(client, auth), therapist, plans["choice"])
    assert page.status_code == 200
    shown = text_of(page)
    assert f"Not covered: {REFERRAL_REASON}" in shown
    assert "$120 a session × 8 = $960" in shown and "self-pay" in shown
    assert "Book all 8 sessions, self-pay" in shown
    assert f'<option value="{plans["choice"].id}" selected>Acme Health Choice PPO' in page.text
    # The check is the patient's own, recorded for the payer and audited.
    check = db.scalar(select(EligibilityCheck))
    assert (check.channel, check.actor_id, check.plan_id) == ("booking", patient.id, plans["choice"].id)
    assert (check.outcome, check.covered_sessions, check.reason_codes) == (
        "not_eligible",
        0,
        ["referral_required"],
    )
    event = db.scalar(select(AuditEvent).where(AuditEvent.action == "eligibility.checked"))
    assert event.actor_id == patient.id and event.details["channel"] == "booking"

    # Booking from that page is self-pay: no plan on the course, the full price.
    response = book_from(client, auth, page)
    assert response.status_code == 302, text_of(response)
    course = db.scalar(select(Course))
    assert (course.plan_id, course.covered_sessions, course.price_cents) == (None, 0, 96_000)


def test_a_covered_plan_charges_the_copay(client, auth, db, patient, therapist, plans):
    page = review(client, new_intake(client, auth), therapist, plans["flex"])
    shown = text_of(page)
    assert "Covered: 8 of 8 sessions, copay $25 a session" in shown
    assert "$25 copay × 8 = $200 (without the plan: $960)" in shown
    assert "Pay at the visit" in shown  # no card payments in this app: $25 at each visit

    response = book_from(client, auth, page)
    assert response.status_code == 302, text_of(response)
    course = db.scalar(select(Course))
    assert (course.plan_id, course.covered_sessions, course.copay_cents) == (plans["flex"].id, 8, 2500)
    assert (course.session_price_cents, course.price_cents) == (12_000, 20_000)
    assert db.scalar(select(EligibilityCheck).where(EligibilityCheck.course_id == course.id)) is not None
    course_page = text_of(client.get(response.headers["Location"]))
    assert "Insurance: Acme Health Flex PPO: all 8 sessions covered, copay $25 each." in course_page


def test_visits_used_by_an_earlier_course_under_the_plan_leave_it_partly_covered(
    client, auth, db, patient, therapist, plans
):
    first = book_from(client, auth, review(client, new_intake(client, auth), therapist, plans["flex"]))
    assert first.status_code == 302
    later = monday_10() + timedelta(weeks=5)  # after the first course's 8 sessions (4 weeks)

    page = review(client, new_intake(client, auth), therapist, plans["flex"], first=later)
    shown = text_of(page)
    assert "Partly covered: 2 of 8 sessions; the other 6 at $120" in shown
    assert "8 of 10 visits this plan year are used: 2 of the 8 sessions are covered." in shown
    assert "$25 copay × 2 + $120 × 6 = $770" in shown

    response = book_from(client, auth, page)
    assert response.status_code == 302, text_of(response)
    course = db.scalars(select(Course).order_by(Course.id.desc())).first()
    assert (course.covered_sessions, course.price_cents) == (2, 2 * 2500 + 6 * 12_000)
    course_page = text_of(client.get(response.headers["Location"]))
    assert "sessions 1–2 of 8 covered, copay $25 each" in course_page


def test_the_price_is_decided_again_at_booking_and_a_changed_one_books_nothing(
    client, auth, db, patient, therapist, plans
):
    """The review showed 8 covered; before Book, another course used the plan's visits."""
    later = monday_10() + timedelta(weeks=5)
    page = review(client, new_intake(client, auth), therapist, plans["flex"], first=later)
    assert "Covered: 8 of 8 sessions" in text_of(page)
    earlier = review(client, new_intake(client, auth), therapist, plans["flex"])
    assert book_from(client, auth, earlier).status_code == 302

    response = book_from(client, auth, page)
    assert response.status_code == 409
    shown = text_of(response)
    assert "The price changed since you checked it: the course now costs $770" in shown
    assert "Partly covered: 2 of 8 sessions" in shown
    assert db.scalar(select(func.count()).select_from(Course)) == 1


def test_a_plan_that_stops_covering_before_booking_books_nothing(client, auth, db, patient, therapist, plans):
    """A forged (or stale) Book form naming a plan that covers none of the course."""
    page = review(client, new_intake(client, auth), therapist)
    fields = form_fields(page.get_data(as_text=True), "/care/book")
    fields.update(csrf_token=csrf(auth), plan_id=str(plans["choice"].id))
    fields.pop("quoted_cents")
    response = client.post("/care/book", data=fields)
    assert response.status_code == 422
    shown = text_of(response)
    assert "Acme Health Choice PPO does not cover this course" in shown and REFERRAL_REASON in shown
    assert "Nothing was booked" in shown
    assert db.scalar(select(func.count()).select_from(Course)) == 0


@pytest.mark.parametrize("plan_id", ["999", "Acme"])
def test_an_unknown_plan_is_named_and_the_review_still_works(client, auth, db, patient, therapist, plan_id):
    intake_id = new_intake(client, auth)
    page = client.get(
        "/care/review",
        query_string={
            "intake": intake_id,
            "therapist": therapist,
            "first_start": monday_10().isoformat(),
            "plan_id": plan_id,
        },
    )
    assert page.status_code == 422
    shown = text_of(page)
    assert coverage.PLAN_NOT_FOUND in shown and "$120 a session × 8 = $960" in shown
    assert "plan_id" not in form_fields(page.get_data(as_text=True), "/care/book")


def test_the_plan_searched_for_is_the_one_the_review_checks(client, auth, db, patient, therapist, plans):
    intake_id = new_intake(client, auth)
    found = client.get(
        "/care/therapist", query_string={"intake": intake_id, "near": "10001", "insurance": plans["flex"].id}
    )
    assert found.status_code == 200
    link = re.search(rf'href="(/care/therapist\?[^"]*therapist={therapist}[^"]*)"', found.text).group(1)
    assert f"plan_id={plans['flex'].id}" in link
    slots = client.get(link.replace("&amp;", "&"))
    assert f'name="plan_id" value="{plans["flex"].id}"' in slots.text


def test_without_card_payments_a_course_the_plan_pays_in_full_has_nothing_to_pay(
    client, auth, db, patient, therapist, plans
):
    page = review(client, new_intake(client, auth), therapist, plans["zero"])
    shown = text_of(page)
    assert "Covered: 8 of 8 sessions, no copay" in shown
    assert "covered by your plan; nothing to pay" in shown and "Pay at the visit" not in shown
    response = book_from(client, auth, page)
    course = db.scalar(select(Course))
    assert course.price_cents == 0 and course.payment_mode is PaymentMode.AT_VISIT
    course_page = text_of(client.get(response.headers["Location"]))
    assert "Covered by your plan; nothing to pay." in course_page and "Pay at the visit" not in course_page


class TestWithCardPayments:
    @pytest.fixture
    def app_overrides(self, stripe_settings):
        return dict(stripe_settings)

    def test_a_course_the_plan_pays_in_full_is_booked_without_payment(
        self, client, auth, db, patient, therapist, plans
    ):
        page = review(client, new_intake(client, auth), therapist, plans["zero"])
        shown = text_of(page)
        assert "covered by your plan; nothing to pay" in shown
        assert "Pay at the visit" not in shown and "You pay by card" not in shown
        response = book_from(client, auth, page)
        course = db.scalar(select(Course))
        assert response.headers["Location"] == f"/care/courses/{course.id}"  # no card page
        assert course.status.value == "booked" and course.payment_mode is PaymentMode.AT_VISIT
        assert "Covered by your plan; nothing to pay." in text_of(client.get(response.headers["Location"]))

    def test_the_copay_is_paid_by_card(self, client, auth, db, patient, therapist, plans):
        page = review(client, new_intake(client, auth), therapist, plans["flex"])
        assert "You pay by card on the next page" in text_of(page)
        response = book_from(client, auth, page)
        course = db.scalar(select(Course))
        assert response.headers["Location"] == f"/care/courses/{course.id}/pay"
        pay = text_of(client.get(response.headers["Location"]))
        assert "Acme Health Flex PPO: all 8 sessions covered, copay $25 each" in pay
        assert "$25 copay × 8 = $200" in pay and "Pay $200" in pay


def test_the_service_refuses_a_plan_that_covers_nothing(db, auth, client, patient, therapist, plans):
    """book_course itself (not only the page) keeps a course off a plan that pays for none of it."""
    intake_id = new_intake(client, auth)
    wanted = courses.CourseRequest(
        intake_id=intake_id, therapist_id=therapist, first_start=monday_10(), plan_id=plans["choice"].id
    )
    with pytest.raises(coverage.PlanNotCovered) as raised:
        courses.book_course(db, db.merge(patient), wanted, datetime.now(UTC), links=links())
    assert raised.value.details["fields"]["plan_id"]
    assert [r["code"] for r in raised.value.details["coverage"]["reasons"]] == ["referral_required"]
    db.rollback()
