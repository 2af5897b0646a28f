"""The life of a recommendation: proposed -> approved | rejected -> applied (on a date) -> verified.

Every step is a row in analytics.recommendation_decisions (append-only; the newest row is the state), written by
the CLI (`costwarden recommend approve|reject|apply|verify`) and the dashboard through `decide`. Verification
measures what happened after the applied date from the newer logs (verify.py) and stores it beside the estimate.
"""

from __future__ import annotations

import json
from datetime import date, datetime, timezone

import duckdb

from costwarden.errors import CostwardenError, UsageError

ACTIONS = {"approve": "approved", "reject": "rejected", "apply": "applied", "verify": "verified"}
# Which state each action may follow ("proposed" = no decision yet). A rejected recommendation can be approved
# later (minds change); an applied one can be re-verified as more data arrives.
ALLOWED_FROM = {"approved": {"proposed", "rejected"}, "rejected": {"proposed", "approved"},
                "applied": {"approved"}, "verified": {"applied", "verified"}}


class DecisionError(CostwardenError):
    """A lifecycle step that does not fit the recommendation's state, or an unknown recommendation."""


def state(con: duckdb.DuckDBPyConnection, rec_id: str) -> str:
    row = con.execute("select action from analytics.recommendation_decisions where rec_id = ? "
                      "order by decided_at desc, case action when 'verified' then 4 when 'applied' then 3 "
                      "else 2 end desc limit 1", [rec_id]).fetchone()
    return row[0] if row else "proposed"


def applied_on(con: duckdb.DuckDBPyConnection, rec_id: str) -> date | None:
    row = con.execute("select applied_on from analytics.recommendation_decisions where rec_id = ? and action = "
                      "'applied' order by decided_at desc limit 1", [rec_id]).fetchone()
    return row[0] if row else None


def decide(con: duckdb.DuckDBPyConnection, rec_id: str, action: str, user: str, reason: str | None = None,
           applied_on: date | None = None, now: datetime | None = None) -> dict:
    """Record one lifecycle step and return it as a dict (with `realised` for verify).

    action: approve | reject | apply | verify (or the past tense). apply takes the date the change went live
    (default today, UTC); verify measures realised saving and quality since that date."""
    action = ACTIONS.get(action, action)
    if action not in ALLOWED_FROM:
        raise UsageError(f"unknown action {action!r}; use one of approve, reject, apply, verify.")
    if not (user or "").strip():
        raise UsageError("a decision needs the name of who made it (--by NAME).")
    exists = con.execute("select count(*) from analytics.recommendations where rec_id = ?", [rec_id]).fetchone()[0]
    if not exists:
        raise DecisionError(f"no recommendation {rec_id!r}; list them with `costwarden recommend`.")
    current = state(con, rec_id)
    if current not in ALLOWED_FROM[action]:
        allowed = " or ".join(sorted(ALLOWED_FROM[action]))
        raise DecisionError(f"recommendation {rec_id} is {current}; it can be {action} only when {allowed}.")
    if action == "rejected" and not (reason or "").strip():
        raise UsageError("rejecting needs a reason (--reason '...'), so the team knows why.")
    now = (now or datetime.now(timezone.utc)).replace(tzinfo=None)
    realised = None
    when = None
    if action == "applied":
        when = applied_on or now.date()
    if action == "verified":
        from models.recommend.verify import verify

        when = _applied_date(con, rec_id)
        realised = verify(con, rec_id, when)
    con.execute("insert into analytics.recommendation_decisions values (?, ?, ?, ?, ?, ?, ?)",
                [rec_id, action, user.strip(), now, reason, when,
                 json.dumps(realised, default=str) if realised is not None else None])
    return {"rec_id": rec_id, "action": action, "user_name": user.strip(), "decided_at": now, "reason": reason,
            "applied_on": when, "realised": realised}


def _applied_date(con, rec_id: str) -> date:
    when = applied_on(con, rec_id)
    if when is None:
        raise DecisionError(f"recommendation {rec_id} has no applied date; record it with "
                            f"`costwarden recommend apply {rec_id} --by NAME --applied-on YYYY-MM-DD`.")
    return when


def history(con: duckdb.DuckDBPyConnection, rec_id: str) -> list[dict]:
    cur = con.execute("select * from analytics.recommendation_decisions where rec_id = ? order by decided_at",
                      [rec_id])
    names = [d[0] for d in cur.description]
    return [dict(zip(names, row)) for row in cur.fetchall()]
