"""The insurer portal (/insurer): a check by hand, by the course's fields or by course number, with the
explained answer; field errors beside their fields; another payer's course or check is "not found" and
audited; the payer's checks, newest first, 25 a page; only insurer accounts get in."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, timedelta

import pytest
from sqlalchemy import func, select

from massage_booking.demo.data import npi_with_check_digit
from massage_booking.models import (
    AuditEvent,
    Course,
    EligibilityCheck,
    InsurancePlan,
    NetworkMembership,
    Payer,
    PlanType,
    TherapistProfile,
    User,
)
from massage_booking.services.eligibility import COURSE_NOT_FOUND, PLAN_NOT_FOUND
from massage_booking.services.insurers import CHECK_NOT_FOUND
from tests.factories import acme_and_other, bookable_therapist, course_body, post_intake

SERVICE = date.today() + timedelta(days=14)
REFERRAL = date.today() - timedelta(days=5)
NPI = npi_with_check_digit("123456789")


@pytest.fixture
def payers(db):
    """Acme's PPO wants a referral (90 days), allows 20 visits a year and 4 units a visit, copay $25."""
    return acme_and_other(db, max_units_per_visit=4)


@pytest.fixture
def therapist(auth, db, payers) -> int:
    """A licensed (verified) therapist with an NPI, in Acme's network, without an oncology credential."""
    therapist_id = bookable_therapist(auth, db, "Dana Reyes", trained=False)
    profile = db.get(TherapistProfile, therapist_id)
    profile.license_verified_at = datetime.now(UTC) - timedelta(days=30)
    profile.npi = NPI
    db.add(NetworkMembership(therapist_id=therapist_id, plan_id=payers[0].plans[0].id))
    db.commit()
    return therapist_id


def _insurer(auth, db, payer: Payer | None, email: str):
    user = auth.create_user("insurer", email=email, display_name=f"Claims desk {email[:5]}")
    user.payer_id = payer.id if payer is not None else None
    db.commit()
    return user


@pytest.fixture
def acme_insurer(auth, db, payers):
    user = _insurer(auth, db, payers[0], "claims@acme.example")
    auth.login(user.email)
    return user


def _neck(plan_id: int, therapist: int | str, **changes) -> dict[str, str]:
    fields = {
        "plan_id": str(plan_id),
        "icd10_code": "M54.2",
        "condition": "",
        "therapist_id": str(therapist),
        "session_minutes": "60",
        "sessions": "8",
        "sessions_per_week": "2",
        "referral_date": REFERRAL.isoformat(),
        "service_date": SERVICE.isoformat(),
        "visits_used": "0",
    }
    fields.update({k: str(v) for k, v in changes.items()})
    return fields


def _check(client, auth, **fields):
    fields.setdefault("csrf_token", auth.csrf_token("/insurer"))
    return client.post("/insurer/check", data=fields)


def _count(db, model, *where) -> int:
    db.expire_all()
    return db.scalar(select(func.count()).select_from(model).where(*where))


def _audited(db, action: str) -> int:
    return _count(db, AuditEvent, AuditEvent.action == action)


# ------------------------------------------------------------------------------------------- the form


def test_the_form_offers_the_payers_plans_and_the_registrys_codes(client, acme_insurer, payers):
    page = client.get("/insurer").get_data(as_text=True)

    assert "Check a course by its details" in page and "Check a booked course" in page
    plan = payers[0].plans[0]
    # The payer's only plan is chosen already.
    assert re.search(rf'<option selected value="{plan.id}">Choice PPO \(PPO\)</option>', page)
    assert "Basic HMO" not in page  # another payer's plan
    assert 'list="icd10-codes"' in page and '<datalist id="icd10-codes">' in page
    assert '<option value="M54.2">Chronic neck pain</option>' in page
    assert 'value="G89.3"' in page and 'value="F41.9"' in page
    assert '<option value="breast_cancer_anxiety">' in page  # the condition select, for shared codes
    assert "No checks yet." in page  # the empty state
    assert 'aria-current="page">Eligibility</a>' in page  # the nav link


# ----------------------------------------------------------------------------------- checks by fields


def test_a_check_by_fields_shows_eligible_4_units_and_the_reasons(
    client, auth, db, acme_insurer, payers, therapist
):
    plan = payers[0].plans[0]
    response = _check(client, auth, **_neck(plan.id, therapist, session_minutes=90))

    assert response.status_code == 302
    row = db.scalar(select(EligibilityCheck))
    assert response.headers["Location"] == f"/insurer/checks/{row.id}"
    assert (row.channel, row.outcome, row.actor_id) == ("portal", "eligible", acme_insurer.id)
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    assert f"Check {row.id} recorded: Eligible" in page  # the flash names what was checked
    assert "outcome-banner outcome-eligible" in page
    assert re.search(r"✓</span>\s*Eligible</p>", page)
    assert "All 8 sessions are covered." in page
    assert "4 units of CPT 97124 per session." in page
    assert "$25" in page  # the copay
    assert "<dd>20</dd>" in page  # visits remaining this plan year
    # The reason: 90 minutes is 6 units by the 8-minute rule; the plan pays at most 4.
    assert "The plan covers at most 4 units per visit; 6 were asked for." in page
    assert "units_capped" in page and "Note" in page
    # The evidence behind the plan, on the condition's Evidence page.
    assert 'href="/evidence/chronic_neck_pain#ref-sherman2014">Sherman 2014</a>' in page
    assert "Acme Health Choice PPO" in page and "M54.2" in page


def test_the_reason_below_the_effective_dose_links_to_its_evidence(
    client, auth, db, acme_insurer, payers, therapist
):
    plan = payers[0].plans[0]
    response = _check(client, auth, **_neck(plan.id, therapist, session_minutes=30))
    page = client.get(response.headers["Location"]).get_data(as_text=True)

    assert "outcome-eligible" in page and "2 units of CPT 97124 per session." in page
    assert "below the effective dose (Sherman 2014)" in page
    assert re.search(
        r'Source:\s*<a href="/evidence/chronic_neck_pain#ref-sherman2014">Sherman 2014</a>', page
    )


def test_the_therapist_can_be_given_by_npi(client, auth, db, acme_insurer, payers, therapist):
    response = _check(client, auth, **_neck(payers[0].plans[0].id, NPI))

    assert response.status_code == 302
    flash = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "Dana Reyes" in flash
    unknown = _check(client, auth, **_neck(payers[0].plans[0].id, npi_with_check_digit("987654321")))
    assert unknown.status_code == 422
    assert "No therapist here has the NPI" in unknown.get_data(as_text=True)


def test_a_missing_referral_is_not_eligible_with_the_reason(
    client, auth, db, acme_insurer, payers, therapist
):
    response = _check(client, auth, **_neck(payers[0].plans[0].id, therapist, referral_date=""))
    page = client.get(response.headers["Location"]).get_data(as_text=True)

    assert "outcome-banner outcome-not-eligible" in page and "Not eligible" in page
    assert "None of the 8 sessions is covered." in page
    assert "This plan requires a physician&#39;s referral, and none was given." in page
    assert "Blocks coverage" in page


def test_visits_used_leave_a_partly_eligible_course(client, auth, db, acme_insurer, payers, therapist):
    response = _check(client, auth, **_neck(payers[0].plans[0].id, therapist, visits_used=18))
    page = client.get(response.headers["Location"]).get_data(as_text=True)

    assert "outcome-partly-eligible" in page and "Partly eligible" in page
    assert "2 of the 8 sessions are covered." in page


def test_bad_fields_are_shown_beside_their_fields_and_nothing_is_recorded(
    client, auth, db, acme_insurer, payers, therapist
):
    fields = _neck(
        payers[0].plans[0].id,
        therapist,
        session_minutes=0,
        sessions="many",
        service_date="soon",
        icd10_code="",
    )
    response = _check(client, auth, **fields)
    page = response.get_data(as_text=True)

    assert response.status_code == 422
    for name in ("session_minutes", "sessions", "service_date", "icd10_code"):
        assert f'id="{name}-error"' in page, name
        assert re.search(
            rf'<input[^>]*aria-invalid="true"[^>]*id="{name}"|id="{name}"[^>]*aria-invalid', page
        )
    assert "Give a whole number from 1 to 240." in page
    assert "Give a date as YYYY-MM-DD." in page
    assert 'value="many"' in page  # what was typed is kept
    assert _count(db, EligibilityCheck) == 0


def test_an_unknown_code_and_a_shared_code_are_422_beside_their_fields(
    client, auth, db, acme_insurer, payers, therapist
):
    unknown = _check(client, auth, **_neck(payers[0].plans[0].id, therapist, icd10_code="Z99.89"))
    assert unknown.status_code == 422
    assert 'id="icd10_code-error"' in unknown.get_data(as_text=True)

    shared = _check(client, auth, **_neck(payers[0].plans[0].id, therapist, icd10_code="F41.9"))
    page = shared.get_data(as_text=True)
    assert shared.status_code == 422 and 'id="condition-error"' in page
    assert "F41.9 is used by more than one condition" in page

    chosen = _check(
        client,
        auth,
        **_neck(payers[0].plans[0].id, therapist, icd10_code="F41.9", condition="breast_cancer_anxiety"),
    )
    assert chosen.status_code == 302
    assert _count(db, EligibilityCheck) == 1


def test_another_payers_plan_is_not_found_and_audited(client, auth, db, acme_insurer, payers, therapist):
    response = _check(client, auth, **_neck(payers[1].plans[0].id, therapist))

    assert response.status_code == 404
    page = response.get_data(as_text=True)
    assert PLAN_NOT_FOUND in page and 'id="plan_id-error"' in page
    assert _audited(db, "eligibility.plan_denied") == 1
    assert _count(db, EligibilityCheck) == 0


# ----------------------------------------------------------------------------------- checks by course


@pytest.fixture
def acme_course(client, auth, db, payers, therapist) -> int:
    """A course booked by a patient (no referral in the intake) under Acme's PPO."""
    patient = auth.create_user("patient")
    headers = {"Authorization": f"Bearer {auth.api_token(patient.email)}"}
    booked = client.post(
        "/api/v1/courses", json=course_body(post_intake(client, headers), therapist), headers=headers
    )
    assert booked.status_code == 201, booked.get_data(as_text=True)
    course = db.get(Course, booked.get_json()["id"])
    course.plan_id = payers[0].plans[0].id
    db.commit()
    return course.id


def _check_course(client, auth, course_id):
    data = {"course_id": str(course_id), "csrf_token": auth.csrf_token("/insurer")}
    return client.post("/insurer/check-course", data=data)


def test_a_course_of_the_payer_is_checked_from_its_booking(client, auth, db, payers, acme_course):
    user = _insurer(auth, db, payers[0], "claims@acme.example")
    auth.login(user.email)

    response = _check_course(client, auth, acme_course)

    assert response.status_code == 302
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "outcome-not-eligible" in page and "referral_required" in page
    assert f"<dd>#{acme_course}</dd>" in page
    assert "session_notes" not in page and "precaution" not in page.lower()


def test_another_payers_course_is_not_found_and_audited(client, auth, db, payers, acme_course):
    user = _insurer(auth, db, payers[1], "claims@other.example")
    auth.login(user.email)

    response = _check_course(client, auth, acme_course)

    assert response.status_code == 404
    page = response.get_data(as_text=True)
    assert COURSE_NOT_FOUND in page and 'id="course_id-error"' in page
    assert _audited(db, "eligibility.course_denied") == 1
    assert _count(db, EligibilityCheck) == 0
    # Not a number at all is a 422 beside the field.
    bad = _check_course(client, auth, "abc")
    assert bad.status_code == 422 and 'id="course_id-error"' in bad.get_data(as_text=True)


# ------------------------------------------------------------------------------- the list and details


def _rows(db, payer: Payer, count: int, start: datetime) -> list[int]:
    plan = payer.plans[0]
    rows = [
        EligibilityCheck(
            payer_id=payer.id,
            plan_id=plan.id,
            channel="api",
            icd10_code="M54.2",
            session_minutes=60,
            sessions=8,
            outcome="eligible",
            covered_sessions=8,
            reason_codes=[],
            answer={"outcome": "eligible", "covered_sessions": 8, "requested_sessions": 8, "reasons": []},
            created_at=start + timedelta(minutes=i),
        )
        for i in range(count)
    ]
    db.add_all(rows)
    db.commit()
    return [r.id for r in rows]


def test_the_checks_list_is_newest_first_25_a_page(client, auth, db, acme_insurer, payers):
    ids = _rows(db, payers[0], 30, datetime.now(UTC) - timedelta(days=1))
    _rows(db, payers[1], 3, datetime.now(UTC))  # another payer's: never listed

    first = client.get("/insurer/checks").get_data(as_text=True)
    listed = [int(n) for n in re.findall(r'href="/insurer/checks/(\d+)"', first)]
    assert listed == list(reversed(ids))[:25]
    assert "30 checks, newest first; page 1 of 2" in first
    assert 'href="/insurer/checks?page=2"' in first

    second = client.get("/insurer/checks?page=2").get_data(as_text=True)
    assert [int(n) for n in re.findall(r'href="/insurer/checks/(\d+)"', second)] == list(reversed(ids))[25:]
    assert client.get("/insurer/checks?page=9").headers["Location"] == "/insurer/checks?page=2"
    # The portal's home shows the latest five.
    home = client.get("/insurer").get_data(as_text=True)
    assert [int(n) for n in re.findall(r'href="/insurer/checks/(\d+)"', home)] == list(reversed(ids))[:5]


def test_an_empty_list_says_so(client, acme_insurer):
    assert "No checks yet." in client.get("/insurer/checks").get_data(as_text=True)


def test_a_check_detail_is_only_for_its_payers_insurers(client, auth, db, payers, acme_insurer, therapist):
    response = _check(client, auth, **_neck(payers[0].plans[0].id, therapist))
    detail = response.headers["Location"]
    check_id = int(detail.rsplit("/", 1)[1])
    assert client.get(detail).status_code == 200
    assert _audited(db, "eligibility.check_viewed") == 1
    auth.logout()

    # Another of Acme's insurers may read it, too.
    colleague = _insurer(auth, db, payers[0], "second@acme.example")
    auth.login(colleague.email)
    assert client.get(detail).status_code == 200
    auth.logout()

    other = _insurer(auth, db, payers[1], "claims@other.example")
    auth.login(other.email)
    refused = client.get(detail)
    assert refused.status_code == 404
    assert CHECK_NOT_FOUND in refused.get_data(as_text=True)
    denied = db.scalar(select(AuditEvent).where(AuditEvent.action == "eligibility.check_denied"))
    assert denied.subject_id == str(check_id) and denied.actor_id == other.id
    assert client.get("/insurer/checks/999999").status_code == 404


# ---------------------------------------------------------------------------------------------- access


@pytest.mark.parametrize("role", ["patient", "therapist", "admin"])
def test_other_roles_cannot_open_the_portal(client, auth, role):
    user = auth.create_user(role)
    auth.login(user.email)

    for path in ("/insurer", "/insurer/checks", "/insurer/checks/1"):
        assert client.get(path).status_code == 403, path
    response = client.post("/insurer/check", data={"csrf_token": auth.csrf_token("/"), "plan_id": "1"})
    assert response.status_code == 403


def test_anonymous_visitors_are_sent_to_log_in(client):
    response = client.get("/insurer")
    assert response.status_code == 302 and response.headers["Location"].startswith("/login")


def test_an_insurer_of_no_payer_is_told_why_there_is_nothing_to_check(client, auth, db):
    user = _insurer(auth, db, None, "lost@insurer.example")
    auth.login(user.email)

    page = client.get("/insurer").get_data(as_text=True)
    assert "Your account does not belong to a payer yet." in page
    response = client.post("/insurer/check", data={"csrf_token": auth.csrf_token("/insurer")})
    assert response.status_code == 200 and _count(db, EligibilityCheck) == 0


def test_a_check_without_a_csrf_token_is_refused(client, auth, db, acme_insurer, payers, therapist):
    response = client.post("/insurer/check", data=_neck(payers[0].plans[0].id, therapist))
    assert response.status_code == 400
    assert _count(db, EligibilityCheck) == 0


# ------------------------------------------------------------------------------------------- demo data


def test_after_seeding_the_demo_insurer_checks_the_demo_therapist(client, auth, db):
    from massage_booking.demo.data import DEMO_LOGINS, seed_demo

    seed_demo(db, therapists=0)
    db.commit()
    login = next(d for d in DEMO_LOGINS if d.role.value == "insurer")
    insurer = db.scalar(select(User).where(User.email == login.email))
    aetna = db.scalar(select(Payer).where(Payer.code == "AETNA"))
    assert insurer.payer_id == aetna.id
    plan = next(p for p in aetna.plans if p.name == "Choice POS II")
    rules = (plan.referral_required, plan.referral_valid_days, plan.annual_visit_limit, plan.copay_cents)
    assert rules == (True, 90, 20, 2500)
    demo = db.scalar(select(TherapistProfile).join(User).where(User.email.like("therapist@%")))

    auth.login(login.email, login.password)
    home = client.get("/insurer").get_data(as_text=True)
    assert "Aetna" in home and "Choice POS II (POS)" in home and "Blue HMO" not in home

    by_fields = _check(client, auth, **_neck(plan.id, demo.npi))
    page = client.get(by_fields.headers["Location"]).get_data(as_text=True)
    assert "outcome-banner outcome-eligible" in page and "4 units of CPT 97124 per session." in page
    assert "$25" in page and "All 8 sessions are covered." in page


def test_demo_plans_carry_varied_rules_and_reseeding_keeps_changed_ones(db):
    from massage_booking.demo.data import seed_demo
    from massage_booking.domain.eligibility import UnitRule

    seed_demo(db, therapists=0)
    plans = {p.full_name: p for p in db.scalars(select(InsurancePlan))}
    hmo = plans["Blue Cross Blue Shield Blue HMO"]
    assert (hmo.in_network_only, hmo.annual_visit_limit, hmo.max_units_per_visit) == (True, 12, 4)
    assert plans["Cigna Healthcare Open Access Plus"].evidence_strengths == ["guideline"]
    medicare = plans["UnitedHealthcare AARP Medicare Advantage"]
    assert medicare.plan_type is PlanType.MEDICARE_ADVANTAGE and medicare.referral_required
    assert plans["Blue Cross Blue Shield BlueCard PPO"].unit_rule is UnitRule.WHOLE_15_MINUTE
    assert not plans["Kaiser Permanente Senior Advantage"].covers_massage
    assert len({tuple(sorted(p.rules.__dict__.items(), key=str)) for p in plans.values()}) >= 10

    hmo.annual_visit_limit = 15  # an administrator's change
    db.commit()
    seed_demo(db, therapists=0)
    db.commit()
    db.expire_all()
    assert db.get(InsurancePlan, hmo.id).annual_visit_limit == 15


def test_an_insurer_lands_on_the_portal_after_logging_in(client, auth, db, payers):
    user = _insurer(auth, db, payers[0], "desk@acme.example")
    response = auth.login(user.email)
    assert response.status_code == 302 and response.headers["Location"].endswith("/insurer")
