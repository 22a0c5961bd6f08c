"""GET /api/v1/conditions[/{id}]: the evidence registry, public and read-only.

Insurers and apps read the same plans, minimum doses and citations the booking wizard uses, with the
registry version, so that a decision can say which edition of the evidence it rested on. Every number
carries its verification tag (V/P/S/M/D, explained in `verification_tags`): a platform default must never
pass for a trial result.
"""

from __future__ import annotations

from typing import Any

from flask import request, url_for

from massage_booking.api import bp
from massage_booking.domain import evidence
from massage_booking.domain.errors import NotFound


def citation_json(citation: evidence.Citation) -> dict[str, Any]:
    return {
        "id": citation.id,
        "short": citation.short,
        "authors": citation.authors,
        "year": citation.year,
        "title": citation.title,
        "source": citation.source,
        "volume_pages": citation.volume_pages,
        "doi": citation.doi,
        "url": citation.link,
        "verification": citation.tag,
        "note": citation.note,
    }


def _dose_json(dose: Any) -> dict[str, Any]:
    return {
        "session_minutes": dose.session_minutes,
        "sessions_per_week": dose.sessions_per_week,
        "weeks": dose.weeks,
        "total_sessions": dose.total_sessions,
    }


def condition_json(condition: evidence.Condition, *, expand_citations: bool = False) -> dict[str, Any]:
    """One condition; `citations` holds ids, or with `expand_citations` the full references."""
    minimum = condition.minimum
    return {
        "id": condition.id,
        "name": condition.name,
        "aliases": list(condition.aliases),
        "icd10_codes": list(condition.icd10_codes),
        "icd10_secondary": [{"code": c.code, "use": c.use} for c in condition.icd10_secondary],
        "coding_note": condition.coding_note,
        "cancer_related": condition.cancer_related,
        "requires_oncology_trained_therapist": condition.requires_oncology_trained_therapist,
        "therapist_requirement": condition.therapist_requirement,
        "therapist_note": condition.therapist_note,
        "evidence": {
            "strength": condition.evidence_strength,
            "grade": condition.evidence_grade,
            "summary": condition.evidence_summary,
            "guideline_status": condition.guideline_status,
        },
        "plan": {
            **_dose_json(condition),
            "note": condition.plan_note,
            "citation": condition.plan_citation.id,
            "verification": condition.plan_tag,
            "field_verification": dict(condition.plan_field_tags),
        },
        "alternatives": [
            {"label": p.label, **_dose_json(p), "citation": p.citation.id, "verification": p.tag}
            for p in condition.alternatives
        ],
        "minimum_effective_dose": {
            "text": minimum.text,
            **_dose_json(minimum),
            "citation": minimum.citation.id if minimum.citation else None,
            "verification": minimum.tag,
        },
        "precautions": list(condition.precautions),
        "citations": [citation_json(c) if expand_citations else c.id for c in condition.citations],
        "verification": condition.tag,
        "links": {
            "self": url_for("api.condition_detail", condition_id=condition.id),
            "page": url_for("web.evidence_condition", condition_id=condition.id),
        },
    }


def _registry_json() -> dict[str, Any]:
    registry = evidence.registry()
    return {
        "version": registry.version,
        "reviewed": registry.reviewed.isoformat(),
        "status": registry.status,
        "verification_tags": dict(registry.verification_tags),
    }


@bp.get("/conditions")
def conditions_index() -> Any:
    """Every condition, or with `q` those an id, name, alias or ICD-10 code (dot optional) could mean."""
    term = (request.args.get("q") or "").strip()
    found = evidence.matches(term) if term else evidence.conditions()
    return {**_registry_json(), "conditions": [condition_json(c) for c in found]}


@bp.get("/conditions/<condition_id>")
def condition_detail(condition_id: str) -> Any:
    """One condition with its citations in full; an unknown id is a 404 that suggests what it may mean."""
    condition = evidence.condition(condition_id)
    if condition is None:
        suggestions = [c.id for c in evidence.matches(condition_id)]
        hint = f" Did you mean {' or '.join(suggestions)}?" if suggestions else ""
        raise NotFound(
            f"No condition has the id {condition_id!r}.{hint}",
            {"id": condition_id, "suggestions": suggestions},
        )
    return {**condition_json(condition, expand_citations=True), "registry": _registry_json()}
