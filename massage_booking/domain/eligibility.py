"""Is a course of massage indicated, and how much of it does a plan cover? Pure rules, no I/O.

An insurer asks about a course (condition, minutes, sessions, therapist, referral, date); `decide` answers
eligible, partly eligible or not eligible, with the sessions covered, the CPT 97124 units per session, the
copay, and every reason as a stable code plus a sentence, citing the evidence registry.

The plan's rules (`PlanRules`) are what payers actually check (reference/evidence.md §4.3): massage covered
at all; which evidence strengths count (guideline only, trials too, or emerging); a referral and how long it
stays valid; an annual visit limit; a cap on units per visit; in-network therapists only; an oncology
credential for cancer-related conditions; the unit rule; the copay.

Below the effective dose (the registry's `minimum_effective_dose`, e.g. 60-minute sessions for chronic neck
pain, Sherman 2014) the plan's `below_dose` rule decides: WARN covers the course and says it is below the
dose that worked (the default: the patient and their clinician may have reasons, as the booking wizard
also allows); REQUIRE declines it as not medically necessary at that dose (for plans whose policy ties
necessity to an evidence-based protocol).
"""

from __future__ import annotations

import enum
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, timedelta

from massage_booking.domain import billing, evidence

AddReason = Callable[..., None]  # (code, message, citation_id=None)


class Outcome(enum.StrEnum):
    ELIGIBLE = "eligible"
    PARTLY_ELIGIBLE = "partly_eligible"
    NOT_ELIGIBLE = "not_eligible"

    @classmethod
    def of(cls, covered: int, requested: int) -> Outcome:
        """The one rule for naming coverage, used by a check and by a course booked under a plan alike:
        nothing covered is not eligible, some is partly, all is eligible."""
        if covered <= 0:
            return cls.NOT_ELIGIBLE
        return cls.PARTLY_ELIGIBLE if covered < requested else cls.ELIGIBLE


class UnitRule(enum.StrEnum):
    # CMS total-time 8-minute rule (Claims Processing Manual ch. 5 §20.2): 8-22 minutes = 1 unit, 53-67 = 4.
    CMS_8_MINUTE = "cms_8_minute"
    # Whole 15-minute increments only, as 23% of reviewed commercial policies do (evidence.md §4.2).
    WHOLE_15_MINUTE = "whole_15_minute"


class DoseRule(enum.StrEnum):
    WARN = "warn"  # covered, with the reason "below the effective dose"
    REQUIRE = "require"  # not covered below the effective dose


@dataclass(frozen=True)
class PlanRules:
    covers_massage: bool = True
    evidence_strengths: frozenset[str] = frozenset({"guideline", "trial"})
    referral_required: bool = False
    referral_valid_days: int | None = 90
    annual_visit_limit: int | None = None
    max_units_per_visit: int | None = None
    in_network_only: bool = True
    oncology_credential_for_cancer: bool = True
    unit_rule: UnitRule = UnitRule.CMS_8_MINUTE
    copay_cents: int = 0
    below_dose: DoseRule = DoseRule.WARN


@dataclass(frozen=True)
class TherapistFacts:
    """What the check needs to know of the rendering therapist on the date of service."""

    licensed: bool
    in_network: bool
    oncology_credential: bool


@dataclass(frozen=True)
class Question:
    condition: evidence.Condition
    session_minutes: int
    sessions: int
    service_date: date
    therapist: TherapistFacts
    referral_date: date | None = None
    sessions_per_week: float | None = None
    weeks: int | None = None
    visits_used: int = 0  # this plan year, before this course


@dataclass(frozen=True)
class Reason:
    code: str
    message: str
    blocking: bool
    citation_id: str | None = None


@dataclass(frozen=True)
class Decision:
    outcome: Outcome
    requested_sessions: int
    covered_sessions: int
    units_per_session: int
    cpt_code: str
    copay_cents: int
    visits_remaining: int | None
    reasons: tuple[Reason, ...]
    citations: tuple[str, ...] = field(default=())


def units(minutes: int, rule: UnitRule) -> int:
    """Units of a timed 15-minute code for one session's direct minutes under the plan's rule."""
    if rule is UnitRule.WHOLE_15_MINUTE:
        return max(0, minutes) // billing.UNIT_MINUTES
    return billing.cpt_97124_units(minutes)


def decide(rules: PlanRules, question: Question) -> Decision:
    """The plan's answer to the question. Every rule that applies adds a reason; any blocking reason makes
    the course not eligible; a visit limit smaller than the course makes it partly eligible."""
    reasons: list[Reason] = []
    condition = question.condition

    def block(code: str, message: str, citation_id: str | None = None) -> None:
        reasons.append(Reason(code, message, True, citation_id))

    def note(code: str, message: str, citation_id: str | None = None) -> None:
        reasons.append(Reason(code, message, False, citation_id))

    _check_cover(rules, condition, block)
    _check_therapist(rules, condition, question.therapist, block)
    _check_referral(rules, question, block)
    per_session = _units_per_session(rules, question, block, note)
    _check_dose(rules, question, block, note)
    covered, remaining = _visits_covered(rules, question, block, note)

    if any(r.blocking for r in reasons):
        covered = 0
    outcome = Outcome.of(covered, question.sessions)
    citations = [condition.plan_citation.id]
    citations += [r.citation_id for r in reasons if r.citation_id and r.citation_id not in citations]
    return Decision(
        outcome=outcome,
        requested_sessions=question.sessions,
        covered_sessions=covered,
        units_per_session=per_session if outcome is not Outcome.NOT_ELIGIBLE else 0,
        cpt_code=billing.CPT_MASSAGE,
        copay_cents=rules.copay_cents,
        visits_remaining=remaining,
        reasons=tuple(reasons),
        citations=tuple(citations),
    )


def _check_cover(rules: PlanRules, condition: evidence.Condition, block: AddReason) -> None:
    """Whether the plan covers massage at all, and for evidence this strong: both hold for any therapist."""
    if not rules.covers_massage:
        block("massage_excluded", "This plan does not cover massage therapy.")
    if condition.evidence_strength not in rules.evidence_strengths:
        allowed = " or ".join(sorted(rules.evidence_strengths)) or "no"
        block(
            "evidence_not_covered",
            f"The evidence for massage in {condition.name.lower()} is {condition.evidence_strength}; "
            f"this plan covers conditions with {allowed} evidence.",
            condition.plan_citation.id,
        )


def _check_therapist(
    rules: PlanRules, condition: evidence.Condition, facts: TherapistFacts, block: AddReason
) -> None:
    """What the plan asks of the therapist on the date of service: a license, its network, and for cancer
    an oncology credential."""
    if not facts.licensed:
        block(
            "therapist_not_licensed", "The therapist's state license is not current on the date of service."
        )
    if rules.in_network_only and not facts.in_network:
        block(
            "out_of_network",
            "The therapist is not in this plan's network, and the plan covers in-network care only.",
        )
    if condition.cancer_related and rules.oncology_credential_for_cancer and not facts.oncology_credential:
        block(
            "oncology_credential_required",
            f"{condition.name} is cancer-related: this plan requires a therapist with a verified, current "
            "oncology massage credential.",
        )


def _units_per_session(rules: PlanRules, question: Question, block: AddReason, note: AddReason) -> int:
    """The units billed per session: none for a session too short to bill, and never above the plan's cap
    (the course is still covered, at the capped units)."""
    per_session = units(question.session_minutes, rules.unit_rule)
    if per_session == 0:
        block(
            "below_billable_minutes",
            f"{question.session_minutes}-minute sessions are too short to bill a unit of "
            f"CPT {billing.CPT_MASSAGE}.",
        )
    if rules.max_units_per_visit is not None and per_session > rules.max_units_per_visit:
        note(
            "units_capped",
            f"The plan covers at most {rules.max_units_per_visit} units per visit; "
            f"{per_session} were asked for.",
        )
        per_session = rules.max_units_per_visit
    return per_session


def _visits_covered(
    rules: PlanRules, question: Question, block: AddReason, note: AddReason
) -> tuple[int, int | None]:
    """(sessions the visits left cover, visits left this plan year or None without a limit): a limit the
    course outgrows covers part of it, not none. A blocking reason still makes it none, in `decide`."""
    if rules.annual_visit_limit is None:
        return question.sessions, None
    remaining = max(0, rules.annual_visit_limit - question.visits_used)
    if remaining == 0:
        block(
            "visit_limit_reached",
            f"All {rules.annual_visit_limit} visits of this plan year have been used.",
        )
    elif remaining < question.sessions:
        note(
            "visit_limit_partial",
            f"{question.visits_used} of {rules.annual_visit_limit} visits this plan year are used: "
            f"{remaining} of the {question.sessions} sessions are covered.",
        )
        return remaining, remaining
    return question.sessions, remaining


def _check_referral(rules: PlanRules, question: Question, block: AddReason) -> None:
    if not rules.referral_required:
        return
    referral = question.referral_date
    if referral is None:
        block("referral_required", "This plan requires a physician's referral, and none was given.")
    elif referral > question.service_date:
        block("referral_after_service", "The referral is dated after the date of service.")
    elif rules.referral_valid_days is not None and question.service_date - referral > timedelta(
        days=rules.referral_valid_days
    ):
        block(
            "referral_expired",
            f"The referral of {referral.isoformat()} is more than {rules.referral_valid_days} days old "
            "on the date of service.",
        )


def _check_dose(rules: PlanRules, question: Question, block: AddReason, note: AddReason) -> None:
    minimum = question.condition.minimum
    short = minimum.shortfalls(
        session_minutes=question.session_minutes,
        sessions_per_week=question.sessions_per_week,
        weeks=question.weeks,
        total_sessions=question.sessions,
    )
    if not short or minimum.citation is None:
        return
    message = f"The course is below the effective dose ({minimum.citation.short}): {minimum.text}"
    (block if rules.below_dose is DoseRule.REQUIRE else note)(
        "below_effective_dose", message, minimum.citation.id
    )
