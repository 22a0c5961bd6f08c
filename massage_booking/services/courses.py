"""Courses of care: preview a plan as concrete sessions, then book every session in one transaction.

No double booking, by the database rather than by luck (DESIGN.md, "Known traps"):
- Booking first takes the therapist's booking lock: an UPDATE of their `bookings_version`, the first write
  of the transaction. PostgreSQL holds that row lock until commit; SQLite holds its single write lock, and
  its other writers wait (busy_timeout). Only then are existing bookings read and the sessions checked,
  so two bookers cannot both see the same time as free (check-then-insert is safe inside the lock).
- On PostgreSQL an exclusion constraint (`appointments_no_overlap`, migrations 0005) is the backstop: two
  occupying appointments of one therapist can never overlap, whatever code wrote them.
- Every session is checked before any is written, and they are written in the same transaction: a course
  with one impossible session books nothing (409 with the conflicts and their nearest free alternatives).
"""

from __future__ import annotations

import contextlib
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, selectinload

from massage_booking.domain import billing, course_patterns, eligibility, evidence, scheduling
from massage_booking.domain import courses as plans
from massage_booking.domain.errors import Conflict, DomainError, Forbidden, NotFound, ValidationFailed
from massage_booking.domain.intake import IntakeDecision
from massage_booking.models import (
    Appointment,
    AppointmentStatus,
    Course,
    CourseRefund,
    CourseStatus,
    InsurancePlan,
    Intake,
    PaymentMode,
    PracticeLocation,
    Role,
    TherapistProfile,
    User,
)
from massage_booking.notifications import outbox as notify
from massage_booking.notifications.links import Links
from massage_booking.payments import PaymentError, StripePayments
from massage_booking.schemas import courses as bodies
from massage_booking.services import audit, coverage, holds, locks, refunds, slots, soonest_cache
from massage_booking.services import intake as intakes


class BookingDeferred(DomainError):
    """The intake says not to book now (fever, signs of an undiagnosed clot)."""

    code = "booking_deferred"
    status = 422


class OncologyTrainingRequired(DomainError):
    """The patient needs an oncology-trained therapist and this one holds no verified, current credential."""

    code = "oncology_training_required"
    status = 422


class SessionsConflict(Conflict):
    """Some sessions cannot be booked as laid out; `details["conflicts"]` lists them with alternatives."""

    code = "sessions_conflict"


@dataclass(frozen=True)
class CourseRequest:
    intake_id: int
    therapist_id: int
    first_start: datetime | None
    session_minutes: int | None = None
    sessions_per_week: float | None = None
    total_sessions: int | None = None
    # Each session's start, when the patient has moved some to alternatives; overrides the layout.
    starts: tuple[datetime, ...] | None = None
    # The insurance plan to book under (services/coverage.py); None: self-pay.
    plan_id: int | None = None


def request_of(body: bodies.CourseRequest | bodies.CoursePlanRequest) -> CourseRequest:
    """The course a request body describes (POST /api/v1/courses[/plan], and the wizard's pages, which
    build the same body), already checked field by field (schemas/courses.py)."""
    return CourseRequest(
        intake_id=body.intake_id,
        therapist_id=body.therapist_id,
        first_start=body.first_session,
        session_minutes=body.session_minutes,
        sessions_per_week=body.sessions_per_week,
        total_sessions=body.total_sessions,
        starts=body.starts or None,
        plan_id=body.plan_id,
    )


@dataclass(frozen=True)
class CoursePreview:
    """A course as it would be booked now: the plan, each session checked, the intake's gates, and with an
    insurance plan chosen, that plan's decision (None while a gate stops the booking) and the prices that
    follow from it."""

    intake: Intake
    decision: IntakeDecision
    therapist: TherapistProfile
    location: PracticeLocation
    plan: plans.CoursePlan
    sessions: list[plans.PlannedSession]
    session_cents: int = 0  # the full (self-pay) price of one session
    insurance_plan: InsurancePlan | None = None
    coverage: eligibility.Decision | None = None

    @property
    def conflicts(self) -> list[plans.PlannedSession]:
        return [s for s in self.sessions if not s.free]

    @property
    def covered_sessions(self) -> int:
        return self.coverage.covered_sessions if self.coverage is not None else 0

    @property
    def copay_cents(self) -> int:
        """What each covered session costs: the plan's copay (never more than the full price)."""
        if self.coverage is None or not self.coverage.covered_sessions:
            return 0
        return billing.covered_charge_cents(self.session_cents, self.coverage.copay_cents)

    @property
    def price_cents(self) -> int:
        """The course's price as it would be booked now: under the plan if it covers any session."""
        return billing.course_price_cents(
            self.session_cents,
            len(self.sessions),
            covered_sessions=self.covered_sessions,
            copay_cents=self.copay_cents,
        )

    @property
    def self_pay_cents(self) -> int:
        return billing.course_price_cents(self.session_cents, len(self.sessions))


def _therapist(session: Session, therapist_id: int) -> TherapistProfile:
    found = session.scalar(
        select(TherapistProfile)
        .where(TherapistProfile.id == therapist_id)
        .options(selectinload(TherapistProfile.locations), selectinload(TherapistProfile.credentials))
    )
    if found is None or not found.locations:
        raise NotFound("No bookable therapist has that id.")
    return found


def plan_for(
    session: Session, intake_row: Intake, wanted: CourseRequest, therapist: TherapistProfile
) -> plans.CoursePlan:
    """The course's plan: the intake's condition's cited plan, with the patient's changes, in a session
    length the therapist offers (the slots endpoint already refused others; booking must too)."""
    condition = evidence.condition(intake_row.condition_id)
    if condition is None:  # the registry dropped a condition an old intake named
        raise ValidationFailed.for_field(
            "intake_id", "This intake's condition is no longer listed; fill in a new one."
        )
    plan = plans.custom_plan(
        condition,
        session_minutes=wanted.session_minutes,
        sessions_per_week=wanted.sessions_per_week,
        total_sessions=wanted.total_sessions,
    )
    offered = sorted(slots.settings_for(session, therapist.id).session_lengths)
    if plan.session_minutes not in offered:
        raise ValidationFailed(
            f"{therapist.name} offers sessions of {_minutes_listing(offered)} minutes; "
            f"choose one of those lengths instead of {plan.session_minutes}.",
            {
                "fields": {"session_minutes": [f"Choose {_minutes_listing(offered, 'or')} minutes."]},
                "offered": offered,
            },
        )
    return plan


def _minutes_listing(values: Sequence[int], last: str = "and") -> str:
    words = [str(v) for v in values]
    return words[0] if len(words) == 1 else f"{', '.join(words[:-1])} {last} {words[-1]}"


def _layout(plan: plans.CoursePlan, wanted: CourseRequest, zone: str) -> list[tuple[datetime, datetime]]:
    tz = ZoneInfo(zone)
    if wanted.starts is not None:
        if len(wanted.starts) != plan.total_sessions:
            raise ValidationFailed.for_field(
                "starts", f"Give one start for each of the {plan.total_sessions} sessions."
            )
        # Added up in UTC: a zoned datetime adds by wall clock, which is wrong across a DST change.
        instants = sorted(s.astimezone(UTC) for s in wanted.starts)
        return [(s.astimezone(tz), (s + plan.duration).astimezone(tz)) for s in instants]
    assert wanted.first_start is not None
    return plans.lay_out(plan, wanted.first_start.astimezone(tz), zone)


def _check(
    session: Session,
    therapist: TherapistProfile,
    location: PracticeLocation,
    sessions: Sequence[tuple[datetime, datetime]],
    now: datetime,
) -> list[plans.PlannedSession]:
    start = min(s for s, _ in sessions) - timedelta(days=8)
    end = max(e for _, e in sessions) + timedelta(days=8)
    calendar = slots.load_calendar(session, therapist.id, start, end, now)
    rules = calendar.rules[location.id]
    return plans.check_sessions(
        sessions, rules, now=now, time_off=calendar.time_off, bookings=calendar.bookings
    )


def _require_patient(actor: User) -> None:
    if actor.role is not Role.PATIENT:
        raise Forbidden("Only patients book courses.")


def _coverage(
    session: Session,
    actor: User,
    insurance: InsurancePlan,
    therapist: TherapistProfile,
    plan: plans.CoursePlan,
    sessions: Sequence[tuple[datetime, datetime]],
    location: PracticeLocation,
    intake_row: Intake,
    now: datetime,
    course: Course | None = None,
) -> eligibility.Decision:
    """The plan's decision on this course, as the preview shows it and as booking prices it."""
    return coverage.coverage_for(
        session,
        actor,
        insurance.id,
        therapist,
        plan,
        _first_day(sessions, location),
        intake_row.referral_date,
        now,
        course=course,
    )


def preview_course(session: Session, actor: User, wanted: CourseRequest, now: datetime) -> CoursePreview:
    """What booking would do, without writing anything but the audit record of the intake read and, with
    an insurance plan chosen, the record of the patient's coverage check (services/coverage.py)."""
    _require_patient(actor)
    intake_row = intakes.read_intake(session, actor, wanted.intake_id, purpose="plan")
    therapist = _therapist(session, wanted.therapist_id)
    insurance = coverage.find_plan(session, wanted.plan_id) if wanted.plan_id is not None else None
    location = therapist.locations[0]
    plan = plan_for(session, intake_row, wanted, therapist)
    sessions = _layout(plan, wanted, location.time_zone)
    decision = intakes.decision_of(intake_row, now.date())
    gated = not decision.can_book or (
        decision.requires_oncology_trained and not therapist.active_oncology_credentials(now.date())
    )
    covered = None
    if insurance is not None and not gated:
        covered = _coverage(session, actor, insurance, therapist, plan, sessions, location, intake_row, now)
    return CoursePreview(
        intake=intake_row,
        decision=decision,
        therapist=therapist,
        location=location,
        plan=plan,
        sessions=_check(session, therapist, location, sessions, now),
        session_cents=billing.session_price_cents(therapist.session_rate_cents, plan.session_minutes),
        insurance_plan=insurance,
        coverage=covered,
    )


def _first_day(sessions: Sequence[tuple[datetime, datetime]], location: PracticeLocation) -> date:
    """The local date of the course's first session at the practice: the date of service."""
    return min(start for start, _ in sessions).astimezone(ZoneInfo(location.time_zone)).date()


def suggest_oncology_trained(
    session: Session, therapist: TherapistProfile, today: date
) -> list[TherapistProfile]:
    """Oncology-trained therapists near this one, nearest first: what to offer instead."""
    from massage_booking import geocoding
    from massage_booking.services import search

    location = therapist.locations[0]
    origin = geocoding.Place(
        latitude=location.latitude,
        longitude=location.longitude,
        label=f"{location.city}, {location.state}",
        precision=location.geocode_precision,
        time_zone=location.time_zone,
    )
    results = search.search_therapists(
        session,
        search.SearchQuery(
            origin=origin, radius=50, unit="mi", today=today, oncology_trained=True, per_page=6
        ),
    )
    ids = [hit.therapist.id for hit in results.hits if hit.therapist.id != therapist.id][:5]
    found = {p.id: p for p in session.scalars(select(TherapistProfile).where(TherapistProfile.id.in_(ids)))}
    return [found[i] for i in ids if i in found]


@dataclass(frozen=True)
class TherapistChoice:
    """An intake and a therapist that passed the booking gates: nothing deferred, training where needed."""

    intake: Intake
    decision: IntakeDecision
    therapist: TherapistProfile


def choose_therapist(
    session: Session, actor: User, intake_id: int, therapist_id: int, now: datetime, *, purpose: str = "plan"
) -> TherapistChoice:
    """Apply the intake's gates to one therapist before any time is picked, so the booking wizard can
    say "not now" or "not this therapist" at once rather than after the patient has chosen a time.
    Raises BookingDeferred or OncologyTrainingRequired (with nearby trained therapists as suggestions);
    book_course applies the very same gates again at the moment of booking."""
    _require_patient(actor)
    intake_row = intakes.read_intake(session, actor, intake_id, purpose=purpose)
    decision = intakes.decision_of(intake_row, now.date())
    if decision.deferred:
        raise BookingDeferred(
            " ".join(g.message for g in decision.deferred),
            {"deferred": [{"code": g.code, "message": g.message} for g in decision.deferred]},
        )
    therapist = _therapist(session, therapist_id)
    if decision.requires_oncology_trained and not therapist.active_oncology_credentials(now.date()):
        suggestions = suggest_oncology_trained(session, therapist, now.date())
        raise OncologyTrainingRequired(
            f"{therapist.name} has no verified, current oncology massage training. Because of your cancer "
            "history, book a therapist who has; these are nearby.",
            {"suggestions": [{"id": p.id, "name": p.name} for p in suggestions]},
        )
    return TherapistChoice(intake_row, decision, therapist)


def book_course(
    session: Session,
    actor: User,
    wanted: CourseRequest,
    now: datetime,
    *,
    links: Links,
    hold: timedelta | None = None,
) -> Course:
    """Book the whole course or nothing. Raises BookingDeferred, OncologyTrainingRequired (with
    suggestions), ValidationFailed, or SessionsConflict (with each conflict's alternatives).

    With `hold` (card payments on), the course is PENDING_PAYMENT and its sessions are held for that long
    (services/holds.py); without, it is booked and paid at the visit. Its price is fixed now, either way.

    With `wanted.plan_id` the plan's decision is taken again now (services/coverage.py, recorded with the
    course) and prices the course: the copay for each covered session, the full price for the rest. A plan
    that covers none of it raises coverage.PlanNotCovered (422, field `plan_id`), and nothing is booked."""
    choice = choose_therapist(session, actor, wanted.intake_id, wanted.therapist_id, now, purpose="book")
    intake_row, decision, therapist = choice.intake, choice.decision, choice.therapist
    insurance = coverage.find_plan(session, wanted.plan_id) if wanted.plan_id is not None else None
    location = therapist.locations[0]
    plan = plan_for(session, intake_row, wanted, therapist)
    sessions = _layout(plan, wanted, location.time_zone)

    locks.lock_therapist_bookings(session, therapist.id)
    holds.release_expired(session, therapist.id, now)
    checked = _check(session, therapist, location, sessions, now)
    conflicts = [s for s in checked if not s.free]
    if conflicts:
        raise SessionsConflict(
            f"{len(conflicts)} of the {len(checked)} sessions cannot be booked at those times; "
            "nothing was booked.",
            {"conflicts": [conflict_details(s) for s in conflicts]},
        )
    each = billing.session_price_cents(therapist.session_rate_cents, plan.session_minutes)
    course = Course(
        patient_id=actor.id,
        therapist_id=therapist.id,
        location_id=location.id,
        intake_id=intake_row.id,
        condition_id=plan.condition_id,
        session_minutes=plan.session_minutes,
        sessions_per_week=plan.sessions_per_week,
        total_sessions=plan.total_sessions,
        citation_id=plan.citation_id,
        warnings=[{"code": w.code, "fields": list(w.fields), "message": w.message} for w in plan.warnings],
        session_notes=list(decision.session_notes),
        clearance_needed=[{"code": g.code, "message": g.message} for g in decision.clearance_needed],
        session_price_cents=each,
        covered_sessions=0,
        copay_cents=0,
        currency=therapist.currency.lower(),
    )
    session.add(course)
    session.flush()
    if insurance is not None:  # decided now, under the booking lock, and priced by that decision
        covered = _coverage(
            session, actor, insurance, therapist, plan, sessions, location, intake_row, now, course=course
        )
        coverage.require_covered(insurance, covered)
        course.plan_id = insurance.id
        course.covered_sessions = covered.covered_sessions
        course.copay_cents = billing.covered_charge_cents(each, covered.copay_cents)
    course.price_cents = billing.course_price_cents(
        each, plan.total_sessions, covered_sessions=course.covered_sessions, copay_cents=course.copay_cents
    )
    appointments = [
        Appointment(
            therapist_id=therapist.id,
            location_id=location.id,
            patient_id=actor.id,
            course_id=course.id,
            session_number=s.number,
            starts_at=s.start,
            ends_at=s.end,
        )
        for s in checked
    ]
    if hold is not None and course.price_cents >= billing.MIN_CARD_CHARGE_CENTS:
        course.payment_mode = PaymentMode.CARD
        holds.hold_sessions(course, appointments, now, hold)
    session.add_all(appointments)
    try:
        with session.begin_nested():
            session.flush()
    except IntegrityError as error:  # PostgreSQL's exclusion constraint: a writer that skipped the lock
        raise SessionsConflict("Another booking took one of these times; nothing was booked.") from error
    soonest_cache.refresh_next_available(session, therapist.id, now)
    if course.status is CourseStatus.BOOKED:  # a held course is announced when paid (course_payments)
        notify.course_booked(session, course, now, links)
    audit.record(
        session,
        actor,
        "course.booked",
        "course",
        course.id,
        sessions=len(checked),
        plan_id=course.plan_id,
        covered_sessions=course.covered_sessions,
    )
    return course


def conflict_details(planned: plans.PlannedSession) -> dict[str, Any]:
    """One session that cannot be booked, as SessionsConflict's details list it (with its alternatives)."""
    return {
        "number": planned.number,
        "start": planned.start.isoformat(),
        "end": planned.end.isoformat(),
        "alternatives": [a.isoformat() for a in planned.alternatives],
    }


# --- reading and cancelling -----------------------------------------------------------------------------


def get_course(session: Session, actor: User, course_id: int) -> Course:
    """The actor's own course (the patient's, or the therapist's); anyone else: not found, audited."""
    course = session.scalar(
        select(Course)
        .where(Course.id == course_id)
        .options(selectinload(Course.therapist), selectinload(Course.location))
    )
    allowed = course is not None and (
        course.patient_id == actor.id
        or (actor.role is Role.THERAPIST and course.therapist.user_id == actor.id)
    )
    if not allowed:
        audit.record(session, actor, "course.read_denied", "course", course_id)
        raise NotFound("You have no course with that id.")
    assert course is not None
    audit.record(session, actor, "course.read", "course", course.id)
    return course


def sessions_of(session: Session, course: Course) -> list[Appointment]:
    return list(
        session.scalars(
            select(Appointment).where(Appointment.course_id == course.id).order_by(Appointment.session_number)
        )
    )


@dataclass(frozen=True)
class CourseRecord:
    """A course with its sessions (by number) and its refunds (oldest first): what its pages and the API
    show of it."""

    course: Course
    sessions: list[Appointment]
    refunds: list[CourseRefund]


def records_of(session: Session, found: Sequence[Course]) -> list[CourseRecord]:
    """Each course's record in two queries, however many courses there are (a query per course made a
    patient's list slower with every course booked)."""
    ids = [c.id for c in found]
    sessions: dict[int, list[Appointment]] = {i: [] for i in ids}
    given_back: dict[int, list[CourseRefund]] = {i: [] for i in ids}
    if ids:
        for appointment in session.scalars(
            select(Appointment)
            .where(Appointment.course_id.in_(ids))
            .order_by(Appointment.course_id, Appointment.session_number)
        ):
            sessions[appointment.course_id].append(appointment)  # type: ignore[index]  # in `ids`
        for refund in session.scalars(
            select(CourseRefund)
            .where(CourseRefund.course_id.in_(ids))
            .order_by(CourseRefund.created_at, CourseRefund.id)
        ):
            given_back[refund.course_id].append(refund)
    return [CourseRecord(c, sessions[c.id], given_back[c.id]) for c in found]


def record_of(session: Session, course: Course) -> CourseRecord:
    return records_of(session, [course])[0]


def my_courses(session: Session, actor: User) -> list[Course]:
    """The patient's courses, newest first, with what their records show loaded in the same few queries."""
    _require_patient(actor)
    found = list(
        session.scalars(
            select(Course)
            .where(Course.patient_id == actor.id)
            .options(
                selectinload(Course.therapist),
                selectinload(Course.location),
                selectinload(Course.plan).selectinload(InsurancePlan.payer),
            )
            .order_by(Course.created_at.desc(), Course.id.desc())
        )
    )
    audit.record(session, actor, "course.listed", "patient", actor.id, count=len(found))
    return found


CANCEL_NOTICE = timedelta(hours=24)


@dataclass(frozen=True)
class Cancellation:
    """The sessions cancelled, and the refund made for them (None when nothing was owed)."""

    appointments: list[Appointment]
    refund: CourseRefund | None


def cancel_appointments(
    session: Session,
    actor: User,
    course: Course,
    appointment_ids: Sequence[int] | None,
    now: datetime,
    payments: StripePayments,
    *,
    links: Links,
    waive_notice: bool = False,
) -> Cancellation:
    """Cancel some sessions of the actor's course (None: every future one). Within CANCEL_NOTICE of a
    session only the therapist may cancel it (the policy patients agree to when booking).

    A paid course gets exactly the cancelled sessions' price back (services/refunds.py): those at least 24
    hours away, or every one when the therapist waives the notice. A course still waiting for payment can
    only be given up whole: its held times are released and its PaymentIntent cancelled."""
    is_therapist = actor.role is Role.THERAPIST
    if waive_notice and not is_therapist:
        raise Forbidden("Only the therapist can waive the 24-hour notice.")
    # Decided from what the course is under its lock: a payment may have landed since it was read.
    course = locks.lock_course(session, course.id)
    if course.status is CourseStatus.PENDING_PAYMENT:
        return _give_up_unpaid(session, actor, course, appointment_ids, now, payments)
    booked = [
        a for a in sessions_of(session, course) if a.status is AppointmentStatus.BOOKED and a.starts_at > now
    ]
    chosen = booked if appointment_ids is None else [a for a in booked if a.id in set(appointment_ids)]
    if appointment_ids is not None and len(chosen) != len(set(appointment_ids)):
        raise NotFound("Some of those sessions are not upcoming sessions of this course.")
    late = [a for a in chosen if a.starts_at - now < CANCEL_NOTICE]
    if late and not is_therapist:
        raise ValidationFailed(
            "Sessions less than 24 hours away can only be cancelled by your therapist; please contact them.",
            {"late": [a.id for a in late]},
        )
    for appointment in chosen:
        appointment.status = AppointmentStatus.CANCELLED
    statuses = {a.status for a in sessions_of(session, course)}
    if statuses == {AppointmentStatus.CANCELLED}:  # nothing left and nothing was held: the course is off
        course.status = CourseStatus.CANCELLED
    session.flush()
    refund = refunds.refund_cancelled(session, actor, course, chosen, now, payments, waived=waive_notice)
    notify.sessions_cancelled(session, course, chosen, refund, now, links)
    soonest_cache.refresh_next_available(session, course.therapist_id, now)
    audit.record(session, actor, "course.sessions_cancelled", "course", course.id, count=len(chosen))
    return Cancellation(chosen, refund)


def _give_up_unpaid(
    session: Session,
    actor: User,
    course: Course,
    appointment_ids: Sequence[int] | None,
    now: datetime,
    payments: StripePayments,
) -> Cancellation:
    held = [a for a in sessions_of(session, course) if a.status is AppointmentStatus.PENDING_PAYMENT]
    if appointment_ids is not None and set(appointment_ids) != {a.id for a in held}:
        raise ValidationFailed(
            "This course is not paid yet: pay for it first, or cancel the whole booking to release its times."
        )
    for appointment in held:
        appointment.status = AppointmentStatus.CANCELLED
    course.status = CourseStatus.CANCELLED
    course.hold_expires_at = None
    session.flush()
    if course.payment_intent_id and payments.enabled:
        # A payment that succeeds anyway is refunded whole when it is reported (course_payments).
        with contextlib.suppress(PaymentError):
            payments.cancel_payment_intent(course.payment_intent_id)
    soonest_cache.refresh_next_available(session, course.therapist_id, now)
    audit.record(session, actor, "course.cancelled_unpaid", "course", course.id, count=len(held))
    return Cancellation(held, None)


def late_sessions(appointments: Sequence[Appointment], now: datetime) -> set[int]:
    """Ids of the upcoming booked sessions a patient can no longer cancel or move (within CANCEL_NOTICE):
    pages show "contact your therapist" for them instead of the buttons that would be refused."""
    return {
        a.id
        for a in appointments
        if a.status is AppointmentStatus.BOOKED and now < a.starts_at and a.starts_at - now < CANCEL_NOTICE
    }


# --- one session: read, cancel, move ----------------------------------------------------------------------

APPOINTMENT_NOT_FOUND = "You have no session with that id."


def get_appointment(
    session: Session, actor: User, appointment_id: int, *, purpose: str = "view"
) -> Appointment:
    """The actor's own session (the patient's, or the therapist's); anyone else: not found, audited,
    because who is booked with whom is health information (it says a person receives care)."""
    found = session.scalar(
        select(Appointment)
        .where(Appointment.id == appointment_id)
        .options(
            selectinload(Appointment.therapist),
            selectinload(Appointment.location),
            selectinload(Appointment.course),
        )
    )
    allowed = found is not None and (
        found.patient_id == actor.id or (actor.role is Role.THERAPIST and found.therapist.user_id == actor.id)
    )
    if not allowed:
        audit.record(
            session, actor, "appointment.read_denied", "appointment", appointment_id, purpose=purpose
        )
        raise NotFound(APPOINTMENT_NOT_FOUND)
    assert found is not None
    audit.record(session, actor, "appointment.read", "appointment", found.id, purpose=purpose)
    return found


def _require_changeable(appointment: Appointment, actor: User, now: datetime, verb: str) -> None:
    """Only an upcoming booked session can change; a patient's must be CANCEL_NOTICE or more ahead
    (the policy they agree to when booking), while the therapist may still change a later one."""
    if appointment.status is not AppointmentStatus.BOOKED:
        raise ValidationFailed(
            f"This session is {appointment.status.value.replace('_', ' ')}; it cannot be {verb}."
        )
    if appointment.starts_at <= now:
        raise ValidationFailed(f"This session has already started; it cannot be {verb}.")
    if actor.role is not Role.THERAPIST and appointment.starts_at - now < CANCEL_NOTICE:
        raise ValidationFailed(
            f"Sessions less than 24 hours away can only be {verb} by your therapist; please contact them.",
            {"late": [appointment.id]},
        )


def cancel_appointment(
    session: Session,
    actor: User,
    appointment_id: int,
    now: datetime,
    payments: StripePayments,
    *,
    links: Links,
) -> Appointment:
    """Cancel one of the actor's sessions within policy (see cancel_appointments for a course's)."""
    appointment = get_appointment(session, actor, appointment_id, purpose="cancel")
    _require_changeable(appointment, actor, now, "cancelled")
    if appointment.course is not None:
        cancel_appointments(session, actor, appointment.course, [appointment.id], now, payments, links=links)
        return appointment
    appointment.status = AppointmentStatus.CANCELLED
    session.flush()
    soonest_cache.refresh_next_available(session, appointment.therapist_id, now)
    audit.record(session, actor, "appointment.cancelled", "appointment", appointment.id)
    return appointment


def _calendar_without(
    session: Session, appointment: Appointment, start: datetime, end: datetime, now: datetime
) -> tuple[scheduling.Rules, list[scheduling.Busy], list[scheduling.Busy]]:
    """(rules, time off, bookings) of the session's practice around [start, end), without the session
    itself: a session may move into time its own old slot (and buffers) would otherwise block."""
    calendar = slots.load_calendar(session, appointment.therapist_id, start, end, now)
    rules = calendar.rules.get(appointment.location_id) or next(iter(calendar.rules.values()))
    own = (appointment.starts_at, appointment.ends_at)
    bookings = [b for b in calendar.bookings if (b.start, b.end) != own]
    return rules, list(calendar.time_off), bookings


@dataclass(frozen=True)
class RescheduleOptions:
    """Where one session can move: its free starts for its length over one local week (Monday to Sunday)
    in the practice's zone, and which weeks a page may offer next."""

    appointment: Appointment
    zone: ZoneInfo
    late: bool  # within CANCEL_NOTICE for a patient: only the therapist can move it now
    monday: date
    starts: list[datetime]
    # Up to three of `starts` that keep the course's rhythm (domain/course_patterns.rhythm_suggestions).
    suggested: list[datetime]
    earlier: date | None  # the Monday before, when that week is not wholly past
    later: date | None  # the Monday after, when it is inside the booking horizon


def reschedule_options(
    session: Session, actor: User, appointment_id: int, monday: date | None, now: datetime
) -> RescheduleOptions:
    """The free starts a session could move to in the week of `monday` (default: the session's own week),
    its own time left out. A session that cannot move (not booked, or past) raises ValidationFailed; one
    too close for a patient comes back `late`, so the page can say whom to contact instead."""
    appointment = get_appointment(session, actor, appointment_id, purpose="reschedule")
    zone = ZoneInfo(appointment.location.time_zone)
    own_day = appointment.starts_at.astimezone(zone).date()
    first = monday or own_day
    first -= timedelta(days=first.weekday())
    this_monday = now.astimezone(zone).date() - timedelta(days=now.astimezone(zone).weekday())
    first = max(first, this_monday)
    late = actor.role is not Role.THERAPIST and appointment.id in late_sessions([appointment], now)
    if late:
        return RescheduleOptions(appointment, zone, True, first, [], [], None, None)
    _require_changeable(appointment, actor, now, "moved")
    start = datetime.combine(first, datetime.min.time(), zone)
    end = datetime.combine(first + timedelta(days=7), datetime.min.time(), zone)
    rules, time_off, bookings = _calendar_without(session, appointment, start, end, now)
    slots = scheduling.free_slots(
        rules,
        duration=appointment.ends_at - appointment.starts_at,
        now=now,
        start=start,
        end=end,
        time_off=time_off,
        bookings=bookings,
    )
    horizon_end = (now + rules.horizon).astimezone(zone).date()
    starts = [s.astimezone(zone) for s in slots if s != appointment.starts_at]
    others = [
        a.starts_at
        for a in (sessions_of(session, appointment.course) if appointment.course is not None else [])
        if a.id != appointment.id and a.status is AppointmentStatus.BOOKED
    ]
    suggested = (
        course_patterns.rhythm_suggestions(appointment.starts_at, starts, others, zone) if others else []
    )
    return RescheduleOptions(
        appointment,
        zone,
        False,
        first,
        starts,
        suggested,
        first - timedelta(days=7) if first > this_monday else None,
        first + timedelta(days=7) if first + timedelta(days=7) <= horizon_end else None,
    )


def reschedule_appointment(
    session: Session, actor: User, appointment_id: int, new_start: datetime, now: datetime, *, links: Links
) -> Appointment:
    """Move one of the actor's booked sessions to `new_start`, keeping its length.

    Patients may move a session only CANCEL_NOTICE or more ahead; its therapist may move later ones.
    The new start must be a free slot now: the therapist's booking lock is taken first (as for booking),
    then the time is checked against hours, notice, time off and every other booking with its buffers,
    with the moved session itself left out. A taken time raises SessionsConflict with the nearest free
    alternatives, and nothing changes."""
    appointment = get_appointment(session, actor, appointment_id, purpose="reschedule")
    _require_changeable(appointment, actor, now, "moved")
    if new_start.tzinfo is None or new_start.utcoffset() is None:
        raise ValidationFailed.for_field("start", "Give the new time with its UTC offset.")
    if new_start == appointment.starts_at:
        raise ValidationFailed.for_field("start", "That is the session's current time; choose another.")
    duration = appointment.ends_at - appointment.starts_at
    zone = ZoneInfo(appointment.location.time_zone)
    wanted = new_start.astimezone(zone)

    locks.lock_therapist_bookings(session, appointment.therapist_id)
    window = timedelta(days=8)
    rules, time_off, bookings = _calendar_without(session, appointment, wanted - window, wanted + window, now)
    [checked] = plans.check_sessions(
        [(wanted, wanted + duration)], rules, now=now, time_off=time_off, bookings=bookings
    )
    if not checked.free:
        raise SessionsConflict(
            "That time is not free (outside the therapist's hours, too soon, or taken); nothing was changed.",
            {"conflicts": [conflict_details(checked)]},
        )
    old_start = appointment.starts_at
    appointment.starts_at, appointment.ends_at = wanted, wanted + duration
    try:
        with session.begin_nested():
            session.flush()
    except IntegrityError as error:  # PostgreSQL's exclusion constraint: a writer that skipped the lock
        raise SessionsConflict("Another booking took that time; nothing was changed.") from error
    soonest_cache.refresh_next_available(session, appointment.therapist_id, now)
    notify.session_rescheduled(session, appointment, old_start, now, links)
    audit.record(
        session,
        actor,
        "appointment.rescheduled",
        "appointment",
        appointment.id,
        course_id=appointment.course_id,
        moved_from=old_start.astimezone(UTC).isoformat(),
    )
    return appointment
