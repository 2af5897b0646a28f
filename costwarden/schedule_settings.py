"""The `[schedule]` settings: which jobs `costwarden schedule` runs, on which cron expressions."""

from __future__ import annotations

from typing import Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

PIPELINE_STEPS = ("ingest", "build", "detect", "forecast", "recommend", "alerts")


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class JobSettings(_Strict):
    # Name shown in the scheduler's log lines.
    name: str = Field(min_length=1)
    # Cron expression: minute hour day-of-month month day-of-week (e.g. "15 * * * *" hourly at :15,
    # "0 7 * * 1" Mondays 07:00). A sixth field is seconds (croniter's extension).
    cron: str
    # run: the pipeline (`costwarden run`); alerts: events and delivery only; report: the scheduled cost reports.
    command: Literal["run", "alerts", "report"] = "run"
    # run: the steps to run (ingest, build, detect, forecast, recommend, alerts); empty = all of them.
    steps: list[str] = Field(default_factory=list)
    # report: weekly or monthly (the last complete week or month of data).
    period: Literal["weekly", "monthly"] = "weekly"
    # report: besides the finance report, one report per department (to the department's team owners).
    per_department: bool = True

    @field_validator("cron")
    @classmethod
    def _cron_is_valid(cls, value: str) -> str:
        from croniter import croniter

        if not croniter.is_valid(value):
            raise ValueError(f"'{value}' is not a cron expression (minute hour day month weekday, e.g. '0 6 * * *')")
        return value

    @field_validator("steps")
    @classmethod
    def _steps_are_known(cls, value: list[str]) -> list[str]:
        unknown = [s for s in value if s not in PIPELINE_STEPS]
        if unknown:
            raise ValueError(f"unknown steps {unknown}; choose from {', '.join(PIPELINE_STEPS)}")
        return value


class ScheduleSettings(_Strict):
    # Time zone the cron expressions are read in (IANA name, e.g. "Europe/Berlin", "Asia/Shanghai").
    timezone: str = "UTC"
    jobs: list[JobSettings] = Field(default_factory=list)

    @field_validator("timezone")
    @classmethod
    def _zone_exists(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError(f"unknown time zone '{value}' (use an IANA name such as UTC or Europe/Paris)") from None
        return value

    @model_validator(mode="after")
    def _names_unique(self) -> "ScheduleSettings":
        names = [j.name for j in self.jobs]
        if len(set(names)) != len(names):
            raise ValueError("[[schedule.jobs]] names must be unique")
        return self
