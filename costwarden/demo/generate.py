"""Generates the whole demo data set into a folder: invocation logs, gateway logs, CUR deliveries, ground truth.

Also keeps, in memory, an earlier partial delivery of the last billing period, so the run can show a restatement
(the same CUR keys overwritten by a later, complete delivery).
"""

from __future__ import annotations

import json
import tempfile
import time
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path

from costwarden.config import Settings
from costwarden.demo import billing, frame
from costwarden.demo.curfile import Delivery, periods, write_delivery
from costwarden.demo.gateway import write_litellm_logs
from costwarden.demo.incidents import Window, all_findings
from costwarden.demo.logs import write_bedrock_logs
from costwarden.demo.pricing import DemoPrices, demo_price_entries, overrides_as_settings
from costwarden.demo.traffic import simulate

INCIDENTS_FILE = "demo-incidents.json"
RESTATEMENT_LAG = timedelta(days=3)   # the partial delivery of the last month is this much older


@dataclass
class Generated:
    root: Path
    window: Window
    requests: int
    bedrock_objects: int
    gateway_files: int
    deliveries: list[Delivery]
    price_entries: list[dict]
    partial: Delivery | None = None
    partial_files: dict[str, bytes] = field(default_factory=dict)   # relpath -> bytes of the earlier delivery
    seconds: float = 0.0


def generate(out: Path, *, days: int, scale: float, seed: int, on_file=None) -> Generated:
    """Write the data set into `out`; `on_file(path)` is told of each log file as soon as it is complete."""
    started = time.perf_counter()
    w = Window(days)
    entries = demo_price_entries(w)
    prices = DemoPrices(Settings(prices=overrides_as_settings(entries)), w)
    try:
        con = prices.con
        requests = simulate(w, scale, seed)
        frame.register(con, requests)
        bedrock_objects = write_bedrock_logs(con, w, out, seed, on_file)
        gateway_files = write_litellm_logs(con, w, out, on_file)
        billing.build_core(con, w)
        deliveries = [write_delivery(con, w, out, period) for period in periods(w)]
        partial, partial_files = None, {}
        with tempfile.TemporaryDirectory(prefix="costwarden-demo-") as tmp:
            partial = write_delivery(con, w, Path(tmp), periods(w)[-1], cutoff=w.stop - RESTATEMENT_LAG)
            partial_files = {key: (Path(tmp) / key).read_bytes()
                             for key in (partial.data_key, partial.manifest_key)}
    finally:
        prices.close()
    (out / INCIDENTS_FILE).write_text(json.dumps(all_findings(w), indent=2) + "\n", encoding="utf-8")
    return Generated(out, w, requests.num_rows, bedrock_objects, gateway_files, deliveries, entries, partial,
                     partial_files, time.perf_counter() - started)
