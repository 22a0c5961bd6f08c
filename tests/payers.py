"""One test builder for payers and plans: Acme Health (a PPO whose rules a test chooses) and Other Mutual
(a plain HMO), used by the eligibility API, FHIR and portal tests."""

from __future__ import annotations

from typing import Any

from massage_booking.models import InsurancePlan, Payer, PlanType

# Acme's Choice PPO by default: a referral valid 90 days, 20 visits a year, a $25 copay.
CHOICE_PPO: dict[str, Any] = {
    "referral_required": True,
    "referral_valid_days": 90,
    "annual_visit_limit": 20,
    "copay_cents": 2500,
}


def acme_and_other(db, **choice_rules: Any) -> tuple[Payer, Payer]:
    """Two committed payers; `choice_rules` change or add to Acme Choice PPO's rules."""
    acme = Payer(code="ACME", name="Acme Health")
    other = Payer(code="OTHER", name="Other Mutual")
    acme.plans.append(
        InsurancePlan(name="Choice PPO", plan_type=PlanType.PPO, **{**CHOICE_PPO, **choice_rules})
    )
    other.plans.append(InsurancePlan(name="Basic HMO", plan_type=PlanType.HMO))
    db.add_all([acme, other])
    db.commit()
    return acme, other
