"""Payers (insurers) and their plans. Coverage rules per plan arrive with the eligibility issue."""

from __future__ import annotations

import enum

from sqlalchemy import ForeignKey, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from massage_booking.models.base import Base, portable_enum


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
    __table_args__ = (UniqueConstraint("payer_id", "name"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    payer_id: Mapped[int] = mapped_column(ForeignKey("payers.id", ondelete="CASCADE"), index=True)
    name: Mapped[str] = mapped_column(String(120))
    plan_type: Mapped[PlanType] = mapped_column(portable_enum(PlanType, "plan_type"))

    payer: Mapped[Payer] = relationship(back_populates="plans")

    @property
    def full_name(self) -> str:
        return f"{self.payer.name} {self.name}"
