"""A ReportData as text, HTML, CSV, XLSX and a complete email. Pure functions: no clock, no warehouse.

The email is multipart/mixed: an alternative of plain text and HTML, the HTML with the chart inline (a related
image/png part referenced as cid:), then the CSV and XLSX attachments. Boundaries and the Message-ID are derived
from the report, so the same report to the same person is the same message (resends are recognisable).
"""

from __future__ import annotations

import csv
import html
import io
from datetime import date
from decimal import Decimal
from email.message import EmailMessage
from email.utils import format_datetime
from datetime import datetime, time, UTC

from alerts.compose_email import SUBJECT_PREFIX, _cell, mail_id
from alerts.reports.data import LINE_COLUMNS, ReportData
from alerts.strings import pct, usd

CHART_CID = "daily-spend@costwarden"
XLSX_TYPE = ("application", "vnd.openxmlformats-officedocument.spreadsheetml.sheet")


def money(amount: Decimal | None, currency: str, signed: bool = False) -> str:
    if amount is None:
        return "n/a"
    if currency == "USD":
        return usd(amount, signed)
    sign = "+" if signed and amount > 0 else ""
    return f"{sign}{amount:,.2f} {currency}"


def unit_money(amount: Decimal | None, currency: str) -> str:
    if amount is None:
        return "n/a"
    return f"${amount:,.4f}" if currency == "USD" else f"{amount:,.4f} {currency}"


def title(data: ReportData) -> str:
    when = (f"{data.start:%Y-%m}" if data.period == "monthly"
            else f"{data.start.isoformat()} to {data.last_day.isoformat()}")
    return f"{data.period.capitalize()} cost report: {data.scope_text} ({when})"


def kpi_rows(data: ReportData) -> list[tuple[str, str]]:
    rows = []
    for k in data.kpis:
        change = money(k.change, k.currency, signed=True) + (f" ({pct(k.change_pct, signed=True)})"
                                                             if k.change_pct is not None else "")
        rows += [(f"Spend ({k.currency})", money(k.spend, k.currency)),
                 ("Change vs previous period", change),
                 ("Previous period", money(k.previous, k.currency)),
                 ("Requests", f"{k.requests:,}"),
                 ("Cost per request", unit_money(k.cost_per_request, k.currency)
                  + (f" (was {unit_money(k.previous_cost_per_request, k.currency)})"
                     if k.previous_cost_per_request is not None else "")),
                 ("Cost per 1k tokens", unit_money(k.cost_per_1k_tokens, k.currency))]
    for f in data.forecasts:
        rows.append((f"Forecast {f.period_start:%Y-%m} ({f.currency})",
                     f"{money(f.forecast, f.currency)} (80%: {money(f.lower_80, f.currency)} - "
                     f"{money(f.upper_80, f.currency)}; as of {f.as_of.isoformat()})"))
    for b in data.budgets:
        basis = b.forecast if b.forecast is not None else b.actual
        share = pct(basis / b.amount * 100) if b.amount else "n/a"
        rows.append((f"Budget {b.name}", f"{'forecast' if b.forecast is not None else 'spent'} "
                     f"{money(basis, b.currency)} of {money(b.amount, b.currency)} ({share})"))
    return rows


def _tables(data: ReportData) -> list[tuple[str, list[str], list[list[str]]]]:
    """(heading, header, rows) for every list in the report, shared by text and HTML."""
    movers = [[m.name, money(m.current, m.currency), money(m.previous, m.currency),
               money(m.change, m.currency, signed=True)] for m in data.movers]
    anomalies = [[a.scope, a.metric, a.start.isoformat() + (f" to {a.end.isoformat()}" if a.end else " (ongoing)"),
                  money(a.impact, a.currency or "USD", signed=True), a.severity, a.root_cause] for a in data.anomalies]
    recommendations = [[r.kind, r.scope, r.change, money(r.monthly_saving, r.currency) + "/month", r.risk, r.status]
                       for r in data.recommendations]
    return [(f"Top movers by {data.mover_dimension}", [data.mover_dimension, "this period", "previous", "change"],
             movers),
            ("Top anomalies", ["scope", "metric", "when", "impact", "severity", "root cause"], anomalies),
            ("Recommendations", ["kind", "scope", "change", "saving", "risk", "status"], recommendations)]


def text(data: ReportData, link: str) -> str:
    head = title(data)
    out = [head, "=" * min(len(head), 72), ""]
    out += [f"{label}: {value}" for label, value in kpi_rows(data)]
    for heading, header, rows in _tables(data):
        out += ["", heading]
        if not rows:
            out.append("  none")
        out += ["  " + " | ".join(row) for row in rows]
    if data.notes:
        out += [""] + [f"Note: {n}" for n in data.notes]
    out += ["", f"Dashboard: {link}", "Attached: the period's cost lines as CSV and XLSX."]
    return "\n".join(out) + "\n"


def html_page(data: ReportData, link: str, chart_src: str) -> str:
    e = html.escape
    out = ['<html><body style="font-family:sans-serif;color:#111827">', f"<h2>{e(title(data))}</h2>",
           '<table cellpadding="4" style="border-collapse:collapse">']
    out += [f'<tr><th align="left">{e(label)}</th><td>{e(value)}</td></tr>' for label, value in kpi_rows(data)]
    out.append("</table>")
    out.append(f'<p><img src="{e(chart_src)}" alt="Daily spend, this period against the previous one" '
               'width="800" height="300"></p>')
    for heading, header, rows in _tables(data):
        out.append(f"<h3>{e(heading)}</h3>")
        if not rows:
            out.append("<p>none</p>")
            continue
        out.append('<table cellpadding="4" border="1" style="border-collapse:collapse">')
        out.append("<tr>" + "".join(f'<th align="left">{e(h)}</th>' for h in header) + "</tr>")
        out += ["<tr>" + "".join(f"<td>{e(c)}</td>" for c in row) + "</tr>" for row in rows]
        out.append("</table>")
    out += [f'<p style="color:#6b7280">{e(n)}</p>' for n in data.notes]
    out.append(f'<p><a href="{e(link)}">Open the dashboard</a>. The period\'s cost lines are attached as CSV and '
               "XLSX.</p>")
    out.append("</body></html>")
    return "\n".join(out) + "\n"


def _plain(value) -> str:
    if isinstance(value, Decimal):
        return format(value, "f")
    if isinstance(value, date):
        return value.isoformat()
    return _cell(value)


def lines_csv(data: ReportData) -> str:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow(LINE_COLUMNS)
    writer.writerows([[_plain(v) for v in row] for row in data.lines])
    return buffer.getvalue()


def _text_cell(value: str) -> str:
    """Formatted money such as "-$30.00" stays as it is; anything else a spreadsheet would run is quoted."""
    if value[:1] in ("+", "-") and value[1:2] in tuple("$0123456789"):
        return value
    return _cell(value)


def workbook(data: ReportData) -> bytes:
    """Summary, movers, anomalies, recommendations and line items as sheets; money as exact numbers."""
    from openpyxl import Workbook
    from openpyxl.styles import Font

    book = Workbook()
    fixed = datetime.combine(data.end, time(), UTC).replace(tzinfo=None)
    book.properties.created = book.properties.modified = fixed
    book.properties.creator = "costwarden"
    summary = book.active
    summary.title = "Summary"
    summary.append([title(data)])
    summary["A1"].font = Font(bold=True)
    for label, value in kpi_rows(data):
        summary.append([_text_cell(label), _text_cell(value)])
    for heading, header, rows in _tables(data):
        sheet = book.create_sheet(heading.split(" by ")[0].replace("Top ", "").capitalize()[:31])
        sheet.append(header)
        for row in rows:
            sheet.append([_text_cell(v) for v in row])   # a name from the data must not become a formula
    lines = book.create_sheet("Cost lines")
    lines.append(list(LINE_COLUMNS))
    for row in data.lines:
        lines.append([v if isinstance(v, (Decimal, int, date)) or v is None else _cell(v) for v in row])
    for column in ("H", "I"):
        for cell in lines[column][1:]:
            cell.number_format = "#,##0.00########"
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


def email(data: ReportData, recipient: str, from_address: str, message_id: str, link: str, png: bytes,
          xlsx: bytes) -> str:
    mail = EmailMessage()
    mail["Subject"] = SUBJECT_PREFIX + title(data)
    mail["From"] = from_address
    mail["To"] = recipient
    mail["Date"] = format_datetime(datetime.combine(data.end, time(6), UTC))
    mail["Message-ID"] = mail_id(message_id, from_address)
    mail["X-Costwarden-Report"] = f"{data.period}; {data.scope_text}; {data.start.isoformat()}"
    mail.set_content(text(data, link))
    mail.add_alternative(html_page(data, link, f"cid:{CHART_CID}"), subtype="html")
    html_part = mail.get_payload()[1]
    html_part.add_related(png, "image", "png", cid=f"<{CHART_CID}>", filename="daily-spend.png")
    mail.add_attachment(lines_csv(data).encode(), maintype="text", subtype="csv", filename=f"{data.slug}.csv")
    mail.add_attachment(xlsx, maintype=XLSX_TYPE[0], subtype=XLSX_TYPE[1], filename=f"{data.slug}.xlsx")
    for n, part in enumerate(p for p in mail.walk() if p.is_multipart()):
        part.set_boundary(f"=={message_id}.{n}==")
    return mail.as_string()
