"""Sending the outbox: `flask send-outbox` (once, from cron) or `flask send-outbox --loop N`.

Claiming: the due ids are read, then each row is claimed on its own with a compare-and-swap UPDATE

    UPDATE outbox_messages SET status='sending', claimed_until=now+CLAIM, claim=<token>
    WHERE id=:id AND next_attempt_at <= now
      AND (status='pending' OR (status='sending' AND claimed_until < now))

and the claim is committed before the message goes out. Of two senders racing for a row exactly one
UPDATE matches (the other sees rowcount 0 and moves on), on SQLite and PostgreSQL alike; a sender that dies
mid-send leaves a claim that lapses after CLAIM, when another sender may take the row again (so a crash
between the SMTP reply and the commit can, rarely, send one message twice: at least once, never lost).
The outcome is written only by the holder of the claim (`WHERE claim = <token>`).

Reminders are checked again just before they go out (notifications/outbox.py, reminder_still_wanted): one
whose session was cancelled, released or moved since it was queued, or whose patient turned reminders off,
is withdrawn (its row deleted under the claim) instead of sent.

Failures: attempts + 1, a short error without body or address, and a later `next_attempt_at` by BACKOFF;
after the last step the row is `failed`. Without MAIL_SERVER (development) messages are written to the
"massage_booking.mail" logger (and MAIL_LOG_FILE) instead, and marked sent.
"""

from __future__ import annotations

import base64
import contextlib
import logging
import re
import secrets
import smtplib
import ssl
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from email.message import EmailMessage
from email.utils import formatdate
from typing import Any, Protocol

from sqlalchemy import and_, delete, or_, select, update
from sqlalchemy.orm import Session

from massage_booking.models import OutboxMessage, OutboxStatus
from massage_booking.notifications.outbox import reminder_still_wanted

CLAIM = timedelta(minutes=5)
# Wait before attempt 2, 3, ...; a message still failing after the last one is given up (`failed`).
BACKOFF = (
    timedelta(minutes=1),
    timedelta(minutes=5),
    timedelta(minutes=30),
    timedelta(hours=2),
    timedelta(hours=12),
)
MAX_ATTEMPTS = len(BACKOFF) + 1
mail_log = logging.getLogger("massage_booking.mail")
_EMAIL = re.compile(r"[^\s<>@\"']+@([A-Za-z0-9.-]+)")


@dataclass(frozen=True)
class MailSettings:
    server: str | None
    port: int = 587
    use_tls: bool = True
    use_ssl: bool = False
    username: str | None = None
    password: str | None = None
    sender: str = "massage_booking <no-reply@localhost>"
    timeout: float = 10.0

    @classmethod
    def from_config(cls, config: Mapping[str, Any]) -> MailSettings:
        return cls(
            server=config.get("MAIL_SERVER") or None,
            port=int(config.get("MAIL_PORT") or 587),
            use_tls=bool(config.get("MAIL_USE_TLS")),
            use_ssl=bool(config.get("MAIL_USE_SSL")),
            username=config.get("MAIL_USERNAME") or None,
            password=config.get("MAIL_PASSWORD") or None,
            sender=config.get("MAIL_SENDER") or cls.sender,
            timeout=float(config.get("MAIL_TIMEOUT") or 10),
        )


@dataclass
class SendReport:
    sent: int = 0
    retrying: int = 0
    failed: int = 0
    skipped: int = 0  # claimed by another sender first
    withdrawn: int = 0  # reminders no longer wanted (session cancelled or moved, reminders turned off)
    errors: list[str] = field(default_factory=list)


class Transport(Protocol):
    def send(self, message: EmailMessage) -> None: ...
    def close(self) -> None: ...


class SmtpTransport:
    """One SMTP connection, opened at the first message and reused; dropped after an error."""

    def __init__(self, settings: MailSettings) -> None:
        self.settings = settings
        self._smtp: smtplib.SMTP | None = None

    def _connect(self) -> smtplib.SMTP:
        s = self.settings
        assert s.server is not None
        smtp: smtplib.SMTP
        if s.use_ssl:
            smtp = smtplib.SMTP_SSL(s.server, s.port, timeout=s.timeout, context=ssl.create_default_context())
        else:
            smtp = smtplib.SMTP(s.server, s.port, timeout=s.timeout)
            if s.use_tls:
                smtp.starttls(context=ssl.create_default_context())
        if s.username:
            smtp.login(s.username, s.password or "")
        return smtp

    def send(self, message: EmailMessage) -> None:
        if self._smtp is None:
            self._smtp = self._connect()
        try:
            self._smtp.send_message(message)
        except Exception:
            self.close()
            raise

    def close(self) -> None:
        if self._smtp is not None:
            with contextlib.suppress(Exception):  # the connection may be broken already
                self._smtp.quit()
            self._smtp = None


class LogTransport:
    """Development: write each message (recipient, subject, text body) to the mail logger."""

    def send(self, message: EmailMessage) -> None:
        body = message.get_body(preferencelist=("plain",))
        text = body.get_content() if body is not None else ""
        names = [part.get_filename() for part in message.iter_attachments()]
        mail_log.info(
            "To: %s\nSubject: %s\nAttachments: %s\n\n%s\n%s",
            message["To"],
            message["Subject"],
            ", ".join(n for n in names if n) or "none",
            text.rstrip(),
            "=" * 72,
        )

    def close(self) -> None:
        pass


def transport_for(settings: MailSettings) -> Transport:
    return SmtpTransport(settings) if settings.server else LogTransport()


def build_email(row: OutboxMessage, sender: str) -> EmailMessage:
    message = EmailMessage()
    message["From"] = sender
    message["To"] = row.recipient
    message["Subject"] = row.subject
    message["Date"] = formatdate(localtime=False)
    domain = sender.rsplit("@", 1)[-1].strip("> ") or "localhost"
    # Stable per row: a receiver that sees the same message twice (a sender crashed after sending) can
    # tell it is one message.
    message["Message-ID"] = f"<outbox-{row.id}-{row.created_at:%Y%m%d%H%M%S}@{domain}>"
    message.set_content(row.text_body)
    message.add_alternative(row.html_body, subtype="html")
    for name, value in (row.headers or {}).items():
        message[name] = value
    for item in row.attachments:
        maintype, _, subtype = item["content_type"].partition("/")
        message.add_attachment(
            base64.b64decode(item["content"]), maintype=maintype, subtype=subtype, filename=item["filename"]
        )
    return message


def short_error(error: BaseException) -> str:
    """The failure in a few words, with any address cut to its domain: never the body or the recipient."""
    if isinstance(error, smtplib.SMTPResponseException):
        detail = error.smtp_error.decode("utf-8", "replace") if isinstance(error.smtp_error, bytes) else ""
        text = f"{type(error).__name__}: {error.smtp_code} {detail}"
    elif isinstance(error, smtplib.SMTPRecipientsRefused):
        codes = sorted({code for code, _ in error.recipients.values()})
        text = f"SMTPRecipientsRefused: {codes}"
    else:
        text = f"{type(error).__name__}: {error}"
    return _EMAIL.sub(r"...@\1", " ".join(text.split()))[:300]


def due_ids(session: Session, now: datetime, limit: int) -> list[int]:
    return list(
        session.scalars(
            select(OutboxMessage.id)
            .where(
                OutboxMessage.next_attempt_at <= now,
                or_(
                    OutboxMessage.status == OutboxStatus.PENDING,
                    and_(OutboxMessage.status == OutboxStatus.SENDING, OutboxMessage.claimed_until < now),
                ),
            )
            .order_by(OutboxMessage.next_attempt_at, OutboxMessage.id)
            .limit(limit)
        )
    )


def claim(session: Session, message_id: int, now: datetime) -> str | None:
    """Claim one row (the compare-and-swap above) and commit; the token, or None if another sender has it."""
    token = secrets.token_hex(16)
    result = session.execute(
        update(OutboxMessage)
        .where(
            OutboxMessage.id == message_id,
            OutboxMessage.next_attempt_at <= now,
            or_(
                OutboxMessage.status == OutboxStatus.PENDING,
                and_(OutboxMessage.status == OutboxStatus.SENDING, OutboxMessage.claimed_until < now),
            ),
        )
        .values(status=OutboxStatus.SENDING, claimed_until=now + CLAIM, claim=token)
        .execution_options(synchronize_session=False)
    )
    session.commit()
    return token if result.rowcount == 1 else None


def _finish(session: Session, message_id: int, token: str, **values: Any) -> None:
    session.execute(
        update(OutboxMessage)
        .where(OutboxMessage.id == message_id, OutboxMessage.claim == token)
        .values(claim=None, claimed_until=None, **values)
        .execution_options(synchronize_session=False)
    )
    session.commit()


def send_pending(
    session: Session,
    settings: MailSettings,
    now: datetime,
    limit: int = 100,
    transport: Transport | None = None,
) -> SendReport:
    """Send what is due at `now`, at most `limit` messages, committing as it goes (this is an edge: it owns
    its transactions). Returns what happened."""
    report = SendReport()
    own_transport = transport is None
    transport = transport or transport_for(settings)
    ids = due_ids(session, now, limit)
    session.commit()
    try:
        for message_id in ids:
            token = claim(session, message_id, now)
            if token is None:
                report.skipped += 1
                continue
            row = session.get(OutboxMessage, message_id, populate_existing=True)
            assert row is not None
            if not reminder_still_wanted(session, row):
                # Withdrawn, not failed: the row goes, so a reminder for a session's new time (or for a
                # patient who turns reminders back on) can be queued again under its own key.
                session.execute(
                    delete(OutboxMessage)
                    .where(OutboxMessage.id == message_id, OutboxMessage.claim == token)
                    .execution_options(synchronize_session=False)
                )
                session.commit()
                report.withdrawn += 1
                continue
            attempts = row.attempts + 1
            try:
                transport.send(build_email(row, settings.sender))
            except Exception as error:  # noqa: BLE001 - any failure is recorded and retried
                reason = short_error(error)
                report.errors.append(reason)
                if attempts >= MAX_ATTEMPTS:
                    report.failed += 1
                    outcome: dict[str, Any] = {"status": OutboxStatus.FAILED}
                else:
                    report.retrying += 1
                    outcome = {"status": OutboxStatus.PENDING, "next_attempt_at": now + BACKOFF[attempts - 1]}
                _finish(session, message_id, token, attempts=attempts, last_error=reason, **outcome)
                continue
            _finish(
                session,
                message_id,
                token,
                status=OutboxStatus.SENT,
                attempts=attempts,
                sent_at=now,
                last_error=None,
            )
            report.sent += 1
    finally:
        if own_transport:
            transport.close()
    return report
