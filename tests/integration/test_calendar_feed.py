"""The therapist's iCal feed: the secret URL, what the feed says (parsed back with icalendar), and what it
must never say (who the patient is)."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta

import pytest
from icalendar import Calendar
from sqlalchemy import select

from massage_booking.domain.errors import Forbidden, NotFound
from massage_booking.models import (
    Appointment,
    AppointmentStatus,
    AuditEvent,
    AvailabilitySettings,
    PracticeLocation,
    TherapistProfile,
    User,
)
from massage_booking.services import calendar_feed

# Whole minutes, so the round trip through either database cannot shave anything off.
NOW = datetime.now(UTC).replace(second=0, microsecond=0)
PATIENT_NAME = "Quintessa Marlowe-Patient"
PATIENT_EMAIL = "quintessa.marlowe@example.org"


def add_profile(db, user: User, *, name: str, zone: str = "America/Chicago") -> TherapistProfile:
    profile = TherapistProfile(
        user=user,
        name=name,
        license_number=f"LMT-{user.id:05d}",
        license_state="IL",
        license_expires_on=date.today() + timedelta(days=365),
        session_rate_cents=11_000,
        locations=[
            PracticeLocation(
                label="Lakeview studio",
                city="Chicago",
                state="IL",
                zip_code="60657",
                latitude=41.94,
                longitude=-87.65,
                time_zone=zone,
            )
        ],
    )
    db.add(profile)
    db.flush()
    return profile


def book(
    db,
    profile: TherapistProfile,
    patient: User,
    starts_in: timedelta,
    minutes: int = 60,
    status: AppointmentStatus = AppointmentStatus.BOOKED,
) -> Appointment:
    starts_at = NOW + starts_in
    appointment = Appointment(
        therapist_id=profile.id,
        location_id=profile.locations[0].id,
        patient_id=patient.id,
        starts_at=starts_at,
        ends_at=starts_at + timedelta(minutes=minutes),
        status=status,
    )
    db.add(appointment)
    db.flush()
    return appointment


@dataclass
class Practice:
    user: User
    profile: TherapistProfile
    patient: User
    shown: dict[str, Appointment]  # by expected UID
    hidden: list[Appointment]


@pytest.fixture
def practice(db, auth) -> Practice:
    user = auth.create_user(role="therapist", email="dana@example.org", display_name="Dana")
    patient = auth.create_user(role="patient", email=PATIENT_EMAIL, display_name=PATIENT_NAME)
    profile = add_profile(db, user, name="Dana Reyes")
    other = add_profile(
        db, auth.create_user(role="therapist", email="eli@example.org"), name="Eli Moss", zone="UTC"
    )
    shown = [
        book(db, profile, patient, timedelta(days=2, hours=3)),
        book(db, profile, patient, timedelta(days=9), minutes=90),
        book(db, profile, patient, timedelta(days=3), status=AppointmentStatus.CANCELLED),
        book(db, profile, patient, -timedelta(days=5), status=AppointmentStatus.COMPLETED),
        book(db, profile, patient, -timedelta(days=12), status=AppointmentStatus.NO_SHOW),
        book(db, profile, patient, timedelta(days=360)),
    ]
    hidden = [
        book(db, profile, patient, -timedelta(days=31)),  # older than the feed's 30 days
        book(db, profile, patient, timedelta(days=366)),  # more than a year ahead
        book(db, other, patient, timedelta(days=2)),  # another therapist's
    ]
    db.commit()
    return Practice(user, profile, patient, {f"appointment-{a.id}@massagebooking": a for a in shown}, hidden)


def issue(db, user: User) -> str:
    token = calendar_feed.issue_feed_token(db, user, NOW)
    db.commit()
    return token


def fetch(client, token: str):
    return client.get(f"/calendar/{token}.ics")


def parse(response) -> Calendar:
    assert response.status_code == 200, response.status_code
    return Calendar.from_ical(response.data)


def events_by_uid(calendar: Calendar) -> dict[str, object]:
    return {str(event["UID"]): event for event in calendar.walk("VEVENT")}


def audit_actions(db) -> list[tuple[str, str | None, dict]]:
    db.expire_all()
    rows = db.scalars(
        select(AuditEvent).where(AuditEvent.action.like("calendar_feed.%")).order_by(AuditEvent.id)
    )
    return [(row.action, row.subject_id, row.details) for row in rows]


# --------------------------------------------------------------------------------------- the feed


def test_feed_has_one_event_per_appointment_in_the_window_at_its_utc_times(client, db, practice):
    response = fetch(client, issue(db, practice.user))

    assert response.headers["Content-Type"] == "text/calendar; charset=utf-8"
    assert response.headers["Content-Disposition"] == 'inline; filename="massage_booking.ics"'
    assert response.headers["Cache-Control"] == "private, max-age=300"
    events = events_by_uid(parse(response))
    assert set(events) == set(practice.shown)
    for uid, appointment in practice.shown.items():
        event = events[uid]
        start, end = event.decoded("DTSTART"), event.decoded("DTEND")
        assert start == appointment.starts_at and end == appointment.ends_at
        assert start.utcoffset() == timedelta(0) and end.utcoffset() == timedelta(0)
        assert str(event["SUMMARY"]) == f"Session ({appointment.minutes} min)"
        assert str(event["LOCATION"]) == "Lakeview studio, Chicago, IL"
        assert event.decoded("DTSTAMP") >= NOW
    hidden_uids = {f"appointment-{a.id}@massagebooking" for a in practice.hidden}
    assert hidden_uids.isdisjoint(events)


def test_cancelled_sessions_are_marked_cancelled_and_the_others_confirmed(client, db, practice):
    events = events_by_uid(parse(fetch(client, issue(db, practice.user))))

    statuses = {uid: str(event["STATUS"]) for uid, event in events.items()}
    expected = {
        uid: "CANCELLED" if appointment.status is AppointmentStatus.CANCELLED else "CONFIRMED"
        for uid, appointment in practice.shown.items()
    }
    assert statuses == expected
    assert sorted(statuses.values()).count("CANCELLED") == 1
    transparency = {uid: str(event["TRANSP"]) for uid, event in events.items()}
    assert {transparency[uid] for uid, s in statuses.items() if s == "CANCELLED"} == {"TRANSPARENT"}
    assert {transparency[uid] for uid, s in statuses.items() if s == "CONFIRMED"} == {"OPAQUE"}


def test_calendar_names_the_therapist_and_asks_for_hourly_refresh(client, db, practice):
    response = fetch(client, issue(db, practice.user))
    calendar = parse(response)

    assert str(calendar["VERSION"]) == "2.0"
    assert "massage_booking" in str(calendar["PRODID"])
    assert str(calendar["X-WR-CALNAME"]) == "massage_booking: Dana Reyes"
    assert str(calendar["X-WR-TIMEZONE"]) == "America/Chicago"
    assert calendar.decoded("REFRESH-INTERVAL") == timedelta(hours=1)
    assert calendar["REFRESH-INTERVAL"].params["VALUE"] == "DURATION"
    # Outlook reads X-PUBLISHED-TTL as an RFC 5545 duration; icalendar parses unknown X- names as text.
    assert str(calendar["X-PUBLISHED-TTL"]) == "PT1H"
    assert b"\r\nREFRESH-INTERVAL;VALUE=DURATION:PT1H\r\n" in response.data


def test_uids_stay_the_same_from_one_fetch_to_the_next(client, db, practice):
    token = issue(db, practice.user)

    first = events_by_uid(parse(fetch(client, token)))
    second = events_by_uid(parse(fetch(client, token)))

    assert set(first) == set(second) == set(practice.shown)
    assert parse(fetch(client, token))["UID"] == parse(fetch(client, token))["UID"]


def test_the_feed_never_names_the_patient(client, db, practice):
    body = fetch(client, issue(db, practice.user)).data
    unfolded = body.replace(b"\r\n ", b"")  # iCalendar folds long lines; a name must not hide in a fold

    assert len(events_by_uid(Calendar.from_ical(body))) == len(practice.shown)
    for secret in (PATIENT_NAME, PATIENT_EMAIL, "Quintessa", "Marlowe", "quintessa.marlowe"):
        assert secret.encode().lower() not in unfolded.lower(), secret
    for event in Calendar.from_ical(body).walk("VEVENT"):
        assert "ATTENDEE" not in event and "ORGANIZER" not in event


def test_a_therapist_with_no_bookings_gets_an_empty_but_valid_calendar(client, db, auth):
    user = auth.create_user(role="therapist", email="new@example.org")
    add_profile(db, user, name="New Therapist")
    db.commit()

    calendar = parse(fetch(client, issue(db, user)))

    assert calendar.walk("VEVENT") == []
    assert str(calendar["X-WR-CALNAME"]) == "massage_booking: New Therapist"


# -------------------------------------------------------------------------------------- the secret


def test_the_database_holds_the_digest_not_the_secret(client, db, practice):
    token = issue(db, practice.user)

    assert token.startswith("cal_") and len(token) >= 40
    settings = db.get(AvailabilitySettings, practice.profile.id)
    assert settings.feed_token_digest == hashlib.sha256(token.encode()).hexdigest()
    assert token not in settings.feed_token_digest
    assert settings.feed_token_created_at == NOW
    assert calendar_feed.feed_status(db, practice.user) == NOW
    # The stored digest is no key to the feed: a database leak does not open anyone's calendar.
    assert fetch(client, settings.feed_token_digest).status_code == 404
    assert fetch(client, "cal_" + settings.feed_token_digest).status_code == 404


def test_issuing_creates_the_settings_row_with_its_defaults_when_there_is_none(db, practice):
    assert db.get(AvailabilitySettings, practice.profile.id) is None
    assert calendar_feed.feed_status(db, practice.user) is None

    issue(db, practice.user)

    db.expire_all()
    settings = db.get(AvailabilitySettings, practice.profile.id)
    assert settings is not None and settings.feed_token_digest is not None
    assert (settings.buffer_after_minutes, settings.min_notice_hours, settings.horizon_days) == (15, 24, 90)


def test_a_new_secret_retires_the_old_address(client, db, practice):
    old = issue(db, practice.user)
    assert fetch(client, old).status_code == 200

    new = issue(db, practice.user)

    assert new != old
    assert fetch(client, old).status_code == 404
    assert len(events_by_uid(parse(fetch(client, new)))) == len(practice.shown)
    subject = str(practice.profile.id)
    assert audit_actions(db) == [
        ("calendar_feed.issued", subject, {"replaced": False}),
        ("calendar_feed.issued", subject, {"replaced": True}),
    ]


def test_a_revoked_address_gives_404(client, db, practice):
    token = issue(db, practice.user)
    assert fetch(client, token).status_code == 200

    calendar_feed.revoke_feed_token(db, practice.user, NOW)
    db.commit()

    assert fetch(client, token).status_code == 404
    assert calendar_feed.feed_status(db, practice.user) is None
    assert db.get(AvailabilitySettings, practice.profile.id).feed_token_digest is None
    assert audit_actions(db)[-1] == ("calendar_feed.revoked", str(practice.profile.id), {"was_active": True})


def test_the_audit_log_holds_identifiers_only(db, practice):
    token = issue(db, practice.user)
    calendar_feed.revoke_feed_token(db, practice.user, NOW)
    db.commit()

    for action, _subject, details in audit_actions(db):
        dumped = repr(details)
        assert token not in dumped and hashlib.sha256(token.encode()).hexdigest() not in dumped, action


@pytest.mark.parametrize(
    "bad",
    [
        "cal_" + "A" * 43,  # well-formed, never issued
        "garbage",
        "cal_",
        "cal_" + "x" * 5000,  # too long to be ours: refused before hashing
        "%00",
        "cal_ünïcode",
    ],
)
def test_unknown_or_malformed_tokens_get_404(client, db, practice, bad):
    issue(db, practice.user)  # a real feed exists, so a 404 is not just "there are no feeds"

    response = client.get(f"/calendar/{bad}.ics")

    assert response.status_code == 404
    assert b"BEGIN:VCALENDAR" not in response.data
    assert calendar_feed.therapist_for_feed_token(db, bad) is None


def test_the_secret_without_its_prefix_or_with_a_changed_case_does_not_work(client, db, practice):
    token = issue(db, practice.user)

    assert fetch(client, token).status_code == 200
    assert fetch(client, token.removeprefix("cal_")).status_code == 404
    assert fetch(client, token[:-1]).status_code == 404
    assert fetch(client, token.swapcase()).status_code == 404


def test_a_disabled_therapists_feed_stops_working(client, db, practice):
    token = issue(db, practice.user)
    practice.user.is_active = False
    db.commit()

    assert fetch(client, token).status_code == 404


def test_only_a_therapist_with_a_practice_can_have_a_feed(db, auth):
    patient = auth.create_user(role="patient")
    therapist_without_profile = auth.create_user(role="therapist")

    with pytest.raises(Forbidden):
        calendar_feed.issue_feed_token(db, patient, NOW)
    with pytest.raises(NotFound):
        calendar_feed.issue_feed_token(db, therapist_without_profile, NOW)
    assert db.scalars(select(AvailabilitySettings)).all() == []


def test_a_failing_feed_is_a_500_that_does_not_log_the_secret(client, db, practice, monkeypatch, caplog):
    token = issue(db, practice.user)

    def broken(*_args, **_kwargs):
        raise RuntimeError("the feed broke")

    monkeypatch.setattr(calendar_feed, "render_feed", broken)
    with caplog.at_level("DEBUG"):
        response = fetch(client, token)

    assert response.status_code == 500
    assert "the feed broke" in caplog.text  # the failure itself is logged, with its traceback
    assert token not in caplog.text and token not in response.get_data(as_text=True)
