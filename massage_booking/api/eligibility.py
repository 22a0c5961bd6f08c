"""Eligibility checks for insurers (services/eligibility.py has the rules of access).

POST /api/v1/eligibility            a check by `course_id`, or by explicit fields -> 200 with the decision
GET  /api/v1/eligibility/checks     the insurer's payer's recent checks, newest first (`limit`, at most 100)
"""

from __future__ import annotations

from datetime import UTC, datetime

from massage_booking.api.contract import Reply, operation
from massage_booking.extensions import db
from massage_booking.models import Role, User
from massage_booking.schemas.eligibility import (
    CheckedCondition,
    CheckedPlan,
    CheckedTherapist,
    ChecksQuery,
    EligibilityCheckList,
    EligibilityRequest,
    EligibilityResult,
    check_of,
    decision_fields,
)
from massage_booking.schemas.replies import VALIDATION
from massage_booking.services import eligibility

INSURER = (Role.INSURER.value,)


def result_of(result: eligibility.CheckResult) -> EligibilityResult:
    """What the insurer needs to decide and nothing more: no intake answers, precautions or notes."""
    plan, therapist = result.plan, result.therapist
    return EligibilityResult(
        check_id=result.record.id,
        course_id=result.course.id if result.course is not None else None,
        plan=CheckedPlan(id=plan.id, name=plan.name, payer=plan.payer.name),
        condition=CheckedCondition(id=result.condition.id, name=result.condition.name),
        icd10_code=result.icd10_code,
        therapist=CheckedTherapist(id=therapist.id, name=therapist.name, npi=therapist.npi),
        service_date=result.service_date,
        **decision_fields(result.decision),
    )


@operation(
    "POST",
    "/eligibility",
    operation_id="checkEligibility",
    tag="Eligibility",
    summary="Check eligibility",
    description="Is the course indicated and covered by your payer's plan: the outcome, sessions covered, "
    "CPT 97124 units, copay, and every reason with its citation. The check is recorded and audited.",
    roles=INSURER,
    body=EligibilityRequest,
    body_description="The course to check.",
    example={
        "plan_id": 1,
        "icd10_code": "M54.2",
        "therapist_id": 1,
        "session_minutes": 60,
        "sessions": 8,
        "service_date": "2026-12-01",
    },
    responses={
        200: Reply("The decision.", EligibilityResult),
        404: "Your payer has no such plan, course or therapist.",
        422: VALIDATION,
    },
)
def check_eligibility(user: User, body: EligibilityRequest) -> EligibilityResult:
    result = eligibility.check(db.session, user, eligibility.CheckRequest.of(body), datetime.now(UTC))
    answer = result_of(result)
    return answer


@operation(
    "GET",
    "/eligibility/checks",
    operation_id="recentEligibilityChecks",
    tag="Eligibility",
    summary="Recent checks",
    description="Your payer's recent checks, newest first.",
    roles=INSURER,
    query=ChecksQuery,
    responses={200: Reply("The checks.", EligibilityCheckList), 422: VALIDATION},
)
def recent_eligibility_checks(user: User, query: ChecksQuery) -> EligibilityCheckList:
    found = eligibility.recent_checks(db.session, user, query.limit)
    checks = EligibilityCheckList(checks=[check_of(row) for row in found])
    return checks
