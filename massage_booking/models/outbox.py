"""The e-mail outbox: one row per message per recipient, written in the transaction of the change that
causes it and sent after the commit by `flask send-outbox` (massage_booking/notifications/sender.py).

A rolled-back booking rolls back its messages with it. `dedupe_key` is unique, so the same event (say, a
course becoming booked, which the card payment and its webhook can both report) is queued once. Nothing
here may hold health information: subjects and bodies carry times, places, names, counts, amounts and links.
"""

from __future__ import annotations

import enum
from datetime import datetime
from typing import Any

from sqlalchemy import JSON, CheckConstraint, ForeignKey, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from massage_booking.models.base import Base, portable_enum, utcnow


class OutboxStatus(enum.StrEnum):
    PENDING = "pending"  # waiting for its next_attempt_at
    SENDING = "sending"  # claimed by a sender until claimed_until; a crashed sender's claim lapses
    SENT = "sent"
    FAILED = "failed"  # gave up after the last attempt


class OutboxMessage(Base):
    __tablename__ = "outbox_messages"
    __table_args__ = (CheckConstraint("attempts >= 0", name="attempts_not_negative"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    # What caused it and for whom, e.g. "course-42-booked-patient": unique, so an event queues once.
    dedupe_key: Mapped[str] = mapped_column(String(200), unique=True)
    kind: Mapped[str] = mapped_column(String(40))
    recipient: Mapped[str] = mapped_column(String(254))
    subject: Mapped[str] = mapped_column(String(200))
    text_body: Mapped[str] = mapped_column(Text)
    html_body: Mapped[str] = mapped_column(Text)
    # [{"filename", "content_type", "content" (base64)}]
    attachments: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)
    # Extra headers, e.g. List-Unsubscribe on reminders: {"List-Unsubscribe": "<https://...>", ...}.
    headers: Mapped[dict[str, str] | None] = mapped_column(JSON)
    # The session a reminder is about: the sender checks it is still booked at that time before sending.
    appointment_id: Mapped[int | None] = mapped_column(ForeignKey("appointments.id", ondelete="CASCADE"))
    status: Mapped[OutboxStatus] = mapped_column(
        portable_enum(OutboxStatus, "outbox_status"), default=OutboxStatus.PENDING
    )
    attempts: Mapped[int] = mapped_column(default=0)
    next_attempt_at: Mapped[datetime] = mapped_column(default=utcnow, index=True)
    claimed_until: Mapped[datetime | None]
    claim: Mapped[str | None] = mapped_column(String(64))
    sent_at: Mapped[datetime | None]
    # The last failure in a few words (exception type and SMTP reply): never the body or the address.
    last_error: Mapped[str | None] = mapped_column(String(300))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
