"""What a cost report says, read from the warehouse: KPIs, movers, anomalies, budgets, forecasts, recommendations.

Spend is effective cost (amortised, what the period really cost) per billing currency, never summed across
currencies. Unit costs are fully loaded: every dollar of the scope (idle and shared included) over its requests
and tokens. The analytics tables are optional: a report without them says which model has not run yet.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from decimal import ROUND_HALF_UP, Decimal
from typing import Literal

import duckdb

from alerts.sources import exists
from costwarden.errors import CostwardenError, UsageError

Period = Literal["weekly", "monthly"]
SCOPE_KINDS = ("department", "team")
CENT = Decimal("0.01")


@dataclass(frozen=True)
class Kpi:
    currency: str
    spend: Decimal
    previous: Decimal
    requests: int
    tokens: int
    previous_requests: int

    @property
    def change(self) -> Decimal:
        return self.spend - self.previous

    @property
    def change_pct(self) -> Decimal | None:
        return (self.change / self.previous * 100).quantize(Decimal("0.1"), ROUND_HALF_UP) if self.previous else None

    @property
    def cost_per_request(self) -> Decimal | None:
        return (self.spend / self.requests).quantize(Decimal("0.0001"), ROUND_HALF_UP) if self.requests else None

    @property
    def previous_cost_per_request(self) -> Decimal | None:
        return ((self.previous / self.previous_requests).quantize(Decimal("0.0001"), ROUND_HALF_UP)
                if self.previous_requests else None)

    @property
    def cost_per_1k_tokens(self) -> Decimal | None:
        return (self.spend * 1000 / self.tokens).quantize(Decimal("0.0001"), ROUND_HALF_UP) if self.tokens else None


@dataclass(frozen=True)
class Mover:
    name: str
    currency: str
    current: Decimal
    previous: Decimal

    @property
    def change(self) -> Decimal:
        return self.current - self.previous


@dataclass(frozen=True)
class AnomalyLine:
    anomaly_id: str
    scope: str
    metric: str
    start: date
    end: date | None
    currency: str
    impact: Decimal
    severity: str
    root_cause: str


@dataclass(frozen=True)
class BudgetLine:
    name: str
    scope: str
    period_start: date
    currency: str
    amount: Decimal
    actual: Decimal
    forecast: Decimal | None
    as_of: date


@dataclass(frozen=True)
class ForecastLine:
    scope: str
    period_start: date
    period_end: date
    currency: str
    actual_to_date: Decimal
    forecast: Decimal
    lower_80: Decimal
    upper_80: Decimal
    as_of: date


@dataclass(frozen=True)
class RecommendationLine:
    rec_id: str
    kind: str
    scope: str
    change: str
    currency: str
    monthly_saving: Decimal
    risk: str
    status: str


@dataclass(frozen=True)
class ReportData:
    kind: Literal["finance", "department", "team"]
    scope: tuple[tuple[str, str], ...]      # () for the whole organisation, or (("department", "x"),)
    period: Period
    start: date                              # first day
    end: date                                # exclusive
    previous_start: date
    kpis: tuple[Kpi, ...]
    daily: tuple[tuple[date, str, Decimal], ...]            # (day, currency, spend) this period
    previous_daily: tuple[tuple[date, str, Decimal], ...]   # the previous period, for the chart
    mover_dimension: str
    movers: tuple[Mover, ...]
    anomalies: tuple[AnomalyLine, ...]
    budgets: tuple[BudgetLine, ...]
    forecasts: tuple[ForecastLine, ...]
    recommendations: tuple[RecommendationLine, ...]
    lines: tuple[tuple, ...]                 # CSV / XLSX line items (LINE_COLUMNS)
    notes: tuple[str, ...]

    @property
    def scope_text(self) -> str:
        return ", ".join(f"{k}={v}" for k, v in self.scope) or "whole organisation"

    @property
    def last_day(self) -> date:
        return self.end - timedelta(days=1)

    @property
    def slug(self) -> str:
        who = "-".join(f"{k}-{v}" for k, v in self.scope) or "organisation"
        return f"costwarden-{self.period}-{who}-{self.start.isoformat()}"


LINE_COLUMNS = ("day", "billing_currency", "department", "team", "agent", "model", "cost_kind", "billed_cost",
                "effective_cost", "requests", "input_tokens", "output_tokens")


def parse_scope(text: str | None) -> tuple[tuple[str, str], ...]:
    if not text:
        return ()
    kind, sep, value = text.partition("=")
    if not sep or kind not in SCOPE_KINDS or not value:
        raise UsageError(f"--scope '{text}' is not KIND=VALUE with KIND one of {', '.join(SCOPE_KINDS)} "
                         "(e.g. --scope department=engineering)")
    return ((kind, value),)


def period_bounds(period: Period, last_data_day: date, as_of: date | None = None) -> tuple[date, date, date]:
    """(start, end exclusive, previous start) of the last complete week (Mon-Sun) or month ending by the newest
    data day, or before as_of when given."""
    bound = as_of or last_data_day + timedelta(days=1)
    if period == "weekly":
        end = bound - timedelta(days=bound.weekday())
        return end - timedelta(days=7), end, end - timedelta(days=14)
    end = bound.replace(day=1)
    start = (end - timedelta(days=1)).replace(day=1)
    return start, end, (start - timedelta(days=1)).replace(day=1)


# The report's scope as one fixed predicate: a null parameter means "any", so the SQL text never changes with the
# scope and every value is bound (no SQL is assembled from input).
IN_SCOPE = "(cast(? as varchar) is null or department = ?) and (cast(? as varchar) is null or team = ?)"


def _scope_params(scope: tuple[tuple[str, str], ...]) -> list:
    chosen = dict(scope)
    department, team = chosen.get("department"), chosen.get("team")
    return [department, department, team, team]


def _money(value) -> Decimal:
    return Decimal(value or 0).quantize(CENT, ROUND_HALF_UP)


def gather(con: duckdb.DuckDBPyConnection, period: Period, scope: tuple[tuple[str, str], ...] = (),
           as_of: date | None = None, top: int = 5) -> ReportData:
    if not exists(con, "marts.allocated_cost"):
        raise CostwardenError("the warehouse has no marts.allocated_cost yet: load data and run `costwarden build` "
                              "before `costwarden report`.")
    last = con.execute("select max(day) from marts.allocated_cost").fetchone()[0]
    if last is None:
        raise CostwardenError("marts.allocated_cost is empty: load billing data (`costwarden ingest`) and run "
                              "`costwarden build` first.")
    start, end, previous_start = period_bounds(period, last, as_of)
    params = _scope_params(scope)
    if scope:
        known = con.execute("select count(*) from marts.allocated_cost where " + IN_SCOPE, params).fetchone()[0]
        if not known:
            raise UsageError(f"no cost for {scope[0][0]} '{scope[0][1]}' in the warehouse; check the name "
                             f"(`costwarden query \"select distinct {scope[0][0]} from marts.allocated_cost\"`).")

    kpis = tuple(Kpi(cur, _money(spend), _money(prev), int(req or 0), int(tok or 0), int(preq or 0))
                 for cur, spend, prev, req, tok, preq in con.execute("""
        select billing_currency,
               sum(effective_cost) filter (where day >= ?), sum(effective_cost) filter (where day < ?),
               sum(requests) filter (where day >= ?),
               sum(input_tokens + output_tokens + cache_read_tokens + cache_write_tokens) filter (where day >= ?),
               sum(requests) filter (where day < ?)
        from marts.allocated_cost where day >= ? and day < ? and """ + IN_SCOPE + """
        group by 1 order by 1""", [start, start, start, start, start, previous_start, end, *params]).fetchall())

    def daily(lo: date, hi: date) -> tuple:
        return tuple((d, c, _money(v)) for d, c, v in con.execute("""
            select day, billing_currency, sum(effective_cost) from marts.allocated_cost
            where day >= ? and day < ? and """ + IN_SCOPE + """ group by 1, 2 order by 1, 2""",
            [lo, hi, *params]).fetchall())

    dimension = "team" if not scope else "agent"
    movers = tuple(Mover(n, c, _money(cur), _money(prev)) for n, c, cur, prev in con.execute("""
        select case when ? then department || ' / ' || team
                    else coalesce(team, '') || ' / ' || coalesce(agent, '(no agent)') end as name,
               billing_currency,
               coalesce(sum(effective_cost) filter (where day >= ?), 0),
               coalesce(sum(effective_cost) filter (where day < ?), 0)
        from marts.allocated_cost where day >= ? and day < ? and """ + IN_SCOPE + """
        group by 1, 2 order by abs(coalesce(sum(effective_cost) filter (where day >= ?), 0)
                                   - coalesce(sum(effective_cost) filter (where day < ?), 0)) desc, 1
        limit ?""", [dimension == "team", start, start, previous_start, end, *params, start, start, top]).fetchall())

    lines = tuple(con.execute("""
        select day, billing_currency, department, team, agent, model, cost_kind, sum(billed_cost),
               sum(effective_cost), sum(requests), sum(input_tokens), sum(output_tokens)
        from marts.allocated_cost where day >= ? and day < ? and """ + IN_SCOPE + """
        group by all order by all""", [start, end, *params]).fetchall())

    notes: list[str] = []
    return ReportData(
        kind="finance" if not scope else scope[0][0], scope=scope, period=period, start=start, end=end,
        previous_start=previous_start, kpis=kpis, daily=daily(start, end), previous_daily=daily(previous_start, start),
        mover_dimension=dimension, movers=movers, anomalies=_anomalies(con, scope, start, end, top, notes),
        budgets=_budgets(con, scope, notes), forecasts=_forecasts(con, scope, notes),
        recommendations=_recommendations(con, scope, top, notes), lines=lines, notes=tuple(notes))


def _scope_text(*pairs: tuple[str, str | None]) -> str:
    return ", ".join(f"{k}={v}" for k, v in pairs if v) or "whole organisation"


def _anomalies(con, scope, start: date, end: date, top: int, notes: list[str]) -> tuple[AnomalyLine, ...]:
    if not exists(con, "analytics.anomalies") or not con.execute(
            "select count(*) from analytics.anomalies").fetchone()[0]:
        notes.append("No anomaly detection results yet (run `costwarden detect`).")
        return ()
    rows = con.execute("""
        select anomaly_id, department, team, agent, model, metric, cast(start_at as date), cast(end_at as date),
               coalesce(currency, ''), coalesce(impact_cost, 0), severity, coalesce(root_cause, '')
        from analytics.anomalies
        where alertable and suppressed_by is null and start_at < ? and coalesce(end_at, last_point_at) >= ?
            and """ + IN_SCOPE + """
        order by abs(coalesce(impact_cost, 0)) desc, anomaly_id limit ?""", [end, start, *_scope_params(scope), top]).fetchall()
    return tuple(AnomalyLine(aid, _scope_text(("department", d), ("team", t), ("agent", a), ("model", m)), metric,
                             s, e, cur, _money(impact), sev, cause)
                 for aid, d, t, a, m, metric, s, e, cur, impact, sev, cause in rows)


def _budgets(con, scope, notes: list[str]) -> tuple[BudgetLine, ...]:
    if not exists(con, "analytics.budget_status") or not con.execute(
            "select count(*) from analytics.budget_status").fetchone()[0]:
        notes.append("No budgets tracked yet (add [[budgets]] and run `costwarden forecast`).")
        return ()
    rows = con.execute("""
        select budget_name, department, team, agent, period_start, currency, amount, actual, forecast, as_of
        from analytics.budget_status
        where """ + IN_SCOPE + """
        qualify row_number() over (partition by budget_name order by period_start desc, as_of desc) = 1
        order by budget_name""", _scope_params(scope)).fetchall()   # DuckDB-only: qualify
    return tuple(BudgetLine(n, _scope_text(("department", d), ("team", t), ("agent", a)), ps, cur, _money(amount),
                            _money(actual), None if fc is None else _money(fc), as_of)
                 for n, d, t, a, ps, cur, amount, actual, fc, as_of in rows)


def _forecasts(con, scope, notes: list[str]) -> tuple[ForecastLine, ...]:
    if not exists(con, "analytics.forecasts") or not con.execute(
            "select count(*) from analytics.forecasts").fetchone()[0]:
        notes.append("No spend forecast yet (run `costwarden forecast`).")
        return ()
    kind, value = scope[0] if scope else ("all", "")
    rows = con.execute("""
        select scope_kind, scope_value, period_start, period_end, currency, actual_to_date, forecast, lower_80,
               upper_80, as_of
        from analytics.forecasts where scope_kind = ? and scope_value = ?
        qualify row_number() over (partition by currency order by period_start desc, as_of desc) = 1
        order by currency""", [kind, value]).fetchall()   # DuckDB-only: qualify
    return tuple(ForecastLine(_scope_text((k, v)) if k != "all" else "whole organisation", ps, pe, cur,
                              _money(a), _money(f), _money(lo), _money(hi), as_of)
                 for k, v, ps, pe, cur, a, f, lo, hi, as_of in rows)


def _recommendations(con, scope, top: int, notes: list[str]) -> tuple[RecommendationLine, ...]:
    if not exists(con, "analytics.recommendations") or not con.execute(
            "select count(*) from analytics.recommendations").fetchone()[0]:
        notes.append("No recommendations yet (run `costwarden recommend`).")
        return ()
    # analytics.sql creates both tables on connect; the newest decision is a recommendation's state.
    rows = con.execute("""
        select r.rec_id, r.kind, r.scope_kind, r.scope_value, r.current_setting, r.proposed_setting, r.currency,
               coalesce(r.monthly_saving, 0), r.risk, coalesce(d.action, 'proposed') as status
        from analytics.recommendations r
        left join (select rec_id, arg_max(action, decided_at) as action   -- DuckDB-only: arg_max
                   from analytics.recommendation_decisions group by 1) d using (rec_id)
        where coalesce(d.action, 'proposed') <> 'rejected' and """ + IN_SCOPE + """
        order by coalesce(r.monthly_saving, 0) desc, r.rec_id limit ?""", [*_scope_params(scope), top]).fetchall()
    return tuple(RecommendationLine(rid, kind, f"{sk}={sv}", f"{cur_set} -> {prop}", cur, _money(saving), risk, st)
                 for rid, kind, sk, sv, cur_set, prop, cur, saving, risk, st in rows)
