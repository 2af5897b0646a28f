"""Which days a `costwarden build` must recompute: the plan behind the incremental build.

Every successful build records what it covered (meta.build_runs, meta.build_days, meta.build_price_book). The next
build compares the warehouse's inputs with that record:

- raw rows: per day, the list of (load id, row count) of raw.inference_requests and raw.cost_lines. A new load, a
  restated billing period (new load id) or deleted rows change the fingerprint of exactly the days they touch.
- the price book: the rows added or removed since the last build; every day inside their effective ranges.
- org-mapping rules: when ref.org_rules changed, the requests and cost lines are mapped again and the days whose
  mapping differs from what the warehouse holds are recomputed (rules have no effective dates).
- `costwarden reprice --from DATE`: every day from DATE on.

Those days are then closed over billing periods: a GenAI pot (an hourly token group, a capacity resource-hour, a
multi-day line) is recomputed with all the days its charge period covers, so its requests are re-matched together.
Anything the plan cannot reason about day by day forces a full build: no earlier build, changed SQL models (a new
costwarden version or a new mart), changed capacity / shared-cost / usage-type rules, or a missing model table.
"""

from __future__ import annotations

import hashlib
import uuid
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta, timezone

import duckdb

from costwarden import warehouse

GENAI_ROUTES = ("tokens", "capacity", "direct", "unallocated")
_ATTRIBUTION_TABLES = ("ref.bedrock_usage_types", "ref.aws_region_prefixes", "ref.capacity", "ref.shared_costs",
                       "ref.shared_cost_shares")


@dataclass
class BuildPlan:
    mode: str                       # full | incremental
    reason: str
    days: list[date] = field(default_factory=list)
    fingerprints: dict[str, str] = field(default_factory=dict)

    @property
    def incremental(self) -> bool:
        return self.mode == "incremental"

    def describe(self) -> str:
        if not self.days:
            return f"{self.mode} build ({self.reason}): no days to recompute"
        span = f"{self.days[0]}" if len(self.days) == 1 else f"{self.days[0]} .. {self.days[-1]}"
        return f"{self.mode} build ({self.reason}): {len(self.days)} day(s), {span}"


def code_fingerprint() -> str:
    """md5 of every model file: a changed or added model means the stored days no longer fit the SQL."""
    digest = hashlib.md5()
    for rel in sorted(warehouse.discover(), key=lambda r: r.qualified):
        digest.update(rel.qualified.encode())
        digest.update(rel.path.read_bytes())
    return digest.hexdigest()


def table_fingerprint(con: duckdb.DuckDBPyConnection, table: str) -> str:
    """md5 of a small reference table's rows, in a fixed order."""
    # Table names come from this module's constants only.
    row = con.execute(f"select md5(coalesce(string_agg(cast(t as varchar), chr(10) order by cast(t as varchar)), '')) "
                      f"from {table} as t").fetchone()
    return row[0]


def attribution_fingerprint(con: duckdb.DuckDBPyConnection) -> str:
    return hashlib.md5("|".join(table_fingerprint(con, t) for t in _ATTRIBUTION_TABLES).encode()).hexdigest()


def plan(con: duckdb.DuckDBPyConnection, reprice_from: date | None = None, full: bool = False) -> BuildPlan:
    """Decide full or incremental and, for incremental, the closed set of days (refs must be refreshed already)."""
    fingerprints = {"code": code_fingerprint(), "attribution": attribution_fingerprint(con),
                    "org_rules": table_fingerprint(con, "ref.org_rules")}
    _current_days(con)
    last = con.execute("select code_fingerprint, attribution_fingerprint, org_rules_fingerprint from meta.build_runs "
                       "order by finished_at desc limit 1").fetchone()
    reason = None
    if full:
        reason = "full build requested"
    elif last is None:
        reason = "no earlier build"
    elif last[0] != fingerprints["code"]:
        reason = "the SQL models changed"
    elif last[1] != fingerprints["attribution"]:
        reason = "capacity, shared-cost or usage-type rules changed"
    elif missing := _missing_tables(con):
        reason = f"{missing} does not exist yet"
    if reason:
        return BuildPlan("full", reason, _all_days(con), fingerprints)

    causes, dirty = [], set()
    changed, changed_line_days = _changed_input_days(con)
    if changed:
        causes.append(f"new or changed loads on {len(changed)} day(s)")
        dirty |= changed
    repriced = _price_book_days(con)
    if repriced:
        causes.append(f"price book changes cover {len(repriced)} day(s)")
        dirty |= repriced
    if last[2] != fingerprints["org_rules"]:
        remapped, remapped_line_days = _remapped_days(con)
        causes.append(f"org rules changed: mapping differs on {len(remapped)} day(s)")
        dirty |= remapped
        changed_line_days |= remapped_line_days
    if reprice_from is not None:
        forced = {d for d in _known_days(con) if d >= reprice_from}
        causes.append(f"reprice from {reprice_from}: {len(forced)} day(s)")
        dirty |= forced
    days = _close_over_periods(con, dirty, changed_line_days) if dirty else set()
    return BuildPlan("incremental", "; ".join(causes) or "inputs unchanged", sorted(days), fingerprints)


def set_scope(con: duckdb.DuckDBPyConnection, days: list[date]) -> None:
    con.execute("delete from " + warehouse.SCOPE_TABLE)
    if days:
        con.execute("insert into " + warehouse.SCOPE_TABLE + " select unnest(?::date[])", [days])


def record(con: duckdb.DuckDBPyConnection, build_plan: BuildPlan, started_at: datetime, seconds: float) -> None:
    """Remember what this build covered, in the build's transaction (a failed build records nothing)."""
    con.execute("delete from meta.build_days")
    con.execute("insert into meta.build_days select day, requests_fingerprint, cost_lines_fingerprint "
                "from _current_build_days")
    con.execute("delete from meta.build_price_book")
    con.execute("insert into meta.build_price_book select * from ref.price_book")
    days = build_plan.days
    con.execute("insert into meta.build_runs values (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                [uuid.uuid4().hex, started_at, datetime.now(timezone.utc).replace(tzinfo=None), build_plan.mode,
                 build_plan.reason, len(days), days[0] if days else None, days[-1] if days else None, seconds,
                 build_plan.fingerprints["code"], build_plan.fingerprints["attribution"],
                 build_plan.fingerprints["org_rules"]])
    con.execute("drop table if exists _current_build_days")


# ---- inputs ----------------------------------------------------------------------------------------------------------

def _current_days(con: duckdb.DuckDBPyConnection) -> None:
    """Per day, a fingerprint of which loads delivered how many rows (one scan of two narrow columns per table)."""
    con.execute("""
        create or replace temp table _current_build_days as
        with
        request_loads as (
            select cast(occurred_at as date) as day, _load_id, count(*) as n
            from raw.inference_requests
            group by 1, 2
        ),
        line_loads as (
            select cast(charge_period_start as date) as day, dataset, billing_period, _load_id, count(*) as n
            from raw.cost_lines
            group by 1, 2, 3, 4
        ),
        request_days as (
            select day, md5(string_agg(_load_id || ':' || n, ',' order by _load_id)) as fingerprint
            from request_loads group by day
        ),
        line_days as (
            select day, md5(string_agg(dataset || ':' || billing_period || ':' || _load_id || ':' || n, ','
                                       order by dataset, billing_period, _load_id)) as fingerprint
            from line_loads group by day
        )
        select coalesce(r.day, l.day) as day, r.fingerprint as requests_fingerprint,
            l.fingerprint as cost_lines_fingerprint
        from request_days as r
        full outer join line_days as l on l.day = r.day
        where coalesce(r.day, l.day) is not null""")


def _all_days(con) -> list[date]:
    return [row[0] for row in con.execute("select day from _current_build_days order by day").fetchall()]


def _known_days(con) -> set[date]:
    return {row[0] for row in con.execute("select day from _current_build_days union select day "
                                          "from meta.build_days").fetchall()}


def _changed_input_days(con) -> tuple[set[date], set[date]]:
    """Days whose raw rows changed, and among them the days whose cost lines changed."""
    rows = con.execute("""
        select coalesce(c.day, b.day), c.cost_lines_fingerprint is distinct from b.cost_lines_fingerprint
        from _current_build_days as c
        full outer join meta.build_days as b on b.day = c.day
        where c.requests_fingerprint is distinct from b.requests_fingerprint
            or c.cost_lines_fingerprint is distinct from b.cost_lines_fingerprint""").fetchall()
    return {row[0] for row in rows}, {row[0] for row in rows if row[1]}


def _price_book_days(con) -> set[date]:
    """Days on which some price changed: for every (provider, model, region, token type) with rows added or removed
    since the last build, the days whose prices in force differ between the old and the new book."""
    _known_days_table(con)
    rows = con.execute("""
        with
        changed_keys as (
            select distinct provider, model, region, token_type from (
                (select * from ref.price_book except select * from meta.build_price_book)
                union all
                (select * from meta.build_price_book except select * from ref.price_book)
            ) as changed
        ),
        in_force as (
            select 'new' as book, d.day, k.provider, k.model, k.region, k.token_type,
                string_agg(cast(p.usd_per_million as varchar) || '@' || cast(p.effective_from as varchar), ','
                           order by p.effective_from, p.usd_per_million) as prices
            from changed_keys as k
            cross join _build_known_days as d
            inner join ref.price_book as p
                on p.provider = k.provider and p.model = k.model and p.region = k.region
                and p.token_type = k.token_type
                and p.effective_from <= d.day and (p.effective_to is null or p.effective_to > d.day)
            group by all
            union all
            select 'old', d.day, k.provider, k.model, k.region, k.token_type,
                string_agg(cast(p.usd_per_million as varchar) || '@' || cast(p.effective_from as varchar), ','
                           order by p.effective_from, p.usd_per_million)
            from changed_keys as k
            cross join _build_known_days as d
            inner join meta.build_price_book as p
                on p.provider = k.provider and p.model = k.model and p.region = k.region
                and p.token_type = k.token_type
                and p.effective_from <= d.day and (p.effective_to is null or p.effective_to > d.day)
            group by all
        )
        select distinct coalesce(n.day, o.day)
        from (select * from in_force where book = 'new') as n
        full outer join (select * from in_force where book = 'old') as o
            on o.day = n.day and o.provider = n.provider and o.model = n.model and o.region = n.region
            and o.token_type = n.token_type
        where n.prices is distinct from o.prices""").fetchall()
    return {row[0] for row in rows}


def _known_days_table(con) -> None:
    con.execute("create or replace temp table _build_known_days as "
                "select day from _current_build_days union select day from meta.build_days")


def _remapped_days(con) -> tuple[set[date], set[date]]:
    """Days whose requests or cost lines map to another team / department / environment than the warehouse holds
    (all of them, and those of the cost lines)."""
    rows = con.execute("""
        select distinct s.usage_date, false
        from staging.stg_inference_requests as s
        inner join intermediate.int_requests_priced as p
            on p.source_format = s.source_format and p.request_id = s.request_id
        where s.team is distinct from p.team or s.department is distinct from p.department
            or s.environment is distinct from p.environment or s.team_source is distinct from p.team_source
        union
        select distinct s.charge_date, true
        from staging.stg_cost_lines as s
        inner join intermediate.int_cost_line_routes as r
            on r.dataset = s.dataset and r.billing_period = s.billing_period
            and r._source_object = s._source_object and r._source_row is not distinct from s._source_row
        where s.team is distinct from r.team or s.department is distinct from r.department
            or s.environment is distinct from r.environment""").fetchall()
    return {row[0] for row in rows if row[0] is not None}, {row[0] for row in rows if row[0] is not None and row[1]}


def _missing_tables(con) -> str | None:
    existing = {f"{s}.{n}" for s, n in con.execute(
        "select table_schema, table_name from information_schema.tables").fetchall()}
    for rel in warehouse.discover():
        if rel.qualified not in existing:
            return rel.qualified
    return None


def _close_over_periods(con, days: set[date], line_days: set[date]) -> set[date]:
    """Add every day of each GenAI line's charge period that touches the set, until nothing more is added.

    Old lines come from the routes the last build made (only GenAI routes: a monthly tax line must not pull in its
    whole month); new, changed or re-mapped lines (`line_days`) are taken whatever their route, since they have not
    been routed yet.
    """
    con.execute("create or replace temp table _build_days_seed as select unnest(?::date[]) as day",
                [sorted(line_days)])
    periods = con.execute(f"""
        with periods as (
            select charge_date as day, charge_period_start as period_start, charge_period_end as period_end
            from intermediate.int_cost_line_routes
            where route in {GENAI_ROUTES}
            union all
            select cast(charge_period_start as date), charge_period_start, charge_period_end
            from raw.cost_lines
            where cast(charge_period_start as date) in (select day from _build_days_seed)
        ),
        spans as (
            select
                day,
                case when period_end > period_start then cast(period_end - interval 1 microsecond as date)
                    else day end as last_day
            from periods
        )
        select distinct day, last_day from spans where last_day > day""").fetchall()
    con.execute("drop table _build_days_seed")
    spans = [(first, last) for first, last in periods]
    closed = set(days)
    while True:
        added = set()
        for first, last in spans:
            span_days = {first + timedelta(n) for n in range((last - first).days + 1)}
            if span_days & closed and not span_days <= closed:
                added |= span_days
        if not added - closed:
            return closed
        closed |= added
