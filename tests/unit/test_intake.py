"""domain/intake.py: health answers -> oncology-trained therapists only, clearance first, or not now.

The gates are evidence.md section 2's "Gate logic for booking" and the registry's precaution gates; the
table below is the issue's list of cases, then the field errors of the intake's request model
(schemas/intakes.py; each a 422 naming its field).
"""

from __future__ import annotations

from datetime import date, datetime, timedelta

import pytest

from massage_booking.domain import evidence
from massage_booking.domain.errors import ValidationFailed
from massage_booking.domain.intake import (
    CLOT_SIGNS_UNDIAGNOSED,
    TREATMENT_PHASE_LABELS,
    TREATMENT_PHASES,
    IntakeAnswers,
    answer_ids,
    assess,
    referral_problem,
    session_notes_for,
)
from massage_booking.schemas.intakes import IntakeRequest
from massage_booking.schemas.parse import parse_body

TODAY = date(2026, 6, 1)
VALID_NPI = "1234567893"  # the CMS example NPI: its Luhn check digit (with prefix 80840) holds
BAD_NPI = "1234567890"
REFERRAL = {"referral_name": "Dr. Ada Osler", "referral_npi": VALID_NPI, "referral_date": "2026-05-15"}


def answers(**changes) -> IntakeAnswers:
    base = {
        "condition_id": "chronic_neck_pain",
        "cancer_history": False,
        "treatment_phase": "none",
        "precautions": frozenset(),
    }
    base.update(changes)
    base["precautions"] = frozenset(base["precautions"])
    return IntakeAnswers(**base)


def with_referral(**changes) -> IntakeAnswers:
    return answers(
        referral_name="Dr. Ada Osler",
        referral_npi=VALID_NPI,
        referral_date=TODAY - timedelta(days=10),
        **changes,
    )


# ---------------------------------------------------------------------------------------------- gates

# (case, answers, oncology-trained required, clearance gate codes, deferred gate codes)
GATES = [
    ("no history, no precautions", answers(), False, (), ()),
    ("cancer history", answers(cancer_history=True, treatment_phase="survivorship"), True, (), ()),
    ("a cancer-related condition", answers(condition_id="cancer_related_fatigue"), True, (), ()),
    ("bone metastases", answers(precautions={"bone_metastases"}), True, (), ()),
    ("ports and lines", answers(precautions={"ports_and_lines"}), True, (), ()),
    ("fever", answers(precautions={"fever"}), False, (), ("fever",)),
    (
        "undiagnosed clot signs",
        answers(precautions={CLOT_SIGNS_UNDIAGNOSED}),
        False,
        (),
        (CLOT_SIGNS_UNDIAGNOSED,),
    ),
    ("diagnosed clot, no referral", answers(precautions={"blood_clot"}), False, ("blood_clot",), ()),
    ("diagnosed clot, valid referral", with_referral(precautions={"blood_clot"}), False, (), ()),
    ("recent surgery", answers(precautions={"recent_surgery"}), False, ("recent_surgery",), ()),
    ("recent surgery, valid referral", with_referral(precautions={"recent_surgery"}), False, (), ()),
    (
        "clot and surgery",
        answers(precautions={"recent_surgery", "blood_clot"}),
        False,
        ("blood_clot", "recent_surgery"),  # registry order
        (),
    ),
    (
        "a treated clot and new signs in the other leg",
        with_referral(precautions={"blood_clot", CLOT_SIGNS_UNDIAGNOSED}),
        False,
        (),
        (CLOT_SIGNS_UNDIAGNOSED,),
    ),
    (
        "everything at once",
        answers(
            cancer_history=True,
            treatment_phase="active_treatment",
            precautions={"fever", "blood_clot", "neutropenia", CLOT_SIGNS_UNDIAGNOSED},
        ),
        True,
        ("blood_clot",),
        ("fever", CLOT_SIGNS_UNDIAGNOSED),
    ),
]


@pytest.mark.parametrize(
    ("case", "given", "oncology", "clearance", "deferred"), GATES, ids=[g[0] for g in GATES]
)
def test_gates(case, given, oncology, clearance, deferred):
    decision = assess(given, TODAY)
    assert decision.requires_oncology_trained is oncology
    assert tuple(g.code for g in decision.clearance_needed) == clearance
    assert tuple(g.code for g in decision.deferred) == deferred
    assert decision.can_book is (not deferred)


def test_fever_is_deferred_with_a_clear_reason_from_the_registry():
    (gate,) = assess(answers(precautions={"fever"}), TODAY).deferred
    assert gate.message.startswith(
        "Do not book while you have a fever of 38.0 °C / 100.4 °F or more; contact your oncology team"
    )
    assert evidence.precaution("fever").defer_when in gate.message


def test_undiagnosed_clot_signs_say_to_seek_urgent_care():
    (gate,) = assess(answers(precautions={CLOT_SIGNS_UNDIAGNOSED}), TODAY).deferred
    assert "urgent medical care" in gate.message
    assert evidence.precaution("blood_clot").defer_when in gate.message


def test_a_clearance_gate_says_what_is_missing():
    (gate,) = assess(answers(precautions={"blood_clot"}), TODAY).clearance_needed
    assert gate.message.startswith(
        "Blood clot (DVT or PE) now or in the last 6 months: a physician's clearance"
    )
    assert "No referral is on file." in gate.message


@pytest.mark.parametrize(
    ("referral_date", "valid_days", "cleared"),
    [
        (TODAY, 90, True),
        (TODAY - timedelta(days=90), 90, True),
        (TODAY - timedelta(days=91), 90, False),
        (TODAY - timedelta(days=91), 120, True),
        (TODAY + timedelta(days=1), 90, False),
    ],
)
def test_a_referral_counts_as_clearance_only_while_it_is_current(referral_date, valid_days, cleared):
    given = answers(
        precautions={"recent_surgery"},
        referral_name="Dr. Ada Osler",
        referral_npi=VALID_NPI,
        referral_date=referral_date,
    )
    decision = assess(given, TODAY, referral_valid_days=valid_days)
    assert (decision.clearance_needed == ()) is cleared
    if not cleared:
        assert referral_problem(given, TODAY, valid_days) in decision.clearance_needed[0].message


def test_a_referral_with_a_bad_npi_is_not_clearance():
    given = answers(
        precautions={"blood_clot"}, referral_name="Dr. Ada Osler", referral_npi=BAD_NPI, referral_date=TODAY
    )
    assert referral_problem(given, TODAY) == "The referral's NPI is not a valid NPI."
    assert assess(given, TODAY).clearance_needed


def test_a_treatment_phase_implies_a_cancer_history():
    assert assess(answers(treatment_phase="palliative"), TODAY).requires_oncology_trained


def test_every_oncology_gated_precaution_requires_an_oncology_trained_therapist():
    for precaution in evidence.precautions():
        decision = assess(answers(precautions={precaution.id}), TODAY)
        assert decision.requires_oncology_trained is (precaution.gate == evidence.ONCOLOGY_TRAINED), (
            precaution.id
        )


# ------------------------------------------------------------------------------------ session notes


def test_precautions_travel_as_short_imperative_notes():
    notes = assess(answers(precautions={"bone_metastases", "low_platelets"}), TODAY).session_notes
    assert notes == (
        "No deep pressure and no pressure on the affected bones (level 1 when in doubt):"
        " bone metastases or fragile bones",
        "No joint mobilization or stretching: bone metastases or fragile bones",
        "Careful bolstering: bone metastases or fragile bones",
        "Light pressure only (level 1-2): low platelets or bleeding risk",
        "No deep or percussive work: low platelets or bleeding risk",
        "Watch for bruising: low platelets or bleeding risk",
    )


def test_notes_follow_registry_order_and_leave_out_deferrals():
    """A deferred answer books nothing, so it has no session note."""
    notes = assess(answers(precautions={"fever", "ports_and_lines", "radiation_site"}), TODAY).session_notes
    reasons = [n.rsplit(": ", 1)[1] for n in notes]
    radiation, ports = "radiation treatment site", "ports, PICC lines, catheters, drains or ostomies"
    assert reasons == [radiation] * 3 + [ports] * 4  # the registry lists radiation_site first


@pytest.mark.parametrize("precaution", evidence.precautions(), ids=lambda p: p.id)
def test_every_precaution_has_notes_that_name_it(precaution):
    notes = session_notes_for(precaution)
    assert notes
    reason = precaution.name[0].lower() + precaution.name[1:]
    assert all(n.endswith(f": {reason}") and n[0].isupper() for n in notes)


def test_no_precautions_no_notes():
    assert assess(answers(), TODAY).session_notes == ()


# --------------------------------------------------------------------------------------- validation


def raw(**changes) -> dict:
    base = {"condition": "chronic_neck_pain", "cancer_history": False, "precautions": []}
    base.update(changes)
    return {k: v for k, v in base.items() if v is not ...}


def checked(data) -> IntakeAnswers:
    """The answers as POST /api/v1/intakes and the wizard's first step check them, on TODAY."""
    return parse_body(IntakeRequest, data, {"today": TODAY}).answers()


def field_errors(data) -> dict:
    with pytest.raises(ValidationFailed) as raised:
        checked(data)
    assert raised.value.status == 422
    return raised.value.details["fields"]


@pytest.mark.parametrize(
    ("term", "condition_id"),
    [
        ("M54.2", "chronic_neck_pain"),
        ("m542", "chronic_neck_pain"),
        ("Neck pain", "chronic_neck_pain"),
        ("knee_osteoarthritis", "knee_osteoarthritis"),
        ("M17.11", "knee_osteoarthritis"),
        ("G89.3", "cancer_related_pain"),
    ],
)
def test_the_condition_is_found_by_id_name_or_icd10_code(term, condition_id):
    assert checked(raw(condition=term)).condition_id == condition_id


def test_valid_answers_parse_into_the_value_object():
    parsed = checked(
        raw(
            condition="G89.3",
            cancer_history=True,
            treatment_phase="active_treatment",
            precautions=["bone_metastases", CLOT_SIGNS_UNDIAGNOSED, "bone_metastases"],
            referral_name="  Dr. Ada Osler ",
            referral_npi="123 456 7893",
            referral_date="2026-05-15",
        )
    )
    assert parsed == IntakeAnswers(
        condition_id="cancer_related_pain",
        cancer_history=True,
        treatment_phase="active_treatment",
        precautions=frozenset({"bone_metastases", CLOT_SIGNS_UNDIAGNOSED}),
        referral_name="Dr. Ada Osler",
        referral_npi=VALID_NPI,
        referral_date=date(2026, 5, 15),
    )


def test_the_treatment_phase_defaults_to_none_without_a_cancer_history():
    parsed = checked(raw())
    assert (parsed.treatment_phase, parsed.precautions, parsed.referral_npi) == ("none", frozenset(), None)


@pytest.mark.parametrize(
    ("changes", "fields"),
    [
        ({"condition": "nonexistent itch"}, {"condition"}),
        ({"condition": ""}, {"condition"}),
        ({"condition": ...}, {"condition"}),
        ({"condition": "F41.9"}, {"condition"}),  # shared by two anxiety conditions: ask which
        ({"cancer_history": "yes"}, {"cancer_history"}),
        ({"cancer_history": ...}, {"cancer_history"}),
        ({"cancer_history": True}, {"treatment_phase"}),  # with a history, say where in treatment
        ({"treatment_phase": "remission"}, {"treatment_phase"}),
        ({"treatment_phase": "active_treatment"}, {"treatment_phase"}),  # but no cancer history
        ({"precautions": ["bone_metastases", "hangnail"]}, {"precautions"}),
        ({"precautions": "fever"}, {"precautions"}),
        ({**REFERRAL, "referral_npi": BAD_NPI}, {"referral_npi"}),
        ({**REFERRAL, "referral_npi": "12345"}, {"referral_npi"}),
        ({**REFERRAL, "referral_date": "2026-06-02"}, {"referral_date"}),
        ({**REFERRAL, "referral_date": "15/05/2026"}, {"referral_date"}),
        ({**REFERRAL, "referral_name": "   "}, {"referral_name"}),
        ({"referral_npi": VALID_NPI}, {"referral_name", "referral_date"}),
    ],
)
def test_bad_answers_name_their_field(changes, fields):
    assert set(field_errors(raw(**changes))) == fields


def test_every_error_comes_back_at_once():
    errors = field_errors(
        {
            "condition": "nothing",
            "cancer_history": None,
            "precautions": ["fever", "hangnail"],
            **REFERRAL,
            "referral_npi": BAD_NPI,
        }
    )
    assert set(errors) == {"condition", "cancer_history", "precautions", "referral_npi"}
    assert "hangnail" in errors["precautions"][0]
    assert "nothing" in errors["condition"][0]


def test_an_ambiguous_code_names_the_choices():
    (message,) = field_errors(raw(condition="F41.9"))["condition"]
    assert "Anxiety in breast cancer" in message and "Anxiety before surgery" in message


def test_a_referral_date_may_be_a_date_but_not_a_datetime():
    parsed = checked(raw(**{**REFERRAL, "referral_date": date(2026, 5, 15)}))
    assert parsed.referral_date == date(2026, 5, 15)
    assert set(field_errors(raw(**{**REFERRAL, "referral_date": datetime(2026, 5, 15)}))) == {"referral_date"}


def test_input_that_is_not_an_object_is_refused():
    with pytest.raises(ValidationFailed) as raised:
        checked(["condition", "M54.2"])
    assert "body" in raised.value.details["fields"]


def test_answer_ids_are_the_registry_precautions_plus_the_clot_screen():
    assert answer_ids() == (*(p.id for p in evidence.precautions()), CLOT_SIGNS_UNDIAGNOSED)
    assert {
        "bone_metastases",
        "low_platelets",
        "blood_clot",
        "lymphedema_risk",
        "radiation_site",
        "ports_and_lines",
        "neutropenia",
        "recent_surgery",
        "fever",
        "tumor_or_fragile_skin",
    } <= set(answer_ids())


def test_treatment_phases_have_labels():
    assert TREATMENT_PHASES == ("none", "active_treatment", "recovery", "survivorship", "palliative")
    assert all(TREATMENT_PHASE_LABELS[p] for p in TREATMENT_PHASES)


def test_validated_answers_feed_assess():
    """The issue's path: JSON in, decision out (cancer history -> oncology; clot -> clearance)."""
    parsed = checked(raw(cancer_history=True, treatment_phase="recovery", precautions=["blood_clot"]))
    decision = assess(parsed, TODAY)
    assert decision.requires_oncology_trained
    assert [g.code for g in decision.clearance_needed] == ["blood_clot"]
    cleared = checked(
        raw(cancer_history=True, treatment_phase="recovery", precautions=["blood_clot"], **REFERRAL)
    )
    assert assess(cleared, TODAY).clearance_needed == ()
