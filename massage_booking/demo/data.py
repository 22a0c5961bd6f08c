"""Demo data for `flask seed-demo`: payers and plans, four demo logins, and N generated therapists.

Why it is built the way it is:
- Idempotent, so `make run` can call it on every start: payers and plans are upserted by code and name,
  demo accounts by e-mail, and generated therapists (e-mail `therapist-NNNNNNN@demo...`) are topped up to
  N, never duplicated.
- Deterministic: therapist number i is generated from its own `Random(seed, i)` stream, over name and
  street pools drawn once from a seeded Faker, so the same seed gives the same therapist #123 whether it
  was created in one run of 1,000 or in a top-up from 300.
- Fast enough for 1,000,000 therapists: rows are plain dicts inserted with Core `executemany` in batches,
  with primary keys allocated here from max(id) + 1, no ORM object per row and no Faker call per row.
  That means nothing else may insert into these tables while a seed runs (it is a setup command).
- Places are real: every location is the centroid of an active STANDARD ZIP from the `zipcodes` package,
  with its IANA time zone, clustered around metros plus a rural share anywhere in the country.

It is pure SQLAlchemy: it flushes and, unless `commit_every_batch` is set, never commits; the caller owns
the transaction.
"""

from __future__ import annotations

import functools
import itertools
import math
import random
import secrets
from collections import defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from typing import Any, NamedTuple, cast

import zipcodes
from faker import Faker
from sqlalchemy import Table, func, insert, select
from sqlalchemy.orm import Session

from massage_booking.demo import hours as demo_hours
from massage_booking.demo.catalog import (
    APPROACH_SENTENCES,
    CREDENTIAL_VALID_YEARS,
    DEMO_DOMAIN,
    DEMO_INSURER_PAYER,
    GENERAL_OPENERS,
    ISSUER_WEIGHTS,
    ISSUERS,
    LICENSE_TITLES,
    LOCATION_LABELS,
    METRO_RADIUS_MILES,
    METROS,
    MODALITY_SENTENCES,
    ONCOLOGY_MODALITY,
    ONCOLOGY_OPENERS,
    OTHER_MODALITIES,
    PAYERS,
    PRACTICAL_SENTENCES,
    REJECTED_ISSUER,
    REJECTED_NOTE,
    RURAL_SHARE,
    SECOND_LANGUAGE_WEIGHTS,
    SECOND_LANGUAGES,
    STREET_NAMES,
    STREET_SUFFIXES,
    Coverage,
    IssuerSpec,
    Metro,
)
from massage_booking.domain.errors import Conflict
from massage_booking.domain.identifiers import US_STATES
from massage_booking.domain.vocabulary import PRIMARY_LANGUAGE
from massage_booking.models import (
    AvailabilitySettings,
    Base,
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
from massage_booking.notifications.links import Links
from massage_booking.services.passwords import hash_password, verify_password

DEFAULT_SEED = 20240611
DEFAULT_THERAPISTS = 300
DEFAULT_BATCH_SIZE = 5_000  # therapists per batch: about 35,000 rows over the seven tables
MAX_GENERATED_THERAPISTS = 9_999_999  # the e-mail numbering has seven digits

GENERATED_EMAIL_PREFIX = "therapist-"
GENERATED_EMAIL_LIKE = f"{GENERATED_EMAIL_PREFIX}%@{DEMO_DOMAIN}"
CREDENTIAL_VALID_DAYS = round(365.25 * CREDENTIAL_VALID_YEARS)

DEMO_THERAPIST_ZIP = "10016"


@dataclass(frozen=True)
class DemoLogin:
    role: Role
    email: str
    password: str


@dataclass(frozen=True)
class DemoReport:
    therapists_created: int
    payers_created: int
    plans_created: int
    users_created: int
    therapists_total: int
    generated_therapists_total: int
    payers_total: int
    plans_total: int
    logins: list[DemoLogin]


# The demo passwords are public on purpose (they are printed and documented); seed-demo refuses to run in
# production without --force for this reason.
DEMO_LOGINS: tuple[DemoLogin, ...] = (
    DemoLogin(Role.PATIENT, f"patient@{DEMO_DOMAIN}", "patient-demo-password"),
    DemoLogin(Role.THERAPIST, f"therapist@{DEMO_DOMAIN}", "therapist-demo-password"),
    DemoLogin(Role.INSURER, f"insurer@{DEMO_DOMAIN}", "insurer-demo-password"),
    DemoLogin(Role.ADMIN, f"admin@{DEMO_DOMAIN}", "admin-demo-password"),
)
DEMO_DISPLAY_NAMES: dict[Role, str] = {
    Role.PATIENT: "Jordan Rivera (demo patient)",
    Role.THERAPIST: "Dana Whitfield",
    Role.INSURER: "Demo Insurer claims review",
    Role.ADMIN: "Demo Administrator",
}


def generated_email(index: int) -> str:
    return f"{GENERATED_EMAIL_PREFIX}{index:07d}@{DEMO_DOMAIN}"


def npi_with_check_digit(base9: str) -> str:
    """Append the NPI check digit: Luhn over "80840" + the nine digits, whose prefix contributes 24."""
    total = 24
    for position, char in enumerate(reversed(base9)):
        digit = int(char)
        if position % 2 == 0:  # doubled: the check digit will take position 0 to its right
            digit = digit * 2 - 9 if digit > 4 else digit * 2
        total += digit
    return base9 + str((10 - total % 10) % 10)


def miles_between(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    """Great-circle (haversine) distance; plenty for choosing ZIPs within a metro's radius."""
    phi1, phi2 = math.radians(lat1), math.radians(lat2)
    dphi, dlmb = phi2 - phi1, math.radians(lon2 - lon1)
    a = math.sin(dphi / 2) ** 2 + math.cos(phi1) * math.cos(phi2) * math.sin(dlmb / 2) ** 2
    return 3958.8 * 2 * math.asin(math.sqrt(a))


# --- places -----------------------------------------------------------------------------------------


class ZipPoint(NamedTuple):
    zip_code: str
    city: str
    state: str
    latitude: float
    longitude: float
    time_zone: str


@dataclass(frozen=True)
class Geography:
    by_zip: dict[str, ZipPoint]
    everywhere: tuple[ZipPoint, ...]
    metro_zips: tuple[tuple[ZipPoint, ...], ...]  # parallel to METROS
    metro_zips_by_state: dict[tuple[int, str], tuple[ZipPoint, ...]]  # (metro index, state) -> ZIPs
    metro_cum_weights: tuple[float, ...]


@functools.cache
def geography() -> Geography:
    """Active STANDARD ZIPs with a real centroid in a US state, DC or Puerto Rico, grouped by metro.

    PO Box and unique (single-organisation) ZIPs are left out because nobody practises at them. Loading
    the package's data takes most of a second, so it is done once per process.
    """
    points = [
        ZipPoint(z["zip_code"], z["city"], z["state"], float(z["lat"]), float(z["long"]), z["timezone"])
        for z in zipcodes.list_all()
        if z["active"]
        and z["zip_code_type"] == "STANDARD"
        and z["state"] in US_STATES
        and z["timezone"]
        and float(z["lat"]) != 0.0
    ]
    metro_zips = tuple(tuple(_near(points, metro)) for metro in METROS)
    empty = [m.name for m, zips in zip(METROS, metro_zips, strict=True) if not zips]
    if empty:
        raise RuntimeError(f"No ZIPs within {METRO_RADIUS_MILES} miles of: {', '.join(empty)}")
    by_state: dict[tuple[int, str], list[ZipPoint]] = defaultdict(list)
    for metro_index, zips in enumerate(metro_zips):
        for p in zips:
            by_state[(metro_index, p.state)].append(p)
    return Geography(
        by_zip={p.zip_code: p for p in points},
        everywhere=tuple(points),
        metro_zips=metro_zips,
        metro_zips_by_state={key: tuple(zips) for key, zips in by_state.items()},
        metro_cum_weights=tuple(itertools.accumulate(m.weight for m in METROS)),
    )


def _near(points: Iterable[ZipPoint], metro: Metro) -> Iterable[ZipPoint]:
    max_degrees = METRO_RADIUS_MILES / 69.0  # a degree of latitude is about 69 miles: a cheap first cut
    for p in points:
        if abs(p.latitude - metro.latitude) > max_degrees:
            continue
        if miles_between(metro.latitude, metro.longitude, p.latitude, p.longitude) <= METRO_RADIUS_MILES:
            yield p


# --- name and street pools ----------------------------------------------------------------------------


@dataclass(frozen=True)
class Pools:
    first_names: tuple[str, ...]
    last_names: tuple[str, ...]
    streets: tuple[str, ...]


@functools.lru_cache(maxsize=4)
def pools(seed: int) -> Pools:
    """Names and streets drawn once from a seeded Faker: Faker costs tens of microseconds per call, which
    at a million therapists would be most of the run, while picking from a pool costs well under one."""
    fake = Faker("en_US")
    fake.seed_instance(seed)
    rng = random.Random(seed)
    streets = tuple(
        f"{rng.randint(10, 9899)} {rng.choice(STREET_NAMES)} {rng.choice(STREET_SUFFIXES)}"
        for _ in range(600)
    )
    return Pools(
        first_names=tuple(fake.first_name() for _ in range(1500)),
        last_names=tuple(fake.last_name() for _ in range(2000)),
        streets=streets,
    )


# --- payers and demo accounts -------------------------------------------------------------------------


@dataclass
class _PayerResult:
    payers_created: int = 0
    plans_created: int = 0
    payer_ids: dict[str, int] = field(default_factory=dict)  # payer code -> id
    plan_ids: dict[tuple[str, str], int] = field(default_factory=dict)  # (payer code, plan name) -> id
    plans_by_state: dict[str, tuple[int, ...]] = field(default_factory=dict)


def _sorted(coverage: Coverage) -> Coverage:
    return coverage._replace(evidence_strengths=tuple(sorted(coverage.evidence_strengths)))


def _coverage_of(plan: InsurancePlan) -> Coverage:
    values = {name: getattr(plan, name) for name in Coverage._fields}
    values["evidence_strengths"] = tuple(plan.evidence_strengths or ())
    return _sorted(Coverage(**values))


def _set_coverage(plan: InsurancePlan, coverage: Coverage, created: bool) -> None:
    """The catalog's rules on a new plan, or on one still at the defaults (seeded before plans had rules).
    A plan whose rules someone changed keeps them: seeding runs at every `make run`."""
    if not created and _coverage_of(plan) != _sorted(Coverage()):
        return
    for name, value in coverage._asdict().items():
        setattr(plan, name, list(value) if name == "evidence_strengths" else value)


def _upsert_payers(session: Session) -> _PayerResult:
    """Payers by code (or, failing that, by their unique name), their plans by name within the payer."""
    result = _PayerResult()
    by_state: dict[str, list[int]] = defaultdict(list)
    for spec in PAYERS:
        payer = session.scalar(select(Payer).where(Payer.code == spec.code)) or session.scalar(
            select(Payer).where(Payer.name == spec.name)
        )
        if payer is None:
            payer = Payer(code=spec.code, name=spec.name)
            session.add(payer)
            result.payers_created += 1
        payer.code, payer.name = spec.code, spec.name
        existing = {plan.name: plan for plan in payer.plans}
        for plan_spec in spec.plans:
            plan = existing.get(plan_spec.name)
            created = plan is None
            if plan is None:
                plan = InsurancePlan(name=plan_spec.name, plan_type=plan_spec.plan_type)
                payer.plans.append(plan)
                result.plans_created += 1
            plan.plan_type = plan_spec.plan_type
            _set_coverage(plan, plan_spec.coverage, created)
        session.flush()
        result.payer_ids[spec.code] = payer.id
        # In catalog order, not load order, so that a top-up run draws the same plans as a fresh one.
        for plan_spec in spec.plans:
            plan_id = next(plan.id for plan in payer.plans if plan.name == plan_spec.name)
            result.plan_ids[(spec.code, plan_spec.name)] = plan_id
            for state in spec.states or US_STATES:
                by_state[state].append(plan_id)
    result.plans_by_state = {state: tuple(ids) for state, ids in by_state.items()}
    return result


def _ensure_demo_user(session: Session, login: DemoLogin) -> tuple[User, bool]:
    """The demo account for `login`, created if missing; its password is reset if it no longer matches,
    because the printed password must work."""
    user = session.scalar(select(User).where(User.email == login.email))
    if user is None:
        user = User(
            email=login.email,
            password_hash=hash_password(login.password),
            role=login.role,
            display_name=DEMO_DISPLAY_NAMES[login.role],
        )
        session.add(user)
        session.flush()
        return user, True
    if user.role is not login.role:
        raise Conflict(
            f"{login.email} already exists with role {user.role.value}, not {login.role.value}; "
            "rename or delete that account and run seed-demo again."
        )
    if not verify_password(user.password_hash, login.password):
        user.password_hash = hash_password(login.password)
    return user, False


DEMO_THERAPIST_BIO = (
    "I have been a licensed massage therapist in Manhattan for 14 years, and since completing my oncology "
    "massage training most of the people I see are in chemotherapy or radiation, or living with its "
    "after-effects. I adapt pressure, positioning and session length to treatment, ports and blood counts, "
    "and I ask for your care team's clearance when it is needed. Evening appointments are available and "
    "the studio is step-free."
)
DEMO_THERAPIST_PLANS = (("AETNA", "Choice POS II"), ("BCBS", "BlueCard PPO"), ("UHC", "Choice Plus"))


def _ensure_demo_therapist_profile(
    session: Session, user: User, admin: User, payers: _PayerResult, today: date, now: datetime
) -> bool:
    """A complete, bookable profile for the demo therapist in Murray Hill, New York (ZIP 10016)."""
    if session.scalar(select(TherapistProfile.id).where(TherapistProfile.user_id == user.id)) is not None:
        return False
    point = geography().by_zip[DEMO_THERAPIST_ZIP]
    issued = today - timedelta(days=400)
    profile = TherapistProfile(
        user_id=user.id,
        name=DEMO_DISPLAY_NAMES[Role.THERAPIST],
        credentials_suffix="LMT, BCTMB",
        bio=DEMO_THERAPIST_BIO,
        license_number="031842",
        license_state=point.state,
        license_expires_on=today + timedelta(days=500),
        license_verified_at=now - timedelta(days=30),
        npi=npi_with_check_digit("172839405"),
        session_rate_cents=12_000,
        accepting_new_patients=True,
        created_at=now,
        updated_at=now,
    )
    profile.locations.append(
        PracticeLocation(
            label="Murray Hill studio",
            address_line1="150 Lexington Avenue",
            address_line2="Suite 4B",
            city=point.city,
            state=point.state,
            zip_code=point.zip_code,
            latitude=point.latitude,
            longitude=point.longitude,
            time_zone=point.time_zone,
            geocode_precision=GeocodePrecision.ZIP,
        )
    )
    profile.credentials.append(
        OncologyCredential(
            kind=CredentialKind.S4OM_FOUNDATIONAL,
            issuer=ISSUERS[0].issuer,
            training_hours=32,
            issued_on=issued,
            expires_on=issued + timedelta(days=CREDENTIAL_VALID_DAYS),
            status=CredentialStatus.VERIFIED,
            submitted_at=_at(issued + timedelta(days=2)),
            verified_at=_at(issued + timedelta(days=5)),
            verified_by_id=admin.id,
        )
    )
    for modality in (
        ONCOLOGY_MODALITY,
        "Swedish massage",
        "Manual lymphatic drainage",
        "Hospice and palliative massage",
    ):
        profile.modalities.append(TherapistModality(modality=modality))
    for language in (PRIMARY_LANGUAGE, "Spanish"):
        profile.languages.append(TherapistLanguage(language=language))
    for key in DEMO_THERAPIST_PLANS:
        profile.networks.append(
            NetworkMembership(plan_id=payers.plan_ids[key], joined_on=today - timedelta(days=700))
        )
    session.add(profile)
    session.flush()
    return True


def _link_demo_insurer(insurer: User, payers: _PayerResult) -> None:
    """The demo insurer works for one payer (an insurer account checks that payer's plans only); an
    account an administrator already moved to another payer stays where it is."""
    if insurer.payer_id is None:
        insurer.payer_id = payers.payer_ids[DEMO_INSURER_PAYER]


# --- generated therapists -----------------------------------------------------------------------------


def _table(model: type[Base]) -> Table:
    return cast(Table, model.__table__)


_ID_TABLES: tuple[Table, ...] = tuple(
    map(_table, (User, TherapistProfile, PracticeLocation, OncologyCredential))
)
# Parents before children, so a database that enforces foreign keys accepts every batch.
_INSERT_ORDER: tuple[Table, ...] = (
    *_ID_TABLES,
    *map(
        _table, (TherapistModality, TherapistLanguage, NetworkMembership, AvailabilitySettings, WeeklyHours)
    ),
)


class _Ids:
    """Primary keys handed out from max(id) + 1, so bulk rows need no round trip to learn their ids."""

    def __init__(self, session: Session) -> None:
        self._next = {t.name: (session.scalar(select(func.max(t.c.id))) or 0) + 1 for t in _ID_TABLES}

    def take(self, table: str) -> int:
        value = self._next[table]
        self._next[table] = value + 1
        return value


@dataclass
class _Batch:
    rows: dict[str, list[dict[str, Any]]] = field(default_factory=lambda: {t.name: [] for t in _INSERT_ORDER})

    def add(self, table: str, row: dict[str, Any]) -> None:
        self.rows[table].append(row)

    def insert(self, session: Session) -> None:
        for table in _INSERT_ORDER:
            if rows := self.rows[table.name]:
                session.execute(insert(table), rows)


@dataclass
class _Context:
    seed: int
    today: date
    now: datetime
    password_hash: str
    admin_id: int
    plans_by_state: dict[str, tuple[int, ...]]
    geo: Geography
    pools: Pools
    rng: random.Random = field(default_factory=random.Random)


def _at(day: date, hour: int = 15) -> datetime:
    return datetime.combine(day, time(hour), tzinfo=UTC)


def _pick_place(index: int, ctx: _Context) -> tuple[int | None, ZipPoint]:
    """A metro (the first therapists visit each metro once, so even a small seed covers Alaska and
    Hawaii) or, for the rural share, any ZIP in the country. Returns (metro index or None, ZIP)."""
    rng = ctx.rng
    if index <= len(METROS):
        metro: int | None = index - 1
    elif rng.random() < RURAL_SHARE:
        metro = None
    else:
        metro = rng.choices(range(len(METROS)), cum_weights=ctx.geo.metro_cum_weights)[0]
    zips = ctx.geo.everywhere if metro is None else ctx.geo.metro_zips[metro]
    return metro, rng.choice(zips)


def _credential_category(rng: random.Random) -> str | None:
    """About 40% hold an active verified credential, 4.5% an expired one (a tenth of those credentialed),
    1.5% wait in the admin review queue and 0.5% were rejected; the rest have no oncology training."""
    r = rng.random()
    if r < 0.40:
        return "active"
    if r < 0.445:
        return "expired"
    if r < 0.46:
        return "pending"
    if r < 0.465:
        return "rejected"
    return None


def _credential_row(
    ctx: _Context, ids: _Ids, therapist_id: int, category: str, spec: IssuerSpec
) -> dict[str, Any]:
    rng, today = ctx.rng, ctx.today
    kind, issuer, hours = spec.kind, spec.issuer, rng.choice(spec.hours)
    status, note = CredentialStatus.VERIFIED, None
    if category == "active":
        issued = today - timedelta(days=rng.randint(30, CREDENTIAL_VALID_DAYS - 30))
    elif category == "expired":
        issued = today - timedelta(days=rng.randint(CREDENTIAL_VALID_DAYS + 1, 2 * CREDENTIAL_VALID_DAYS))
    elif category == "pending":
        issued, status = today - timedelta(days=rng.randint(7, 180)), CredentialStatus.PENDING
    else:
        issued, status, note = (
            today - timedelta(days=rng.randint(30, 365)),
            CredentialStatus.REJECTED,
            REJECTED_NOTE,
        )
        kind, issuer, hours = CredentialKind.ONCOLOGY_CERTIFICATE, REJECTED_ISSUER, rng.choice((6, 8, 12))
    submitted = _at(issued + timedelta(days=rng.randint(1, 5)), rng.randint(13, 23))
    reviewed = status is not CredentialStatus.PENDING
    return {
        "id": ids.take("oncology_credentials"),
        "therapist_id": therapist_id,
        "kind": kind,
        "issuer": issuer,
        "training_hours": hours,
        "issued_on": issued,
        "expires_on": issued + timedelta(days=CREDENTIAL_VALID_DAYS),
        "status": status,
        "submitted_at": submitted,
        "verified_at": submitted + timedelta(days=rng.randint(1, 10)) if reviewed else None,
        "verified_by_id": ctx.admin_id if reviewed else None,
        "review_note": note,
    }


def _add_credentials(ctx: _Context, ids: _Ids, batch: _Batch, therapist_id: int, category: str) -> date:
    """The therapist's credential(s); about one in ten active ones also did a hospital-based course.
    Returns the earliest issue date, which bounds how long they have been practising."""
    rng = ctx.rng
    spec = rng.choices(ISSUERS, weights=ISSUER_WEIGHTS)[0]
    row = _credential_row(ctx, ids, therapist_id, category, spec)
    batch.add("oncology_credentials", row)
    if category == "active" and spec.kind is not CredentialKind.HOSPITAL_BASED and rng.random() < 0.1:
        hospital = rng.choice([s for s in ISSUERS if s.kind is CredentialKind.HOSPITAL_BASED])
        batch.add("oncology_credentials", _credential_row(ctx, ids, therapist_id, category, hospital))
    return row["issued_on"]


def _license_number(rng: random.Random, state: str) -> str:
    """Formats modelled on a few state boards (NY six digits, FL "MA" + five, WA "MA6" + seven, TX "MT"
    + six); other states get "ST.0123456"."""
    n = rng.randrange(10**7)
    formats = {
        "NY": f"{n % 10**6:06d}",
        "FL": f"MA{n % 10**5:05d}",
        "WA": f"MA6{n:07d}",
        "TX": f"MT{n % 10**6:06d}",
    }
    return formats.get(state, f"{state}.{n:07d}")


def _npi(ctx: _Context, index: int) -> str | None:
    """About a third have an NPI. index * an odd multiplier not divisible by 5 is a bijection modulo 10**8,
    so generated NPIs are unique within a seed."""
    if ctx.rng.random() >= 0.35:
        return None
    return npi_with_check_digit(f"1{(index * 7_919_113 + ctx.seed) % 10**8:08d}")


def _modalities(rng: random.Random, trained: bool) -> list[str]:
    """Only therapists with oncology training (verified or awaiting review) list oncology massage."""
    if trained:
        return [ONCOLOGY_MODALITY, *rng.sample(OTHER_MODALITIES, rng.randint(1, 3))]
    return rng.sample(OTHER_MODALITIES, rng.randint(2, 4))


def _bio(rng: random.Random, trained: bool, modalities: list[str], years: int, city: str) -> str:
    """2-4 first-person sentences: an opener, one about a modality they offer, then optional extras."""
    opener = rng.choice(ONCOLOGY_OPENERS if trained else GENERAL_OPENERS).format(years=years, city=city)
    focus = modalities[0] if trained else rng.choice(modalities)
    parts = [opener, rng.choice(MODALITY_SENTENCES[focus])]
    if rng.random() < 0.75:
        parts.append(rng.choice(APPROACH_SENTENCES))
    if rng.random() < 0.5:
        parts.append(rng.choice(PRACTICAL_SENTENCES))
    return " ".join(parts)


def _location_row(ctx: _Context, ids: _Ids, therapist_id: int, point: ZipPoint) -> dict[str, Any]:
    rng = ctx.rng
    return {
        "id": ids.take("practice_locations"),
        "therapist_id": therapist_id,
        "label": rng.choice(LOCATION_LABELS),
        "address_line1": rng.choice(ctx.pools.streets),
        "address_line2": f"Suite {rng.randint(1, 9)}{rng.randint(0, 3)}{rng.randint(1, 9)}"
        if rng.random() < 0.4
        else "",
        "city": point.city,
        "state": point.state,
        "zip_code": point.zip_code,
        "latitude": point.latitude,
        "longitude": point.longitude,
        "time_zone": point.time_zone,
        "geocode_precision": GeocodePrecision.ZIP,
    }


def _add_therapist(index: int, ctx: _Context, ids: _Ids, batch: _Batch) -> None:
    """All rows for generated therapist number `index`, from its own random stream."""
    rng = ctx.rng
    rng.seed(ctx.seed * 10_000_019 + index)
    user_id, profile_id = ids.take("users"), ids.take("therapist_profiles")
    name = f"{rng.choice(ctx.pools.first_names)} {rng.choice(ctx.pools.last_names)}"
    metro, point = _pick_place(index, ctx)
    state = point.state

    category = _credential_category(rng)
    years = rng.randint(2, 28)
    if category is not None:
        first_issued = _add_credentials(ctx, ids, batch, profile_id, category)
        years = max(years, (ctx.today - first_issued).days // 365 + 2)
    trained = category in ("active", "expired", "pending")
    modalities = _modalities(rng, trained)

    batch.add("users", {
        "id": user_id,
        "email": generated_email(index),
        "password_hash": ctx.password_hash,
        "role": Role.THERAPIST,
        "display_name": name,
        "is_active": True,
        "created_at": ctx.now,
        "last_login_at": None,
    })  # fmt: skip
    licensed_until = ctx.today + timedelta(
        days=rng.randint(30, 730) if rng.random() < 0.95 else -rng.randint(1, 200)
    )
    batch.add("therapist_profiles", {
        "id": profile_id,
        "user_id": user_id,
        "name": name,
        "credentials_suffix": LICENSE_TITLES.get(state, "LMT") + (", BCTMB" if rng.random() < 0.12 else ""),
        "bio": _bio(rng, trained, modalities, years, point.city),
        "license_number": _license_number(rng, state),
        "license_state": state,
        "license_expires_on": licensed_until,
        "license_verified_at": ctx.now - timedelta(days=rng.randint(1, 600)) if rng.random() < 0.9 else None,
        "npi": _npi(ctx, index),
        "session_rate_cents": rng.randrange(8_000, 16_001, 500),
        "currency": "USD",
        "accepting_new_patients": rng.random() < 0.85,
        "created_at": ctx.now,
        "updated_at": ctx.now,
    })  # fmt: skip
    locations = [_location_row(ctx, ids, profile_id, point)]
    if metro is not None and rng.random() < 0.08:
        # A second room in the same metro and state (a licence is valid in one state only).
        others = [p for p in ctx.geo.metro_zips_by_state[(metro, state)] if p.zip_code != point.zip_code]
        if others:
            locations.append(_location_row(ctx, ids, profile_id, rng.choice(others)))
    for location in locations:
        batch.add("practice_locations", location)
    for modality in modalities:
        batch.add("therapist_modalities", {"therapist_id": profile_id, "modality": modality})
    batch.add("therapist_languages", {"therapist_id": profile_id, "language": PRIMARY_LANGUAGE})
    if rng.random() < 0.25:
        second = rng.choices(SECOND_LANGUAGES, weights=SECOND_LANGUAGE_WEIGHTS)[0]
        batch.add("therapist_languages", {"therapist_id": profile_id, "language": second})
    eligible = ctx.plans_by_state[state]
    size = min(len(eligible), rng.choices((1, 2, 3, 4), weights=(30, 35, 25, 10))[0])
    for plan_id in rng.sample(eligible, size):
        joined = ctx.today - timedelta(days=rng.randint(30, 5 * 365))
        batch.add(
            "network_memberships", {"therapist_id": profile_id, "plan_id": plan_id, "joined_on": joined}
        )
    settings, hours = demo_hours.generated_rows(
        rng, profile_id, [(loc["id"], loc["time_zone"]) for loc in locations], ctx.now
    )
    batch.add("availability_settings", settings)
    for row in hours:
        batch.add("weekly_hours", row)


def generated_therapist_count(session: Session) -> int:
    """How many generated (bulk) therapist accounts exist; the demo therapist is not one of them."""
    return (
        session.scalar(select(func.count()).select_from(User).where(User.email.like(GENERATED_EMAIL_LIKE)))
        or 0
    )


def _highest_generated_index(session: Session) -> int:
    """The numbers are zero-padded to a fixed width, so the greatest e-mail has the greatest number."""
    email = session.scalar(select(func.max(User.email)).where(User.email.like(GENERATED_EMAIL_LIKE)))
    if email is None:
        return 0
    number = email.removeprefix(GENERATED_EMAIL_PREFIX).partition("@")[0]
    if not number.isdigit():
        raise Conflict(f"Unexpected account {email}: generated demo e-mails are {generated_email(1)}-style.")
    return int(number)


def _resync_id_sequences(session: Session) -> None:
    """PostgreSQL's serial sequences do not see ids we chose ourselves; move them past max(id) so the next
    ordinary insert (a registration, say) does not collide with a generated row."""
    if session.get_bind().dialect.name != "postgresql":
        return
    for table in _ID_TABLES:
        highest = select(func.max(table.c.id)).scalar_subquery()
        session.execute(select(func.setval(func.pg_get_serial_sequence(table.name, "id"), highest)))


def _insert_generated(
    session: Session,
    ctx: _Context,
    first_index: int,
    count: int,
    batch_size: int,
    progress: Callable[[int], None] | None,
    commit_every_batch: bool,
) -> None:
    ids = _Ids(session)
    end = first_index + count
    for start in range(first_index, end, batch_size):
        stop = min(start + batch_size, end)
        batch = _Batch()
        for index in range(start, stop):
            _add_therapist(index, ctx, ids, batch)
        batch.insert(session)
        _resync_id_sequences(session)
        if commit_every_batch:
            session.commit()
        if progress is not None:
            progress(stop - start)


# --- entry point --------------------------------------------------------------------------------------


def seed_demo(
    session: Session,
    therapists: int = DEFAULT_THERAPISTS,
    progress: Callable[[int], None] | None = None,
    today: date | None = None,
    *,
    seed: int = DEFAULT_SEED,
    commit_every_batch: bool = False,
    batch_size: int = DEFAULT_BATCH_SIZE,
    links: Links | None = None,
) -> DemoReport:
    """Make the demo data present: payers and plans with their coverage rules, the four demo logins (the
    therapist with a complete New York profile, the insurer working for DEMO_INSURER_PAYER) and
    `therapists` generated therapists in total (topped up, never duplicated).

    `progress` is called after each batch with the number of therapists just inserted. With
    `commit_every_batch` each batch is committed, so a million rows never sit in one transaction; otherwise
    nothing is committed and the caller decides. `links` are where the demo course's confirmation
    e-mails point (the app's, from `flask seed-demo`; a local instance's otherwise).
    """
    if not 0 <= therapists <= MAX_GENERATED_THERAPISTS:
        raise ValueError(f"therapists must be between 0 and {MAX_GENERATED_THERAPISTS:,}")
    if batch_size < 1:
        raise ValueError("batch_size must be at least 1")
    today = today or date.today()
    now = datetime.now(UTC)

    payers = _upsert_payers(session)
    users_created = 0
    demo_users: dict[Role, User] = {}
    for login in sorted(DEMO_LOGINS, key=lambda login: login.role is not Role.ADMIN):  # admin first
        demo_users[login.role], created = _ensure_demo_user(session, login)
        users_created += created
    admin = demo_users[Role.ADMIN]
    therapists_created = int(
        _ensure_demo_therapist_profile(session, demo_users[Role.THERAPIST], admin, payers, today, now)
    )
    session.flush()
    demo_profile = session.scalars(
        select(TherapistProfile).where(TherapistProfile.user_id == demo_users[Role.THERAPIST].id)
    ).one()
    demo_hours.ensure_demo_therapist_hours(
        session,
        demo_profile.id,
        demo_profile.locations[0].id,
        demo_users[Role.PATIENT],
        now,
        links or Links.local(),
    )
    _link_demo_insurer(demo_users[Role.INSURER], payers)

    missing = max(0, therapists - generated_therapist_count(session))
    if missing:
        ctx = _Context(
            seed=seed,
            today=today,
            now=now,
            # Nobody can log in as a generated therapist: they all share the hash of one random secret that
            # is thrown away at once. One argon2 hash per run instead of one per row (about 20 ms each)
            # is what makes a million therapists possible.
            password_hash=hash_password(secrets.token_urlsafe(32)),
            admin_id=admin.id,
            plans_by_state=payers.plans_by_state,
            geo=geography(),
            pools=pools(seed),
        )
        first = _highest_generated_index(session) + 1
        if first + missing - 1 > MAX_GENERATED_THERAPISTS:
            raise Conflict("Generated therapist numbers would exceed seven digits.")
        _insert_generated(session, ctx, first, missing, batch_size, progress, commit_every_batch)
        users_created += missing
        therapists_created += missing

    return DemoReport(
        therapists_created=therapists_created,
        payers_created=payers.payers_created,
        plans_created=payers.plans_created,
        users_created=users_created,
        therapists_total=_count(session, TherapistProfile.id),
        generated_therapists_total=generated_therapist_count(session),
        payers_total=_count(session, Payer.id),
        plans_total=_count(session, InsurancePlan.id),
        logins=list(DEMO_LOGINS),
    )


def _count(session: Session, column: Any) -> int:
    return session.scalar(select(func.count(column))) or 0
