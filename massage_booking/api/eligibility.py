"""Eligibility checks for insurers (services/eligibility.py has the rules of access).

POST /api/v1/eligibility            a check by `course_id`, or by explicit fields -> 200 with the decision
GET  /api/v1/eligibility/checks     the insurer's payer's recent checks, newest first (`limit`, at most 100)
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from flask import request

from massage_booking.api import bp
from massage_booking.api.support import json_object, token_required
from massage_booking.denials import keeps_denials
from massage_booking.domain.errors import ValidationFailed
from massage_booking.extensions import db
from massage_booking.models import EligibilityCheck, Role, User
from massage_booking.services import eligibility


def result_json(result: eligibility.CheckResult) -> dict[str, Any]:
    """What the insurer needs to decide and nothing more: no intake answers, precautions or notes."""
    plan = result.plan
    return {
        "check_id": result.record.id,
        "course_id": result.course.id if result.course is not None else None,
        "plan": {"id": plan.id, "name": plan.name, "payer": plan.payer.name},
        "condition": {"id": result.condition.id, "name": result.condition.name},
        "icd10_code": result.icd10_code,
        "therapist": {"id": result.therapist.id, "name": result.therapist.name, "npi": result.therapist.npi},
        "service_date": result.service_date.isoformat(),
        **eligibility.decision_json(result.decision),
    }


def check_json(row: EligibilityCheck) -> dict[str, Any]:
    return {
        "check_id": row.id,
        "created_at": row.created_at.isoformat(),
        "channel": row.channel,
        "plan_id": row.plan_id,
        "course_id": row.course_id,
        "icd10_code": row.icd10_code,
        "session_minutes": row.session_minutes,
        "sessions": row.sessions,
        "outcome": row.outcome,
        "covered_sessions": row.covered_sessions,
        "reason_codes": row.reason_codes,
    }


@bp.post("/eligibility")
@token_required(Role.INSURER)
@keeps_denials
def check_eligibility(user: User) -> Any:
    wanted = eligibility.parse_check(json_object())
    result = eligibility.check(db.session, user, wanted, datetime.now(UTC))
    db.session.commit()
    return result_json(result)


@bp.get("/eligibility/checks")
@token_required(Role.INSURER)
def recent_eligibility_checks(user: User) -> Any:
    raw = request.args.get("limit", "50")
    if not (raw.isascii() and raw.isdigit()) or not 1 <= int(raw) <= 100:
        raise ValidationFailed.for_field("limit", "Give a whole number from 1 to 100.")
    found = eligibility.recent_checks(db.session, user, int(raw))
    db.session.commit()
    return {"checks": [check_json(row) for row in found]}
