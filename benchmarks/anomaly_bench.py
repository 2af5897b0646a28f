"""Scoring speed: 10,000 daily series of 400 days (weekly pattern, noise) through AnomalyDetector, against the rolling
z-score baseline on the same frame in the same process. Prints medians and the ratio; writes JSON."""

from __future__ import annotations

import json
import os
import statistics
import time
from pathlib import Path

import numpy as np
import pandas as pd

from models.anomaly import AnomalyDetector, RollingZScoreDetector


def frame(n_series: int = 10_000, days: int = 400, seed: int = 0) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    stamps = pd.date_range("2024-01-01", periods=days, freq="D")
    weekly = np.where(np.asarray(stamps.day_of_week) >= 5, np.log(0.5), 0.0)
    values = np.exp(rng.uniform(1, 8, (n_series, 1)) + weekly[None, :] + rng.normal(0, 0.07, (n_series, days)))
    return pd.DataFrame({"series_id": np.repeat([f"s{i}" for i in range(n_series)], days),
                         "timestamp": np.tile(stamps, n_series), "value": values.ravel()})


def _time(make, data: pd.DataFrame, repeat: int) -> dict:
    runs = []
    for _ in range(repeat):
        wall, cpu = time.perf_counter(), time.process_time()
        make().fit(None).detect(data)
        runs.append((time.perf_counter() - wall, time.process_time() - cpu))
    return {"median_seconds": statistics.median(r[0] for r in runs),
            "median_cpu_seconds": statistics.median(r[1] for r in runs), "runs": runs}


def run(n_series: int = 10_000, days: int = 400, repeat: int = 3) -> dict:
    data = frame(n_series, days)
    detector = _time(AnomalyDetector, data, repeat)
    baseline = _time(RollingZScoreDetector, data, repeat)
    result = {"series": n_series, "days": days, "detector": detector, "zscore_baseline": baseline,
              "ratio_to_baseline": detector["median_seconds"] / baseline["median_seconds"],
              "cpu_ratio_to_baseline": detector["median_cpu_seconds"] / baseline["median_cpu_seconds"],
              "cores": os.cpu_count(), "load_average": os.getloadavg()}
    print(f"anomaly: {n_series} daily series x {days} days: detector median {detector['median_seconds']:.2f} s wall "
          f"({detector['median_cpu_seconds']:.2f} s CPU); z-score baseline {baseline['median_seconds']:.2f} s; "
          f"({baseline['median_cpu_seconds']:.2f} s CPU); ratio {result['ratio_to_baseline']:.2f}x wall, "
          f"{result['cpu_ratio_to_baseline']:.2f}x CPU (cores {result['cores']}, load {result['load_average'][0]:.1f})")
    return result


def save(result: dict, path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(result, indent=2, default=str))
    print(f"results in {path}")
