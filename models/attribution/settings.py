"""Config models for attribution: [[capacity]] (hourly-billed resources split by use) and [[shared_costs]]."""

from __future__ import annotations

from decimal import Decimal
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator


class CapacityRule(BaseModel):
    model_config = ConfigDict(extra="forbid")

    # A label for the resource, shown in errors and docs.
    name: str
    # Glob on the cost lines' resource_id (e.g. "arn:aws:bedrock:*:provisioned-model/abc*").
    resource_id: str
    # Glob on the requests' model_id as logged (a provisioned-model ARN, an endpoint name ...); "" = no requests.
    serves_model: str = ""
    # How an hour is shared: by tokens (input + output + cache) or by busy time (sum of latency_ms).
    split_by: Literal["tokens", "busy_time"] = "tokens"
    # What one hour of the resource can serve: tokens per hour, or busy seconds per hour (3600 = one stream).
    capacity_per_hour: Decimal = Field(gt=0)
    # Unused share of an hour: central = an explicit __idle__ row, proportional = spread over the hour's users,
    # owner = charged to owner_team / owner_department as cost_kind 'idle'.
    idle_policy: Literal["central", "proportional", "owner"] = "central"
    # The team and department that own the resource (needed by idle_policy = "owner").
    owner_team: str = ""
    owner_department: str = ""

    @model_validator(mode="after")
    def _owner_needed(self) -> "CapacityRule":
        if self.idle_policy == "owner" and not self.owner_team:
            raise ValueError(f"[[capacity]] {self.name!r}: idle_policy = \"owner\" needs owner_team.")
        return self


class SharedCostRule(BaseModel):
    model_config = ConfigDict(extra="forbid")

    # A label for the rule.
    name: str
    # Which cost-line column the pattern is matched against.
    match: Literal["service_code", "charge_category", "usage_type"]
    # Glob on that column (e.g. "AWSSupport*", "Tax").
    pattern: str
    # proportional = by the teams' attributed GenAI spend over the line's charge period; even = equally across
    # the teams active then; fixed = by fixed_shares.
    method: Literal["proportional", "even", "fixed"] = "proportional"
    # team -> percent, adding up to 100 (method = "fixed" only).
    fixed_shares: dict[str, Decimal] = Field(default_factory=dict)
    # team -> department for fixed shares of teams with no requests to learn the department from (optional).
    departments: dict[str, str] = Field(default_factory=dict)

    @model_validator(mode="after")
    def _shares_add_up(self) -> "SharedCostRule":
        if self.method == "fixed":
            total = sum(self.fixed_shares.values(), Decimal(0))
            if not self.fixed_shares or total != 100 or any(v < 0 for v in self.fixed_shares.values()):
                raise ValueError(f"[[shared_costs]] {self.name!r}: fixed_shares must be non-negative percentages "
                                 f"adding up to 100 (they add up to {total}).")
        elif self.fixed_shares:
            raise ValueError(f"[[shared_costs]] {self.name!r}: fixed_shares only applies to method = \"fixed\".")
        return self
