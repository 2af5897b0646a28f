"""`costwarden run` (the pipeline once) and `costwarden schedule` (configured jobs on cron expressions, forever).

The pipeline: ingest (configured sources) -> build -> detect -> forecast -> recommend -> alerts. Each step is an
entry point of its own package, imported only when it runs, so a missing optional step (a model package not
installed) is skipped with a clear line instead of breaking the rest. A failed step is reported and the chain goes
on: every later step works on what the warehouse holds, and the alerts step is what tells people about it.

No overlap: a run holds an exclusive lock on `<warehouse>.lock` (flock) for its whole length. A second
`costwarden run`, a second scheduler or a scheduled job that finds it held does not start ("another run is in
progress"), so runs never interleave their writes.

Clean shutdown: the first SIGTERM or SIGINT lets the current job finish and then stops the scheduler; a second one
abandons the job (every step writes in transactions, so an abandoned step leaves nothing half-written).
"""

from __future__ import annotations

import contextlib
import fcntl
import importlib
import os
import signal
import sys
import threading
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Callable, Iterator, TextIO
from zoneinfo import ZoneInfo

import duckdb

from costwarden.config import Settings
from costwarden.errors import CostwardenError, TransientError
from costwarden.schedule_settings import PIPELINE_STEPS, JobSettings

# step -> (module, function, how it is called)
ENTRY_POINTS: dict[str, tuple[str, str]] = {
    "ingest": ("ingest.runner", "ingest_configured"),
    "build": ("costwarden.build", "build_warehouse"),
    "detect": ("models.detect_warehouse", "detect_warehouse"),
    "forecast": ("models.forecast", "run_forecast"),
    "recommend": ("models.recommend", "run_recommend"),
    "alerts": ("alerts.jobs", "run_alerts"),
}


class RunInProgressError(TransientError):
    """Another run holds the warehouse's run lock."""


@dataclass
class StepResult:
    step: str
    status: str                # ok | failed | skipped
    seconds: float
    summary: str


@dataclass
class PipelineReport:
    steps: list[StepResult] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return all(s.status != "failed" for s in self.steps)

    def summary(self) -> str:
        lines = []
        for s in self.steps:
            head = f"[{s.step}] {s.status}" + (f" in {s.seconds:.1f}s" if s.status != "skipped" else "")
            body = s.summary.strip()
            lines.append(head + (":" if body else ""))
            lines += ["    " + line for line in body.splitlines()]
        failed = [s.step for s in self.steps if s.status == "failed"]
        lines.append("run finished" + (f" with failures in {', '.join(failed)}" if failed else ""))
        return "\n".join(lines)


@contextlib.contextmanager
def run_lock(warehouse: str) -> Iterator[Path]:
    """Hold `<warehouse>.lock` exclusively, or raise RunInProgressError naming the holder."""
    path = Path(f"{warehouse}.lock")
    path.parent.mkdir(parents=True, exist_ok=True)
    handle = open(path, "a+", encoding="utf-8")
    try:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            handle.seek(0)
            holder = handle.read().strip() or "another process"
            raise RunInProgressError(f"another costwarden run is in progress on {warehouse} ({holder}); it was "
                                     "not started again. Wait for it to finish, or remove nothing: the lock "
                                     "goes away with its process.") from None
        handle.seek(0)
        handle.truncate()
        handle.write(f"pid {os.getpid()} since {datetime.now(UTC):%Y-%m-%d %H:%M:%S} UTC")
        handle.flush()
        yield path
    finally:
        handle.close()       # closing the descriptor releases the lock, also when the process dies


# Steps that write what the dashboard shows after the build; when one runs, the pipeline publishes the snapshot
# once at the end instead of the build publishing one too.
ANALYSIS_STEPS = ("detect", "forecast", "recommend", "alerts")


def _call(step: str, settings: Settings, warehouse: str, now: datetime | None, publish_after_build: bool = True):
    module, name = ENTRY_POINTS[step]
    function = getattr(importlib.import_module(module), name)
    if step == "ingest":
        reports = function(settings, warehouse, show_progress=False)
        return "\n".join(r.line() for r in reports) or "nothing to load"
    if step == "build":
        return function(settings, warehouse, publish_snapshot=publish_after_build)
    if step == "forecast":
        return function(settings, warehouse, as_of=now.date() if now else None)
    return function(settings, warehouse, now=now)


def _missing(exc: ModuleNotFoundError, module: str) -> bool:
    """True when the step's own module is absent (not when something it imports is)."""
    return bool(exc.name) and (module == exc.name or module.startswith(exc.name + "."))


def run_step(step: str, settings: Settings, warehouse: str, now: datetime | None = None,
             publish_after_build: bool = True) -> StepResult:
    started = time.perf_counter()
    if step == "ingest" and not settings.sources:
        return StepResult(step, "skipped", 0.0, "no [[sources]] in the config")
    module = ENTRY_POINTS[step][0]
    try:
        outcome = _call(step, settings, warehouse, now, publish_after_build)
    except ModuleNotFoundError as exc:
        if not _missing(exc, module):   # the step is there but something it needs is not: that is a failure
            return StepResult(step, "failed", time.perf_counter() - started,
                              f"{module} needs the module {exc.name}, which is not installed")
        return StepResult(step, "skipped", 0.0, f"{module} is not installed in this version; step skipped")
    except CostwardenError as exc:
        return StepResult(step, "failed", time.perf_counter() - started, str(exc))
    except Exception as exc:   # a bug in one step must not hide the others' results
        return StepResult(step, "failed", time.perf_counter() - started,
                          f"unexpected {type(exc).__name__}: {exc} (run `costwarden --debug` for the traceback)")
    text = outcome if isinstance(outcome, str) else outcome.summary()
    ok = getattr(outcome, "ok", True)
    return StepResult(step, "ok" if ok else "failed", time.perf_counter() - started, text)


def run_pipeline(settings: Settings, warehouse: str, steps: list[str] | None = None, now: datetime | None = None,
                 on_step: Callable[[StepResult], None] | None = None) -> PipelineReport:
    """Run the steps in pipeline order under the run lock."""
    chosen = [s for s in PIPELINE_STEPS if not steps or s in steps]
    publish_at_end = any(s in chosen for s in ANALYSIS_STEPS)
    report = PipelineReport()
    with run_lock(warehouse):
        for step in chosen:
            result = run_step(step, settings, warehouse, now, publish_after_build=not publish_at_end)
            report.steps.append(result)
            if on_step:
                on_step(result)
        if publish_at_end and Path(warehouse).exists():
            _publish_dashboard_snapshot(settings, warehouse, report, on_step)
    return report


def _publish_dashboard_snapshot(settings: Settings, warehouse: str, report: "PipelineReport", on_step) -> None:
    """Publish after detect/forecast/recommend/alerts wrote their tables, so the dashboard shows this run's anomalies,
    forecasts and recommendations (the build step left publishing to this)."""
    from dashboard import snapshot

    started = time.perf_counter()
    try:
        folder = snapshot.snapshot_dir(warehouse, settings.dashboard.snapshot_dir)
        path = snapshot.publish_from_warehouse(warehouse, folder, settings.dashboard.keep_snapshots)
        result = StepResult("publish", "ok", time.perf_counter() - started, f"dashboard snapshot {path.name}")
    except (OSError, CostwardenError, duckdb.Error) as exc:
        result = StepResult("publish", "failed", time.perf_counter() - started,
                            f"dashboard snapshot not published: {exc}")
    report.steps.append(result)
    if on_step:
        on_step(result)


# ---- schedule ----------------------------------------------------------------------------------------------------

@dataclass
class JobOutcome:
    ok: bool
    text: str


def run_job(job: JobSettings, settings: Settings, warehouse: str) -> JobOutcome:
    """One scheduled job, under the run lock (a job that finds it held is skipped, not queued)."""
    try:
        if job.command == "run":
            report = run_pipeline(settings, warehouse, job.steps or None)
            return JobOutcome(report.ok, report.summary())
        with run_lock(warehouse):
            if job.command == "alerts":
                from alerts.jobs import run_alerts

                report = run_alerts(settings, warehouse)
            else:
                from alerts.reports.job import send_reports

                report = send_reports(settings, warehouse, job.period, per_department=job.per_department)
        return JobOutcome(report.ok, report.summary())
    except RunInProgressError as exc:
        return JobOutcome(True, f"skipped: {exc}")
    except CostwardenError as exc:
        return JobOutcome(False, f"failed: {exc}")


class Scheduler:
    """Fires each job at its cron times. Jobs run one at a time in this process; a fire time that passes while
    another job runs is run once when it is free (never queued twice); missed times while the scheduler was down
    are not caught up (the next run picks up whatever data arrived)."""

    def __init__(self, settings: Settings, warehouse: str, *, out: TextIO = sys.stdout,
                 clock: Callable[[], datetime] = lambda: datetime.now(UTC),
                 runner: Callable[[JobSettings, Settings, str], JobOutcome] = run_job):
        self.settings, self.warehouse = settings, warehouse
        self.jobs = settings.schedule.jobs
        self.zone = ZoneInfo(settings.schedule.timezone)
        self.out, self.clock, self.runner = out, clock, runner
        self.stop = threading.Event()
        self.runs = 0

    def next_time(self, job: JobSettings, after: datetime) -> datetime:
        from croniter import croniter

        return croniter(job.cron, after.astimezone(self.zone)).get_next(datetime).astimezone(UTC)

    def log(self, text: str) -> None:
        stamp = self.clock().strftime("%Y-%m-%d %H:%M:%S")
        for line in text.splitlines() or [""]:
            print(f"{stamp}Z {line}", file=self.out, flush=True)

    def run_forever(self, max_runs: int | None = None) -> int:
        if not self.jobs:
            raise CostwardenError("no [[schedule.jobs]] in the config: nothing to schedule. Add a job such as "
                                  'name = "nightly", cron = "0 5 * * *", command = "run".')
        due = {job.name: self.next_time(job, self.clock()) for job in self.jobs}
        for job in self.jobs:
            self.log(f"job {job.name} ({job.command}, cron '{job.cron}' {self.zone.key}): next at "
                     f"{due[job.name]:%Y-%m-%d %H:%M:%S} UTC")
        while not self.stop.is_set():
            job = min(self.jobs, key=lambda j: (due[j.name], j.name))
            wait = (due[job.name] - self.clock()).total_seconds()
            if wait > 0:
                self.stop.wait(min(wait, 60.0))   # wake at least every minute: clocks jump (suspend, NTP)
                continue
            self.log(f"job {job.name} started")
            started = time.perf_counter()
            outcome = self.runner(job, self.settings, self.warehouse)
            self.log(outcome.text)
            self.log(f"job {job.name} {'finished' if outcome.ok else 'FAILED'} in "
                     f"{time.perf_counter() - started:.1f}s")
            self.runs += 1
            due[job.name] = self.next_time(job, self.clock())
            if max_runs is not None and self.runs >= max_runs:
                break
        self.log("scheduler stopped")
        return 0

    def install_signal_handlers(self) -> None:
        def handle(signum, frame):
            if self.stop.is_set():
                raise KeyboardInterrupt   # second signal: abandon the current job (its transaction rolls back)
            self.stop.set()
            self.log(f"{signal.Signals(signum).name}: stopping after the current job (send again to abandon it)")

        signal.signal(signal.SIGTERM, handle)
        signal.signal(signal.SIGINT, handle)


def schedule(settings: Settings, warehouse: str, list_only: bool = False, max_runs: int | None = None) -> int:
    scheduler = Scheduler(settings, warehouse)
    if list_only:
        now = datetime.now(UTC)
        for job in settings.schedule.jobs:
            print(f"{job.name:20} {job.command:7} cron '{job.cron}' ({settings.schedule.timezone})  next "
                  f"{scheduler.next_time(job, now):%Y-%m-%d %H:%M:%S} UTC")
        return 0
    scheduler.install_signal_handlers()
    return scheduler.run_forever(max_runs)


def run_command(settings: Settings, warehouse: str, only: list[str] | None = None,
                skip: list[str] | None = None) -> int:
    """`costwarden run`: the pipeline with each step's summary printed as it finishes."""
    unknown = [s for s in (only or []) + (skip or []) if s not in PIPELINE_STEPS]
    if unknown:
        raise CostwardenError(f"unknown steps {unknown}; choose from {', '.join(PIPELINE_STEPS)}")
    steps = [s for s in PIPELINE_STEPS if (not only or s in only) and s not in (skip or [])]

    def show(result: StepResult) -> None:
        print(PipelineReport([result]).summary().rsplit("\n", 1)[0], flush=True)

    report = run_pipeline(settings, warehouse, steps, on_step=show)
    print(report.summary().rsplit("\n", 1)[1])
    return 0 if report.ok else 1
