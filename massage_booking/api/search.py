"""GET /api/v1/therapists: nearby therapists, filtered, nearest first, a page at a time.

Thin by design: the parameters are validated into SearchParams (every bad one named in one 422, with the
geocoder's suggestions when `near` was not understood), the search runs, the page is serialised. The only
writes are course fits the search had to recompute (services/course_fit.py), committed so the next search
reads them.
"""

from __future__ import annotations

from datetime import date, datetime
from zoneinfo import ZoneInfo

from massage_booking.api.contract import Reply, operation
from massage_booking.domain.course_fit import TIMES_OF_DAY, WEEKDAY_NAMES
from massage_booking.domain.course_search import CourseSearch
from massage_booking.extensions import db
from massage_booking.schemas.places import location_of
from massage_booking.schemas.replies import VALIDATION
from massage_booking.schemas.search import (
    CourseEcho,
    LicenseState,
    Origin,
    ResultCredential,
    SearchParams,
    SearchResults,
    TherapistSummary,
)
from massage_booking.schemas.therapists import SessionRate, networks_of
from massage_booking.services import search
from massage_booking.services.result_cards import LocationCard


@operation(
    "GET",
    "/therapists",
    operation_id="searchTherapists",
    tag="Therapists",
    summary="Search therapists near a place",
    description="Nearby therapists, filtered, nearest (or soonest free) first, a page at a time. Empty "
    "values count as absent. Every bad parameter is named in one 422.",
    query=SearchParams,
    context=lambda: search.validation_context(db.session),
    responses={200: Reply("A page of results.", SearchResults), 422: VALIDATION},
)
def search_therapists(query: SearchParams) -> SearchResults:
    results = search.search_therapists(db.session, search.query_of(query, date.today()))
    return results_of(results)


def summary_of(hit: search.SearchHit, today: date) -> TherapistSummary:
    """A result as the API and the map show it; only credentials active on `today` are listed."""
    profile, location = hit.therapist, hit.location
    return TherapistSummary(
        id=profile.id,
        name=profile.name,
        distance=hit.distance,
        unit=hit.unit,
        location=location_of(location),
        oncology_credentials=[
            ResultCredential(
                kind=c.kind, issuer=c.issuer, training_hours=c.training_hours, expires_on=c.expires_on
            )
            for c in profile.active_oncology_credentials(today)
        ],
        insurance=networks_of(profile),
        modalities=list(profile.modality_names),
        languages=list(profile.language_names),
        accepting_new_patients=profile.accepting_new_patients,
        session_rate=SessionRate(amount_cents=profile.session_rate_cents, currency=profile.currency),
        license=LicenseState(state=profile.license_state),
        next_available=_local_iso(hit.next_available, location),
        course_start=_local_iso(hit.course_start, location),
    )


def _local_iso(at: datetime | None, location: LocationCard) -> str | None:
    return at.astimezone(ZoneInfo(location.time_zone)).isoformat() if at else None


def results_of(results: search.SearchResults) -> SearchResults:
    """The whole response of GET /api/v1/therapists (DESIGN.md, "JSON API v1")."""
    query = results.query
    return SearchResults(
        origin=Origin(
            lat=query.origin.latitude,
            lon=query.origin.longitude,
            label=query.origin.label,
            precision=query.origin.precision,
        ),
        results=[summary_of(hit, query.today) for hit in results.hits],
        total=results.total,
        page=results.page,
        per_page=results.per_page,
        pages=results.pages,
        radius=query.radius,
        unit=query.unit,
        sort=query.sort,
        available_within_days=query.available_within_days,
        course=_course_echo(query.course),
    )


def _course_echo(course: CourseSearch | None) -> CourseEcho | None:
    """The course searched for, as understood: the plan it stands for and the wishes that bind it."""
    if course is None:
        return None
    request = course.request
    return CourseEcho(
        condition=course.condition_id,
        session_minutes=course.session_minutes,
        sessions_per_week=request.sessions_per_week,
        total_sessions=request.total_sessions,
        weekdays=[WEEKDAY_NAMES[d] for d in sorted(course.wishes.weekdays)],
        time_of_day=[name for name in TIMES_OF_DAY if name in course.wishes.times_of_day],
    )
