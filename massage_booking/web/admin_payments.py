"""Administrators' payments page: the ledger reconciled with Stripe (what `flask payments reconcile`
prints), and the flagged payments waiting for a person to look at them.

"Mark reviewed" is one plain POST with no confirmation step: it only takes a payment off the list (with
the admin's name in the audit log) and moves no money, so a stray click costs nothing that matters, and
the strict CSP rules out an `onsubmit` confirm. The page shows ids and amounts, never who the patient is.
"""

from __future__ import annotations

from typing import Any

from flask import abort, flash, redirect, render_template, request, url_for
from flask_login import current_user
from flask_wtf import FlaskForm

from massage_booking.domain.errors import NotFound, ValidationFailed
from massage_booking.extensions import db, payments
from massage_booking.models import Role, utcnow
from massage_booking.payments import PaymentError
from massage_booking.services import payment_reconciliation
from massage_booking.transactions import atomic
from massage_booking.web import bp
from massage_booking.web.session_auth import roles_required


@bp.get("/admin/payments")
@roles_required(Role.ADMIN)
def admin_payments() -> Any:
    """The reconciliation since `?since=YYYY-MM-DD` (30 days by default) and the flagged payments."""
    raw = request.args.get("since", "").strip()
    since_error: str | None = None
    since = payment_reconciliation.default_since(utcnow())
    if raw:
        try:
            since = payment_reconciliation.parse_since(raw)
        except ValidationFailed as exc:
            since_error = exc.message
    adapter = payments()
    report: payment_reconciliation.Report | None = None
    stripe_error: str | None = None
    status = 200
    if since_error is not None:
        status = 422
    elif adapter.enabled:
        try:
            report = payment_reconciliation.reconcile(db.session, adapter, since)
        except PaymentError as exc:
            stripe_error, status = exc.message, 502
    flagged = report.flagged if report is not None else payment_reconciliation.flagged_charges(db.session)
    page = render_template(
        "web/admin_payments.html",
        report=report,
        flagged=flagged,
        since=since,
        since_text=raw or f"{since:%Y-%m-%d}",
        since_error=since_error,
        since_query=raw if since_error is None else "",
        stripe_error=stripe_error,
        payments_enabled=adapter.enabled,
    )
    return page, status


@bp.post("/admin/payments/charges/<int:charge_id>/reviewed")
@roles_required(Role.ADMIN)
def mark_payment_reviewed(charge_id: int) -> Any:
    form = FlaskForm()
    if not form.validate():
        abort(400, description="This form expired. Reload the page and try again.")
    try:
        with atomic():
            changed = payment_reconciliation.mark_reviewed(db.session, current_user, charge_id)
    except NotFound as exc:
        abort(404, description=exc.message)
    if changed:
        flash(
            "Marked the payment reviewed: it is off the list, and the audit log says you did it.", "success"
        )
    else:
        flash("Someone had already marked that payment reviewed. Nothing was changed.", "info")
    since = request.form.get("since", "")
    return redirect(url_for("web.admin_payments", since=since or None) + "#flagged")
