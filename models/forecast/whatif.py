"""What-if forecasts: the rest of the period recomputed under "+x% traffic" or "apply recommendation ID".

- traffic=+10% scales the predicted rest of the period of every scope by 1.10 on its usage-driven share; capacity,
  idle capacity and shared overhead (their share of the scope's last 28 days) are held constant.
- rec=ID takes the recommendation's monthly_saving (analytics.recommendations, written by `costwarden recommend`),
  assumes it is applied tomorrow, and removes it pro rata (monthly saving x 12 / 365.25 per remaining day) from the
  scopes that hold the recommendation (all, its department, team and agent) in its currency.

Actual spend to date never changes; the interval moves with the point forecast. What-ifs are printed, not stored.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from decimal import Decimal

import duckdb

from costwarden.errors import UsageError
from models.forecast.forecasting import MONEY, PeriodForecast
from models.forecast.series import SpendTable

_TRAFFIC = re.compile(r"^traffic\s*=\s*([+-]?\d+(?:\.\d+)?)\s*%?$")
_REC = re.compile(r"^rec\s*=\s*(\S+)$")
DAYS_PER_MONTH = Decimal("365.25") / 12


@dataclass(frozen=True)
class WhatIf:
    text: str
    traffic_pct: Decimal | None = None
    rec_id: str | None = None


@dataclass(frozen=True)
class Recommendation:
    rec_id: str
    currency: str
    monthly_saving: Decimal
    department: str | None
    team: str | None
    agent: str | None
    kind: str


def parse_what_if(text: str) -> WhatIf:
    """'traffic=+10%' or 'rec=ID'; anything else is a usage error that shows both forms."""
    cleaned = text.strip()
    if match := _TRAFFIC.match(cleaned):
        pct = Decimal(match.group(1))
        if pct <= -100:
            raise UsageError(f"--what-if {text}: traffic cannot fall by 100% or more; use e.g. traffic=-20%.")
        return WhatIf(cleaned, traffic_pct=pct)
    if match := _REC.match(cleaned):
        return WhatIf(cleaned, rec_id=match.group(1))
    raise UsageError(f"--what-if {text!r} is not understood; use traffic=+10% (or -15%) or rec=<recommendation id> "
                     "(see `costwarden query \"select rec_id, monthly_saving from analytics.recommendations\"`).")


def load_recommendation(con: duckdb.DuckDBPyConnection, rec_id: str) -> Recommendation:
    row = con.execute("select rec_id, currency, monthly_saving, department, team, agent, kind "
                      "from analytics.recommendations where rec_id = ?", [rec_id]).fetchone()
    if row is None:
        count = con.execute("select count(*) from analytics.recommendations").fetchone()[0]
        hint = ("there are none yet: run `costwarden recommend` first" if count == 0 else
                "list them with `costwarden query \"select rec_id, kind, monthly_saving from "
                "analytics.recommendations\"`")
        raise UsageError(f"--what-if rec={rec_id}: no such recommendation in analytics.recommendations ({hint}).")
    if row[2] is None:
        raise UsageError(f"--what-if rec={rec_id}: the recommendation has no monthly saving estimate to apply.")
    return Recommendation(*row)


def apply(what_if: WhatIf, forecasts: dict[tuple[int, object], PeriodForecast], table: SpendTable,
          recommendation: Recommendation | None = None) -> dict[tuple[int, object], PeriodForecast]:
    out = {}
    for key, fc in forecasts.items():
        row = key[0]
        factor, saving = Decimal(1), Decimal(0)
        if what_if.traffic_pct is not None:
            usage_share = Decimal(repr(1.0 - table.fixed_share(row)))
            factor = 1 + what_if.traffic_pct / 100 * usage_share
        if recommendation is not None and _holds(table.scopes[row], recommendation):
            remaining = len(fc.path)
            saving = recommendation.monthly_saving / DAYS_PER_MONTH * remaining
        out[key] = PeriodForecast(
            fc.row, fc.period, fc.as_of, fc.actual_to_date,
            _adjust(fc.rest, factor, saving), _adjust(fc.rest_lower, factor, saving),
            _adjust(fc.rest_upper, factor, saving), fc.path * float(factor), f"{fc.method}+what-if")
    return out


def _adjust(value: Decimal, factor: Decimal, saving: Decimal) -> Decimal:
    return max(value * factor - saving, Decimal(0)).quantize(MONEY)


def _holds(scope, rec: Recommendation) -> bool:
    """Does this scope's spend include the recommendation's (same currency, and the scope contains its owner)?"""
    if scope.currency != rec.currency:
        return False
    if scope.kind == "all":
        return True
    wanted = {"department": rec.department, "team": rec.team, "agent": rec.agent}[scope.kind]
    return wanted is not None and wanted == scope.value
