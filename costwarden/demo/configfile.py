"""Writes `costwarden.demo.toml`: the demo's sources, org rules, teams and price entries, as a user would.

The demo ingests through this file (config.load_settings + runner.ingest_configured), so it doubles as a worked
example of a real configuration.
"""

from __future__ import annotations

import json
from datetime import date
from decimal import Decimal
from pathlib import Path

from costwarden.demo.company import PROVISIONED_MODEL_ARN, AGENTS, TEAM_DEPARTMENT, team_owner, team_role
from dashboard import demo_users

CONFIG_NAME = "costwarden.demo.toml"
SOURCE_PREFIX = "demo-"          # every demo source name starts with it (run.py uses it to spot demo warehouses)


def _value(value) -> str:
    if isinstance(value, list):
        return "[" + ", ".join(_value(v) for v in value) + "]"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, Decimal)):
        return format(value, "f") if isinstance(value, Decimal) else str(value)
    if isinstance(value, date):
        return value.isoformat()
    return json.dumps(str(value))   # a JSON string is a valid TOML basic string


def _table(name: str, entries: dict, comment: str = "") -> list[str]:
    lines = [f"# {comment}"] if comment else []
    lines.append(f"[[{name}]]")
    lines += [f"{k} = {_value(v)}" for k, v in entries.items()]
    return lines + [""]


def org_rules() -> list[dict]:
    """IAM role per team first; then the legacy team name some agents still send; then agent names."""
    rules = [{"match": "iam_role", "pattern": f"arn:aws:iam::*:role/{team_role(team)}", "team": team,
              "department": dept, "environment": "prod", "priority": 10}
             for team, dept in TEAM_DEPARTMENT.items()]
    rules.append({"match": "metadata", "key": "team", "pattern": "cust-support", "team": "support-automation",
                  "department": TEAM_DEPARTMENT["support-automation"], "environment": "prod", "priority": 20})
    rules += [{"match": "agent", "pattern": a.name, "team": a.team, "department": TEAM_DEPARTMENT[a.team],
               "environment": "prod", "priority": 30} for a in AGENTS]
    rules += [{"match": "tag", "key": "user_team", "pattern": team, "team": team, "department": dept,
               "environment": "prod", "priority": 40} for team, dept in TEAM_DEPARTMENT.items()]
    return rules


# What the demo's provisioned-throughput unit could serve in an hour (one model unit, in tokens).
PROVISIONED_TOKENS_PER_HOUR = 200_000


# Budgets per unit of --scale (amounts are token-driven spend, which grows with traffic), sized against the demo's
# incidents: growth's August backfill (INC-001) pushes its forecast past 80%; fraud-explainer's model rollout
# (INC-005) exhausts its monthly budget in September and October; product's quarter shows a quarterly budget.
DEMO_BUDGETS = (
    {"name": "growth-monthly", "scope": "team:growth", "period": "monthly", "per_scale": Decimal(210)},
    {"name": "fraud-explainer-monthly", "scope": "agent:fraud-explainer", "period": "monthly",
     "per_scale": Decimal(50)},
    {"name": "product-quarterly", "scope": "department:product", "period": "quarterly", "per_scale": Decimal(3000)},
)


def demo_budgets(scale: float) -> list[dict]:
    budgets = []
    for spec in DEMO_BUDGETS:
        amount = (spec["per_scale"] * Decimal(str(scale))).quantize(Decimal("0.01"))
        budgets.append({"name": spec["name"], "scope": spec["scope"], "period": spec["period"],
                        "amount": amount, "currency": "USD"})
    return budgets


def _thresholds() -> list[str]:
    return ["thresholds = [50, 80, 100]", "forecast_thresholds = [80, 100]"]


# The default $ gate (models/anomaly/settings.py) is for the full-size demo company; at --scale 0.1 the company is
# ten times smaller, every $ impact is ten times smaller, and so is its gate. The % gates do not scale.
DEMO_MIN_IMPACT_USD_PER_SCALE = Decimal(25)


def anomaly_section(w, scale: float = 1.0) -> list[str]:
    """[anomaly]: the $ gate sized to the demo's --scale, and the demo's one planned event, the fine-tuning run that
    keeps applied-research's GPU box busy (billing.py); spend it moves is expected, so it must not page. The calendar
    and the other gates stay at their defaults."""
    start = w.at(0.2)
    end = start + (w.stop - w.start) / 12
    gate = (DEMO_MIN_IMPACT_USD_PER_SCALE * Decimal(str(scale))).quantize(Decimal("0.01"))
    lines = ["[anomaly]", "# defaults for calendar and series; see costwarden.example.toml",
             "# the $ alert gate scales with the demo's --scale (a 10x smaller company has a 10x smaller gate)",
             f"min_impact_usd = {gate}", ""]
    for scope in ("spend|day|all", "spend|day|*research*"):
        lines += _table("anomaly.planned_events", {
            "name": "fine-tuning-run", "scope": scope, "start": start.isoformat() + "Z",
            "end": end.isoformat() + "Z"}, "a planned fine-tuning run on the GPU box" if scope.endswith("all") else "")
    return lines


def write_config(path: Path, *, warehouse: str, sources: list[dict], prices: list[dict], endpoint_url: str,
                 header: str, hash_salt_env: str, scale: float = 1.0, window=None) -> Path:
    lines = [f"# {header}", "# Use it with `costwarden --config <this file> ...`.", "",
             f"warehouse = {_value(warehouse)}", f"hash_salt_env = {_value(hash_salt_env)}", ""]
    if endpoint_url:
        lines += ["[s3]", "# the demo's temporary local S3 server: it stops when `costwarden demo` exits",
                  f"endpoint_url = {_value(endpoint_url)}", 'region = "us-east-1"', ""]
    for source in sources:
        lines += _table("sources", source)
    for i, rule in enumerate(org_rules()):
        lines += _table("org_rules", rule, "org mapping: first match by priority wins" if i == 0 else "")
    for team, dept in TEAM_DEPARTMENT.items():
        lines += _table("teams", {"team": team, "department": dept, "owner_email": team_owner(team)})
    lines += _table("capacity", {
        "name": "content-moderation-pt", "resource_id": PROVISIONED_MODEL_ARN, "serves_model": PROVISIONED_MODEL_ARN,
        "split_by": "tokens", "capacity_per_hour": PROVISIONED_TOKENS_PER_HOUR, "idle_policy": "central"},
        "hourly provisioned throughput: split by tokens used, the unused share stays visible as __idle__")
    for name, match, pattern in (("aws-support", "service_code", "AWSSupport*"), ("tax", "charge_category", "Tax")):
        lines += _table("shared_costs", {"name": name, "match": match, "pattern": pattern, "method": "proportional"},
                        "overhead split in proportion to each team's GenAI spend" if name == "aws-support" else "")
    for entry in prices:
        why = ("price change (demo incident)" if entry["effective_from"] > date(2000, 1, 1)
               else "list price the shipped price book lacks")
        lines += _table("prices", entry, why)
    for i, budget in enumerate(demo_budgets(scale)):
        lines += _table("budgets", budget, "budgets: thresholds (% of amount) fire once per period on actual and "
                        "on forecast spend" if i == 0 else "")[:-1] + _thresholds() + [""]
    if window is not None:
        lines += anomaly_section(window, scale)
    lines += alert_lines() + schedule_lines()
    lines += demo_users.config_lines()
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("\n".join(lines), encoding="utf-8")
    return path


# Alert channels point at a local Slack-compatible listener and SMTP server (tests/alerts/servers.py runs both);
# their URLs and the SMTP password come from these environment variables, never from this file.
DEMO_SMTP_PORT = 2525
ALERT_ENV = {"slack": "COSTWARDEN_DEMO_SLACK_URL", "webhook": "COSTWARDEN_DEMO_WEBHOOK_URL",
             "smtp_password": "COSTWARDEN_DEMO_SMTP_PASSWORD"}


def alert_lines() -> list[str]:
    lines = ["# Alerts: team leads by email for their own scope, finance on Slack, platform health on a webhook.",
             "[alerts]", 'dashboard_url = "http://localhost:8501"',
             "# the demo is a backfill of 120 days: its incidents are alerted once, old as they are",
             "lookback_days = 120", "",
             "[alerts.latency]", "# the demo's traffic is small: judge days with at least 20 requests",
             "min_requests = 20", "",
             "# Claude 3.5 Sonnet streams long answers: its p99 is routinely ~8x its p50 in this company",
             "[[alerts.latency.models]]", 'model = "anthropic.claude-3-5-sonnet-20241022-v2:0"', "max_jitter = 12",
             "",
             "[alerts.reports]", 'channel = "demo-mail"', 'finance_recipients = ["finops@acme.example"]', ""]
    lines += _table("alerts.channels", {"name": "demo-slack", "kind": "slack", "url_env": ALERT_ENV["slack"]})
    lines += _table("alerts.channels", {"name": "demo-platform", "kind": "webhook", "url_env": ALERT_ENV["webhook"]})
    lines += _table("alerts.channels", {
        "name": "demo-mail", "kind": "email", "smtp_host": "127.0.0.1", "smtp_port": DEMO_SMTP_PORT,
        "smtp_security": "none", "smtp_username": "costwarden", "password_env": ALERT_ENV["smtp_password"],
        "from_address": "costwarden@acme.example"})
    lines += _table("alerts.subscriptions", {
        "name": "team-leads", "role": "team_lead", "channel": "demo-mail", "events": ["anomaly", "budget"],
        "frequency": "immediate", "min_severity": "warning"}, "each team's owner, for their own team")
    lines += _table("alerts.subscriptions", {
        "name": "finops", "role": "finance", "channel": "demo-slack", "events": ["anomaly", "budget"],
        "frequency": "immediate", "min_severity": "warning"})
    lines += _table("alerts.subscriptions", {
        "name": "platform-health", "role": "platform", "channel": "demo-platform",
        "events": ["data_health", "latency"], "frequency": "immediate", "min_severity": "warning"})
    return lines


def schedule_lines() -> list[str]:
    lines = ["# `costwarden schedule`: the pipeline nightly, alerts hourly, reports on Monday and the 1st.",
             "[schedule]", 'timezone = "UTC"', ""]
    for job in ({"name": "nightly", "cron": "0 5 * * *", "command": "run"},
                {"name": "alerts-hourly", "cron": "15 * * * *", "command": "alerts"},
                {"name": "weekly-reports", "cron": "0 7 * * 1", "command": "report", "period": "weekly",
                 "per_department": True},
                {"name": "monthly-finance", "cron": "0 7 1 * *", "command": "report", "period": "monthly",
                 "per_department": False}):
        lines += _table("schedule.jobs", job)
    return lines
