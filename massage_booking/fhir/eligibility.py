"""POST /fhir/CoverageEligibilityRequest: a FHIR R4 CoverageEligibilityRequest in (application/fhir+json or
application/json), a CoverageEligibilityResponse out. Insurer tokens only; the rules of access are the
service's (services/eligibility.py), the profile and the mapping are mapping.py's.
"""

from __future__ import annotations

from datetime import UTC, date, datetime

from flask import Response, g, request
from werkzeug.exceptions import UnsupportedMediaType

from massage_booking.api.support import token_required
from massage_booking.extensions import db
from massage_booking.fhir import bp, mapping
from massage_booking.fhir.outcome import fhir_response
from massage_booking.models import Role, User
from massage_booking.services import eligibility
from massage_booking.transactions import atomic


@bp.post("/CoverageEligibilityRequest")
@token_required(Role.INSURER)
def coverage_eligibility_request(user: User) -> Response:
    if not request.is_json:  # application/json, application/fhir+json (any +json)
        raise UnsupportedMediaType("Send the resource as application/fhir+json.")
    resource = mapping.parse_request(request.get_data())
    asked = mapping.to_check(resource)
    g.fhir_asked = asked  # lets the error handlers name the element a refusal is about
    now = datetime.now(UTC)
    with atomic() as session:
        answer = _answer(eligibility.check(session, user, asked.check, now, channel="fhir"), asked)
    return fhir_response(mapping.to_response(resource, asked, answer, now))


def _answer(result: eligibility.CheckResult, asked: mapping.Asked) -> mapping.Answer:
    """The plain facts the response needs, read before the commit expires the rows."""
    plan, decision = result.plan, result.decision
    facts = eligibility.therapist_facts(db.session, result.therapist, plan, result.service_date)
    start = eligibility.plan_year_start(plan, result.service_date)
    end = date(start.year + 1, start.month, 1).toordinal() - 1
    visits_used = None
    if result.course is None:
        visits_used = asked.check.visits_used
    elif plan.annual_visit_limit is not None and decision.visits_remaining is not None:
        visits_used = plan.annual_visit_limit - decision.visits_remaining
    return mapping.Answer(
        check_id=result.record.id,
        decision=decision,
        rules=plan.rules,
        plan_id=plan.id,
        plan_name=plan.name,
        payer_id=plan.payer_id,
        payer_name=plan.payer.name,
        therapist_id=result.therapist.id,
        therapist_name=result.therapist.name,
        service_date=result.service_date,
        plan_year=(start, date.fromordinal(end)),
        in_network=facts.in_network,
        visits_used=visits_used,
    )
