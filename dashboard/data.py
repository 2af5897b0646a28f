"""The only dashboard module that queries. Every function takes a Reader: one viewer, one pinned snapshot.

All SQL goes through dashboard/scope.py, which restricts every relation to the viewer's scope, so nothing here has
to remember to add a department filter. Filters chosen on the page (dates, environment, region, department, team)
are bound parameters, never SQL text. Relations that other parts of costwarden add over time (marts.unit_cost,
marts.performance_by_*, analytics.*) are used when the snapshot has them; pages say what fills the rest.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

import pandas as pd

from costwarden.config import Settings, load_settings
from costwarden.errors import CostwardenError
from dashboard import scope, snapshot
from dashboard.access import Viewer

RESERVED = ("__unallocated__", "__idle__", "__shared__")


class NoSnapshotError(CostwardenError):
    """Nothing has been published for the dashboard to read yet."""


def warehouse_path() -> str:
    return os.environ.get("COSTWARDEN_WAREHOUSE", "costwarden.duckdb")


def settings() -> Settings:
    return load_settings(os.environ.get("COSTWARDEN_CONFIG") or None)


def snapshot_folder(config: Settings) -> Path:
    return snapshot.snapshot_dir(warehouse_path(), config.dashboard.snapshot_dir)


def current_snapshot(config: Settings) -> Path:
    """The snapshot to read; publishes the first one from the warehouse if none exists yet (an older build)."""
    folder = snapshot_folder(config)
    found = snapshot.current_snapshot(folder)
    if found is None:
        if not Path(warehouse_path()).exists():
            raise NoSnapshotError(f"no warehouse at {warehouse_path()}: load data with `costwarden ingest` and run "
                                  "`costwarden build` (or try `costwarden demo`).")
        found = snapshot.publish_from_warehouse(warehouse_path(), folder, config.dashboard.keep_snapshots)
    return found


@dataclass(frozen=True)
class Filters:
    start: date | None = None
    end: date | None = None
    environments: tuple[str, ...] = ()
    regions: tuple[str, ...] = ()
    departments: tuple[str, ...] = ()
    teams: tuple[str, ...] = ()

    def as_dict(self) -> dict:
        return {"start": self.start, "end": self.end, "environments": list(self.environments),
                "regions": list(self.regions), "departments": list(self.departments), "teams": list(self.teams)}


@dataclass
class Reader:
    viewer: Viewer
    path: Path
    filters: Filters = field(default_factory=Filters)

    @property
    def snapshot_name(self) -> str:
        return self.path.name

    def has(self, name: str) -> bool:
        return name in scope.catalog(self.path)

    def columns(self, name: str) -> frozenset[str]:
        relation = scope.catalog(self.path).get(name)
        return relation.columns if relation else frozenset()

    def query(self, sql: str, params: list | None = None) -> pd.DataFrame:
        return scope.run(self.path, self.viewer, sql, params)

    def where(self, name: str, day_column: str = "day", alias: str = "") -> tuple[str, list]:
        """The page filters as a WHERE fragment (always starting with 'true') and its parameters, for the columns
        the relation has."""
        columns = self.columns(name)
        prefix = f"{alias}." if alias else ""
        f = self.filters
        parts, params = ["true"], []
        if day_column in columns and f.start:
            parts.append(f"cast({prefix}{day_column} as date) >= ?")
            params.append(f.start)
        if day_column in columns and f.end:
            parts.append(f"cast({prefix}{day_column} as date) <= ?")
            params.append(f.end)
        for column, values in (("environment", f.environments), ("region", f.regions),
                               ("department", f.departments), ("team", f.teams)):
            if values and column in columns:
                parts.append(f"{prefix}{column} in ({', '.join('?' for _ in values)})")
                params.extend(values)
        return " and ".join(parts), params


def reader(viewer: Viewer, config: Settings, filters: Filters | None = None) -> Reader:
    return Reader(viewer, current_snapshot(config), filters or Filters())


def _needs_attribution(empty):
    """Before the first `costwarden build` there is no marts.allocated_cost: such functions return `empty`."""
    def wrap(function):
        def inner(r: Reader, *args, **kwargs):
            if not r.has("allocated_cost"):
                return empty() if callable(empty) else empty
            return function(r, *args, **kwargs)
        inner.__name__, inner.__doc__ = function.__name__, function.__doc__
        return inner
    return wrap


# ---- filter choices ------------------------------------------------------------------------------------------------

_options_cache: dict[tuple, dict] = {}


def filter_options(r: Reader) -> dict[str, list]:
    """Values the filter widgets offer: only what the viewer's scope holds. Asked on every run, so kept per
    (snapshot, viewer): a snapshot never changes."""
    key = (str(r.path), r.viewer)
    if key not in _options_cache:
        if len(_options_cache) > 256:
            _options_cache.clear()
        _options_cache[key] = _filter_options(r)
    return _options_cache[key]


def _filter_options(r: Reader) -> dict[str, list]:
    if not r.has("allocated_cost"):
        return {"environment": [], "region": [], "department": [], "team": [], "days": (None, None),
                "currencies": []}
    frame = r.query("select distinct department, team, environment, region from allocated_cost")
    days = r.query("select min(day) as first, max(day) as last from allocated_cost").iloc[0]
    return {
        "environment": sorted(frame["environment"].dropna().unique()),
        "region": sorted(frame["region"].dropna().unique()),
        "department": sorted(frame["department"].dropna().unique()),
        "team": sorted(frame["team"].dropna().unique()),
        "days": (_as_date(days["first"]), _as_date(days["last"])),
        "currencies": currencies(r),
    }


def _as_date(value) -> date | None:
    return None if value is None or pd.isna(value) else pd.Timestamp(value).date()


def currencies(r: Reader) -> list[str]:
    """Currencies amounts can be shown in: every billing currency (as billed) and the reporting currency the FX
    mart converts into."""
    found = billing_currencies(r)
    if r.has("allocated_cost_reporting"):
        found += r.query("select distinct reporting_currency as c from allocated_cost_reporting")["c"].tolist()
    return sorted({c for c in found if c})


def fx_missing(r: Reader, currency: str) -> int:
    """Rows that could not be converted into `currency` (no rate in force): shown as a warning, never guessed."""
    if not r.has("allocated_cost_reporting") or currency in billing_currencies(r):
        return 0
    where, params = r.where("allocated_cost_reporting")
    return int(r.query(f"""select count(*) as n from allocated_cost_reporting where {where}
                           and reporting_currency = ? and fx_rate_source = 'missing'""",
                       params + [currency])["n"][0])


def billing_currencies(r: Reader) -> list[str]:
    if not r.has("allocated_cost"):
        return []
    return r.query("select distinct billing_currency as c from allocated_cost order by 1")["c"].tolist()


def cost_source(r: Reader, currency: str) -> tuple[str, str, str, list]:
    """(relation, billed column, effective column, currency condition + params) for amounts in `currency`: as
    billed where `currency` is a billing currency, else converted by marts.allocated_cost_reporting (FX rates from
    the config; rows without a rate are left out and counted by `fx_missing`)."""
    if r.has("allocated_cost_reporting") and currency not in billing_currencies(r):
        return ("allocated_cost_reporting", "billed_cost_reporting", "effective_cost_reporting",
                ["reporting_currency = ?", currency])
    return "allocated_cost", "billed_cost", "effective_cost", ["billing_currency = ?", currency]


# ---- overview ------------------------------------------------------------------------------------------------------

def freshness(r: Reader) -> pd.Series:
    frame = r.query("select f.*, s.published_at from freshness as f, snapshot as s") if r.has("freshness") else \
        r.query("select published_at from snapshot")
    return frame.iloc[0]


@_needs_attribution(pd.DataFrame)
def spend_by_day(r: Reader, currency: str) -> pd.DataFrame:
    rel, billed, effective, (cond, cur) = cost_source(r, currency)
    where, params = r.where(rel)
    return r.query(f"""
        select day, cost_kind, sum({billed}) as billed_cost, sum({effective}) as effective_cost,
               sum(requests) as requests
        from {rel} where {where} and {cond} and cost_kind <> 'estimated_unbilled'
        group by all order by day""", params + [cur])


@_needs_attribution(lambda: pd.Series({'total': 0, 'month_to_date': 0, 'last_day': None}))
def spend_totals(r: Reader, currency: str) -> pd.Series:
    """Billed total, month to date (the month of the newest day in the filters) and the previous month."""
    rel, billed, _, (cond, cur) = cost_source(r, currency)
    where, params = r.where(rel)
    return r.query(f"""
        with rows as (select * from {rel} where {where} and {cond} and cost_kind <> 'estimated_unbilled'),
        latest as (select max(day) as last_day from rows)
        select coalesce(sum({billed}), 0) as total,
               coalesce(sum({billed}) filter (where date_trunc('month', day) = date_trunc('month', last_day)), 0)
                   as month_to_date,
               max(last_day) as last_day
        from rows, latest""", params + [cur]).iloc[0]


def usage_totals(r: Reader) -> pd.Series:
    """Requests and tokens of the filtered scope (from the attribution mart, every cost kind; before the first
    build, from the request summary)."""
    if not r.has("allocated_cost"):
        if not r.has("requests_daily"):
            return pd.Series({"requests": 0, "tokens": 0})
        where, params = r.where("requests_daily")
        return r.query(f"""select coalesce(sum(requests), 0) as requests,
                                  coalesce(sum(input_tokens + output_tokens), 0) as tokens
                           from requests_daily where {where}""", params).iloc[0]
    where, params = r.where("allocated_cost")
    return r.query(f"""
        select coalesce(sum(requests) filter (where cost_kind in ('tokens', 'capacity', 'estimated_unbilled')), 0)
                   as requests,
               coalesce(sum(input_tokens + output_tokens + cache_read_tokens + cache_write_tokens), 0) as tokens
        from allocated_cost where {where}""", params).iloc[0]


def agent_run_totals(r: Reader, currency: str) -> pd.Series | None:
    if not r.has("agent_runs"):
        return None
    where, params = r.where("agent_runs")
    return r.query(f"""select count(*) as runs, count(*) filter (where succeeded) as successful_runs,
                              sum(cost) as cost
                       from agent_runs where {where} and billing_currency = ?""", params + [currency]).iloc[0]


@_needs_attribution(pd.DataFrame)
def top_movers(r: Reader, currency: str, days: int = 7) -> pd.DataFrame:
    """Teams whose spend in the last `days` days moved most against the `days` before."""
    rel, billed, _, (cond, cur) = cost_source(r, currency)
    where, params = r.where(rel)
    return r.query(f"""
        with rows as (select * from {rel} where {where} and {cond} and cost_kind <> 'estimated_unbilled'),
        edge as (select max(day) as last_day from rows),
        windows as (
            select department, team,
                   sum({billed}) filter (where day > last_day - {int(days)}) as recent,
                   sum({billed}) filter (where day <= last_day - {int(days)} and day > last_day - {2 * int(days)})
                       as previous
            from rows, edge group by all)
        select department, team, coalesce(recent, 0) as recent, coalesce(previous, 0) as previous,
               coalesce(recent, 0) - coalesce(previous, 0) as change,
               case when previous > 0 then 100.0 * (recent - previous) / previous end as change_pct
        from windows order by abs(coalesce(recent, 0) - coalesce(previous, 0)) desc limit 10""", params + [cur])


def current_budgets(r: Reader) -> pd.DataFrame:
    if not r.has("budget_status"):
        return pd.DataFrame()
    where, params = r.where("budget_status", day_column="period_start")
    return r.query(f"""
        select budget_name, scope_kind, scope_value, department, team, agent, period_kind, period_start, period_end,
               currency, amount, actual, forecast, forecast_lower_80, forecast_upper_80, pct_actual, pct_forecast,
               runway_date, as_of
        from budget_status where {where}
        qualify period_start = max(period_start) over (partition by budget_name)
        order by pct_forecast desc nulls last""", params)


def forecasts(r: Reader) -> pd.DataFrame:
    if not r.has("forecasts"):
        return pd.DataFrame()
    where, params = r.where("forecasts", day_column="period_start")
    return r.query(f"""
        select scope_kind, scope_value, department, team, agent, period_start, period_end, as_of, currency,
               actual_to_date, forecast, lower_80, upper_80, method
        from forecasts where {where}
        qualify as_of = max(as_of) over (partition by scope_kind, scope_value, period_start)
        order by period_start desc, scope_kind, scope_value""", params)


def budget_crossings(r: Reader) -> pd.DataFrame:
    if not r.has("budget_crossings"):
        return pd.DataFrame()
    where, params = r.where("budget_crossings", day_column="crossed_on")
    return r.query(f"select * from budget_crossings where {where} order by crossed_on desc", params)


# ---- attribution ---------------------------------------------------------------------------------------------------

@_needs_attribution(pd.DataFrame)
def attribution(r: Reader, currency: str) -> pd.DataFrame:
    rel, billed, effective, (cond, cur) = cost_source(r, currency)
    where, params = r.where(rel)
    return r.query(f"""
        select department, team, coalesce(agent, '(none)') as agent, coalesce(model, '(none)') as model, cost_kind,
               sum({billed}) as billed_cost, sum({effective}) as effective_cost, sum(requests) as requests,
               sum(input_tokens + output_tokens + cache_read_tokens + cache_write_tokens) as tokens
        from {rel} where {where} and {cond} and cost_kind <> 'estimated_unbilled'
        group by all order by billed_cost desc""", params + [cur])


@_needs_attribution(lambda: pd.Series({'estimate_usd': 0, 'requests': 0}))
def estimated_unbilled(r: Reader) -> pd.Series:
    where, params = r.where("allocated_cost")
    return r.query(f"""select coalesce(sum(estimated_cost), 0) as estimate_usd, coalesce(sum(requests), 0) as requests
                       from allocated_cost where {where} and cost_kind = 'estimated_unbilled'""", params).iloc[0]


def reconciliation(r: Reader) -> pd.DataFrame:
    """Estimate vs bill per day (the daily mart when present, else summed from marts.reconciliation)."""
    if r.has("reconciliation_daily"):
        where, params = r.where("reconciliation_daily")
        return r.query(f"select * from reconciliation_daily where {where} order by day", params)
    if not r.has("reconciliation"):
        return pd.DataFrame()
    where, params = r.where("reconciliation")
    return r.query(f"""
        select day, billing_currency, coverage, sum(estimate) as estimate, sum(billed_cost) as billed_cost,
               sum(variance) as variance, sum(requests) as requests
        from reconciliation where {where} group by all order by day, coverage""", params)


# ---- unit economics ------------------------------------------------------------------------------------------------

def unit_costs(r: Reader, currency: str, by: str) -> pd.DataFrame:
    """Cost per request and per 1K tokens (and per run when marts.unit_cost exists) by day and `by`."""
    if by not in ("model", "agent", "team"):
        raise ValueError(by)
    if not r.has("unit_cost") and not r.has("allocated_cost"):
        return pd.DataFrame(columns=["day", by, "cost", "requests", "tokens"])
    if r.has("unit_cost"):
        where, params = r.where("unit_cost")
        return r.query(f"""
            select day, {by}, sum(cost) as cost, sum(requests) as requests,
                   sum(input_tokens + output_tokens + cache_read_tokens + cache_write_tokens) as tokens,
                   sum(runs) as runs, sum(successful_runs) as successful_runs, sum(waste_cost) as waste_cost
            from unit_cost where {where} and billing_currency = ? group by all order by day""", params + [currency])
    rel, billed, _, (cond, cur) = cost_source(r, currency)
    where, params = r.where(rel)
    return r.query(f"""
        select day, coalesce({by}, '(none)') as {by}, sum({billed}) as cost,
               sum(requests) filter (where cost_kind in ('tokens', 'capacity')) as requests,
               sum(input_tokens + output_tokens + cache_read_tokens + cache_write_tokens) as tokens
        from {rel} where {where} and {cond} and cost_kind in ('tokens', 'capacity')
        group by all order by day""", params + [cur])


def waste(r: Reader, currency: str) -> pd.DataFrame:
    if not r.has("agent_runs"):
        return pd.DataFrame()
    where, params = r.where("agent_runs")
    return r.query(f"""
        select department, team, agent, count(*) as runs, count(*) filter (where not succeeded) as failed_runs,
               sum(failed_calls) as failed_calls, sum(retried_calls) as retried_calls,
               sum(timed_out_calls) as timed_out_calls, sum(cost) as cost, sum(waste_cost) as waste_cost
        from agent_runs where {where} and billing_currency = ? group by all order by waste_cost desc""",
                   params + [currency])


# ---- models and latency --------------------------------------------------------------------------------------------

def performance(r: Reader, by: str) -> pd.DataFrame:
    """Latency, TTFT, jitter, errors and cost per model version (by='model') or per agent and model (by='agent'),
    over the filtered days: the day rows weighted by requests (percentiles are not additive; this is the
    request-weighted mean of daily percentiles, stated on the page)."""
    name = {"model": "performance_by_model", "agent": "performance_by_agent"}[by]
    if not r.has(name):
        return pd.DataFrame()
    keys = "provider, model, model_version" if by == "model" else "department, team, agent, provider, model"
    where, params = r.where(name)
    weighted = ", ".join(f"sum({m} * requests) / nullif(sum(requests), 0) as {m}" for m in (
        "p50_latency_ms", "p95_latency_ms", "p99_latency_ms", "p50_ttft_ms", "p95_ttft_ms", "p99_ttft_ms"))
    return r.query(f"""
        select {keys}, sum(requests) as requests, sum(errors) as errors,
               sum(errors) / nullif(sum(requests), 0) as error_rate, {weighted},
               sum(p99_latency_ms * requests) / nullif(sum(p50_latency_ms * requests), 0) as jitter,
               sum(cost) as cost, sum(cost) / nullif(sum(requests), 0) as cost_per_request
        from {name} where {where} group by all order by requests desc""", params)


def performance_by_day(r: Reader) -> pd.DataFrame:
    name = "performance_by_model" if r.has("performance_by_model") else None
    if name is None:
        return pd.DataFrame()
    where, params = r.where(name)
    return r.query(f"""select day, model, sum(p95_latency_ms * requests) / nullif(sum(requests), 0) as p95_latency_ms
                       from {name} where {where} group by all order by day""", params)


def bottleneck_agents(r: Reader) -> pd.DataFrame:
    """Per agent: the share of its runs' wall time it accounts for (needs marts.performance_by_agent)."""
    frame = performance(r, "agent")
    if frame.empty:
        return frame
    return frame.sort_values("p95_latency_ms", ascending=False).head(10)


# ---- anomalies -----------------------------------------------------------------------------------------------------

def anomalies(r: Reader) -> pd.DataFrame:
    if not r.has("anomalies"):
        return pd.DataFrame()
    where, params = r.where("anomalies", day_column="start_at")
    feedback = ""
    if r.has("anomaly_feedback"):
        feedback = """left join (select anomaly_id, arg_max(verdict, decided_at) as verdict,
                                        arg_max(user_name, decided_at) as verdict_by
                                 from anomaly_feedback group by anomaly_id) as fb using (anomaly_id)"""
    verdict = "fb.verdict, fb.verdict_by" if feedback else "null as verdict, null as verdict_by"
    return r.query(f"""
        select a.anomaly_id, a.metric, a.grain, a.scope_kind, a.scope_value, a.department, a.team, a.agent, a.model,
               a.start_at, a.end_at, a.status, a.severity, a.expected, a.actual, a.impact, a.impact_cost,
               a.currency, a.impact_pct, a.score, a.alertable, a.suppressed_by, a.root_cause,
               cast(a.drivers as varchar) as drivers, a.series_key, {verdict}
        from anomalies as a {feedback}
        where {where.replace('start_at', 'a.start_at')}
        order by a.start_at desc""", params)


def anomaly_points(r: Reader, series_key: str) -> pd.DataFrame:
    if not r.has("anomaly_points"):
        return pd.DataFrame()
    return r.query("""select ts, actual, expected, lower_band, upper_band, flagged, anomaly_id
                      from anomaly_points where series_key = ? order by ts""", [series_key])


def visible_anomaly(r: Reader, anomaly_id: str) -> bool:
    return r.has("anomalies") and len(r.query("select 1 from anomalies where anomaly_id = ?", [anomaly_id])) > 0


# ---- recommendations -----------------------------------------------------------------------------------------------

def recommendations(r: Reader) -> pd.DataFrame:
    if not r.has("recommendations"):
        return pd.DataFrame()
    state = "null as state, null as decided_by"
    join = ""
    if r.has("recommendation_decisions"):
        join = """left join (select rec_id, arg_max(action, decided_at) as state, arg_max(user_name, decided_at)
                             as decided_by from recommendation_decisions group by rec_id) as d using (rec_id)"""
        state = "coalesce(d.state, 'proposed') as state, d.decided_by"
    return r.query(f"""
        select rec.rec_id, rec.kind, rec.scope_kind, rec.scope_value, rec.department, rec.team, rec.agent,
               rec.current_setting, rec.proposed_setting, rec.currency, rec.monthly_saving, rec.saving_low_80,
               rec.saving_high_80, rec.quality_change, rec.p95_latency_change_ms, rec.risk, rec.change,
               rec.rationale, {state}
        from recommendations as rec {join}
        order by rec.monthly_saving desc nulls last""")


def visible_recommendation(r: Reader, rec_id: str) -> bool:
    return r.has("recommendations") and len(r.query("select 1 from recommendations where rec_id = ?",
                                                    [rec_id])) > 0


# ---- exports -------------------------------------------------------------------------------------------------------

def months(r: Reader) -> list[str]:
    if not r.has("allocated_cost"):
        return []
    return r.query("select distinct strftime(day, '%Y-%m') as m from allocated_cost order by 1 desc")["m"].tolist()


@_needs_attribution(pd.DataFrame)
def chargeback(r: Reader, month: str) -> pd.DataFrame:
    """Chargeback lines of one month in the viewer's scope and the page filters (environment, region, department,
    team; the month replaces the date range)."""
    where, params = Reader(r.viewer, r.path, Filters(environments=r.filters.environments,
                                                     regions=r.filters.regions,
                                                     departments=r.filters.departments,
                                                     teams=r.filters.teams)).where("allocated_cost")
    return r.query(f"""
        select strftime(day, '%Y-%m') as month, billing_currency, department, team, agent, model, environment,
               region, cost_kind, sum(billed_cost) as billed_cost, sum(effective_cost) as effective_cost,
               sum(estimated_cost) as estimated_cost_usd, sum(requests) as requests,
               sum(input_tokens) as input_tokens, sum(output_tokens) as output_tokens
        from allocated_cost where {where} and strftime(day, '%Y-%m') = ? and cost_kind <> 'estimated_unbilled'
        group by all order by department, team, agent, model""", params + [month])


# ---- data health ---------------------------------------------------------------------------------------------------

def recent_loads(r: Reader, limit: int = 50) -> pd.DataFrame:
    return r.query("""
        select started_at, status, format, coalesce(source_name, source_uri) as source, files_seen, files_failed,
               rows_read, rows_loaded, rows_quarantined, rows_skipped, rows_unpriced, message
        from loads order by started_at desc limit ?""", [limit]) if r.has("loads") else pd.DataFrame()


def quarantine_summary(r: Reader) -> pd.DataFrame:
    return r.query("select * from quarantine_summary order by rows desc") if r.has("quarantine_summary") \
        else pd.DataFrame()


def unmapped_principals(r: Reader) -> pd.DataFrame:
    if not r.has("unmapped_principals"):
        return pd.DataFrame()
    return r.query("""select principal, principal_kind, agent, provider, model, sum(requests) as requests,
                             min(first_seen) as first_seen, max(last_seen) as last_seen
                      from unmapped_principals group by all order by requests desc limit 200""")


def unpriced_models(r: Reader) -> pd.DataFrame:
    if not r.has("unpriced_models"):
        return pd.DataFrame()
    return r.query("""select provider, model, region, sum(requests) as requests, min(first_seen) as first_seen,
                             max(last_seen) as last_seen
                      from unpriced_models group by all order by requests desc""")


@_needs_attribution(pd.DataFrame)
def coverage(r: Reader) -> pd.DataFrame:
    """Share of the GenAI bill attributed to teams, per billing currency: marts.reconciliation_daily's definition
    for company-wide viewers; a scoped viewer sees their own rows' split (their rows are all attributed)."""
    if r.has("reconciliation_daily") and r.viewer.all_scopes:
        where, params = r.where("reconciliation_daily")
        return r.query(f"""
            select billing_currency, sum(genai_billed) as billed, sum(attributed_to_teams) as attributed,
                   sum(unallocated) as unallocated, sum(idle) as idle, sum(shared) as shared,
                   100.0 * sum(attributed_to_teams) / nullif(sum(genai_billed), 0) as coverage_pct
            from reconciliation_daily where {where} group by billing_currency""", params)
    where, params = r.where("allocated_cost")
    return r.query(f"""
        select billing_currency,
               sum(billed_cost) as billed,
               sum(billed_cost) filter (where department not in ('__unallocated__', '__idle__', '__shared__'))
                   as attributed,
               coalesce(sum(billed_cost) filter (where department = '__unallocated__'), 0) as unallocated,
               coalesce(sum(billed_cost) filter (where department = '__idle__'), 0) as idle,
               coalesce(sum(billed_cost) filter (where department = '__shared__'), 0) as shared,
               100.0 * sum(billed_cost) filter (where department not in ('__unallocated__', '__idle__', '__shared__'))
                   / nullif(sum(billed_cost), 0) as coverage_pct
        from allocated_cost where {where} and cost_kind <> 'estimated_unbilled' group by billing_currency""",
                   params)


def delivery_failures(r: Reader, limit: int = 100) -> pd.DataFrame:
    """Alert messages that failed for good, or are still retrying after a failure (never the webhook URL)."""
    if not r.has("alert_outbox"):
        return pd.DataFrame()
    return r.query("""
        select created_at, subscription, channel, recipient, status, attempts, last_error from alert_outbox
        where status = 'failed_permanent' or (status = 'pending' and attempts > 0)
        order by created_at desc limit ?""", [limit])


def billed_by_period(r: Reader) -> pd.DataFrame:
    return r.query("select * from billed_by_period order by billing_period, service_category") \
        if r.has("billed_by_period") else pd.DataFrame()


def requests_by_day(r: Reader) -> pd.DataFrame:
    if not r.has("requests_daily"):
        return pd.DataFrame()
    where, params = r.where("requests_daily")
    return r.query(f"""select day, provider, sum(requests) as requests, sum(errors) as errors
                       from requests_daily where {where} group by all order by day""", params)
