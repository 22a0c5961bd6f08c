"""Account pages. Each view parses the form, calls one accounts service and owns the commit."""

from __future__ import annotations

from typing import Any

from flask import current_app, flash, redirect, render_template, request, url_for
from flask_login import current_user, login_user, logout_user

from massage_booking.auth import bp
from massage_booking.auth.forms import LoginForm, LogoutForm, RegisterForm
from massage_booking.domain.errors import AuthenticationFailed, DomainError
from massage_booking.extensions import db, limiter
from massage_booking.models import Role, User
from massage_booking.services import accounts
from massage_booking.transactions import atomic
from massage_booking.web.forms import apply_errors
from massage_booking.web.session_auth import safe_next_url

HOME_FOR_ROLE = {
    Role.PATIENT: "web.home",
    Role.THERAPIST: "web.my_profile",
    Role.INSURER: "web.insurer_home",
    Role.ADMIN: "web.admin_credentials",
}


def _landing(user: User, next_url: str | None) -> Any:
    return redirect(safe_next_url(next_url) or url_for(HOME_FOR_ROLE[user.role]))


def _login(user: User, remember: bool = False) -> None:
    """Open the login session in the transaction the caller's block commits, then set the cookie."""
    accounts.open_login_session(db.session, user)
    login_user(user, remember=remember)


@bp.route("/register", methods=["GET", "POST"])
@limiter.limit(lambda: current_app.config["AUTH_RATE_LIMIT"], methods=["POST"])
def register() -> Any:
    if current_user.is_authenticated:
        return _landing(current_user, request.args.get("next"))
    form = RegisterForm(next=request.args.get("next", ""))
    status = 200
    if form.validate_on_submit():
        try:
            with atomic():
                user = accounts.register(
                    db.session,
                    email=form.email.data,
                    password=form.password.data,
                    display_name=form.display_name.data,
                    role=Role(form.role.data),
                )
                _login(user)
        except DomainError as exc:
            apply_errors(form, exc)
            status = exc.status
        else:
            flash("Welcome! Your account is ready.", "success")
            return _landing(user, form.next.data)
    elif request.method == "POST":
        status = 422
    return render_template("auth/register.html", form=form), status


@bp.route("/login", methods=["GET", "POST"])
@limiter.limit(lambda: current_app.config["AUTH_RATE_LIMIT"], methods=["POST"])
def login() -> Any:
    if current_user.is_authenticated:
        return _landing(current_user, request.args.get("next"))
    form = LoginForm(next=request.args.get("next", ""))
    status = 200
    if form.validate_on_submit():
        try:
            with atomic():
                user = accounts.authenticate(db.session, form.email.data, form.password.data)
                _login(user, remember=bool(form.remember.data))
        except AuthenticationFailed as exc:
            form.form_errors.append(exc.message)
            status = 401
        else:
            return _landing(user, form.next.data)
    elif request.method == "POST":
        status = 422
    return render_template("auth/login.html", form=form), status


@bp.post("/logout")
def logout() -> Any:
    form = LogoutForm()
    if not form.validate_on_submit():
        return redirect(url_for("web.home"))
    if current_user.is_authenticated:
        with atomic():
            accounts.close_login_session(db.session, current_user.get_id())
    logout_user()
    flash("You are logged out.", "info")
    return redirect(url_for("web.home"))
