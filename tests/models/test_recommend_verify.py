"""Verification after a simulated application in the demo data: support-triage's classification traffic moves to
Nova Micro from the day after the demo window; two more weeks of its logs go through the real Bedrock ingest and
build; `costwarden recommend verify` then measures realised saving and quality beside the estimate."""

from __future__ import annotations

import json
from datetime import date, timedelta
from decimal import Decimal

import pytest

from costwarden import db
from costwarden.cli import main
from costwarden.demo.aftermath import apply_and_load
from costwarden.demo.company import END_DATE
from models.recommend import run_recommend


@pytest.mark.slow
def test_verify_measures_realised_saving_after_a_simulated_application(demo_company, tmp_path, capsys):
    copy = demo_company.copy_to(tmp_path / "co")
    settings = copy.settings()
    report = run_recommend(settings, copy.warehouse)
    [rec] = [r for r in report.recommendations if r.kind == "routing" and r.agent == "support-triage"]
    base = ["--warehouse", copy.warehouse, "--config", copy.config, "recommend"]
    applied = END_DATE + timedelta(days=1)
    assert main(base + ["approve", rec.rec_id, "--by", "ana"]) == 0
    assert main(base + ["apply", rec.rec_id, "--by", "ana", "--applied-on", applied.isoformat()]) == 0
    # verifying before any newer logs exist says so in one line
    assert main(base + ["verify", rec.rec_id, "--by", "ana"]) == 1
    assert "needs at least 3 days of logs after that" in capsys.readouterr().err

    simulated = apply_and_load(settings, copy.warehouse, tmp_path / "after", "support-triage", "classification",
                               rec.detail["proposed_model"].split("/", 1)[1], days=14)
    assert simulated > 300
    capsys.readouterr()
    assert main(base + ["verify", rec.rec_id, "--by", "ana"]) == 0
    out = capsys.readouterr().out
    assert "realised" in out and "traffic moved 100%" in out

    con = db.connect(copy.warehouse, read_only=True)
    try:
        action, when, realised = con.execute(
            "select action, applied_on, realised from analytics.recommendation_decisions where rec_id = ? "
            "order by decided_at desc limit 1", [rec.rec_id]).fetchone()
        # the requests after the application really ran on the proposed model
        models = dict(con.execute("select model, count(*) from staging.stg_inference_requests where agent = "
                                  "'support-triage' and task_type = 'classification' and occurred_at >= ? "
                                  "group by 1", [applied]).fetchall())
    finally:
        con.close()
    realised = json.loads(realised)
    assert action == "verified" and when == applied
    assert set(models) == {rec.detail["proposed_model"].split("/", 1)[1]}
    assert realised["days_after"] == 14 and realised["traffic_moved"] == 1.0
    estimate, saved = Decimal(realised["estimated_monthly_saving"]), Decimal(realised["realised_monthly_saving"])
    # the realised saving is measured (not copied): close to the estimate, not equal to it
    assert saved != estimate and abs(saved - estimate) < Decimal("0.3") * estimate
    assert realised["realised_quality_change"] > -0.02       # Nova Micro holds quality on classification
    assert realised["quality_evidence"]["after"] >= 30
    assert realised["realised_p95_latency_change_ms"] < 0    # and it is faster
