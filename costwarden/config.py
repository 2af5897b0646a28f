"""Typed settings: one object, read from a TOML file, with environment variables on top.

Precedence: command-line flags > environment (COSTWARDEN_*) > config file > defaults. Secrets (database URLs with
passwords, webhook URLs, SMTP passwords, the hashing salt) are never read from the file: a setting that needs one
names the environment variable that holds it (`*_env` fields), so the file can be committed.
"""

from __future__ import annotations

import os
import tomllib
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from alerts.settings import AlertSettings
from dashboard.settings import DashboardSettings
from costwarden.errors import ConfigError
from costwarden.schedule_settings import ScheduleSettings
from models.attribution.fx import FxRate
from models.anomaly.settings import AnomalySettings
from models.attribution.settings import CapacityRule, SharedCostRule
from models.forecast.settings import Budgets
from models.recommend.settings import RecommendSettings

DEFAULT_WAREHOUSE = "costwarden.duckdb"


class _Strict(BaseModel):
    # A typo in the config file is an error, not a silently ignored key.
    model_config = ConfigDict(extra="forbid")


class IngestSettings(_Strict):
    # What to do with a request whose model is not in the price book: "flag" loads it and counts it as unpriced
    # (visible in `costwarden loads` and data health); "quarantine" refuses the row with a reason.
    unknown_models: Literal["flag", "quarantine"] = "flag"
    # Line-format files are parsed in batches of about this many uncompressed bytes, which bounds memory.
    batch_bytes: int = Field(default=64 * 1024 * 1024, gt=0)
    # DuckDB memory limit during loads; beyond it DuckDB spills to a temp folder beside the warehouse.
    memory_limit: str = "2GB"
    # DuckDB worker threads (0 = one per core).
    threads: int = Field(default=0, ge=0)


class BuildSettings(_Strict):
    # DuckDB memory limit while `costwarden build` runs (it spills to disk beyond it). The build is one transaction
    # holding every table it rewrites, so it needs more than a load: a full build of 5M requests peaked at 4.0 GB
    # with "3.5GB" and ran out of memory with 2GB (docs/performance.md).
    memory_limit: str = "3.5GB"
    # DuckDB worker threads (0 = one per core).
    threads: int = Field(default=0, ge=0)


class S3Settings(_Strict):
    # For MinIO, moto or another S3-compatible store; empty means AWS itself. Credentials come from the standard
    # boto3 chain (AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY / AWS_PROFILE / instance role), never from this file.
    endpoint_url: str = ""
    region: str = "us-east-1"


class SourceSettings(_Strict):
    # A name for this source, shown in load summaries.
    name: str
    # A local file or folder, an s3://bucket/prefix, or (format litellm_db) the name of an environment variable
    # holding a SQLAlchemy URL, written as env:VARIABLE_NAME.
    uri: str
    # One of: cur2, cur_legacy, focus, bedrock, litellm, litellm_db, otel, generic. Empty: detected.
    format: str = ""
    # For format "generic": which column of the file holds each request field (field -> column name).
    column_map: dict[str, str] = Field(default_factory=dict)
    # For format "generic": provider of the logged requests when the file has no provider column.
    provider: str = ""
    # Token semantics of the source's input count: true when it INCLUDES cached tokens (OpenAI, OpenTelemetry,
    # most gateways), false when cache reads/writes are separate counters (Bedrock, Anthropic). Empty: the
    # format's default (true for generic and otel).
    input_includes_cache: bool | None = None


class OrgRule(_Strict):
    # Virtual tags: the first matching rule (lowest priority number) sets team, department and environment.
    # match: what to compare. principal (exact identity, compared after hashing), api_key (hash), iam_role (role or
    # user ARN with the session stripped), metadata (request metadata key), tag (cost-line tag key), account.
    match: Literal["principal", "api_key", "iam_role", "metadata", "tag", "account", "agent", "application"]
    # For metadata and tag rules: the key to look at.
    key: str = ""
    # Glob pattern (* and ?) the value must match.
    pattern: str
    team: str = ""
    department: str = ""
    environment: str = ""
    priority: int = 100


class PriceOverride(_Strict):
    # Contracted prices, discounts and models the shipped price book lacks. Effective from a date (inclusive).
    provider: str
    model: str
    region: str = "*"
    token_type: Literal["input", "output", "cache_read", "cache_write", "batch_input", "batch_output"]
    usd_per_million_tokens: Decimal | None = None
    # A percentage off the shipped price (e.g. 12.5); used when usd_per_million_tokens is not given.
    discount_pct: Decimal | None = None
    effective_from: date = date(2000, 1, 1)


class OrgUnit(_Strict):
    # Team -> department and owner, used for routing alerts and scoping dashboard sign-ins.
    team: str
    department: str
    owner_email: str = ""


class Settings(_Strict):
    # Path of the DuckDB warehouse file.
    warehouse: str = DEFAULT_WAREHOUSE
    # Currency reports are converted into (billing currencies are always kept as they are).
    reporting_currency: str = "USD"
    # Name of the environment variable holding the salt for hashing user identities and API keys. When unset, a
    # built-in salt is used and `costwarden loads` warns that hashes are guessable.
    hash_salt_env: str = "COSTWARDEN_HASH_SALT"
    ingest: IngestSettings = Field(default_factory=IngestSettings)
    # `costwarden build`: DuckDB memory and threads (see [build]).
    build: BuildSettings = Field(default_factory=BuildSettings)
    s3: S3Settings = Field(default_factory=S3Settings)
    sources: list[SourceSettings] = Field(default_factory=list)
    org_rules: list[OrgRule] = Field(default_factory=list)
    teams: list[OrgUnit] = Field(default_factory=list)
    prices: list[PriceOverride] = Field(default_factory=list)
    # Hourly-billed shared capacity (provisioned throughput, endpoints, GPU instances) and how to split it.
    capacity: list[CapacityRule] = Field(default_factory=list)
    # Shared overhead (support, tax, non-AI services) and how to split it across teams.
    shared_costs: list[SharedCostRule] = Field(default_factory=list)
    # Effective-dated exchange rates into the reporting currency (marts.allocated_cost_reporting).
    fx_rates: list[FxRate] = Field(default_factory=list)
    # Alerts: channels, subscriptions, cooldown, grouping and delivery retries (see [alerts]).
    alerts: AlertSettings = Field(default_factory=AlertSettings)
    # `costwarden schedule`: jobs (pipeline runs, alerts, reports) on cron expressions (see [schedule]).
    schedule: ScheduleSettings = Field(default_factory=ScheduleSettings)
    # Spending limits per scope and month or quarter, with thresholds on actual and forecast spend.
    budgets: Budgets = Field(default_factory=list)
    # Anomaly detection on the warehouse's series: calendar, minimum history, series, alert gates (see [anomaly]).
    anomaly: AnomalySettings = Field(default_factory=AnomalySettings)
    # Recommendations: quality tolerance, evidence, latency SLOs, batch/cache/capacity assumptions (see [recommend]).
    recommend: RecommendSettings = Field(default_factory=RecommendSettings)
    # Dashboard sign-in, roles and scopes, snapshots and write-backs (see [dashboard]).
    dashboard: DashboardSettings = Field(default_factory=DashboardSettings)

    @field_validator("reporting_currency")
    @classmethod
    def _currency_is_iso(cls, value: str) -> str:
        if len(value) != 3 or not value.isalpha():
            raise ValueError("must be a three-letter ISO 4217 code such as USD or CNY")
        return value.upper()


# Environment variables that override file settings (COSTWARDEN_<SECTION>__<KEY> for nested ones).
_ENV_PREFIX = "COSTWARDEN_"


def _env_overrides(environ: dict[str, str]) -> dict:
    overrides: dict = {}
    for name, value in environ.items():
        if not name.startswith(_ENV_PREFIX):
            continue
        path = name[len(_ENV_PREFIX):].lower().split("__")
        # Only names of settings count (COSTWARDEN_HASH_SALT, COSTWARDEN_CONFIG, ... are not settings).
        if path[0] not in Settings.model_fields or path[0] in {"sources", "org_rules", "teams", "prices", "capacity",
                                                                 "shared_costs", "fx_rates", "budgets"}:
            continue
        target = overrides
        for part in path[:-1]:
            target = target.setdefault(part, {})
        target[path[-1]] = value
    return overrides


def _merge(base: dict, top: dict) -> dict:
    merged = dict(base)
    for key, value in top.items():
        if isinstance(value, dict) and isinstance(merged.get(key), dict):
            merged[key] = _merge(merged[key], value)
        else:
            merged[key] = value
    return merged


def load_settings(config_file: str | os.PathLike | None = None, environ: dict[str, str] | None = None) -> Settings:
    """Read the config file (if any), apply environment overrides, and validate."""
    environ = dict(os.environ if environ is None else environ)
    config_file = config_file or environ.get("COSTWARDEN_CONFIG")
    data: dict = {}
    if config_file:
        path = Path(config_file)
        if not path.is_file():
            raise ConfigError(f"config file {path} does not exist. Copy costwarden.example.toml and edit it, "
                              "or leave out --config / COSTWARDEN_CONFIG to use the defaults.")
        try:
            data = tomllib.loads(path.read_text(encoding="utf-8"))
        except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
            raise ConfigError(f"config file {path} is not valid TOML: {exc}") from None
    data = _merge(data, _env_overrides(environ))
    try:
        return Settings.model_validate(data)
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(p) for p in first["loc"])
        origin = f"config file {config_file}" if config_file else "the environment"
        raise ConfigError(f"setting '{where}' in {origin}: {first['msg']}"
                          f" (see costwarden.example.toml for every setting)") from None


def secret_from_env(variable: str, what: str, environ: dict[str, str] | None = None) -> str:
    """A secret named by the config, read only from the environment; the error never echoes a value."""
    environ = os.environ if environ is None else environ
    value = environ.get(variable, "")
    if not value:
        raise ConfigError(f"{what} needs the environment variable {variable}; it is not set.")
    return value
