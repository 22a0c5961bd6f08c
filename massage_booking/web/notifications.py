"""Notification settings: the patient's reminders toggle (/care/notifications) and the unsubscribe link
in every reminder (/unsubscribe/<token>), which works without logging in.

GET /unsubscribe/<token> only shows a page (mail scanners follow links; a GET must change nothing); its
button POSTs to the same address. That POST is also RFC 8058's one-click unsubscribe, which mail
providers send with `List-Unsubscribe=One-Click` and no cookie or form token: so it is exempt from CSRF,
and the signed token is what authorises it (it can only turn reminders off).
"""

from __future__ import annotations

from typing import Any

from flask import abort, flash, redirect, render_template, request, url_for
from flask_login import current_user

from massage_booking.domain.errors import NotFound
from massage_booking.extensions import csrf, db, links
from massage_booking.models import Role, User
from massage_booking.services import notification_preferences as preferences
from massage_booking.transactions import atomic
from massage_booking.web import bp
from massage_booking.web.session_auth import roles_required


@bp.get("/care/notifications")
@roles_required(Role.PATIENT)
def care_notifications() -> Any:
    return render_template("web/care/notifications.html", enabled=current_user.reminders_enabled)


@bp.post("/care/notifications")
@roles_required(Role.PATIENT)
def save_care_notifications() -> Any:
    choice = request.form.get("reminders")
    if choice not in ("on", "off"):
        flash("Choose whether to get reminders.", "error")
        return render_template("web/care/notifications.html", enabled=current_user.reminders_enabled), 422
    user = db.session.get(User, current_user.id)
    assert user is not None
    with atomic():
        preferences.set_reminders(db.session, user, user, choice == "on", via="settings")
    flash(
        "Reminders are on: you will get an e-mail before each session."
        if choice == "on"
        else "Reminders are off. Confirmations of bookings and changes still come by e-mail.",
        "success",
    )
    return redirect(url_for("web.care_notifications"))


def _user_for(token: str) -> User:
    try:
        return preferences.user_for_token(db.session, token, links().secret_key)
    except NotFound:
        abort(404, description="This unsubscribe link is not valid.")


@bp.get("/unsubscribe/<token>")
def unsubscribe(token: str) -> Any:
    _user_for(token)
    return render_template("web/unsubscribe.html", token=token, done=False)


@bp.post("/unsubscribe/<token>")
@csrf.exempt
def unsubscribe_confirm(token: str) -> Any:
    user = _user_for(token)
    with atomic():
        preferences.set_reminders(db.session, None, user, False, via="unsubscribe_link")
    return render_template("web/unsubscribe.html", token=token, done=True)
