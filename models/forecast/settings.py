"""[[budgets]] in the config: a spending limit per scope and period, with thresholds on actual and forecast spend."""

from __future__ import annotations

from decimal import Decimal
from typing import Annotated, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, field_validator

SCOPE_KINDS = ("department", "team", "agent")


class Budget(BaseModel):
    model_config = ConfigDict(extra="forbid")

    # A unique name, shown in alerts and the budgets table.
    name: str = Field(min_length=1)
    # What the budget covers: "all", or "department:<name>", "team:<name>", "agent:<name>".
    scope: str = "all"
    # monthly (calendar month) | quarterly (calendar quarter, January-March, ...).
    period: Literal["monthly", "quarterly"] = "monthly"
    # The limit per period, in `currency`. Only spend billed in that currency counts (currencies are never mixed).
    amount: Decimal = Field(gt=0)
    currency: str = "USD"
    # Percentages of the amount; each fires once per period when spend so far reaches it.
    thresholds: list[float] = Field(default_factory=lambda: [50.0, 80.0, 100.0])
    # Percentages that fire once when the period-end forecast reaches them (empty list: none).
    forecast_thresholds: list[float] = Field(default_factory=lambda: [80.0, 100.0])

    @field_validator("scope")
    @classmethod
    def _scope_is_known(cls, value: str) -> str:
        value = value.strip()
        if value == "all":
            return value
        kind, _, name = value.partition(":")
        if kind not in SCOPE_KINDS or not name.strip():
            raise ValueError('must be "all" or "department:<name>", "team:<name>" or "agent:<name>"')
        return f"{kind}:{name.strip()}"

    @field_validator("currency")
    @classmethod
    def _currency_is_iso(cls, value: str) -> str:
        if len(value) != 3 or not value.isalpha():
            raise ValueError("must be a three-letter ISO 4217 code such as USD or CNY")
        return value.upper()

    @field_validator("thresholds", "forecast_thresholds")
    @classmethod
    def _thresholds_positive(cls, values: list[float]) -> list[float]:
        if any(v <= 0 for v in values):
            raise ValueError("thresholds are percentages of the budget and must be above 0 (e.g. [50, 80, 100])")
        return sorted(set(values))

    @property
    def scope_kind(self) -> str:
        return self.scope.partition(":")[0]

    @property
    def scope_value(self) -> str:
        return self.scope.partition(":")[2]


def _unique_names(budgets: list[Budget]) -> list[Budget]:
    seen: set[str] = set()
    for budget in budgets:
        if budget.name in seen:
            raise ValueError(f"budget name {budget.name!r} is used twice; each [[budgets]] entry needs its own name")
        seen.add(budget.name)
    return budgets


Budgets = Annotated[list[Budget], AfterValidator(_unique_names)]
