"""Month-end and quarter-end spend forecasts per scope, budgets with thresholds and runway, what-if forecasts.

Entry points: run_forecast(settings, warehouse, as_of=None) (writes analytics.forecasts, budget_status and new
budget_crossings), what_if_forecast(...) (writes nothing), budget_events(con, since) and crossing_events(...) for
the alerts side. The forecaster itself is models.forecast.model.SpendForecaster.

Names are imported lazily: costwarden.config reads models.forecast.settings, and loading the config should not
pull in numpy and the warehouse code.
"""

from __future__ import annotations

import importlib

_EXPORTS = {
    "run_forecast": "models.forecast.run", "what_if_forecast": "models.forecast.run",
    "ForecastReport": "models.forecast.run", "budget_events": "models.forecast.events",
    "crossing_events": "models.forecast.events", "SpendForecaster": "models.forecast.model",
    "ForecastParams": "models.forecast.model", "Prediction": "models.forecast.model",
}

__all__ = sorted(_EXPORTS)


def __getattr__(name: str):
    if name in _EXPORTS:
        return getattr(importlib.import_module(_EXPORTS[name]), name)
    raise AttributeError(f"module 'models.forecast' has no attribute {name!r}")
