"""FOCUS 1.0-1.2 exports from AWS, Azure, Google Cloud and OCI: totals to the cent, restatement, atomic runs,
quarantine and whole-file failures."""

from __future__ import annotations

import gzip
import os
import shutil
from datetime import date, datetime, timezone
from decimal import Decimal

import pytest

from ingest import runner
from tests import focus_factory as f
from tests.helpers import run_cli_process, snapshot, rows as _rows

JUNE, JULY, MAY = date(2025, 6, 1), date(2025, 7, 1), date(2025, 5, 1)
# Each provider's rows in several versions and formats (AWS exports only 1.0 and 1.2).
_PROVIDER_FOR = {("1.0", "csv"): "gcp", ("1.0", "csv.gz"): "oci", ("1.0", "parquet"): "aws",
                 ("1.1", "csv"): "azure", ("1.1", "csv.gz"): "gcp", ("1.1", "parquet"): "azure",
                 ("1.2", "csv"): "oci", ("1.2", "csv.gz"): "azure", ("1.2", "parquet"): "aws"}




def _billed(warehouse: str, dataset_like: str = "%") -> dict[date, Decimal]:
    return dict(_rows(warehouse, "select billing_period, sum(billed_cost) from raw.cost_lines where dataset like ? "
                                 "group by 1", [dataset_like]))


def _stable(snap: dict) -> dict:
    return {k: v for k, v in snap.items() if k != "meta.loads(ok)"}


@pytest.mark.parametrize("version", ["1.0", "1.1", "1.2"])
@pytest.mark.parametrize("fmt", ["csv", "csv.gz", "parquet"])
def test_each_version_and_format_loads_from_a_folder_to_the_cent(tmp_path, warehouse, settings, version, fmt):
    provider = _PROVIDER_FOR[version, fmt]
    rows = f.focus_rows(provider, JUNE, days=2)
    name = f"focus.{'parquet' if fmt == 'parquet' else fmt}"
    f.write_file(tmp_path / "export" / name, rows, f.columns_for(provider, version), fmt)
    report = runner.ingest(settings, warehouse, str(tmp_path / "export"), "focus")
    c = report.counts
    assert (c.files_loaded, c.rows_read, c.rows_loaded, c.rows_quarantined) == (1, len(rows), len(rows), 0)
    assert _billed(warehouse) == f.billed_by_period(rows)
    effective = _rows(warehouse, "select sum(effective_cost) from raw.cost_lines")[0][0]
    assert effective == sum(Decimal(r["EffectiveCost"]) for r in rows)
    [(recorded,)] = _rows(warehouse, "select version from meta.billing_periods")
    assert recorded.endswith(f"(FOCUS {version})")
    tags = _rows(warehouse, "select tags from raw.cost_lines where charge_category = 'Usage' "
                            "and billed_cost > 0 limit 1")[0][0]
    assert tags == {"team": "search", "env": "prod", "cost-center": "cc-1042"}
    ai = _rows(warehouse, "select count(*) from raw.cost_lines where service_category = 'AI and Machine Learning' "
                          "and charge_category = 'Usage'")[0][0]
    assert ai == sum(1 for r in rows if r["ServiceCategory"] == "AI and Machine Learning"
                     and r["ChargeCategory"] == "Usage")


def test_credits_commitments_and_zero_billed_rows_keep_their_signs_and_costs(tmp_path, warehouse, settings):
    rows = f.focus_rows("aws", JUNE, days=1)
    f.write_aws_export(tmp_path / "src", rows, JUNE, version="1.0", fmt="csv.gz")
    runner.ingest(settings, warehouse, str(tmp_path / "src"))
    by_kind = dict((k, (b, e, l)) for k, b, e, l in _rows(
        warehouse, "select charge_category || coalesce('/' || pricing_category, ''), billed_cost, effective_cost, "
                   "list_cost from raw.cost_lines where charge_category <> 'Usage' or pricing_category = 'Committed'"))
    credit = next(r for r in rows if r["ChargeCategory"] == "Credit")
    assert by_kind["Credit"][0] == Decimal(credit["BilledCost"]) < 0
    purchase = next(r for r in rows if r["ChargeCategory"] == "Purchase")
    assert by_kind["Purchase"][:2] == (Decimal(purchase["BilledCost"]), Decimal("0"))
    billed, effective, listed = by_kind["Usage/Committed"]
    assert billed == 0 and effective > 0 and listed > 0
    assert _rows(warehouse, "select distinct commitment_discount_id from raw.cost_lines "
                            "where commitment_discount_id is not null") == [("commitment-aws-3yr-0001",)]
    # FOCUS_1_0_AWS extension columns land in the AWS-specific canonical columns.
    assert _rows(warehouse, "select service_code, usage_type, operation from raw.cost_lines "
                            "where service_name = 'Amazon Bedrock' and charge_category = 'Usage' "
                            "order by usage_type limit 1") == [
        ("AmazonBedrock", "USE1-Claude3.5Sonnet-input-tokens", "InvokeModelInference")]


def test_lowercase_glue_names_in_parquet_load_the_same_as_spec_names(tmp_path, warehouse, settings):
    rows = f.focus_rows("aws", JUNE, days=1)
    columns = f.columns_for("aws", "1.2")
    f.write_file(tmp_path / "spec_case" / "focus.parquet", rows, columns, "parquet")
    f.write_file(tmp_path / "glue_case" / "focus.parquet", rows, columns, "parquet", lowercase=True)
    runner.ingest(settings, warehouse, str(tmp_path / "spec_case"), "focus")
    runner.ingest(settings, warehouse, str(tmp_path / "glue_case"), "focus")
    content = ("select * exclude (dataset, _load_id, _source_object) from raw.cost_lines where dataset like ? "
               "order by _source_row")
    pascal = _rows(warehouse, content, ["%/spec_case"])
    assert len(pascal) == len(rows) and pascal == _rows(warehouse, content, ["%/glue_case"])
    assert _rows(warehouse, "select count(*) from raw.cost_lines where usage_type is null and "
                            "charge_category = 'Usage' and billed_cost > 0") == [(0,)]  # SkuMeter -> usage_type


def test_aws_exports_load_from_s3_with_manifests(tmp_path, warehouse, s3_bucket, s3_settings):
    june, july = f.focus_rows("aws", JUNE, days=2), f.focus_rows("aws", JULY, days=1)
    f.write_aws_export(tmp_path / "src", june, JUNE, version="1.2", fmt="parquet", files=2)
    f.write_aws_export(tmp_path / "src", july, JULY, version="1.2", fmt="parquet")
    f.write_aws_export(tmp_path / "src", june, JUNE, version="1.0", fmt="csv.gz", export="focus-1-0")
    s3_bucket.upload_tree(tmp_path / "src")
    s3_bucket.put("billing/focus-export/cost_and_usage_data_status/status.json", b"{}")
    report = runner.ingest(s3_settings, warehouse, s3_bucket.uri("billing"))
    assert report.format == "focus"
    assert (report.counts.files_seen, report.counts.files_loaded) == (4, 4)
    assert _billed(warehouse, "%/focus-export/%") == {**f.billed_by_period(june), **f.billed_by_period(july)}
    assert _billed(warehouse, "%/focus-1-0/%") == f.billed_by_period(june)
    versions = dict(_rows(warehouse, "select dataset like '%focus-1-0%', any_value(version) from "
                                     "meta.billing_periods group by 1"))
    assert versions == {True: "manifest:exec-1 (FOCUS 1.0)", False: "manifest:exec-1 (FOCUS 1.2)"}
    assert all(u.startswith(f"s3://{s3_bucket.name}/billing/") for (u,) in
               _rows(warehouse, "select distinct _source_object from raw.cost_lines"))
    again = runner.ingest(s3_settings, warehouse, s3_bucket.uri("billing"))
    assert (again.counts.files_skipped, again.counts.rows_read) == (4, 0)


def test_azure_export_loads_from_s3_and_the_newest_run_folder_wins(tmp_path, warehouse, s3_bucket, s3_settings):
    first = f.focus_rows("azure", JUNE, days=2, seed=1)
    second = f.focus_rows("azure", JUNE, days=3, seed=2)
    f.write_azure_export(tmp_path / "src", first, JUNE, run_id="run-a", files=2,
                         submitted=datetime(2025, 6, 3, 7, tzinfo=timezone.utc))
    s3_bucket.upload_tree(tmp_path / "src")
    report = runner.ingest(s3_settings, warehouse, s3_bucket.uri("exports"))
    assert report.format == "focus" and report.counts.rows_loaded == len(first)
    assert _billed(warehouse) == f.billed_by_period(first)
    assert _rows(warehouse, "select distinct billing_currency from raw.cost_lines") == [("EUR",)]

    f.write_azure_export(tmp_path / "next", second, JUNE, run_id="run-b",
                         submitted=datetime(2025, 6, 4, 7, tzinfo=timezone.utc))
    # A run still being written (data, no manifest yet) is not a delivery.
    f.write_azure_export(tmp_path / "next", first[:3], JUNE, run_id="run-c", manifest=False)
    s3_bucket.upload_tree(tmp_path / "next")
    report = runner.ingest(s3_settings, warehouse, s3_bucket.uri("exports"))
    assert report.counts.rows_loaded == len(second) and report.counts.files_failed == 0
    assert _billed(warehouse) == f.billed_by_period(second)
    assert _rows(warehouse, "select count(distinct dataset) from raw.cost_lines") == [(1,)]


def test_reingest_is_a_noop(tmp_path, warehouse, settings):
    f.write_aws_export(tmp_path / "src", f.focus_rows("aws", JUNE), JUNE, fmt="csv.gz")
    f.write_oci_report(tmp_path / "src", f.focus_rows("oci", JUNE, days=1), JUNE)
    f.write_gcp_export(tmp_path / "src" / "gcp", f.focus_rows("gcp", JUNE), files=2)
    first = runner.ingest(settings, warehouse, str(tmp_path / "src"), "focus")
    assert first.counts.files_loaded == 4
    before = snapshot(warehouse)
    again = runner.ingest(settings, warehouse, str(tmp_path / "src"), "focus")
    assert (again.counts.files_skipped, again.counts.rows_read, again.counts.rows_loaded) == (4, 0, 0)
    assert _stable(snapshot(warehouse)) == _stable(before)


def test_newer_aws_delivery_restates_the_period_and_an_older_one_is_superseded(tmp_path, warehouse, settings):
    src = tmp_path / "src"
    v1, v2, v0 = (f.focus_rows("aws", JUNE, days=d, seed=s) for d, s in ((2, 1), (3, 2), (1, 3)))
    f.write_aws_export(src, v1, JUNE, execution="2025-06-03T05:10:00.000Z-3695a728", execution_id="e1")
    runner.ingest(settings, warehouse, str(src), "focus")
    assert _billed(warehouse) == f.billed_by_period(v1)

    f.write_aws_export(src, v2, JUNE, execution="2025-06-04T05:10:00.000Z-8b1c9d2e", execution_id="e2", files=2)
    second = runner.ingest(settings, warehouse, str(src), "focus")
    assert second.counts.rows_loaded == len(v2) and second.counts.files_loaded == 2
    assert _billed(warehouse) == f.billed_by_period(v2)
    assert _rows(warehouse, "select count(*) from raw.cost_lines") == [(len(v2),)]

    # A delivery older than what is loaded (a late copy, a restored backup) never replaces it.
    before = snapshot(warehouse)
    f.write_aws_export(src, v0, JUNE, execution="2025-06-02T05:10:00.000Z-00aa11bb", execution_id="e0")
    third = runner.ingest(settings, warehouse, str(src), "focus")
    assert third.counts.rows_loaded == 0 and third.counts.files_skipped == 4
    assert _billed(warehouse) == f.billed_by_period(v2)
    assert _rows(warehouse, "select status, count(*) from meta.source_objects where object_uri like "
                            "'%2025-06-02T05%' group by 1") == [("superseded", 1)]
    after = snapshot(warehouse)
    assert after["raw.cost_lines"] == before["raw.cost_lines"]
    assert after["meta.billing_periods"] == before["meta.billing_periods"]

    # Also when the older delivery is the only one listed: the warehouse's version decides.
    for folder in list(src.rglob("2025-06-0[234]T*")):
        shutil.rmtree(folder)
    f.write_aws_export(src, v0, JUNE, execution="2025-06-01T05:10:00.000Z-77cc88dd", execution_id="e-1")
    fourth = runner.ingest(settings, warehouse, str(src), "focus")
    assert fourth.counts.rows_read == 0 and fourth.counts.files_skipped == 1
    assert _billed(warehouse) == f.billed_by_period(v2)
    assert snapshot(warehouse)["raw.cost_lines"] == before["raw.cost_lines"]


def test_overwritten_aws_partition_is_replaced_in_place(tmp_path, warehouse, settings):
    src = tmp_path / "src"
    f.write_aws_export(src, f.focus_rows("aws", JUNE, seed=1), JUNE, fmt="csv.gz", execution_id="a")
    runner.ingest(settings, warehouse, str(src), "focus")
    restated = f.focus_rows("aws", JUNE, seed=2, days=1)
    paths = f.write_aws_export(src, restated, JUNE, fmt="csv.gz", execution_id="b")
    os.utime(paths[-1], (datetime(2030, 1, 1).timestamp(),) * 2)   # the rewritten manifest is newer
    runner.ingest(settings, warehouse, str(src), "focus")
    assert _billed(warehouse) == f.billed_by_period(restated)
    assert _rows(warehouse, "select version from meta.billing_periods order by replaced_at desc limit 1") == [
        ("manifest:b (FOCUS 1.2)",)]


def test_oci_daily_files_add_rows_and_a_redelivered_file_replaces_only_its_own(tmp_path, warehouse, settings):
    src = tmp_path / "src"
    day1 = f.focus_rows("oci", JUNE, days=1, first_day=1, one_off=False)
    day2 = f.focus_rows("oci", JUNE, days=1, first_day=2, one_off=False, seed=2)
    f.write_oci_report(src, day1, date(2025, 6, 2), modified=datetime(2025, 6, 2, 6))
    f.write_oci_report(src, day2, date(2025, 6, 3), modified=datetime(2025, 6, 3, 6))
    runner.ingest(settings, warehouse, str(src))
    assert _billed(warehouse) == {JUNE: sum(f.billed_by_period(day1 + day2).values())}
    fixed = f.focus_rows("oci", JUNE, days=1, first_day=1, one_off=False, seed=9)
    f.write_oci_report(src, fixed, date(2025, 6, 2), modified=datetime(2025, 6, 4, 6))
    report = runner.ingest(settings, warehouse, str(src))
    assert (report.counts.files_loaded, report.counts.files_skipped) == (1, 1)
    assert _billed(warehouse) == {JUNE: sum(f.billed_by_period(fixed + day2).values())}
    assert _rows(warehouse, "select count(distinct dataset) from raw.cost_lines") == [(2,)]


def test_a_file_spanning_two_billing_periods_is_split_and_each_slice_replaced(tmp_path, warehouse, settings):
    may, june = f.focus_rows("gcp", MAY, days=2), f.focus_rows("gcp", JUNE, days=2)
    f.write_gcp_export(tmp_path / "gcp", may + june, fmt="parquet", modified=datetime(2025, 6, 3))
    runner.ingest(settings, warehouse, str(tmp_path / "gcp"), "focus")
    assert _billed(warehouse) == {**f.billed_by_period(may), **f.billed_by_period(june)}
    assert _rows(warehouse, "select billing_period, rows_loaded from meta.billing_periods order by 1") == [
        (MAY, len(may)), (JUNE, len(june))]
    # The next export of the folder restates June only; May (no longer in the folder) keeps its rows.
    june2 = f.focus_rows("gcp", JUNE, days=3, seed=5)
    f.write_gcp_export(tmp_path / "gcp", june2, fmt="parquet", modified=datetime(2025, 6, 4))
    runner.ingest(settings, warehouse, str(tmp_path / "gcp"), "focus")
    assert _billed(warehouse) == {**f.billed_by_period(may), **f.billed_by_period(june2)}


def test_bad_rows_are_quarantined_with_row_and_reason_and_good_rows_load(tmp_path, warehouse, settings):
    rows = f.focus_rows("gcp", JUNE, days=1, one_off=False)
    good = rows[:3]
    bad_cost = dict(rows[3], BilledCost="12,50")
    no_category = dict(rows[0], ChargeCategory="")
    refund = dict(rows[1], ChargeCategory="Refund")
    bad_currency = dict(rows[2], BillingCurrency="US Dollar")
    bad_time = dict(rows[0], ChargePeriodStart="yesterday")
    no_period = dict(rows[1], ChargePeriodStart="soon", BillingPeriodStart="")
    ordered = [good[0], bad_cost, no_category, good[1], refund, bad_currency, bad_time, no_period, good[2]]
    columns = f.columns_for("gcp", "1.0")
    data = f.csv_bytes(ordered, columns) + b"too,few,columns\n"
    (tmp_path / "gcp").mkdir()
    (tmp_path / "gcp" / "focus.csv").write_bytes(data)
    report = runner.ingest(settings, warehouse, str(tmp_path / "gcp"), "focus")
    c = report.counts
    assert (c.rows_read, c.rows_loaded, c.rows_quarantined) == (10, 3, 7)
    assert _billed(warehouse) == f.billed_by_period(good)
    reasons = dict(_rows(warehouse, "select line_no, reason || case when field is null or reason like 'row has%' "
                                    "then '' else ' ' || field end from meta.quarantine"))
    assert reasons == {
        3: "value is not a decimal number billed_cost",
        4: "missing mandatory field charge_category",
        6: "charge category is not a FOCUS value (Usage, Purchase, Tax, Credit, Adjustment) charge_category",
        7: "billing currency is not an ISO 4217 code billing_currency",
        8: "value is not a timestamp charge_period_start",
        9: "no billing period: neither BillingPeriodStart nor ChargePeriodStart is a timestamp",
        11: "row has fewer columns than the header",
    }
    assert _rows(warehouse, "select value from meta.quarantine where line_no = 3") == [("12,50",)]
    assert _rows(warehouse, "select rows_read, rows_loaded, rows_quarantined from meta.source_objects") == [
        (10, 3, 7)]


def test_a_parquet_row_without_currency_is_quarantined_by_row_number(tmp_path, warehouse, settings):
    rows = f.focus_rows("aws", JUNE, days=1)
    rows[2] = dict(rows[2], BillingCurrency=None)
    f.write_aws_export(tmp_path / "src", rows, JUNE)
    report = runner.ingest(settings, warehouse, str(tmp_path / "src"), "focus")
    assert (report.counts.rows_loaded, report.counts.rows_quarantined) == (len(rows) - 1, 1)
    assert _rows(warehouse, "select line_no, field from meta.quarantine") == [(3, "billing_currency")]


def test_missing_mandatory_column_fails_that_file_by_name_while_other_files_load(tmp_path, cli):
    src = tmp_path / "src"
    ok1 = f.focus_rows("oci", JUNE, days=1, first_day=1, one_off=False)
    ok2 = f.focus_rows("oci", JUNE, days=1, first_day=3, one_off=False, seed=3)
    f.write_oci_report(src, ok1, date(2025, 6, 2))
    f.write_oci_report(src, ok2, date(2025, 6, 4))
    broken = f.write_oci_report(src, f.focus_rows("oci", JUNE, days=1, first_day=2, one_off=False), date(2025, 6, 3))
    columns = [c for c in f.columns_for("oci", "1.0") if c != "BilledCost"]
    broken.write_bytes(gzip.compress(f.csv_bytes(f.focus_rows("oci", JUNE, days=1, one_off=False), columns)))
    truncated = src / "FOCUS Reports" / "2025" / "06" / "05" / "0001000001000009.csv.gz"
    truncated.parent.mkdir(parents=True)
    truncated.write_bytes(gzip.compress(f.csv_bytes(ok1, f.columns_for("oci", "1.0")))[:60])
    code, out, err = cli("ingest", str(src))
    assert code == 1
    assert f"rows read {len(ok1) + len(ok2)} = loaded {len(ok1) + len(ok2)} + quarantined 0" in out
    assert "2025/06/03/0001000001000001.csv.gz has no BilledCost column" in out
    assert "0001000001000009.csv.gz is not a complete gzip file" in out
    assert "Traceback" not in out + err


def test_a_bad_file_keeps_its_whole_delivery_out_and_the_loaded_period_intact(tmp_path, warehouse, settings):
    src = tmp_path / "src"
    v1 = f.focus_rows("aws", JUNE, seed=1)
    f.write_aws_export(src, v1, JUNE, fmt="csv", execution="2025-06-03T05:10:00.000Z-aa", execution_id="e1")
    runner.ingest(settings, warehouse, str(src), "focus")
    paths = f.write_aws_export(src, f.focus_rows("aws", JUNE, seed=2), JUNE, fmt="csv",
                               execution="2025-06-04T05:10:00.000Z-bb", execution_id="e2", files=2)
    with paths[0].open("a") as first:
        first.write("a,malformed,row\n")                         # quarantined while staging, then undone
    paths[1].write_text(paths[1].read_text().replace("ChargePeriodStart", "ChargeStart", 1))
    report = runner.ingest(settings, warehouse, str(src), "focus")
    assert report.counts.files_failed == 1 and report.counts.rows_read == 0
    assert "has no ChargePeriodStart column" in report.counts.failures[0]
    assert "1 other file(s) of this delivery were not loaded" in report.counts.failures[0]
    assert _billed(warehouse) == f.billed_by_period(v1)
    assert _rows(warehouse, "select count(*) from meta.quarantine") == [(0,)]


def test_manifest_listing_a_file_not_yet_written_waits_for_it(tmp_path, warehouse, settings):
    src = tmp_path / "src"
    rows = f.focus_rows("aws", JUNE)
    paths = f.write_aws_export(src, rows, JUNE, fmt="csv.gz", files=2)
    late = paths[1].read_bytes()
    paths[1].unlink()
    report = runner.ingest(settings, warehouse, str(src), "focus")
    assert report.counts.files_failed == 1 and report.counts.rows_loaded == 0
    assert "lists 2 data files but 1 exist" in report.counts.failures[0]
    paths[1].write_bytes(late)
    report = runner.ingest(settings, warehouse, str(src), "focus")
    assert report.counts.files_loaded == 2 and _billed(warehouse) == f.billed_by_period(rows)


def test_case_variants_null_words_and_loose_tags_are_normalised(tmp_path, warehouse, settings):
    base = f.focus_rows("azure", JUNE, days=1, one_off=False)[0]
    variants = [
        dict(base, ChargeCategory="usage", ChargeFrequency="usage based", ServiceCategory="ai and machine learning",
             PricingCategory="STANDARD", BillingCurrency="eur", ResourceId="null", Tags="null"),
        dict(base, ChargeCategory="USAGE", ChargeClass="correction", ChargeFrequency="one-time",
             PricingCategory="committed", ResourceId="NULL", Tags='"team": "search", "env": "prod"',
             ChargePeriodStart="2025-06-01T00:00Z"),
        dict(base, ChargeCategory="Tax", ChargeFrequency="ONE_TIME", ServiceCategory="compute", ResourceId="",
             Tags="not json at all", ChargePeriodStart="2025-06-01T02:00:00+02:00"),
    ]
    f.write_gcp_export(tmp_path / "x", variants, version="1.1")
    report = runner.ingest(settings, warehouse, str(tmp_path / "x"), "focus")
    assert report.counts.rows_loaded == 3 and report.counts.rows_quarantined == 0
    got = _rows(warehouse, "select charge_category, charge_class, charge_frequency, service_category, "
                           "pricing_category, billing_currency, resource_id, tags, charge_period_start "
                           "from raw.cost_lines order by _source_row")
    assert got == [
        ("Usage", None, "Usage-Based", "AI and Machine Learning", "Standard", "EUR", None, None,
         datetime(2025, 6, 1)),
        ("Usage", "Correction", "One-Time", "AI and Machine Learning", "Committed", "EUR", None,
         {"team": "search", "env": "prod"}, datetime(2025, 6, 1)),
        ("Tax", None, "One-Time", "Compute", "Standard", "EUR", None, None, datetime(2025, 6, 1)),
    ]


def test_format_is_detected_for_csv_exports_and_oci_and_azure_layouts(tmp_path, warehouse, settings):
    f.write_gcp_export(tmp_path / "gcp", f.focus_rows("gcp", JUNE, days=1))
    f.write_oci_report(tmp_path / "oci", f.focus_rows("oci", JUNE, days=1), JUNE)
    f.write_azure_export(tmp_path / "azure", f.focus_rows("azure", JUNE, days=1), JUNE)
    for folder in ("gcp", "oci", "azure"):
        assert runner.ingest(settings, warehouse, str(tmp_path / folder)).format == "focus"


@pytest.mark.slow
@pytest.mark.parametrize("point", ["ingest:after-batch", "ingest:before-commit"])
def test_killed_run_leaves_warehouse_unchanged_and_next_run_completes(tmp_path, warehouse, settings, point):
    src = tmp_path / "src"
    june = f.focus_rows("aws", JUNE, seed=1)
    f.write_aws_export(src, june, JUNE, fmt="csv.gz", execution="2025-06-03T05:10:00.000Z-aa", execution_id="e1")
    runner.ingest(settings, warehouse, str(src), "focus")
    before = snapshot(warehouse)
    june2, july = f.focus_rows("aws", JUNE, seed=2, days=3), f.focus_rows("aws", JULY, days=2)
    f.write_aws_export(src, june2, JUNE, fmt="csv.gz", execution="2025-06-04T05:10:00.000Z-bb", execution_id="e2")
    f.write_aws_export(src, july, JULY, fmt="csv.gz", execution="2025-07-02T05:10:00.000Z-cc", execution_id="e3")
    killed = run_cli_process(warehouse, "ingest", str(src), "--format", "focus", env={"COSTWARDEN_KILL_AT": point})
    assert killed.returncode == -9, killed.stderr
    assert snapshot(warehouse) == before
    finished = run_cli_process(warehouse, "ingest", str(src), "--format", "focus")
    assert finished.returncode == 0, finished.stderr
    total = len(june2) + len(july)
    assert f"rows read {total} = loaded {total} + quarantined 0" in finished.stdout
    assert _billed(warehouse) == {**f.billed_by_period(june2), **f.billed_by_period(july)}
