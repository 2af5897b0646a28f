"""Latency a scope would see on another model: per model, latency ~ a + b x prompt tokens + c x output tokens
(least squares on its successful requests), with that model's own spread (actual / fitted ratios) resampled.

So the p95 of a scope on a candidate model is predicted from the scope's own prompt and answer sizes, not from the
candidate's p95 on other agents' (differently sized) traffic.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

MIN_ROWS = 50


@dataclass(frozen=True)
class LatencyModel:
    coef: np.ndarray          # a, b, c
    ratios: np.ndarray        # actual / fitted of the fitted rows

    def p95(self, prompt: np.ndarray, output: np.ndarray, seed: int = 11) -> float:
        fitted = np.maximum(self.coef[0] + self.coef[1] * prompt + self.coef[2] * output, 1.0)
        rng = np.random.default_rng(seed)
        draws = fitted * self.ratios[rng.integers(0, len(self.ratios), size=len(fitted))]
        return float(np.quantile(draws, 0.95))


def fit_models(latency: pd.DataFrame) -> dict[tuple[str, str], LatencyModel]:
    models = {}
    for (provider, model), rows in latency.groupby(["provider", "model"]):
        rows = rows[rows["latency_ms"] > 0]
        if len(rows) < MIN_ROWS:
            continue
        x = np.column_stack([np.ones(len(rows)), rows["prompt_tokens"], rows["output_tokens"]])
        y = rows["latency_ms"].to_numpy(float)
        coef, *_ = np.linalg.lstsq(x, y, rcond=None)
        fitted = np.maximum(x @ coef, 1.0)
        models[(provider, model)] = LatencyModel(coef, y / fitted)
    return models


def scope_p95(models: dict, provider: str, model: str, scope_rows: pd.DataFrame) -> float | None:
    fit = models.get((provider, model))
    if fit is None or scope_rows.empty:
        return None
    return fit.p95(scope_rows["prompt_tokens"].to_numpy(float), scope_rows["output_tokens"].to_numpy(float))
