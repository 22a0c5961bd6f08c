"""The search page: where, how far, which filters; results as a list with a map beside it.

The page is a GET form whose field names are the query parameters of GET /api/v1/therapists, so a
search is a URL that can be bookmarked or sent to someone, and the service parses the page's query
string exactly as it parses the API's: the two cannot disagree about what a search means or what is
wrong with one. The list holds everything; the map (static/js/search-map.js) only draws the same
results, so the page works in full without JavaScript.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any
from urllib.parse import urlencode

from flask import current_app, redirect, render_template, request, url_for
from werkzeug.datastructures import MultiDict
from wtforms import SelectChoice

from massage_booking.domain import evidence
from massage_booking.domain.course_fit import TIMES_OF_DAY, WEEKDAY_NAMES
from massage_booking.domain.course_search import CourseSearch
from massage_booking.domain.errors import ValidationFailed
from massage_booking.domain.geo import to_km
from massage_booking.extensions import db
from massage_booking.models import InsurancePlan
from massage_booking.schemas.parse import parse_query
from massage_booking.schemas.search import SearchParams
from massage_booking.services import search, therapists
from massage_booking.transactions import atomic
from massage_booking.web import bp
from massage_booking.web.forms import RADIUS_CHOICES, SearchForm, apply_errors

FILTER_PARAMS = (
    "oncology_trained",
    "insurance",
    "condition",
    "modality",
    "language",
    "accepting_new_patients",
    "available_within_days",
    "course",
    "weekdays",
    "time_of_day",
)


@dataclass(frozen=True)
class Suggestion:
    """A link in the empty state that changes one thing about the search, and says what."""

    label: str
    url: str


@bp.app_template_filter("distance")
def distance(value: float | None, unit: str = "mi") -> str:
    """One decimal and the unit; "less than 0.1 mi" rather than "0.0 mi", which reads like "here"."""
    if value is None:
        return ""
    return f"less than 0.1 {unit}" if value < 0.05 else f"{value:.1f} {unit}"


@bp.app_template_filter("radius")
def radius(value: float) -> str:
    """25.0 as "25", 12.5 as "12.5": the radius as the person chose it."""
    return f"{value:g}"


def search_url(args: MultiDict[str, str], **changes: str | int | None) -> str:
    """This page's URL with `changes` applied to the current query (None removes a parameter).

    The page number goes back to 1 unless it is one of the changes: a different search has a
    different first page.
    """
    params = {key: value for key, value in args.items() if key != "page"}
    for key, value in changes.items():
        if value is None:
            params.pop(key, None)
        else:
            params[key] = str(value)
    if params.get("page") == "1":
        del params["page"]
    query = urlencode(params)
    return url_for("web.therapists") + (f"?{query}" if query else "")


def _without_empty(args: MultiDict[str, str]) -> list[tuple[str, str]] | None:
    """The query without the empty filters a submitted form sends ("insurance=&modality="), or None if
    it had none. `near` stays even when empty: searching for nowhere deserves a message, not a blank form.
    """
    pairs = list(args.items(multi=True))
    kept = [(key, value) for key, value in pairs if value.strip() or key == "near"]
    return kept if len(kept) != len(pairs) else None


def _empty_state_suggestions(
    args: MultiDict[str, str], form: SearchForm, query: search.SearchQuery, plans: dict[str, InsurancePlan]
) -> list[Suggestion]:
    """Links that widen the search or drop one filter (or all of them), built from the current query.

    Each link changes one thing, and says which, so the patient decides what to give up: a wider
    radius first (more travel), then each filter they chose.
    """
    widening = _widenings(args, query)
    dropping = [
        *_care_drops(args, form, query, plans),
        *_preference_drops(args, query),
        *_course_drops(args, query),
    ]
    if len(dropping) > 1:
        dropping.append(Suggestion("Drop every filter", search_url(args, **dict.fromkeys(FILTER_PARAMS))))
    return widening + dropping


def _widenings(args: MultiDict[str, str], query: search.SearchQuery) -> list[Suggestion]:
    """The next radius up and the widest: two choices, not every step between."""
    unit = query.unit
    wider = [r for r in RADIUS_CHOICES if query.radius < r <= search.MAX_RADIUS[unit]]
    widening = []
    if wider:
        widening.append(
            Suggestion(f"Search within {wider[0]} {unit} instead", search_url(args, radius=wider[0]))
        )
    if len(wider) > 1:
        widening.append(
            Suggestion(
                f"Search within {wider[-1]} {unit}, the widest search", search_url(args, radius=wider[-1])
            )
        )
    return widening


def _care_drops(
    args: MultiDict[str, str], form: SearchForm, query: search.SearchQuery, plans: dict[str, InsurancePlan]
) -> list[Suggestion]:
    """Dropping the oncology training, the plan or the condition. A cancer-related condition implies the
    training, so dropping the training alone would change nothing: the condition's link says so instead."""
    condition = evidence.condition(query.condition) if query.condition else None
    implied = condition is not None and _implies_oncology(condition)
    asked_for_oncology = bool(form.oncology_trained.data)
    dropping = []
    if asked_for_oncology and not implied:
        dropping.append(
            Suggestion(
                "Include therapists without verified oncology training",
                search_url(args, oncology_trained=None),
            )
        )
    if query.plan_id is not None:
        plan = plans.get(str(query.plan_id))
        name = plan.full_name if plan else "this plan"
        dropping.append(
            Suggestion(f"Include therapists outside the {name} network", search_url(args, insurance=None))
        )
    if condition is not None:
        label = f"Drop the condition ({condition.name})"
        if implied and not asked_for_oncology:
            label += ", which limits the search to oncology-trained therapists"
        dropping.append(Suggestion(label, search_url(args, condition=None)))
    return dropping


def _preference_drops(args: MultiDict[str, str], query: search.SearchQuery) -> list[Suggestion]:
    """Dropping the modality, the language, new patients only or free within some days."""
    dropping = []
    if query.modality:
        dropping.append(
            Suggestion(f"Any modality, not only {query.modality}", search_url(args, modality=None))
        )
    if query.language:
        dropping.append(
            Suggestion(f"Any language, not only {query.language}", search_url(args, language=None))
        )
    if query.accepting_new_patients:
        dropping.append(
            Suggestion(
                "Include therapists not taking new patients", search_url(args, accepting_new_patients=None)
            )
        )
    if query.available_within_days is not None:
        dropping.append(
            Suggestion(
                f"Include therapists not free within {query.available_within_days} days",
                search_url(args, available_within_days=None),
            )
        )
    return dropping


def _course_drops(args: MultiDict[str, str], query: search.SearchQuery) -> list[Suggestion]:
    """Loosening the course's wishes before dropping the course: the days and times may be what blocks it."""
    if query.course is None:
        return []
    wishes = query.course.wishes
    dropping = []
    if wishes.weekdays:
        dropping.append(Suggestion("Any day of the week for the course", search_url(args, weekdays=None)))
    if wishes.times_of_day:
        dropping.append(Suggestion("Any time of day for the course", search_url(args, time_of_day=None)))
    dropping.append(
        Suggestion(
            "Show every therapist, not only those with room for the whole course",
            search_url(args, course=None, weekdays=None, time_of_day=None),
        )
    )
    return dropping


def _filters_applied(query: search.SearchQuery, plans: dict[str, InsurancePlan]) -> list[str]:
    """The filters in force, in words, so a shared link says what it is showing."""
    condition = evidence.condition(query.condition) if query.condition else None
    words = []
    if query.needs_oncology_training:
        words.append("verified oncology training")
    if query.plan_id is not None:
        plan = plans.get(str(query.plan_id))
        words.append(f"in network for {plan.full_name if plan else 'the chosen plan'}")
    if condition is not None:
        words.append(f"condition: {condition.name}")
    if query.modality:
        words.append(query.modality)
    if query.language:
        words.append(f"treats in {query.language}")
    if query.accepting_new_patients:
        words.append("accepting new patients")
    if query.available_within_days is not None:
        words.append(f"free within {query.available_within_days} days")
    if query.course is not None:
        words.append(f"room for the whole course ({course_words(query.course)})")
    return words


def course_words(course: CourseSearch) -> str:
    """'12 sessions of 30 minutes, 3 a week, on Mondays or Fridays, in the morning'."""
    words = [course.describe()]
    days = [WEEKDAY_NAMES[d].capitalize() + "s" for d in sorted(course.wishes.weekdays)]
    if days:
        words.append("on " + (" or ".join([", ".join(days[:-1]), days[-1]]) if len(days) > 1 else days[0]))
    parts = [name for name in TIMES_OF_DAY if name in course.wishes.times_of_day]
    if parts:
        words.append("in the " + " or ".join(parts))
    return ", ".join(words)


def _implies_oncology(condition: evidence.Condition) -> bool:
    return condition.cancer_related or condition.requires_oncology_trained_therapist


def _show_query_in_form(form: SearchForm, query: search.SearchQuery) -> None:
    """Show the search as the service understood it: "c50.9" is chosen as the condition it names,
    "spanish" as Spanish, so the form's next submission repeats the same search."""
    form.condition.data = query.condition or ""
    form.modality.data = query.modality or ""
    form.language.data = query.language or ""
    form.insurance.data = "" if query.plan_id is None else str(query.plan_id)
    form.unit.data = query.unit
    form.sort.data = query.sort
    form.available_within_days.data = str(query.available_within_days or "")
    course = query.course
    if course is not None:
        form.course.data = course.condition_id or (request.args.get("course") or "").strip()
        if course.condition_id is None:  # an explicit plan from a shared link: keep it choosable
            raw = form.course.data
            form.course.choices = [*form.course.choices, SelectChoice(raw, course.describe())]
    form.weekdays.data = [WEEKDAY_NAMES[d] for d in sorted(course.wishes.weekdays)] if course else []
    form.time_of_day.data = [n for n in TIMES_OF_DAY if course and n in course.wishes.times_of_day]


@bp.get("/therapists", endpoint="therapists")
def search_page() -> Any:
    """Search by place and filters; without a query, the empty form. Bad input: the form with each
    field's message and a 422 (and, for a place we could not find, places we could)."""
    args = request.args
    if (kept := _without_empty(args)) is not None:
        query_string = urlencode(kept)
        return redirect(url_for("web.therapists") + (f"?{query_string}" if query_string else ""))

    today = date.today()
    plan_list = therapists.all_plans(db.session)
    plans = {str(plan.id): plan for plan in plan_list}
    form = SearchForm(args)
    form.set_choices(plan_list, evidence.conditions())
    context: dict[str, Any] = {
        "form": form,
        "results": None,
        "suggestions": [],
        "filters_applied": [],
        "place_suggestions": [],
        "today": today,
        "search_url": lambda **changes: search_url(args, **changes),
    }
    if not args:
        return render_template("web/search.html", **context)
    try:
        params = parse_query(SearchParams, args, search.validation_context(db.session))
        query = search.query_of(params, today)
    except ValidationFailed as exc:
        apply_errors(form, exc)
        # A suggested place also drops the other bad values, so following it finds someone.
        others_bad = dict.fromkeys(name for name in exc.details.get("fields", {}) if name != "near")
        context["place_suggestions"] = [
            Suggestion(label, search_url(args, **others_bad, near=label))
            for label in exc.details.get("suggestions") or []
        ]
        return render_template("web/search.html", **context), 422
    with atomic():  # course fits the search had to compute (services/course_fit.py)
        results = search.search_therapists(db.session, query)
    _show_query_in_form(form, query)
    context.update(
        results=results,
        query=query,
        filters_applied=_filters_applied(query, plans),
        suggestions=[] if results.total else _empty_state_suggestions(args, form, query, plans),
        map_config={
            "tile_url": current_app.config.get("MAP_TILE_URL", ""),
            "attribution": current_app.config.get("MAP_TILE_ATTRIBUTION", ""),
            "radius_meters": round(to_km(query.radius, query.unit) * 1000),
        },
    )
    return render_template("web/search.html", **context)
