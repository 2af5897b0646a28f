"""Shared benchmark plumbing: run a step in a child process and report wall time, CPU time and peak memory (RSS).

CPU seconds (user + system of the child) are reported next to wall seconds because the project's machines are shared:
when other work queues on the same cores, wall time measures the queue, while CPU time still measures the work."""

from __future__ import annotations

import json
import os
import statistics
import subprocess
import sys
import time
from dataclasses import dataclass

# Child processes get this code: run a python snippet, then print wall seconds and peak RSS as JSON.
_CHILD = r"""
import json, resource, sys, time
started = time.perf_counter()
exec(compile(sys.argv[1], "<bench>", "exec"))
usage = resource.getrusage(resource.RUSAGE_SELF)
print("__BENCH__" + json.dumps({"seconds": time.perf_counter() - started, "cpu_seconds": usage.ru_utime + usage.ru_stime,
                                "peak_mb": usage.ru_maxrss / 1024}))
"""


@dataclass
class Measure:
    seconds: float
    peak_mb: float
    cpu_seconds: float = 0.0
    output: str = ""


def measure(code: str, env: dict | None = None) -> Measure:
    """Run `code` in a fresh interpreter (so peak memory is its own) and return its wall time and peak RSS."""
    proc = subprocess.run([sys.executable, "-c", _CHILD, code], capture_output=True, text=True,
                          env=dict(os.environ, **(env or {})))
    if proc.returncode != 0:
        raise SystemExit(f"benchmark step failed:\n{proc.stderr[-3000:]}")
    line = [ln for ln in proc.stdout.splitlines() if ln.startswith("__BENCH__")][-1]
    data = json.loads(line[len("__BENCH__"):])
    return Measure(data["seconds"], data["peak_mb"], data.get("cpu_seconds", 0.0), proc.stdout)


def median_of(runs: list[Measure]) -> Measure:
    return Measure(statistics.median(r.seconds for r in runs), max(r.peak_mb for r in runs))


def timed(label: str):
    started = time.perf_counter()
    return lambda: print(f"  {label}: {time.perf_counter() - started:.1f}s", flush=True)
