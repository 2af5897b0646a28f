"""Recommendations on the demo company: every kind appears with its fields, the planted opportunities are found,
the planted trap (Nova Micro on extraction) is not recommended, ids are stable, and the CLI prints and decides."""

from __future__ import annotations

import json
from decimal import Decimal

import pytest

from costwarden import db
from costwarden.demo.company import PROVISIONED_MODEL_ARN
from models.recommend import run_recommend
from models.recommend.cli import JSON_FIELDS
from models.recommend.record import rec_id
from models.recommend.stats import monthly_saving, quality_change

NOVA_MICRO = "amazon.nova-micro-v1:0"


@pytest.fixture(scope="module")
def company(demo_company, tmp_path_factory):
    """A writable copy of the demo with recommendations computed once."""
    copy = demo_company.copy_to(tmp_path_factory.mktemp("recommend"))
    report = run_recommend(copy.settings(), copy.warehouse)
    return copy, report


def _by(report, kind, **where):
    return [r for r in report.recommendations if r.kind == kind
            and all(getattr(r, k) == v or r.detail.get(k) == v for k, v in where.items())]


def test_every_kind_appears_with_the_fields_of_the_issue(company):
    _, report = company
    kinds = {r.kind for r in report.recommendations}
    assert {"routing", "batch", "caching", "capacity"} <= kinds
    for rec in report.recommendations:
        assert rec.scope_kind and rec.scope_value and rec.current_setting and rec.proposed_setting
        assert rec.risk in ("low", "medium", "high") and rec.change and rec.rationale
        assert rec.traffic_share is not None and 0 < rec.traffic_share <= 1
        assert rec.evidence_count is not None
        if rec.kind != "evaluate":
            assert isinstance(rec.monthly_saving, Decimal) and rec.monthly_saving > 0
            assert rec.saving_low_80 <= rec.monthly_saving <= rec.saving_high_80
            assert rec.quality_change is not None and rec.quality_low_80 <= rec.quality_change <= rec.quality_high_80
    for rec in _by(report, "routing"):
        assert rec.p95_latency_change_ms is not None
        assert "model_list:" in rec.change and "litellm_params:" in rec.change
        assert rec.evidence_count >= 60


def test_opp_001_support_triage_classification_moves_to_nova_micro(company):
    _, report = company
    [rec] = _by(report, "routing", agent="support-triage")
    assert rec.scope_kind == "task_type" and rec.scope_value == "classification"
    assert rec.detail["proposed_model"].endswith(NOVA_MICRO)
    assert abs(rec.quality_change) < 0.02 and rec.quality_low_80 > -0.02
    # support-triage has two task types, so the snippet routes only requests tagged with the task type
    assert 'tags: ["classification"]' in rec.change and "enable_tag_filtering: true" in rec.change
    assert rec.traffic_share == pytest.approx(0.85, abs=0.05)


def test_the_trap_nova_micro_is_not_recommended_for_extraction(company):
    _, report = company
    for rec in report.recommendations:
        if rec.kind in ("routing", "evaluate") and rec.detail["task_type"] == "extraction":
            assert not rec.detail["proposed_model"].endswith(NOVA_MICRO), rec
    # ... it was considered (it would save money) and turned down on quality, not overlooked
    trap = [t for t in report.turned_down if t["task_type"] == "extraction" and t["model"] == NOVA_MICRO]
    assert trap and all(any("breaks the tolerance" in why for why in t["why"]) for t in trap)
    assert all(Decimal(t["monthly_saving"]) >= 5 for t in trap)


def test_opp_002_nightly_report_summariser_goes_to_batch(company):
    _, report = company
    [rec] = _by(report, "batch", agent="nightly-report-summariser")
    assert rec.detail["hours_utc"] == [1, 2, 3]
    assert rec.quality_change == 0 and rec.p95_latency_change_ms == 24 * 3_600_000
    assert "create-model-invocation-job" in rec.change


def test_opp_003_idle_provisioned_throughput_moves_to_on_demand(company):
    _, report = company
    [rec] = _by(report, "capacity", scope_value=PROVISIONED_MODEL_ARN)
    assert rec.detail["utilisation"] < 0.05
    assert "on-demand amazon.nova-lite-v1:0" in rec.proposed_setting
    # the unit costs 3.50 USD an hour: on demand, the few tokens it serves cost almost nothing
    assert Decimal("2400") < rec.monthly_saving < Decimal("2560")


def test_caching_is_proposed_only_where_cache_reads_are_low(company):
    _, report = company
    caching = _by(report, "caching")
    assert caching
    agents = {r.agent for r in caching}
    assert not agents & {"answer-bot", "kb-answerer"}        # they cache already (80-85% hit rate)
    for rec in caching:
        assert rec.detail["cache_read_share"] < 0.2 and rec.detail["prefix_tokens"] >= 1024


def test_missing_quality_evidence_gives_a_shadow_test_not_a_switch(company):
    _, report = company
    evaluate = _by(report, "evaluate")
    assert evaluate
    for rec in evaluate:
        assert rec.monthly_saving == 0 and rec.p95_latency_change_ms is None
        assert rec.detail["candidate_quality"]["n"] < 30
        assert rec.rationale.startswith("Not enough quality evidence")


def test_rows_are_stored_and_ids_stable_across_runs(company):
    copy, report = company
    con = db.connect(copy.warehouse, read_only=True)
    try:
        stored = {r[0] for r in con.execute("select rec_id from analytics.recommendations").fetchall()}
    finally:
        con.close()
    assert stored == {r.rec_id for r in report.recommendations}
    again = run_recommend(copy.settings(), copy.warehouse)
    assert {r.rec_id for r in again.recommendations} == stored
    assert rec_id("routing", "task_type", "classification", "support-triage", "x") == \
        rec_id("routing", "task_type", "classification", "support-triage", "x")


def test_cli_json_lists_documented_fields(company, capsys):
    from costwarden.cli import main

    copy, report = company
    code = main(["--warehouse", copy.warehouse, "--config", copy.config, "recommend", "--stored", "--format", "json"])
    out = json.loads(capsys.readouterr().out)
    assert code == 0 and len(out) == len(report.recommendations)
    assert all(list(row) == list(JSON_FIELDS) for row in out)
    assert {row["state"] for row in out} <= {"proposed", "approved", "rejected", "applied", "verified"}


def test_cli_lifecycle_enforces_order_and_records_who(company, capsys):
    from costwarden.cli import main

    copy, report = company
    rec = next(r for r in report.recommendations if r.kind == "caching")
    base = ["--warehouse", copy.warehouse, "--config", copy.config, "recommend"]
    assert main(base + ["apply", rec.rec_id, "--by", "ana"]) == 1          # not approved yet
    assert "it can be applied only when approved" in capsys.readouterr().err
    assert main(base + ["reject", rec.rec_id, "--by", "ana"]) == 2         # a rejection needs a reason
    assert main(base + ["approve", "rec-doesnotexist", "--by", "ana"]) == 1
    assert main(base + ["approve", rec.rec_id]) == 2                        # who decides
    capsys.readouterr()
    assert main(base + ["reject", rec.rec_id, "--by", "ana", "--reason", "prompt changes weekly"]) == 0
    assert main(base + ["approve", rec.rec_id, "--by", "bo"]) == 0
    assert main(base + ["apply", rec.rec_id, "--by", "bo", "--applied-on", "2026-10-25"]) == 0
    con = db.connect(copy.warehouse, read_only=True)
    try:
        rows = con.execute("select action, user_name, reason, applied_on from analytics.recommendation_decisions "
                           "where rec_id = ? order by decided_at", [rec.rec_id]).fetchall()
    finally:
        con.close()
    assert [r[:2] for r in rows] == [("rejected", "ana"), ("approved", "bo"), ("applied", "bo")]
    assert rows[0][2] == "prompt changes weekly" and str(rows[2][3]) == "2026-10-25"
    # a re-run keeps the decided recommendation and its state
    run_recommend(copy.settings(), copy.warehouse)
    capsys.readouterr()
    main(base + ["--stored", "--format", "json"])
    listed = {r["rec_id"]: r for r in json.loads(capsys.readouterr().out)}
    assert listed[rec.rec_id]["state"] == "applied"


def test_monthly_saving_interval_is_predictive_and_exact_money():
    flat = monthly_saving([Decimal("2.00")] * 28, 200, 1)
    assert flat.monthly == Decimal("60.88") and flat.low_80 == flat.high_80 == flat.monthly
    noisy = monthly_saving([Decimal(v) for v in ([1, 5] * 14)], 400, 1)
    assert noisy.low_80 < noisy.monthly < noisy.high_80
    assert noisy.monthly == Decimal("91.31")
    assert monthly_saving([], 100, 1).monthly == 0


def test_quality_change_uses_both_samples():
    change = quality_change((100, 0.90, 0.0036), (100, 0.89, 0.0036), 0.95)
    assert change.delta == pytest.approx(-0.01)
    se = (0.0036 / 100 * 2) ** 0.5
    assert change.low_80 == pytest.approx(-0.01 - 1.2816 * se, abs=1e-4)
    assert change.high_80 == pytest.approx(-0.01 + 1.2816 * se, abs=1e-4)
    assert change.lower_bound == pytest.approx(-0.01 - 1.6449 * se, abs=1e-4)     # one-sided 95%
    assert change.evidence == 200
    assert quality_change((0, 0, 0), (50, 0.9, 0.01), 0.9).lower_bound is None


def test_provisioned_offer_is_proposed_only_when_it_beats_on_demand(demo_company):
    from models.recommend import capacity, evidence
    from models.recommend.settings import ProvisionedOffer, RecommendSettings

    con = db.connect(demo_company.warehouse, read_only=True)
    try:
        base = RecommendSettings()
        start, stop = evidence.window_ending(con, base)
        ev = evidence.load(con, base, start, stop)
        sonnet = "anthropic.claude-3-5-sonnet-20241022-v2:0"
        dear = base.model_copy(update={"provisioned_offers": [ProvisionedOffer(
            model=sonnet, usd_per_hour=Decimal("39.6"), tokens_per_hour=2_000_000)]})
        cheap = base.model_copy(update={"provisioned_offers": [ProvisionedOffer(
            model=sonnet, usd_per_hour=Decimal("0.05"), tokens_per_hour=2_000_000)]})
        assert capacity._provisioned_offers(con, ev, dear) == []        # a real unit price: on demand is cheaper
        [rec] = capacity._provisioned_offers(con, ev, cheap)
    finally:
        con.close()
    assert rec.kind == "capacity" and rec.detail["units"] >= 1 and rec.monthly_saving > 0
    assert rec.saving_low_80 <= rec.monthly_saving <= rec.saving_high_80 and rec.risk == "high"
