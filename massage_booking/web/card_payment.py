"""Paying for a held course in the browser (services/course_payments.py has the flow).

The card form is Stripe.js's card element, loaded from STRIPE_JS_URL (Stripe's in production, localstripe's
copy in development and tests). Card details go from that element to Stripe only: the browser confirms a
SetupIntent with them and posts back just the PaymentMethod id, which the server charges. These pages
relax the Content-Security-Policy for Stripe's script, API and frames, and only these pages.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

from flask import flash, redirect, render_template, request, url_for
from flask_login import current_user

from massage_booking.domain.errors import Conflict, ValidationFailed
from massage_booking.extensions import db, links, payments
from massage_booking.formatting import money
from massage_booking.models import CourseStatus, Role, utcnow
from massage_booking.payments import StripePayments
from massage_booking.schemas.courses import PaymentRequest
from massage_booking.schemas.parse import parse_body
from massage_booking.services import course_payments, courses
from massage_booking.transactions import atomic, keeps_denials
from massage_booking.web import bp
from massage_booking.web.session_auth import roles_required

STRIPE_API = "https://api.stripe.com"
STRIPE_FRAMES = "https://js.stripe.com https://hooks.stripe.com"


def _origin(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}"


def _stripe_policy(adapter: StripePayments) -> str:
    """Our own policy plus what Stripe.js needs: its script, its API (or localstripe's), its frames."""
    js = _origin(adapter.js_url)
    api = _origin(adapter.api_base) if adapter.api_base else STRIPE_API
    return (
        "default-src 'self'; img-src 'self' data:; style-src 'self'; "
        f"script-src 'self' {js}; connect-src 'self' {api}; frame-src {js} {STRIPE_FRAMES}; "
        "object-src 'none'; base-uri 'self'; form-action 'self'; frame-ancestors 'none'"
    )


def _page(form: course_payments.CardForm, adapter: StripePayments, error: str | None, status: int) -> Any:
    course = form.course
    response = render_template(
        "web/care/pay.html",
        course=course,
        form=form,
        error=error,
        zone_name=course.location.time_zone,
        sessions=courses.sessions_of(db.session, course),
    )
    return response, status, {"Content-Security-Policy": _stripe_policy(adapter)}


def _back(course_id: int, message: str, category: str = "error") -> Any:
    flash(message, category)
    return redirect(url_for("web.care_course", course_id=course_id))


@bp.get("/care/courses/<int:course_id>/pay")
@roles_required(Role.PATIENT)
@keeps_denials
def care_pay(course_id: int) -> Any:
    """The card form for a course whose times are held for payment."""
    adapter = payments()
    if not adapter.enabled:
        return _back(course_id, "Card payments are not taken on this site: you pay at the visit.", "info")
    try:
        with atomic(Conflict):  # the audit record of the read, also when the course cannot be paid
            form = course_payments.card_form(db.session, current_user, course_id, utcnow(), adapter)
    except Conflict as exc:
        return _back(course_id, exc.message)
    return _page(form, adapter, form.course.payment_error, 200)


@bp.post("/care/courses/<int:course_id>/pay")
@roles_required(Role.PATIENT)
@keeps_denials
def care_pay_submit(course_id: int) -> Any:
    """Charge the PaymentMethod the card form made. A decline shows the form again with Stripe's words."""
    adapter = payments()
    now = utcnow()
    try:
        with atomic():  # a decline is kept on the course, so the patient's pages show it too
            method = parse_body(
                PaymentRequest, {"payment_method": request.form.get("payment_method")}
            ).payment_method
            outcome = course_payments.pay(
                db.session, current_user, course_id, method, now, adapter, links=links()
            )
    except ValidationFailed:
        return redirect(url_for("web.care_pay", course_id=course_id))
    except Conflict as exc:
        return _back(course_id, exc.message)
    course = outcome.course
    if outcome.declined is not None:
        with atomic():
            form = course_payments.card_form(db.session, current_user, course_id, now, adapter)
        return _page(form, adapter, outcome.declined.message, 402)
    if outcome.action_secret is not None:
        response = render_template(
            "web/care/authenticate.html",
            course=course,
            client_secret=outcome.action_secret,
            publishable_key=adapter.publishable_key,
            js_url=adapter.js_url,
        )
        return response, 200, {"Content-Security-Policy": _stripe_policy(adapter)}
    return _after_payment(course)


@bp.get("/care/courses/<int:course_id>/pay/done")
@roles_required(Role.PATIENT)
@keeps_denials
def care_pay_done(course_id: int) -> Any:
    """Where the browser lands after 3-D Secure: apply what Stripe says about the payment."""
    with atomic():
        course = course_payments.reconcile(
            db.session, current_user, course_id, utcnow(), payments(), links=links()
        )
    return _after_payment(course)


def _after_payment(course: Any) -> Any:
    if course.status is CourseStatus.BOOKED:
        return _back(
            course.id,
            f"Paid {money(course.balance_cents, course.currency)}. Your {course.total_sessions} sessions "
            f"with {course.therapist.name} are booked; add them to your calendar below.",
            "success",
        )
    if course.status is CourseStatus.PENDING_PAYMENT:
        return redirect(url_for("web.care_pay", course_id=course.id))
    return _back(course.id, course.payment_error or "This course was not paid.")
