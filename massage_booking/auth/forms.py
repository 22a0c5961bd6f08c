"""Forms for the account pages. Field rules live in services/accounts.py; these only shape the input
and carry the CSRF token, so the API and the pages cannot disagree about what is valid."""

from __future__ import annotations

from flask_wtf import FlaskForm
from wtforms import BooleanField, EmailField, HiddenField, PasswordField, RadioField, StringField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import EqualTo, InputRequired

from massage_booking.domain.account_rules import MIN_PASSWORD_LENGTH


class RegisterForm(FlaskForm):
    display_name = StringField("Your name", validators=[InputRequired("Enter your name.")])
    email = EmailField("E-mail", validators=[InputRequired("Enter your e-mail address.")])
    password = PasswordField(
        f"Password (at least {MIN_PASSWORD_LENGTH} characters)",
        validators=[InputRequired("Choose a password.")],
    )
    confirm = PasswordField(
        "Repeat the password",
        validators=[
            InputRequired("Repeat the password."),
            EqualTo("password", "The passwords do not match."),
        ],
    )
    role = RadioField(
        "I am",
        choices=[
            SelectChoice("patient", "looking for care (patient)"),
            SelectChoice("therapist", "a massage therapist"),
        ],
        default="patient",
        validators=[InputRequired("Choose patient or therapist.")],
    )
    next = HiddenField()


class LoginForm(FlaskForm):
    email = EmailField("E-mail", validators=[InputRequired("Enter your e-mail address.")])
    password = PasswordField("Password", validators=[InputRequired("Enter your password.")])
    remember = BooleanField("Keep me logged in on this device")
    next = HiddenField()


class LogoutForm(FlaskForm):
    """Logging out is a POST with a CSRF token, so another site cannot log a user out."""
