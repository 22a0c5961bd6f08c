"""Intakes and courses over the API (patients), and a course as its therapist sees it.

POST /api/v1/intakes                 patient: record an intake -> 201 with the gates it implies
GET  /api/v1/intakes/{id}            the patient's own (404 otherwise; every read audited)
POST /api/v1/courses/plan            preview: the plan laid out, each session checked; writes nothing;
                                     without a start, whole-course proposals shaped by the wishes
POST /api/v1/courses                 book every session or none: 201, 409 with conflicts, 422; with
                                     `plan_id`, under that insurance plan (copay for covered sessions;
                                     422 `not_covered` when it covers none)
GET  /api/v1/courses/{id}            the patient's or the therapist's own course with its sessions
POST /api/v1/courses/{id}/cancel     cancel some sessions (`appointment_ids`) or every upcoming one;
                                     a paid course is refunded by policy (`waive_late_fee`: therapist)
POST /api/v1/courses/{id}/pay        pay a held course with a Stripe PaymentMethod id: 200, 202, 402, 409
GET  /api/v1/me/courses              the patient's courses
POST /api/v1/appointments/{id}/reschedule   move one session (`start`), within policy: 200, 409, 422
POST /api/v1/appointments/{id}/cancel       cancel one session within policy: 200, 422
"""

from __future__ import annotations

from datetime import date

from massage_booking.api.contract import ANY_ROLE, Reply, operation
from massage_booking.extensions import db, links, payment_hold, payments
from massage_booking.models import Role, User, utcnow
from massage_booking.schemas import courses as schema
from massage_booking.schemas.eligibility import decision_of
from massage_booking.schemas.intakes import Intake, IntakeRequest, gates_of, intake_of
from massage_booking.schemas.replies import VALIDATION
from massage_booking.services import course_payments, course_proposals, courses, intake

PATIENT = (Role.PATIENT.value,)
PATIENT_OR_THERAPIST = (Role.PATIENT.value, Role.THERAPIST.value)
NO_INTAKE_OR_THERAPIST = "No such intake of yours, or no bookable therapist with that id."
REFUND_FAILED = "The payment provider could not make the refund; nothing was changed."


def _today() -> dict[str, date]:
    return {"today": date.today()}


def course_of(record: courses.CourseRecord) -> schema.Course:
    return schema.course_of(record.course, record.sessions, record.refunds)


def preview_of(preview: courses.CoursePreview) -> schema.CoursePreview:
    decision, therapist = preview.decision, preview.therapist
    coverage = None
    if preview.insurance_plan is not None and preview.coverage is not None:
        # The chosen plan's decision with every reason (none while a gate stops the booking).
        coverage = schema.PreviewCoverage(
            plan=schema.plan_name_of(preview.insurance_plan),
            outcome=preview.coverage.outcome,
            covered_sessions=preview.coverage.covered_sessions,
            copay_cents=preview.copay_cents,
            decision=decision_of(preview.coverage),
        )
    return schema.CoursePreview(
        plan=schema.preview_plan_of(preview.plan),
        therapist=schema.CourseTherapist(id=therapist.id, name=therapist.name),
        time_zone=preview.location.time_zone,
        sessions=schema.preview_sessions_of(preview.sessions),
        bookable=not preview.conflicts and decision.can_book,
        gates=schema.PreviewGates(
            requires_oncology_trained=decision.requires_oncology_trained,
            therapist_oncology_trained=bool(therapist.active_oncology_credentials(utcnow().date())),
            clearance_needed=gates_of(decision.clearance_needed),
            deferred=gates_of(decision.deferred),
        ),
        session_notes=list(decision.session_notes),
        coverage=coverage,
        price=schema.PreviewPrice(
            currency=therapist.currency.lower(),
            session_price_cents=preview.session_cents,
            covered_sessions=preview.covered_sessions,
            copay_cents=preview.copay_cents,
            price_cents=preview.price_cents,
        ),
    )


@operation(
    "POST",
    "/intakes",
    operation_id="createIntake",
    tag="Intakes",
    summary="Record an intake",
    description="Your health answers; the response says which gates they imply (an oncology-trained "
    "therapist, a physician's clearance, or booking deferred).",
    roles=PATIENT,
    body=IntakeRequest,
    body_description="The answers.",
    example={"condition": "chronic neck pain", "cancer_history": False, "precautions": []},
    context=_today,
    responses={201: Reply("The intake.", Intake), 422: VALIDATION},
)
def create_intake(user: User, body: IntakeRequest) -> Intake:
    row = intake.record_intake(db.session, user, body.answers())
    return intake_of(row, intake.decision_of(row, date.today()))


@operation(
    "GET",
    "/intakes/<int:intake_id>",
    operation_id="getIntake",
    tag="Intakes",
    summary="Read your intake",
    description="Your own intake; anyone else's is a 404, and the attempt is audited.",
    roles=ANY_ROLE,
    path={"intake_id": "The intake."},
    responses={200: Reply("The intake.", Intake), 404: intake.NOT_FOUND},
)
def show_intake(intake_id: int, user: User) -> Intake:
    row = intake.read_intake(db.session, user, intake_id)
    return intake_of(row, intake.decision_of(row, date.today()))


@operation(
    "POST",
    "/courses/plan",
    operation_id="planCourse",
    tag="Courses",
    summary="Preview a course",
    description="The plan laid out on real dates, each session checked; books nothing.",
    roles=PATIENT,
    body=schema.CoursePlanRequest,
    body_description="What to plan.",
    responses={
        200: Reply(
            "The preview (with `first_start` or `starts`), or whole-course proposals.", schema.CoursePlan
        ),
        404: NO_INTAKE_OR_THERAPIST,
        422: VALIDATION,
    },
)
def plan_course(user: User, body: schema.CoursePlanRequest) -> schema.CoursePlan:
    """With `first_start` or `starts`: that course laid out and checked (the preview). Without: whole-course
    proposals from the planner, shaped by the wishes (`earliest_start`, `weekdays`, `time_windows`,
    `not_after`, `count`)."""
    wanted = courses.request_of(body)
    if body.placed:
        preview = courses.preview_course(db.session, user, wanted, utcnow())
        return schema.CoursePlan(preview_of(preview))
    wishes = course_proposals.Wishes(
        earliest_start=body.earliest_start,
        weekdays=frozenset(body.weekdays),
        time_windows=body.windows,
        not_after=body.not_after,
        count=body.count,
    )
    found = course_proposals.propose_courses(db.session, user, wanted, wishes, utcnow())
    return schema.CoursePlan(schema.proposals_of(found.therapist, found.location, found.plan, found.result))


@operation(
    "POST",
    "/courses",
    operation_id="bookCourse",
    tag="Courses",
    summary="Book a course",
    description="Every session or none, in one transaction. With card payments on, the course waits for "
    "payment and its times are held until `payment.hold_expires_at`.",
    roles=PATIENT,
    body=schema.CourseRequest,
    body_description="What to book.",
    responses={
        201: Reply("The course with every session.", schema.Course),
        404: NO_INTAKE_OR_THERAPIST,
        409: "Some sessions cannot be booked; `details.conflicts` lists them with alternatives.",
        422: "A field breaks a rule, booking is deferred (`booking_deferred`), or the course needs an "
        "oncology-trained therapist (`oncology_training_required`, with `details.suggestions`), or the "
        "plan covers none of it (`not_covered`).",
    },
)
def book_course(user: User, body: schema.CourseRequest) -> schema.Course:
    course = courses.book_course(
        db.session, user, courses.request_of(body), utcnow(), links=links(), hold=payment_hold()
    )
    return course_of(courses.record_of(db.session, course))


@operation(
    "POST",
    "/courses/<int:course_id>/pay",
    operation_id="payCourse",
    tag="Courses",
    summary="Pay for a held course",
    description="Charge the course's price to a Stripe PaymentMethod: 200 when paid, 202 when the card needs "
    "3-D Secure (finish it with `next_action.client_secret`), 402 when declined.",
    roles=PATIENT,
    path={"course_id": "The course."},
    body=schema.PaymentRequest,
    body_description="The PaymentMethod.",
    example={"payment_method": "pm_card_visa"},
    responses={
        200: Reply("Paid.", schema.Course),
        202: Reply("The bank wants the patient to authenticate.", schema.PaymentStarted),
        402: "The card was declined; the course stays held for another card.",
        404: "You have no course with that id.",
        409: "Not waiting for payment, its hold ran out, or the site takes no cards "
        "(`payments_disabled`: pay at the visit).",
        422: VALIDATION,
        502: "The payment provider could not be reached or refused the request.",
    },
)
def pay_course(course_id: int, user: User, body: schema.PaymentRequest) -> schema.Course:
    outcome = course_payments.pay(
        db.session, user, course_id, body.payment_method, utcnow(), payments(), links=links()
    )
    db.session.commit()  # a decline is kept on the course, so the patient's pages show it too
    if outcome.declined is not None:
        raise outcome.declined  # 402, in the error envelope, with Stripe's words
    record = courses.record_of(db.session, outcome.course)
    if outcome.action_secret is not None:
        return schema.payment_started_of(
            record.course, record.sessions, record.refunds, outcome.action_secret
        )
    return course_of(record)


@operation(
    "GET",
    "/courses/<int:course_id>",
    operation_id="getCourse",
    tag="Courses",
    summary="Read a course",
    description="The patient's or the therapist's own course with its sessions; anyone else gets a 404.",
    roles=ANY_ROLE,
    path={"course_id": "The course."},
    responses={200: Reply("The course.", schema.Course), 404: "You have no course with that id."},
)
def show_course(course_id: int, user: User) -> schema.Course:
    course = courses.get_course(db.session, user, course_id)
    return course_of(courses.record_of(db.session, course))


@operation(
    "POST",
    "/courses/<int:course_id>/cancel",
    operation_id="cancelCourse",
    tag="Courses",
    summary="Cancel sessions of a course",
    description="Some sessions (`appointment_ids`) or every upcoming one. A paid course is refunded by "
    "policy: sessions at least 24 hours away, or all when the therapist waives the notice. An unpaid "
    "course can only be given up whole.",
    roles=PATIENT_OR_THERAPIST,
    path={"course_id": "The course."},
    body=schema.CancelCourseRequest,
    body_description="What to cancel; `{}` cancels every upcoming session.",
    responses={
        200: Reply("The course, what was cancelled and the refund.", schema.CourseCancellation),
        404: "You have no such course, or those are not its upcoming sessions.",
        422: "A field is wrong, or a patient asked to cancel within 24 hours.",
        502: REFUND_FAILED,
    },
)
def cancel_course_sessions(
    course_id: int, user: User, body: schema.CancelCourseRequest
) -> schema.CourseCancellation:
    course = courses.get_course(db.session, user, course_id)
    done = courses.cancel_appointments(
        db.session,
        user,
        course,
        body.appointment_ids,
        utcnow(),
        payments(),
        links=links(),
        waive_notice=body.waive_late_fee,
    )
    record = courses.record_of(db.session, course)
    return schema.cancellation_of(
        record.course, record.sessions, record.refunds, done.appointments, done.refund
    )


@operation(
    "GET",
    "/me/courses",
    operation_id="myCourses",
    tag="Courses",
    summary="Your courses",
    description="Every course of the patient, newest first.",
    roles=PATIENT,
    responses={200: Reply("The courses.", schema.CourseList)},
)
def my_courses(user: User) -> schema.CourseList:
    found = courses.my_courses(db.session, user)
    # Read before the commit (of the audit record) expires them: after it, each course would be read again.
    listed = schema.CourseList(courses=[course_of(r) for r in courses.records_of(db.session, found)])
    return listed


@operation(
    "POST",
    "/appointments/<int:appointment_id>/reschedule",
    operation_id="rescheduleAppointment",
    tag="Appointments",
    summary="Move a session",
    description="Move one booked session, keeping its length. Patients may move it 24 hours or more ahead; "
    "its therapist later too. The new time must be free now.",
    roles=PATIENT_OR_THERAPIST,
    path={"appointment_id": "The session."},
    body=schema.RescheduleRequest,
    body_description="The new start.",
    example={"start": "2026-12-01T10:00:00-05:00"},
    responses={
        200: Reply("The session at its new time.", schema.CourseAppointment),
        404: courses.APPOINTMENT_NOT_FOUND,
        409: "That time is not free; `details.conflicts` has the nearest alternatives.",
        422: VALIDATION,
    },
)
def reschedule_appointment(
    appointment_id: int, user: User, body: schema.RescheduleRequest
) -> schema.CourseAppointment:
    moved = courses.reschedule_appointment(
        db.session, user, appointment_id, body.start, utcnow(), links=links()
    )
    return schema.appointment_of(moved)


@operation(
    "POST",
    "/appointments/<int:appointment_id>/cancel",
    operation_id="cancelAppointment",
    tag="Appointments",
    summary="Cancel a session",
    description="Cancel one booked session within policy (24 hours ahead for a patient). No body.",
    roles=PATIENT_OR_THERAPIST,
    path={"appointment_id": "The session."},
    responses={
        200: Reply("The cancelled session.", schema.CourseAppointment),
        404: courses.APPOINTMENT_NOT_FOUND,
        422: "The session is not booked, has started, or is less than 24 hours away.",
        502: REFUND_FAILED,
    },
)
def cancel_appointment(appointment_id: int, user: User) -> schema.CourseAppointment:
    cancelled = courses.cancel_appointment(
        db.session, user, appointment_id, utcnow(), payments(), links=links()
    )
    return schema.appointment_of(cancelled)
