"""AnomalyDetector: causality, robustness, minimum history, spikes, level shifts, calendar effects, baseline, gates."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal

import numpy as np
import pandas as pd
import pytest
from sklearn.base import clone

from costwarden.errors import BadInputError
from models.anomaly import (ANOMALY_COLUMNS, AnomalyDetector, Gate, GatePolicy, PlannedEvent,
                            RollingZScoreDetector, ScopedGate, apply_gates)
from tests.models.series import daily_spend, hourly_spend, scaled


def alerts(found: pd.DataFrame) -> pd.DataFrame:
    return found[found["first_alert_at"].notna()]


def day(frame: pd.DataFrame, index: int) -> pd.Timestamp:
    return frame["timestamp"].iloc[index]


def test_appending_future_points_never_changes_earlier_verdicts():
    full = scaled(scaled(daily_spend(180), 100, 3.0, 101), 130, 1.6)
    prefix = full.iloc[:115]
    detector = AnomalyDetector()
    early = detector.fit(prefix).score_points(prefix)
    late = detector.fit(full).score_points(full).iloc[:115]
    for column in ("expected", "lower", "upper", "score"):
        np.testing.assert_allclose(early[column], late[column], equal_nan=True)
    assert early["alert"].tolist() == late["alert"].tolist()
    assert early["alert"].any()
    closed_early = detector.fit(prefix).detect(prefix)
    closed_early = closed_early[closed_early["status"] == "closed"]
    later = detector.fit(full).detect(full)
    keep = ["series_id", "start", "end", "first_alert_at"]
    assert closed_early[keep].merge(later[keep], how="left", indicator=True)["_merge"].eq("both").all()


def test_outliers_in_history_do_not_widen_the_band():
    clean = daily_spend(160)
    dirty = clean.copy()
    for index in (40, 47, 55, 61, 70, 84):
        dirty.loc[dirty.index[index], "value"] *= 6.0
    width = {}
    for name, frame in (("clean", clean), ("dirty", dirty)):
        points = AnomalyDetector().fit(frame).score_points(frame).iloc[110:160]
        width[name] = ((points["upper"] - points["lower"]) / points["expected"]).median()
    assert width["dirty"] == pytest.approx(width["clean"], rel=0.10)


def test_no_alert_before_minimum_history_and_the_output_says_so():
    short = scaled(daily_spend(40), 20, 8.0, 21)
    detector = AnomalyDetector(min_history_days=28)
    found = detector.fit(short).detect(short)
    early = found[found["start"] == day(short, 20)]
    assert len(early) == 1 and early["first_alert_at"].isna().all() and not early["min_history_met"].any()
    status = detector.series_status_.set_index("series_id").loc["spend"]
    assert status["min_history_points"] == 28 and status["alerts_possible_from"] == day(short, 28)

    tiny = daily_spend(20)
    detector.fit(tiny).detect(tiny)
    assert not detector.series_status_["min_history_met"].any()


def test_spike_is_one_anomaly_on_its_day_with_impact():
    frame = scaled(daily_spend(150), 100, 3.0, 101)
    found = alerts(AnomalyDetector().fit(frame).detect(frame))
    assert len(found) == 1
    spike = found.iloc[0]
    assert spike["start"] == spike["end"] == spike["first_alert_at"] == day(frame, 100)
    assert spike["direction"] == "up" and spike["impact"] > 0 and spike["impact_pct"] > 100
    assert spike["expected_low"] < spike["expected"] < spike["expected_high"] < spike["actual"]
    assert spike["severity"] == "critical" and spike["status"] == "closed"
    assert list(found.columns) == ANOMALY_COLUMNS


def test_level_shift_is_one_anomaly_that_closes_and_the_baseline_relearns():
    frame = scaled(daily_spend(170), 100, 1.6)
    found = AnomalyDetector().fit(frame).detect(frame)
    after = found[found["end"] >= day(frame, 100)]
    assert len(after) == 1
    shift = after.iloc[0]
    assert shift["start"] == day(frame, 100) and shift["first_alert_at"] <= day(frame, 101)
    assert shift["status"] == "closed" and shift["end"] <= day(frame, 107)
    points = AnomalyDetector().fit(frame).score_points(frame).iloc[120:]
    assert not points["alert"].any()
    assert (points["value"] / points["expected"]).median() == pytest.approx(1.0, abs=0.05)


def test_month_start_batch_job_is_not_flagged_once_learned():
    frame = daily_spend(200, month_start=2.5)
    found = alerts(AnomalyDetector().fit(frame).detect(frame))
    learned_from = pd.Timestamp("2024-03-15", tz="UTC")
    assert found[found["first_alert_at"] >= learned_from].empty


def test_holiday_dip_alerts_only_until_learned():
    holidays = (datetime(2024, 2, 19).date(), datetime(2024, 5, 27).date(), datetime(2024, 7, 4).date())
    frame = daily_spend(200)
    frame.loc[frame["timestamp"].dt.date.isin(holidays), "value"] *= 0.3
    found = alerts(AnomalyDetector(holidays=holidays).fit(frame).detect(frame))
    assert found.empty


def test_hourly_series_spike_is_detected_within_the_hour():
    frame = hourly_spend(42)
    at = 35 * 24 + 11
    frame.loc[frame.index[at], "value"] *= 6.0
    found = alerts(AnomalyDetector().fit(frame).detect(frame))
    assert (found["first_alert_at"] == frame["timestamp"].iloc[at]).any()


def test_detect_returns_only_anomalies_touching_the_new_points():
    frame = scaled(scaled(daily_spend(160), 60, 3.0, 61), 150, 3.0, 151)
    history, new = frame.iloc[:140], frame.iloc[140:]
    found = AnomalyDetector().fit(history).detect(new)
    assert alerts(found)["start"].tolist() == [day(frame, 150)]


def test_series_are_judged_independently_of_each_other():
    a = scaled(daily_spend(150, seed=1), 100, 3.0, 101).assign(series_id="a")
    b = daily_spend(150, seed=2, level=5000).assign(series_id="b")
    alone = AnomalyDetector().fit(a).score_points(a)
    together = AnomalyDetector().fit(pd.concat([a, b])).score_points(pd.concat([b, a]))
    np.testing.assert_allclose(alone["score"], together[together["series_id"] == "a"]["score"], equal_nan=True)


def test_irregular_sampling_and_duplicates_are_clear_errors():
    frame = daily_spend(40)
    shifted = frame.copy()
    shifted.loc[shifted.index[10], "timestamp"] += pd.Timedelta(hours=5)
    with pytest.raises(BadInputError, match="not regularly sampled"):
        AnomalyDetector().fit(None).detect(shifted)
    with pytest.raises(BadInputError, match="two points"):
        AnomalyDetector().fit(None).detect(pd.concat([frame, frame.iloc[:1]]))


def test_parameters_follow_the_scikit_learn_contract():
    detector = AnomalyDetector(threshold=4.0)
    assert clone(detector).get_params()["threshold"] == 4.0
    assert not hasattr(detector, "history_")
    assert hasattr(detector.fit(daily_spend(30)), "history_")


def test_rolling_zscore_baseline_has_the_same_api_and_finds_a_plain_spike():
    frame = scaled(daily_spend(120, weekend=1.0), 90, 4.0, 91)
    found = alerts(RollingZScoreDetector().fit(frame).detect(frame))
    assert list(found.columns) == ANOMALY_COLUMNS
    assert day(frame, 90) in set(found["start"])


def anomaly(series_id: str, impact: float, impact_pct: float, start: str = "2024-05-01") -> dict:
    stamp = pd.Timestamp(start, tz="UTC")
    return {"series_id": series_id, "start": stamp, "end": stamp, "first_alert_at": stamp, "impact": impact,
            "impact_pct": impact_pct}


def test_gates_separate_paging_from_detection_with_scoped_overrides():
    table = pd.DataFrame([anomaly("team:search/spend", 40.0, 80.0), anomaly("team:ads/spend", 40.0, 80.0),
                          anomaly("team:ads/spend", 500.0, 10.0, "2024-06-01")])
    policy = GatePolicy(default=Gate(min_impact=Decimal("100")),
                        overrides=(ScopedGate("team:search/*", Gate(min_impact=Decimal("10"))),))
    gated = apply_gates(table, policy)
    assert gated["pages"].tolist() == [True, False, True]
    both = GatePolicy(default=Gate(min_impact=Decimal("100"), min_impact_pct=20.0, require="all"))
    assert apply_gates(table, both)["pages"].tolist() == [False, False, False]
    either = GatePolicy(default=Gate(min_impact=Decimal("100"), min_impact_pct=20.0, require="any"))
    assert apply_gates(table, either)["pages"].tolist() == [True, True, True]


def test_planned_events_and_feedback_suppress_paging_but_keep_the_anomaly():
    table = pd.DataFrame([anomaly("team:search/spend", 400.0, 80.0), anomaly("team:ads/spend", 400.0, 80.0)])
    launch = PlannedEvent("search launch", datetime(2024, 4, 30), datetime(2024, 5, 2), scope="team:search/*")
    feedback = {("team:ads/spend", pd.Timestamp("2024-05-01", tz="UTC")): "expected"}
    gated = apply_gates(table, GatePolicy(), planned=(launch,), feedback=feedback)
    assert gated["pages"].tolist() == [False, False]
    assert gated["suppressed_by"].tolist() == ["planned: search launch", "feedback: expected"]
    assert len(gated) == 2
