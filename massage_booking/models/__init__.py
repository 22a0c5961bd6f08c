"""SQLAlchemy models, one module per aggregate. Importing this package registers every table."""

from massage_booking.models.audit import AuditEvent
from massage_booking.models.base import Base, UTCDateTime, utcnow
from massage_booking.models.courses import Course, CourseStatus, Intake, PaymentMode
from massage_booking.models.geocoding import GeocodeCache
from massage_booking.models.outbox import OutboxMessage, OutboxStatus
from massage_booking.models.payers import EligibilityCheck, InsurancePlan, Payer, PlanType
from massage_booking.models.payments import ChargeOutcome, CourseCharge, CourseRefund, StripeEvent
from massage_booking.models.schedules import (
    HELD_STATUS,
    OCCUPYING_STATUSES,
    Appointment,
    AppointmentStatus,
    AvailabilitySettings,
    CourseFitCache,
    ExtraHours,
    TimeOff,
    WeeklyHours,
)
from massage_booking.models.therapists import (
    CredentialKind,
    CredentialStatus,
    GeocodePrecision,
    NetworkMembership,
    OncologyCredential,
    PracticeLocation,
    TherapistLanguage,
    TherapistModality,
    TherapistProfile,
)
from massage_booking.models.users import ApiToken, LoginSession, Role, User

__all__ = [
    "Course",
    "CourseStatus",
    "Intake",
    "PaymentMode",
    "ChargeOutcome",
    "CourseCharge",
    "CourseRefund",
    "StripeEvent",
    "HELD_STATUS",
    "OCCUPYING_STATUSES",
    "Appointment",
    "AppointmentStatus",
    "AvailabilitySettings",
    "CourseFitCache",
    "ExtraHours",
    "TimeOff",
    "WeeklyHours",
    "ApiToken",
    "AuditEvent",
    "Base",
    "CredentialKind",
    "CredentialStatus",
    "GeocodeCache",
    "GeocodePrecision",
    "InsurancePlan",
    "EligibilityCheck",
    "LoginSession",
    "NetworkMembership",
    "OncologyCredential",
    "OutboxMessage",
    "OutboxStatus",
    "Payer",
    "PlanType",
    "PracticeLocation",
    "Role",
    "TherapistLanguage",
    "TherapistModality",
    "TherapistProfile",
    "UTCDateTime",
    "User",
    "utcnow",
]
