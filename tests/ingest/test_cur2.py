"""AWS CUR 2.0 (Data Exports): totals to the cent, CID amortisation, billing-period replacement, bad input."""

from __future__ import annotations

import os
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path

import pytest

from ingest import runner
from ingest.cur2 import Cur2
from tests.cur_factory import billed_total, cur_lines, expected_effective, write_cur2
from tests.helpers import run_cli_process, snapshot, rows as _rows

MAY, JUNE = date(2024, 5, 1), date(2024, 6, 1)
EXEC_A = "2024-05-18T20:16:37.306Z-3695a728-d559-40bd-ac30-ffc97b552489"
EXEC_B = "2024-05-19T06:02:11.481Z-9b1f0c2e-77aa-4c51-8e0d-1f2a3b4c5d6e"
EXEC_OLD = "20240517T053621Z-0c4d9e8f-1a2b-4c3d-9e8f-0a1b2c3d4e5f"




def _period_totals(warehouse: str) -> dict[date, tuple[int, Decimal]]:
    return {p: (n, total) for p, n, total in _rows(
        warehouse, "select billing_period, count(*), sum(billed_cost) from raw.cost_lines group by 1")}


def _two_months(root: Path) -> tuple[list[dict], list[dict]]:
    may, june = cur_lines(MAY, seed=1), cur_lines(JUNE, seed=2, cost_category=True)
    write_cur2(root, may, MAY, fmt="parquet", files=2)
    write_cur2(root, june, JUNE, fmt="csv", files=1)
    return may, june


def test_parquet_and_csv_periods_load_with_billed_cost_to_the_cent(tmp_path, warehouse, settings):
    may, june = _two_months(tmp_path / "src")
    report = runner.ingest(settings, warehouse, str(tmp_path / "src"))
    assert report.format == "cur2"
    c = report.counts
    assert (c.files_seen, c.files_loaded, c.rows_read, c.rows_loaded) == (5, 5, len(may) + len(june),
                                                                          len(may) + len(june))
    assert _period_totals(warehouse) == {MAY: (len(may), billed_total(may)), JUNE: (len(june), billed_total(june))}
    dataset = _rows(warehouse, "select distinct dataset from raw.cost_lines")
    assert dataset == [(f"cur2:{tmp_path / 'src'}/exports/acme-cur2",)]
    versions = _rows(warehouse, "select billing_period, rows_loaded, billed_cost, manifest_uri like "
                                "'%/metadata/BILLING_PERIOD=%/acme-cur2-Manifest.json' from meta.billing_periods")
    assert sorted(versions) == [(MAY, len(may), billed_total(may), True), (JUNE, len(june), billed_total(june), True)]


def test_effective_cost_follows_cid_amortisation_on_savings_plan_and_ri_rows(tmp_path, warehouse, settings):
    may, june = _two_months(tmp_path / "src")
    runner.ingest(settings, warehouse, str(tmp_path / "src"))
    got = dict(((p, t), e) for p, t, e in _rows(
        warehouse, "select billing_period, line_item_type, sum(effective_cost) from raw.cost_lines group by 1, 2"))
    for period, lines in ((MAY, may), (JUNE, june)):
        expected: dict[str, Decimal] = {}
        for row in lines:
            kind = row["line_item_line_item_type"]
            expected[kind] = expected.get(kind, Decimal(0)) + expected_effective(row)
        assert {t: e for (p, t), e in got.items() if p == period} == expected
    fees = dict(_rows(warehouse, "select line_item_type, effective_cost from raw.cost_lines where billing_period = ? "
                                 "and charge_category = 'Purchase'", [MAY]))
    # unused SP commitment, unused RI fees, and an upfront RI fee that is amortised elsewhere
    assert fees == {"SavingsPlanRecurringFee": Decimal("28.75"), "RIFee": Decimal("460.75"), "Fee": Decimal(0)}
    negation = _rows(warehouse, "select distinct effective_cost, list_cost from raw.cost_lines "
                                "where line_item_type = 'SavingsPlanNegation'")
    assert negation == [(Decimal(0), Decimal(0))]


def test_line_items_map_to_focus_vocabulary_and_ai_services(tmp_path, warehouse, settings):
    _two_months(tmp_path / "src")
    runner.ingest(settings, warehouse, str(tmp_path / "src"))
    vocab = set(_rows(warehouse, "select distinct line_item_type, charge_category, charge_class, charge_frequency "
                                 "from raw.cost_lines"))
    assert vocab == {
        ("Usage", "Usage", None, "Usage-Based"), ("SavingsPlanCoveredUsage", "Usage", None, "Usage-Based"),
        ("SavingsPlanNegation", "Usage", None, "Usage-Based"), ("DiscountedUsage", "Usage", None, "Usage-Based"),
        ("SavingsPlanRecurringFee", "Purchase", None, "Recurring"), ("RIFee", "Purchase", None, "Recurring"),
        ("Fee", "Purchase", None, "One-Time"), ("Tax", "Tax", None, "Recurring"),
        ("Credit", "Credit", None, "One-Time"), ("Refund", "Credit", "Correction", "One-Time")}
    services = set(_rows(warehouse, "select distinct usage_type, service_name, service_category, publisher_name "
                                    "from raw.cost_lines where charge_category = 'Usage' and usage_type like 'USE1-%'"))
    assert ("USE1-Claude3Haiku-input-tokens", "Amazon Bedrock", "AI and Machine Learning",
            "Amazon Web Services") in services
    assert ("USE1-MP:USE1_InputTokenCount-Units", "Claude Sonnet 4.5 (Amazon Bedrock Edition)",
            "AI and Machine Learning", "Anthropic, PBC") in services
    assert ("USE1-Host:ml.g5.2xlarge", "Amazon SageMaker", "AI and Machine Learning", "Amazon Web Services") in services
    ec2 = _rows(warehouse, "select distinct service_category, region_id, pricing_unit, consumed_unit, provider_name, "
                           "billing_account_id, sub_account_name, contracted_cost from raw.cost_lines "
                           "where usage_type = 'BoxUsage:g5.xlarge' and line_item_type = 'Usage'")
    assert ec2 == [("Compute", "us-east-1", "Hrs", "Hrs", "AWS", "111122223333", "ml-platform", Decimal("0.9557"))]
    bedrock = _rows(warehouse, "select distinct iam_principal, resource_id from raw.cost_lines "
                               "where usage_type = 'USE1-Claude3Haiku-output-tokens'")
    # the session name (svc-answer) is dropped, only the role is kept: identities are never stored
    assert bedrock == [("arn:aws:iam::777788889999:role/search-app",
                        "arn:aws:bedrock:us-east-1:777788889999:application-inference-profile/k3x9p2abcd")]
    # quantities only on usage rows; tax rows span the whole month
    assert _rows(warehouse, "select count(*) from raw.cost_lines where consumed_quantity is not null and "
                            "line_item_type not in ('Usage', 'DiscountedUsage', 'SavingsPlanCoveredUsage')") == [(0,)]
    assert _rows(warehouse, "select distinct charge_period_start, charge_period_end from raw.cost_lines "
                            "where line_item_type = 'Tax' and billing_period = ?", [MAY]) == [
        (datetime(2024, 5, 1), datetime(2024, 6, 1))]


@pytest.mark.parametrize("map_style", ["json", "equals"])
def test_tags_are_the_union_of_tags_resource_tags_and_cost_categories(tmp_path, warehouse, settings, map_style):
    lines = cur_lines(JUNE, seed=3, days=1, cost_category=True, tag_keys=("user:team", "user:CostCenter"))
    write_cur2(tmp_path / "src", lines, JUNE, fmt="csv", files=1, map_style=map_style)
    runner.ingest(settings, warehouse, str(tmp_path / "src"))
    tags = _rows(warehouse, "select distinct tags from raw.cost_lines "
                            "where usage_type = 'USE1-Claude3Haiku-input-tokens'")
    assert tags == [({"iamPrincipal/Team": "search", "user_team": "search", "user_cost_center": "CC-100",
                      "costCategory/Environment": "prod"},)]
    assert _rows(warehouse, "select count(*) from raw.cost_lines where tags['user_team'] = 'ml-platform'") == [
        (sum(1 for r in lines if (r.get("resource_tags") or {}).get("user:team") == "ml-platform"),)]


def test_reingest_is_a_noop(tmp_path, warehouse, settings):
    _two_months(tmp_path / "src")
    runner.ingest(settings, warehouse, str(tmp_path / "src"))
    before = snapshot(warehouse)
    again = runner.ingest(settings, warehouse, str(tmp_path / "src"))
    assert (again.counts.files_skipped, again.counts.rows_read, again.counts.files_loaded) == (5, 0, 0)
    after = snapshot(warehouse)
    assert {k: v for k, v in after.items() if k != "meta.loads(ok)"} == \
           {k: v for k, v in before.items() if k != "meta.loads(ok)"}


def test_overwrite_restatement_replaces_the_period_and_an_older_delivery_is_superseded(tmp_path, warehouse,
                                                                                       settings):
    src = tmp_path / "src"
    _, june = _two_months(src)
    runner.ingest(settings, warehouse, str(src))
    june_load = _rows(warehouse, "select distinct _load_id from raw.cost_lines where billing_period = ?", [JUNE])

    restated = cur_lines(MAY, seed=11, days=3)          # month-to-date grew and was re-costed
    write_cur2(src, restated, MAY, fmt="parquet", files=1)  # same keys, new content; -00002 is now a leftover
    report = runner.ingest(settings, warehouse, str(src))
    assert report.counts.rows_loaded == len(restated) and report.counts.files_failed == 0
    totals = _period_totals(warehouse)
    assert totals[MAY] == (len(restated), billed_total(restated))
    assert totals[JUNE] == (len(june), billed_total(june))
    june_now = _rows(warehouse, "select distinct _load_id from raw.cost_lines where billing_period = ?", [JUNE])
    assert june_now == june_load
    assert _rows(warehouse, "select count(*) from raw.cost_lines where _source_object like '%-00002.snappy.parquet' "
                            "and billing_period = ?", [MAY]) == [(0,)]

    stale = cur_lines(MAY, seed=12, days=1)             # an older delivery (earlier manifest time) arrives late
    for path in write_cur2(src, stale, MAY, fmt="parquet", files=1) + [
            src / "exports/acme-cur2/metadata/BILLING_PERIOD=2024-05/acme-cur2-Manifest.json"]:
        os.utime(path, (1_600_000_000, 1_600_000_000))
    late = runner.ingest(settings, warehouse, str(src))
    assert (late.counts.rows_loaded, late.counts.files_failed, late.counts.files_loaded) == (0, 0, 0)
    assert _period_totals(warehouse)[MAY] == (len(restated), billed_total(restated))
    assert _rows(warehouse, "select count(*) from meta.source_objects where status = 'superseded' and "
                            "billing_period = ? and object_uri like '%-00001.snappy.parquet'", [MAY]) == [(1,)]


def test_create_new_restatement_takes_the_newest_execution_and_skips_an_older_one(tmp_path, warehouse, settings):
    src = tmp_path / "src"
    first, newer, older = cur_lines(MAY, seed=1), cur_lines(MAY, seed=2, days=3), cur_lines(MAY, seed=3, days=1)
    june = cur_lines(JUNE, seed=4, days=1)
    write_cur2(src, first, MAY, execution=EXEC_A, fmt="csv")
    write_cur2(src, june, JUNE, execution="2024-06-02T01:00:00.000Z-aa", fmt="csv", manifest="execution")
    runner.ingest(settings, warehouse, str(src))
    assert _period_totals(warehouse)[MAY] == (len(first), billed_total(first))

    write_cur2(src, newer, MAY, execution=EXEC_B, fmt="csv")       # the period manifest now points at B
    report = runner.ingest(settings, warehouse, str(src))
    assert report.counts.rows_loaded == len(newer)
    assert _period_totals(warehouse) == {MAY: (len(newer), billed_total(newer)), JUNE: (len(june), billed_total(june))}
    assert _rows(warehouse, "select version from meta.billing_periods where billing_period = ? "
                            "order by replaced_at desc limit 1", [MAY]) == [(EXEC_B,)]

    write_cur2(src, older, MAY, execution=EXEC_OLD, fmt="csv", manifest=None)   # an older execution shows up late
    late = runner.ingest(settings, warehouse, str(src))
    assert (late.counts.rows_loaded, late.counts.files_skipped) == (0, late.counts.files_seen)
    assert _period_totals(warehouse)[MAY] == (len(newer), billed_total(newer))
    assert _rows(warehouse, "select count(*) from meta.source_objects where status = 'superseded' and "
                            "object_uri like ?", [f"%{EXEC_OLD}%"]) == [(2,)]


def test_without_manifests_the_newest_execution_folder_is_loaded(tmp_path, warehouse, settings):
    src = tmp_path / "src"
    older, newer = cur_lines(MAY, seed=1, days=1), cur_lines(MAY, seed=2, days=2)
    write_cur2(src, newer, MAY, execution=EXEC_B, manifest=None)
    write_cur2(src, older, MAY, execution=EXEC_A, manifest=None)
    runner.ingest(settings, warehouse, str(src))
    assert _period_totals(warehouse) == {MAY: (len(newer), billed_total(newer))}


def test_manifest_without_a_file_list_falls_back_to_the_newest_execution_folder(tmp_path, warehouse, settings):
    src = tmp_path / "src"
    older, newer = cur_lines(MAY, seed=1, days=1), cur_lines(MAY, seed=2, days=2)
    write_cur2(src, older, MAY, execution=EXEC_A, manifest=None)
    write_cur2(src, newer, MAY, execution=EXEC_B, manifest=None)
    manifest = src / "exports/acme-cur2/metadata/BILLING_PERIOD=2024-05/acme-cur2-Manifest.json"
    manifest.parent.mkdir(parents=True)
    manifest.write_text('{"executionId": "exec-42", "billingPeriod": "2024-05", "columns": []}')
    runner.ingest(settings, warehouse, str(src))
    assert _period_totals(warehouse) == {MAY: (len(newer), billed_total(newer))}
    assert _rows(warehouse, "select version, manifest_uri = ? from meta.billing_periods", [str(manifest)]) == [
        ("exec-42", True)]


def test_manifest_listing_missing_files_fails_that_period_only(tmp_path, warehouse, settings):
    src = tmp_path / "src"
    _, june = _two_months(src)
    (src / "exports/acme-cur2/data/BILLING_PERIOD=2024-05/acme-cur2-00002.snappy.parquet").unlink()
    report = runner.ingest(settings, warehouse, str(src))
    assert report.counts.files_failed == 1
    message = report.counts.failures[0]
    assert "BILLING_PERIOD=2024-05/acme-cur2-Manifest.json lists 2 data files but 1 do not exist" in message
    assert "acme-cur2-00002.snappy.parquet" in message
    assert _period_totals(warehouse) == {JUNE: (len(june), billed_total(june))}


def test_bad_rows_are_quarantined_with_row_number_and_reason_and_the_rest_loads(tmp_path, warehouse, settings):
    lines = cur_lines(JUNE, seed=5, days=1)
    lines[3]["line_item_unblended_cost"] = "twelve"
    lines[6]["line_item_currency_code"] = ""
    write_cur2(tmp_path / "src", lines, JUNE, fmt="csv", files=1)
    report = runner.ingest(settings, warehouse, str(tmp_path / "src"))
    c = report.counts
    assert (c.rows_read, c.rows_loaded, c.rows_quarantined) == (len(lines), len(lines) - 2, 2)
    quarantined = _rows(warehouse, "select line_no, reason, field, value from meta.quarantine order by line_no")
    assert quarantined == [(5, "value is not a decimal number", "billed_cost", "twelve"),
                           (8, "missing mandatory field", "billing_currency", None)]
    good = [r for i, r in enumerate(lines) if i not in (3, 6)]
    assert _period_totals(warehouse) == {JUNE: (len(good), billed_total(good))}
    per_object = _rows(warehouse, "select rows_read, rows_loaded, rows_quarantined from meta.source_objects "
                                  "where object_uri like '%.csv.gz'")
    assert per_object == [(len(lines), len(lines) - 2, 2)]


def test_file_without_the_unblended_cost_column_fails_by_name_and_other_periods_load(tmp_path, warehouse, settings):
    src = tmp_path / "src"
    write_cur2(src, cur_lines(MAY, seed=1, days=1), MAY, fmt="csv", files=1, drop=("line_item_unblended_cost",))
    june = cur_lines(JUNE, seed=2, days=1)
    write_cur2(src, june, JUNE, fmt="csv", files=1)
    report = runner.ingest(settings, warehouse, str(src))
    assert report.counts.files_failed == 1
    assert "BILLING_PERIOD=2024-05/acme-cur2-00001.csv.gz has no line_item_unblended_cost" in report.counts.failures[0]
    assert _period_totals(warehouse) == {JUNE: (len(june), billed_total(june))}


def test_truncated_csv_gz_is_named_and_other_periods_load(tmp_path, warehouse, settings):
    src = tmp_path / "src"
    _, june = _two_months(src)
    may_csv = write_cur2(src, cur_lines(MAY, seed=1), MAY, fmt="csv", files=1)[0]
    (src / "exports/acme-cur2/data/BILLING_PERIOD=2024-05/acme-cur2-00002.snappy.parquet").unlink()
    may_csv.write_bytes(may_csv.read_bytes()[:300])
    report = runner.ingest(settings, warehouse, str(src))
    assert report.counts.files_failed == 1
    assert "acme-cur2-00001.csv.gz is not a complete gzip file" in report.counts.failures[0]
    assert _period_totals(warehouse) == {JUNE: (len(june), billed_total(june))}
    may_csv.unlink()            # re-delivered: the next run loads May
    write_cur2(src, cur_lines(MAY, seed=1), MAY, fmt="csv", files=1)
    assert runner.ingest(settings, warehouse, str(src)).counts.files_failed == 0
    assert set(_period_totals(warehouse)) == {MAY, JUNE}


def test_loads_from_s3_and_restates_in_place(tmp_path, warehouse, s3_bucket, s3_settings):
    may, june = _two_months(tmp_path / "src")
    s3_bucket.upload_tree(tmp_path / "src", prefix="billing")
    s3_bucket.put("billing/exports/acme-cur2/aws-programmatic-access-test-object", b"test")
    report = runner.ingest(s3_settings, warehouse, s3_bucket.uri("billing"))
    assert report.format == "cur2" and report.counts.files_seen == 5
    assert _period_totals(warehouse) == {MAY: (len(may), billed_total(may)), JUNE: (len(june), billed_total(june))}
    assert _rows(warehouse, "select distinct dataset from raw.cost_lines") == [
        (f"cur2:s3://{s3_bucket.name}/billing/exports/acme-cur2",)]
    assert runner.ingest(s3_settings, warehouse, s3_bucket.uri("billing")).counts.rows_read == 0

    restated = cur_lines(JUNE, seed=9, days=3)
    write_cur2(tmp_path / "src", restated, JUNE, fmt="csv", files=1)
    s3_bucket.upload_tree(tmp_path / "src" / "exports/acme-cur2", prefix="billing/exports/acme-cur2")
    runner.ingest(s3_settings, warehouse, s3_bucket.uri("billing"))
    assert _period_totals(warehouse) == {MAY: (len(may), billed_total(may)),
                                         JUNE: (len(restated), billed_total(restated))}


def test_detection_leaves_focus_exports_in_the_same_layout_alone():
    from ingest.storage import SourceObject

    obj = SourceObject("/x/focus/data/BILLING_PERIOD=2024-05/focus-00001.csv.gz",
                       "focus/data/BILLING_PERIOD=2024-05/focus-00001.csv.gz", 1, "e", datetime(2024, 5, 1))
    assert Cur2.detect([obj], lambda: b"BilledCost,BillingAccountId,ChargeCategory\n") == 0
    assert Cur2.detect([obj], lambda: b"bill_bill_type,line_item_unblended_cost\n") == 95


@pytest.mark.slow
@pytest.mark.parametrize("point", ["ingest:after-batch", "ingest:before-commit"])
def test_killed_restatement_leaves_warehouse_unchanged_and_next_run_completes(tmp_path, warehouse, settings, point):
    src = tmp_path / "src"
    _, june = _two_months(src)
    runner.ingest(settings, warehouse, str(src))
    before = snapshot(warehouse)
    restated = cur_lines(MAY, seed=21, days=3)
    write_cur2(src, restated, MAY, fmt="parquet", files=2)
    killed = run_cli_process(warehouse, "ingest", str(src), env={"COSTWARDEN_KILL_AT": point})
    assert killed.returncode == -9, killed.stderr
    assert snapshot(warehouse) == before
    finished = run_cli_process(warehouse, "ingest", str(src))
    assert finished.returncode == 0, finished.stderr
    assert f"loaded {len(restated)} + quarantined 0" in finished.stdout
    assert _period_totals(warehouse) == {MAY: (len(restated), billed_total(restated)),
                                         JUNE: (len(june), billed_total(june))}
