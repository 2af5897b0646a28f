"""Pieces of the warehouse run that need no warehouse: [anomaly] settings, series keys, gates, planned events,
comparison windows for root cause, stable ids."""

from __future__ import annotations

from decimal import Decimal
from types import SimpleNamespace

import pandas as pd
import pytest

from costwarden.config import load_settings
from costwarden.errors import ConfigError
from models.anomaly.explain import comparison_windows
from models.anomaly.settings import AnomalySettings, GateSettings, PlannedEventSettings
from models.anomaly.warehouse_series import series_key
from models.detect_warehouse import (_gate_for, _past_settling, _persistent_and_bad_news, _planned, _run_rate_impact,
                                     anomaly_id)


def test_anomaly_section_loads_from_toml_and_rejects_mistakes(tmp_path):
    config = tmp_path / "c.toml"
    config.write_text("""[anomaly]
holidays = [2026-12-25]
min_impact_usd = 100
[[anomaly.gates]]
scope = "*|*|team=growth"
min_impact_pct = 5
[[anomaly.planned_events]]
name = "launch"
scope = "spend|*|*"
start = 2026-11-27
end = 2026-11-30T23:00:00Z
""")
    settings = load_settings(config, environ={}).anomaly
    assert settings.min_impact_usd == Decimal("100") and str(settings.holidays[0]) == "2026-12-25"
    assert settings.gates[0].min_impact_pct == 5 and settings.planned_events[0].name == "launch"
    config.write_text('[anomaly]\nmetrics = ["spend", "vibes"]\n')
    with pytest.raises(ConfigError, match="anomaly.metrics"):
        load_settings(config, environ={})
    config.write_text('[[anomaly.planned_events]]\nname = "x"\nstart = 2026-11-02\nend = 2026-11-01\n')
    with pytest.raises(ConfigError, match="ends before it starts"):
        load_settings(config, environ={})


def test_series_keys_name_metric_grain_and_scope():
    assert series_key("spend", "day", "all", "") == "spend|day|all"
    assert series_key("error_rate", "hour", "agent", "kb-answerer") == "error_rate|hour|agent=kb-answerer"
    assert series_key("spend", "day", "team", "growth", "EUR") == "spend:EUR|day|team=growth"


def test_the_most_specific_gate_wins_and_rates_gate_on_percent_only():
    settings = AnomalySettings(gates=[GateSettings(scope="*|*|team=growth", min_impact_usd=Decimal("500")),
                                      GateSettings(scope="spend|day|team=growth", min_impact_usd=Decimal("5"))])
    assert _gate_for(settings, "spend|day|team=growth", True).min_impact == Decimal("5")
    assert _gate_for(settings, "requests|day|team=growth", True).min_impact == Decimal("500")
    default = _gate_for(settings, "spend|day|all", True)
    assert default.min_impact == Decimal("25") and default.min_impact_pct == 20
    assert default.passes(30.0, 25.0) and not default.passes(20.0, 25.0) and not default.passes(30.0, 10.0)
    rate = _gate_for(settings, "error_rate|day|all", False)
    assert rate.min_impact is None and rate.passes(0.0, 60.0) and not rate.passes(0.0, 40.0)


def test_planned_events_suppress_only_overlapping_anomalies_in_their_scope():
    settings = AnomalySettings(planned_events=[PlannedEventSettings(
        name="launch", scope="*|*|team=growth", start="2026-11-27T00:00:00Z", end="2026-11-30T00:00:00Z")])
    day = lambda text: pd.Timestamp(text, tz="UTC")  # noqa: E731
    assert _planned(settings, "spend|day|team=growth", day("2026-11-29"), day("2026-12-02")) == "planned:launch"
    assert _planned(settings, "spend|day|team=growth", day("2026-12-01"), day("2026-12-02")) is None
    assert _planned(settings, "spend|day|team=search", day("2026-11-29"), day("2026-11-29")) is None


def test_root_cause_compares_like_with_like():
    start = pd.Timestamp("2026-08-27 15:00", tz="UTC")
    windows, weight = comparison_windows(start, start + pd.Timedelta(hours=5), "hour")
    # A six-hour anomaly: the same six hours one to four weeks earlier, averaged.
    assert weight == Decimal(1) / 4 and len(windows) == 4
    assert all((hi - lo) == pd.Timedelta(hours=6) and (start - lo) % pd.Timedelta(days=7) == pd.Timedelta(0)
               for lo, hi in windows)
    day = pd.Timestamp("2026-10-08", tz="UTC")
    windows, weight = comparison_windows(day, day + pd.Timedelta(days=13), "day")
    # Two weeks: the 28 days before, scaled to 14 days.
    assert windows == [(day - pd.Timedelta(days=28), day)] and weight == Decimal(14) / 28


def test_anomaly_ids_depend_on_series_and_start_only():
    start = pd.Timestamp("2026-09-08", tz="UTC")
    assert anomaly_id("spend|day|all", start) == anomaly_id("spend|day|all", start.tz_localize(None))
    assert anomaly_id("spend|day|all", start) != anomaly_id("spend|day|team=x", start)
    assert anomaly_id("spend|day|all", start) != anomaly_id("spend|day|all", start + pd.Timedelta(days=1))
    assert anomaly_id("spend|day|all", start).startswith("A-")


def test_detect_without_a_warehouse_says_what_to_do(cli):
    code, _, err = cli("detect")
    assert code == 1 and "error:" in err and "Traceback" not in err


def test_an_anomaly_namespace_is_enough_for_the_planned_check():
    # _planned only needs the key and the interval (the dashboard calls it on stored rows).
    row = SimpleNamespace(start=pd.Timestamp("2026-01-01", tz="UTC"), end=pd.Timestamp("2026-01-02", tz="UTC"))
    assert _planned(AnomalySettings(), "spend|day|all", row.start, row.end) is None


def _row(metric="p95_latency_ms", impact=5000.0, n_points=1, grain="day", start="2026-08-20", impact_pct=80.0):
    return SimpleNamespace(metric=metric, impact=impact, n_points=n_points, grain=grain,
                           start=pd.Timestamp(start, tz="UTC"), impact_pct=impact_pct)


def test_latency_pages_only_when_it_persists_and_falls_never_page():
    settings = AnomalySettings()
    assert not _persistent_and_bad_news(settings, _row(n_points=1))
    assert _persistent_and_bad_news(settings, _row(n_points=2))
    assert not _persistent_and_bad_news(settings, _row(impact=-5000.0, n_points=3))
    assert not _persistent_and_bad_news(settings, _row("jitter", impact=2.0, n_points=1))
    # Fewer errors is good news at any length; more errors can page on one day; spend is not affected.
    assert not _persistent_and_bad_news(settings, _row("error_rate", impact=-0.1, n_points=5))
    assert _persistent_and_bad_news(settings, _row("error_rate", impact=0.1, n_points=1))
    assert _persistent_and_bad_news(settings, _row("spend", impact=-100.0, n_points=1))
    assert _persistent_and_bad_news(AnomalySettings(latency_min_periods=1), _row(n_points=1))


def test_settling_period_pages_only_huge_changes():
    settings = AnomalySettings()  # 14 settling days, 300% there
    history = pd.DataFrame({"alerts_possible_from": [pd.Timestamp("2026-08-01", tz="UTC")]}, index=["k"])
    assert not _past_settling(settings, _row("spend", start="2026-08-03", impact_pct=164.0), history, "k")
    assert _past_settling(settings, _row("spend", start="2026-08-03", impact_pct=-350.0), history, "k")
    assert _past_settling(settings, _row("spend", start="2026-08-15", impact_pct=30.0), history, "k")
    assert _past_settling(settings, _row("spend", start="2026-08-03", impact_pct=30.0), history, "other")
    assert _past_settling(AnomalySettings(settling_days=0), _row("spend", start="2026-08-03"), history, "k")


def test_a_persistent_unit_cost_change_is_gated_on_its_run_rate():
    settings = AnomalySettings()  # 3 periods, 30 days
    assert _run_rate_impact(settings, _row("cost_per_request", n_points=5), 2.0) == pytest.approx(12.0)
    assert _run_rate_impact(settings, _row("cost_per_request", n_points=2), 2.0) == 2.0
    assert _run_rate_impact(settings, _row("cost_per_run", n_points=3, grain="hour"), -0.3) == pytest.approx(-72.0)
    # Spend and volume are gated on what they cost so far; rates without $ stay without.
    assert _run_rate_impact(settings, _row("spend", n_points=5), 2.0) == 2.0
    assert _run_rate_impact(settings, _row("cost_per_request", n_points=5), None) is None
    assert _run_rate_impact(settings, _row("cache_hit_rate", n_points=40), 10.0) == 10.0
