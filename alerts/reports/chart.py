"""The report's chart: daily spend this period (bars) against the same day of the previous period (line), as
PNG bytes. matplotlib with the headless Agg backend; no browser, no display."""

from __future__ import annotations

import io
from collections import defaultdict
from datetime import timedelta

from alerts.reports.data import ReportData


def daily_spend_png(data: ReportData) -> bytes:
    import matplotlib

    matplotlib.use("Agg")               # headless: no display on servers and in CronJobs
    from matplotlib import pyplot as plt

    currency = data.kpis[0].currency if data.kpis else "USD"
    current = [(day, float(v)) for day, cur, v in data.daily if cur == currency]
    previous = defaultdict(float)
    for day, cur, v in data.previous_daily:
        if cur == currency:
            previous[(day - data.previous_start).days] += float(v)
    figure, axes = plt.subplots(figsize=(8, 3), dpi=100)
    try:
        days = [(day - data.start).days for day, _ in current]
        axes.bar(days, [v for _, v in current], color="#2563eb", label="this period")
        span = (data.end - data.start).days
        offsets = sorted(i for i in previous if i < span)    # a 30-day month before a 31-day one ends early
        axes.plot(offsets, [previous[i] for i in offsets], color="#9ca3af", linestyle="--",
                  marker="o", markersize=3, label="previous period")
        step = 1 if span <= 10 else 5
        ticks = list(range(0, span, step))
        axes.set_xticks(ticks, [(data.start + timedelta(days=i)).strftime("%m-%d") for i in ticks])
        axes.set_ylabel(f"spend ({currency})")
        axes.set_title(f"Daily spend, {data.scope_text}")
        axes.legend(loc="upper right", fontsize="small", frameon=False)
        axes.spines[["top", "right"]].set_visible(False)
        figure.tight_layout()
        buffer = io.BytesIO()
        figure.savefig(buffer, format="png", metadata={"Software": None})
        return buffer.getvalue()
    finally:
        plt.close(figure)
