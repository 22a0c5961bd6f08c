"""`seed_demo` and the `flask seed-demo` / `flask create-admin` commands, judged by what a person using the
demo would notice: real places, plausible credentials, working logins, and nothing doubled on a re-run.

The seeding tests use their own in-memory SQLite engine through the `session` fixture below; to move them
onto the shared database, replace that fixture with one returning the `db` fixture's session.
"""

from __future__ import annotations

import re
import zoneinfo
from collections import Counter
from datetime import UTC, date, datetime, timedelta

import pytest
import zipcodes
from sqlalchemy import create_engine, func, select
from sqlalchemy.orm import Session, joinedload, selectinload

from massage_booking.demo.catalog import (
    KAISER_STATES,
    METRO_RADIUS_MILES,
    METROS,
    MODALITIES,
    ONCOLOGY_MODALITY,
    SECOND_LANGUAGES,
)
from massage_booking.demo.data import DEMO_LOGINS, GENERATED_EMAIL_LIKE, miles_between, seed_demo
from massage_booking.domain.credentials import S4OM_MIN_FOUNDATIONAL_HOURS
from massage_booking.domain.errors import Conflict
from massage_booking.domain.identifiers import is_valid_npi
from massage_booking.domain.vocabulary import PRIMARY_LANGUAGE
from massage_booking.models import (
    Appointment,
    AuditEvent,
    AvailabilitySettings,
    Base,
    Course,
    CredentialKind,
    CredentialStatus,
    GeocodePrecision,
    InsurancePlan,
    NetworkMembership,
    OncologyCredential,
    Payer,
    PracticeLocation,
    Role,
    TherapistLanguage,
    TherapistModality,
    TherapistProfile,
    User,
    WeeklyHours,
)
from massage_booking.services import accounts, slots, soonest_cache
from massage_booking.services.passwords import hash_password, verify_password

TODAY = date(2025, 6, 2)


@pytest.fixture
def session():
    engine = create_engine("sqlite://")
    Base.metadata.create_all(engine)
    with Session(engine) as session:
        yield session
    engine.dispose()


def generated_profiles(session: Session) -> list[TherapistProfile]:
    return list(
        session.scalars(
            select(TherapistProfile)
            .join(User, TherapistProfile.user_id == User.id)
            .where(User.email.like(GENERATED_EMAIL_LIKE))
            .order_by(User.email)
            .options(
                joinedload(TherapistProfile.user),
                selectinload(TherapistProfile.locations),
                selectinload(TherapistProfile.credentials),
                selectinload(TherapistProfile.modalities),
                selectinload(TherapistProfile.languages),
                selectinload(TherapistProfile.networks)
                .joinedload(NetworkMembership.plan)
                .joinedload(InsurancePlan.payer),
            )
        )
    )


def table_counts(session: Session) -> dict[str, int]:
    return {t.name: session.scalar(select(func.count()).select_from(t)) for t in Base.metadata.sorted_tables}


def fingerprint(session: Session) -> list[tuple]:
    """What a visitor sees of each generated therapist, to compare runs."""
    return [
        (
            p.user.email,
            p.name,
            p.bio,
            p.license_number,
            p.npi,
            p.session_rate_cents,
            tuple((loc.zip_code, loc.address_line1) for loc in p.locations),
            tuple(sorted((c.issuer, c.status.value, c.issued_on) for c in p.credentials)),
            tuple(p.modality_names),
            tuple(p.language_names),
            tuple(sorted(n.plan.full_name for n in p.networks)),
        )
        for p in generated_profiles(session)
    ]


# ------------------------------------------------------------------------------------ places


def test_default_seed_places_at_least_300_therapists_at_real_zip_centroids(session):
    report = seed_demo(session, today=TODAY)

    profiles = generated_profiles(session)
    assert len(profiles) >= 300
    assert report.generated_therapists_total == len(profiles)
    assert report.therapists_total == len(profiles) + 1  # plus the demo therapist
    locations = session.scalars(select(PracticeLocation)).all()
    assert len(locations) >= len(profiles) + 1
    real_zips = {z["zip_code"]: z for z in zipcodes.list_all()}
    for loc in locations:
        real = real_zips[loc.zip_code]
        assert real["active"] and real["zip_code_type"] == "STANDARD"
        assert (loc.city, loc.state) == (real["city"], real["state"])
        assert (loc.latitude, loc.longitude) == (float(real["lat"]), float(real["long"]))
        assert loc.time_zone == real["timezone"]
        assert zoneinfo.ZoneInfo(loc.time_zone)
        assert loc.geocode_precision is GeocodePrecision.ZIP
        assert loc.address_line1


def test_therapists_cluster_around_metros_including_alaska_and_hawaii_with_a_rural_share(session):
    seed_demo(session, today=TODAY)

    locations = [loc for p in generated_profiles(session) for loc in p.locations[:1]]
    states = Counter(loc.state for loc in locations)
    assert states["AK"] >= 1 and states["HI"] >= 1
    near_metro = [
        loc
        for loc in locations
        if any(
            miles_between(m.latitude, m.longitude, loc.latitude, loc.longitude) <= METRO_RADIUS_MILES
            for m in METROS
        )
    ]
    assert 0.80 <= len(near_metro) / len(locations) <= 0.95
    for metro in METROS:
        assert any(
            miles_between(metro.latitude, metro.longitude, loc.latitude, loc.longitude) <= METRO_RADIUS_MILES
            for loc in locations
        ), metro.name
    assert len(states) >= 15  # rural therapists reach well beyond the metros' states


# ------------------------------------------------------------------------------- credentials


def test_about_forty_percent_hold_an_active_verified_oncology_credential(session):
    seed_demo(session, today=TODAY)
    profiles = generated_profiles(session)

    active = [p for p in profiles if p.active_oncology_credentials(TODAY)]
    assert 0.30 <= len(active) / len(profiles) <= 0.50
    credentials = [c for p in profiles for c in p.credentials]
    expired = [c for c in credentials if c.status is CredentialStatus.VERIFIED and c.expires_on < TODAY]
    pending = [c for c in credentials if c.status is CredentialStatus.PENDING]
    assert expired and 0.03 <= len(expired) / len({c.therapist_id for c in credentials}) <= 0.25
    assert 1 <= len(pending) <= 0.05 * len(profiles)  # a few, for the admin review queue
    admin = session.scalar(select(User).where(User.role == Role.ADMIN))
    for c in credentials:
        assert c.issued_on <= TODAY and (c.expires_on is None or c.expires_on >= c.issued_on)
        if c.kind is CredentialKind.S4OM_FOUNDATIONAL:
            assert c.training_hours >= S4OM_MIN_FOUNDATIONAL_HOURS
        if c.status is CredentialStatus.PENDING:
            assert c.verified_at is None and c.verified_by_id is None
        else:
            assert c.verified_by_id == admin.id and c.verified_at >= c.submitted_at


def test_only_oncology_trained_therapists_list_oncology_massage(session):
    seed_demo(session, today=TODAY)

    for p in generated_profiles(session):
        trained = any(c.status is not CredentialStatus.REJECTED for c in p.credentials)
        assert (ONCOLOGY_MODALITY in p.modality_names) == trained
        assert 2 <= len(p.modality_names) <= 4
        assert set(p.modality_names) <= set(MODALITIES)
        if not trained:
            assert "oncology" not in p.bio.lower()


# ------------------------------------------------------------------------------ profile fields


def test_licences_rates_npis_and_languages_are_plausible(session):
    seed_demo(session, today=TODAY)
    profiles = generated_profiles(session)

    npis = [p.npi for p in profiles if p.npi]
    assert 0.2 <= len(npis) / len(profiles) <= 0.5
    assert all(is_valid_npi(npi) for npi in npis) and len(set(npis)) == len(npis)
    assert all(is_valid_npi(p.npi) for p in session.scalars(select(TherapistProfile)) if p.npi)
    for p in profiles:
        assert p.license_state == p.locations[0].state
        assert all(loc.state == p.license_state for loc in p.locations)
        assert re.fullmatch(r"[A-Z0-9.]{5,12}", p.license_number)
        assert 8_000 <= p.session_rate_cents <= 16_000 and p.session_rate_cents % 500 == 0
        assert p.currency == "USD"
        assert PRIMARY_LANGUAGE in p.language_names
        assert set(p.language_names) - {PRIMARY_LANGUAGE} <= set(SECOND_LANGUAGES)
    bilingual = sum(len(p.language_names) == 2 for p in profiles) / len(profiles)
    assert 0.15 <= bilingual <= 0.35
    accepting = sum(p.accepting_new_patients for p in profiles) / len(profiles)
    assert 0.75 <= accepting <= 0.95
    licensed = sum(p.license_expires_on >= TODAY for p in profiles) / len(profiles)
    assert licensed >= 0.85


def test_bios_are_varied_sentences_not_filler(session):
    seed_demo(session, today=TODAY)
    bios = [p.bio for p in generated_profiles(session)]

    assert len(set(bios)) >= 0.9 * len(bios)
    for bio in bios:
        sentences = re.findall(r"[^.!?]+[.!?]", bio)
        assert 2 <= len(sentences) <= 4, bio
        assert "lorem" not in bio.lower() and "{" not in bio


# ---------------------------------------------------------------------------------- insurance


def test_payers_have_two_or_three_plans_and_each_therapist_is_in_one_to_four(session):
    report = seed_demo(session, today=TODAY)

    payers = session.scalars(select(Payer)).all()
    assert len(payers) >= 6 and report.payers_created == len(payers)
    assert all(2 <= len(payer.plans) <= 3 for payer in payers)
    assert report.plans_total == session.scalar(select(func.count(InsurancePlan.id)))
    for p in generated_profiles(session):
        assert 1 <= len(p.networks) <= 4
        for membership in p.networks:
            if membership.plan.payer.code == "KAISER":
                assert p.license_state in KAISER_STATES


# ------------------------------------------------------------------------------------- logins


def test_demo_logins_work_and_the_demo_therapist_has_a_complete_new_york_profile(session):
    report = seed_demo(session, today=TODAY)

    assert {login.role for login in report.logins} == set(Role)
    for login in report.logins:
        user = accounts.authenticate(session, login.email, login.password)
        assert user.role is login.role
        assert len(login.password) >= 12
    therapist = session.scalar(
        select(TherapistProfile)
        .join(User, TherapistProfile.user_id == User.id)
        .where(User.email == "therapist@demo.massagebooking.example")
    )
    [location] = therapist.locations
    assert (location.zip_code, location.city, location.state) == ("10016", "New York", "NY")
    [credential] = therapist.active_oncology_credentials(TODAY)
    assert credential.kind is CredentialKind.S4OM_FOUNDATIONAL
    assert len(therapist.networks) == 3
    assert therapist.bio and therapist.npi and is_valid_npi(therapist.npi)
    assert ONCOLOGY_MODALITY in therapist.modality_names


def test_nobody_can_log_in_as_a_generated_therapist(session):
    seed_demo(session, therapists=50, today=TODAY)

    hashes = session.scalars(select(User.password_hash).where(User.email.like(GENERATED_EMAIL_LIKE))).all()
    assert len(hashes) == 50 and len(set(hashes)) == 1  # one hash of a discarded random secret
    assert hashes[0].startswith("$argon2id$")
    for guess in ("", "password", *(login.password for login in DEMO_LOGINS)):
        assert not verify_password(hashes[0], guess)


# ------------------------------------------------------------------------------- idempotence


def test_running_twice_changes_nothing(session):
    seed_demo(session, today=TODAY)
    session.commit()
    counts, seen, hashes = table_counts(session), fingerprint(session), demo_password_hashes(session)

    report = seed_demo(session, today=TODAY)

    assert table_counts(session) == counts
    assert fingerprint(session) == seen
    assert demo_password_hashes(session) == hashes  # not re-hashed: the printed passwords still match
    created = (report.therapists_created, report.users_created, report.payers_created, report.plans_created)
    assert created == (0, 0, 0, 0)


def demo_password_hashes(session: Session) -> dict[str, str]:
    emails = [login.email for login in DEMO_LOGINS]
    return dict(
        session.execute(select(User.email, User.password_hash).where(User.email.in_(emails))).tuples().all()
    )


def test_topping_up_adds_only_the_missing_therapists_and_matches_a_fresh_run(session):
    seed_demo(session, therapists=40, today=TODAY)
    assert seed_demo(session, therapists=70, today=TODAY).therapists_created == 30
    assert seed_demo(session, therapists=20, today=TODAY).therapists_created == 0
    assert len(generated_profiles(session)) == 70

    engine = create_engine("sqlite://")
    Base.metadata.create_all(engine)
    with Session(engine) as fresh:
        seed_demo(fresh, therapists=70, today=TODAY)
        assert fingerprint(fresh) == fingerprint(session)
    engine.dispose()


def test_the_seed_decides_the_data(session):
    seed_demo(session, therapists=30, today=TODAY, seed=7)
    engine = create_engine("sqlite://")
    Base.metadata.create_all(engine)
    with Session(engine) as other:
        seed_demo(other, therapists=30, today=TODAY, seed=8)
        assert fingerprint(other) != fingerprint(session)
    engine.dispose()


def test_existing_payer_and_changed_demo_password_are_brought_back_in_line(session):
    session.add(Payer(code="AETNA", name="Aetna Inc."))
    session.flush()
    seed_demo(session, therapists=0, today=TODAY)
    admin = session.scalar(select(User).where(User.role == Role.ADMIN))
    admin.password_hash = hash_password("someone-changed-this")

    report = seed_demo(session, therapists=0, today=TODAY)

    assert session.scalars(select(Payer.name).where(Payer.code == "AETNA")).all() == ["Aetna"]
    assert report.payers_created == 0
    admin_login = next(d for d in report.logins if d.role is Role.ADMIN)
    assert verify_password(admin.password_hash, admin_login.password)


def test_a_demo_email_held_by_another_role_is_a_clear_conflict(session):
    session.add(
        User(
            email="admin@demo.massagebooking.example",
            password_hash=hash_password("not-the-demo-password"),
            role=Role.PATIENT,
            display_name="Someone",
        )
    )
    session.flush()

    with pytest.raises(Conflict, match="already exists with role patient"):
        seed_demo(session, therapists=5, today=TODAY)


# ------------------------------------------------------------------------------------ batches


def test_progress_is_reported_per_batch_and_batches_can_be_committed(tmp_path):
    engine = create_engine(f"sqlite:///{tmp_path / 'demo.sqlite3'}")
    Base.metadata.create_all(engine)
    calls: list[int] = []
    with Session(engine) as session:
        seed_demo(
            session,
            therapists=120,
            progress=calls.append,
            today=TODAY,
            batch_size=50,
            commit_every_batch=True,
        )
    assert calls == [50, 50, 20]
    with Session(engine) as reader:  # committed, so a new session sees every row
        assert (
            reader.scalar(select(func.count()).select_from(User).where(User.email.like(GENERATED_EMAIL_LIKE)))
            == 120
        )
        assert reader.scalar(select(func.count(NetworkMembership.plan_id))) >= 120
        assert reader.scalar(select(func.count(TherapistModality.modality))) >= 240
        assert reader.scalar(select(func.count(TherapistLanguage.language))) >= 120
        assert reader.scalar(select(func.count(OncologyCredential.id))) >= 30
    engine.dispose()


def test_without_commit_every_batch_nothing_is_committed(tmp_path):
    engine = create_engine(f"sqlite:///{tmp_path / 'demo.sqlite3'}")
    Base.metadata.create_all(engine)
    with Session(engine) as session:
        seed_demo(session, therapists=20, today=TODAY, batch_size=5)
        session.rollback()
        assert session.scalar(select(func.count(User.id))) == 0
    engine.dispose()


# ---------------------------------------------------------------------------------------- CLI


def test_cli_seed_demo_prints_the_logins_and_what_exists(runner, db):
    result = runner.invoke(args=["seed-demo", "--therapists", "25"])

    assert result.exit_code == 0, result.output
    for login in DEMO_LOGINS:
        assert re.search(
            rf"{login.role.value}\s+{re.escape(login.email)}\s+{re.escape(login.password)}", result.stdout
        )
    assert "26 therapists (25 generated)" in result.stdout
    assert db.scalar(select(func.count(TherapistProfile.id))) == 26

    again = runner.invoke(args=["seed-demo", "--therapists", "10"])
    assert again.exit_code == 0 and "Created 0 therapists" in again.stdout
    # Generated rows took their ids explicitly; an ordinary registration afterwards must still work
    # (on PostgreSQL that needs the id sequences moved past them).
    accounts.register(
        db, email="new@example.org", password="a-long-password", display_name="New", role=Role.PATIENT
    )
    db.commit()


def test_cli_seed_demo_refuses_production_unless_forced(app, runner):
    app.config["ENV_NAME"] = "production"

    refused = runner.invoke(args=["seed-demo", "--therapists", "5"])
    assert refused.exit_code == 1
    assert "Refusing to seed demo data in production" in refused.output
    assert "Traceback" not in refused.output

    forced = runner.invoke(args=["seed-demo", "--therapists", "5", "--force"])
    assert forced.exit_code == 0, forced.output


def test_cli_seed_demo_rejects_a_negative_count(runner):
    result = runner.invoke(args=["seed-demo", "--therapists", "-1"])
    assert result.exit_code == 2
    assert "Invalid value for '--therapists'" in result.output


def test_cli_create_admin_asks_twice_rejects_short_passwords_and_audits(runner, db):
    password = "a-long-admin-password"
    result = runner.invoke(
        args=["create-admin", "--email", "Ops@Example.org"], input=f"short\n{password}\n{password}\n"
    )

    assert result.exit_code == 0, result.output
    assert "Use at least 12 characters." in result.output
    assert password not in result.output  # hidden input is not echoed
    user = db.scalar(select(User).where(User.email == "ops@example.org"))
    assert user.role is Role.ADMIN and verify_password(user.password_hash, password)
    assert db.scalar(
        select(AuditEvent).where(AuditEvent.action == "account.admin_created")
    ).subject_id == str(user.id)


def test_cli_create_admin_explains_bad_input_without_a_traceback(runner, db):
    bad_email = runner.invoke(args=["create-admin", "--email", "not-an-address"])
    assert bad_email.exit_code == 2 and "Invalid value for --email" in bad_email.output

    first = runner.invoke(args=["create-admin", "--email", "ops@example.org"], input="a-long-password\n" * 2)
    assert first.exit_code == 0, first.output
    taken = runner.invoke(args=["create-admin", "--email", "OPS@example.org"])
    assert taken.exit_code == 1 and "already exists" in taken.output

    mismatch = runner.invoke(
        args=["create-admin", "--email", "b@example.org"], input="a-long-password\nanother-one!!\n"
    )
    assert mismatch.exit_code == 1 and "do not match" in mismatch.output
    for result in (bad_email, taken, mismatch):
        assert "Traceback" not in result.output
    assert db.scalar(select(func.count(User.id))) == 1


def test_every_demo_therapist_has_hours_and_the_demo_patient_has_a_course(session):
    seed_demo(session, therapists=40, today=date.today())
    profiles = session.scalars(select(TherapistProfile)).all()
    with_hours = set(
        session.scalars(
            select(PracticeLocation.therapist_id).join(
                WeeklyHours, WeeklyHours.location_id == PracticeLocation.id
            )
        )
    )
    assert with_hours == {p.id for p in profiles}
    now = datetime.now(UTC)
    # The soonest start stored for search is the one the slot engine finds from the stored hours.
    for settings in session.scalars(select(AvailabilitySettings)).all()[:15]:
        assert settings.next_available_at is not None
        if settings.next_available_valid_until > now:
            assert soonest_cache.compute_next_available(session, settings.therapist_id, now)[0] == (
                settings.next_available_at
            )
    demo = session.scalars(select(TherapistProfile).join(User).where(User.email.like("therapist@%"))).one()
    upcoming = session.scalars(
        select(Appointment).where(Appointment.therapist_id == demo.id, Appointment.starts_at > now)
    ).all()
    # The demo patient's course, booked through the real service: the neck-pain plan, 8 sessions.
    course = session.scalars(select(Course)).one()
    assert (course.therapist_id, course.total_sessions, course.session_minutes) == (demo.id, 8, 60)
    assert course.patient.email.startswith("patient@") and course.session_notes
    assert len(upcoming) == 8 and {a.course_id for a in upcoming} == {course.id}
    free = slots.free_slots(session, demo.id, now, now + timedelta(days=7), 60, now)
    assert free and not any(a.starts_at <= s.start < a.ends_at for a in upcoming for s in free)
    seed_demo(session, therapists=40, today=date.today())  # again: nothing doubles
    assert session.scalar(select(func.count()).select_from(Appointment)) == 8
