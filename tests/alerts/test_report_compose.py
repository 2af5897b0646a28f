"""Report composition is pure: a fixed ReportData gives the golden text, HTML and CSV; the email carries the chart
inline and the CSV and XLSX attached. UPDATE_GOLDEN=1 rewrites the golden files after review."""

from __future__ import annotations

import io
from datetime import date, timedelta
from decimal import Decimal
from email import message_from_string, policy

from alerts.reports import compose
from alerts.reports.chart import daily_spend_png
from alerts.reports.data import (AnomalyLine, BudgetLine, ForecastLine, Kpi, Mover, RecommendationLine, ReportData,
                                 period_bounds)
from tests.alerts.test_compose_golden import _check

START = date(2026, 10, 19)


def report() -> ReportData:
    daily = tuple((START + timedelta(days=i), "USD", Decimal("200.00") + i) for i in range(7))
    previous = tuple((START - timedelta(days=7 - i), "USD", Decimal("180.00")) for i in range(7))
    return ReportData(
        kind="finance", scope=(), period="weekly", start=START, end=START + timedelta(days=7),
        previous_start=START - timedelta(days=7),
        kpis=(Kpi("USD", Decimal("1421.00"), Decimal("1260.00"), 9000, 12_400_000, 8800),),
        daily=daily, previous_daily=previous, mover_dimension="team",
        movers=(Mover("product / growth", "USD", Decimal("310.50"), Decimal("120.25")),
                Mover("=cmd|' /C calc'!A0", "USD", Decimal("10"), Decimal("40"))),
        anomalies=(AnomalyLine("an-1", "department=product, team=growth", "spend", date(2026, 10, 20), None, "USD",
                               Decimal("190.25"), "critical", "volume: agent=campaign-writer"),),
        budgets=(BudgetLine("product-monthly", "department=product", date(2026, 10, 1), "USD", Decimal("5000"),
                            Decimal("3900"), Decimal("5200.40"), date(2026, 10, 25)),),
        forecasts=(ForecastLine("whole organisation", date(2026, 10, 1), date(2026, 10, 31), "USD",
                                Decimal("4500"), Decimal("6100.10"), Decimal("5900"), Decimal("6400"),
                                date(2026, 10, 25)),),
        recommendations=(RecommendationLine("rec-1", "routing", "task_type=classification",
                                            "claude-3-5-sonnet -> nova-micro", "USD", Decimal("812.40"), "low",
                                            "proposed"),),
        lines=((date(2026, 10, 19), "USD", "product", "growth", "campaign-writer", "claude-3-5-sonnet", "tokens",
                Decimal("12.3400000000"), Decimal("12.3400000000"), 40, 12000, 3000),
               (date(2026, 10, 19), "USD", "__idle__", "__idle__", None, None, "idle", Decimal("83.5"),
                Decimal("83.5"), 0, 0, 0)),
        notes=())


LINK = "https://costwarden.example.com/"


def test_text_html_and_csv_match_golden():
    data = report()
    _check("report_weekly.txt", compose.text(data, LINK))
    page = compose.html_page(data, LINK, "cid:" + compose.CHART_CID)
    _check("report_weekly.html", page)
    csv_text = compose.lines_csv(data)
    assert csv_text.count("\r\n") == 3                    # RFC 4180 line ends (the golden file stores \n)
    _check("report_weekly.csv", csv_text.replace("\r\n", "\n"))
    text = compose.text(data, LINK)
    assert "Spend (USD): $1,421.00" in text and "Change vs previous period: +$161.00 (+12.8%)" in text
    assert "Cost per request: $0.1579 (was $0.1432)" in text and "claude-3-5-sonnet -> nova-micro" in text
    assert "forecast $5,200.40 of $5,000.00 (104.0%)" in text


def test_email_has_text_html_inline_chart_csv_and_xlsx():
    from openpyxl import load_workbook

    data = report()
    png = daily_spend_png(data)
    eml = compose.email(data, "finops@acme.example", "costwarden@acme.example", "cw-report-1", LINK, png,
                        compose.workbook(data))
    mail = message_from_string(eml, policy=policy.default)
    assert mail["Subject"] == "[costwarden] Weekly cost report: whole organisation (2026-10-19 to 2026-10-25)"
    html_part = mail.get_body(("html",))
    assert f'src="cid:{compose.CHART_CID}"' in html_part.get_content()
    (image,) = [p for p in mail.walk() if p.get_content_type() == "image/png"]
    assert image["Content-ID"] == f"<{compose.CHART_CID}>" and image.get_content()[:8] == b"\x89PNG\r\n\x1a\n"
    attachments = {a.get_filename(): a for a in mail.iter_attachments()}
    assert set(attachments) == {f"{data.slug}.csv", f"{data.slug}.xlsx"}
    book = load_workbook(io.BytesIO(attachments[f"{data.slug}.xlsx"].get_content()))
    assert book.sheetnames == ["Summary", "Movers", "Anomalies", "Recommendations", "Cost lines"]
    lines = list(book["Cost lines"].iter_rows(values_only=True))
    assert lines[1][7] == 12.34 and lines[2][2] == "__idle__"
    movers = list(book["Movers"].iter_rows(values_only=True))
    assert movers[2][0] == "'=cmd|' /C calc'!A0"         # a name that looks like a formula stays text
    eml.encode("ascii")


def test_chart_is_a_png_of_the_expected_size():
    from PIL import Image

    image = Image.open(io.BytesIO(daily_spend_png(report())))
    assert image.format == "PNG" and image.size == (800, 300)


def test_periods_are_the_last_complete_week_or_month_of_data():
    assert period_bounds("weekly", date(2026, 10, 31)) == (date(2026, 10, 19), date(2026, 10, 26), date(2026, 10, 12))
    assert period_bounds("weekly", date(2026, 11, 1)) == (date(2026, 10, 26), date(2026, 11, 2), date(2026, 10, 19))
    assert period_bounds("monthly", date(2026, 10, 31)) == (date(2026, 10, 1), date(2026, 11, 1), date(2026, 9, 1))
    assert period_bounds("monthly", date(2026, 10, 30)) == (date(2026, 9, 1), date(2026, 10, 1), date(2026, 8, 1))
    assert period_bounds("monthly", date(2026, 1, 5), as_of=date(2026, 1, 1)) == (
        date(2025, 12, 1), date(2026, 1, 1), date(2025, 11, 1))
