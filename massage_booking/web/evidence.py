"""The public Evidence pages: each condition's session plan, the trial or guideline behind it, and sources.

Patients, therapists and insurers see exactly what the booking wizard will propose and why, including
which numbers are platform defaults rather than trial results, so nobody mistakes a default for evidence.
"""

from __future__ import annotations

from typing import Any

from flask import abort, render_template

from massage_booking.domain import evidence
from massage_booking.web import bp

STRENGTH_LABELS = {
    "guideline": "Guideline-supported",
    "trial": "Supported by trials",
    "emerging": "Emerging evidence",
}
GRADE_LABELS = {
    "guideline_recommended": "A guideline recommends it",
    "guideline_weak": "A guideline says it can be considered (weak)",
    "guideline_insufficient": "A recent guideline found the evidence insufficient",
    "systematic_review_positive": "A meta-analysis found benefit",
    "rct_supported": "Randomized trials found benefit",
    "emerging": "Small or early studies",
}
_WEEKLY = {1: "once a week", 2: "twice a week", 3: "three times a week"}


@bp.app_template_filter("cadence")
def cadence(sessions_per_week: float | None) -> str:
    """2 -> "twice a week", 1.5 -> "3 every 2 weeks"; the wording people use when booking."""
    if sessions_per_week is None:
        return ""
    if sessions_per_week in _WEEKLY:
        return _WEEKLY[int(sessions_per_week)]
    if float(sessions_per_week).is_integer():
        return f"{int(sessions_per_week)} times a week"
    every_two = sessions_per_week * 2
    if float(every_two).is_integer():
        return f"{int(every_two)} every 2 weeks"
    return f"{sessions_per_week:g} a week"


@bp.app_template_filter("dose")
def dose(plan: Any) -> str:
    """ "8 sessions of 60 minutes, twice a week for 4 weeks" for a plan, an alternative or a minimum."""
    minutes, per_week = plan.session_minutes, plan.sessions_per_week
    weeks, total = plan.weeks, plan.total_sessions
    if total == 1 and minutes:
        return f"One {minutes}-minute session"
    parts = []
    if total:
        parts.append(f"{total} sessions" + (f" of {minutes} minutes" if minutes else ""))
    elif minutes:
        parts.append(f"{minutes}-minute sessions")
    if per_week:
        parts.append(cadence(per_week))
    if weeks:
        span = f"{weeks} week{'' if weeks == 1 else 's'}"
        parts.append(f"for {span}" if (total or per_week) else f"a program of at least {span}")
    text = ", ".join(parts[:2]) + (" " + " ".join(parts[2:]) if len(parts) > 2 else "")
    return text[:1].upper() + text[1:]


@bp.get("/evidence", endpoint="evidence")
def evidence_index() -> Any:
    """Every condition's plan with its sources, cancer-related first. The endpoint is "web.evidence"."""
    registry = evidence.registry()
    cancer = [c for c in registry.conditions if c.cancer_related]
    other = [c for c in registry.conditions if not c.cancer_related]
    return render_template(
        "web/evidence.html",
        registry=registry,
        groups=[
            ("Cancer-related conditions", "cancer", cancer),
            ("Pain and other conditions", "other", other),
        ],
        strength_labels=STRENGTH_LABELS,
    )


@bp.get("/evidence/<condition_id>")
def evidence_condition(condition_id: str) -> Any:
    condition = evidence.condition(condition_id)
    if condition is None:
        abort(
            404, description="We have no evidence page for that condition. The Evidence page lists them all."
        )
    return render_template(
        "web/evidence_condition.html",
        registry=evidence.registry(),
        condition=condition,
        strength_labels=STRENGTH_LABELS,
        grade_labels=GRADE_LABELS,
    )
