"""Legacy AWS CUR (CSV with assemblies and manifests, and the Athena Parquet flavour): dynamic columns, totals to the
cent, assembly replacement, and the same normalisation as CUR 2.0."""

from __future__ import annotations

import os
from datetime import date
from decimal import Decimal
from pathlib import Path

import duckdb
import pytest

from ingest import runner
from ingest.cur_common import snake, tag_key_sql
from tests.cur_factory import billed_total, cur_lines, expected_effective, write_athena, write_cur2, write_legacy
from tests.helpers import run_cli_process, snapshot, rows as _rows

MAY, JUNE = date(2024, 5, 1), date(2024, 6, 1)
ASSEMBLY_A = "1f2e3d4c-5b6a-4789-9abc-def012345678"
ASSEMBLY_B = "9a8b7c6d-5e4f-4321-8fed-cba987654321"
ASSEMBLY_OLD = "0c1d2e3f-4a5b-4c6d-8e7f-0a1b2c3d4e5f"
REPORT = "cur/acme-cur"




def _period_totals(warehouse: str) -> dict[date, tuple[int, Decimal]]:
    return {p: (n, total) for p, n, total in _rows(
        warehouse, "select billing_period, count(*), sum(billed_cost) from raw.cost_lines group by 1")}


def _two_months(root: Path) -> tuple[list[dict], list[dict]]:
    """May has Savings Plan / RI columns and two tags; June has neither commitments nor the CostCenter tag but a
    Project tag and a cost category: the column sets differ, as they do between real months."""
    may = cur_lines(MAY, seed=1)
    june = cur_lines(JUNE, seed=2, commitments=False, tag_keys=("user:team", "user:Project"), cost_category=True)
    write_legacy(root, may, MAY, assembly=ASSEMBLY_A, files=2)
    write_legacy(root, june, JUNE, assembly="6e5d4c3b-2a19-4876-b543-210fedcba987")
    return may, june


def test_months_with_different_columns_load_to_the_cent(tmp_path, warehouse, settings):
    may, june = _two_months(tmp_path / "src")
    report = runner.ingest(settings, warehouse, str(tmp_path / "src"))
    assert report.format == "cur_legacy"
    c = report.counts
    assert (c.files_seen, c.files_loaded, c.files_failed) == (7, 7, 0)    # 2 manifests + data, per month
    assert c.rows_read == c.rows_loaded == len(may) + len(june)
    assert _period_totals(warehouse) == {MAY: (len(may), billed_total(may)), JUNE: (len(june), billed_total(june))}
    assert _rows(warehouse, "select distinct dataset, source_format from raw.cost_lines") == [
        (f"cur_legacy:{tmp_path / 'src' / REPORT}", "cur_legacy")]
    assert _rows(warehouse, "select billing_period, version from meta.billing_periods where billing_period = ?",
                 [MAY]) == [(MAY, ASSEMBLY_A)]


def test_tags_from_tag_and_cost_category_columns_land_in_the_tags_map(tmp_path, warehouse, settings):
    _two_months(tmp_path / "src")
    runner.ingest(settings, warehouse, str(tmp_path / "src"))
    tags = dict(_rows(warehouse, "select billing_period, tags from raw.cost_lines "
                                 "where usage_type = 'USE1-Host:ml.g5.2xlarge' and line_item_type = 'Usage'"))
    assert tags[MAY] == {"user_team": "ml-platform", "user_cost_center": "CC-200"}
    assert tags[JUNE] == {"user_team": "ml-platform", "user_project": "genai", "costCategory/Environment": "shared"}
    # a row without any tag value gets no map, not a map of empty strings
    assert _rows(warehouse, "select count(*) from raw.cost_lines where billing_period = ? and "
                            "line_item_type = 'Tax' and tags is not null", [MAY]) == [(0,)]


def test_legacy_and_cur2_deliveries_of_the_same_lines_normalise_identically(tmp_path, settings):
    lines = cur_lines(MAY, seed=7, days=1)
    write_legacy(tmp_path / "legacy", lines, MAY, assembly=ASSEMBLY_A)
    write_cur2(tmp_path / "cur2", lines, MAY, fmt="csv", files=1)
    columns = ("line_item_type, charge_category, charge_frequency, charge_class, service_name, service_category, "
               "service_code, region_id, usage_type, resource_id, pricing_unit, pricing_quantity, consumed_quantity, "
               "billed_cost, effective_cost, list_cost, contracted_cost, billing_currency, charge_period_start, "
               "billing_period_start, publisher_name, commitment_discount_id, "
               "map_from_entries(list_filter(map_entries(tags), lambda e: e.key not like 'iamPrincipal/%')) as tags")
    results = []
    for flavour in ("legacy", "cur2"):
        warehouse = str(tmp_path / f"{flavour}.duckdb")
        runner.ingest(settings, warehouse, str(tmp_path / flavour))
        results.append(sorted(_rows(warehouse, f"select {columns} from raw.cost_lines"), key=repr))
    assert results[0] == results[1] and len(results[0]) == len(lines)


def test_effective_cost_on_savings_plan_and_ri_rows(tmp_path, warehouse, settings):
    may, _ = _two_months(tmp_path / "src")
    runner.ingest(settings, warehouse, str(tmp_path / "src"))
    got = dict(_rows(warehouse, "select line_item_type, sum(effective_cost) from raw.cost_lines "
                                "where billing_period = ? group by 1", [MAY]))
    expected: dict[str, Decimal] = {}
    for row in may:
        expected[row["line_item_line_item_type"]] = expected.get(row["line_item_line_item_type"], 0) + \
            expected_effective(row)
    assert got == expected
    assert got["SavingsPlanNegation"] == 0 and got["RIFee"] == Decimal("460.75")


def test_new_assembly_replaces_the_period_and_an_older_assembly_arriving_later_is_superseded(tmp_path, warehouse,
                                                                                            settings):
    src = tmp_path / "src"
    _, june = _two_months(src)
    runner.ingest(settings, warehouse, str(src))
    newer = cur_lines(MAY, seed=3, days=3)
    write_legacy(src, newer, MAY, assembly=ASSEMBLY_B)                 # top-level manifest now names B
    report = runner.ingest(settings, warehouse, str(src))
    assert report.counts.rows_loaded == len(newer)
    assert _period_totals(warehouse) == {MAY: (len(newer), billed_total(newer)), JUNE: (len(june), billed_total(june))}

    write_legacy(src, cur_lines(MAY, seed=4, days=1), MAY, assembly=ASSEMBLY_OLD, latest=False)
    late = runner.ingest(settings, warehouse, str(src))
    assert (late.counts.rows_loaded, late.counts.files_skipped) == (0, late.counts.files_seen)
    assert _period_totals(warehouse)[MAY] == (len(newer), billed_total(newer))
    assert _rows(warehouse, "select count(*) from meta.source_objects where status = 'superseded' and "
                            "object_uri like ?", [f"%{ASSEMBLY_OLD}%"]) == [(2,)]     # its manifest and data


def test_top_manifest_pointing_back_to_an_older_assembly_does_not_overwrite_a_newer_load(tmp_path, warehouse,
                                                                                        settings):
    src = tmp_path / "src"
    first = cur_lines(MAY, seed=1, days=1)
    write_legacy(src, first, MAY, assembly=ASSEMBLY_A)
    period_dir = src / REPORT / "20240501-20240601"
    for path in (period_dir / ASSEMBLY_A).iterdir():
        os.utime(path, (1_600_000_000, 1_600_000_000))              # assembly A was delivered long ago
    newer = cur_lines(MAY, seed=2, days=2)
    write_legacy(src, newer, MAY, assembly=ASSEMBLY_B)
    runner.ingest(settings, warehouse, str(src))
    stale_top = (period_dir / ASSEMBLY_A / "acme-cur-Manifest.json").read_text()
    (period_dir / "acme-cur-Manifest.json").write_text(stale_top)
    report = runner.ingest(settings, warehouse, str(src))
    assert report.counts.rows_loaded == 0 and report.counts.files_failed == 0
    assert _period_totals(warehouse) == {MAY: (len(newer), billed_total(newer))}


def test_overwrite_mode_zip_report_is_replaced_in_place(tmp_path, warehouse, settings):
    src = tmp_path / "src"
    first = cur_lines(MAY, seed=1, days=1)
    write_legacy(src, first, MAY, compression="zip")
    runner.ingest(settings, warehouse, str(src))
    assert _period_totals(warehouse) == {MAY: (len(first), billed_total(first))}
    restated = cur_lines(MAY, seed=2, days=2)
    write_legacy(src, restated, MAY, compression="zip")
    runner.ingest(settings, warehouse, str(src))
    assert _period_totals(warehouse) == {MAY: (len(restated), billed_total(restated))}


def test_athena_parquet_flavour_loads_and_is_replaced_when_rewritten(tmp_path, warehouse, settings):
    src = tmp_path / "src"
    may, june = cur_lines(MAY, seed=1), cur_lines(JUNE, seed=2, commitments=False)
    write_athena(src, may, MAY)
    write_athena(src, june, JUNE)
    report = runner.ingest(settings, warehouse, str(src))
    assert report.format == "cur_legacy" and report.counts.files_seen == 2     # the status table is not data
    assert _period_totals(warehouse) == {MAY: (len(may), billed_total(may)), JUNE: (len(june), billed_total(june))}
    endpoint_tags = _rows(warehouse, "select distinct tags from raw.cost_lines where line_item_type = 'Usage' "
                                     "and usage_type = 'USE1-Host:ml.g5.2xlarge' and billing_period = ?", [MAY])
    assert endpoint_tags == [({"user_team": "ml-platform", "user_cost_center": "CC-200"},)]
    assert _rows(warehouse, "select distinct dataset from raw.cost_lines") == [
        (f"cur_legacy:{src}/cur/acme-athena/acme-athena",)]
    restated = cur_lines(JUNE, seed=3, days=3, commitments=False)
    write_athena(src, restated, JUNE)
    runner.ingest(settings, warehouse, str(src))
    assert _period_totals(warehouse) == {MAY: (len(may), billed_total(may)),
                                         JUNE: (len(restated), billed_total(restated))}


def test_reingest_is_a_noop(tmp_path, warehouse, settings):
    _two_months(tmp_path / "src")
    runner.ingest(settings, warehouse, str(tmp_path / "src"))
    before = snapshot(warehouse)
    again = runner.ingest(settings, warehouse, str(tmp_path / "src"))
    assert (again.counts.files_skipped, again.counts.rows_read) == (7, 0)
    after = snapshot(warehouse)
    assert {k: v for k, v in after.items() if k != "meta.loads(ok)"} == \
           {k: v for k, v in before.items() if k != "meta.loads(ok)"}


def test_loads_from_s3(tmp_path, warehouse, s3_bucket, s3_settings):
    may, june = _two_months(tmp_path / "src")
    s3_bucket.upload_tree(tmp_path / "src")
    report = runner.ingest(s3_settings, warehouse, s3_bucket.uri("cur"))
    assert report.format == "cur_legacy" and report.counts.files_loaded == 7
    assert _period_totals(warehouse) == {MAY: (len(may), billed_total(may)), JUNE: (len(june), billed_total(june))}
    assert _rows(warehouse, "select distinct dataset from raw.cost_lines") == [
        (f"cur_legacy:s3://{s3_bucket.name}/{REPORT}",)]
    assert runner.ingest(s3_settings, warehouse, s3_bucket.uri("cur")).counts.files_skipped == 7


def test_non_numeric_cost_is_quarantined_with_its_row_and_the_rest_loads(tmp_path, warehouse, settings):
    lines = cur_lines(MAY, seed=5, days=1)
    lines[2]["line_item_unblended_cost"] = "N/A"
    write_legacy(tmp_path / "src", lines, MAY, assembly=ASSEMBLY_A)
    report = runner.ingest(settings, warehouse, str(tmp_path / "src"))
    assert (report.counts.rows_read, report.counts.rows_quarantined) == (len(lines), 1)
    assert _rows(warehouse, "select line_no, reason, field, value from meta.quarantine") == [
        (4, "value is not a decimal number", "billed_cost", "N/A")]
    good = lines[:2] + lines[3:]
    assert _period_totals(warehouse) == {MAY: (len(good), billed_total(good))}


def test_file_without_unblended_cost_column_fails_by_name_and_other_months_load(tmp_path, warehouse, settings):
    src = tmp_path / "src"
    write_legacy(src, cur_lines(MAY, seed=1, days=1), MAY, assembly=ASSEMBLY_A, drop=("lineItem/UnblendedCost",))
    june = cur_lines(JUNE, seed=2, days=1)
    write_legacy(src, june, JUNE, assembly=ASSEMBLY_B)
    report = runner.ingest(settings, warehouse, str(src))
    assert report.counts.files_failed == 1
    assert f"{ASSEMBLY_A}/acme-cur-1.csv.gz has no line_item_unblended_cost (lineItem/UnblendedCost) column" in \
        report.counts.failures[0]
    assert _period_totals(warehouse) == {JUNE: (len(june), billed_total(june))}


def test_truncated_gzip_and_missing_report_key_fail_their_month_by_name(tmp_path, warehouse, settings):
    src = tmp_path / "src"
    truncated = write_legacy(src, cur_lines(MAY, seed=1), MAY, assembly=ASSEMBLY_A, files=2)[1]
    truncated.write_bytes(truncated.read_bytes()[:200])
    june_files = write_legacy(src, cur_lines(JUNE, seed=2), JUNE, assembly=ASSEMBLY_B, files=2)
    june_files[0].unlink()
    july = cur_lines(date(2024, 7, 1), seed=3, days=1)
    write_legacy(src, july, date(2024, 7, 1), assembly="7b6a5c4d-3e2f-4a1b-9c8d-7e6f5a4b3c2d")
    report = runner.ingest(settings, warehouse, str(src))
    failures = " | ".join(report.counts.failures)
    assert report.counts.files_failed == 2
    assert f"{ASSEMBLY_A}/acme-cur-2.csv.gz is not a complete gzip file" in failures
    assert "lists 2 data files but 1 do not exist" in failures and "acme-cur-1.csv.gz" in failures
    assert _period_totals(warehouse) == {date(2024, 7, 1): (len(july), billed_total(july))}


def test_tag_column_names_are_quoted_as_identifiers_never_interpolated(tmp_path, warehouse, settings):
    lines = cur_lines(MAY, seed=6, days=1)
    hostile = 'user:x"); drop table raw.cost_lines; --'
    lines[0]["resource_tags"] = dict(lines[0]["resource_tags"], **{hostile: "v1", "user:it's": "v2"})
    write_legacy(tmp_path / "src", lines, MAY, assembly=ASSEMBLY_A)
    runner.ingest(settings, warehouse, str(tmp_path / "src"))
    assert _period_totals(warehouse) == {MAY: (len(lines), billed_total(lines))}
    tags = _rows(warehouse, "select tags from raw.cost_lines where _source_row = 2")[0][0]
    assert tags["user_x_drop_table_raw_cost_lines"] == "v1" and tags["user_it_s"] == "v2"


@pytest.mark.parametrize("key, expected", [
    ("user:CostCenter", "user_cost_center"), ("aws:createdBy", "aws_created_by"), ("user:team", "user_team"),
    ("user_cost_center", "user_cost_center"), ("user:ARN", "user_a_r_n"), ("user:it's  x", "user_it_s_x")])
def test_tag_keys_normalise_the_same_in_python_and_sql(key, expected):
    sql = duckdb.connect().execute(f"select {tag_key_sql('$k')}", {"k": key}).fetchone()[0]
    assert snake(key) == sql == expected


@pytest.mark.slow
@pytest.mark.parametrize("point", ["ingest:after-batch", "ingest:before-commit"])
def test_killed_run_leaves_warehouse_unchanged_and_next_run_completes(tmp_path, warehouse, settings, point):
    src = tmp_path / "src"
    _, june = _two_months(src)
    runner.ingest(settings, warehouse, str(src))
    before = snapshot(warehouse)
    newer = cur_lines(MAY, seed=8, days=3)
    write_legacy(src, newer, MAY, assembly=ASSEMBLY_B)
    killed = run_cli_process(warehouse, "ingest", str(src), env={"COSTWARDEN_KILL_AT": point})
    assert killed.returncode == -9, killed.stderr
    assert snapshot(warehouse) == before
    finished = run_cli_process(warehouse, "ingest", str(src))
    assert finished.returncode == 0, finished.stderr
    assert _period_totals(warehouse) == {MAY: (len(newer), billed_total(newer)), JUNE: (len(june), billed_total(june))}
