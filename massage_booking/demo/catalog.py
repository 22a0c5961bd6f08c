"""The fixed vocabulary behind the demo data: metros, payers and plans, credential issuers, modalities,
languages and the sentence fragments that bios are composed from.

Kept as Python constants rather than JSON so that the types are checked and the seeder needs no loader.
Everything here is fictional or generic except the payer brands, the course names the evidence file cites
(reference/evidence.md, "Oncology massage credentials") and the geography; no real therapist is described.
"""

from __future__ import annotations

from typing import NamedTuple

from massage_booking.domain.credentials import S4OM_MIN_FOUNDATIONAL_HOURS
from massage_booking.domain.eligibility import DoseRule, UnitRule
from massage_booking.domain.vocabulary import LANGUAGES, MODALITIES, ONCOLOGY_MODALITY
from massage_booking.models import CredentialKind, PlanType

# ".example" is reserved (RFC 2606), so these addresses can never reach anyone. Not ".test": the
# email-validator package that accounts.normalize_email uses refuses special-use names such as "test",
# so nobody could log in with a .test address.
DEMO_DOMAIN = "demo.massagebooking.example"

# Health plans commonly re-credential about every three years (evidence.md section 3); demo credentials
# are therefore valid for three years from issue, which is what makes some of them expired.
CREDENTIAL_VALID_YEARS = 3

METRO_RADIUS_MILES = 40.0
RURAL_SHARE = 0.12


class Metro(NamedTuple):
    name: str
    latitude: float
    longitude: float
    weight: float  # relative share of the metro therapists, roughly by population


METROS: tuple[Metro, ...] = (
    Metro("New York", 40.7128, -74.0060, 16),
    Metro("Los Angeles", 34.0522, -118.2437, 11),
    Metro("Chicago", 41.8781, -87.6298, 8),
    Metro("Houston", 29.7604, -95.3698, 6),
    Metro("Washington", 38.9072, -77.0369, 5),
    Metro("San Francisco", 37.7749, -122.4194, 6),
    Metro("Seattle", 47.6062, -122.3321, 4),
    Metro("Boston", 42.3601, -71.0589, 5),
    Metro("Atlanta", 33.7490, -84.3880, 5),
    Metro("Denver", 39.7392, -104.9903, 4),
    Metro("Minneapolis", 44.9778, -93.2650, 3),
    Metro("Miami", 25.7617, -80.1918, 5),
    Metro("Phoenix", 33.4484, -112.0740, 4),
    Metro("Anchorage", 61.2181, -149.9003, 1),
    Metro("Honolulu", 21.3069, -157.8583, 1.5),
)


class Coverage(NamedTuple):
    """A plan's coverage rules, column for column as InsurancePlan stores them (domain/eligibility.PlanRules
    says what each means). The defaults are the model's: guideline- and trial-supported conditions,
    in-network only, an oncology credential for cancer-related conditions, the CMS 8-minute rule."""

    covers_massage: bool = True
    evidence_strengths: tuple[str, ...] = ("guideline", "trial")
    referral_required: bool = False
    referral_valid_days: int | None = 90
    annual_visit_limit: int | None = None
    plan_year_start_month: int = 1
    max_units_per_visit: int | None = None
    in_network_only: bool = True
    oncology_credential_for_cancer: bool = True
    unit_rule: UnitRule = UnitRule.CMS_8_MINUTE
    copay_cents: int = 0
    below_dose: DoseRule = DoseRule.WARN


class PlanSpec(NamedTuple):
    name: str
    plan_type: PlanType
    coverage: Coverage = Coverage()


class PayerSpec(NamedTuple):
    code: str
    name: str
    plans: tuple[PlanSpec, ...]
    states: frozenset[str] | None = None  # None: contracts therapists in every state


# Kaiser Permanente only operates in these regions, so only therapists there join its plans.
KAISER_STATES = frozenset({"CA", "CO", "GA", "HI", "MD", "VA", "DC", "OR", "WA"})

# The payer the demo insurer login works for: the demo therapist is in its Choice POS II network, so a
# check in the insurer portal has an in-network, oncology-trained therapist to ask about.
DEMO_INSURER_PAYER = "AETNA"

# The coverage rules are the kinds payers actually check (reference/evidence.md §4.3), varied so that the
# demo shows every reason an eligibility check can give. The brands are real; these rules are invented
# for the demo and are not any payer's actual policy. Figures such as "20 visits a year" are typical, not
# verified (§4.3 marks them [M]).
#
# - Referral: 27% of reviewed policies require a diagnosis-specific physician referral (§4.3).
# - Unit rules (§4.2): the CMS 8-minute rule, whole 15-minute increments only (23% of reviewed policies),
#   or a cap of 4 units ("up to a 60 minute session per visit", eviCore).
# - Medicare (§4.3): Original Medicare does not recognise massage therapists; Medicare Advantage plans may
#   offer therapeutic massage as a supplemental benefit when a physician orders it (CMS 2019), hence a
#   referral on every Medicare Advantage plan that covers it, and one that offers no such benefit.
# - Some policies exclude massage therapists as providers altogether (27%, §4.3): covers_massage=False.
PAYERS: tuple[PayerSpec, ...] = (
    PayerSpec(
        "AETNA",
        "Aetna",
        (
            # A referral valid 90 days, 20 visits a year, $25 copay.
            PlanSpec(
                "Choice POS II",
                PlanType.POS,
                Coverage(referral_required=True, annual_visit_limit=20, copay_cents=2500),
            ),
            # Medical necessity tied to an evidence-based protocol (§4.3): below the effective dose is
            # declined rather than covered with a note.
            PlanSpec(
                "Open Access Elect Choice EPO",
                PlanType.EPO,
                Coverage(annual_visit_limit=24, copay_cents=3000, below_dose=DoseRule.REQUIRE),
            ),
            # Medicare Advantage supplemental benefit: therapeutic massage by a state-licensed therapist
            # when a physician orders it (evidence.md §4.3, CMS 2019 reinterpretation); a PPO, so
            # out-of-network therapists are covered too.
            PlanSpec(
                "Medicare Advantage PPO",
                PlanType.MEDICARE_ADVANTAGE,
                Coverage(
                    referral_required=True,
                    annual_visit_limit=12,
                    max_units_per_visit=4,
                    in_network_only=False,
                    copay_cents=2000,
                ),
            ),
        ),
    ),
    PayerSpec(
        "BCBS",
        "Blue Cross Blue Shield",
        (
            # Out-of-network covered; whole 15-minute increments only (§4.2: 23% of reviewed policies).
            PlanSpec(
                "BlueCard PPO",
                PlanType.PPO,
                Coverage(
                    annual_visit_limit=30,
                    in_network_only=False,
                    unit_rule=UnitRule.WHOLE_15_MINUTE,
                    copay_cents=3500,
                ),
            ),
            # HMO: in-network only, 12 visits a year, at most 4 units (one hour) a visit.
            PlanSpec(
                "Blue HMO",
                PlanType.HMO,
                Coverage(annual_visit_limit=12, max_units_per_visit=4, copay_cents=2000),
            ),
        ),
    ),
    PayerSpec(
        "CIGNA",
        "Cigna Healthcare",
        (
            # Covers only conditions a clinical guideline supports (the oncology guidelines, §1), not
            # conditions with trial evidence alone such as chronic neck pain.
            PlanSpec(
                "Open Access Plus",
                PlanType.POS,
                Coverage(evidence_strengths=("guideline",), annual_visit_limit=20, copay_cents=2500),
            ),
            PlanSpec(
                "LocalPlus",
                PlanType.EPO,
                Coverage(
                    referral_required=True,
                    referral_valid_days=180,
                    annual_visit_limit=20,
                    copay_cents=2000,
                ),
            ),
            # The broadest: emerging evidence too, out-of-network covered, one hour a visit at most.
            PlanSpec(
                "PPO",
                PlanType.PPO,
                Coverage(
                    evidence_strengths=("guideline", "trial", "emerging"),
                    annual_visit_limit=30,
                    max_units_per_visit=4,
                    in_network_only=False,
                    copay_cents=4000,
                ),
            ),
        ),
    ),
    PayerSpec(
        "UHC",
        "UnitedHealthcare",
        (
            PlanSpec(
                "Choice Plus",
                PlanType.PPO,
                Coverage(annual_visit_limit=20, in_network_only=False, copay_cents=3000),
            ),
            # HMO: a primary-care referral (valid 180 days), 12 visits, 4 units a visit.
            PlanSpec(
                "Navigate HMO",
                PlanType.HMO,
                Coverage(
                    referral_required=True,
                    referral_valid_days=180,
                    annual_visit_limit=12,
                    max_units_per_visit=4,
                    copay_cents=2500,
                ),
            ),
            # Medicare Advantage supplemental massage benefit (evidence.md §4.3): only with a physician's
            # order, in-network, 12 visits a year, one hour a visit.
            PlanSpec(
                "AARP Medicare Advantage",
                PlanType.MEDICARE_ADVANTAGE,
                Coverage(
                    referral_required=True,
                    annual_visit_limit=12,
                    max_units_per_visit=4,
                    copay_cents=1500,
                ),
            ),
        ),
    ),
    PayerSpec(
        "HUMANA",
        "Humana",
        (
            # A plan year that starts in July: visits are counted from July 1.
            PlanSpec(
                "ChoiceCare PPO",
                PlanType.PPO,
                Coverage(
                    annual_visit_limit=20, plan_year_start_month=7, in_network_only=False, copay_cents=3000
                ),
            ),
            # Medicare Advantage supplemental benefit with a physician's order (evidence.md §4.3), six visits.
            PlanSpec(
                "Gold Plus HMO",
                PlanType.MEDICARE_ADVANTAGE,
                Coverage(referral_required=True, annual_visit_limit=6, max_units_per_visit=4),
            ),
        ),
    ),
    PayerSpec(
        "KAISER",
        "Kaiser Permanente",
        (
            PlanSpec(
                "HMO",
                PlanType.HMO,
                Coverage(
                    referral_required=True,
                    referral_valid_days=180,
                    annual_visit_limit=12,
                    copay_cents=2500,
                ),
            ),
            # A Medicare Advantage plan without the supplemental massage benefit (evidence.md §4.3: it is
            # optional, and Original Medicare does not recognise massage therapists).
            PlanSpec("Senior Advantage", PlanType.MEDICARE_ADVANTAGE, Coverage(covers_massage=False)),
        ),
        KAISER_STATES,
    ),
    PayerSpec(
        "MEDICAID",
        "Medicaid (state program)",
        (
            PlanSpec(
                "Managed Care",
                PlanType.MEDICAID,
                Coverage(evidence_strengths=("guideline",), referral_required=True, annual_visit_limit=12),
            ),
            # Massage therapists are not providers of this program (evidence.md §4.3: 27% of policies).
            PlanSpec("Fee-for-Service", PlanType.MEDICAID, Coverage(covers_massage=False)),
        ),
    ),
)


class IssuerSpec(NamedTuple):
    kind: CredentialKind
    issuer: str
    hours: tuple[int, ...]  # the course lengths this issuer offers


ISSUERS: tuple[IssuerSpec, ...] = (
    IssuerSpec(
        CredentialKind.S4OM_FOUNDATIONAL,
        "Society for Oncology Massage recognised provider: Oncology Massage Healing Arts",
        (24, 28, 32),
    ),
    IssuerSpec(CredentialKind.S4OM_FOUNDATIONAL, "Peter Walsh Oncology Massage Training", (24, 30)),
    IssuerSpec(
        CredentialKind.S4OM_FOUNDATIONAL,
        "Society for Oncology Massage recognised provider: Cascade Oncology Massage Institute",
        (24, 32, 40),
    ),
    IssuerSpec(
        CredentialKind.S4OM_FOUNDATIONAL,
        "S4OM-aligned foundational course: Great Lakes School of Oncology Massage",
        (28, 36),
    ),
    IssuerSpec(
        CredentialKind.HOSPITAL_BASED, "Mayo Clinic Hospital-Based Massage Therapy Course", (100, 105)
    ),
    IssuerSpec(
        CredentialKind.HOSPITAL_BASED,
        "Hospital-based massage internship: Riverside Regional Cancer Institute",
        (65, 80),
    ),
    IssuerSpec(
        CredentialKind.ONCOLOGY_CERTIFICATE,
        "Oncology massage certificate: Lakeshore Integrative Cancer Center",
        (32, 48),
    ),
    IssuerSpec(
        CredentialKind.ONCOLOGY_CERTIFICATE,
        "Supervised oncology massage practicum: Mountain States Cancer Care",
        (40, 60),
    ),
)
ISSUER_WEIGHTS: tuple[float, ...] = (22, 12, 14, 12, 10, 5, 15, 10)

# What a reviewer rejects: a course that does not meet the S4OM standard (too short, not supervised).
REJECTED_ISSUER = "Self-paced online oncology massage webinar (recorded)"
REJECTED_NOTE = (
    "Recorded, self-paced webinar without supervised hands-on practice; an S4OM foundational course "
    f"needs at least {S4OM_MIN_FOUNDATIONAL_HOURS} supervised hours."
)

OTHER_MODALITIES: tuple[str, ...] = tuple(m for m in MODALITIES if m != ONCOLOGY_MODALITY)

SECOND_LANGUAGES: tuple[str, ...] = LANGUAGES[1:9]  # Spanish to French, after English
SECOND_LANGUAGE_WEIGHTS: tuple[float, ...] = (50, 12, 7, 6, 7, 7, 5, 6)

# Title of the licence by state (evidence.md: LMT, LMP, CMT, LMBT...); LMT elsewhere.
LICENSE_TITLES: dict[str, str] = {"WA": "LMP", "NC": "LMBT", "CA": "CMT"}

LOCATION_LABELS: tuple[str, ...] = (
    "Studio",
    "Main practice",
    "Wellness clinic",
    "Integrative care suite",
    "Home studio",
    "Treatment room",
)
STREET_NAMES: tuple[str, ...] = (
    "Main", "Oak", "Maple", "Cedar", "Pine", "Elm", "Washington", "Lake", "Hill", "Park", "River",
    "Church", "Spring", "Highland", "Franklin", "Jefferson", "Lincoln", "Madison", "Sunset", "Meadow",
)  # fmt: skip
STREET_SUFFIXES: tuple[str, ...] = ("Street", "Avenue", "Road", "Boulevard", "Lane", "Drive", "Way", "Place")

# Bios are written in the first person, as therapists write them, and composed as
# opener + modality sentence + (approach) + (practical detail): 2-4 sentences.
# Openers only mention oncology training for therapists who actually hold a credential.
ONCOLOGY_OPENERS: tuple[str, ...] = (
    "I have been a licensed massage therapist for {years} years, and since my oncology massage training "
    "most of the people I see are living with cancer or recovering from treatment.",
    "I came to oncology massage after years in general practice, when a client in chemotherapy asked me "
    "whether massage was still safe for her.",
    "I have practised massage in {city} for {years} years, lately mostly with people in and after cancer "
    "treatment.",
    "I trained in oncology massage because I wanted to keep caring for clients when they were diagnosed, "
    "not send them away.",
    "My practice in {city} is built around people with cancer, chronic pain and long recoveries.",
    "After {years} years of massage practice I now focus on clients going through chemotherapy, radiation "
    "or surgery, and on survivors living with the after-effects.",
)
GENERAL_OPENERS: tuple[str, ...] = (
    "I have practised massage in {city} for {years} years, mostly with people living with long-term pain.",
    "I am a licensed massage therapist with {years} years of experience and a calm, practical approach.",
    "Most of my clients come to me with persistent back, neck or shoulder pain that has outlasted other "
    "treatments.",
    "I have worked in clinics and private practice in {city} for {years} years.",
    "I became a massage therapist after a long recovery of my own taught me how much skilled touch helps.",
    "For {years} years I have helped people with chronic pain move and sleep a little more easily.",
)
MODALITY_SENTENCES: dict[str, tuple[str, ...]] = {
    ONCOLOGY_MODALITY: (
        "I adapt pressure, positioning and session length to treatment, ports, lines and blood counts, and "
        "I ask for your care team's clearance when it is needed.",
        "Sessions for clients in active treatment are gentle and often shorter, with pressure adjusted to "
        "how you are that day.",
    ),
    "Swedish massage": (
        "Most sessions are Swedish massage: long, slow strokes that help many clients relax and sleep.",
        "I use Swedish massage as a gentle base and adjust it to what your body needs that day.",
    ),
    "Manual lymphatic drainage": (
        "I also offer light lymphatic drainage, and I work alongside your lymphedema therapist rather than "
        "replacing them.",
        "Gentle lymphatic drainage is part of my work, always within what your medical team advises.",
    ),
    "Myofascial release": (
        "Myofascial release helps many of my clients with tightness around old scars and surgical sites.",
        "I often use slow myofascial techniques for stiffness that has built up over months of pain.",
    ),
    "Reflexology": (
        "Some clients prefer reflexology, which works through the hands and feet and needs no undressing.",
        "I offer reflexology for clients who would rather keep pressure away from sore areas.",
    ),
    "Deep tissue": (
        "When it is appropriate, I use focused deep tissue work for long-standing muscle tension.",
        "Deep tissue work is available, but I never push past what is comfortable for you.",
    ),
    "Hospice and palliative massage": (
        "I also visit clients in hospice and palliative care, where comfort is the whole goal.",
        "In palliative care my sessions are short and quiet, and families are welcome to stay.",
    ),
    "Craniosacral therapy": (
        "Craniosacral work, with very light touch, suits clients who find other massage too much.",
        "I offer craniosacral therapy for clients who need the lightest possible touch.",
    ),
    "Trigger point therapy": (
        "Trigger point therapy helps many of my clients with referred pain in the neck and shoulders.",
        "I use trigger point techniques for knots that keep coming back.",
    ),
}
APPROACH_SENTENCES: tuple[str, ...] = (
    "We start every visit with a short conversation about how you are feeling and what has changed.",
    "You are always in charge of pressure, and you can pause or stop at any time.",
    "I keep notes between visits so that you do not have to repeat your history each time.",
    "Sessions can be done seated or side-lying if lying face down is uncomfortable.",
    "I use unscented oils and warm blankets, and the room is kept quiet.",
    "I am happy to talk with your doctor or nurse if you would like me to.",
)
PRACTICAL_SENTENCES: tuple[str, ...] = (
    "My studio is step-free and has a height-adjustable table.",
    "Evening and Saturday appointments are available.",
    "Parking is free and right outside the door.",
    "I can also come to your home within a short drive of the studio.",
    "A caregiver is welcome to sit in on the first session.",
    "The studio is a short walk from public transport.",
)
