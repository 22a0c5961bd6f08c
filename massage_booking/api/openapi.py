"""GET /api/v1/openapi.json: one OpenAPI 3.1 document for the whole JSON API and the FHIR endpoint.

The document is built here as data, beside the handlers it describes, and is the single source for the
rendered page at /api/docs (web/api_docs.py). Request schemas say what the parsers accept (api/support.py
`json_object` and each service's `parse_*`); response schemas say what the serialisers return, and every
documented error has the envelope `{"error": {"code", "message", "details"}}`.

Three tests keep it true: tests/integration/test_openapi.py fails if a route under /api/v1 or /fhir is not
in `paths` (or a documented one has no route), and tests/integration/test_openapi_fuzz.py lets schemathesis
call every operation and checks each answer's status, content type and body against this document.

`x-roles` on an operation names the account roles its bearer token may have (a vendor extension; the page
and the fuzz test read it). Choices that come from the product's own registries (precautions, modalities,
session lengths ...) are read from the code, so the document cannot drift from them.
"""

from __future__ import annotations

import copy
from functools import cache
from typing import Any

from massage_booking.api import bp, openapi_models
from massage_booking.api.contract import OPERATIONS
from massage_booking.api.openapi_parts import (
    ANY_ROLE,
    BEARER,
    FHIR_JSON,
    JSON,
    Schema,
    an_id,
    array,
    body,
    boolean,
    date,
    enum,
    error,
    instant,
    integer,
    nullable,
    number,
    obj,
    ok,
    operation,
    path_id,
    query,
    ref,
    string,
    unauthorized,
)
from massage_booking.domain import courses as course_plans
from massage_booking.domain import intake as intake_rules
from massage_booking.domain.eligibility import Outcome
from massage_booking.models import (
    AppointmentStatus,
    CourseStatus,
    PaymentMode,
    Role,
)
from massage_booking.services import availability, eligibility, sessions

OUTCOMES = [outcome.value for outcome in Outcome]

TAGS = [
    ("Accounts", "Create an account, exchange e-mail and password for a bearer token, and check a token."),
    ("Places", 'What a ZIP code, "City, ST" or "lat,lon" means, answered offline.'),
    ("Therapists", "Find nearby therapists, read a profile and its free start times."),
    ("Evidence", "The evidence registry: conditions, session plans, precautions and citations."),
    ("Intakes", "A patient's health answers before a course; every read and write is audited."),
    ("Courses", "Plan, book, pay for and cancel a whole course of care."),
    ("Appointments", "Move or cancel one session, and record attendance."),
    ("Therapist schedule", "A therapist's own hours, time off, appointments and sessions."),
    ("Eligibility", "Insurers: is a course indicated and covered, with the reasons and citations."),
    ("FHIR", "FHIR R4 CoverageEligibilityRequest in, CoverageEligibilityResponse out."),
    ("Documentation", "This document."),
]


# --- component schemas --------------------------------------------------------------------------------

CLOCK = string('24-hour local time on a 5-minute step, like "09:00".', pattern=r"^([01]\d|2[0-3]):[0-5][05]$")
CITATION_REF = string("A citation id from the evidence registry.")
NOTE_LIST = array(string(), "The precautions every session carries, one clause each.")
GATE = obj({"code": string(), "message": string()}, description="A gate: what must happen before booking.")


def _schemas() -> dict[str, Schema]:
    decision = {
        "outcome": enum(OUTCOMES),
        "requested_sessions": integer(),
        "covered_sessions": integer(),
        "units_per_session": integer("CPT 97124 units per session (15-minute units)."),
        "cpt_code": string(),
        "copay_cents": integer(),
        "visits_remaining": nullable(integer("Visits left this plan year; null without a limit.")),
        "reasons": array(
            obj(
                {
                    "code": string("Stable reason code, like `referral_required`."),
                    "message": string(),
                    "blocking": boolean("Whether this reason alone makes the course not eligible."),
                    "citation": nullable(CITATION_REF),
                }
            )
        ),
        "citations": array(
            obj(
                {"id": string(), "label": string(), "reference": string(), "url": nullable(string())},
                ["id"],
            ),
            "The evidence the decision rests on.",
        ),
    }
    refund = obj(
        {
            "amount_cents": integer(),
            "status": string(),
            "appointment_ids": array(integer()),
            "waived_notice": boolean("The therapist waived the 24-hour notice."),
            "reason": string(),
            "created_at": instant(),
        },
        description="Money given back for cancelled sessions.",
    )
    course = obj(
        {
            "id": integer(),
            "status": enum(CourseStatus),
            "condition": string("Condition id."),
            "therapist": obj({"id": integer(), "name": string()}),
            "location": obj({"id": integer(), "city": string(), "state": string()}),
            "time_zone": string(),
            "session_minutes": integer(),
            "sessions_per_week": nullable(number()),
            "total_sessions": integer(),
            "citation": obj({"id": string(), "label": string()}),
            "warnings": array(
                obj({"code": string(), "fields": array(string()), "message": string()}),
                "Where the course falls short of the evidence (booked anyway).",
            ),
            "session_notes": NOTE_LIST,
            "clearance_needed": array(GATE),
            "sessions": array(
                obj(
                    {
                        "id": integer(),
                        "number": nullable(integer()),
                        "start": instant(),
                        "end": instant(),
                        "status": enum(AppointmentStatus),
                        "price_cents": integer("What this session costs the patient (a copay when covered)."),
                    },
                    ["id", "number", "start", "end", "status"],
                )
            ),
            "coverage": nullable(
                obj(
                    {
                        "plan": obj({"id": integer(), "name": string()}),
                        "outcome": enum(OUTCOMES),
                        "covered_sessions": integer("The first sessions by number are covered."),
                        "copay_cents": integer("What each covered session costs the patient."),
                    },
                    description="The insurance plan the course is booked under; null for self-pay.",
                )
            ),
            "payment": obj(
                {
                    "mode": enum(PaymentMode),
                    "currency": string(),
                    "session_price_cents": integer(),
                    "price_cents": integer(),
                    "paid_cents": integer(),
                    "refunded_cents": integer(),
                    "hold_expires_at": nullable(instant("While the times are held for payment.")),
                    "error": nullable(string("The processor's words for the last failed attempt.")),
                    "refunds": array(ref("Refund")),
                },
                description="Money in integer cents with its currency.",
            ),
        },
        [
            "id",
            "status",
            "condition",
            "therapist",
            "location",
            "time_zone",
            "session_minutes",
            "sessions_per_week",
            "total_sessions",
            "citation",
            "warnings",
            "session_notes",
            "clearance_needed",
            "sessions",
            "payment",
        ],
        description="A course of care with every session.",
    )
    session_view = obj(
        {
            "id": integer(),
            "start": instant(),
            "end": instant(),
            "minutes": integer(),
            "time_zone": string(),
            "status": enum(AppointmentStatus),
            "can_mark_attendance": boolean(),
            "patient": obj({"id": integer(), "name": string()}),
            "course": nullable(
                obj(
                    {
                        "id": integer(),
                        "condition": nullable(string()),
                        "session_number": nullable(integer()),
                        "total_sessions": nullable(integer()),
                    }
                )
            ),
            "session_notes": NOTE_LIST,
            "clearance_needed": array(obj({"code": nullable(string()), "message": nullable(string())})),
        },
        description="A session as its therapist needs it, with the precautions that travel with it.",
    )
    return {
        "Error": obj(
            {
                "error": obj(
                    {
                        "code": string("Stable machine-readable code, like `validation_failed`."),
                        "message": string("One sentence for a person."),
                        "details": obj(
                            {
                                "fields": obj(
                                    {},
                                    [],
                                    description="Each bad field and its messages.",
                                    additionalProperties=array(string()),
                                )
                            },
                            [],
                            description="Structured details: `fields` (422), `conflicts`, `suggestions` ...",
                        ),
                    }
                )
            },
            description="The error envelope of every JSON error.",
        ),
        "Intake": obj(
            {
                "id": integer(),
                "condition": string("Condition id."),
                "cancer_history": boolean(),
                "treatment_phase": enum(intake_rules.TREATMENT_PHASES),
                "precautions": array(enum(intake_rules.answer_ids())),
                "referral": nullable(
                    obj({"name": string(), "npi": nullable(string()), "date": nullable(date())})
                ),
                "created_at": instant(),
                "decision": obj(
                    {
                        "requires_oncology_trained": boolean(),
                        "can_book": boolean(),
                        "clearance_needed": array(GATE),
                        "deferred": array(GATE),
                        "session_notes": NOTE_LIST,
                    },
                    description="The gates the answers imply.",
                ),
            }
        ),
        "CourseProposals": obj(
            {
                "plan": obj(
                    {
                        "condition": string(),
                        "session_minutes": integer(),
                        "sessions_per_week": nullable(number()),
                        "total_sessions": integer(),
                    }
                ),
                "therapist": obj({"id": integer(), "name": string()}),
                "time_zone": string(),
                "searched": obj({"from": date(), "to": date()}, description="The local dates searched."),
                "proposals": array(ref("CourseProposal"), "Whole courses, every session free, best first."),
                "partial": nullable(ref("CourseProposal")),
                "blocked": array(
                    obj(
                        {
                            "kind": string(),
                            "sessions": array(integer()),
                            "weekday": nullable(string()),
                            "time": nullable(string()),
                            "until": nullable(date()),
                            "message": string(),
                        }
                    ),
                    "When nothing whole fits: what blocks the partial proposal's missing sessions.",
                ),
            },
            description="Whole-course proposals; `partial` (and `blocked`) only when none fits.",
        ),
        "CourseProposal": obj(
            {
                "rank": integer(),
                "complete": boolean(),
                "pattern": obj(
                    {
                        "weekdays": array(string()),
                        "every_other_week": array(string()),
                        "time": string("Local wall-clock start, HH:MM, the same across clock changes."),
                        "description": string(),
                    }
                ),
                "starts": array(instant(), "Send these as `starts` to POST /api/v1/courses to book it."),
                "sessions": array(
                    obj(
                        {
                            "number": integer(),
                            "start": instant(),
                            "end": instant(),
                            "free": boolean(),
                            "holiday": nullable(string()),
                            "cause": nullable(string()),
                            "alternatives": array(
                                obj({"start": instant(), "end": instant(), "keeps_spacing": boolean()})
                            ),
                        }
                    )
                ),
                "reasons": array(string()),
                "explanation": string(),
                "holidays": array(obj({"date": date(), "name": string()})),
            }
        ),
        "CoursePreview": obj(
            {
                "plan": obj(
                    {
                        "condition": string(),
                        "session_minutes": integer(),
                        "sessions_per_week": nullable(number()),
                        "total_sessions": integer(),
                        "weeks": nullable(integer()),
                        "citation": obj({"id": string(), "label": string()}),
                        "warnings": array(
                            obj({"code": string(), "fields": array(string()), "message": string()})
                        ),
                    }
                ),
                "therapist": obj({"id": integer(), "name": string()}),
                "time_zone": string(),
                "sessions": array(
                    obj(
                        {
                            "number": integer(),
                            "start": instant(),
                            "end": instant(),
                            "free": boolean(),
                            "alternatives": array(
                                instant(), "Nearest free starts when this one is not free."
                            ),
                        }
                    )
                ),
                "bookable": boolean(),
                "gates": obj(
                    {
                        "requires_oncology_trained": boolean(),
                        "therapist_oncology_trained": boolean(),
                        "clearance_needed": array(GATE),
                        "deferred": array(GATE),
                    }
                ),
                "session_notes": NOTE_LIST,
                "coverage": nullable(
                    obj(
                        {
                            "plan": obj({"id": integer(), "name": string()}),
                            "outcome": enum(OUTCOMES),
                            "covered_sessions": integer(),
                            "copay_cents": integer(),
                            "decision": obj(decision, description="The plan's decision, every reason cited."),
                        },
                        description="With `plan_id`: what the plan covers; null otherwise.",
                    )
                ),
                "price": obj(
                    {
                        "currency": string(),
                        "session_price_cents": integer(),
                        "covered_sessions": integer(),
                        "copay_cents": integer(),
                        "price_cents": integer("What the whole course costs the patient."),
                    }
                ),
            },
            ["plan", "therapist", "time_zone", "sessions", "bookable", "gates", "session_notes"],
            description="A course laid out and checked; nothing is written.",
        ),
        "Refund": refund,
        "Course": course,
        "CourseList": obj({"courses": array(ref("Course"))}),
        "CourseCancellation": {
            "allOf": [
                ref("Course"),
                obj(
                    {
                        "cancelled": array(integer(), "Ids of the sessions cancelled."),
                        "refund": nullable(ref("Refund")),
                    }
                ),
            ]
        },
        "PaymentStarted": {
            "allOf": [
                ref("Course"),
                obj(
                    {
                        "next_action": obj(
                            {
                                "type": enum(["authenticate"]),
                                "client_secret": string("For Stripe.js to finish 3-D Secure."),
                            }
                        )
                    }
                ),
            ]
        },
        "CourseAppointment": obj(
            {
                "id": integer(),
                "number": nullable(integer()),
                "start": instant(),
                "end": instant(),
                "status": enum(AppointmentStatus),
                "course_id": nullable(integer()),
            }
        ),
        "SessionView": session_view,
        "EligibilityResult": obj(
            {
                "check_id": integer(),
                "course_id": nullable(integer()),
                "plan": obj({"id": integer(), "name": string(), "payer": string()}),
                "condition": obj({"id": string(), "name": string()}),
                "icd10_code": string(),
                "therapist": obj({"id": integer(), "name": string(), "npi": nullable(string())}),
                "service_date": date(),
                **decision,
            },
            description="An explained decision: only what the insurer needs (no intake answers or notes).",
        ),
        "EligibilityCheck": obj(
            {
                "check_id": integer(),
                "created_at": instant(),
                "channel": string("Where the check came from: api, fhir ..."),
                "plan_id": integer(),
                "course_id": nullable(integer()),
                "icd10_code": string(),
                "session_minutes": integer(),
                "sessions": integer(),
                "outcome": enum(OUTCOMES),
                "covered_sessions": integer(),
                "reason_codes": array(string()),
            }
        ),
        "CoverageEligibilityRequest": obj(
            {"resourceType": string(const="CoverageEligibilityRequest")},
            description="A FHIR R4 CoverageEligibilityRequest resource (https://hl7.org/fhir/R4/).",
        ),
        "CoverageEligibilityResponse": obj(
            {"resourceType": string(const="CoverageEligibilityResponse")},
            description="A FHIR R4 CoverageEligibilityResponse resource.",
        ),
        "OperationOutcome": obj(
            {
                "resourceType": string(const="OperationOutcome"),
                "issue": array(
                    obj({"severity": string(), "code": string()}, additionalProperties=True), minItems=1
                ),
            },
            description="A FHIR R4 OperationOutcome: why the request was refused.",
        ),
    }


# --- request bodies ------------------------------------------------------------------------------------


def _request_schemas() -> dict[str, Schema]:
    whole = an_id
    course_fields = {
        "intake_id": whole("Your intake (POST /api/v1/intakes)."),
        "therapist_id": whole("A bookable therapist."),
        "first_start": instant("First session's start, ISO 8601 with its offset. Required without `starts`."),
        "session_minutes": integer(
            "Override the plan's session length.", enum=list(course_plans.SESSION_MINUTES)
        ),
        "sessions_per_week": number("Override the cadence.", enum=list(course_plans.SESSIONS_PER_WEEK)),
        "total_sessions": integer(
            "Override the number of sessions.", minimum=1, maximum=course_plans.MAX_TOTAL_SESSIONS
        ),
        "plan_id": whole("Book under this insurance plan (copays for covered sessions); self-pay without."),
        "starts": array(
            instant(),
            "Each session's start (after taking alternatives); overrides the layout.",
            minItems=1,
            maxItems=course_plans.MAX_TOTAL_SESSIONS,
        ),
    }
    return {
        "IntakeRequest": obj(
            {
                "condition": string("Registry id, name, alias or ICD-10-CM code.", minLength=1),
                "cancer_history": boolean("Have you ever had cancer?"),
                "treatment_phase": nullable(
                    enum(
                        intake_rules.TREATMENT_PHASES,
                        "Must be `none` without a cancer history.",
                        default="none",
                    )
                ),
                "precautions": array(enum(intake_rules.answer_ids()), "What applies to you now."),
                "referral_name": string("Referring physician (all three referral fields, or none)."),
                "referral_npi": {
                    "anyOf": [string(), integer()],
                    "description": "The physician's 10-digit NPI (spaces ignored; check digit verified).",
                },
                "referral_date": date("Not in the future."),
            },
            ["condition", "cancer_history"],
        ),
        "CourseRequest": obj(
            course_fields,
            ["intake_id", "therapist_id"],
            anyOf=[{"required": ["first_start"]}, {"required": ["starts"]}],
        ),
        "CoursePlanRequest": obj(
            {
                **course_fields,
                "first_start": instant("With it (or `starts`): preview that course. Without: proposals."),
                "earliest_start": date("Proposals: the first date to consider (practice's zone; today)."),
                "weekdays": array(enum(availability.WEEKDAYS), "Proposals: preferred weekdays.", maxItems=7),
                "time_windows": array(
                    obj({"start": CLOCK, "end": CLOCK}, closed=True),
                    "Proposals: preferred local times of day (a session fits inside one).",
                    maxItems=7,
                ),
                "not_after": date("Proposals: no session after this date."),
                "count": integer("Proposals wanted (default 3).", minimum=1, maximum=10),
            },
            ["intake_id", "therapist_id"],
        ),
        "CancelCourseRequest": obj(
            {
                "appointment_ids": array(integer(), "Sessions to cancel; every upcoming one when left out."),
                "waive_late_fee": boolean("Therapist only: refund sessions inside the 24-hour notice too."),
            },
            [],
        ),
        "PaymentRequest": obj(
            {
                "payment_method": string(
                    "A Stripe PaymentMethod id; card details are never sent here.",
                    pattern=r"^pm_[A-Za-z0-9_]+$",
                    minLength=4,
                    maxLength=255,
                )
            }
        ),
        "RescheduleRequest": obj({"start": instant("The new start, ISO 8601 with its offset.")}),
        "AttendanceRequest": obj({"status": enum(sessions.ATTENDANCE_STATUSES)}),
        "EligibilityRequest": {
            "description": "A booked course by `course_id` alone, or a hypothetical course by its fields.",
            "oneOf": [
                obj({"course_id": whole("A course booked under one of your payer's plans.")}, closed=True),
                obj(
                    {
                        "plan_id": whole("One of your payer's plans."),
                        "icd10_code": string("ICD-10-CM code, like M54.2.", minLength=1),
                        "condition": string("Condition id, when the code is shared by several."),
                        "therapist_id": whole(),
                        "session_minutes": integer(minimum=1, maximum=eligibility.MAX_MINUTES),
                        "sessions": integer(minimum=1, maximum=eligibility.MAX_SESSIONS),
                        "sessions_per_week": number(exclusiveMinimum=0, maximum=7),
                        "referral_date": date(),
                        "service_date": date(),
                        "visits_used": integer("Visits already used this plan year.", minimum=0, maximum=366),
                    },
                    ["plan_id", "icd10_code", "therapist_id", "session_minutes", "sessions", "service_date"],
                    **{"not": {"required": ["course_id"]}},
                ),
            ],
        },
    }


# --- paths -------------------------------------------------------------------------------------------


def _paths() -> dict[str, Schema]:
    patient = [Role.PATIENT.value]
    therapist = [Role.THERAPIST.value]
    insurer = [Role.INSURER.value]
    patient_or_therapist = [Role.PATIENT.value, Role.THERAPIST.value]
    n422 = error("A field breaks a rule; `details.fields` names each one.")
    return {
        "/api/v1/intakes": {
            "post": operation(
                "Intakes",
                "createIntake",
                "Record an intake",
                "Your health answers; the response says which gates they imply (an oncology-trained "
                "therapist, a physician's clearance, or booking deferred).",
                {"201": ok(ref("Intake"), "The intake."), "422": n422},
                roles=patient,
                request=body(
                    ref("IntakeRequest"),
                    "The answers.",
                    {"condition": "chronic neck pain", "cancer_history": False, "precautions": []},
                ),
            )
        },
        "/api/v1/intakes/{intake_id}": {
            "get": operation(
                "Intakes",
                "getIntake",
                "Read your intake",
                "Your own intake; anyone else's is a 404, and the attempt is audited.",
                {"200": ok(ref("Intake"), "The intake."), "404": error("You have no intake with that id.")},
                roles=ANY_ROLE,
                parameters=[path_id("intake_id", "The intake.")],
            )
        },
        "/api/v1/courses/plan": {
            "post": operation(
                "Courses",
                "planCourse",
                "Preview a course",
                "The plan laid out on real dates, each session checked; books nothing.",
                {
                    "200": ok(
                        {"anyOf": [ref("CoursePreview"), ref("CourseProposals")]},
                        "The preview (with `first_start` or `starts`), or whole-course proposals.",
                    ),
                    "404": error("No such intake of yours, or no bookable therapist with that id."),
                    "422": n422,
                },
                roles=patient,
                request=body(ref("CoursePlanRequest"), "What to plan."),
            )
        },
        "/api/v1/courses": {
            "post": operation(
                "Courses",
                "bookCourse",
                "Book a course",
                "Every session or none, in one transaction. With card payments on, the course waits for "
                "payment and its times are held until `payment.hold_expires_at`.",
                {
                    "201": ok(ref("Course"), "The course with every session."),
                    "404": error("No such intake of yours, or no bookable therapist with that id."),
                    "409": error(
                        "Some sessions cannot be booked; `details.conflicts` lists them with alternatives."
                    ),
                    "422": error(
                        "A field breaks a rule, booking is deferred (`booking_deferred`), or the course "
                        "needs an oncology-trained therapist (`oncology_training_required`, with "
                        "`details.suggestions`), or the plan covers none of it (`not_covered`)."
                    ),
                },
                roles=patient,
                request=body(ref("CourseRequest"), "What to book."),
            )
        },
        "/api/v1/courses/{course_id}": {
            "get": operation(
                "Courses",
                "getCourse",
                "Read a course",
                "The patient's or the therapist's own course with its sessions; anyone else gets a 404.",
                {"200": ok(ref("Course"), "The course."), "404": error("You have no course with that id.")},
                roles=ANY_ROLE,
                parameters=[path_id("course_id", "The course.")],
            )
        },
        "/api/v1/courses/{course_id}/cancel": {
            "post": operation(
                "Courses",
                "cancelCourse",
                "Cancel sessions of a course",
                "Some sessions (`appointment_ids`) or every upcoming one. A paid course is refunded by "
                "policy: sessions at least 24 hours away, or all when the therapist waives the notice. An "
                "unpaid course can only be given up whole.",
                {
                    "200": ok(ref("CourseCancellation"), "The course, what was cancelled and the refund."),
                    "404": error("You have no such course, or those are not its upcoming sessions."),
                    "422": error("A field is wrong, or a patient asked to cancel within 24 hours."),
                    "502": error("The payment provider could not make the refund; nothing was changed."),
                },
                roles=patient_or_therapist,
                parameters=[path_id("course_id", "The course.")],
                request=body(
                    ref("CancelCourseRequest"), "What to cancel; `{}` cancels every upcoming session."
                ),
            )
        },
        "/api/v1/courses/{course_id}/pay": {
            "post": operation(
                "Courses",
                "payCourse",
                "Pay for a held course",
                "Charge the course's price to a Stripe PaymentMethod: 200 when paid, 202 when the card needs "
                "3-D Secure (finish it with `next_action.client_secret`), 402 when declined.",
                {
                    "200": ok(ref("Course"), "Paid."),
                    "202": ok(ref("PaymentStarted"), "The bank wants the patient to authenticate."),
                    "402": error("The card was declined; the course stays held for another card."),
                    "404": error("You have no course with that id."),
                    "409": error(
                        "Not waiting for payment, its hold ran out, or the site takes no cards "
                        "(`payments_disabled`: pay at the visit)."
                    ),
                    "422": n422,
                    "502": error("The payment provider could not be reached or refused the request."),
                },
                roles=patient,
                parameters=[path_id("course_id", "The course.")],
                request=body(ref("PaymentRequest"), "The PaymentMethod.", {"payment_method": "pm_card_visa"}),
            )
        },
        "/api/v1/me/courses": {
            "get": operation(
                "Courses",
                "myCourses",
                "Your courses",
                "Every course of the patient, newest first.",
                {"200": ok(ref("CourseList"), "The courses.")},
                roles=patient,
            )
        },
        "/api/v1/appointments/{appointment_id}/reschedule": {
            "post": operation(
                "Appointments",
                "rescheduleAppointment",
                "Move a session",
                "Move one booked session, keeping its length. Patients may move it 24 hours or more "
                "ahead; its therapist later too. The new time must be free now.",
                {
                    "200": ok(ref("CourseAppointment"), "The session at its new time."),
                    "404": error("You have no session with that id."),
                    "409": error("That time is not free; `details.conflicts` has the nearest alternatives."),
                    "422": n422,
                },
                roles=patient_or_therapist,
                parameters=[path_id("appointment_id", "The session.")],
                request=body(
                    ref("RescheduleRequest"), "The new start.", {"start": "2026-12-01T10:00:00-05:00"}
                ),
            )
        },
        "/api/v1/appointments/{appointment_id}/cancel": {
            "post": operation(
                "Appointments",
                "cancelAppointment",
                "Cancel a session",
                "Cancel one booked session within policy (24 hours ahead for a patient). No body.",
                {
                    "200": ok(ref("CourseAppointment"), "The cancelled session."),
                    "404": error("You have no session with that id."),
                    "422": error("The session is not booked, has started, or is less than 24 hours away."),
                    "502": error("The payment provider could not make the refund; nothing was changed."),
                },
                roles=patient_or_therapist,
                parameters=[path_id("appointment_id", "The session.")],
            )
        },
        "/api/v1/appointments/{appointment_id}/attendance": {
            "post": operation(
                "Appointments",
                "markAttendance",
                "Record attendance",
                "The session's therapist marks a started, booked session completed or no-show.",
                {
                    "200": ok(
                        {
                            "allOf": [
                                ref("SessionView"),
                                obj({"course_status": nullable(enum(CourseStatus))}),
                            ]
                        },
                        "The session, and its course's status.",
                    ),
                    "404": error("You have no session with that id."),
                    "422": error("A bad status, a session not yet started, or one already marked."),
                },
                roles=therapist,
                parameters=[path_id("appointment_id", "The session.")],
                request=body(ref("AttendanceRequest"), "What happened.", {"status": "completed"}),
            )
        },
        "/api/v1/me/sessions": {
            "get": operation(
                "Therapist schedule",
                "mySessions",
                "Your coming sessions",
                "Booked sessions not yet over, earliest first, each with its precautions.",
                {
                    "200": ok(
                        obj(
                            {"time_zone": string(), "days": integer(), "sessions": array(ref("SessionView"))}
                        ),
                        "The sessions.",
                    ),
                    "404": error("Create your practice first."),
                    "422": n422,
                },
                roles=therapist,
                parameters=[query("days", f"Days ahead, 1 to {sessions.MAX_DAYS} (default 14).", string())],
            )
        },
        "/api/v1/eligibility": {
            "post": operation(
                "Eligibility",
                "checkEligibility",
                "Check eligibility",
                "Is the course indicated and covered by your payer's plan: the outcome, sessions covered, "
                "CPT 97124 units, copay, and every reason with its citation. The check is recorded and "
                "audited.",
                {
                    "200": ok(ref("EligibilityResult"), "The decision."),
                    "404": error("Your payer has no such plan, course or therapist."),
                    "422": n422,
                },
                roles=insurer,
                request=body(
                    ref("EligibilityRequest"),
                    "The course to check.",
                    {
                        "plan_id": 1,
                        "icd10_code": "M54.2",
                        "therapist_id": 1,
                        "session_minutes": 60,
                        "sessions": 8,
                        "service_date": "2026-12-01",
                    },
                ),
            )
        },
        "/api/v1/eligibility/checks": {
            "get": operation(
                "Eligibility",
                "recentEligibilityChecks",
                "Recent checks",
                "Your payer's recent checks, newest first.",
                {"200": ok(obj({"checks": array(ref("EligibilityCheck"))}), "The checks."), "422": n422},
                roles=insurer,
                parameters=[query("limit", "How many, 1 to 100 (default 50).", string())],
            )
        },
        "/api/v1/openapi.json": {
            "get": operation(
                "Documentation",
                "openapi",
                "This document",
                "The OpenAPI 3.1 description of /api/v1 and /fhir; rendered at /api/docs.",
                {"200": ok(obj({"openapi": string(), "info": obj({}, []), "paths": obj({}, [])}, []), "It.")},
            )
        },
        "/fhir/CoverageEligibilityRequest": {
            "post": _fhir_operation(insurer),
        },
    }


def fhir_example(plan_id: int = 1, therapist_id: int = 1) -> Schema:
    """A request in our profile (massage_booking/fhir/mapping.py): eight 60-minute sessions of CPT 97124
    for chronic neck pain (ICD-10-CM M54.2) under Coverage/{plan_id} with PractitionerRole/{therapist_id}."""
    from massage_booking.fhir.mapping import CPT, EXT_SESSIONS, ICD10CM, UCUM

    return {
        "resourceType": "CoverageEligibilityRequest",
        "status": "active",
        "purpose": ["benefits", "validation"],
        "patient": {"reference": "Patient/example"},
        "created": "2026-11-20",
        "insurer": {"reference": "Organization/1"},
        "provider": {"reference": f"PractitionerRole/{therapist_id}"},
        "servicedDate": "2026-12-01",
        "insurance": [{"focal": True, "coverage": {"reference": f"Coverage/{plan_id}"}}],
        "item": [
            {
                "extension": [{"url": EXT_SESSIONS, "valuePositiveInt": 8}],
                "productOrService": {"coding": [{"system": CPT, "code": "97124"}]},
                "quantity": {"value": 60, "unit": "min", "system": UCUM, "code": "min"},
                "diagnosis": [
                    {"diagnosisCodeableConcept": {"coding": [{"system": ICD10CM, "code": "M54.2"}]}}
                ],
            }
        ],
    }


def _fhir_operation(roles: list[str]) -> Schema:
    def outcome(description: str) -> Schema:
        return ok(ref("OperationOutcome"), description, FHIR_JSON)

    resource = {"schema": ref("CoverageEligibilityRequest"), "example": fhir_example()}
    op = operation(
        "FHIR",
        "fhirCoverageEligibilityRequest",
        "FHIR coverage eligibility",
        "A FHIR R4 CoverageEligibilityRequest in, a CoverageEligibilityResponse out, decided by the same "
        "rules as POST /api/v1/eligibility. The plan is `insurance[].coverage` = `Coverage/{plan id}`; the "
        "therapist `provider` = `PractitionerRole/{therapist id}`; `item[0]` is CPT 97124 with the ICD-10-CM "
        "`diagnosis`, minutes as `quantity` (UCUM `min`) and the number of sessions in the `course-sessions` "
        "extension; or `item[0].detail` = `CarePlan/{course id}` for a booked course. The decision is in "
        "extensions on the response's item. Every answer is application/fhir+json; errors are "
        "OperationOutcome resources whose issues name the element at fault.",
        {
            "200": ok(ref("CoverageEligibilityResponse"), "The decision as a FHIR resource.", FHIR_JSON),
            "404": outcome("Your payer has no such plan, coverage, course or provider."),
            "422": outcome("The resource breaks a rule of the profile; each issue names its element."),
        },
        roles=roles,
        request={
            "required": True,
            "description": "The request resource (application/json is accepted too).",
            "content": {FHIR_JSON: resource, JSON: resource},
        },
    )
    # Refusals are OperationOutcome resources here, not the JSON API's envelope.
    op["responses"].update(
        {
            "400": outcome("Not valid JSON, not one resource of this type, or not valid FHIR R4."),
            "401": outcome("No bearer token, or one that is invalid, expired or revoked."),
            "403": outcome("The token's account is not an insurer of a payer."),
            "413": outcome("The body is larger than 1 MiB."),
            "415": outcome("The body was not sent as application/fhir+json or application/json."),
        }
    )
    op["responses"]["401"]["headers"] = unauthorized()["headers"]
    op["responses"] = dict(sorted(op["responses"].items()))
    return op


def _paths_with_declared() -> dict[str, Schema]:
    """The hand-written paths and those declared with api/contract.py, in the order of the routes."""
    paths = _paths()
    for op in OPERATIONS:
        paths.setdefault(op.openapi_path, {})[op.method.lower()] = openapi_models.operation_object(op)
    return paths


@cache
def _document() -> Schema:
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "massage_booking API",
            "version": "1",
            "summary": "Find oncology-trained, in-network massage therapists; book evidence-based courses.",
            "description": (
                "JSON API v1 and the FHIR R4 eligibility endpoint. Authenticate with a bearer token from "
                'POST /api/v1/auth/token. Every error is JSON `{"error": {"code", "message", '
                '"details"}}` (FHIR: an OperationOutcome); `code` never changes once published. Times are '
                "ISO 8601 with their offset; money is integer cents with a currency."
            ),
        },
        "servers": [{"url": "/"}],
        "tags": [{"name": name, "description": text} for name, text in TAGS],
        "security": BEARER,
        "paths": _paths_with_declared(),
        "components": {
            "securitySchemes": {
                "bearerAuth": {
                    "type": "http",
                    "scheme": "bearer",
                    "description": "A token from POST /api/v1/auth/token (valid 30 days unless configured).",
                }
            },
            "schemas": {**_schemas(), **_request_schemas(), **openapi_models.components(OPERATIONS)},
        },
    }


def document() -> Schema:
    """The OpenAPI document (a fresh copy: callers may change it)."""
    return copy.deepcopy(_document())


@bp.get("/openapi.json")
def openapi_json() -> Any:
    return _document()
