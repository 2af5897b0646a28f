"""`costwarden run` and `costwarden schedule`: step chaining with missing and failing steps, the run lock, cron
firing, and clean shutdown of a real scheduler process on SIGTERM."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import time
import types
from datetime import UTC, datetime, timedelta

import pytest

from costwarden import jobs
from costwarden.config import Settings, load_settings
from costwarden.errors import CostwardenError
from costwarden.jobs import JobOutcome, RunInProgressError, Scheduler, run_lock, run_pipeline


def test_missing_step_is_skipped_failed_step_reported_and_the_rest_still_run(monkeypatch, warehouse):
    calls = []
    failing = types.ModuleType("cw_failing_step")

    def explode(settings, warehouse, now=None):
        calls.append("detect")
        raise CostwardenError("marts.allocated_cost is empty")

    failing.run = explode
    ok = types.ModuleType("cw_ok_step")
    ok.run = lambda settings, warehouse, now=None: calls.append("alerts") or types.SimpleNamespace(
        summary=lambda: "alerts: 0 events", ok=True)
    monkeypatch.setitem(sys.modules, "cw_failing_step", failing)
    monkeypatch.setitem(sys.modules, "cw_ok_step", ok)
    monkeypatch.setitem(jobs.ENTRY_POINTS, "detect", ("cw_failing_step", "run"))
    monkeypatch.setitem(jobs.ENTRY_POINTS, "forecast", ("cw_not_installed_anywhere.forecast", "run"))
    monkeypatch.setitem(jobs.ENTRY_POINTS, "alerts", ("cw_ok_step", "run"))
    report = run_pipeline(Settings(), warehouse, ["ingest", "detect", "forecast", "alerts"])
    assert [(s.step, s.status) for s in report.steps] == [
        ("ingest", "skipped"), ("detect", "failed"), ("forecast", "skipped"), ("alerts", "ok")]
    assert calls == ["detect", "alerts"] and not report.ok
    text = report.summary()
    assert "marts.allocated_cost is empty" in text and "cw_not_installed_anywhere.forecast is not installed" in text
    assert text.endswith("run finished with failures in detect")


def test_a_missing_dependency_inside_a_step_is_a_failure_not_a_skip(monkeypatch, warehouse):
    broken = types.ModuleType("cw_broken_step")

    def run(settings, warehouse, now=None):
        import cw_dependency_that_is_missing  # noqa: F401

    broken.run = run
    monkeypatch.setitem(sys.modules, "cw_broken_step", broken)
    monkeypatch.setitem(jobs.ENTRY_POINTS, "alerts", ("cw_broken_step", "run"))
    (step,) = run_pipeline(Settings(), warehouse, ["alerts"]).steps
    assert step.status == "failed" and "cw_dependency_that_is_missing" in step.summary


def test_run_lock_refuses_a_second_holder_and_names_the_first(warehouse):
    with run_lock(warehouse):
        with pytest.raises(RunInProgressError, match=f"pid {os.getpid()}"):
            with run_lock(warehouse):
                pass
    with run_lock(warehouse):        # released when the holder finished
        pass


def test_run_refuses_to_start_while_another_run_holds_the_lock(cli, warehouse):
    with run_lock(warehouse):
        code, out, err = cli("run", "--only", "alerts")
    assert code == 1 and "another costwarden run is in progress" in err


class FakeClock:
    def __init__(self, start: datetime):
        self.now = start

    def __call__(self) -> datetime:
        return self.now


def test_scheduler_fires_jobs_at_their_cron_times_one_at_a_time():
    settings = Settings.model_validate({"schedule": {"jobs": [
        {"name": "hourly", "cron": "15 * * * *", "command": "alerts"},
        {"name": "weekly", "cron": "0 7 * * 1", "command": "report"}]}})
    clock = FakeClock(datetime(2026, 11, 2, 5, 50, tzinfo=UTC))      # a Monday
    fired = []

    def runner(job, settings, warehouse):
        fired.append((job.name, clock.now))
        clock.now += timedelta(minutes=20)                            # the job takes 20 minutes
        return JobOutcome(True, "done")

    scheduler = Scheduler(settings, "w.duckdb", out=open(os.devnull, "w"), clock=clock, runner=runner)
    scheduler.stop.wait = lambda seconds: clock.__setattr__("now", clock.now + timedelta(seconds=seconds))
    scheduler.run_forever(max_runs=4)
    at = lambda h, m: datetime(2026, 11, 2, h, m, tzinfo=UTC)  # noqa: E731
    # 06:15 hourly; 07:00 weekly runs until 07:20, so 07:15 hourly runs late at 07:20 (once), then 08:15.
    assert fired == [("hourly", at(6, 15)), ("weekly", at(7, 0)), ("hourly", at(7, 20)), ("hourly", at(8, 15))]


def test_schedule_needs_jobs_and_validates_cron():
    with pytest.raises(CostwardenError, match="no \\[\\[schedule.jobs\\]\\]"):
        Scheduler(Settings(), "w.duckdb").run_forever()
    with pytest.raises(Exception, match="is not a cron expression"):
        Settings.model_validate({"schedule": {"jobs": [{"name": "x", "cron": "every day"}]}})


def _config(tmp_path, warehouse) -> str:
    path = tmp_path / "schedule.toml"
    path.write_text(textwrap.dedent(f"""
        warehouse = "{warehouse}"
        [[schedule.jobs]]
        name = "alerts-every-second"
        cron = "* * * * * */1"
        command = "alerts"
    """), encoding="utf-8")
    return str(path)


@pytest.mark.parametrize("hold_lock", [False, True])
def test_scheduler_process_runs_jobs_and_stops_cleanly_on_sigterm(tmp_path, warehouse, hold_lock):
    config = _config(tmp_path, warehouse)
    load_settings(config, environ={})
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    process = subprocess.Popen([sys.executable, "-m", "costwarden.cli", "--config", config, "schedule"],
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)
    try:
        with run_lock(warehouse) if hold_lock else _nothing():
            deadline = time.monotonic() + 60
            seen = ""
            while time.monotonic() < deadline:
                line = process.stdout.readline()
                seen += line
                if "job alerts-every-second finished" in line:
                    break
            process.send_signal(signal.SIGTERM)
            out, err = process.communicate(timeout=60)
    finally:
        if process.poll() is None:
            process.kill()
    seen += out
    assert process.returncode == 0, seen + err
    assert "job alerts-every-second finished" in seen and seen.rstrip().endswith("scheduler stopped")
    if hold_lock:
        assert "skipped: another costwarden run is in progress" in seen
    else:
        assert "alerts: 0 events" in seen


class _nothing:
    def __enter__(self):
        return None

    def __exit__(self, *exc):
        return False
