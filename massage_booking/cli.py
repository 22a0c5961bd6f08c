"""Operator commands: `flask seed-demo`, `flask create-admin`, `flask refresh-availability`,
`flask expire-holds`, `flask queue-reminders`, `flask send-outbox`, `flask create-insurer`,
`flask issue-insurer-token` and `flask payments reconcile`.

Each command is an edge in the DESIGN.md sense: it owns the transaction (commit on success, rollback on
error) and turns every expected failure into a one-line `click.ClickException`, never a traceback.
"""

from __future__ import annotations

import logging
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path

import click
from flask import Flask, current_app
from flask.cli import with_appcontext
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError, SQLAlchemyError
from tqdm import tqdm

from massage_booking.demo.data import (
    DEFAULT_SEED,
    DEFAULT_THERAPISTS,
    MAX_GENERATED_THERAPISTS,
    DemoReport,
    generated_therapist_count,
    seed_demo,
)
from massage_booking.domain.account_rules import normalize_email, password_problem
from massage_booking.domain.errors import Conflict, DomainError, ValidationFailed
from massage_booking.extensions import db, links, payments
from massage_booking.models import Payer, Role, User
from massage_booking.notifications import outbox, sender
from massage_booking.services import (
    audit,
    course_fit,
    course_payments,
    insurers,
    payment_reconciliation,
    soonest_cache,
)
from massage_booking.services.passwords import hash_password
from massage_booking.transactions import atomic


def register_cli(app: Flask) -> None:
    app.cli.add_command(seed_demo_command)
    app.cli.add_command(create_admin_command)
    app.cli.add_command(refresh_availability_command)
    app.cli.add_command(expire_holds_command)
    app.cli.add_command(queue_reminders_command)
    app.cli.add_command(send_outbox_command)
    app.cli.add_command(create_insurer_command)
    app.cli.add_command(issue_insurer_token_command)
    app.cli.add_command(payments_group)


@contextmanager
def _transaction() -> Iterator[None]:
    """Commit what the block did, or roll it back and explain the failure in one line."""
    try:
        with atomic():
            yield
    except DomainError as exc:
        raise click.ClickException(exc.message) from None
    except SQLAlchemyError as exc:
        reason = str(getattr(exc, "orig", None) or exc).splitlines()[0]
        raise click.ClickException(
            f"The database refused the change ({reason}). "
            "If its tables are missing, run `flask db upgrade` first."
        ) from None


@click.command("seed-demo")
@click.option(
    "--therapists",
    type=click.IntRange(0, MAX_GENERATED_THERAPISTS),
    default=DEFAULT_THERAPISTS,
    show_default=True,
    help="Generated therapists to have in total; existing ones count, so a smaller number adds nothing.",
)
@click.option(
    "--seed", type=int, default=DEFAULT_SEED, show_default=True, help="Random seed for the generated data."
)
@click.option("--force", is_flag=True, help="Run even in production, where public demo passwords are a risk.")
@with_appcontext
def seed_demo_command(therapists: int, seed: int, force: bool) -> None:
    """Add demo payers, plans, logins and therapists; safe to run again (it tops up, never duplicates)."""
    if current_app.config.get("ENV_NAME") == "production" and not force:
        raise click.ClickException(
            "Refusing to seed demo data in production: the demo accounts have published passwords. "
            "Pass --force if this really is a demo deployment."
        )
    session = db.session
    with _transaction():
        existing = min(generated_therapist_count(session), therapists)
        with tqdm(total=therapists, initial=existing, unit=" therapists", file=sys.stderr) as bar:
            report = seed_demo(
                session, therapists, progress=bar.update, seed=seed, commit_every_batch=True, links=links()
            )
    _print_report(report)


def _print_report(report: DemoReport) -> None:
    click.echo(
        f"Created {report.therapists_created:,} therapists, {report.payers_created} payers, "
        f"{report.plans_created} plans and {report.users_created:,} users."
    )
    click.echo(
        f"The database now holds {report.therapists_total:,} therapists "
        f"({report.generated_therapists_total:,} generated), {report.payers_total} payers and "
        f"{report.plans_total} plans."
    )
    click.echo("\nDemo logins (public demo passwords: never use these accounts for real data):")
    width = max(len(login.email) for login in report.logins)
    click.echo(f"  {'ROLE':<10} {'E-MAIL':<{width}}  PASSWORD")
    for login in report.logins:
        click.echo(f"  {login.role.value:<10} {login.email:<{width}}  {login.password}")


def _acceptable_password(value: str) -> str:
    """Used as click's value_proc: raising UsageError makes click say why and ask again."""
    if problem := password_problem(value):
        raise click.UsageError(problem)
    return value


@click.command("create-admin")
@click.option("--email", required=True, help="E-mail address the administrator logs in with.")
@click.option("--name", default="Administrator", show_default=True, help="Name shown in the audit log.")
@with_appcontext
def create_admin_command(email: str, name: str) -> None:
    """Create an administrator account; the password is asked for twice and never echoed."""
    try:
        email_norm = normalize_email(email)
    except DomainError as exc:
        raise click.BadParameter(exc.message, param_hint="--email") from None
    name = name.strip()
    if not 0 < len(name) <= 120:
        raise click.BadParameter("Use 1 to 120 characters.", param_hint="--name")
    session = db.session
    taken = Conflict(f"An account with the e-mail {email_norm} already exists.")
    with _transaction():
        if session.scalar(select(User.id).where(User.email == email_norm)) is not None:
            raise taken
    password = click.prompt(
        "Password", hide_input=True, confirmation_prompt=True, value_proc=_acceptable_password
    )
    with _transaction():
        user = User(
            email=email_norm, password_hash=hash_password(password), role=Role.ADMIN, display_name=name
        )
        session.add(user)
        try:
            session.flush()
        except IntegrityError:  # someone took the address while we were prompting
            raise taken from None
        audit.record(session, None, "account.admin_created", "user", user.id)
    click.echo(f"Created administrator {email_norm}.")


@click.command("refresh-availability")
@click.option("--batch", default=500, show_default=True, help="Therapists recomputed per transaction.")
@with_appcontext
def refresh_availability_command(batch: int) -> None:
    """Recompute the soonest free start of every therapist whose cached one has passed; run it on a
    schedule (every 15 minutes, say) so that "soonest available" searches stay fast."""
    now = datetime.now(UTC)
    with _transaction():
        stale = soonest_cache.stale_therapists(db.session, now)
    for first in range(0, len(stale), max(1, batch)):
        with _transaction():
            for therapist_id in stale[first : first + max(1, batch)]:
                soonest_cache.store_next_available(db.session, therapist_id, now)
    with _transaction():
        fits = course_fit.refresh_lapsing(db.session, now, within=timedelta(minutes=30))
    click.echo(f"Refreshed the soonest free start of {len(stale):,} therapist(s) and {fits:,} course fit(s).")


@click.command("expire-holds")
@with_appcontext
def expire_holds_command() -> None:
    """Release the times of courses not paid before their hold ran out, cancelling their PaymentIntents;
    run it every minute. (Slots are free again at expiry without it; this writes it down.)"""
    with _transaction():
        released, confirmed = course_payments.expire_holds(db.session, datetime.now(UTC), payments(), links())
    click.echo(f"Released {released} expired hold(s); {confirmed} turned out to be paid and were booked.")


def _queue_reminders(now: datetime) -> int:
    hours = float(current_app.config.get("REMINDER_HOURS_BEFORE") or 24)
    with _transaction():
        return outbox.queue_reminders(db.session, now, hours, links())


@click.command("queue-reminders")
@with_appcontext
def queue_reminders_command() -> None:
    """Queue a reminder for each booked session starting within REMINDER_HOURS_BEFORE hours (once per
    session and start time). `flask send-outbox` does this too before sending."""
    count = _queue_reminders(datetime.now(UTC))
    click.echo(f"Queued {count} reminder(s).")


@click.command("send-outbox")
@click.option(
    "--limit", type=click.IntRange(1, 10_000), default=100, show_default=True, help="Messages per run."
)
@click.option(
    "--loop",
    "every",
    type=click.IntRange(1, 3600),
    default=None,
    metavar="SECONDS",
    help="Keep running, sending what is due every SECONDS (for a deployment without cron).",
)
@with_appcontext
def send_outbox_command(limit: int, every: int | None) -> None:
    """Queue the reminders now due, then send the e-mails that are due (confirmations, cancellations,
    moves, reminders); run it every minute. Without MAIL_SERVER they are written to the mail log
    (MAIL_LOG_FILE) instead of sent."""
    settings = sender.MailSettings.from_config(current_app.config)
    _log_mail_to_file(settings)
    while True:
        queued = _queue_reminders(datetime.now(UTC))
        try:
            report = sender.send_pending(db.session, settings, datetime.now(UTC), limit)
        except SQLAlchemyError as exc:
            db.session.rollback()
            reason = str(getattr(exc, "orig", None) or exc).splitlines()[0]
            raise click.ClickException(f"The database refused the change ({reason}).") from None
        log_file = current_app.config.get("MAIL_LOG_FILE") or "the mail logger"
        where = "" if settings.server else f" (logged to {log_file})"
        click.echo(
            f"Sent {report.sent} message(s){where}; {report.retrying} to retry, {report.failed} given up, "
            f"{report.skipped} taken by another sender; {queued} reminder(s) queued, "
            f"{report.withdrawn} withdrawn."
        )
        for reason in report.errors[:5]:
            click.echo(f"  failed: {reason}", err=True)
        if every is None:
            return
        db.session.remove()  # a fresh session (and identity map) for each round
        time.sleep(every)


def _log_mail_to_file(settings: sender.MailSettings) -> None:
    """Development (no MAIL_SERVER): the mail logger writes to MAIL_LOG_FILE."""
    if settings.server or sender.mail_log.handlers:
        return
    path = current_app.config.get("MAIL_LOG_FILE")
    if not path:  # left to the logging configuration (tests read it with caplog)
        return
    Path(path).parent.mkdir(parents=True, exist_ok=True)
    handler = logging.FileHandler(path, encoding="utf-8")
    handler.setFormatter(logging.Formatter("%(asctime)s %(message)s"))
    sender.mail_log.addHandler(handler)
    sender.mail_log.setLevel(logging.INFO)


@click.command("create-insurer")
@click.option(
    "--payer", "payer_code", required=True, help="Code of the payer the account works for (e.g. AETNA)."
)
@click.option("--email", required=True, help="E-mail address the insurer logs in with.")
@click.option("--name", required=True, help="Name shown in the portal and the audit log.")
@with_appcontext
def create_insurer_command(payer_code: str, email: str, name: str) -> None:
    """Create an insurer account of one payer; the password is asked for twice and never echoed."""
    try:
        email_norm = normalize_email(email)
    except DomainError as exc:
        raise click.BadParameter(exc.message, param_hint="--email") from None
    name = name.strip()
    if not 0 < len(name) <= 120:
        raise click.BadParameter("Use 1 to 120 characters.", param_hint="--name")
    session = db.session
    with _transaction():
        payer = insurers.payer_by_code(session, payer_code)
        known = ", ".join(session.scalars(select(Payer.code).order_by(Payer.code))) or "none yet"
        payer_id, payer_name = (payer.id, payer.name) if payer is not None else (None, "")
        taken = session.scalar(select(User.id).where(User.email == email_norm)) is not None
    if payer_id is None:
        raise click.BadParameter(
            f"No payer has the code {payer_code!r} (known: {known}).", param_hint="--payer"
        )
    if taken:
        raise click.ClickException(f"An account with the e-mail {email_norm} already exists.")
    password = click.prompt(
        "Password", hide_input=True, confirmation_prompt=True, value_proc=_acceptable_password
    )
    with _transaction():
        insurers.create_insurer(
            session, None, payer_id=payer_id, email=email_norm, display_name=name, password=password
        )
    click.echo(f"Created insurer {email_norm} for {payer_name}.")


@click.command("issue-insurer-token")
@click.option("--email", required=True, help="E-mail address of the insurer account.")
@click.option(
    "--name", default="API client", show_default=True, help="What uses the token, to tell tokens apart."
)
@click.option(
    "--days",
    type=click.IntRange(1, insurers.MAX_TOKEN_DAYS),
    default=insurers.DEFAULT_TOKEN_DAYS,
    show_default=True,
    help="Days until the token expires.",
)
@with_appcontext
def issue_insurer_token_command(email: str, name: str, days: int) -> None:
    """Issue an API token for an insurer account and print it, once: only its digest is stored."""
    session = db.session
    try:
        user = insurers.insurer_by_email(session, email)
        user_id, email_norm = user.id, user.email
    except DomainError as exc:
        session.rollback()
        raise click.BadParameter(exc.message, param_hint="--email") from None
    with _transaction():
        issued = insurers.issue_token(session, None, user_id, name=name, days=days)
        prefix, expires = issued.record.prefix, issued.expires_at
    click.echo(f"API token for {email_norm} (prefix {prefix}, expires {expires:%Y-%m-%d %H:%M} UTC):")
    click.echo(issued.token)
    click.echo(
        "It is shown only this once; store it in a secrets manager. "
        "Revoke it on the admin Insurers page if it leaks.",
        err=True,
    )


# --- payments: the money ledger against Stripe --------------------------------------------------------


@click.group("payments")
def payments_group() -> None:
    """Card payments: compare the money ledger with Stripe."""


def _since_value(_ctx: click.Context, _param: click.Parameter, value: str | None) -> datetime:
    if value is None:
        return payment_reconciliation.default_since(datetime.now(UTC))
    try:
        return payment_reconciliation.parse_since(value)
    except ValidationFailed as exc:
        raise click.BadParameter(exc.message) from None


@payments_group.command("reconcile")
@click.option(
    "--since",
    callback=_since_value,
    metavar="YYYY-MM-DD",
    help=f"Check PaymentIntents created from this day on, midnight UTC [default: "
    f"{payment_reconciliation.DEFAULT_DAYS} days ago].",
)
@with_appcontext
def reconcile_command(since: datetime) -> None:
    """Compare Stripe's payments and refunds with the ledger and print each difference; exit 1 if there
    is any (so a scheduled run can alert), 0 if they agree. Prints ids and amounts only."""
    with _transaction():
        report = payment_reconciliation.reconcile(db.session, payments(), since)
    for mismatch in report.mismatches:
        click.echo(_mismatch_line(mismatch))
    day = f"{report.since:%Y-%m-%d}"
    count = len(report.mismatches)
    verdict = f"{count} mismatch{'es' if count != 1 else ''}" if count else "no mismatch, they agree"
    click.echo(
        f"Checked {report.payments_checked} payment(s) and {report.refunds_checked} refund(s) on Stripe "
        f"and in the ledger since {day} (UTC): {verdict}."
    )
    if report.not_comparable:
        click.echo(
            f"Not comparable: {report.not_comparable} item(s) of payments from before the ledger (ledger "
            f"ids starting {payment_reconciliation.PRE_LEDGER_PREFIX!r}, and Stripe items of those courses "
            "that have no ledger row)."
        )
    if report.flagged:
        click.echo(f"Note: {len(report.flagged)} flagged payment(s) await review (not mismatches):")
        for charge in report.flagged:
            click.echo(
                f"  course {charge.course_id} {charge.payment_intent_id} "
                f"{charge.amount_cents} {charge.currency} ({charge.outcome.value}), recorded "
                f"{charge.created_at:%Y-%m-%d %H:%M} UTC"
            )
    if count:
        raise SystemExit(1)


def _mismatch_line(m: payment_reconciliation.Mismatch) -> str:
    def cents(value: int | None) -> str:
        return "none" if value is None else f"{value} {m.currency}"

    refund = f" refund {m.refund_id}" if m.refund_id else ""
    return (
        f"MISMATCH {m.kind.value}: course {m.course_id if m.course_id is not None else '-'} "
        f"{m.payment_intent_id or '-'}{refund}; Stripe {cents(m.stripe_cents)}, ledger "
        f"{cents(m.ledger_cents)}. {m.message}"
    )
