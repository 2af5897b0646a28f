"""Cost attribution: config models for capacity and shared-cost rules (the SQL lives in sql/intermediate, marts)."""

from models.attribution.settings import CapacityRule, SharedCostRule

__all__ = ["CapacityRule", "SharedCostRule"]
