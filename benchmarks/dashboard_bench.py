"""Dashboard benchmark: every page's data load (median over repeats, per role) and the first page render in a real
browser, on a published snapshot of a demo warehouse.

The pages read marts and summaries, whose size follows days x org dimensions, not request volume: a year at a
million requests a day has the same mart rows as a year at a few hundred per day wherever every
(day, team, agent, model, ...) group has traffic. `--amplify K` multiplies the org (K copies of every team and agent)
in the snapshot's largest relations, to measure a bigger company than the demo's. Ratios are against the cheapest
possible page query (one sum over marts.allocated_cost on a fresh read-only connection) in the same process.
"""

from __future__ import annotations

import json
import os
import shutil
import statistics
import subprocess
import sys
import time
from pathlib import Path

import duckdb

from dashboard import data, scope, snapshot
from dashboard.access import Viewer

ROLES = {"finance": Viewer("finance", "finance"), "team_lead": Viewer("lead", "team_lead", ("product",))}


def page_loads(r: data.Reader, currency: str) -> dict:
    """What each page asks data.py for in one render (plus the filter choices app.py loads on every run)."""
    def anomalies_page():
        found = data.anomalies(r)
        return [found, data.anomaly_points(r, found["series_key"].iloc[0]) if len(found) else None]

    def reports_page():
        months = data.months(r)
        return [months, data.chargeback(r, months[0]) if months else None]

    return {
        "overview": lambda: [data.freshness(r), data.spend_totals(r, currency), data.usage_totals(r),
                             data.unit_costs(r, currency, "team"), data.current_budgets(r), data.forecasts(r),
                             data.agent_run_totals(r, currency), data.spend_by_day(r, currency), data.anomalies(r),
                             data.top_movers(r, currency)],
        "attribution": lambda: [data.attribution(r, currency), data.estimated_unbilled(r), data.reconciliation(r)],
        "unit_economics": lambda: [data.unit_costs(r, currency, "model"), data.waste(r, currency)],
        "models_latency": lambda: [data.performance(r, "model"), data.performance(r, "agent"),
                                   data.performance_by_day(r)],
        "anomalies": anomalies_page,
        "budgets": lambda: [data.current_budgets(r), data.budget_crossings(r), data.forecasts(r)],
        "recommendations": lambda: [data.recommendations(r)],
        "reports": reports_page,
        "data_health": lambda: [data.coverage(r), data.recent_loads(r), data.quarantine_summary(r),
                                data.unpriced_models(r), data.unmapped_principals(r), data.delivery_failures(r)],
    }


# The large relations, each replaced by a copy with `factor` (the one parameter) copies of every team and agent;
# reserved `__x__` values stay as they are. DuckDB-only: `select * exclude (...) replace (...)`.
_AMPLIFY = [
    r"""create table marts.allocated_cost_amplified as select * exclude (i) replace (
        case when team like '\_\_%' escape '\' then team else team || '-' || i end as team,
        case when agent like '\_\_%' escape '\' then agent else agent || '-' || i end as agent)
        from marts.allocated_cost, range(?) as copies(i)""",
    "drop table marts.allocated_cost",
    "alter table marts.allocated_cost_amplified rename to allocated_cost",
    r"""create table serving.requests_daily_amplified as select * exclude (i) replace (
        case when team like '\_\_%' escape '\' then team else team || '-' || i end as team,
        case when agent like '\_\_%' escape '\' then agent else agent || '-' || i end as agent)
        from serving.requests_daily, range(?) as copies(i)""",
    "drop table serving.requests_daily",
    "alter table serving.requests_daily_amplified rename to requests_daily",
]


def amplify(source: Path, target: Path, factor: int) -> Path:
    """A copy of the snapshot with `factor` copies of every team and agent in its large relations."""
    shutil.copyfile(source, target)
    con = duckdb.connect(str(target))
    for statement in _AMPLIFY:
        con.execute(statement, [factor] if "?" in statement else [])
    con.execute("checkpoint")
    con.close()
    return target


def relation_rows(path: Path) -> dict:
    con = duckdb.connect(str(path), read_only=True)
    try:
        names = con.execute("select table_schema || '.' || table_name from information_schema.tables "
                            "where table_schema in ('marts', 'serving', 'analytics')").fetchall()
        return {n: con.execute(f"select count(*) from {n}").fetchone()[0] for (n,) in names}
    finally:
        con.close()


def _median_ms(function, repeat: int) -> float:
    function()                                   # warm: the first query of a process opens the file
    samples = []
    for _ in range(repeat):
        started = time.perf_counter()
        function()
        samples.append((time.perf_counter() - started) * 1000)
    return statistics.median(samples)


def measure_loads(path: Path, repeat: int) -> dict:
    scope._catalogs.clear()
    baseline = _median_ms(lambda: duckdb.connect(str(path), read_only=True).execute(
        "select sum(billed_cost) from marts.allocated_cost").fetchall(), repeat)
    results = {"baseline_ms": baseline, "pages": {}}
    for role, viewer in ROLES.items():
        r = data.Reader(viewer, path)
        currency = (data.currencies(r) or ["USD"])[0]
        loads = page_loads(r, currency)
        for page, function in loads.items():
            ms = _median_ms(lambda: (data.filter_options(r), function()), repeat)
            results["pages"].setdefault(page, {})[role] = ms
    return results


def measure_render(warehouse: Path, config: Path, sessions: int) -> dict | None:
    """Seconds from 'Sign in' to the first page fully rendered, and per page navigation, in headless Chromium."""
    from tests.dashboard.test_browser import _settle, chromium_path

    executable = chromium_path()
    if executable is None:
        print("  first render: not measured (no Chromium)")
        return None
    from playwright.sync_api import sync_playwright

    from costwarden.serve import dashboard_command
    from dashboard.demo_users import DEMO_USERS
    from dashboard.i18n import EN

    port = 8799
    env = dict(os.environ, COSTWARDEN_WAREHOUSE=str(warehouse), COSTWARDEN_CONFIG=str(config),
               COSTWARDEN_DASHBOARD__WRITEBACK_FILE=str(warehouse) + ".bench-writeback.duckdb")
    server = subprocess.Popen(dashboard_command(port) + ["--server.address", "127.0.0.1"], env=env,
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    url = f"http://127.0.0.1:{port}"
    first, navigations = [], {}
    try:
        import urllib.request

        for _ in range(300):
            try:
                urllib.request.urlopen(f"{url}/_stcore/health", timeout=2)
                break
            except OSError:
                time.sleep(0.2)
        with sync_playwright() as pw:
            browser = pw.chromium.launch(executable_path=executable, headless=True, args=["--no-sandbox"])
            for _ in range(sessions):
                page = browser.new_page(viewport={"width": 1920, "height": 1080})
                page.goto(url)
                page.get_by_label(EN["signin.user"]).fill("finance")
                page.get_by_role("textbox", name=EN["signin.password"]).fill(
                    next(p for n, p, *_ in DEMO_USERS if n == "finance"))
                started = time.perf_counter()
                page.get_by_role("button", name=EN["signin.submit"]).click()
                page.get_by_role("heading", name=EN["page.overview"]).wait_for(timeout=60_000)
                _settle(page)
                first.append(time.perf_counter() - started - 0.6)     # _settle's two fixed 0.3 s pauses
                for name in ("attribution", "unit_economics", "anomalies", "reports", "data_health"):
                    started = time.perf_counter()
                    page.locator(f'[data-testid="stSidebarNav"] a[href$="/{name}"]').click()
                    page.get_by_role("heading", name=EN[f"page.{name}"]).first.wait_for(timeout=60_000)
                    _settle(page)
                    navigations.setdefault(name, []).append(time.perf_counter() - started - 0.6)
                page.close()
            browser.close()
    finally:
        server.terminate()
        server.wait(timeout=20)
    return {"first_render_s": statistics.median(first), "first_render_all_s": first,
            "navigation_s": {k: statistics.median(v) for k, v in navigations.items()}}


def run(warehouse: Path, config: Path, repeat: int, amplify_by: int, sessions: int) -> dict:
    folder = snapshot.snapshot_dir(warehouse)
    started = time.perf_counter()
    path = snapshot.publish_from_warehouse(warehouse, folder)
    publish_s = time.perf_counter() - started
    requests = duckdb.connect(str(warehouse), read_only=True).execute(
        "select count(*), count(distinct cast(occurred_at as date)) from raw.inference_requests").fetchone()
    print(f"warehouse {warehouse}: {requests[0]:,} requests over {requests[1]} days; snapshot published in "
          f"{publish_s:.1f}s ({path.stat().st_size / 1e6:.1f} MB)")
    results = {"warehouse_requests": requests[0], "days": requests[1], "publish_s": publish_s, "runs": {}}
    targets = [("demo", path)]
    if amplify_by > 1:
        targets.append((f"amplified x{amplify_by}", amplify(path, folder / f"amplified-x{amplify_by}.duckdb",
                                                            amplify_by)))
    for label, target in targets:
        rows = relation_rows(target)
        loads = measure_loads(target, repeat)
        results["runs"][label] = {"rows": rows, **loads}
        print(f"\n{label}: allocated_cost {rows.get('marts.allocated_cost', 0):,} rows, requests_daily "
              f"{rows.get('serving.requests_daily', 0):,} rows; baseline query {loads['baseline_ms']:.1f} ms")
        print(f"  {'page':<16}" + "".join(f"{role + ' ms':>14}{'ratio':>8}" for role in ROLES))
        for page, by_role in loads["pages"].items():
            print(f"  {page:<16}" + "".join(f"{by_role[role]:>14.1f}{by_role[role] / loads['baseline_ms']:>8.1f}"
                                             for role in ROLES))
    if sessions:
        render = measure_render(warehouse, config, sessions)
        if render:
            results["render"] = render
            print(f"\nfirst page render (sign-in click to overview settled, median of {sessions}): "
                  f"{render['first_render_s']:.2f}s; navigation medians: "
                  + ", ".join(f"{k} {v:.2f}s" for k, v in render["navigation_s"].items()))
    return results


def main(argv: list[str] | None = None) -> None:
    import argparse

    parser = argparse.ArgumentParser(prog="python -m benchmarks dashboard")
    parser.add_argument("--warehouse", type=Path, required=True, help="a built demo warehouse")
    parser.add_argument("--config", type=Path, required=True, help="its costwarden.demo.toml (for the sign-in)")
    parser.add_argument("--repeat", type=int, default=15)
    parser.add_argument("--amplify", type=int, default=4)
    parser.add_argument("--sessions", type=int, default=3, help="browser sessions for the render timing (0: skip)")
    args = parser.parse_args(argv)
    results = run(args.warehouse, args.config, args.repeat, args.amplify, args.sessions)
    out = Path("benchmarks/out")
    out.mkdir(parents=True, exist_ok=True)
    (out / "dashboard.json").write_text(json.dumps(results, indent=1, default=str))


if __name__ == "__main__":
    sys.exit(main())
