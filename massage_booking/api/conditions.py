"""GET /api/v1/conditions[/{id}]: the evidence registry, public and read-only.

Insurers and apps read the same plans, minimum doses and citations the booking wizard uses, with the
registry version, so that a decision can say which edition of the evidence it rested on. Every number
carries its verification tag (V/P/S/M/D, explained in `verification_tags`): a platform default must never
pass for a trial result.
"""

from __future__ import annotations

from flask import url_for

from massage_booking.api.contract import Reply, operation
from massage_booking.domain import evidence
from massage_booking.domain.errors import NotFound
from massage_booking.schemas.evidence import (
    Condition,
    ConditionDetail,
    ConditionLinks,
    ConditionList,
    ConditionQuery,
    condition_fields,
    registry_of,
)


def _links(condition: evidence.Condition) -> ConditionLinks:
    return ConditionLinks(
        self=url_for("api.condition_detail", condition_id=condition.id),
        page=url_for("web.evidence_condition", condition_id=condition.id),
    )


@operation(
    "GET",
    "/conditions",
    operation_id="listConditions",
    tag="Evidence",
    summary="Conditions and their plans",
    description="Every condition, or with `q` those an id, name, alias or ICD-10 code could mean.",
    query=ConditionQuery,
    responses={200: Reply("The conditions and the registry's edition.", ConditionList)},
)
def conditions_index(query: ConditionQuery) -> ConditionList:
    """Every condition, or with `q` those an id, name, alias or ICD-10 code (dot optional) could mean."""
    term = query.q.strip()
    found = evidence.matches(term) if term else evidence.conditions()
    registry = registry_of(evidence.registry())
    return ConditionList(
        **dict(registry),
        conditions=[Condition(**condition_fields(c, _links(c), expand=False)) for c in found],
    )


@operation(
    "GET",
    "/conditions/<condition_id>",
    operation_id="getCondition",
    tag="Evidence",
    summary="One condition",
    description="One condition with its citations in full.",
    path={"condition_id": "A condition id, like `chronic_neck_pain`."},
    responses={
        200: Reply("The condition.", ConditionDetail),
        404: "No condition has that id; `details.suggestions` lists what it may mean.",
    },
)
def condition_detail(condition_id: str) -> ConditionDetail:
    """One condition with its citations in full; an unknown id is a 404 that suggests what it may mean."""
    condition = evidence.condition(condition_id)
    if condition is None:
        suggestions = [c.id for c in evidence.matches(condition_id)]
        hint = f" Did you mean {' or '.join(suggestions)}?" if suggestions else ""
        raise NotFound(
            f"No condition has the id {condition_id!r}.{hint}",
            {"id": condition_id, "suggestions": suggestions},
        )
    return ConditionDetail(
        **condition_fields(condition, _links(condition), expand=True),
        registry=registry_of(evidence.registry()),
    )
