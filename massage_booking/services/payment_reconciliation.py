"""Reconciling the money ledger with Stripe: `flask payments reconcile` and the admin payments page.

The ledger (models/payments.py) is what the product believes it charged and gave back; Stripe is what
actually happened to the money. They can drift apart without any bug in the code that writes the ledger: a
payment or refund made in Stripe's dashboard or with another key (behind the app's back), a commit that
failed after Stripe had already refunded, a refund that Stripe later failed. Nothing else would notice, so
this compares the two, item by item and per PaymentIntent, and says where they differ.

`compare` is the whole comparison, on plain lists, so every kind of difference is tested without Stripe;
`reconcile` gathers those lists (Stripe's listings, the ledger rows they touch, the PaymentIntents the
ledger names that the listing missed). Only identifiers and amounts leave this module: no names, e-mail
addresses or anything about the care.
"""

from __future__ import annotations

import dataclasses
import enum
import re
from collections.abc import Collection, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from typing import TypeVar

from sqlalchemy import select
from sqlalchemy.orm import Session

from massage_booking.domain.errors import Forbidden, NotFound, ValidationFailed
from massage_booking.formatting import money
from massage_booking.models import ChargeOutcome, Course, CourseCharge, CourseRefund, Role, User, utcnow
from massage_booking.payments import ListedPaymentIntent, ListedRefund, StripePayments
from massage_booking.services import audit

StripeIntent = ListedPaymentIntent
StripeRefund = ListedRefund

DEFAULT_DAYS = 30
# Rows migration 0011 made for payments taken before the ledger existed: no real PaymentIntent id.
PRE_LEDGER_PREFIX = "pre-ledger-"
# Refund states in which the money is (or is about to be) back with the patient; `failed` and `canceled`
# gave nothing back.
REFUND_COUNTS = frozenset({"succeeded", "pending", "requires_action"})
_DATE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")
_CHUNK = 500  # ids per IN (...): well under SQLite's and PostgreSQL's parameter limits

T = TypeVar("T")
L = TypeVar("L", CourseCharge, CourseRefund)


class MismatchKind(enum.StrEnum):
    """A stable code per way Stripe and the ledger can disagree, for scripts reading the CLI's output."""

    CHARGE_NOT_IN_LEDGER = "charge_not_in_ledger"
    CHARGE_UNKNOWN_TO_STRIPE = "charge_unknown_to_stripe"
    CHARGE_NOT_SUCCEEDED = "charge_not_succeeded"
    CHARGE_AMOUNT_DIFFERS = "charge_amount_differs"
    CHARGE_COURSE_DIFFERS = "charge_course_differs"
    REFUND_NOT_IN_LEDGER = "refund_not_in_ledger"
    REFUND_UNKNOWN_TO_STRIPE = "refund_unknown_to_stripe"
    REFUND_NOT_SUCCEEDED = "refund_not_succeeded"
    REFUND_AMOUNT_DIFFERS = "refund_amount_differs"
    REFUND_PAYMENT_DIFFERS = "refund_payment_differs"
    NOT_GIVEN_BACK = "not_given_back"
    KEPT_DIFFERS = "kept_differs"


@dataclass(frozen=True, slots=True)
class LedgerCharge:
    """A `course_charges` row, as plain data."""

    id: int
    course_id: int
    payment_intent_id: str
    amount_cents: int
    currency: str
    outcome: ChargeOutcome

    @property
    def pre_ledger(self) -> bool:
        return self.payment_intent_id.startswith(PRE_LEDGER_PREFIX)


@dataclass(frozen=True, slots=True)
class LedgerRefund:
    """A `course_refunds` row, as plain data."""

    stripe_refund_id: str
    course_id: int
    payment_intent_id: str
    amount_cents: int
    currency: str

    @property
    def pre_ledger(self) -> bool:
        return self.payment_intent_id.startswith(PRE_LEDGER_PREFIX)


@dataclass(frozen=True, slots=True)
class Mismatch:
    """One disagreement. Amounts are integer cents in `currency`; None where that side has nothing."""

    kind: MismatchKind
    course_id: int | None
    payment_intent_id: str | None
    stripe_cents: int | None
    ledger_cents: int | None
    currency: str
    message: str
    refund_id: str | None = None


@dataclass(frozen=True, slots=True)
class FlaggedCharge:
    """A payment the ledger flagged for a person to look at (the wrong amount or currency), not yet
    reviewed. It was refunded whole when it arrived; the review is about why it happened."""

    id: int
    course_id: int
    payment_intent_id: str
    amount_cents: int
    currency: str
    outcome: ChargeOutcome
    created_at: datetime


@dataclass(frozen=True)
class Report:
    since: datetime
    payments_checked: int
    refunds_checked: int
    mismatches: list[Mismatch]
    # Ledger rows from before the ledger (no real PaymentIntent id), and Stripe items of their courses
    # that have no ledger row of their own: there is nothing to compare them with.
    not_comparable: int = 0
    flagged: list[FlaggedCharge] = field(default_factory=list)

    @property
    def agrees(self) -> bool:
        return not self.mismatches


# ------------------------------------------------------------------------------------------ dates


def default_since(now: datetime) -> datetime:
    """Midnight UTC, DEFAULT_DAYS days before `now`."""
    return datetime.combine(now.astimezone(UTC).date() - timedelta(days=DEFAULT_DAYS), time(), UTC)


def parse_since(text: str) -> datetime:
    """A YYYY-MM-DD date as midnight UTC. Only that form: `date.fromisoformat` also takes "20260101" and
    week dates, which nobody types on purpose."""
    value = text.strip()
    try:
        if not _DATE.fullmatch(value):
            raise ValueError
        day = date.fromisoformat(value)
    except ValueError:
        raise ValidationFailed.for_field("since", "Give a date as YYYY-MM-DD, e.g. 2026-01-31.") from None
    return datetime.combine(day, time(), UTC)


# ------------------------------------------------------------------------------------- comparison


def compare(
    since: datetime,
    intents: Sequence[StripeIntent],
    refunds: Sequence[StripeRefund],
    charges: Sequence[LedgerCharge],
    ledger_refunds: Sequence[LedgerRefund],
    *,
    known_course_ids: Collection[int] | None = None,
) -> Report:
    """Compare Stripe's records with the ledger's.

    The caller supplies every PaymentIntent it wants checked, each with *all* of its Stripe refunds and
    all of its ledger rows, and also every PaymentIntent that a given ledger row names: a ledger row whose
    PaymentIntent is missing from `intents` is taken to be one Stripe does not know. PaymentIntents that
    name no course and that no ledger row names are not ours, and are ignored with their refunds.

    Per PaymentIntent the item checks come first (the charge, then each refund); what Stripe kept (the
    amount less the refunds that gave money back) is compared with what the ledger says was kept only
    where no item check already explains the difference, so one stray payment is one line, not two.
    """
    run = _Comparison(intents, refunds, charges, ledger_refunds, known_course_ids)
    run.check_charges()
    run.check_refunds()
    run.check_kept()
    return run.report(since)


class _Comparison:
    """One run of `compare`. The checks share the inputs' indexes and what earlier checks found (which
    PaymentIntents an item mismatch already explains), so they are methods on one object, run in order."""

    def __init__(
        self,
        intents: Sequence[StripeIntent],
        refunds: Sequence[StripeRefund],
        charges: Sequence[LedgerCharge],
        ledger_refunds: Sequence[LedgerRefund],
        known_course_ids: Collection[int] | None,
    ) -> None:
        self.known_course_ids = known_course_ids
        self.charges = [c for c in charges if not c.pre_ledger]
        self.ledger_refunds = [r for r in ledger_refunds if not r.pre_ledger]
        self.pre_ledger_ids = {r.stripe_refund_id for r in ledger_refunds if r.pre_ledger}
        self.pre_ledger_courses = {c.course_id for c in charges if c.pre_ledger} | {
            r.course_id for r in ledger_refunds if r.pre_ledger
        }
        self.not_comparable = (len(charges) - len(self.charges)) + len(self.pre_ledger_ids)

        self.charge_by_intent = {c.payment_intent_id: c for c in self.charges}
        named_by_ledger = set(self.charge_by_intent) | {r.payment_intent_id for r in self.ledger_refunds}
        self.ours = {i.id: i for i in intents if i.course_id is not None or i.id in named_by_ledger}
        self.stripe_refunds = _refunds_of_ours(refunds, self.ours)
        self.ledger_refund_by_id = {r.stripe_refund_id: r for r in self.ledger_refunds}

        self.mismatches: list[Mismatch] = []
        self.explained: set[str] = set()  # PaymentIntents with an item-level mismatch

    def add(self, mismatch: Mismatch) -> None:
        self.mismatches.append(mismatch)
        if mismatch.payment_intent_id is not None:
            self.explained.add(mismatch.payment_intent_id)

    # Charges: each succeeded PaymentIntent of ours has one ledger row, and each row one such intent.

    def check_charges(self) -> None:
        for intent in self.ours.values():
            if intent.succeeded and intent.id not in self.charge_by_intent:
                self._check_unbooked_charge(intent)
        for charge in self.charges:
            found = _charge_mismatch(charge, self.ours.get(charge.payment_intent_id))
            if found is not None:
                self.add(found)

    def _check_unbooked_charge(self, intent: StripeIntent) -> None:
        if intent.course_id in self.pre_ledger_courses:
            self.not_comparable += 1
            return
        unknown = self.known_course_ids is not None and intent.course_id not in self.known_course_ids
        where = " for a course this database does not have" if unknown else ""
        self.add(
            Mismatch(
                MismatchKind.CHARGE_NOT_IN_LEDGER,
                intent.course_id,
                intent.id,
                intent.amount,
                None,
                intent.currency,
                f"Charged on Stripe{where}, not in the ledger: a payment made outside the app, or one "
                "whose confirmation was never applied.",
            )
        )

    # Refunds: each one of ours on Stripe that gave money back has a ledger row, and each row its refund.

    def check_refunds(self) -> None:
        for refund, intent_id in self.stripe_refunds.values():
            self._check_refund(refund, intent_id)
        for row in self.ledger_refunds:
            if row.stripe_refund_id not in self.stripe_refunds:
                self.add(
                    Mismatch(
                        MismatchKind.REFUND_UNKNOWN_TO_STRIPE,
                        row.course_id,
                        row.payment_intent_id,
                        None,
                        row.amount_cents,
                        row.currency,
                        "In the ledger as refunded, but Stripe has no such refund on this payment.",
                        refund_id=row.stripe_refund_id,
                    )
                )

    def _check_refund(self, refund: StripeRefund, intent_id: str) -> None:
        if refund.id in self.pre_ledger_ids:
            self.explained.add(intent_id)  # not comparable: nor is what its payment kept
            return
        row = self.ledger_refund_by_id.get(refund.id)
        if row is None:
            self._check_unbooked_refund(refund, intent_id)
            return
        found = _refund_row_mismatch(refund, intent_id, row)
        if found is None:
            return
        if found.kind is MismatchKind.REFUND_PAYMENT_DIFFERS:
            self.explained.add(row.payment_intent_id)
        self.add(found)

    def _check_unbooked_refund(self, refund: StripeRefund, intent_id: str) -> None:
        if refund.status not in REFUND_COUNTS:
            return  # gave nothing back, and the ledger counts nothing: they agree
        course_id = self.ours[intent_id].course_id
        if course_id in self.pre_ledger_courses:
            self.not_comparable += 1
            self.explained.add(intent_id)  # nor, then, is what its payment kept
            return
        self.add(
            _refund_mismatch(
                MismatchKind.REFUND_NOT_IN_LEDGER,
                refund,
                intent_id,
                course_id,
                None,
                "Refunded on Stripe, not in the ledger: a refund made outside the app, or one whose "
                "cancellation failed to commit.",
            )
        )

    # Per PaymentIntent: what Stripe kept against what the ledger says was kept.

    def check_kept(self) -> None:
        for intent in self.ours.values():
            if intent.id in self.explained:
                continue
            charge = self.charge_by_intent.get(intent.id)
            if charge is None and intent.course_id in self.pre_ledger_courses:
                continue
            found = self._kept_mismatch(intent, charge)
            if found is not None:
                self.add(found)

    def _kept_mismatch(self, intent: StripeIntent, charge: LedgerCharge | None) -> Mismatch | None:
        stripe_kept = intent.received - sum(
            r.amount
            for r, pi in self.stripe_refunds.values()
            if pi == intent.id and r.status in REFUND_COUNTS
        )
        ledger_kept = 0
        if charge is not None:
            ledger_kept = charge.amount_cents - sum(
                r.amount_cents for r in self.ledger_refunds if r.payment_intent_id == intent.id
            )
        if stripe_kept != ledger_kept:
            return Mismatch(
                MismatchKind.KEPT_DIFFERS,
                intent.course_id,
                intent.id,
                stripe_kept,
                ledger_kept,
                intent.currency,
                f"Stripe kept {money(stripe_kept, intent.currency)} of this payment, the ledger says "
                f"{money(ledger_kept, intent.currency)}.",
            )
        if charge is not None and charge.outcome is not ChargeOutcome.PAID and stripe_kept != 0:
            return Mismatch(
                MismatchKind.NOT_GIVEN_BACK,
                charge.course_id,
                intent.id,
                stripe_kept,
                0,
                intent.currency,
                f"The ledger marks this payment {charge.outcome.value}, which is refunded whole, but "
                f"{money(stripe_kept, intent.currency)} of it is still kept.",
            )
        return None

    def report(self, since: datetime) -> Report:
        checked_payments = {pi for pi, i in self.ours.items() if i.succeeded} | set(self.charge_by_intent)
        checked_refunds = set(self.stripe_refunds) | set(self.ledger_refund_by_id)
        return Report(
            since=since,
            payments_checked=len(checked_payments),
            refunds_checked=len(checked_refunds),
            mismatches=sorted(self.mismatches, key=_mismatch_order),
            not_comparable=self.not_comparable,
        )


def _refunds_of_ours(
    refunds: Iterable[StripeRefund], ours: Mapping[str, StripeIntent]
) -> dict[str, tuple[StripeRefund, str]]:
    """Stripe's refunds of our PaymentIntents, by refund id, each with its PaymentIntent. A refund may
    name only the charge it refunds; the PaymentIntent is then the one whose latest charge that is."""
    intent_of_charge = {i.latest_charge_id: i.id for i in ours.values() if i.latest_charge_id}
    found: dict[str, tuple[StripeRefund, str]] = {}
    for refund in refunds:
        intent_id = refund.payment_intent_id or intent_of_charge.get(refund.charge_id or "")
        if intent_id in ours:
            found[refund.id] = (refund, intent_id)
    return found


def _charge_mismatch(charge: LedgerCharge, intent: StripeIntent | None) -> Mismatch | None:
    def mismatch(kind: MismatchKind, stripe_cents: int | None, message: str) -> Mismatch:
        return Mismatch(
            kind,
            charge.course_id,
            charge.payment_intent_id,
            stripe_cents,
            charge.amount_cents,
            charge.currency,
            message,
        )

    if intent is None:
        return mismatch(
            MismatchKind.CHARGE_UNKNOWN_TO_STRIPE,
            None,
            "In the ledger as charged, but Stripe has no such payment.",
        )
    if not intent.succeeded:
        return mismatch(
            MismatchKind.CHARGE_NOT_SUCCEEDED,
            intent.amount,
            f"In the ledger as charged, but on Stripe this payment is {intent.status}.",
        )
    if (intent.amount, intent.currency) != (charge.amount_cents, charge.currency):
        return mismatch(
            MismatchKind.CHARGE_AMOUNT_DIFFERS,
            intent.amount,
            f"Stripe charged {money(intent.amount, intent.currency)}, the ledger says "
            f"{money(charge.amount_cents, charge.currency)}.",
        )
    if intent.course_id is not None and intent.course_id != charge.course_id:
        return mismatch(
            MismatchKind.CHARGE_COURSE_DIFFERS,
            intent.amount,
            f"Stripe's payment names course {intent.course_id}, the ledger books it to course "
            f"{charge.course_id}.",
        )
    return None


def _refund_mismatch(
    kind: MismatchKind,
    refund: StripeRefund,
    intent_id: str,
    course_id: int | None,
    row: LedgerRefund | None,
    message: str,
) -> Mismatch:
    return Mismatch(
        kind,
        course_id,
        intent_id,
        refund.amount,
        row.amount_cents if row is not None else None,
        refund.currency,
        message,
        refund_id=refund.id,
    )


def _refund_row_mismatch(refund: StripeRefund, intent_id: str, row: LedgerRefund) -> Mismatch | None:
    """How a Stripe refund differs from its ledger row, the first difference only: one refund is one line."""
    if refund.status not in REFUND_COUNTS:
        return _refund_mismatch(
            MismatchKind.REFUND_NOT_SUCCEEDED,
            refund,
            intent_id,
            row.course_id,
            row,
            f"The ledger counts this refund as given back, but on Stripe it is {refund.status}.",
        )
    if (refund.amount, refund.currency) != (row.amount_cents, row.currency):
        return _refund_mismatch(
            MismatchKind.REFUND_AMOUNT_DIFFERS,
            refund,
            intent_id,
            row.course_id,
            row,
            f"Stripe refunded {money(refund.amount, refund.currency)}, the ledger says "
            f"{money(row.amount_cents, row.currency)}.",
        )
    if row.payment_intent_id != intent_id:
        return _refund_mismatch(
            MismatchKind.REFUND_PAYMENT_DIFFERS,
            refund,
            intent_id,
            row.course_id,
            row,
            f"Stripe made this refund on {intent_id}, the ledger records it on {row.payment_intent_id}.",
        )
    return None


def _mismatch_order(m: Mismatch) -> tuple[int, str, str, str]:
    return (m.course_id or 0, m.payment_intent_id or "", m.kind.value, m.refund_id or "")


# -------------------------------------------------------------------------------------- gathering


def reconcile(session: Session, payments: StripePayments, since: datetime) -> Report:
    """Compare Stripe with the ledger for PaymentIntents created since `since` (and the older ones that a
    refund since `since`, or a ledger row since then, touches), plus the flagged charges of any date.

    Read-only: it writes nothing, so the caller's transaction only has to end. Raises `PaymentsDisabled`
    without Stripe settings and `PaymentError` if Stripe cannot be asked: a half-fetched listing would
    report differences that are not there.
    """
    listed = payments.list_payment_intents(since)
    # All of them go to `compare`, which keeps ours: one without our metadata may still be named by a
    # ledger row, and must not then look unknown to Stripe.
    intents = {i.id: i for i in listed}
    ours = [i for i in listed if i.course_id is not None]
    refunds = {r.id: r for r in payments.list_refunds(since)}

    charges = {c.payment_intent_id: c for c in _since(session, CourseCharge, since)}
    # A charge row can be a moment older than its PaymentIntent is by Stripe's clock.
    unmatched = [i.id for i in ours if i.succeeded and i.id not in charges]
    charges.update((c.payment_intent_id, c) for c in _of_intents(session, CourseCharge, unmatched))
    ledger_refunds = {r.stripe_refund_id: r for r in _since(session, CourseRefund, since)}
    ledger_refunds.update(
        (r.stripe_refund_id, r) for r in _of_intents(session, CourseRefund, [*(i.id for i in ours), *charges])
    )

    # Older PaymentIntents that a ledger row or a recent refund names: each is fetched with all of its
    # refunds (some may be older than `since`) and all of its ledger rows.
    intent_of_charge = {i.latest_charge_id: i.id for i in listed if i.latest_charge_id}
    named = set(charges) | {r.payment_intent_id for r in ledger_refunds.values()}
    named |= {r.payment_intent_id or intent_of_charge.get(r.charge_id or "", "") for r in refunds.values()}
    older = sorted(pi for pi in named if pi and pi not in intents and not pi.startswith(PRE_LEDGER_PREFIX))
    for intent_id in older:
        intent = payments.find_payment_intent(intent_id)
        if intent is None:
            continue  # the ledger rows that name it are reported as unknown to Stripe
        intents[intent.id] = intent
        refunds.update((r.id, r) for r in payments.list_refunds(payment_intent_id=intent.id))
    charges.update((c.payment_intent_id, c) for c in _of_intents(session, CourseCharge, older))
    ledger_refunds.update((r.stripe_refund_id, r) for r in _of_intents(session, CourseRefund, older))

    course_ids = sorted({i.course_id for i in intents.values() if i.course_id is not None})
    known = {
        course_id
        for chunk in _chunks(course_ids)
        for course_id in session.scalars(select(Course.id).where(Course.id.in_(chunk)))
    }
    report = compare(
        since,
        list(intents.values()),
        list(refunds.values()),
        [_ledger_charge(c) for c in charges.values()],
        [_ledger_refund(r) for r in ledger_refunds.values()],
        known_course_ids=known,
    )
    return dataclasses.replace(report, flagged=flagged_charges(session))


def flagged_charges(session: Session) -> list[FlaggedCharge]:
    """Flagged payments nobody has reviewed yet, of any date, oldest first."""
    rows = session.scalars(
        select(CourseCharge)
        .where(CourseCharge.flagged.is_(True), CourseCharge.reviewed_at.is_(None))
        .order_by(CourseCharge.created_at, CourseCharge.id)
    )
    return [
        FlaggedCharge(
            id=c.id,
            course_id=c.course_id,
            payment_intent_id=c.payment_intent_id,
            amount_cents=c.amount_cents,
            currency=c.currency,
            outcome=c.outcome,
            created_at=c.created_at,
        )
        for c in rows
    ]


def mark_reviewed(session: Session, actor: User, charge_id: int, now: datetime | None = None) -> bool:
    """Take a flagged payment off the review list, in the audit log under the admin's name. It moves no
    money: a flagged payment was refunded when it arrived. False if someone had already reviewed it."""
    if actor.role is not Role.ADMIN:
        raise Forbidden("Only administrators review flagged payments.")
    charge = session.get(CourseCharge, charge_id)
    if charge is None or not charge.flagged:
        raise NotFound("No flagged payment has that id.")
    if charge.reviewed_at is not None:
        return False
    charge.reviewed_at = now or utcnow()
    audit.record(
        session,
        actor,
        "payment.charge_reviewed",
        "course_charge",
        charge.id,
        course_id=charge.course_id,
        payment_intent_id=charge.payment_intent_id,
        outcome=charge.outcome.value,
    )
    session.flush()
    return True


def _since(session: Session, model: type[L], since: datetime) -> list[L]:
    return list(session.scalars(select(model).where(model.created_at >= since)))


def _of_intents(session: Session, model: type[L], intent_ids: Iterable[str]) -> list[L]:
    return [
        row
        for chunk in _chunks(sorted(set(intent_ids)))
        for row in session.scalars(select(model).where(model.payment_intent_id.in_(chunk)))
    ]


def _chunks(values: Sequence[T]) -> Iterator[Sequence[T]]:
    for first in range(0, len(values), _CHUNK):
        yield values[first : first + _CHUNK]


def _ledger_charge(row: CourseCharge) -> LedgerCharge:
    return LedgerCharge(
        id=row.id,
        course_id=row.course_id,
        payment_intent_id=row.payment_intent_id,
        amount_cents=row.amount_cents,
        currency=row.currency,
        outcome=row.outcome,
    )


def _ledger_refund(row: CourseRefund) -> LedgerRefund:
    return LedgerRefund(
        stripe_refund_id=row.stripe_refund_id,
        course_id=row.course_id,
        payment_intent_id=row.payment_intent_id,
        amount_cents=row.amount_cents,
        currency=row.currency,
    )
