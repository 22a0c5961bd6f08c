"""The eligibility decision, table-driven. Each expected answer names where it comes from: the evidence
registry (reference/evidence.md, evidence.json) for doses and units, the plan's own rules for the rest."""

from __future__ import annotations

from dataclasses import replace
from datetime import date, timedelta

import pytest

from massage_booking.domain import evidence
from massage_booking.domain.eligibility import (
    DoseRule,
    Outcome,
    PlanRules,
    Question,
    TherapistFacts,
    UnitRule,
    decide,
    units,
)

SERVICE = date(2026, 12, 7)
LICENSED_IN_NETWORK = TherapistFacts(licensed=True, in_network=True, oncology_credential=False)
REFERRAL_PLAN = PlanRules(
    referral_required=True, referral_valid_days=90, annual_visit_limit=20, copay_cents=2500
)


def neck(**changes) -> Question:
    base = Question(
        condition=evidence.condition("chronic_neck_pain"),
        session_minutes=60,
        sessions=8,
        sessions_per_week=2,
        weeks=4,
        service_date=SERVICE,
        therapist=LICENSED_IN_NETWORK,
        referral_date=SERVICE - timedelta(days=10),
    )
    return replace(base, **changes)


CASES = [
    # (name, plan, question, outcome, covered, units, reason codes, source)
    (
        "neck pain 60 min x 8, in network, licensed, referral",
        REFERRAL_PLAN,
        neck(),
        Outcome.ELIGIBLE,
        8,
        4,
        set(),
        "Sherman 2014 dose (evidence.json chronic_neck_pain); 60 min = 4 units, CMS 8-minute rule (§4.2)",
    ),
    (
        "the same at 30 minutes, plan warns below the dose",
        REFERRAL_PLAN,
        neck(session_minutes=30),
        Outcome.ELIGIBLE,
        8,
        2,
        {"below_effective_dose"},
        "30-min visits no better than wait-list (Sherman 2014); 30 min = 2 units (evidence.md §4.2)",
    ),
    (
        "the same at 30 minutes, plan requires the effective dose",
        replace(REFERRAL_PLAN, below_dose=DoseRule.REQUIRE),
        neck(session_minutes=30),
        Outcome.NOT_ELIGIBLE,
        0,
        0,
        {"below_effective_dose"},
        "plan rule below_dose=require (domain/eligibility.py docstring)",
    ),
    (
        "cancer-related pain, therapist without an oncology credential",
        PlanRules(),
        Question(
            condition=evidence.condition("cancer_related_pain"),
            session_minutes=60,
            sessions=6,
            service_date=SERVICE,
            therapist=LICENSED_IN_NETWORK,
        ),
        Outcome.NOT_ELIGIBLE,
        0,
        0,
        {"oncology_credential_required"},
        "cancer_related + oncology_trained requirement (evidence.json cancer_related_pain; evidence.md §3)",
    ),
    (
        "18 of 20 visits used, 8 requested",
        REFERRAL_PLAN,
        neck(visits_used=18),
        Outcome.PARTLY_ELIGIBLE,
        2,
        4,
        {"visit_limit_partial"},
        "plan rule annual_visit_limit=20 (evidence.md §4.3 visit limits)",
    ),
    (
        "referral required and none given",
        REFERRAL_PLAN,
        neck(referral_date=None),
        Outcome.NOT_ELIGIBLE,
        0,
        0,
        {"referral_required"},
        "plan rule referral_required (evidence.md §4.3: 27% of policies require one)",
    ),
    (
        "referral older than the plan accepts",
        REFERRAL_PLAN,
        neck(referral_date=SERVICE - timedelta(days=91)),
        Outcome.NOT_ELIGIBLE,
        0,
        0,
        {"referral_expired"},
        "plan rule referral_valid_days=90",
    ),
    (
        "all visits used",
        REFERRAL_PLAN,
        neck(visits_used=20),
        Outcome.NOT_ELIGIBLE,
        0,
        0,
        {"visit_limit_reached"},
        "plan rule annual_visit_limit=20",
    ),
    (
        "out of network on an in-network-only plan",
        PlanRules(),
        neck(therapist=replace(LICENSED_IN_NETWORK, in_network=False)),
        Outcome.NOT_ELIGIBLE,
        0,
        0,
        {"out_of_network"},
        "plan rule in_network_only (evidence.md §4.3 in-network / provider type)",
    ),
    (
        "emerging evidence on a guideline-and-trial plan",
        PlanRules(),
        replace(neck(), condition=evidence.condition("fibromyalgia"), sessions_per_week=None, weeks=None),
        Outcome.NOT_ELIGIBLE,
        0,
        0,
        {"evidence_not_covered"},
        "fibromyalgia evidence_strength=emerging (evidence.json)",
    ),
    (
        "units capped at 3 per visit",
        replace(PlanRules(), max_units_per_visit=3),
        neck(),
        Outcome.ELIGIBLE,
        8,
        3,
        {"units_capped"},
        "plan rule max_units_per_visit (evidence.md §4.2: store max_units_per_visit per plan)",
    ),
    (
        "massage excluded by the plan",
        replace(PlanRules(), covers_massage=False),
        neck(),
        Outcome.NOT_ELIGIBLE,
        0,
        0,
        {"massage_excluded"},
        "plan rule covers_massage (FHIR insurance.item.excluded, evidence.md §4.4)",
    ),
]


@pytest.mark.parametrize(
    ("plan", "question", "outcome", "covered", "unit_count", "codes", "source"),
    [case[1:] for case in CASES],
    ids=[case[0] for case in CASES],
)
def test_the_decision(plan, question, outcome, covered, unit_count, codes, source):
    decision = decide(plan, question)
    assert decision.outcome is outcome, source
    assert decision.covered_sessions == covered, source
    assert decision.units_per_session == unit_count, source
    assert {r.code for r in decision.reasons} == codes, source
    assert decision.cpt_code == "97124"


def test_below_the_dose_the_reason_cites_sherman_2014():
    decision = decide(REFERRAL_PLAN, neck(session_minutes=30))
    (reason,) = decision.reasons
    assert "below the effective dose (Sherman 2014)" in reason.message
    assert reason.citation_id == "sherman2014" and "sherman2014" in decision.citations


def test_a_covered_course_carries_the_copay_and_the_visits_left():
    decision = decide(REFERRAL_PLAN, neck(visits_used=5))
    assert decision.copay_cents == 2500 and decision.visits_remaining == 15


@pytest.mark.parametrize(
    ("minutes", "cms", "whole"),
    [(7, 0, 0), (8, 1, 0), (30, 2, 2), (50, 3, 3), (53, 4, 3), (60, 4, 4), (90, 6, 6)],
)
def test_unit_rules(minutes, cms, whole):
    """CMS total-time 8-minute rule versus whole 15-minute increments (evidence.md §4.2)."""
    assert units(minutes, UnitRule.CMS_8_MINUTE) == cms
    assert units(minutes, UnitRule.WHOLE_15_MINUTE) == whole


@pytest.mark.parametrize(
    ("covered", "requested", "outcome"),
    [(0, 8, Outcome.NOT_ELIGIBLE), (3, 8, Outcome.PARTLY_ELIGIBLE), (8, 8, Outcome.ELIGIBLE)],
)
def test_one_rule_names_the_coverage_of_a_check_and_of_a_booked_course(covered, requested, outcome):
    assert Outcome.of(covered, requested) is outcome
