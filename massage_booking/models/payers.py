"""Payers (insurers), their plans with the rules an eligibility check applies, and the checks made.

The rule columns mirror domain/eligibility.PlanRules (see its docstring for what each means); defaults
are a common commercial plan: massage covered for guideline- and trial-supported conditions, in-network
only, an oncology credential for cancer-related conditions, the CMS 8-minute rule, no copay.
"""

from __future__ import annotations

import enum
from datetime import datetime
from typing import Any

from sqlalchemy import JSON, CheckConstraint, ForeignKey, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from massage_booking.domain.eligibility import DoseRule, PlanRules, UnitRule
from massage_booking.models.base import Base, portable_enum, utcnow


class PlanType(enum.StrEnum):
    PPO = "PPO"
    HMO = "HMO"
    EPO = "EPO"
    POS = "POS"
    MEDICARE_ADVANTAGE = "Medicare Advantage"
    MEDICAID = "Medicaid"


class Payer(Base):
    __tablename__ = "payers"

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(32), unique=True)
    name: Mapped[str] = mapped_column(String(120), unique=True)

    plans: Mapped[list[InsurancePlan]] = relationship(
        back_populates="payer", cascade="all, delete-orphan", order_by="InsurancePlan.name"
    )


class InsurancePlan(Base):
    __tablename__ = "insurance_plans"
    __table_args__ = (
        UniqueConstraint("payer_id", "name"),
        CheckConstraint("copay_cents >= 0", name="copay_not_negative"),
        CheckConstraint("annual_visit_limit IS NULL OR annual_visit_limit >= 0", name="visit_limit_range"),
        CheckConstraint("max_units_per_visit IS NULL OR max_units_per_visit > 0", name="max_units_range"),
        CheckConstraint("referral_valid_days IS NULL OR referral_valid_days > 0", name="referral_days_range"),
        CheckConstraint("plan_year_start_month BETWEEN 1 AND 12", name="plan_year_month_range"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    payer_id: Mapped[int] = mapped_column(ForeignKey("payers.id", ondelete="CASCADE"), index=True)
    name: Mapped[str] = mapped_column(String(120))
    plan_type: Mapped[PlanType] = mapped_column(portable_enum(PlanType, "plan_type"))
    # Coverage rules (domain/eligibility.PlanRules).
    covers_massage: Mapped[bool] = mapped_column(default=True, server_default="1")
    evidence_strengths: Mapped[list[str]] = mapped_column(
        JSON, default=lambda: ["guideline", "trial"], server_default='["guideline", "trial"]'
    )
    referral_required: Mapped[bool] = mapped_column(default=False, server_default="0")
    referral_valid_days: Mapped[int | None] = mapped_column(default=90)
    annual_visit_limit: Mapped[int | None]
    # Visits are counted per plan year, which starts on the 1st of this month.
    plan_year_start_month: Mapped[int] = mapped_column(default=1, server_default="1")
    max_units_per_visit: Mapped[int | None]
    in_network_only: Mapped[bool] = mapped_column(default=True, server_default="1")
    oncology_credential_for_cancer: Mapped[bool] = mapped_column(default=True, server_default="1")
    unit_rule: Mapped[UnitRule] = mapped_column(
        portable_enum(UnitRule, "unit_rule"), default=UnitRule.CMS_8_MINUTE, server_default="cms_8_minute"
    )
    copay_cents: Mapped[int] = mapped_column(default=0, server_default="0")
    below_dose: Mapped[DoseRule] = mapped_column(
        portable_enum(DoseRule, "below_dose_rule"), default=DoseRule.WARN, server_default="warn"
    )

    payer: Mapped[Payer] = relationship(back_populates="plans")

    @property
    def rules(self) -> PlanRules:
        return PlanRules(
            covers_massage=self.covers_massage,
            evidence_strengths=frozenset(self.evidence_strengths or ()),
            referral_required=self.referral_required,
            referral_valid_days=self.referral_valid_days,
            annual_visit_limit=self.annual_visit_limit,
            max_units_per_visit=self.max_units_per_visit,
            in_network_only=self.in_network_only,
            oncology_credential_for_cancer=self.oncology_credential_for_cancer,
            unit_rule=self.unit_rule,
            copay_cents=self.copay_cents,
            below_dose=self.below_dose,
        )

    @property
    def full_name(self) -> str:
        return f"{self.payer.name} {self.name}"


class EligibilityCheck(Base):
    """One eligibility check an insurer (or a patient, for their own course) ran: what was asked, what was
    answered. Kept for the insurer's list of recent checks; each check is also in the audit log."""

    __tablename__ = "eligibility_checks"

    id: Mapped[int] = mapped_column(primary_key=True)
    payer_id: Mapped[int] = mapped_column(ForeignKey("payers.id", ondelete="CASCADE"), index=True)
    plan_id: Mapped[int] = mapped_column(ForeignKey("insurance_plans.id", ondelete="CASCADE"))
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    course_id: Mapped[int | None] = mapped_column(ForeignKey("courses.id", ondelete="SET NULL"))
    channel: Mapped[str] = mapped_column(String(16))  # "api", "fhir", "portal", "booking"
    icd10_code: Mapped[str] = mapped_column(String(10))
    session_minutes: Mapped[int]
    sessions: Mapped[int]
    outcome: Mapped[str] = mapped_column(String(20))
    covered_sessions: Mapped[int]
    reason_codes: Mapped[list[str]] = mapped_column(JSON, default=list)
    answer: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    created_at: Mapped[datetime] = mapped_column(default=utcnow, index=True)

    plan: Mapped[InsurancePlan] = relationship()
