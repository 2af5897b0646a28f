"""Running the recommenders over the warehouse and storing what they propose.

`run_recommend(settings, warehouse, now=None)` reads the last [recommend] lookback_days of priced requests (and
the capacity bill), asks each recommender (routing, batch, caching, capacity) for proposals, and replaces the
rows of analytics.recommendations that nobody has decided on yet; ids are stable per kind + scope + proposal, so
approvals keep pointing at them. Lifecycle (approve, reject, apply, verify): models/recommend/lifecycle.py.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone

import duckdb

from costwarden import db
from costwarden.errors import WarehouseError
from models.recommend import batch, caching, capacity, evidence, routing
from models.recommend.record import COLUMNS, Recommendation
from models.recommend.settings import RecommendSettings

# Quality evidence is scarce (a few percent of requests are scored), so it is read over a longer window than cost.
QUALITY_LOOKBACK_DAYS = 90


@dataclass
class RecommendReport:
    recommendations: list[Recommendation] = field(default_factory=list)
    window: tuple[datetime, datetime] | None = None
    kept_decided: int = 0
    turned_down: list[dict] = field(default_factory=list)   # routing candidates judged and failed, with why
    seconds: float = 0.0
    note: str = ""

    def summary(self) -> str:
        if self.window is None:
            return f"recommend: nothing to do ({self.note})"
        by_kind: dict[str, int] = {}
        for rec in self.recommendations:
            by_kind[rec.kind] = by_kind.get(rec.kind, 0) + 1
        total = sum((r.monthly_saving or 0) for r in self.recommendations if r.kind != "evaluate")
        kinds = ", ".join(f"{n} {k}" for k, n in sorted(by_kind.items())) or "none"
        return (f"recommend: {len(self.recommendations)} recommendations ({kinds}) from "
                f"{self.window[0]:%Y-%m-%d}..{self.window[1] - timedelta(days=1):%Y-%m-%d}; estimated saving "
                f"{total} USD/month if all were applied; {len(self.turned_down)} cheaper candidates turned down "
                f"(quality, errors or latency); {self.kept_decided} decided ones kept; {self.seconds:.1f}s")


def recommend(con: duckdb.DuckDBPyConnection, settings: RecommendSettings, start: datetime,
              stop: datetime, turned_down: list | None = None) -> list[Recommendation]:
    """Every recommendation for the window [start, stop), best saving first (no writes). Routing candidates that
    were judged and failed go to `turned_down` when given."""
    ev = evidence.load(con, settings, start, stop, quality_start=stop - timedelta(days=QUALITY_LOOKBACK_DAYS))
    found = (routing.propose(ev, settings, turned_down) + batch.propose(ev, settings) + caching.propose(ev, settings)
             + capacity.propose(con, ev, settings))
    return sorted(found, key=lambda r: (r.kind == "evaluate", -(r.monthly_saving or 0), r.rec_id))


def store(con: duckdb.DuckDBPyConnection, recs: list[Recommendation], created_at: datetime) -> int:
    """Replace undecided rows; decided ones stay (their estimate is what verification compares with) and are
    refreshed when proposed again. Returns how many decided rows were kept."""
    decided = {r[0] for r in con.execute("select distinct rec_id from analytics.recommendation_decisions").fetchall()}
    fresh = {r.rec_id for r in recs}
    with db.transaction(con):
        con.execute("delete from analytics.recommendations where rec_id not in (select rec_id from "
                    "analytics.recommendation_decisions)")
        for rec_id in fresh & decided:
            con.execute("delete from analytics.recommendations where rec_id = ?", [rec_id])
        placeholders = ", ".join("?" for _ in COLUMNS)
        con.executemany(f"insert into analytics.recommendations ({', '.join(COLUMNS)}) values ({placeholders})",
                        [r.row(created_at) for r in recs])
    return int(con.execute("select count(*) from analytics.recommendations where rec_id in (select rec_id from "
                           "analytics.recommendation_decisions)").fetchone()[0])


def run_recommend(settings, warehouse: str, now: datetime | None = None) -> RecommendReport:
    started = time.perf_counter()
    rec_settings: RecommendSettings = getattr(settings, "recommend", None) or RecommendSettings()
    con = db.connect(warehouse, memory_limit=settings.ingest.memory_limit, threads=settings.ingest.threads)
    try:
        try:
            start, stop = evidence.window_ending(con, rec_settings, now)
        except LookupError:
            return RecommendReport(note="no priced requests in the warehouse; run `costwarden ingest` and "
                                        "`costwarden build` first")
        except duckdb.CatalogException:
            raise WarehouseError("the warehouse has no priced requests table yet; run `costwarden build` first") \
                from None
        turned_down: list[dict] = []
        recs = recommend(con, rec_settings, start, stop, turned_down)
        created = (now or datetime.now(timezone.utc)).replace(tzinfo=None)
        kept = store(con, recs, created)
    finally:
        con.close()
    return RecommendReport(recs, (start, stop), kept, turned_down, time.perf_counter() - started)
