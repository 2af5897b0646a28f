"""Every user-visible word of an alert, per language, and how numbers and times are written.

Adding a language means adding one dict here; compose code never contains literal prose.
"""

from __future__ import annotations

from datetime import date, datetime
from decimal import ROUND_HALF_UP, Decimal

CATALOGUE: dict[str, dict[str, str]] = {
    "en": {
        "anomaly.opened": "Cost anomaly: {scope}",
        "anomaly.escalated": "Cost anomaly escalated to {severity}: {scope}",
        "anomaly.resolved": "Cost anomaly resolved: {scope}",
        "budget.actual": "Budget {threshold} reached: {scope} ({period})",
        "budget.forecast": "Budget {threshold} forecast to be reached: {scope} ({period})",
        "data_health.ingest_stale": "Data health: no new data from {subject}",
        "data_health.unpriced_models": "Data health: models without a price ({subject})",
        "data_health.unallocated_share": "Data health: unallocated cost above threshold ({subject})",
        "data_health.quarantined_rows": "Data health: rows quarantined ({subject})",
        "latency.jitter": "Latency jitter above SLO: {scope}",
        "group": "{count} alerts with one cause: {cause}",
        "group_thread": "{title} (and {count} earlier)",
        "update": "Update: {title}",
        "update_intro": "Update to an alert sent earlier; this is not a new page.",
        "group_intro": "{count} events share one root cause and are sent as one message.",
        "digest.daily": "Daily alert digest for {start}",
        "digest.weekly": "Weekly alert digest for {start} to {last}",
        "digest_intro": "{count} alerts in this period. The attached CSV lists every one.",
        "more": "…and {count} more; see the dashboard.",
        "open_dashboard": "Open in dashboard",
        "scope": "Scope", "series": "Series", "actual_vs_expected": "Actual vs expected",
        "impact": "Impact", "severity": "Severity", "started": "Started", "ended": "Ended", "root_cause": "Root cause",
        "drivers": "Top drivers",
        "period": "Period", "spend_actual": "Spent", "spend_forecast": "Forecast spend", "threshold": "Threshold",
        "runway": "Budget runs out", "check": "Check", "subject": "Subject", "value": "Value",
        "details": "Details", "provider": "Provider", "jitter": "Jitter (p99 / p50)", "window": "Window",
        "latency": "Latency p50 / p99", "requests": "Requests",
        "of_budget": "{amount} of {budget} ({pct})", "vs": "{actual} vs {expected}",
        "value_vs_threshold": "{value} (threshold {threshold})", "jitter_vs_slo": "{jitter} (SLO {slo})",
        "all_scope": "whole organisation", "idempotency": "Alert id",
        "info": "info", "warning": "warning", "critical": "critical",
        "hours": "{n} h", "models": "{n} models", "rows": "{n} rows", "percent": "{n}%",
    },
    "zh": {
        "anomaly.opened": "成本异常：{scope}",
        "anomaly.escalated": "成本异常升级为{severity}：{scope}",
        "anomaly.resolved": "成本异常已恢复：{scope}",
        "budget.actual": "预算已达 {threshold}：{scope}（{period}）",
        "budget.forecast": "预测预算将达 {threshold}：{scope}（{period}）",
        "data_health.ingest_stale": "数据健康：{subject} 无新数据",
        "data_health.unpriced_models": "数据健康：模型缺少价格（{subject}）",
        "data_health.unallocated_share": "数据健康：未分摊成本超过阈值（{subject}）",
        "data_health.quarantined_rows": "数据健康：有行被隔离（{subject}）",
        "latency.jitter": "延迟抖动超过 SLO：{scope}",
        "group": "{count} 条告警，同一原因：{cause}",
        "group_thread": "{title}（另有 {count} 条）",
        "update": "更新：{title}",
        "update_intro": "这是对之前告警的更新，不是新的告警。",
        "group_intro": "{count} 个事件有同一根因，合并为一条消息。",
        "digest.daily": "每日告警摘要：{start}",
        "digest.weekly": "每周告警摘要：{start} 至 {last}",
        "digest_intro": "本期共 {count} 条告警。附件 CSV 列出全部。",
        "more": "……另有 {count} 条，请查看仪表板。",
        "open_dashboard": "在仪表板中查看",
        "scope": "范围", "series": "指标", "actual_vs_expected": "实际 vs 预期",
        "impact": "影响", "severity": "级别", "started": "开始时间", "ended": "结束时间", "root_cause": "根因",
        "drivers": "主要因素",
        "period": "周期", "spend_actual": "已支出", "spend_forecast": "预测支出", "threshold": "阈值",
        "runway": "预算耗尽日期", "check": "检查项", "subject": "对象", "value": "数值",
        "details": "详情", "provider": "提供商", "jitter": "抖动（p99 / p50）", "window": "时间窗口",
        "latency": "延迟 p50 / p99", "requests": "请求数",
        "of_budget": "{amount} / {budget}（{pct}）", "vs": "{actual} vs {expected}",
        "value_vs_threshold": "{value}（阈值 {threshold}）", "jitter_vs_slo": "{jitter}（SLO {slo}）",
        "all_scope": "全组织", "idempotency": "告警 ID",
        "info": "提示", "warning": "警告", "critical": "严重",
        "hours": "{n} 小时", "models": "{n} 个模型", "rows": "{n} 行", "percent": "{n}%",
    },
}


def t(lang: str, key: str, **values: object) -> str:
    """The text for `key` in `lang` (English when a language lacks it), with values filled in."""
    template = CATALOGUE.get(lang, {}).get(key) or CATALOGUE["en"][key]
    return template.format(**values)


def usd(amount: Decimal, signed: bool = False) -> str:
    cents = amount.quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)
    sign = ("+" if cents > 0 else "-" if cents < 0 else "") if signed else ("-" if cents < 0 else "")
    return f"{sign}${abs(cents):,.2f}"


def pct(value: Decimal, signed: bool = False) -> str:
    rounded = value.quantize(Decimal("0.1"), rounding=ROUND_HALF_UP)
    sign = "+" if signed and rounded > 0 else ""
    return f"{sign}{rounded}%"


def number(value: Decimal) -> str:
    """Whole numbers without decimals, others with one."""
    if value == value.to_integral_value():
        return f"{int(value):,}"
    return f"{value.quantize(Decimal('0.1'), rounding=ROUND_HALF_UP):,}"


def when(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%d %H:%M UTC")


def day(value: date) -> str:
    return value.isoformat()
