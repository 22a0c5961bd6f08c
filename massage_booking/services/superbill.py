"""A superbill for a course of care: what a patient sends an insurer to be reimbursed.

It names the provider (license, NPI, practice address), the patient, the diagnosis (the course's condition
with its ICD-10-CM codes from the evidence registry), one service line per session the therapist marked
attended (CPT 97124, units by the CMS 8-minute rule, the course's per-session charge), and what was paid and
refunded. Sessions not yet attended are counted, never billed. Money stays in integer cents; dates are the
practice's local dates, since that is the date of service an insurer expects.

Reading one is reading the course: only its patient or its therapist may (`courses.get_course`, audited,
NotFound for anyone else), and the superbill view is recorded as an audit event of its own.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from zoneinfo import ZoneInfo

from sqlalchemy.orm import Session

from massage_booking import calendars
from massage_booking.domain import billing, evidence
from massage_booking.models import AppointmentStatus, CourseRefund, PaymentMode, User
from massage_booking.services import audit, courses, refunds

# CMS place-of-service code 11, "Office": the therapist's own practice, where every course is booked
# (reference/evidence.md §4.3: claims use POS 11, 12 or 22).
PLACE_OF_SERVICE_CODE = "11"
PLACE_OF_SERVICE_NAME = "Office"
# Sessions that will still happen (or are waiting for the therapist to mark them), and so are not billed yet.
_NOT_YET_ATTENDED = (AppointmentStatus.BOOKED, AppointmentStatus.PENDING_PAYMENT)


@dataclass(frozen=True)
class Provider:
    name: str
    credentials_suffix: str
    license_number: str
    license_state: str
    npi: str | None
    address: str
    time_zone: str

    @property
    def display_name(self) -> str:
        """ "Dana Reyes, LMT" as the provider signs."""
        return f"{self.name}, {self.credentials_suffix}" if self.credentials_suffix else self.name


@dataclass(frozen=True)
class Patient:
    name: str
    email: str


@dataclass(frozen=True)
class Diagnosis:
    condition_id: str
    name: str
    icd10_codes: tuple[str, ...]
    # How to choose among several codes (e.g. right or left knee), from the registry; None with one code.
    coding_note: str | None


@dataclass(frozen=True)
class ServiceLine:
    """One attended session, as a line of a CMS-1500 would carry it."""

    appointment_id: int
    session_number: int | None
    service_date: date  # in the practice's time zone
    place_of_service_code: str
    place_of_service_name: str
    address: str
    cpt: str
    minutes: int
    units: int
    charge_cents: int


@dataclass(frozen=True)
class RefundLine:
    amount_cents: int
    currency: str  # the refund's own: a payment in another currency is refunded in that one
    refunded_on: date  # in the practice's time zone
    reason: str  # "cancelled", "late_payment", "duplicate" or "amount_mismatch" (services/refunds.py)
    status: str  # Stripe's refund status, e.g. "succeeded"
    waived: bool
    session_numbers: tuple[int, ...]


@dataclass(frozen=True)
class Payment:
    mode: PaymentMode
    currency: str  # ISO 4217, lower case ("usd")
    session_price_cents: int  # the provider's full fee per session
    price_cents: int  # what the patient was charged for the course
    covered_sessions: int  # the first N sessions were covered by a plan, at `copay_cents` each
    copay_cents: int
    paid_cents: int
    refunded_cents: int
    balance_cents: int  # paid minus refunded
    paid_on: date | None  # in the practice's time zone
    refunds: tuple[RefundLine, ...]

    @property
    def at_visit(self) -> bool:
        return self.mode is PaymentMode.AT_VISIT


@dataclass(frozen=True)
class Superbill:
    course_id: int
    issued_on: date  # in the practice's time zone
    provider: Provider
    patient: Patient
    diagnosis: Diagnosis
    services: tuple[ServiceLine, ...]
    total_charge_cents: int
    total_units: int
    total_sessions: int
    # Booked sessions that have not started yet, and ones that have but are not marked attended yet.
    upcoming: int
    awaiting_mark: int
    payment: Payment


def build_superbill(session: Session, actor: User, course_id: int, now: datetime) -> Superbill:
    """The superbill of the actor's course (its patient's or its therapist's); NotFound for anyone else,
    with the refused read audited by `courses.get_course`. Adds nothing to the session but audit events."""
    course = courses.get_course(session, actor, course_id)
    audit.record(session, actor, "course.superbill_viewed", "course", course.id)
    location = course.location
    zone = ZoneInfo(location.time_zone)
    therapist = course.therapist
    appointments = courses.sessions_of(session, course)

    services = tuple(
        ServiceLine(
            appointment_id=a.id,
            session_number=a.session_number,
            service_date=a.starts_at.astimezone(zone).date(),
            place_of_service_code=PLACE_OF_SERVICE_CODE,
            place_of_service_name=PLACE_OF_SERVICE_NAME,
            address=calendars.address(a.location),
            cpt=billing.CPT_MASSAGE,
            minutes=a.minutes,
            units=billing.cpt_97124_units(a.minutes),
            charge_cents=course.session_price_cents,
        )
        for a in appointments
        if a.status is AppointmentStatus.COMPLETED
    )
    waiting = [a for a in appointments if a.status in _NOT_YET_ATTENDED]
    upcoming = sum(1 for a in waiting if a.starts_at > now)
    numbers = {a.id: a.session_number for a in appointments if a.session_number is not None}

    return Superbill(
        course_id=course.id,
        issued_on=now.astimezone(zone).date(),
        provider=Provider(
            name=therapist.name,
            credentials_suffix=therapist.credentials_suffix or "",
            license_number=therapist.license_number,
            license_state=therapist.license_state,
            npi=therapist.npi or None,
            address=calendars.address(location),
            time_zone=location.time_zone,
        ),
        patient=Patient(name=course.patient.display_name, email=course.patient.email),
        diagnosis=_diagnosis(course.condition_id),
        services=services,
        total_charge_cents=sum(line.charge_cents for line in services),
        total_units=sum(line.units for line in services),
        total_sessions=course.total_sessions,
        upcoming=upcoming,
        awaiting_mark=len(waiting) - upcoming,
        payment=Payment(
            mode=course.payment_mode,
            currency=course.currency.lower(),
            session_price_cents=course.session_price_cents,
            price_cents=course.price_cents,
            covered_sessions=course.covered_sessions,
            copay_cents=course.copay_cents,
            paid_cents=course.paid_cents,
            refunded_cents=course.refunded_cents,
            balance_cents=course.balance_cents,
            paid_on=course.paid_at.astimezone(zone).date() if course.paid_at else None,
            refunds=tuple(_refund_line(r, zone, numbers) for r in refunds.refunds_of(session, course.id)),
        ),
    )


def _diagnosis(condition_id: str) -> Diagnosis:
    """The condition as the registry names and codes it; a condition since removed keeps its id, no codes."""
    condition = evidence.condition(condition_id)
    if condition is None:
        return Diagnosis(condition_id, condition_id.replace("_", " ").capitalize(), (), None)
    codes = tuple(condition.icd10_codes)
    return Diagnosis(
        condition_id=condition.id,
        name=condition.name,
        icd10_codes=codes,
        coding_note=condition.coding_note if len(codes) > 1 else None,
    )


def _refund_line(refund: CourseRefund, zone: ZoneInfo, numbers: dict[int, int]) -> RefundLine:
    return RefundLine(
        amount_cents=refund.amount_cents,
        currency=refund.currency,
        refunded_on=refund.created_at.astimezone(zone).date(),
        reason=refund.reason,
        status=refund.status,
        waived=refund.waived,
        session_numbers=tuple(sorted(numbers[i] for i in refund.appointment_ids if i in numbers)),
    )
