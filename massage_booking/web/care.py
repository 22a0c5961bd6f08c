"""The patient's pages: the booking wizard and "My care" (issue 5).

The wizard is five steps, each a page of its own:

1. /care/start      the intake (condition, cancer history, precautions, referral), stored at once
2. /care/plan       the evidence plan for the condition, with the length, count and cadence to change
3. /care/therapist  search near a place (only oncology-trained therapists when the intake needs it),
                    pick a therapist, then a first session from their free starts
4. /care/review     every session laid out and checked; conflicts offer their alternatives; the patient
                    may pick an insurance plan (or none, self-pay) and sees its decision and the price
5. POST /care/book  book the whole course, or say why not

Where the wizard is lives in the URL (`intake`, `therapist`, the plan's numbers, `plan_id` for the insurance
plan, `first_start` or each session's start as `s1`..`sN`), never in the cookie session: a step can be
bookmarked, reloaded, opened in two tabs or sent back with the Back button, and the server keeps no
half-finished booking. The intake is the one thing stored early, because the gates (defer, clearance,
oncology training) come from it and every read of it is audited (services/intake.py). The URL carries only
its id; the answers stay on the server and only their owner can open them (anyone else: 404, audited).

Every page works without JavaScript: choices are radio buttons, selects and links, confirmations are pages.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Any, TypeVar
from zoneinfo import ZoneInfo

from flask import Response, abort, current_app, flash, redirect, render_template, request, url_for
from flask_login import current_user

from massage_booking import calendars
from massage_booking.domain import billing, evidence
from massage_booking.domain import courses as plans
from massage_booking.domain import intake as intake_rules
from massage_booking.domain.eligibility import Outcome
from massage_booking.domain.errors import ValidationFailed
from massage_booking.extensions import db, links, payment_hold, payments
from massage_booking.formatting import clock, day_heading, local_moment, money, wall_clock
from massage_booking.models import Appointment, AppointmentStatus, Course, CourseStatus, Role, utcnow
from massage_booking.schemas.courses import CourseRequest, RescheduleRequest
from massage_booking.schemas.intakes import IntakeRequest
from massage_booking.schemas.parse import parse_body, parse_query
from massage_booking.schemas.search import SearchParams
from massage_booking.services import (
    course_calendar,
    course_proposals,
    courses,
    coverage,
    intake,
    refunds,
    search,
    slots,
    therapists,
)
from massage_booking.transactions import atomic, keeps_denials
from massage_booking.web import bp, course_choice
from massage_booking.web.session_auth import roles_required

F = TypeVar("F", bound=Callable[..., Any])

PLAN_KEYS = ("session_minutes", "sessions_per_week", "total_sessions")
CARRY_KEYS = ("intake", "therapist", *PLAN_KEYS, "plan_id")
SEARCH_KEYS = ("near", "radius", "insurance")
SLOT_DAYS = 7
RADIUS_CHOICES = (5, 10, 25, 50, 100)
STEPS = ("About you", "Your plan", "Therapist and time", "Review and book")
INTAKE_LABELS = {
    "condition": "Condition",
    "cancer_history": "Have you ever had cancer?",
    "treatment_phase": "Where are you in cancer treatment?",
    "precautions": "Do any of these apply to you now?",
    "referral_name": "Referring physician's name",
    "referral_npi": "Physician's NPI",
    "referral_date": "Date of the referral",
}
PER_WEEK_LABELS = {
    0.5: "Every two weeks",
    1.0: "Once a week",
    1.5: "Three every two weeks",
    2.0: "Twice a week",
    3.0: "Three times a week",
    4.0: "Four times a week",
    5.0: "Five times a week",
}
_NUMBER = re.compile(r"^\d{1,9}$")
_DECIMAL = re.compile(r"^\d{1,3}\.\d{1,3}$")


# --- the wizard's state, in the URL ---------------------------------------------------------------------


def carry(values: Mapping[str, str], **changes: Any) -> dict[str, str]:
    """The wizard's parameters from `values` (query string or form), with `changes` (None removes one)."""
    params = {k: str(values.get(k, "")).strip() for k in CARRY_KEYS if str(values.get(k, "")).strip()}
    for key, value in changes.items():
        if value is None:
            params.pop(key, None)
        else:
            params[key] = str(value)
    return params


def _whole(raw: str | None) -> int | None:
    text = (raw or "").strip()
    return int(text) if _NUMBER.match(text) and 0 < int(text) < 2**31 else None


def _number(raw: str) -> int | float | str:
    """A typed number as int or float, or the text itself so that the service says what is wrong."""
    text = raw.strip()
    if _NUMBER.match(text):
        return int(text)
    if _DECIMAL.match(text):
        return float(text)
    return text


def _intake_id() -> int:
    found = _whole(request.args.get("intake"))
    if found is None:
        abort(404, description="That link has no intake in it. Start a new booking from step 1.")
    return found


def plan_numbers(values: Mapping[str, str]) -> tuple[dict[str, Any], dict[str, list[str]]]:
    """The plan changes in `values` for `plans.custom_plan`, and a message for each unreadable one."""
    numbers: dict[str, Any] = {}
    errors: dict[str, list[str]] = {}
    for name in PLAN_KEYS:
        raw = str(values.get(name, "")).strip()
        if not raw:
            continue
        value = _number(raw)
        if isinstance(value, str):
            errors[name] = [f"{raw[:20]!r} is not a number; the plan's own value is shown."]
        else:
            numbers[name] = value
    return numbers, errors


def course_request(values: Mapping[str, str]) -> courses.CourseRequest:
    """The wizard's parameters as the API's course body, checked by its model (schemas/courses.py), so a
    page and a client cannot book different things from the same choices."""
    raw: dict[str, Any] = {
        "intake_id": _number(str(values.get("intake", ""))),
        "therapist_id": _number(str(values.get("therapist", ""))),
    }
    for name in (*PLAN_KEYS, "plan_id"):
        if str(values.get(name, "")).strip():
            raw[name] = _number(str(values[name]))
    starts = [str(values.get(f"s{n}", "")).strip() for n in range(1, plans.MAX_TOTAL_SESSIONS + 1)]
    if any(starts):
        last = max(n for n, s in enumerate(starts) if s)
        raw["starts"] = [s or None for s in starts[: last + 1]]
    else:
        raw["first_start"] = str(values.get("first_start", "")).strip() or None
    return courses.request_of(parse_body(CourseRequest, raw))


def _steps(current: int) -> list[tuple[int, str, bool]]:
    return [(n, label, n == current) for n, label in enumerate(STEPS, start=1)]


# --- how times read -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class SlotDay:
    heading: str
    times: list[tuple[str, str]]  # (ISO 8601 with offset, "9:00 AM EST")


def slot_days(starts: list[datetime], zone: ZoneInfo) -> list[SlotDay]:
    by_day: dict[date, list[tuple[str, str]]] = {}
    for start in starts:
        local = start.astimezone(zone)
        by_day.setdefault(local.date(), []).append((local.isoformat(), clock(local)))
    return [SlotDay(day_heading(day), times) for day, times in sorted(by_day.items())]


def _week_from(raw: str | None, today: date) -> date:
    """The first day of the slot list: `raw` (a date) if it reads and is not past, else today."""
    try:
        return max(date.fromisoformat((raw or "").strip()), today)
    except ValueError:
        return today


# --- step 1: about you ----------------------------------------------------------------------------------


def _precaution_choices() -> list[tuple[str, str]]:
    """(answer id, plain-language label): the registry's precautions, then the clot-sign screen."""
    return [(p.id, p.name) for p in evidence.precautions()] + [
        (intake_rules.CLOT_SIGNS_UNDIAGNOSED, intake_rules.CLOT_SIGNS_LABEL)
    ]


def _intake_document(form: Mapping[str, Any]) -> dict[str, Any]:
    """The form as the API's POST /intakes body, for the same model to check (schemas/intakes.py)."""
    code = str(form.get("condition_code", "")).strip()
    history = {"yes": True, "no": False}.get(str(form.get("cancer_history", "")))
    getlist = getattr(form, "getlist", None)
    return {
        "condition": code or str(form.get("condition", "")).strip(),
        "cancer_history": history,
        "treatment_phase": str(form.get("treatment_phase", "")).strip(),
        "precautions": list(getlist("precautions")) if getlist else [],
        **{name: str(form.get(name, "")).strip() for name in intake_rules.REFERRAL_FIELDS},
    }


def _start_page(values: Mapping[str, Any], errors: dict[str, list[str]], status: int = 200) -> Any:
    getlist = getattr(values, "getlist", None)
    summary = [(name, INTAKE_LABELS.get(name, name), " ".join(msgs)) for name, msgs in errors.items()]
    return (
        render_template(
            "web/care/start.html",
            steps=_steps(1),
            values=values,
            chosen_precautions=set(getlist("precautions")) if getlist else set(),
            errors=errors,
            summary=summary,
            conditions=evidence.conditions(),
            phases=intake_rules.TREATMENT_PHASE_LABELS,
            precaution_choices=_precaution_choices(),
            therapist_id=_whole(values.get("therapist")),
            today=date.today().isoformat(),
        ),
        status,
    )


@bp.get("/care/start")
@roles_required(Role.PATIENT)
def care_start() -> Any:
    """Step 1: the questions that decide who may treat you, what must happen first and what the therapist
    must adapt. `?therapist=` (from a profile's "Book a course" link) is carried to step 3."""
    return _start_page(request.args, {})


@bp.post("/care/start")
@roles_required(Role.PATIENT)
def care_start_submit() -> Any:
    """Store the intake (audited) and go on to the plan; errors beside their questions and a 422."""
    try:
        with atomic():
            answers = parse_body(IntakeRequest, _intake_document(request.form), {"today": date.today()})
            row = intake.record_intake(db.session, current_user, answers.answers())
    except ValidationFailed as exc:
        return _start_page(request.form, exc.details.get("fields", {"condition": [exc.message]}), 422)
    return redirect(url_for("web.care_plan", **carry(request.form, intake=row.id)))


# --- step 2: the plan -----------------------------------------------------------------------------------


def _deferred_page(messages: list[str]) -> Any:
    """The stop page: why booking must wait and what to do now. Nothing is booked."""
    return render_template("web/care/deferred.html", steps=_steps(1), messages=messages), 422


@bp.get("/care/plan")
@roles_required(Role.PATIENT)
@keeps_denials
def care_plan() -> Any:
    """Step 2: the plan the evidence supports for the condition, with its citation; the patient may change
    the length, count or cadence, and a dose below what worked in the trial is named, never refused."""
    now = utcnow()
    with atomic():  # the audit record of the read
        row = intake.read_intake(db.session, current_user, _intake_id(), purpose="plan")
        decision = intake.decision_of(row, now.date())
    if decision.deferred:
        return _deferred_page([g.message for g in decision.deferred])
    condition = evidence.condition(row.condition_id)
    if condition is None:
        raise ValidationFailed("This intake's condition is no longer listed; start again from step 1.")
    numbers, errors = plan_numbers(request.args)
    try:
        plan = plans.custom_plan(condition, **numbers)
    except ValidationFailed as exc:
        for name, messages in exc.details.get("fields", {}).items():
            errors.setdefault(name, []).extend(messages)
        plan = plans.custom_plan(
            condition, **{k: v for k, v in numbers.items() if k not in exc.details.get("fields", {})}
        )
    return (
        render_template(
            "web/care/plan.html",
            steps=_steps(2),
            intake_row=row,
            decision=decision,
            condition=condition,
            default=plans.default_plan(condition),
            plan=plan,
            citation=evidence.citation(plan.citation_id),
            errors=errors,
            params=carry(request.args),
            minute_choices=plans.SESSION_MINUTES,
            per_week_choices=[
                (v, PER_WEEK_LABELS.get(float(v), f"{v:g} a week")) for v in plans.SESSIONS_PER_WEEK
            ],
            max_sessions=plans.MAX_TOTAL_SESSIONS,
        ),
        422 if errors else 200,
    )


# --- step 3: therapist and first session ----------------------------------------------------------------


def _oncology_page(message: str, suggestions: list[dict[str, Any]], params: dict[str, str]) -> Any:
    """The answer when the chosen therapist lacks the training this patient needs: why, and nearby
    trained therapists as links that carry the wizard on with each of them."""
    return (
        render_template(
            "web/care/oncology_required.html",
            steps=_steps(3),
            message=message,
            suggestions=suggestions,
            params=params,
            search_params={k: v for k, v in params.items() if k != "therapist"},
        ),
        422,
    )


@bp.get("/care/therapist")
@roles_required(Role.PATIENT)
@keeps_denials
def care_therapist() -> Any:
    """Step 3. Without `therapist`: search near a place, limited to oncology-trained therapists when the
    intake says so. With one: that therapist's free starts for the plan's session length, a week at a time."""
    intake_id = _intake_id()
    if _whole(request.args.get("therapist")) is None:
        return _therapist_search(intake_id)
    return _therapist_slots(intake_id, _whole(request.args.get("therapist")) or 0)


def _therapist_search(intake_id: int) -> Any:
    now = utcnow()
    today = now.date()
    with atomic():  # the audit record of the intake read
        row = intake.read_intake(db.session, current_user, intake_id, purpose="plan")
        decision = intake.decision_of(row, today)
    plans_list = therapists.all_plans(db.session)
    results, errors, status = None, {}, 200
    values = {k: (request.args.get(k) or "").strip() for k in SEARCH_KEYS}
    if "near" in request.args:
        params = {
            **values,
            "oncology_trained": "true" if decision.requires_oncology_trained else "",
            "page": (request.args.get("page") or "").strip(),
            "per_page": "10",
        }
        try:
            checked = parse_query(SearchParams, params, search.validation_context(db.session))
            with atomic():  # search may refresh cached soonest starts
                results = search.search_therapists(db.session, search.query_of(checked, today))
        except ValidationFailed as exc:
            errors = exc.details.get("fields") or {"near": [exc.message]}
            status = 422
    if decision.deferred:
        return _deferred_page([g.message for g in decision.deferred])
    # The plan searched for is the one the review checks first (the patient can change it there).
    searched = {"plan_id": _whole(values["insurance"])} if _whole(values["insurance"]) else {}
    return (
        render_template(
            "web/care/therapist_search.html",
            steps=_steps(3),
            decision=decision,
            results=results,
            errors=errors,
            values=values,
            insurance_plans=plans_list,
            radius_choices=RADIUS_CHOICES,
            params=carry(request.args, therapist=None, **searched),
            today=today,
        ),
        status,
    )


def _therapist_slots(intake_id: int, therapist_id: int) -> Any:
    now = utcnow()
    params = carry(request.args)
    try:
        with atomic(courses.BookingDeferred, courses.OncologyTrainingRequired):  # audited refusals
            choice = courses.choose_therapist(db.session, current_user, intake_id, therapist_id, now)
    except courses.BookingDeferred as exc:
        return _deferred_page([d["message"] for d in exc.details.get("deferred", [])])
    except courses.OncologyTrainingRequired as exc:
        return _oncology_page(exc.message, exc.details.get("suggestions", []), params)
    condition = evidence.condition(choice.intake.condition_id)
    if condition is None:
        raise ValidationFailed("This intake's condition is no longer listed; start again from step 1.")
    numbers, _ = plan_numbers(request.args)
    plan = plans.custom_plan(condition, **numbers)
    location = choice.therapist.locations[0]
    zone = ZoneInfo(location.time_zone)
    today = now.astimezone(zone).date()
    first = _week_from(request.args.get("from"), today)
    start = max(datetime.combine(first, time(0), zone), now)
    end = datetime.combine(first + timedelta(days=SLOT_DAYS), time(0), zone)
    free = slots.free_slots(db.session, therapist_id, start, end, plan.session_minutes, now)
    horizon = slots.settings_for(db.session, therapist_id).horizon_days
    wishes, wish_form = course_choice.read_wishes(request.args, today, request.args.getlist)
    proposal_cards: list[course_choice.Card] = []
    blocked: list[str] = []
    planner_note: str | None = None
    offered: list[int] = []
    try:
        with atomic(ValidationFailed):  # nothing was written but the audit records, which are kept
            wanted = courses.CourseRequest(
                intake_id=intake_id, therapist_id=therapist_id, first_start=None, **numbers
            )
            found = course_proposals.propose_courses(db.session, current_user, wanted, wishes, now)
            proposal_cards = course_choice.cards(found)
            blocked = [b.sentence(choice.therapist.name, wall_clock) for b in found.result.blocked]
    except ValidationFailed as exc:
        planner_note, offered = exc.message, list(exc.details.get("offered", []))
    later = first + timedelta(days=SLOT_DAYS)
    return render_template(
        "web/care/therapist_slots.html",
        steps=_steps(3),
        therapist=choice.therapist,
        location=location,
        decision=choice.decision,
        plan=plan,
        days=slot_days([s.start for s in free], zone),
        zone_name=location.time_zone,
        first=first,
        last=first + timedelta(days=SLOT_DAYS - 1),
        earlier=None if first <= today else max(first - timedelta(days=SLOT_DAYS), today).isoformat(),
        later=later.isoformat() if later <= today + timedelta(days=horizon) else None,
        params=params,
        search_params=carry(request.args, therapist=None),
        per_week=PER_WEEK_LABELS.get(plan.sessions_per_week or 0.0),
        today=now.date(),
        proposals=proposal_cards,
        # Paging through the week picker keeps it open (a link's `from`), even when courses are proposed.
        picking="from" in request.args,
        blocked=blocked,
        planner_note=planner_note,
        offered=offered,
        wish_form=wish_form,
        day_choices=course_choice.DAY_CHOICES,
        times_of_day=course_choice.TIMES_OF_DAY,
    )


# --- step 4: review, and step 5: book -------------------------------------------------------------------


def _review_page(
    preview: courses.CoursePreview, values: Mapping[str, str], problem: str | None, status: int
) -> Any:
    explicit = any(str(values.get(f"s{n}", "")).strip() for n in range(1, plans.MAX_TOTAL_SESSIONS + 1))
    params = carry(values)
    if preview.insurance_plan is None:
        params.pop("plan_id", None)  # one that was not found: the page says so and checks none
    decision = preview.coverage
    covered = decision is not None and decision.covered_sessions > 0
    return (
        render_template(
            "web/care/review.html",
            steps=_steps(4),
            preview=preview,
            zone_name=preview.location.time_zone,
            condition=evidence.condition(preview.plan.condition_id),
            citation=evidence.citation(preview.plan.citation_id),
            params=params,
            # What the Book form sends: a plan that covers nothing is left out, so the course is self-pay.
            book_params=params if covered else {k: v for k, v in params.items() if k != "plan_id"},
            first_start=str(values.get("first_start", "")).strip(),
            explicit=explicit,
            problem=problem,
            clock=clock,
            day_heading=day_heading,
            address=calendars.address(preview.location),
            plan_choices=coverage.plan_choices(db.session, preview.therapist),
            decision=decision,
            Outcome=Outcome,
            session_cents=preview.session_cents,
            currency=preview.therapist.currency,
            card_payments=payments().enabled,
            hold_minutes=current_app.config["PAYMENT_HOLD_MINUTES"],
            min_card_cents=billing.MIN_CARD_CHARGE_CENTS,
        ),
        status,
    )


def _preview(values: Mapping[str, str], now: datetime) -> tuple[courses.CoursePreview, str | None]:
    """The course the wizard's values describe, previewed; an insurance plan that is not listed is
    dropped (the page then says so and checks none), rather than failing the whole review."""
    try:
        return courses.preview_course(db.session, current_user, course_request(values), now), None
    except ValidationFailed as exc:
        if set(exc.details.get("fields", {})) != {"plan_id"}:
            raise
        db.session.rollback()
    without = {key: value for key, value in values.items() if key != "plan_id"}
    preview = courses.preview_course(db.session, current_user, course_request(without), now)
    return preview, coverage.PLAN_NOT_FOUND


@bp.get("/care/review")
@roles_required(Role.PATIENT)
@keeps_denials
def care_review() -> Any:
    """Step 4: every session as it would be booked, each checked now. A session whose time is taken offers
    its nearest free alternatives; choosing them re-checks the course with each session's start explicit.
    With an insurance plan chosen (`plan_id`), the plan's decision on the course and the price it gives."""
    now = utcnow()
    with atomic():  # the audit records of the intake read and of the coverage check
        preview, problem = _preview(request.args, now)
    trained = bool(preview.therapist.active_oncology_credentials(now.date()))
    if preview.decision.deferred or (preview.decision.requires_oncology_trained and not trained):
        # Step 3 says why, with the therapists who can be booked instead.
        return redirect(url_for("web.care_therapist", **carry(request.args)))
    return _review_page(preview, request.args, problem, 422 if problem else 200)


class _PriceChanged(Exception):
    """The course's price now is not the one the review showed: nothing is booked."""


def _quoted(values: Mapping[str, str]) -> int | None:
    """The price the review showed when Book was pressed (None if the form did not say)."""
    text = str(values.get("quoted_cents", "")).strip()
    return int(text) if _NUMBER.match(text) else None


@bp.post("/care/book")
@roles_required(Role.PATIENT)
@keeps_denials
def care_book() -> Any:
    """Step 5: book every session or none, then show the course. The price is decided again now; if it is
    not the one the review showed (the plan's visits were used meanwhile, say), nothing is booked and the
    review shows the new price."""
    now = utcnow()
    wanted = course_request(request.form)
    try:
        with atomic():
            course = courses.book_course(
                db.session, current_user, wanted, now, links=links(), hold=payment_hold()
            )
            quoted = _quoted(request.form)
            if quoted is not None and quoted != course.price_cents:
                raise _PriceChanged
    except _PriceChanged:
        with atomic():  # the audit records of the new check
            preview, _ = _preview(request.form, now)
        problem = (
            f"The price changed since you checked it: the course now costs "
            f"{money(preview.price_cents, preview.therapist.currency)}. Check it below and book again."
        )
        return _review_page(preview, request.form, problem, 409)
    except courses.SessionsConflict as exc:
        with atomic():
            preview, _ = _preview(request.form, now)
        problem = (
            f"{exc.message} Someone else booked one of these times while you were choosing: pick another "
            "time for each session marked below."
        )
        return _review_page(preview, request.form, problem, 409)
    except coverage.PlanNotCovered as exc:
        with atomic():
            preview, _ = _preview(request.form, now)
        return _review_page(preview, request.form, f"{exc.message} Nothing was booked.", 422)
    except courses.OncologyTrainingRequired as exc:
        return _oncology_page(exc.message, exc.details.get("suggestions", []), carry(request.form))
    except courses.BookingDeferred as exc:
        return _deferred_page([d["message"] for d in exc.details.get("deferred", [])])
    if course.status is CourseStatus.PENDING_PAYMENT:
        return redirect(url_for("web.care_pay", course_id=course.id))
    flash(
        f"Booked: {course.total_sessions} sessions with {course.therapist.name}. "
        "Add them to your calendar below.",
        "success",
    )
    return redirect(url_for("web.care_course", course_id=course.id))


# --- My care --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class CourseRow:
    """A course on "My care": what it is, how far along, and what is next."""

    course: Course
    condition_name: str
    done: int
    cancelled: int
    total: int
    next_session: Appointment | None
    zone_name: str

    @classmethod
    def of(cls, course: Course, sessions: list[Appointment], now: datetime) -> CourseRow:
        """Done: completed, or booked and already over (the therapist marks sessions afterwards)."""
        done = sum(
            1
            for a in sessions
            if a.status is AppointmentStatus.COMPLETED
            or (a.status is AppointmentStatus.BOOKED and a.ends_at <= now)
        )
        cancelled = sum(1 for a in sessions if a.status is AppointmentStatus.CANCELLED)
        upcoming = [a for a in sessions if a.status is AppointmentStatus.BOOKED and a.starts_at > now]
        condition = evidence.condition(course.condition_id)
        return cls(
            course=course,
            condition_name=condition.name if condition else course.condition_id.replace("_", " "),
            done=done,
            cancelled=cancelled,
            total=len(sessions),
            next_session=min(upcoming, key=lambda a: a.starts_at) if upcoming else None,
            zone_name=course.location.time_zone,
        )


@bp.get("/care")
@roles_required(Role.PATIENT)
def my_care() -> Any:
    """The patient's courses, newest first, each with its progress and next session."""
    now = utcnow()
    with atomic():  # the audit record of the listing
        found = courses.my_courses(db.session, current_user)
        rows = [CourseRow.of(c, courses.sessions_of(db.session, c), now) for c in found]
    return render_template("web/care/index.html", rows=rows)


def _course_page(course_id: int) -> tuple[Course, list[Appointment]]:
    course = courses.get_course(db.session, current_user, course_id)
    return course, courses.sessions_of(db.session, course)


@bp.get("/care/courses/<int:course_id>")
@roles_required(Role.PATIENT)
@keeps_denials
def care_course(course_id: int) -> Any:
    """One course: its sessions with what can still be done to each, the notes the therapist works from,
    the clearance still owed, and the calendar file."""
    now = utcnow()
    with atomic():  # the audit record of the read
        course, sessions = _course_page(course_id)
        course_refunds = refunds.refunds_of(db.session, course.id)
    return render_template(
        "web/care/course.html",
        course=course,
        row=CourseRow.of(course, sessions, now),
        sessions=sessions,
        citation=evidence.citation(course.citation_id),
        zone_name=course.location.time_zone,
        late=courses.late_sessions(sessions, now),
        now=now,
        booked=AppointmentStatus.BOOKED,
        address=calendars.address(course.location),
        per_week=PER_WEEK_LABELS.get(course.sessions_per_week or 0.0),
        refunds=course_refunds,
        refunded={i for r in course_refunds for i in r.appointment_ids},
        viewer="patient",
    )


@bp.get("/care/courses/<int:course_id>/cancel")
@roles_required(Role.PATIENT)
@keeps_denials
def care_cancel_confirm(course_id: int) -> Any:
    """The confirmation page for cancelling one session (`?session=`) or the rest of the course."""
    now = utcnow()
    with atomic():  # the audit record of the read
        course, sessions = _course_page(course_id)
    unpaid = course.status is CourseStatus.PENDING_PAYMENT  # given up whole, nothing was charged
    changeable = AppointmentStatus.PENDING_PAYMENT if unpaid else AppointmentStatus.BOOKED
    upcoming = [a for a in sessions if a.status is changeable and a.starts_at > now]
    late = courses.late_sessions(upcoming, now)
    session_id = _whole(request.args.get("session"))
    if request.args.get("session") is not None:
        chosen = [a for a in upcoming if a.id == session_id]
        if not chosen:
            abort(404, description="That is not an upcoming session of this course.")
    else:
        chosen = upcoming
    cancellable = [a for a in chosen if a.id not in late]
    return render_template(
        "web/care/cancel.html",
        course=course,
        single=request.args.get("session") is not None,
        cancellable=cancellable,
        late=[a for a in chosen if a.id in late],
        zone_name=course.location.time_zone,
        unpaid=unpaid,
        refund_cents=billing.refund_cents_for_sessions(
            [(a.starts_at, course.session_charge_cents(a.session_number)) for a in cancellable],
            now,
            remaining_cents=course.balance_cents,
        ),
    )


@bp.post("/care/courses/<int:course_id>/cancel")
@roles_required(Role.PATIENT)
@keeps_denials
def care_cancel(course_id: int) -> Any:
    """Cancel the sessions the confirmation page listed (all or none), then back to the course."""
    now = utcnow()
    ids = [i for i in (_whole(v) for v in request.form.getlist("appointment")) if i is not None]
    if not ids:
        flash("Choose the sessions to cancel.", "error")
        return redirect(url_for("web.care_course", course_id=course_id))
    try:
        with atomic():
            course = courses.get_course(db.session, current_user, course_id)
            done = courses.cancel_appointments(
                db.session, current_user, course, ids, now, payments(), links=links()
            )
    except ValidationFailed as exc:
        flash(exc.message, "error")
        return redirect(url_for("web.care_course", course_id=course_id))
    cancelled, zone = done.appointments, course.location.time_zone
    if len(cancelled) == 1:
        only = cancelled[0]
        message = f"Session {only.session_number} ({local_moment(only.starts_at, zone)}) is cancelled."
    else:
        message = f"{len(cancelled)} sessions are cancelled."
    if done.refund is not None:
        message += f" {money(done.refund.amount_cents, course.currency)} is being refunded to your card."
    flash(message, "success")
    return redirect(url_for("web.care_course", course_id=course_id))


@bp.get("/care/courses/<int:course_id>.ics")
@roles_required(Role.PATIENT)
@keeps_denials
def care_course_ics(course_id: int) -> Any:
    """The course's sessions as a calendar file: times, place and therapist only (see course_calendar)."""
    with atomic():  # the audit record of the read
        body = course_calendar.course_ics(
            db.session,
            current_user,
            course_id,
            utcnow(),
            url=url_for("web.care_course", course_id=course_id, _external=True),
        )
    return Response(
        body,
        mimetype="text/calendar",
        headers={
            "Content-Disposition": f'attachment; filename="massage-course-{course_id}.ics"',
            "Cache-Control": "private, no-store",
        },
    )


# --- moving one session ---------------------------------------------------------------------------------


def _reschedule_page(
    appointment_id: int,
    now: datetime,
    *,
    error: str | None = None,
    status: int = 200,
    offered: list[datetime] | None = None,
) -> Any:
    monday = None
    raw = (request.values.get("week") or "").strip()
    if raw:
        try:
            monday = date.fromisoformat(raw)
        except ValueError:
            error = error or f'"{raw[:20]}" is not a date like 2026-12-01, so this is the session\'s week.'
    with atomic():  # the audit record of the read
        options = courses.reschedule_options(db.session, current_user, appointment_id, monday, now)
    appointment = options.appointment
    starts = offered if offered is not None else options.starts
    suggested = [] if offered is not None else options.suggested
    return (
        render_template(
            "web/care/reschedule.html",
            options=options,
            appointment=appointment,
            course=appointment.course,
            zone_name=appointment.location.time_zone,
            suggested=[(s.isoformat(), f"{day_heading(s.date())}, {clock(s)}") for s in suggested],
            days=slot_days([s for s in starts if s not in suggested], options.zone),
            offered_alternatives=offered is not None,
            error=error,
            week_end=options.monday + timedelta(days=6),
        ),
        status,
    )


@bp.get("/care/sessions/<int:appointment_id>/reschedule")
@roles_required(Role.PATIENT)
@keeps_denials
def care_reschedule_form(appointment_id: int) -> Any:
    """Free starts to move one session to, a week at a time (the session's own week first)."""
    return _reschedule_page(appointment_id, utcnow())


@bp.post("/care/sessions/<int:appointment_id>/reschedule")
@roles_required(Role.PATIENT)
@keeps_denials
def care_reschedule(appointment_id: int) -> Any:
    """Move the session to the chosen start, or say why not (with other times when it was just taken)."""
    now = utcnow()
    try:
        with atomic():
            new_start = parse_body(RescheduleRequest, {"start": request.form.get("start") or None}).start
            moved = courses.reschedule_appointment(
                db.session, current_user, appointment_id, new_start, now, links=links()
            )
    except courses.SessionsConflict as exc:
        alternatives = [
            datetime.fromisoformat(a) for c in exc.details.get("conflicts", []) for a in c["alternatives"]
        ]
        return _reschedule_page(
            appointment_id, now, error=exc.message, status=409, offered=alternatives or None
        )
    except ValidationFailed as exc:
        message = "Choose a new time." if "start" in exc.details.get("fields", {}) else exc.message
        return _reschedule_page(appointment_id, now, error=message, status=422)
    when = local_moment(moved.starts_at, moved.location.time_zone)
    number = f" {moved.session_number}" if moved.session_number else ""
    flash(f"Session{number} moved to {when}.", "success")
    if moved.course_id is None:
        return redirect(url_for("web.my_care"))
    return redirect(url_for("web.care_course", course_id=moved.course_id))
