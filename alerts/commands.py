"""What `costwarden alerts ...` and `costwarden report ...` do: call the job, print its summary, pick the exit code."""

from __future__ import annotations

from datetime import date

from costwarden.errors import UsageError


def alerts_command(action: str, settings, warehouse: str, state: str = "pending", limit: int = 50) -> int:
    if action == "run":
        from alerts.jobs import run_alerts

        report = run_alerts(settings, warehouse)
        print(report.summary())
        return 0 if report.ok else 1
    if action == "send":
        from alerts.jobs import send_pending

        report = send_pending(settings, warehouse)
        print(report.summary())
        return 0 if report.ok else 1
    from alerts.jobs import outbox

    names, rows = outbox(warehouse, state, limit)
    if not rows:
        print(f"no {state} messages in the outbox" if state != "all" else "the outbox is empty")
        return 0
    for row in map(lambda r: dict(zip(names, r)), rows):
        print(f"{row['created_at']:%Y-%m-%d %H:%M}  {row['status']:16} {row['channel']} -> {row['recipient']}  "
              f"({row['subscription']}, {row['mode']}, {row['attempts']} attempts)\n    {row['title']}"
              + (f"\n    next attempt {row['next_attempt_at']:%Y-%m-%d %H:%M} UTC"
                 if row["status"] == "pending" and row["attempts"] else "")
              + (f"\n    last error: {row['last_error']}" if row["last_error"] else "")
              + f"\n    id {row['message_id']}")
    return 0


def report_command(settings, warehouse: str, period: str, scope: str | None, out: str | None, send: bool,
                   per_department: bool, as_of: str | None) -> int:
    from alerts.reports.job import make_reports

    try:
        day = date.fromisoformat(as_of) if as_of else None
    except ValueError:
        raise UsageError(f"--as-of '{as_of}' is not a date; write it as YYYY-MM-DD") from None
    if per_department and scope:
        raise UsageError("--each-department makes one report per department; leave out --scope")
    report = make_reports(settings, warehouse, period, scope, out, send, per_department, day)
    print(report.summary())
    return 0 if report.ok else 1
