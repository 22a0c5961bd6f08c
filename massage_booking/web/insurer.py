"""The insurer portal: run an eligibility check by hand, read the explained answer, list the payer's checks.

GET  /insurer                    the check forms (by the course's fields, or by course number) and the
                                 latest checks
POST /insurer/check              run a check by fields -> the recorded check's page (422 with field errors)
POST /insurer/check-course       run a check of a booked course -> the recorded check's page
GET  /insurer/checks?page=N      every check of the payer, newest first, 25 a page
GET  /insurer/checks/<id>        one recorded check with its explanation (404 for another payer's, audited)

The same service as POST /api/v1/eligibility (services/eligibility.py, with channel "portal"), so the page
and the API cannot disagree. A successful check redirects to its page (reloading does not run it twice).
"""

from __future__ import annotations

import math
from datetime import UTC, date, datetime
from typing import Any

from flask import abort, flash, redirect, render_template, request, url_for
from flask_login import current_user
from flask_wtf import FlaskForm
from sqlalchemy import select
from wtforms import SelectChoice, SelectField, StringField
from wtforms.widgets import DateInput, NumberInput

from massage_booking.domain import evidence
from massage_booking.domain.errors import NotFound, ValidationFailed
from massage_booking.extensions import db
from massage_booking.models import InsurancePlan, Payer, Role, User
from massage_booking.schemas.eligibility import EligibilityRequest
from massage_booking.schemas.parse import parse_body
from massage_booking.services import eligibility, insurers
from massage_booking.transactions import atomic, keeps_denials
from massage_booking.web import bp
from massage_booking.web.forms import apply_errors
from massage_booking.web.session_auth import roles_required

RECENT_ON_HOME = 5
OUTCOME_LABELS = {
    "eligible": "Eligible",
    "partly_eligible": "Partly eligible",
    "not_eligible": "Not eligible",
}
CHANNEL_LABELS = {"api": "API", "fhir": "FHIR", "portal": "Portal", "booking": "Booking"}


class CheckForm(FlaskForm):
    """A check by the course's fields. Names are POST /api/v1/eligibility's, so the service's field errors
    land beside these fields. Every field is text here: the service says what is wrong with a value."""

    plan_id = SelectField("Plan", validate_choice=False)
    icd10_code = StringField("ICD-10-CM code")
    condition = SelectField("Condition", validate_choice=False)
    therapist_id = StringField("Therapist: id or NPI")
    session_minutes = StringField("Minutes per session", widget=NumberInput(min=1, max=240))
    sessions = StringField("Sessions", widget=NumberInput(min=1, max=60))
    sessions_per_week = StringField("Sessions per week", widget=NumberInput(step="any", min=0, max=7))
    referral_date = StringField("Referral date", widget=DateInput())
    service_date = StringField("Date of service (first session)", widget=DateInput())
    visits_used = StringField("Visits already used this plan year", widget=NumberInput(min=0, max=366))


class CourseCheckForm(FlaskForm):
    """A check of a course booked under one of the payer's plans: the facts come from the booking."""

    course_id = StringField("Course number", widget=NumberInput(min=1))


def _whole(text: str | None) -> int | str | None:
    """ "8" -> 8; "" -> None (not given); anything else as typed, for the service to name."""
    text = (text or "").strip()
    if not text:
        return None
    return int(text) if text.isdigit() else text


def _number(text: str | None) -> float | int | str | None:
    text = (text or "").strip()
    if not text:
        return None
    try:
        value = float(text)
    except ValueError:
        return text
    if not math.isfinite(value):
        return text
    return int(value) if value.is_integer() else value


def _text(text: str | None) -> str | None:
    text = (text or "").strip()
    return text or None


def _payer() -> Payer | None:
    return db.session.get(Payer, current_user.payer_id) if current_user.payer_id is not None else None


def _check_form(formdata: Any = None) -> CheckForm:
    form = CheckForm(formdata=formdata) if formdata is not None else CheckForm(formdata=None)
    plans = db.session.scalars(
        select(InsurancePlan)
        .where(InsurancePlan.payer_id == current_user.payer_id)
        .order_by(InsurancePlan.name)
    ).all()
    form.plan_id.choices = [SelectChoice("", "Choose a plan")] + [
        SelectChoice(str(p.id), f"{p.name} ({p.plan_type.value})") for p in plans
    ]
    form.condition.choices = [SelectChoice("", "Not needed: the code names one condition")] + [
        SelectChoice(c.id, f"{c.name} ({', '.join(c.icd10_codes)})") for c in evidence.conditions()
    ]
    if formdata is None:
        form.service_date.data = date.today().isoformat()
        form.visits_used.data = "0"
        if len(plans) == 1:
            form.plan_id.data = str(plans[0].id)
    return form


def _codes() -> list[tuple[str, str]]:
    """(code, condition name) for the ICD-10 code field's suggestions, in registry order."""
    return [(code, c.name) for c in evidence.conditions() for code in c.icd10_codes]


def _home(
    form: CheckForm | None = None,
    course_form: CourseCheckForm | None = None,
    status: int = 200,
    *,
    problem: str | None = None,
) -> Any:
    payer = _payer()
    if payer is None:
        return render_template("web/insurer/no_payer.html")
    recent = eligibility.recent_checks(db.session, current_user, RECENT_ON_HOME)
    page = render_template(
        "web/insurer/home.html",
        payer=payer,
        form=form or _check_form(),
        course_form=course_form or CourseCheckForm(formdata=None),
        codes=_codes(),
        recent=recent,
        outcome_labels=OUTCOME_LABELS,
        problem=problem,
    )
    return page, status


@bp.get("/insurer")
@roles_required(Role.INSURER)
def insurer_home() -> Any:
    return _home()


def _command(raw: dict[str, Any]) -> eligibility.CheckRequest:
    return eligibility.CheckRequest.of(parse_body(EligibilityRequest, raw))


def _fields_request(form: CheckForm) -> eligibility.CheckRequest:
    """The form as the API's JSON body, parsed by the same model into the same command; every bad field
    named at once."""
    errors: dict[str, list[str]] = {}
    try:
        therapist = insurers.therapist_id_for(db.session, form.therapist_id.data or "")
    except ValidationFailed as exc:
        errors.update(exc.details["fields"])
        therapist = None
    raw = {
        "plan_id": _whole(form.plan_id.data),
        "icd10_code": _text(form.icd10_code.data) or "",
        "condition": _text(form.condition.data),
        "therapist_id": therapist,
        "session_minutes": _whole(form.session_minutes.data),
        "sessions": _whole(form.sessions.data),
        "sessions_per_week": _number(form.sessions_per_week.data),
        "referral_date": _text(form.referral_date.data),
        "service_date": _text(form.service_date.data),
        "visits_used": _whole(form.visits_used.data),
    }
    try:
        wanted = _command(raw)
    except ValidationFailed as exc:
        for name, messages in exc.details.get("fields", {}).items():
            errors.setdefault(name, messages)
        raise ValidationFailed.for_fields(errors) from None
    if errors:
        raise ValidationFailed.for_fields(errors)
    return wanted


def _not_found_field(exc: NotFound, by_course: bool) -> str:
    if by_course:
        return "course_id"
    return "plan_id" if exc.message == eligibility.PLAN_NOT_FOUND else "therapist_id"


def _run(wanted: eligibility.CheckRequest, *, by_course: bool) -> eligibility.CheckResult:
    """Run the check and record it; NotFound keeps its audit record and is shown beside its field."""
    try:
        with atomic():
            return eligibility.check(db.session, current_user, wanted, datetime.now(UTC), channel="portal")
    except NotFound as exc:
        raise NotFound(exc.message, {"fields": {_not_found_field(exc, by_course): [exc.message]}}) from None


def _title(exc: ValidationFailed | NotFound) -> str | None:
    """The heading of the form's error box: "not found" says what; field errors get the usual heading."""
    return exc.message if isinstance(exc, NotFound) else None


def _done(result: eligibility.CheckResult) -> Any:
    record = result.record
    about = f"course {result.course.id}" if result.course is not None else result.therapist.name
    flash(
        f"Check {record.id} recorded: {OUTCOME_LABELS[record.outcome]} ({result.plan.name}, "
        f"{result.icd10_code} {result.condition.name}, {about}).",
        "success",
    )
    return redirect(url_for("web.insurer_check", check_id=record.id))


@bp.post("/insurer/check")
@roles_required(Role.INSURER)
def insurer_run_check() -> Any:
    if _payer() is None:
        return _home()
    form = _check_form(request.form)
    if not form.validate():  # only the CSRF token can fail here
        abort(400, description="This form expired. Reload the page and try again.")
    try:
        result = _run(_fields_request(form), by_course=False)
    except (ValidationFailed, NotFound) as exc:
        apply_errors(form, exc)
        return _home(form=form, status=exc.status, problem=_title(exc))
    return _done(result)


@bp.post("/insurer/check-course")
@roles_required(Role.INSURER)
def insurer_run_course_check() -> Any:
    if _payer() is None:
        return _home()
    course_form = CourseCheckForm()
    if not course_form.validate():
        abort(400, description="This form expired. Reload the page and try again.")
    try:
        wanted = _command({"course_id": _whole(course_form.course_id.data)})
        result = _run(wanted, by_course=True)
    except (ValidationFailed, NotFound) as exc:
        apply_errors(course_form, exc)
        return _home(course_form=course_form, status=exc.status, problem=_title(exc))
    return _done(result)


@bp.get("/insurer/checks")
@roles_required(Role.INSURER)
def insurer_checks() -> Any:
    payer = _payer()
    if payer is None:
        return _home()
    raw = request.args.get("page", "1")
    number = int(raw) if raw.isdigit() and 0 < int(raw) < 10**6 else 1
    found = insurers.checks_page(db.session, current_user, number)
    if found.total and number > found.pages:
        return redirect(url_for("web.insurer_checks", page=found.pages))
    return render_template(
        "web/insurer/checks.html",
        payer=payer,
        results=found,
        outcome_labels=OUTCOME_LABELS,
        channel_labels=CHANNEL_LABELS,
    )


def _evidence_links(answer: dict[str, Any], condition: evidence.Condition | None) -> dict[str, str]:
    """citation id -> where a reader checks it: the condition's evidence page (at that source) when the
    source is one of the condition's, else the source itself."""
    own = {c.id for c in condition.citations} if condition is not None else set()
    links: dict[str, str] = {}
    for cited in answer.get("citations", []):
        cid = cited.get("id")
        if not cid:
            continue
        if condition is not None and cid in own:
            links[cid] = url_for("web.evidence_condition", condition_id=condition.id) + f"#ref-{cid}"
        elif cited.get("url"):
            links[cid] = cited["url"]
    return links


@bp.get("/insurer/checks/<int:check_id>")
@roles_required(Role.INSURER)
@keeps_denials
def insurer_check(check_id: int) -> Any:
    if _payer() is None:
        return _home()
    with atomic():  # the audit record of the read
        row = insurers.read_check(db.session, current_user, check_id)
        actor = db.session.get(User, row.actor_id) if row.actor_id is not None else None
    answer = row.answer or {}
    condition = insurers.condition_for(row.icd10_code, [c.get("id") for c in answer.get("citations", [])])
    return render_template(
        "web/insurer/check.html",
        check=row,
        actor=actor,
        answer=answer,
        condition=condition,
        citations={c.get("id"): c for c in answer.get("citations", [])},
        links=_evidence_links(answer, condition),
        outcome_labels=OUTCOME_LABELS,
        channel_labels=CHANNEL_LABELS,
    )
