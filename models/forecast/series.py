"""Daily spend per scope (all, department, team, agent) and billing currency, read from marts.allocated_cost.

Spend of a day is the billed cost where a bill covers it and the price-book estimate where none does yet
(cost_kind estimated_unbilled), so the current month is complete before its invoice arrives. Currencies are never
mixed: each scope has one series per billing currency. Sums are kept exact (Decimal) for actuals; the forecaster
gets the same values as floats.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import Decimal

import duckdb
import numpy as np

from costwarden.errors import UsageError, WarehouseError

# Capacity, idle capacity and shared overhead do not grow with traffic (a what-if on traffic leaves them alone).
FIXED_COST_KINDS = ("capacity", "idle", "shared_overhead")

SPEND_SQL = """
    select
        day,
        billing_currency,
        department,
        team,
        agent,
        sum(case when cost_kind = 'estimated_unbilled' then estimated_cost else billed_cost end) as cost,
        sum(case when cost_kind in ('capacity', 'idle', 'shared_overhead') then billed_cost else 0 end) as fixed_cost
    from marts.allocated_cost
    where day <= ?
    group by day, billing_currency, department, team, agent
"""


@dataclass(frozen=True)
class Scope:
    kind: str                 # all | department | team | agent
    value: str                # '' for all
    currency: str
    department: str | None = None
    team: str | None = None
    agent: str | None = None

    @property
    def key(self) -> str:
        return "all" if self.kind == "all" else f"{self.kind}:{self.value}"


@dataclass
class SpendTable:
    days: list[date]                                  # first day of data .. as_of
    scopes: list[Scope]
    exact: list[dict[date, Decimal]]                  # per scope: spend per day (days without rows are absent = 0)
    fixed: list[dict[date, Decimal]]                  # per scope: capacity + idle + shared overhead per day
    matrix: np.ndarray                                # (scopes, days) floats; NaN before the scope's first day
    index: dict[tuple[str, str, str], int] = field(default_factory=dict)   # (kind, value, currency) -> row

    @property
    def as_of(self) -> date:
        return self.days[-1]

    def find(self, kind: str, value: str, currency: str) -> int | None:
        return self.index.get((kind, value, currency))

    def actual(self, row: int, start: date, end: date) -> Decimal:
        return sum((v for d, v in self.exact[row].items() if start <= d <= end), Decimal(0))

    def cumulative(self, row: int, start: date, end: date) -> list[tuple[date, Decimal]]:
        """Running total of each day from start to end (inclusive)."""
        total, out, day = Decimal(0), [], start
        while day <= end:
            total += self.exact[row].get(day, Decimal(0))
            out.append((day, total))
            day += timedelta(days=1)
        return out

    def fixed_share(self, row: int, days: int = 28) -> float:
        """Share of the scope's spend over the last `days` days that does not scale with traffic."""
        since = self.as_of - timedelta(days=days - 1)
        spend = sum((v for d, v in self.exact[row].items() if d >= since), Decimal(0))
        fixed = sum((v for d, v in self.fixed[row].items() if d >= since), Decimal(0))
        return float(min(max(fixed / spend, Decimal(0)), Decimal(1))) if spend > 0 else 0.0

    def history(self, end: date) -> np.ndarray:
        """The matrix up to and including `end` (for replaying what a run on that day would have seen)."""
        return self.matrix[:, : (end - self.days[0]).days + 1]


def last_data_day(con: duckdb.DuckDBPyConnection) -> date | None:
    try:
        return con.execute("select max(day) from marts.allocated_cost").fetchone()[0]
    except duckdb.CatalogException:
        return None


def load_spend(con: duckdb.DuckDBPyConnection, as_of: date | None = None) -> SpendTable:
    """Daily spend of every scope up to `as_of` (default: the last day with data)."""
    last = last_data_day(con)
    if last is None:
        raise WarehouseError("no spend in marts.allocated_cost yet: load data with `costwarden ingest` (or "
                             "`costwarden demo`) and build the marts with `costwarden build`, then forecast.")
    if as_of is None:
        as_of = last
    elif as_of > last:
        raise UsageError(f"--as-of {as_of} is after the last day with data ({last}); pick a day up to {last}.")
    rows = con.execute(SPEND_SQL, [as_of]).fetchall()
    if not rows:
        raise UsageError(f"--as-of {as_of} is before the first day with data; pick a later day.")
    first = min(r[0] for r in rows)
    days = [first + timedelta(days=i) for i in range((as_of - first).days + 1)]

    exact: dict[Scope, dict[date, Decimal]] = defaultdict(lambda: defaultdict(Decimal))
    fixed: dict[Scope, dict[date, Decimal]] = defaultdict(lambda: defaultdict(Decimal))
    owners = _owners(rows)
    for day, currency, department, team, agent, cost, fixed_cost in rows:
        cost, fixed_cost = cost or Decimal(0), fixed_cost or Decimal(0)
        for scope in _scopes_of(currency, department, team, agent, owners):
            exact[scope][day] += cost
            fixed[scope][day] += fixed_cost

    scopes = sorted(exact, key=lambda s: (s.currency, ("all", "department", "team", "agent").index(s.kind), s.value))
    # A day without a single row in the currency is missing data (a gap in the exports), not a day of zero spend.
    present: dict[str, set[date]] = defaultdict(set)
    for row in rows:
        present[row[1]].add(row[0])
    matrix = np.full((len(scopes), len(days)), np.nan)
    for i, scope in enumerate(scopes):
        start = (min(exact[scope]) - first).days
        matrix[i, start:] = 0.0
        missing = [(d - first).days for d in days[start:] if d not in present[scope.currency]]
        matrix[i, missing] = np.nan
        for day, value in exact[scope].items():
            matrix[i, (day - first).days] = float(value)
    table = SpendTable(days, scopes, [dict(exact[s]) for s in scopes], [dict(fixed[s]) for s in scopes], matrix)
    table.index = {(s.kind, s.value, s.currency): i for i, s in enumerate(scopes)}
    return table


def _owners(rows) -> dict[tuple[str, str], tuple[str | None, str | None]]:
    """The department of each team and the (department, team) of each agent: where most of its spend sits."""
    spend: dict[tuple[str, str], dict[tuple, Decimal]] = defaultdict(lambda: defaultdict(Decimal))
    for _day, _currency, department, team, agent, cost, _fixed in rows:
        if team is not None:
            spend[("team", team)][(department, team)] += abs(cost or 0)
        if agent is not None:
            spend[("agent", agent)][(department, team)] += abs(cost or 0)
    return {key: max(by_owner.items(), key=lambda item: (item[1], str(item[0])))[0] for key, by_owner in spend.items()}


def _scopes_of(currency, department, team, agent, owners) -> list[Scope]:
    scopes = [Scope("all", "", currency)]
    if department is not None:
        scopes.append(Scope("department", department, currency, department=department))
    if team is not None:
        dept, _ = owners[("team", team)]
        scopes.append(Scope("team", team, currency, department=dept, team=team))
    if agent is not None:
        dept, owner_team = owners[("agent", agent)]
        scopes.append(Scope("agent", agent, currency, department=dept, team=owner_team, agent=agent))
    return scopes
