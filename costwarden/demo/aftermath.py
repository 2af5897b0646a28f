"""A simulated application of a routing recommendation, after the demo window: more days of one agent's traffic
where one task type runs on the proposed model, written as Bedrock invocation logs and loaded through the real
ingest path, so `costwarden recommend verify` has newer logs to measure.

Additive: the demo's own window, agents, incidents and opportunities are untouched; the new days start the day after
the demo ends and only the chosen agent has traffic in them.
"""

from __future__ import annotations

import dataclasses
from datetime import timedelta
from pathlib import Path

import duckdb
import numpy as np
import pyarrow as pa

from costwarden.build import build_warehouse
from costwarden.config import Settings
from costwarden.demo import frame
from costwarden.demo.company import AGENT_INDEX, AGENTS, END_DATE, MODELS
from costwarden.demo.incidents import Window, incidents
from costwarden.demo.logs import BEDROCK_ROOT, write_bedrock_logs
from costwarden.demo.traffic import simulate_agent


def model_key(canonical: str) -> str:
    """The demo model key of a canonical model id (as recommendations name it)."""
    for key, model in MODELS.items():
        if model.canonical == canonical or model.model_id == canonical:
            return key
    raise KeyError(f"{canonical} is not a demo model")


def simulate_applied(agent: str, task_type: str, new_model: str, days: int, scale: float,
                     seed: int) -> tuple[pa.Table, Window]:
    """`days` of the agent's traffic after the demo window with `task_type` served by `new_model` (a model key)
    and its other task types by the agent's own model. One simulated agent per task type, same index and name."""
    w = Window(days, end=END_DATE + timedelta(days=days))
    if any(f.effect.get("agent") == agent for f in incidents(w)):
        raise ValueError(f"{agent} has a planted incident; the aftermath would replay it into the new days")
    base = AGENTS[AGENT_INDEX[agent]]
    parts = []
    for i, (task, share) in enumerate(base.tasks.items()):
        variant = dataclasses.replace(base, tasks={task: 1.0}, rate=base.rate * share,
                                      model=new_model if task == task_type else base.model)
        parts.append(simulate_agent(AGENT_INDEX[agent], variant, w, scale, seed + 1000 * (i + 1)))
    merged = {k: np.concatenate([p[k] for p in parts]) for k in parts[0]}
    order = np.lexsort((merged["agent"], merged["at_ms"]))
    table = pa.table({k: pa.array(v[order], from_pandas=True) for k, v in merged.items()})
    return table.set_column(0, "at_ms", pa.array(merged["at_ms"][order] + w.start_ms, pa.int64())), w


def apply_and_load(settings: Settings, warehouse: str, folder: Path, agent: str, task_type: str,
                   new_model_canonical: str, days: int = 14, scale: float = 0.1, seed: int = 42) -> int:
    """Write the post-application logs into `folder`, ingest them (format bedrock) and rebuild. Returns the number
    of requests simulated."""
    from ingest import runner

    table, w = simulate_applied(agent, task_type, model_key(new_model_canonical), days, scale, seed)
    con = duckdb.connect()
    try:
        con.execute("SET TimeZone = 'UTC'")
        frame.register(con, table)
        write_bedrock_logs(con, w, folder, seed)
    finally:
        con.close()
    runner.ingest(settings, warehouse, str(folder / BEDROCK_ROOT), "bedrock", show_progress=False)
    build_warehouse(settings, warehouse)
    return table.num_rows
