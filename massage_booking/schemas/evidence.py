"""The evidence registry as the API shows it: conditions, their plans and doses, and the citations."""

from __future__ import annotations

from typing import Any

from pydantic import Field

from massage_booking.domain import evidence
from massage_booking.schemas.base import Date, QueryModel, ResponseModel, fields_of, read

CITATION_ID = "A citation id from the evidence registry."


class ConditionQuery(QueryModel):
    q: str = Field("", description="Search term.", examples=["neck pain"])


class Citation(ResponseModel):
    """A reference in full."""

    id: str
    short: str = Field(description='How a badge names it, like "Sherman 2014".')
    authors: str
    year: int | None
    title: str
    source: str
    volume_pages: str | None
    doi: str | None
    url: str | None = Field(description="Where to check it: the URL, else the DOI resolver.")
    verification: str = Field(description="Verification tag (see `verification_tags`).")
    note: str | None


class Dose(ResponseModel):
    session_minutes: int = Field(description="Minutes of each session.")
    sessions_per_week: float | None = Field(
        description="Sessions a week; null when there is no fixed cadence."
    )
    weeks: int | None = Field(description="Weeks the course runs; null when it is not fixed.")
    total_sessions: int = Field(description="Sessions in the whole course.")


class Plan(Dose):
    """The default plan a course is laid out as."""

    note: str
    citation: str = Field(description=CITATION_ID)
    verification: str
    field_verification: dict[str, str]


class AlternativePlan(Dose):
    label: str
    citation: str = Field(description=CITATION_ID)
    verification: str


class MinimumDose(ResponseModel):
    """The least a trial found to work (null where the evidence gives none)."""

    text: str
    session_minutes: int | None = Field(description="Minutes of each session.")
    sessions_per_week: float | None = Field(
        description="Sessions a week; null when there is no fixed cadence."
    )
    weeks: int | None = Field(description="Weeks the course runs; null when it is not fixed.")
    total_sessions: int | None = Field(description="Sessions in the whole course.")
    citation: str | None = Field(description=CITATION_ID)
    verification: str


class SecondaryCode(ResponseModel):
    code: str
    use: str


class EvidenceSummary(ResponseModel):
    strength: str
    grade: str
    summary: str
    guideline_status: str


class ConditionLinks(ResponseModel):
    self: str
    page: str


class Condition(ResponseModel):
    """A condition with its evidence-based plan."""

    id: str
    name: str
    aliases: list[str]
    icd10_codes: list[str] = Field(description="ICD-10-CM codes of the condition.")
    icd10_secondary: list[SecondaryCode] = Field(description="Codes used alongside.")
    coding_note: str | None
    cancer_related: bool
    requires_oncology_trained_therapist: bool
    therapist_requirement: str
    therapist_note: str
    evidence: EvidenceSummary
    plan: Plan
    alternatives: list[AlternativePlan] = Field(description="Other doses a trial supports.")
    minimum_effective_dose: MinimumDose
    precautions: list[str]
    citations: list[str | Citation] = Field(
        description="Citation ids in the list; full references in the detail."
    )
    verification: str
    links: ConditionLinks


class Registry(ResponseModel):
    version: str = Field(description="Registry version: a decision can say which edition it rested on.")
    reviewed: Date = Field(description="When the registry was last reviewed.")
    status: str
    verification_tags: dict[str, str] = Field(
        description="Each verification tag (V/P/S/M/D) and its meaning."
    )


class ConditionList(Registry):
    conditions: list[Condition]


class ConditionDetail(Condition):
    """A condition with its citations in full and the registry's edition."""

    registry: Registry


def citation_of(citation: evidence.Citation) -> Citation:
    return read(Citation, citation, url=citation.link, verification=citation.tag)


def condition_fields(condition: evidence.Condition, links: ConditionLinks, *, expand: bool) -> dict[str, Any]:
    """A condition's fields; `citations` holds ids, or with `expand` the full references. A dose's fields
    (`Dose`) are read from the condition, protocol or minimum dose of the registry."""
    minimum = condition.minimum
    return fields_of(
        Condition,
        condition,
        icd10_secondary=[read(SecondaryCode, c) for c in condition.icd10_secondary],
        evidence=EvidenceSummary(
            strength=condition.evidence_strength,
            grade=condition.evidence_grade,
            summary=condition.evidence_summary,
            guideline_status=condition.guideline_status,
        ),
        plan=read(
            Plan,
            condition,
            note=condition.plan_note,
            citation=condition.plan_citation.id,
            verification=condition.plan_tag,
            field_verification=dict(condition.plan_field_tags),
        ),
        alternatives=[
            read(AlternativePlan, p, citation=p.citation.id, verification=p.tag)
            for p in condition.alternatives
        ],
        minimum_effective_dose=read(
            MinimumDose,
            minimum,
            citation=minimum.citation.id if minimum.citation else None,
            verification=minimum.tag,
        ),
        citations=[citation_of(c) if expand else c.id for c in condition.citations],
        verification=condition.tag,
        links=links,
    )


def registry_of(registry: evidence.Registry) -> Registry:
    return read(Registry, registry, verification_tags=dict(registry.verification_tags))
