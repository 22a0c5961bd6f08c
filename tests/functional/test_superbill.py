"""The superbill page through the real app: what a patient sends an insurer (provider license and NPI, the
ICD-10 code, one CPT 97124 line per attended session with its 8-minute-rule units, dates in the practice's
time zone, and what was paid and refunded), its empty state, and who may open it (the course's patient and
therapist; anyone else gets a 404 whose audit record survives; no one logged out).

The course is booked through the real services (tests/integration/session_data.py: 8 sessions of 60
minutes at $120, paid at the visit, from tomorrow in New York); attendance is set in the database.
"""

from __future__ import annotations

import html
import re
from datetime import UTC, datetime, time, timedelta

import pytest
from sqlalchemy import select

from massage_booking.models import (
    Appointment,
    AppointmentStatus,
    AuditEvent,
    ChargeOutcome,
    Course,
    CourseCharge,
    CourseRefund,
    PaymentMode,
    TherapistProfile,
)
from tests.integration.session_data import NEW_YORK, PLAIN, book, make_therapist

NPI = "1234567893"


@pytest.fixture
def therapist(auth, db):
    return make_therapist(auth, db, "Dana Reyes")


@pytest.fixture
def patient(auth):
    return auth.create_user("patient", display_name="Pat Kim", email="pat@example.org")


@pytest.fixture
def booked(db, patient, therapist):
    return book(db, patient, therapist, PLAIN)


def _text(fragment: str) -> str:
    """Markup as people read it: tags dropped, entities decoded, whitespace collapsed."""
    return re.sub(r"\s+", " ", html.unescape(re.sub(r"<[^>]+>", " ", fragment))).strip()


def _rows(page: str, caption: str) -> list[list[str]]:
    """The body rows of the table whose caption starts with `caption`, each as its cells' text."""
    table = re.search(rf"<table[^>]*>\s*<caption>{re.escape(caption)}.*?</table>", page, re.S)
    assert table, f"no table captioned {caption!r}"
    body = re.search(r"<tbody>(.*?)</tbody>", table.group(0), re.S)
    assert body
    return [
        [_text(cell) for cell in re.findall(r"<t[hd][^>]*>(.*?)</t[hd]>", row, re.S)]
        for row in re.findall(r"<tr>(.*?)</tr>", body.group(1), re.S)
    ]


def _long(day) -> str:
    return f"{day:%B} {day.day}, {day.year}"


def _attend(db, appointment_id: int, start: datetime, minutes: int, status=AppointmentStatus.COMPLETED):
    appointment = db.get(Appointment, appointment_id)
    appointment.starts_at = start
    appointment.ends_at = start + timedelta(minutes=minutes)
    appointment.status = status
    db.commit()


def _late_evening(days_ago: int, hour: int = 21) -> datetime:
    """A past evening in New York, when the UTC date is already the next day."""
    day = datetime.now(NEW_YORK).date() - timedelta(days=days_ago)
    return datetime.combine(day, time(hour, 30), NEW_YORK)


def _audit(db, action: str, actor_id: int) -> list[AuditEvent]:
    return list(
        db.scalars(select(AuditEvent).where(AuditEvent.action == action, AuditEvent.actor_id == actor_id))
    )


def test_attended_sessions_are_billed_with_license_npi_diagnosis_and_units(
    client, auth, db, patient, therapist, booked
):
    profile = db.scalar(select(TherapistProfile).where(TherapistProfile.user_id == therapist.id))
    profile.npi = NPI
    db.commit()
    first, second, third = booked.appointment_ids[:3]
    sixty = _late_evening(days_ago=3)  # 21:30 in New York is 01:30 or 02:30 UTC the next day
    thirty = _late_evening(days_ago=2, hour=20)
    _attend(db, first, sixty, 60)
    _attend(db, second, thirty, 30)
    _attend(db, third, _late_evening(days_ago=1, hour=9), 60, AppointmentStatus.BOOKED)  # not marked yet

    auth.login(patient.email)
    response = client.get(f"/courses/{booked.course_id}/superbill")
    assert response.status_code == 200
    assert response.headers["Cache-Control"] == "private, no-store"
    raw = response.get_data(as_text=True)
    page = _text(raw)

    assert "Dana Reyes, LMT" in page
    assert "License MT-1 (NY)" in page and f"NPI {NPI}" in page
    assert "10001" in page  # the practice address
    assert "Pat Kim" in page and "pat@example.org" in page
    assert "Chronic neck pain" in page and "ICD-10-CM M54.2" in page

    rows = _rows(raw, "Attended sessions")
    assert len(rows) == 2  # the unmarked and the future sessions are not billed
    sixty_day, thirty_day = sixty.date(), thirty.date()
    assert sixty.astimezone(UTC).date() != sixty_day  # the practice's date, not the UTC one
    assert rows[0] == [
        _long(sixty_day),
        "1 of 8",
        "11 (Office) New York, NY 10001",
        "97124",
        "60",
        "4",
        "$120",
    ]
    assert rows[1] == [
        _long(thirty_day),
        "2 of 8",
        "11 (Office) New York, NY 10001",
        "97124",
        "30",
        "2",
        "$120",
    ]
    assert f'<time datetime="{sixty_day.isoformat()}">' in raw
    assert "Total for 2 sessions 6 $240" in page

    assert "5 more sessions still to come" in page
    assert "1 session has taken place but is not marked attended yet" in page
    assert "Paid to the therapist at each visit" in page and "$120 a session" in page
    assert "Charges for the sessions listed $240" in page
    assert "Print" in raw and 'src="/static/js/superbill.js"' in raw and "onclick" not in raw
    assert 'href="/static/css/superbill.css"' in raw

    assert len(_audit(db, "course.superbill_viewed", patient.id)) == 1
    assert len(_audit(db, "course.read", patient.id)) == 1


def test_a_card_payment_shows_what_was_paid_and_refunded(client, auth, db, patient, booked):
    course = db.get(Course, booked.course_id)
    assert (course.session_price_cents, course.price_cents, course.currency) == (12000, 96000, "usd")
    paid_at = _late_evening(days_ago=5, hour=22)
    refunded_at = _late_evening(days_ago=1, hour=23)
    course.payment_mode = PaymentMode.CARD
    course.payment_intent_id = "pi_superbill_test"
    course.paid_at = paid_at
    last = booked.appointment_ids[-1]
    db.get(Appointment, last).status = AppointmentStatus.CANCELLED
    db.add(
        CourseCharge(
            course_id=course.id,
            payment_intent_id="pi_superbill_test",
            amount_cents=96000,
            currency="usd",
            outcome=ChargeOutcome.PAID,
            created_at=paid_at,
        )
    )
    db.add(
        CourseRefund(
            course_id=course.id,
            stripe_refund_id="re_superbill_test",
            payment_intent_id="pi_superbill_test",
            currency="usd",
            amount_cents=12000,
            status="succeeded",
            appointment_ids=[last],
            reason="cancelled",
            created_at=refunded_at,
        )
    )
    db.commit()
    _attend(db, booked.appointment_ids[0], _late_evening(days_ago=4), 60)

    auth.login(patient.email)
    response = client.get(f"/courses/{booked.course_id}/superbill")
    assert response.status_code == 200
    raw = response.get_data(as_text=True)
    page = _text(raw)
    assert "Course price $120 a session × 8 = $960" in page
    assert f"Paid by card $960 on {_long(paid_at.date())}" in page
    assert "Refunded $120" in page and "Net paid (after refunds) $840" in page
    assert "Charges for the sessions listed $120" in page
    assert "Paid to the therapist at each visit" not in page
    assert _rows(raw, "Refunds to the card") == [[_long(refunded_at.date()), "$120", "Session 8 cancelled"]]
    # Six sessions are still ahead: the attended one is billed and the cancelled one is neither.
    assert "6 more sessions still to come" in page
    assert len(_rows(raw, "Attended sessions")) == 1


def test_no_attended_session_shows_the_empty_state(client, auth, patient, booked):
    auth.login(patient.email)
    response = client.get(f"/courses/{booked.course_id}/superbill")
    assert response.status_code == 200
    page = _text(response.get_data(as_text=True))
    assert (
        "No sessions attended yet: the superbill lists a session once your therapist marks it attended."
        in page
    )
    assert "8 more sessions still to come" in page
    assert "Attended sessions" not in page and "97124 4" not in page
    assert "No NPI on file" in page  # the therapist has none


def test_another_patient_gets_404_and_the_denial_is_kept(client, auth, db, patient, booked):
    stranger = auth.create_user("patient", display_name="Sam Other")
    auth.login(stranger.email)
    response = client.get(f"/courses/{booked.course_id}/superbill")
    assert response.status_code == 404
    assert "Pat Kim" not in _text(response.get_data(as_text=True))
    db.expire_all()
    denied = _audit(db, "course.read_denied", stranger.id)
    assert [e.subject_id for e in denied] == [str(booked.course_id)]
    assert _audit(db, "course.superbill_viewed", stranger.id) == []
    # A course that does not exist reads the same.
    assert client.get(f"/courses/{booked.course_id + 100}/superbill").status_code == 404


def test_another_therapist_gets_404(client, auth, db, booked):
    other = make_therapist(auth, db, "Olga Elsewhere", zip_code="10002")
    auth.login(other.email)
    assert client.get(f"/courses/{booked.course_id}/superbill").status_code == 404
    db.expire_all()
    assert len(_audit(db, "course.read_denied", other.id)) == 1


def test_the_courses_therapist_can_open_it(client, auth, db, therapist, booked):
    _attend(db, booked.appointment_ids[0], _late_evening(days_ago=2), 60)
    auth.login(therapist.email)
    response = client.get(f"/courses/{booked.course_id}/superbill")
    assert response.status_code == 200
    assert response.headers["Cache-Control"] == "private, no-store"
    page = _text(response.get_data(as_text=True))
    assert "Pat Kim" in page and "97124" in page and "Dana Reyes, LMT" in page
    assert len(_audit(db, "course.superbill_viewed", therapist.id)) == 1


def test_logged_out_users_are_sent_to_login_and_admins_refused(client, auth, booked):
    response = client.get(f"/courses/{booked.course_id}/superbill")
    assert response.status_code == 302 and "/login" in response.headers["Location"]
    admin = auth.create_user("admin")
    auth.login(admin.email)
    assert client.get(f"/courses/{booked.course_id}/superbill").status_code == 403
