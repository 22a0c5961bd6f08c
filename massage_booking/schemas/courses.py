"""Courses of care over the API: what to plan or book, how to pay, cancel or move, and a course, its
preview and the planner's proposals as the API shows them.

The booking wizard's pages build the same request models from their parameters (web/care.py), so a page
and a client cannot book different things from the same choices. Every field checks itself, so one 422
names every bad field at once (`starts[3]`, `time_windows[0].end`). What only the database or the calendar
can judge (the intake is yours, the length is offered, the time is free) stays with the services.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import date, datetime, time
from typing import Annotated, Any, Literal
from zoneinfo import ZoneInfo

import annotated_types as at
from pydantic import (
    BeforeValidator,
    Field,
    RootModel,
    ValidationInfo,
    WithJsonSchema,
    field_validator,
    model_validator,
)

from massage_booking.domain import course_patterns, evidence
from massage_booking.domain import courses as plans
from massage_booking.domain.course_fit import WEEKDAY_NAMES
from massage_booking.domain.eligibility import Outcome
from massage_booking.models import (
    Appointment,
    AppointmentStatus,
    CourseRefund,
    CourseStatus,
    InsurancePlan,
    PaymentMode,
    PracticeLocation,
    TherapistProfile,
)
from massage_booking.models import Course as CourseRow
from massage_booking.schemas.base import (
    CLOCK_SCHEMA,
    INSTANT_MESSAGE,
    MAX_ID,
    AnId,
    Date,
    IfMissing,
    RequestModel,
    ResponseModel,
    Says,
    Timestamp,
    fields_of,
    invalid,
    iso,
    local_span,
    need,
    parsed,
    read,
)
from massage_booking.schemas.eligibility import EligibilityDecision
from massage_booking.schemas.intakes import IntakeGate

# Times a session may be asked for: far enough from year 1 and 9999 that zone conversions and a course's
# layout cannot overflow `datetime`, late enough that every zone has whole-minute offsets (before about
# 1900 zoneinfo gives local mean time, -04:56:02, which RFC 3339 cannot write). As services/availability.
SESSION_YEARS = range(1900, 9000)
YEARS_MESSAGE = f"Give a time between the years {SESSION_YEARS.start} and {SESSION_YEARS.stop - 1}."
STARTS_MESSAGE = f"Give between 1 and {plans.MAX_TOTAL_SESSIONS} session starts as a list."
DAY_MESSAGE = "Give a date as YYYY-MM-DD, in the practice's time zone."
CLOCK_MESSAGE = 'Give a local time as HH:MM, like "09:00".'
WEEKDAY_MESSAGE = "Use a weekday's name: monday, tuesday, ... sunday."
MAX_WINDOWS = 7
DEFAULT_COUNT = 3  # proposals when the patient does not say (services/course_proposals.Wishes)
INSTANT_SCHEMA = {"type": "string", "format": "date-time"}


class _Unplaced:
    """Stands for a first start left out where the course must be placed (neither it nor `starts`)."""


_UNPLACED = _Unplaced()


def _session_time(value: Any) -> datetime:
    """An ISO 8601 time with its offset (`_UNPLACED`, not text, is refused like any other non-time)."""
    parsed = iso(datetime.fromisoformat, value, range(41))
    if parsed is None or parsed.tzinfo is None:
        raise invalid(INSTANT_MESSAGE)
    if parsed.year not in SESSION_YEARS:  # date arithmetic would overflow, or offsets go pre-standard
        raise invalid(YEARS_MESSAGE)
    return parsed


def _list(most: int, message: str, least: int = 0) -> BeforeValidator:
    """A JSON list of `least` to `most` items, each then checked on its own, or `message`."""

    def listed(value: Any) -> tuple[Any, ...]:
        if not isinstance(value, list) or not least <= len(value) <= most:
            raise invalid(message)
        return tuple(value)

    return BeforeValidator(listed)


SessionTime = Annotated[datetime, IfMissing(INSTANT_MESSAGE), *parsed(_session_time, INSTANT_SCHEMA)]
FirstStart = Annotated[
    datetime | None, *parsed(lambda value: None if value is None else _session_time(value), INSTANT_SCHEMA)
]


def _whole(name: str) -> Says:
    """Any value but a positive whole number (or none where one is required) reads "Give the intake id as
    a whole number."."""
    return Says(f"Give the {name} as a whole number.")


_ID = WithJsonSchema({"type": "integer", "minimum": 1, "maximum": MAX_ID})
IntakeId = Annotated[AnId, _whole("intake id"), _ID]
TherapistId = Annotated[AnId, _whole("therapist id"), _ID]
PlanId = Annotated[AnId | None, _whole("plan id"), _ID]
SessionMinutes = Annotated[
    AnId | None,
    _whole("session minutes"),
    WithJsonSchema({"type": "integer", "enum": list(plans.SESSION_MINUTES)}),
]
TotalSessions = Annotated[
    AnId | None,
    _whole("total sessions"),
    WithJsonSchema({"type": "integer", "minimum": 1, "maximum": plans.MAX_TOTAL_SESSIONS}),
]


class _CourseFields(RequestModel):
    """The course: whose intake, which therapist, the plan's changes, and where it is placed."""

    intake_id: IntakeId = Field(description="Your intake (POST /api/v1/intakes).")
    therapist_id: TherapistId = Field(description="A bookable therapist.")
    first_start: FirstStart = Field(
        None, description="First session's start, ISO 8601 with its offset. Required without `starts`."
    )
    session_minutes: SessionMinutes = Field(None, description="Override the plan's session length.")
    sessions_per_week: Annotated[
        float | None,
        Says("Give sessions per week as a number, like 2 or 1.5."),
        WithJsonSchema({"type": "number", "enum": list(plans.SESSIONS_PER_WEEK)}),
    ] = Field(None, description="Override the cadence.")
    total_sessions: TotalSessions = Field(None, description="Override the number of sessions.")
    plan_id: PlanId = Field(
        None, description="Book under this insurance plan (copays for covered sessions); self-pay without."
    )
    starts: Annotated[tuple[SessionTime, ...], _list(plans.MAX_TOTAL_SESSIONS, STARTS_MESSAGE, 1)] = Field(
        (),
        description="Each session's start (after taking alternatives); overrides the layout.",
        json_schema_extra={"minItems": 1, "maxItems": plans.MAX_TOTAL_SESSIONS},
    )

    @staticmethod
    def _placed(data: Mapping[str, Any]) -> Mapping[str, Any]:
        """A course placed on the calendar needs a first start or every start."""
        if data.get("first_start") is None and "starts" not in data:
            return {**data, "first_start": _UNPLACED}
        return data

    @property
    def first_session(self) -> datetime | None:
        return self.first_start or (self.starts[0] if self.starts else None)


class CourseRequest(_CourseFields):
    """What to book: the course placed by `first_start` (the plan's layout) or by every session's start."""

    model_config = _CourseFields.model_config | {
        "json_schema_extra": {"anyOf": [{"required": ["first_start"]}, {"required": ["starts"]}]}
    }

    @model_validator(mode="before")
    @classmethod
    def _must_be_placed(cls, data: Any) -> Any:
        return cls._placed(data) if isinstance(data, Mapping) else data


def _local_date(value: Any) -> date | None:
    return None if value is None else need(iso(date.fromisoformat, value, (10,)), DAY_MESSAGE)


def _weekday(value: Any) -> int:
    if isinstance(value, str) and value.strip().lower() in WEEKDAY_NAMES:
        return WEEKDAY_NAMES.index(value.strip().lower())
    raise invalid(WEEKDAY_MESSAGE)


def _window_object(value: Any) -> Any:
    if not isinstance(value, dict):
        raise invalid('Give a window as {"start": "09:00", "end": "12:00"}.')
    return value


Clock = Annotated[
    time,
    IfMissing(CLOCK_MESSAGE),
    *parsed(lambda v: need(iso(time.fromisoformat, v, (5,)), CLOCK_MESSAGE), CLOCK_SCHEMA),
]
LocalDay = Annotated[date | None, *parsed(_local_date, {"type": "string", "format": "date"})]


class TimeWindow(RequestModel):
    start: Clock
    end: Clock

    @field_validator("end")
    @classmethod
    def _after_the_start(cls, end: time, info: ValidationInfo) -> time:
        """A window that ends before it starts is the end's fault (the field a person changes)."""
        start = info.data.get("start")
        if start is not None and end <= start:
            raise invalid("The window must end after it starts.")
        return end


Weekday = Annotated[int, *parsed(_weekday, {"type": "string", "enum": list(WEEKDAY_NAMES)})]
Window = Annotated[TimeWindow, BeforeValidator(_window_object)]
_WISHES = ("earliest_start", "weekdays", "time_windows", "not_after", "count")


class CoursePlanRequest(_CourseFields):
    """What to plan. With `first_start` or `starts`: that course laid out and checked (the wishes are not
    read). Without: whole-course proposals shaped by the wishes."""

    first_start: FirstStart = Field(
        None, description="With it (or `starts`): preview that course. Without: proposals."
    )
    earliest_start: LocalDay = Field(
        None, description="Proposals: the first date to consider (practice's zone; today)."
    )
    weekdays: Annotated[
        tuple[Weekday, ...], _list(7, 'Give weekdays as a list of names, like ["monday", "wednesday"].')
    ] = Field((), description="Proposals: preferred weekdays.", json_schema_extra={"maxItems": 7})
    time_windows: Annotated[
        tuple[Window, ...],
        _list(MAX_WINDOWS, f'Give up to {MAX_WINDOWS} windows like [{{"start": "09:00", "end": "12:00"}}].'),
    ] = Field(
        (),
        description="Proposals: preferred local times of day (a session fits inside one).",
        json_schema_extra={"maxItems": MAX_WINDOWS},
    )
    not_after: LocalDay = Field(None, description="Proposals: no session after this date.")
    count: Annotated[
        int,
        at.Ge(course_patterns.MIN_COUNT),
        at.Le(course_patterns.MAX_COUNT),
        Says(f"Ask for {course_patterns.MIN_COUNT} to {course_patterns.MAX_COUNT} proposals."),
    ] = Field(DEFAULT_COUNT, description=f"Proposals wanted (default {DEFAULT_COUNT}).")

    @field_validator("not_after")
    @classmethod
    def _not_before_the_earliest(cls, last: date | None, info: ValidationInfo) -> date | None:
        earliest = info.data.get("earliest_start")
        if last is not None and earliest is not None and last < earliest:
            raise invalid("The last date must not be before the earliest start.")
        return last

    @model_validator(mode="before")
    @classmethod
    def _preview_or_proposals(cls, data: Any) -> Any:
        """A placed course is previewed as it is: the wishes are for proposals only, and are not read."""
        if not isinstance(data, Mapping) or not ("first_start" in data or "starts" in data):
            return data
        return {k: v for k, v in cls._placed(data).items() if k not in _WISHES}

    @property
    def placed(self) -> bool:
        return self.first_session is not None

    @property
    def windows(self) -> tuple[tuple[time, time], ...]:
        return tuple((w.start, w.end) for w in self.time_windows)


class CancelCourseRequest(RequestModel):
    """What to cancel; `{}` cancels every upcoming session."""

    appointment_ids: Annotated[list[int] | None, Says("Give the sessions to cancel as a list of ids.")] = (
        Field(None, description="Sessions to cancel; every upcoming one when left out.")
    )
    waive_late_fee: bool = Field(
        False, description="Therapist only: refund sessions inside the 24-hour notice too."
    )


PAYMENT_METHOD_MESSAGE = "Give a Stripe PaymentMethod id (pm_...); card details are never sent here."


def _payment_method(value: Any) -> str:
    """Anything but a PaymentMethod id is refused without being echoed back: a client that sends a card
    number here must not see it in an error."""
    if not isinstance(value, str) or len(value) > 255 or not re.fullmatch(r"pm_[A-Za-z0-9_]+", value):
        raise invalid(PAYMENT_METHOD_MESSAGE)
    return value


class PaymentRequest(RequestModel):
    payment_method: Annotated[
        str,
        IfMissing(PAYMENT_METHOD_MESSAGE),
        *parsed(
            _payment_method,
            {"type": "string", "pattern": r"^pm_[A-Za-z0-9_]+$", "minLength": 4, "maxLength": 255},
        ),
    ] = Field(description="A Stripe PaymentMethod id; card details are never sent here.")


class RescheduleRequest(RequestModel):
    start: SessionTime = Field(description="The new start, ISO 8601 with its offset.")


# --- a course as the API shows it ------------------------------------------------------------------------


class CourseTherapist(ResponseModel):
    id: int
    name: str


class CourseLocation(ResponseModel):
    id: int
    city: str
    state: str


class CitationLabel(ResponseModel):
    id: str
    label: str


class PlanWarning(ResponseModel):
    code: str
    fields: list[str]
    message: str


class CourseSession(ResponseModel):
    id: int
    number: int | None
    start: Timestamp
    end: Timestamp
    status: AppointmentStatus
    price_cents: int = Field(description="What this session costs the patient (a copay when covered).")


class PlanName(ResponseModel):
    id: int
    name: str


class CourseCoverage(ResponseModel):
    plan: PlanName
    outcome: Outcome
    covered_sessions: int = Field(description="The first sessions by number are covered.")
    copay_cents: int = Field(description="What each covered session costs the patient.")


class Refund(ResponseModel):
    """Money given back for cancelled sessions."""

    amount_cents: int
    status: str
    appointment_ids: list[int]
    waived_notice: bool = Field(description="The therapist waived the 24-hour notice.")
    reason: str
    created_at: Timestamp


class CoursePayment(ResponseModel):
    """Money in integer cents with its currency."""

    mode: PaymentMode
    currency: str
    session_price_cents: int
    price_cents: int
    paid_cents: int
    refunded_cents: int
    hold_expires_at: Timestamp | None = Field(description="While the times are held for payment.")
    error: str | None = Field(description="The processor's words for the last failed attempt.")
    refunds: list[Refund]


class Course(ResponseModel):
    """A course of care with every session."""

    id: int
    status: CourseStatus
    condition: str = Field(description="Condition id.")
    therapist: CourseTherapist
    location: CourseLocation
    time_zone: str
    session_minutes: int
    sessions_per_week: float | None
    total_sessions: int
    citation: CitationLabel
    warnings: list[PlanWarning] = Field(
        description="Where the course falls short of the evidence (booked anyway)."
    )
    session_notes: list[str] = Field(description="The precautions every session carries, one clause each.")
    clearance_needed: list[IntakeGate]
    sessions: list[CourseSession]
    coverage: CourseCoverage | None = Field(
        description="The insurance plan the course is booked under; null for self-pay."
    )
    payment: CoursePayment


class CourseList(ResponseModel):
    courses: list[Course]


class CourseCancellation(Course):
    """The course, what was cancelled and the refund."""

    cancelled: list[int] = Field(description="Ids of the sessions cancelled.")
    refund: Refund | None


class NextAction(ResponseModel):
    type: Literal["authenticate"]
    client_secret: str = Field(description="For Stripe.js to finish 3-D Secure.")


class PaymentStarted(Course):
    """The course, and what the patient's bank wants before it is paid."""

    next_action: NextAction


class CourseAppointment(ResponseModel):
    id: int
    number: int | None
    start: Timestamp
    end: Timestamp
    status: AppointmentStatus
    course_id: int | None


def citation_of(citation_id: str) -> CitationLabel:
    found = evidence.citation(citation_id)
    return CitationLabel(id=citation_id, label=found.short if found else citation_id)


def plan_name_of(plan: InsurancePlan) -> PlanName:
    return PlanName(id=plan.id, name=plan.full_name)


def coverage_of(course: CourseRow) -> CourseCoverage | None:
    """The plan a course is booked under and what it covers (None: self-pay). The covered sessions are the
    first `covered_sessions` by number; `copay_cents` is what each of them costs the patient."""
    if course.plan is None:
        return None
    outcome = Outcome.of(course.covered_sessions, course.total_sessions)
    return read(CourseCoverage, course, plan=plan_name_of(course.plan), outcome=outcome)


def refund_of(refund: CourseRefund) -> Refund:
    return read(Refund, refund, waived_notice=refund.waived)


def payment_of(course: CourseRow, refunds: list[CourseRefund]) -> CoursePayment:
    """Money in integer cents with its currency; `hold_expires_at` while the times are held for payment."""
    refunded = [refund_of(r) for r in refunds]
    return read(CoursePayment, course, mode=course.payment_mode, error=course.payment_error, refunds=refunded)


def _course_fields(
    course: CourseRow, sessions: list[Appointment], refunds: list[CourseRefund]
) -> dict[str, Any]:
    zone, place = ZoneInfo(course.location.time_zone), course.location
    return fields_of(
        Course,
        course,
        condition=course.condition_id,
        therapist=CourseTherapist(id=course.therapist_id, name=course.therapist.name),
        location=CourseLocation(id=course.location_id, city=place.city, state=place.state),
        time_zone=place.time_zone,
        citation=citation_of(course.citation_id),
        warnings=[PlanWarning(**w) for w in course.warnings],
        clearance_needed=[IntakeGate(**g) for g in course.clearance_needed],
        sessions=[
            read(
                CourseSession,
                a,
                number=a.session_number,
                **local_span(a, zone),
                price_cents=course.session_charge_cents(a.session_number),
            )
            for a in sessions
        ],
        coverage=coverage_of(course),
        payment=payment_of(course, refunds),
    )


def course_of(course: CourseRow, sessions: list[Appointment], refunds: list[CourseRefund]) -> Course:
    """The course with its sessions (in order) and its refunds (oldest first), as loaded by the caller."""
    return Course(**_course_fields(course, sessions, refunds))


def cancellation_of(
    course: CourseRow,
    sessions: list[Appointment],
    refunds: list[CourseRefund],
    cancelled: list[Appointment],
    refund: CourseRefund | None,
) -> CourseCancellation:
    return CourseCancellation(
        **_course_fields(course, sessions, refunds),
        cancelled=[a.id for a in cancelled],
        refund=refund_of(refund) if refund is not None else None,
    )


def payment_started_of(
    course: CourseRow, sessions: list[Appointment], refunds: list[CourseRefund], client_secret: str
) -> PaymentStarted:
    return PaymentStarted(
        **_course_fields(course, sessions, refunds),
        next_action=NextAction(type="authenticate", client_secret=client_secret),
    )


def appointment_of(appointment: Appointment) -> CourseAppointment:
    span = local_span(appointment, ZoneInfo(appointment.location.time_zone))
    return read(CourseAppointment, appointment, number=appointment.session_number, **span)


# --- a course previewed, and the planner's proposals -----------------------------------------------------


class PreviewPlan(ResponseModel):
    condition: str
    session_minutes: int
    sessions_per_week: float | None
    total_sessions: int
    weeks: int | None
    citation: CitationLabel
    warnings: list[PlanWarning]


class PreviewSession(ResponseModel):
    number: int
    start: Timestamp
    end: Timestamp
    free: bool
    alternatives: list[Timestamp] = Field(description="Nearest free starts when this one is not free.")


class PreviewGates(ResponseModel):
    requires_oncology_trained: bool
    therapist_oncology_trained: bool
    clearance_needed: list[IntakeGate]
    deferred: list[IntakeGate]


class PreviewCoverage(ResponseModel):
    """With `plan_id`: what the plan covers; null otherwise."""

    plan: PlanName
    outcome: Outcome
    covered_sessions: int
    copay_cents: int
    decision: EligibilityDecision = Field(description="The plan's decision, every reason cited.")


class PreviewPrice(ResponseModel):
    currency: str
    session_price_cents: int
    covered_sessions: int
    copay_cents: int
    price_cents: int = Field(description="What the whole course costs the patient.")


class CoursePreview(ResponseModel):
    """A course laid out and checked; nothing is written."""

    plan: PreviewPlan
    therapist: CourseTherapist
    time_zone: str
    sessions: list[PreviewSession]
    bookable: bool
    gates: PreviewGates
    session_notes: list[str] = Field(description="The precautions every session carries, one clause each.")
    coverage: PreviewCoverage | None
    price: PreviewPrice


def preview_plan_of(plan: plans.CoursePlan) -> PreviewPlan:
    citation, warnings = citation_of(plan.citation_id), [read(PlanWarning, w) for w in plan.warnings]
    return read(PreviewPlan, plan, condition=plan.condition_id, citation=citation, warnings=warnings)


def preview_sessions_of(sessions: list[plans.PlannedSession]) -> list[PreviewSession]:
    return [read(PreviewSession, s) for s in sessions]


class ProposedPlan(ResponseModel):
    condition: str
    session_minutes: int
    sessions_per_week: float | None
    total_sessions: int


class SearchedDates(ResponseModel, validate_by_name=True, serialize_by_alias=True):
    """The local dates searched (`from` is a Python keyword: the field is `from_`, its name `from`)."""

    from_: Date = Field(alias="from")
    to: Date


class ProposalPattern(ResponseModel):
    weekdays: list[str]
    every_other_week: list[str]
    time: str = Field(description="Local wall-clock start, HH:MM, the same across clock changes.")
    description: str


class SessionAlternative(ResponseModel):
    start: Timestamp
    end: Timestamp
    keeps_spacing: bool


class ProposedSession(ResponseModel):
    number: int
    start: Timestamp
    end: Timestamp
    free: bool
    holiday: str | None
    cause: str | None
    alternatives: list[SessionAlternative]


class ProposalHoliday(ResponseModel):
    date: Date
    name: str


class CourseProposal(ResponseModel):
    rank: int
    complete: bool
    pattern: ProposalPattern
    starts: list[Timestamp] = Field(description="Send these as `starts` to POST /api/v1/courses to book it.")
    sessions: list[ProposedSession]
    reasons: list[str]
    explanation: str
    holidays: list[ProposalHoliday]


class BlockedSessions(ResponseModel):
    kind: str
    sessions: list[int]
    weekday: str | None
    time: str | None
    until: Date | None
    message: str


class CourseProposals(ResponseModel):
    """Whole-course proposals; `partial` (and `blocked`) only when none fits."""

    plan: ProposedPlan
    therapist: CourseTherapist
    time_zone: str
    searched: SearchedDates
    proposals: list[CourseProposal] = Field(description="Whole courses, every session free, best first.")
    partial: CourseProposal | None
    blocked: list[BlockedSessions] = Field(
        description="When nothing whole fits: what blocks the partial proposal's missing sessions."
    )


class CoursePlan(RootModel[CoursePreview | CourseProposals]):
    """The preview (with `first_start` or `starts`), or whole-course proposals."""


def _proposal_of(proposal: course_patterns.Proposal) -> CourseProposal:
    pattern = proposal.pattern
    return read(
        CourseProposal,
        proposal,
        pattern=ProposalPattern(
            weekdays=[WEEKDAY_NAMES[d] for d in pattern.weekly],
            every_other_week=[WEEKDAY_NAMES[d] for d in pattern.alternate],
            time=f"{pattern.time:%H:%M}",
            description=pattern.describe(),
        ),
        starts=[s.start for s in proposal.sessions],
        sessions=[
            read(ProposedSession, s, alternatives=[read(SessionAlternative, a) for a in s.alternatives])
            for s in proposal.sessions
        ],
        holidays=[ProposalHoliday(date=d, name=name) for d, name in proposal.holidays],
    )


def proposals_of(
    therapist: TherapistProfile,
    location: PracticeLocation,
    plan: plans.CoursePlan,
    result: course_patterns.PlanResult,
) -> CourseProposals:
    return CourseProposals(
        plan=read(ProposedPlan, plan, condition=plan.condition_id),
        therapist=CourseTherapist(id=therapist.id, name=therapist.name),
        time_zone=location.time_zone,
        searched=SearchedDates(from_=result.first_day, to=result.last_day),
        proposals=[_proposal_of(p) for p in result.proposals],
        partial=_proposal_of(result.partial) if result.partial is not None else None,
        blocked=[
            read(
                BlockedSessions,
                b,
                weekday=WEEKDAY_NAMES[b.weekday] if b.weekday is not None else None,
                time=f"{b.time:%H:%M}" if b.time is not None else None,
                message=b.sentence(therapist.name),
            )
            for b in result.blocked
        ],
    )
