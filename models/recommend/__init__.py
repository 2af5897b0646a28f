"""Recommendations: spend less at the same quality, with the evidence a finance team can approve.

Entry points: `run_recommend(settings, warehouse, now=None)` (runner.py) and `lifecycle.decide(...)`. They are
imported lazily, so reading the config (which imports settings.py) does not load pandas and DuckDB.
"""

from __future__ import annotations


def __getattr__(name: str):
    if name in ("run_recommend", "RecommendReport", "recommend", "store"):
        from models.recommend import runner

        return getattr(runner, name)
    raise AttributeError(name)
