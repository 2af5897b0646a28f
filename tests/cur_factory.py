"""Realistic AWS CUR fixtures built in code (seeded): CUR 2.0 Parquet (real MAP columns) and gzip CSV with manifests
for OVERWRITE_REPORT and CREATE_NEW_REPORT, legacy CUR gzip/zip CSV with assemblies, and the legacy Athena Parquet.

Lines are dicts keyed by CUR 2.0 column names with money as decimal strings, so tests compute expected totals with
Decimal from exactly what was written. Resource tag keys are kept as the user typed them (`user:CostCenter`); each
writer spells them the way its format does.
"""

from __future__ import annotations

import csv
import gzip
import io
import json
import random
import uuid
import zipfile
from datetime import date, datetime, timedelta, timezone
from decimal import Decimal
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq

PAYER = "111122223333"
ACCOUNTS = {"444455556666": "ml-platform", "777788889999": "search-prod"}
BUCKET = "acme-billing"
# The Athena-style key AWS gives each tag in CUR 2.0's resource_tags (and legacy Athena column names).
TAG_KEYS = {"user:team": "user_team", "user:CostCenter": "user_cost_center", "aws:createdBy": "aws_created_by",
            "user:Project": "user_project"}
SP_ARN = "arn:aws:savingsplans::111122223333:savingsplan/3f1c2d4e-5a6b-7c8d-9e0f-a1b2c3d4e5f6"
RI_ARN = "arn:aws:ec2:us-east-1:111122223333:reserved-instances/7a8b9c0d-1e2f-3a4b-5c6d-7e8f9a0b1c2d"

CUR2_SCHEMA: list[tuple[str, str]] = [
    ("identity_line_item_id", "str"), ("identity_time_interval", "str"), ("bill_invoice_id", "str"),
    ("bill_invoicing_entity", "str"), ("bill_billing_entity", "str"), ("bill_bill_type", "str"),
    ("bill_payer_account_id", "str"), ("bill_payer_account_name", "str"), ("bill_billing_period_start_date", "ts"),
    ("bill_billing_period_end_date", "ts"), ("line_item_usage_account_id", "str"),
    ("line_item_usage_account_name", "str"), ("line_item_line_item_type", "str"), ("line_item_usage_start_date", "ts"),
    ("line_item_usage_end_date", "ts"), ("line_item_product_code", "str"), ("line_item_usage_type", "str"),
    ("line_item_operation", "str"), ("line_item_availability_zone", "str"), ("line_item_resource_id", "str"),
    ("line_item_usage_amount", "double"), ("line_item_currency_code", "str"), ("line_item_unblended_rate", "str"),
    ("line_item_unblended_cost", "double"), ("line_item_net_unblended_cost", "double"),
    ("line_item_line_item_description", "str"), ("line_item_legal_entity", "str"), ("line_item_tax_type", "str"),
    ("line_item_iam_principal", "str"), ("pricing_unit", "str"), ("pricing_term", "str"),
    ("pricing_public_on_demand_cost", "double"), ("pricing_public_on_demand_rate", "str"), ("product", "map"),
    ("product_product_family", "str"), ("product_region_code", "str"), ("product_servicecode", "str"),
    ("product_sku", "str"), ("product_instance_type", "str"), ("reservation_reservation_a_r_n", "str"),
    ("reservation_effective_cost", "double"), ("reservation_unused_amortized_upfront_fee_for_billing_period", "double"),
    ("reservation_unused_recurring_fee", "double"), ("savings_plan_savings_plan_a_r_n", "str"),
    ("savings_plan_savings_plan_effective_cost", "double"), ("savings_plan_total_commitment_to_date", "double"),
    ("savings_plan_used_commitment", "double"), ("resource_tags", "map"), ("tags", "map"), ("cost_category", "map"),
    ("discount", "map_double"),
]

LEGACY_NAMES = {
    "identity_line_item_id": "identity/LineItemId", "identity_time_interval": "identity/TimeInterval",
    "bill_invoice_id": "bill/InvoiceId", "bill_invoicing_entity": "bill/InvoicingEntity",
    "bill_billing_entity": "bill/BillingEntity", "bill_bill_type": "bill/BillType",
    "bill_payer_account_id": "bill/PayerAccountId", "bill_billing_period_start_date": "bill/BillingPeriodStartDate",
    "bill_billing_period_end_date": "bill/BillingPeriodEndDate",
    "line_item_usage_account_id": "lineItem/UsageAccountId",
    "line_item_line_item_type": "lineItem/LineItemType", "line_item_usage_start_date": "lineItem/UsageStartDate",
    "line_item_usage_end_date": "lineItem/UsageEndDate", "line_item_product_code": "lineItem/ProductCode",
    "line_item_usage_type": "lineItem/UsageType", "line_item_operation": "lineItem/Operation",
    "line_item_availability_zone": "lineItem/AvailabilityZone", "line_item_resource_id": "lineItem/ResourceId",
    "line_item_usage_amount": "lineItem/UsageAmount", "line_item_currency_code": "lineItem/CurrencyCode",
    "line_item_unblended_rate": "lineItem/UnblendedRate", "line_item_unblended_cost": "lineItem/UnblendedCost",
    "line_item_net_unblended_cost": "lineItem/NetUnblendedCost",
    "line_item_line_item_description": "lineItem/LineItemDescription", "line_item_legal_entity": "lineItem/LegalEntity",
    "line_item_tax_type": "lineItem/TaxType", "pricing_unit": "pricing/unit", "pricing_term": "pricing/term",
    "pricing_public_on_demand_cost": "pricing/publicOnDemandCost",
    "pricing_public_on_demand_rate": "pricing/publicOnDemandRate", "product_product_family": "product/productFamily",
    "product_region_code": "product/regionCode", "product_servicecode": "product/servicecode",
    "product_sku": "product/sku", "product_instance_type": "product/instanceType",
    "reservation_reservation_a_r_n": "reservation/ReservationARN",
    "reservation_effective_cost": "reservation/EffectiveCost",
    "reservation_unused_amortized_upfront_fee_for_billing_period":
        "reservation/UnusedAmortizedUpfrontFeeForBillingPeriod",
    "reservation_unused_recurring_fee": "reservation/UnusedRecurringFee",
    "savings_plan_savings_plan_a_r_n": "savingsPlan/SavingsPlanARN",
    "savings_plan_savings_plan_effective_cost": "savingsPlan/SavingsPlanEffectiveCost",
    "savings_plan_total_commitment_to_date": "savingsPlan/TotalCommitmentToDate",
    "savings_plan_used_commitment": "savingsPlan/UsedCommitment",
}
LEGACY_PRODUCT = {"product_name": "product/ProductName", "region": "product/region"}


# ---- line items ----------------------------------------------------------------------------------------------------

def _money(rng: random.Random, low: float, high: float) -> str:
    return str(Decimal(str(rng.uniform(low, high))).quantize(Decimal("0.0000000001")))


def _iso(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


def _next_month(period: date) -> date:
    return (period.replace(day=28) + timedelta(days=4)).replace(day=1)


def cur_lines(period: date, *, seed: int = 1, days: int = 2, commitments: bool = True,
              tag_keys: tuple[str, ...] = ("user:team", "user:CostCenter"), cost_category: bool = False) -> list[dict]:
    """One billing period of AI-heavy usage: Bedrock tokens (first-party and Marketplace), a SageMaker endpoint,
    EC2 GPU on demand and under a Savings Plan (covered usage + negation + recurring fee), an RI (covered usage,
    fee, upfront fee), S3, and month-level Tax, Credit and Refund lines."""
    rng = random.Random(seed * 1000 + period.toordinal())
    start = datetime(period.year, period.month, 1, tzinfo=timezone.utc)
    end = datetime.combine(_next_month(period), datetime.min.time(), tzinfo=timezone.utc)
    lines: list[dict] = []

    def tags_for(team: str, center: str) -> dict:
        values = {"user:team": team, "user:CostCenter": center, "aws:createdBy": "AssumedRole:app",
                  "user:Project": "genai"}
        return {k: values[k] for k in tag_keys}

    def line(item_type: str, code: str, usage_type: str, cost: str, *, hour: datetime | None = None,
             account: str = "444455556666", **extra) -> dict:
        begin, finish = (hour, hour + timedelta(hours=1)) if hour else (start, end)
        row = {
            "identity_line_item_id": uuid.UUID(int=rng.getrandbits(128)).hex,
            "identity_time_interval": f"{_iso(begin)}/{_iso(finish)}",
            "bill_invoicing_entity": "Amazon Web Services, Inc.", "bill_billing_entity": "AWS",
            "bill_bill_type": "Anniversary", "bill_payer_account_id": PAYER, "bill_payer_account_name": "acme-payer",
            "bill_billing_period_start_date": _iso(start), "bill_billing_period_end_date": _iso(end),
            "line_item_usage_account_id": account, "line_item_usage_account_name": ACCOUNTS[account],
            "line_item_line_item_type": item_type, "line_item_usage_start_date": _iso(begin),
            "line_item_usage_end_date": _iso(finish), "line_item_product_code": code,
            "line_item_usage_type": usage_type, "line_item_currency_code": "USD", "line_item_unblended_cost": cost,
            "line_item_legal_entity": "Amazon Web Services, Inc.", "product": {"region": "us-east-1"},
            "product_region_code": "us-east-1", "pricing_term": "OnDemand",
        }
        row.update(extra)
        return row

    for day in range(days):
        for hour_of_day in (9, 15):
            hour = start + timedelta(days=day, hours=hour_of_day)
            principal = "arn:aws:sts::777788889999:assumed-role/search-app/svc-answer"
            profile = "arn:aws:bedrock:us-east-1:777788889999:application-inference-profile/k3x9p2abcd"
            common = dict(hour=hour, account="777788889999", line_item_operation="InvokeModel",
                          line_item_resource_id=profile, line_item_iam_principal=principal, pricing_unit="1K tokens",
                          product={"product_name": "Amazon Bedrock", "region": "us-east-1"},
                          product_servicecode="AmazonBedrock", resource_tags=tags_for("search", "CC-100"),
                          tags={"iamPrincipal/Team": "search"})
            for meter, low, high in (("input-tokens", 0.01, 0.4), ("output-tokens", 0.05, 1.5),
                                     ("cache-read-input-token-count", 0.001, 0.02)):
                amount = _money(rng, 10, 900)
                cost = _money(rng, low, high)
                lines.append(line("Usage", "AmazonBedrock", f"USE1-Claude3Haiku-{meter}", cost,
                                  line_item_usage_amount=amount, pricing_public_on_demand_cost=cost, **common))
            lines.append(line(
                "Usage", "c8f5q2j4marketplacecode", "USE1-MP:USE1_InputTokenCount-Units", _money(rng, 0.2, 3.0),
                hour=hour, account="777788889999", bill_billing_entity="AWS Marketplace",
                line_item_legal_entity="Anthropic, PBC", line_item_operation="Usage", pricing_unit="Units",
                line_item_usage_amount=_money(rng, 1000, 90000), line_item_iam_principal=principal,
                product={"product_name": "Claude Sonnet 4.5 (Amazon Bedrock Edition)", "region": "us-east-1"},
                resource_tags=tags_for("search", "CC-100")))
            endpoint = "arn:aws:sagemaker:us-east-1:444455556666:endpoint/reranker-prod"
            lines.append(line(
                "Usage", "AmazonSageMaker", "USE1-Host:ml.g5.2xlarge", "1.5150000000", hour=hour,
                line_item_operation="RunInstance", line_item_resource_id=endpoint, line_item_usage_amount="1",
                pricing_unit="Hrs", pricing_public_on_demand_cost="1.5150000000", product_sku="7QFC8W2JKTYHN3ZB",
                product={"product_name": "Amazon SageMaker", "region": "us-east-1"},
                product_instance_type="ml.g5.2xlarge",
                resource_tags=tags_for("ml-platform", "CC-200")))
            on_demand = "1.0060000000"
            lines.append(line(
                "Usage", "AmazonEC2", "BoxUsage:g5.xlarge", on_demand, hour=hour, line_item_operation="RunInstances",
                line_item_resource_id="i-0a1b2c3d4e5f60718", line_item_usage_amount="1", pricing_unit="Hrs",
                line_item_net_unblended_cost="0.9557000000", pricing_public_on_demand_cost=on_demand,
                line_item_availability_zone="us-east-1a", product_instance_type="g5.xlarge",
                product={"product_name": "Amazon Elastic Compute Cloud", "region": "us-east-1"},
                resource_tags=tags_for("ml-platform", "CC-200")))
            if commitments:
                covered = dict(hour=hour, line_item_operation="RunInstances", line_item_usage_amount="1",
                               pricing_unit="Hrs", line_item_resource_id="i-0fedcba9876543210",
                               savings_plan_savings_plan_a_r_n=SP_ARN, product_instance_type="g5.xlarge",
                               product={"product_name": "Amazon Elastic Compute Cloud", "region": "us-east-1"})
                lines.append(line("SavingsPlanCoveredUsage", "AmazonEC2", "BoxUsage:g5.xlarge", on_demand,
                                  pricing_public_on_demand_cost=on_demand,
                                  savings_plan_savings_plan_effective_cost="0.6540000000", **covered))
                lines.append(line("SavingsPlanNegation", "AmazonEC2", "BoxUsage:g5.xlarge", "-" + on_demand,
                                  pricing_public_on_demand_cost="0", **covered))
                lines.append(line("DiscountedUsage", "AmazonEC2", "BoxUsage:p4d.24xlarge", "0", hour=hour,
                                  line_item_usage_amount="1", pricing_unit="Hrs", pricing_term="Reserved",
                                  reservation_reservation_a_r_n=RI_ARN, reservation_effective_cost="19.2180000000",
                                  pricing_public_on_demand_cost="32.7726000000", product_instance_type="p4d.24xlarge"))
        lines.append(line("Usage", "AmazonS3", "USE1-TimedStorage-ByteHrs", "1.81E-8",
                          hour=start + timedelta(days=day), line_item_usage_amount="9.984E-7", pricing_unit="GB-Mo",
                          line_item_resource_id="acme-model-artifacts",
                          product={"product_name": "Amazon Simple Storage Service", "region": "us-east-1"}))
    if commitments:
        lines.append(line("SavingsPlanRecurringFee", "ComputeSavingsPlans", "ComputeSP:1yrNoUpfront", "480.0000000000",
                          savings_plan_savings_plan_a_r_n=SP_ARN,
                          savings_plan_total_commitment_to_date="480.0000000000",
                          savings_plan_used_commitment="451.2500000000", account="444455556666"))
        lines.append(line("RIFee", "AmazonEC2", "HeavyUsage:p4d.24xlarge", "13836.9600000000", pricing_term="Reserved",
                          reservation_reservation_a_r_n=RI_ARN,
                          reservation_unused_amortized_upfront_fee_for_billing_period="120.5000000000",
                          reservation_unused_recurring_fee="340.2500000000"))
        lines.append(line("Fee", "AmazonEC2", "HeavyUsage:p4d.24xlarge", "5000.0000000000", bill_bill_type="Purchase",
                          reservation_reservation_a_r_n=RI_ARN))
    lines.append(line("Tax", "AmazonEC2", "", _money(rng, 40, 90), line_item_tax_type="VAT",
                      line_item_line_item_description="Tax for product code AmazonEC2"))
    lines.append(line("Credit", "AmazonBedrock", "", "-" + _money(rng, 5, 25), account="777788889999",
                      line_item_line_item_description="AWS Activate credit"))
    lines.append(line("Refund", "AmazonSageMaker", "USE1-Host:ml.g5.2xlarge", "-" + _money(rng, 1, 4),
                      line_item_line_item_description="Refund for endpoint outage"))
    if cost_category:
        for row in lines:
            row["cost_category"] = {"Environment": "prod" if row["line_item_usage_account_id"] == "777788889999"
                                    else "shared"}
    for row in lines:
        row["line_item_line_item_description"] = row.get("line_item_line_item_description") or (
            f"{row['line_item_usage_type']} {row['line_item_line_item_type']}")
    return lines


def billed_total(lines: list[dict]) -> Decimal:
    return sum((Decimal(r["line_item_unblended_cost"]) for r in lines), Decimal(0))


def expected_effective(row: dict) -> Decimal:
    """CID's amortised cost (FORMATS.md §1.3), written out independently of the product's SQL."""
    d = lambda k: Decimal(row.get(k) or "0")  # noqa: E731
    kind = row["line_item_line_item_type"]
    if kind == "SavingsPlanCoveredUsage":
        return d("savings_plan_savings_plan_effective_cost")
    if kind == "SavingsPlanRecurringFee":
        return d("savings_plan_total_commitment_to_date") - d("savings_plan_used_commitment")
    if kind in ("SavingsPlanNegation", "SavingsPlanUpfrontFee"):
        return Decimal(0)
    if kind == "DiscountedUsage":
        return d("reservation_effective_cost")
    if kind == "RIFee":
        return d("reservation_unused_amortized_upfront_fee_for_billing_period") + d("reservation_unused_recurring_fee")
    if kind == "Fee" and row.get("reservation_reservation_a_r_n"):
        return Decimal(0)
    return d("line_item_unblended_cost")


# ---- CUR 2.0 -------------------------------------------------------------------------------------------------------

def cur2_table(lines: list[dict], drop: tuple[str, ...] = ()) -> pa.Table:
    """Typed like a real CUR 2.0 Parquet file: doubles, timestamps, and MAP<string,string> columns."""
    arrays, fields = [], []
    for name, kind in CUR2_SCHEMA:
        if name in drop:
            continue
        values = [_cur2_value(name, row.get(name)) for row in lines]
        if kind == "double":
            typ, values = pa.float64(), [None if v in (None, "") else float(v) for v in values]
        elif kind == "ts":
            typ = pa.timestamp("ms")
            values = [None if not v else datetime.strptime(v, "%Y-%m-%dT%H:%M:%SZ") for v in values]
        elif kind == "map":
            typ, values = pa.map_(pa.string(), pa.string()), [list((v or {}).items()) for v in values]
        elif kind == "map_double":
            typ, values = pa.map_(pa.string(), pa.float64()), [[] for _ in values]
        else:
            typ = pa.string()
        arrays.append(pa.array(values, type=typ))
        fields.append(pa.field(name, typ))
    return pa.Table.from_arrays(arrays, schema=pa.schema(fields))


def _cur2_value(name: str, value):
    if name == "resource_tags":
        return {TAG_KEYS[k]: v for k, v in (value or {}).items()}
    return value


def cur2_csv(lines: list[dict], drop: tuple[str, ...] = (), map_style: str = "json") -> bytes:
    """Text as AWS writes it: every value a string, maps serialised (`{"k":"v"}`, or `{k=v}` with map_style)."""
    names = [n for n, _ in CUR2_SCHEMA if n not in drop]
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(names)
    for row in lines:
        cells = []
        for name in names:
            value = _cur2_value(name, row.get(name))
            if isinstance(value, dict):
                value = (json.dumps(value, separators=(",", ":")) if map_style == "json"
                         else "{" + ", ".join(f"{k}={v}" for k, v in value.items()) + "}")
            cells.append("" if value is None else value)
        writer.writerow(cells)
    return gzip.compress(out.getvalue().encode())


def write_cur2(root: Path, lines: list[dict], period: date, *, export: str = "acme-cur2", prefix: str = "exports",
               fmt: str = "parquet", files: int = 2, execution: str | None = None, manifest: str | None = "period",
               drop: tuple[str, ...] = (), map_style: str = "json") -> list[Path]:
    """One delivery of one billing period. `execution` set -> CREATE_NEW_REPORT (data in that sub-folder).
    manifest: "period" (metadata/BILLING_PERIOD=.../<export>-Manifest.json), "execution" (in the execution's own
    metadata sub-folder), or None. Returns the data files written."""
    part = f"BILLING_PERIOD={period:%Y-%m}"
    folder = root / prefix / export / "data" / part / (execution or "")
    folder.mkdir(parents=True, exist_ok=True)
    written = []
    chunk = -(-len(lines) // files)
    for n in range(files):
        rows = lines[n * chunk:(n + 1) * chunk]
        if fmt == "parquet":
            path = folder / f"{export}-{n + 1:05d}.snappy.parquet"
            pq.write_table(cur2_table(rows, drop), path, compression="snappy")
        else:
            path = folder / f"{export}-{n + 1:05d}.csv.gz"
            path.write_bytes(cur2_csv(rows, drop, map_style))
        written.append(path)
    if manifest:
        meta = root / prefix / export / "metadata" / part / (execution if manifest == "execution" and execution else "")
        meta.mkdir(parents=True, exist_ok=True)
        doc = {"executionId": execution or f"exec-{uuid.uuid4()}",
               "exportArn": f"arn:aws:bcm-data-exports:us-east-1:{PAYER}:export/{export}-0f1e2d3c",
               "exportName": export, "billingPeriod": f"{period:%Y-%m}",
               "columns": [{"name": n, "type": k} for n, k in CUR2_SCHEMA if n not in drop],
               "dataFiles": [f"s3://{BUCKET}/{p.relative_to(root).as_posix()}" for p in written],
               "additionalOutputFiles": [f"s3://{BUCKET}/{prefix}/{export}/metadata/crawler-cfn.yml"]}
        (meta / f"{export}-Manifest.json").write_text(json.dumps(doc, indent=2))
    return written


# ---- legacy CUR ----------------------------------------------------------------------------------------------------

def legacy_columns(lines: list[dict]) -> list[str]:
    """The column set AWS would write this month: only categories and keys that occur (it varies by month)."""
    names = [legacy for canon, legacy in LEGACY_NAMES.items() if any(r.get(canon) for r in lines)]
    names += [legacy for key, legacy in LEGACY_PRODUCT.items() if any(key in (r.get("product") or {}) for r in lines)]
    names += sorted({f"resourceTags/{k}" for r in lines for k in (r.get("resource_tags") or {})})
    names += sorted({f"costCategory/{k}" for r in lines for k in (r.get("cost_category") or {})})
    return names


def _legacy_value(row: dict, name: str) -> str:
    category, _, attr = name.partition("/")
    if category == "resourceTags":
        return (row.get("resource_tags") or {}).get(attr, "")
    if category == "costCategory":
        return (row.get("cost_category") or {}).get(attr, "")
    for key, legacy in LEGACY_PRODUCT.items():
        if legacy == name:
            return (row.get("product") or {}).get(key, "")
    canon = next(c for c, legacy in LEGACY_NAMES.items() if legacy == name)
    value = row.get(canon)
    if canon.endswith("_date") and value:
        value = value.replace("Z", ".000Z")       # legacy writes milliseconds: 2023-11-07T05:00:00.000Z
    return value or ""


def legacy_csv(lines: list[dict], columns: list[str]) -> str:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(columns)
    for row in lines:
        writer.writerow([_legacy_value(row, c) for c in columns])
    return out.getvalue()


def write_legacy(root: Path, lines: list[dict], period: date, *, report: str = "acme-cur", prefix: str = "cur",
                 assembly: str | None = None, files: int = 1, compression: str = "gzip",
                 drop: tuple[str, ...] = (), latest: bool = True) -> list[Path]:
    """One legacy CUR delivery. `assembly` set -> "create new report versions" (data + its own manifest in the
    assembly folder); the top-level period manifest points at this delivery unless `latest` is False."""
    span = f"{period:%Y%m%d}-{_next_month(period):%Y%m%d}"
    period_dir = root / prefix / report / span
    folder = period_dir / (assembly or "")
    folder.mkdir(parents=True, exist_ok=True)
    columns = [c for c in legacy_columns(lines) if c not in drop]
    chunk = -(-len(lines) // files)
    written = []
    for n in range(files):
        text = legacy_csv(lines[n * chunk:(n + 1) * chunk], columns)
        if compression == "zip":
            path = folder / f"{report}-{n + 1}.csv.zip"
            with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
                archive.writestr(f"{report}-{n + 1}.csv", text)
        else:
            path = folder / f"{report}-{n + 1}.csv.gz"
            path.write_bytes(gzip.compress(text.encode()))
        written.append(path)
    doc = {"assemblyId": assembly or str(uuid.uuid4()), "account": PAYER, "reportId": uuid.uuid4().hex,
           "reportName": report, "bucket": BUCKET, "charset": "UTF-8", "contentType": "text/csv",
           "compression": "ZIP" if compression == "zip" else "GZIP",
           "billingPeriod": {"start": f"{period:%Y%m%d}T000000.000Z",
                             "end": f"{_next_month(period):%Y%m%d}T000000.000Z"},
           "columns": [{"category": c.split("/")[0], "name": c.split("/", 1)[1], "type": "OptionalString"}
                       for c in columns],
           "reportKeys": [p.relative_to(root).as_posix() for p in written],
           "additionalArtifactKeys": [{"artifactType": "RedshiftCommands",
                                       "name": f"{prefix}/{report}/{span}/{report}-RedshiftCommands.sql"}]}
    if assembly:
        (folder / f"{report}-Manifest.json").write_text(json.dumps(doc))
    if latest:
        (period_dir / f"{report}-Manifest.json").write_text(json.dumps(doc))
    return written


def write_athena(root: Path, lines: list[dict], period: date, *, report: str = "acme-athena",
                 prefix: str = "cur") -> Path:
    """The legacy CUR Athena/Parquet flavour: snake_case columns, one column per tag / product attribute."""
    base = {n: k for n, k in CUR2_SCHEMA if n in LEGACY_NAMES}
    columns: dict[str, tuple[list, pa.DataType]] = {}
    for name, kind in base.items():
        if kind == "double":
            columns[name] = ([None if not r.get(name) else float(r[name]) for r in lines], pa.float64())
        elif kind == "ts":
            columns[name] = ([datetime.strptime(r[name], "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=timezone.utc)
                              if r.get(name) else None for r in lines], pa.timestamp("ms", tz="UTC"))
        else:
            columns[name] = ([r.get(name) or None for r in lines], pa.string())
    for key in LEGACY_PRODUCT:
        columns[f"product_{key}"] = ([(r.get("product") or {}).get(key) for r in lines], pa.string())
    for original in sorted({k for r in lines for k in (r.get("resource_tags") or {})}):
        columns[f"resource_tags_{TAG_KEYS[original]}"] = (
            [(r.get("resource_tags") or {}).get(original, "") for r in lines], pa.string())
    partition = root / prefix / report / report / f"year={period.year}" / f"month={period.month}"
    path = partition / f"{report}-00001.snappy.parquet"
    path.parent.mkdir(parents=True, exist_ok=True)
    pq.write_table(pa.table({n: pa.array(v, type=t) for n, (v, t) in columns.items()}), path)
    status = root / prefix / report / "cost_and_usage_data_status" / "cost_and_usage_data_status.parquet"
    status.parent.mkdir(parents=True, exist_ok=True)
    pq.write_table(pa.table({"status": ["READY"]}), status)
    return path
