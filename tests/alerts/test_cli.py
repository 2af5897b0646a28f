"""`costwarden alerts`, `report` and `run` from the command line: summaries, and one-line errors for mistakes."""

from __future__ import annotations


def test_alerts_run_and_outbox_on_a_fresh_warehouse(cli):
    code, out, err = cli("alerts", "run")
    assert code == 0 and out.startswith("alerts: 0 events (none)") and "no [[alerts.subscriptions]]" in out
    code, out, _ = cli("alerts", "outbox", "--status", "failed")
    assert (code, out.strip()) == (0, "no failed messages in the outbox")


def test_report_mistakes_are_one_line_errors(cli):
    code, _, err = cli("report", "--scope", "dept=x")
    assert code == 2 and err.strip().count("\n") == 0 and "KIND=VALUE" in err
    code, _, err = cli("report", "--as-of", "yesterday")
    assert code == 2 and "YYYY-MM-DD" in err
    code, _, err = cli("report")
    assert code == 1 and "no marts.allocated_cost yet" in err and "Traceback" not in err


def test_run_only_alerts_and_unknown_steps(cli):
    code, out, err = cli("run", "--only", "alerts")
    assert code == 0 and "[alerts] ok" in out and out.rstrip().endswith("run finished"), out + err
    code, _, err = cli("run", "--only", "deploy")
    assert code == 1 and "unknown steps ['deploy']" in err
