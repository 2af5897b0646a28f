"""Forecast runs on a small warehouse with known spend: stored forecasts, budgets, runway, crossings once, what-if,
events for the alerts side, and the CLI's one-line errors."""

from __future__ import annotations

import json
from datetime import date, datetime, timedelta
from decimal import Decimal

import pytest

from costwarden import db
from costwarden.config import Settings, load_settings
from costwarden.errors import ConfigError, UsageError
from models.forecast import budget_events, run_forecast, what_if_forecast
from models.forecast.settings import Budget

FIRST = date(2026, 6, 1)
LAST = date(2026, 9, 30)


def _warehouse(path, daily=Decimal("10"), fixed=Decimal("0"), last=LAST, extra_team=True) -> str:
    """marts.allocated_cost with growth/writer spending `daily` a day (plus `fixed` capacity) from FIRST to last."""
    con = db.connect(path)
    con.execute("create schema if not exists marts")
    con.execute("""create or replace table marts.allocated_cost (day date, billing_currency varchar,
        department varchar, team varchar, agent varchar, cost_kind varchar, billed_cost decimal(38, 10),
        estimated_cost decimal(38, 10))""")
    day, rows = FIRST, []
    while day <= last:
        rows.append([day, "USD", "product", "growth", "writer", "tokens", daily, daily])
        if fixed:
            rows.append([day, "USD", "product", "growth", None, "capacity", fixed, None])
        if extra_team:
            # Another team's not-yet-billed estimate, in USD, on top.
            rows.append([day, "USD", "research", "lab", "bot", "estimated_unbilled", Decimal(0), Decimal("5")])
        day += timedelta(days=1)
    con.executemany("insert into marts.allocated_cost values (?, ?, ?, ?, ?, ?, ?, ?)", rows)
    con.close()
    return str(path)


def _settings(*budgets: dict) -> Settings:
    return Settings(budgets=[Budget(**b) for b in budgets])


def _rows(warehouse: str, sql: str, params=None) -> list[tuple]:
    con = db.connect(warehouse, read_only=True)
    try:
        return con.execute(sql, params or []).fetchall()
    finally:
        con.close()


def test_forecasts_are_stored_per_scope_and_period(tmp_path):
    warehouse = _warehouse(tmp_path / "w.duckdb")
    report = run_forecast(_settings(), warehouse, as_of=date(2026, 9, 10))
    rows = _rows(warehouse, """select scope_kind, scope_value, department, team, period_start, actual_to_date,
        forecast, lower_80, upper_80 from analytics.forecasts where period_start = '2026-09-01' order by 1, 2""")
    by_scope = {(r[0], r[1]): r for r in rows}
    assert set(by_scope) == {("all", ""), ("department", "product"), ("department", "research"), ("team", "growth"),
                             ("team", "lab"), ("agent", "writer"), ("agent", "bot")}
    # Spend is constant: the month total is known exactly (10 + 5 a day for 30 days), and the estimate counts.
    assert by_scope[("all", "")][5] == Decimal("150")
    assert by_scope[("all", "")][6] == pytest.approx(Decimal("450"), abs=Decimal("0.01"))
    assert by_scope[("team", "growth")][6] == pytest.approx(Decimal("300"), abs=Decimal("0.01"))
    assert by_scope[("agent", "writer")][2:4] == ("product", "growth")
    for row in rows:
        assert row[7] <= row[6] <= row[8]
    quarters = _rows(warehouse, "select count(*) from analytics.forecasts where period_start = '2026-07-01'")
    assert quarters[0][0] == 7
    assert "written to analytics.forecasts" in report.summary()
    # A re-run on the same day replaces its rows; another day adds its own.
    run_forecast(_settings(), warehouse, as_of=date(2026, 9, 10))
    run_forecast(_settings(), warehouse, as_of=date(2026, 9, 11))
    counts = dict(_rows(warehouse, "select as_of, count(*) from analytics.forecasts group by 1"))
    assert counts[date(2026, 9, 10)] == counts[date(2026, 9, 11)] == 14


def test_runway_is_the_day_spend_reaches_the_budget(tmp_path):
    warehouse = _warehouse(tmp_path / "w.duckdb")
    budget = {"name": "growth", "scope": "team:growth", "amount": "200"}
    run_forecast(_settings(budget), warehouse, as_of=date(2026, 9, 5))
    (actual, forecast, pct, runway), = _rows(warehouse, """select actual, forecast, pct_actual, runway_date
        from analytics.budget_status where period_start = '2026-09-01'""")
    # 10 a day: 50 spent by the 5th, 300 forecast, 200 reached on the 20th.
    assert actual == Decimal("50") and pct == pytest.approx(25.0)
    assert forecast == pytest.approx(Decimal("300"), abs=Decimal("0.01"))
    assert runway == date(2026, 9, 20)
    # Past months: closed, runway the day actual spend reached the amount (August: the 20th).
    (closed_runway, closed_forecast), = _rows(warehouse, """select runway_date, forecast from
        analytics.budget_status where period_start = '2026-08-01'""")
    assert closed_runway == date(2026, 8, 20) and closed_forecast == Decimal("310")


def test_a_budget_that_is_not_reached_has_no_runway(tmp_path):
    warehouse = _warehouse(tmp_path / "w.duckdb")
    run_forecast(_settings({"name": "big", "scope": "all", "amount": "10000"}), warehouse, as_of=date(2026, 9, 5))
    assert _rows(warehouse, "select runway_date from analytics.budget_status where period_start = '2026-09-01'") \
        == [(None,)]


def test_thresholds_fire_once_across_reruns_and_days(tmp_path):
    warehouse = _warehouse(tmp_path / "w.duckdb")
    settings = _settings({"name": "growth", "scope": "team:growth", "amount": "200",
                          "thresholds": [50, 80, 100], "forecast_thresholds": [100]})
    fired: list[tuple] = []
    for day in range(1, 31, 3):
        for _ in range(2 if day in (10, 19, 28) else 1):    # a re-run on the same day never fires again
            report = run_forecast(settings, warehouse, as_of=date(2026, 9, day))
            fired += [(c.basis, c.threshold_pct, c.crossed_on, date(2026, 9, day)) for c in report.new_crossings
                      if c.period.start == date(2026, 9, 1)]
    sept = [f for f in fired]
    # Each threshold once, dated by the day cumulative spend (10 a day) reached it (100 on the 10th, 160 on the
    # 16th, 200 on the 20th) and raised by the first run after; the forecast (300) is over 100% from the first run.
    assert sorted(sept) == sorted([("actual", 50.0, date(2026, 9, 10), date(2026, 9, 10)),
                                   ("actual", 80.0, date(2026, 9, 16), date(2026, 9, 16)),
                                   ("actual", 100.0, date(2026, 9, 20), date(2026, 9, 22)),
                                   ("forecast", 100.0, date(2026, 9, 1), date(2026, 9, 1))])
    stored = _rows(warehouse, """select basis, threshold_pct, count(*) from analytics.budget_crossings
        where period_start = '2026-09-01' group by 1, 2""")
    assert all(count == 1 for *_key, count in stored) and len(stored) == 4


def test_first_run_does_not_raise_old_months(tmp_path):
    warehouse = _warehouse(tmp_path / "w.duckdb")
    report = run_forecast(_settings({"name": "growth", "scope": "team:growth", "amount": "200"}), warehouse,
                          as_of=date(2026, 9, 30))
    periods = {c.period.start for c in report.new_crossings}
    # September (open on its last day) and October (forecast from the last day); June-August are history.
    assert periods <= {date(2026, 9, 1), date(2026, 10, 1)} and date(2026, 9, 1) in periods


def test_quarterly_budget_sums_the_quarter(tmp_path):
    warehouse = _warehouse(tmp_path / "w.duckdb")
    settings = _settings({"name": "q", "scope": "department:product", "period": "quarterly", "amount": "1000",
                          "thresholds": [50, 80]})
    report = run_forecast(settings, warehouse, as_of=date(2026, 8, 15))
    status = {s.period.label: s for s in report.statuses}
    assert set(status) == {"2026-Q2", "2026-Q3"}
    q3 = status["2026-Q3"]
    assert q3.actual == Decimal("460")                         # July 1 .. Aug 15 at 10 a day
    assert q3.forecast == pytest.approx(Decimal("920"), abs=Decimal("0.01"))
    assert q3.runway is None                                   # 920 by the quarter's end: it does not run out
    crossed = {(c.basis, c.threshold_pct, c.crossed_on) for c in report.new_crossings}
    assert ("actual", 50.0, date(2026, 8, 19)) not in crossed  # not yet: 460 < 500
    report = run_forecast(settings, warehouse, as_of=date(2026, 8, 20))
    assert ("actual", 50.0, date(2026, 8, 19)) in {(c.basis, c.threshold_pct, c.crossed_on)
                                                   for c in report.new_crossings}
    # Forecast thresholds default to 80 and 100: 920 is 92% of the quarter.
    assert _rows(warehouse, """select threshold_pct from analytics.budget_crossings where basis = 'forecast'
        and period_start = '2026-07-01'""") == [(80.0,)]


def test_budget_in_another_currency_sees_no_spend_and_says_so(tmp_path):
    warehouse = _warehouse(tmp_path / "w.duckdb")
    report = run_forecast(_settings({"name": "cny", "scope": "team:growth", "amount": "100", "currency": "CNY"}),
                          warehouse, as_of=date(2026, 9, 5))
    assert report.new_crossings == []
    assert any("no spend found for team:growth in CNY" in w for w in report.warnings)


def test_events_for_new_crossings(tmp_path):
    warehouse = _warehouse(tmp_path / "w.duckdb")
    settings = _settings({"name": "growth", "scope": "team:growth", "amount": "200"})
    now = datetime(2026, 9, 21, 6, 0)
    report = run_forecast(settings, warehouse, as_of=date(2026, 9, 20), now=now)
    events = report.events()
    keys = {e.event_key for e in events}
    assert "budget:department=product,team=growth:2026-09:actual:100" in keys
    hundred = next(e for e in events if e.event_key.endswith("2026-09:actual:100"))
    assert hundred.severity == "critical" and hundred.budget_usd == Decimal("200")
    assert hundred.runway_date == date(2026, 9, 20) and hundred.detected_at == now
    con = db.connect(warehouse, read_only=True)
    try:
        stored = budget_events(con, since=now)
        assert {e.event_key for e in stored} == keys
        assert budget_events(con, since=now + timedelta(seconds=1)) == []
    finally:
        con.close()
    assert run_forecast(settings, warehouse, as_of=date(2026, 9, 20)).events() == []


def test_what_if_traffic_scales_the_usage_driven_rest(tmp_path):
    warehouse = _warehouse(tmp_path / "w.duckdb", fixed=Decimal("10"), extra_team=False)
    report = what_if_forecast(_settings(), warehouse, ["traffic=+10%"], as_of=date(2026, 9, 10))
    row = report.table.find("team", "growth", "USD")
    key = next(k for k in report.forecasts if k[0] == row and k[1].label == "2026-09")
    before, after = report.baseline[key], report.forecasts[key]
    # 20 planned days of 10 usage + 10 capacity: only the usage half grows by 10%.
    assert before.total == pytest.approx(Decimal("600"), abs=Decimal("0.01"))
    assert after.total - before.total == pytest.approx(Decimal("20"), abs=Decimal("0.01"))
    assert after.actual_to_date == before.actual_to_date
    # Nothing is stored by a what-if.
    assert _rows(warehouse, "select count(*) from analytics.forecasts") == [(0,)]


def test_what_if_recommendation_removes_its_saving_from_its_scopes(tmp_path):
    warehouse = _warehouse(tmp_path / "w.duckdb")
    con = db.connect(warehouse)
    con.execute("""insert into analytics.recommendations (rec_id, kind, scope_kind, scope_value, department, team,
        agent, current_setting, proposed_setting, currency, monthly_saving, risk, change, rationale, created_at)
        values ('REC-1', 'routing', 'agent', 'writer', 'product', 'growth', 'writer', 'a', 'b', 'USD', 60.875,
        'low', 'x', 'y', now())""")
    con.close()
    report = what_if_forecast(_settings(), warehouse, ["rec=REC-1"], as_of=date(2026, 9, 10))
    saving = Decimal("60.875") * 12 / Decimal("365.25") * 20            # 2 a day for the 20 remaining days
    for kind, value, changed in (("all", "", True), ("team", "growth", True), ("agent", "writer", True),
                                 ("team", "lab", False)):
        row = report.table.find(kind, value, "USD")
        key = next(k for k in report.forecasts if k[0] == row and k[1].label == "2026-09")
        drop = report.baseline[key].total - report.forecasts[key].total
        assert drop == pytest.approx(saving if changed else Decimal(0), abs=Decimal("0.001")), (kind, value)


def test_cli_forecast_and_budgets(tmp_path, cli, warehouse, capsys):
    _warehouse(warehouse)
    config = tmp_path / "c.toml"
    config.write_text('[[budgets]]\nname = "growth"\nscope = "team:growth"\namount = 200\n')
    code, out, err = cli("--config", str(config), "forecast", "--as-of", "2026-09-05")
    assert code == 0 and "team:growth" in out and "2026-09" in out and "new crossing" in err
    code, out, err = cli("--config", str(config), "forecast", "--as-of", "2026-09-05", "--format", "json")
    assert code == 0 and '"new_crossings": []' in out
    code, out, err = cli("--config", str(config), "budgets")
    assert code == 0 and "growth" in out and "runway" in out
    code, out, err = cli("--config", str(config), "budgets", "--format", "json")
    current, = json.loads(out)
    assert current["period_start"] == "2026-09-01" and current["runway_date"] == "2026-09-20"
    assert current["crossed"] == "forecast 80.0%, forecast 100.0%"
    code, out, err = cli("--config", str(config), "forecast", "--what-if", "traffic=+10%", "--as-of", "2026-09-05")
    assert code == 0 and "baseline" in out and "not stored" in err


@pytest.mark.parametrize("args, message", [
    (["forecast", "--as-of", "yesterday"], "--as-of 'yesterday' is not a date; write it as YYYY-MM-DD"),
    (["forecast", "--as-of", "2027-01-01"], "is after the last day with data (2026-09-30)"),
    (["forecast", "--what-if", "traffic=lots"], "--what-if 'traffic=lots' is not understood"),
    (["forecast", "--what-if", "rec=REC-404"], "rec=REC-404: no such recommendation in analytics.recommendations "
                                               "(there are none yet: run `costwarden recommend` first)"),
    (["budgets"], "no budgets configured: add [[budgets]]"),
])
def test_cli_errors_are_one_line(cli, warehouse, args, message):
    _warehouse(warehouse)
    code, out, err = cli(*args)
    assert code == 2 and message in err and "Traceback" not in err and len(err.strip().splitlines()) == 1


def test_forecast_on_an_empty_warehouse_says_what_to_do(cli, warehouse):
    code, out, err = cli("forecast")
    assert code == 1 and "costwarden build" in err


@pytest.mark.parametrize("toml, message", [
    ('[[budgets]]\nname = "x"\nscope = "squad:a"\namount = 5\n', "budgets.0.scope"),
    ('[[budgets]]\nname = "x"\namount = 5\n[[budgets]]\nname = "x"\namount = 6\n', "used twice"),
    ('[[budgets]]\nname = "x"\namount = -5\n', "budgets.0.amount"),
    ('[[budgets]]\nname = "x"\namount = 5\nperiod = "weekly"\n', "budgets.0.period"),
])
def test_bad_budget_config_is_one_clear_error(tmp_path, toml, message):
    config = tmp_path / "c.toml"
    config.write_text(toml)
    with pytest.raises(ConfigError, match=message.replace(".", r"\.").replace("[", r"\[")):
        load_settings(config, environ={})


def test_usage_error_type():
    from models.forecast.whatif import parse_what_if

    assert parse_what_if("traffic=-15%").traffic_pct == Decimal("-15")
    with pytest.raises(UsageError):
        parse_what_if("traffic=-100%")


def test_help_lists_forecast_and_budgets(capsys):
    from costwarden.cli import main

    with pytest.raises(SystemExit) as exit_info:
        main(["--help"])
    out = capsys.readouterr().out
    assert exit_info.value.code == 0
    assert "80% intervals" in out and "% used, runway" in out
    with pytest.raises(SystemExit):
        main(["budgets", "--help"])
    assert "runway" in capsys.readouterr().out


def test_holidays_come_from_the_anomaly_settings():
    from models.forecast.run import configured_holidays

    settings = Settings.model_validate({"anomaly": {"holidays": ["2026-12-25"]}})
    assert configured_holidays(settings) == frozenset({date(2026, 12, 25)})
    assert configured_holidays(Settings()) == frozenset()
