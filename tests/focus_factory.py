"""FOCUS 1.0 / 1.1 / 1.2 fixtures per provider flavour (AWS, Azure, Google Cloud, Oracle OCI), in each provider's
real delivery layout, as CSV, gzip CSV or Parquet.

Rows are dicts of strings exactly as an exporter writes them (None = empty), so tests compute expected totals
from the written strings with Decimal. Seeded (random.Random) so every run writes the same bytes.
"""

from __future__ import annotations

import csv
import gzip
import io
import json
import os
import random
from collections import defaultdict
from datetime import date, datetime, timedelta, timezone
from decimal import Decimal
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq

SPEC_1_0 = [
    "AvailabilityZone", "BilledCost", "BillingAccountId", "BillingAccountName", "BillingCurrency",
    "BillingPeriodEnd", "BillingPeriodStart", "ChargeCategory", "ChargeClass", "ChargeDescription",
    "ChargeFrequency", "ChargePeriodEnd", "ChargePeriodStart", "CommitmentDiscountCategory", "CommitmentDiscountId",
    "CommitmentDiscountName", "CommitmentDiscountStatus", "CommitmentDiscountType", "ConsumedQuantity",
    "ConsumedUnit", "ContractedCost", "ContractedUnitPrice", "EffectiveCost", "InvoiceIssuerName", "ListCost",
    "ListUnitPrice", "PricingCategory", "PricingQuantity", "PricingUnit", "ProviderName", "PublisherName",
    "RegionId", "RegionName", "ResourceId", "ResourceName", "ResourceType", "ServiceCategory", "ServiceName",
    "SkuId", "SkuPriceId", "SubAccountId", "SubAccountName", "Tags",
]
SPEC_1_1 = sorted(SPEC_1_0 + ["CapacityReservationId", "CapacityReservationStatus", "CommitmentDiscountQuantity",
                              "CommitmentDiscountUnit", "ServiceSubcategory", "SkuMeter", "SkuPriceDetails"])
SPEC_1_2 = sorted(SPEC_1_1 + ["BillingAccountType", "InvoiceId", "PricingCurrency",
                              "PricingCurrencyContractedUnitPrice", "PricingCurrencyEffectiveCost",
                              "PricingCurrencyListUnitPrice", "SubAccountType"])
SPEC = {"1.0": SPEC_1_0, "1.1": SPEC_1_1, "1.2": SPEC_1_2}
# Provider columns beside the spec's (AWS's per its Data Exports tables; the others as their exports show them).
EXTRAS = {
    ("aws", "1.0"): ["x_CostCategories", "x_Discounts", "x_Operation", "x_ServiceCode", "x_UsageType"],
    ("aws", "1.2"): ["x_Discounts", "x_Operation", "x_ServiceCode"],
    "azure": ["x_BillingProfileId", "x_ResourceGroupName", "x_SkuMeterCategory"],
    "gcp": [],
    "oci": ["oci_ReferenceNumber", "oci_CompartmentName"],
}
NUMERIC = {"BilledCost", "EffectiveCost", "ListCost", "ContractedCost", "ListUnitPrice", "ContractedUnitPrice",
           "PricingQuantity", "ConsumedQuantity", "CommitmentDiscountQuantity", "PricingCurrencyEffectiveCost",
           "PricingCurrencyListUnitPrice", "PricingCurrencyContractedUnitPrice"}
TIMES = {"BillingPeriodStart", "BillingPeriodEnd", "ChargePeriodStart", "ChargePeriodEnd"}
MAPS = {"Tags", "SkuPriceDetails", "x_CostCategories", "x_Discounts"}

_ACCOUNTS = {
    "aws": dict(ProviderName="AWS", PublisherName="AWS", InvoiceIssuerName="AWS", BillingAccountId="123456789012",
                BillingAccountName="Acme Corp", BillingCurrency="USD", SubAccountId="111122223333",
                SubAccountName="ml-platform", RegionId="us-east-1", RegionName="US East (N. Virginia)",
                BillingAccountType="Billing Account", SubAccountType="Linked Account", PricingCurrency="USD"),
    "azure": dict(ProviderName="Microsoft", PublisherName="Microsoft", InvoiceIssuerName="Microsoft",
                  BillingAccountId="/providers/Microsoft.Billing/billingAccounts/8611537",
                  BillingAccountName="Contoso", BillingCurrency="EUR",
                  SubAccountId="/subscriptions/0f1e2d3c-4b5a-6978-8796-a5b4c3d2e1f0", SubAccountName="ml-prod",
                  RegionId="swedencentral", RegionName="Sweden Central", BillingAccountType="Billing Profile",
                  SubAccountType="Subscription", PricingCurrency="USD"),
    "gcp": dict(ProviderName="Google Cloud", PublisherName="Google Cloud", InvoiceIssuerName="Google Cloud",
                BillingAccountId="01A2B3-C4D5E6-F7A8B9", BillingAccountName="Acme billing", BillingCurrency="USD",
                SubAccountId="acme-ml-prod", SubAccountName="acme-ml-prod", RegionId="us-central1",
                RegionName="Iowa", BillingAccountType="Billing Account", SubAccountType="Project",
                PricingCurrency="USD"),
    "oci": dict(ProviderName="Oracle", PublisherName="Oracle", InvoiceIssuerName="Oracle",
                BillingAccountId="ocid1.tenancy.oc1..aaaaaaaa3kq7c5z", BillingAccountName="acme",
                BillingCurrency="USD", SubAccountId="ocid1.compartment.oc1..aaaaaaaaml42", SubAccountName="ml",
                RegionId="us-chicago-1", RegionName="us-chicago-1", BillingAccountType="Tenancy",
                SubAccountType="Compartment", PricingCurrency="USD"),
}
# Daily usage lines: (ServiceName, ServiceCategory, subcategory, resource id, SKU meter / usage type, unit,
# unit price, x_ServiceCode, x_Operation).
_USAGE = {
    "aws": [
        ("Amazon Bedrock", "AI and Machine Learning", "Generative AI",
         "arn:aws:bedrock:us-east-1::foundation-model/anthropic.claude-3-5-sonnet-20240620-v1:0",
         "USE1-Claude3.5Sonnet-input-tokens", "1K tokens", "0.003", "AmazonBedrock", "InvokeModelInference"),
        ("Amazon Bedrock", "AI and Machine Learning", "Generative AI",
         "arn:aws:bedrock:us-east-1::foundation-model/anthropic.claude-3-5-sonnet-20240620-v1:0",
         "USE1-Claude3.5Sonnet-output-tokens", "1K tokens", "0.015", "AmazonBedrock", "InvokeModelInference"),
        ("Amazon Elastic Compute Cloud", "Compute", "Virtual Machines",
         "arn:aws:ec2:us-east-1:111122223333:instance/i-0a1b2c3d4e5f60718", "USE1-BoxUsage:g5.12xlarge", "Hrs",
         "5.672", "AmazonEC2", "RunInstances"),
        ("Amazon Simple Storage Service", "Storage", "Object Storage", "arn:aws:s3:::acme-training-data",
         "USE1-TimedStorage-ByteHrs", "GB-Mo", "0.023", "AmazonS3", "StandardStorage"),
    ],
    "azure": [
        ("Azure OpenAI", "AI and Machine Learning", "Generative AI",
         "/subscriptions/0f1e2d3c-4b5a-6978-8796-a5b4c3d2e1f0/resourcegroups/rg-ai/providers/"
         "microsoft.cognitiveservices/accounts/contoso-aoai", "gpt-4o-0806-Inp-glbl Tokens", "1K", "0.0025",
         None, None),
        ("Azure OpenAI", "AI and Machine Learning", "Generative AI",
         "/subscriptions/0f1e2d3c-4b5a-6978-8796-a5b4c3d2e1f0/resourcegroups/rg-ai/providers/"
         "microsoft.cognitiveservices/accounts/contoso-aoai", "gpt-4o-0806-Outp-glbl Tokens", "1K", "0.01",
         None, None),
        ("Virtual Machines", "Compute", "Virtual Machines",
         "/subscriptions/0f1e2d3c-4b5a-6978-8796-a5b4c3d2e1f0/resourcegroups/rg-ai/providers/"
         "microsoft.compute/virtualmachines/gpu-worker-1", "NC24ads A100 v4", "1 Hour", "3.673", None, None),
        ("Storage Accounts", "Storage", "Object Storage",
         "/subscriptions/0f1e2d3c-4b5a-6978-8796-a5b4c3d2e1f0/resourcegroups/rg-ai/providers/"
         "microsoft.storage/storageaccounts/contosodata", "Hot LRS Data Stored", "1 GB/Month", "0.0184",
         None, None),
    ],
    "gcp": [
        ("Vertex AI", "AI and Machine Learning", "Generative AI",
         "//aiplatform.googleapis.com/projects/acme-ml-prod/locations/us-central1/publishers/google/models/"
         "gemini-1.5-pro", "Gemini 1.5 Pro Input Characters", "count", "0.0000003125", None, None),
        ("Vertex AI", "AI and Machine Learning", "Generative AI",
         "//aiplatform.googleapis.com/projects/acme-ml-prod/locations/us-central1/publishers/google/models/"
         "gemini-1.5-pro", "Gemini 1.5 Pro Output Characters", "count", "0.00000125", None, None),
        ("Compute Engine", "Compute", "Virtual Machines",
         "//compute.googleapis.com/projects/acme-ml-prod/zones/us-central1-a/instances/trainer-1",
         "Nvidia Tesla A100 GPU running in Americas", "hour", "2.933908", None, None),
        ("Cloud Storage", "Storage", "Object Storage", "//storage.googleapis.com/projects/_/buckets/acme-datasets",
         "Standard Storage US Regional", "gibibyte month", "0.02", None, None),
    ],
    "oci": [
        ("Generative AI", "AI and Machine Learning", "Generative AI",
         "ocid1.generativeaiendpoint.oc1.us-chicago-1.amaaaaaaqkz5", "Generative AI - Large Cohere",
         "10,000 Transactions", "0.0218", None, None),
        ("Compute", "Compute", "Virtual Machines", "ocid1.instance.oc1.us-chicago-1.anxxeljrgpu7",
         "Compute - GPU - A10", "GPU Per Hour", "2", None, None),
        ("Object Storage", "Storage", "Object Storage", "ocid1.bucket.oc1.us-chicago-1.aaaaaaaadata",
         "Object Storage - Storage", "Gigabyte Storage Capacity Per Month", "0.0255", None, None),
    ],
}


def _ts(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


def _money(rng: random.Random, low: float, high: float) -> str:
    """A positive amount with 2 to 10 decimals, as exporters print them (never scientific notation)."""
    places = rng.choice([2, 4, 6, 8, 10])
    return str(Decimal(str(round(rng.uniform(low, high), places))).quantize(Decimal(1).scaleb(-places)))


def _next_month(day: date) -> date:
    return (day.replace(day=28) + timedelta(days=4)).replace(day=1)


def focus_rows(provider: str, period: date, *, days: int = 2, seed: int = 1, first_day: int = 1,
               one_off: bool = True) -> list[dict]:
    """Rows for `days` days of one billing period: AI, compute and storage usage, plus (when one_off) a tax row,
    a credit (negative costs), a commitment purchase and usage covered by it (zero billed, positive list cost)."""
    rng = random.Random(f"{provider}-{period}-{seed}")
    start = datetime(period.year, period.month, 1, tzinfo=timezone.utc)
    end = datetime.combine(_next_month(period), datetime.min.time(), timezone.utc)
    base = dict(_ACCOUNTS[provider], BillingPeriodStart=_ts(start), BillingPeriodEnd=_ts(end),
                InvoiceId=f"INV-{provider.upper()}-{period:%Y%m}")
    tags = json.dumps({"team": "search", "env": "prod", "cost-center": "cc-1042"})
    rows = []
    for offset in range(days):
        day = start + timedelta(days=first_day - 1 + offset)
        for n, (service, category, sub, resource, meter, unit, price, code, op) in enumerate(_USAGE[provider]):
            quantity = Decimal(str(round(rng.uniform(10, 5000), 3)))
            billed = (quantity * Decimal(price)).quantize(Decimal("0.0000000001"))
            row = dict(base, ChargePeriodStart=_ts(day), ChargePeriodEnd=_ts(day + timedelta(days=1)),
                       ChargeCategory="Usage", ChargeFrequency="Usage-Based", PricingCategory="Standard",
                       ServiceName=service, ServiceCategory=category, ServiceSubcategory=sub, ResourceId=resource,
                       ResourceName=resource.rsplit("/", 1)[-1], ResourceType=sub, SkuId=f"SKU-{provider}-{n}",
                       SkuPriceId=f"SKUPRICE-{provider}-{n}", SkuMeter=meter, PricingUnit=unit,
                       PricingQuantity=str(quantity), ConsumedQuantity=str(quantity), ConsumedUnit=unit,
                       ListUnitPrice=price, ContractedUnitPrice=price, BilledCost=str(billed),
                       EffectiveCost=str(billed), ListCost=str(billed), ContractedCost=str(billed),
                       ChargeDescription=f"{meter} in {base['RegionName']}", Tags=tags,
                       AvailabilityZone=f"{base['RegionId']}a" if provider == "aws" else None,
                       x_ServiceCode=code, x_Operation=op, x_UsageType=meter if provider == "aws" else None)
            rows.append(row)
    if one_off:
        rows.extend(_one_off_rows(provider, base, start, end, rng, tags))
    return rows


def _one_off_rows(provider: str, base: dict, start: datetime, end: datetime, rng, tags: str) -> list[dict]:
    month = dict(base, ChargePeriodStart=_ts(start), ChargePeriodEnd=_ts(end), Tags=None)
    ai_service = _USAGE[provider][0][0]
    commitment = f"commitment-{provider}-3yr-0001"
    tax = _money(rng, 1, 40)
    credit = "-" + _money(rng, 5, 50)
    purchase = _money(rng, 500, 900)
    list_cost = _money(rng, 3, 9)
    effective = _money(rng, 1, 3)
    return [
        dict(month, ChargeCategory="Tax", ChargeFrequency="One-Time", ServiceName=ai_service,
             ServiceCategory="AI and Machine Learning", BilledCost=tax, EffectiveCost=tax, ListCost=tax,
             ContractedCost=tax, ChargeDescription="Tax for the billing period"),
        dict(month, ChargeCategory="Credit", ChargeFrequency="One-Time", ServiceName=ai_service,
             ServiceCategory="AI and Machine Learning", BilledCost=credit, EffectiveCost=credit, ListCost=credit,
             ContractedCost=credit, ChargeDescription="Promotional credit: generative AI startup programme"),
        dict(month, ChargeCategory="Purchase", ChargeFrequency="Recurring", ServiceName="Compute commitment",
             ServiceCategory="Compute", CommitmentDiscountId=commitment, CommitmentDiscountCategory="Spend",
             CommitmentDiscountType="Compute Savings Plan", BilledCost=purchase, EffectiveCost="0",
             ListCost=purchase, ContractedCost=purchase, ChargeDescription="3 year no upfront commitment fee"),
        dict(base, ChargePeriodStart=_ts(start), ChargePeriodEnd=_ts(start + timedelta(days=1)),
             ChargeCategory="Usage", ChargeFrequency="Usage-Based", PricingCategory="Committed",
             ServiceName=_USAGE[provider][2][0], ServiceCategory="Compute", ResourceId=_USAGE[provider][2][3],
             CommitmentDiscountId=commitment, CommitmentDiscountStatus="Used", BilledCost="0",
             EffectiveCost=effective, ListCost=list_cost, ContractedCost=list_cost, PricingQuantity="1",
             PricingUnit="Hours", Tags=tags, ChargeDescription="Usage covered by a commitment"),
    ]


def columns_for(provider: str, version: str) -> list[str]:
    extras = EXTRAS.get((provider, version), EXTRAS.get((provider, "1.0"))) if provider == "aws" \
        else EXTRAS[provider]
    return SPEC[version] + extras


def billed_by_period(rows: list[dict]) -> dict[date, Decimal]:
    """Expected sum(BilledCost) per billing period, from the strings written."""
    totals: dict[date, Decimal] = defaultdict(Decimal)
    for row in rows:
        totals[date.fromisoformat(row["BillingPeriodStart"][:10]).replace(day=1)] += Decimal(row["BilledCost"])
    return dict(totals)


# ---- file writers ------------------------------------------------------------------------------------------------

def csv_bytes(rows: list[dict], columns: list[str], *, header: list[str] | None = None) -> bytes:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(header or columns)
    for row in rows:
        writer.writerow(["" if row.get(c) is None else row[c] for c in columns])
    return out.getvalue().encode("utf-8")


def parquet_bytes(rows: list[dict], columns: list[str], *, lowercase: bool = False, tz: str | None = "UTC") -> bytes:
    """Typed like the providers' Parquet: costs double, periods timestamps, Tags a map."""
    arrays, fields = [], []
    for name in columns:
        values = [row.get(name) for row in rows]
        if name in NUMERIC:
            kind, data = pa.float64(), [None if v is None else float(v) for v in values]
        elif name in TIMES:
            kind = pa.timestamp("ms", tz=tz)
            data = [None if v is None else datetime.strptime(v, "%Y-%m-%dT%H:%M:%SZ") for v in values]
        elif name in MAPS:
            kind = pa.map_(pa.string(), pa.float64() if name == "x_Discounts" else pa.string())
            data = [None if v is None else list(json.loads(v).items()) for v in values]
        else:
            kind, data = pa.string(), values
        arrays.append(pa.array(data, kind))
        fields.append(pa.field(name.lower() if lowercase else name, kind))
    buffer = io.BytesIO()
    pq.write_table(pa.Table.from_arrays(arrays, schema=pa.schema(fields)), buffer, compression="snappy")
    return buffer.getvalue()


def write_file(path: Path, rows: list[dict], columns: list[str], fmt: str, *, lowercase: bool = False,
               modified: datetime | None = None) -> Path:
    """fmt: csv | csv.gz | parquet."""
    path.parent.mkdir(parents=True, exist_ok=True)
    if fmt == "parquet":
        path.write_bytes(parquet_bytes(rows, columns, lowercase=lowercase))
    else:
        data = csv_bytes(rows, columns)
        path.write_bytes(gzip.compress(data, mtime=0) if fmt == "csv.gz" else data)
    if modified is not None:
        os.utime(path, (modified.timestamp(), modified.timestamp()))
    return path


def _shards(rows: list[dict], count: int) -> list[list[dict]]:
    return [rows[i::count] for i in range(count)] if count > 1 else [rows]


def _suffix(fmt: str) -> str:
    return {"parquet": "snappy.parquet", "csv.gz": "csv.gz", "csv": "csv"}[fmt]


# ---- provider layouts --------------------------------------------------------------------------------------------

def write_aws_export(root: Path, rows: list[dict], period: date, *, export: str = "focus-export",
                     version: str = "1.2", fmt: str = "parquet", execution: str | None = None, files: int = 1,
                     manifest: bool = True, execution_id: str = "exec-1", prefix: str = "billing",
                     lowercase: bool | None = None) -> list[Path]:
    """AWS Data Exports (FOCUS_1_0_AWS / FOCUS_1_2_AWS) under <prefix>/<export>/data/BILLING_PERIOD=YYYY-MM/
    [<execution>/] with a manifest under metadata/. Parquet names are lowercase (Glue style) unless told."""
    lowercase = fmt == "parquet" if lowercase is None else lowercase
    columns = columns_for("aws", version)
    part = f"BILLING_PERIOD={period:%Y-%m}"
    sub = f"{execution}/" if execution else ""
    written = []
    for n, shard in enumerate(_shards(rows, files), start=1):
        rel = f"{prefix}/{export}/data/{part}/{sub}{export}-{n:05d}.{_suffix(fmt)}"
        written.append(write_file(root / rel, shard, columns, fmt, lowercase=lowercase))
    if manifest:
        doc = {
            "executionId": execution_id, "exportName": export,
            "exportArn": f"arn:aws:bcm-data-exports:us-east-1:123456789012:export/{export}-0f1e2d3c",
            "billingPeriod": {"start": f"{period:%Y-%m}-01", "end": f"{_next_month(period):%Y-%m-%d}"},
            "columns": [{"name": c.lower() if lowercase else c, "type": "double" if c in NUMERIC else "string"}
                        for c in columns],
            "dataFiles": [f"s3://acme-billing/{p.relative_to(root).as_posix()}" for p in written],
        }
        path = root / f"{prefix}/{export}/metadata/{part}/{sub}{export}-Manifest.json"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(doc, indent=2))
        written.append(path)
    return written


def write_azure_export(root: Path, rows: list[dict], period: date, *, export: str = "focus-daily",
                       version: str = "1.0", fmt: str = "csv.gz", run_id: str = "8e6a4a4c-0001",
                       submitted: datetime | None = None, files: int = 1, manifest: bool = True) -> list[Path]:
    """Azure Cost Management FOCUS export: <dir>/<export>/<YYYYMMDD-YYYYMMDD>/<run-id>/part_0_000N.csv.gz plus
    manifest.json listing the blobs (container-relative names)."""
    last = _next_month(period) - timedelta(days=1)
    folder = f"exports/{export}/{period:%Y%m%d}-{last:%Y%m%d}/{run_id}"
    columns = columns_for("azure", version)
    written, blobs = [], []
    for n, shard in enumerate(_shards(rows, files), start=1):
        name = f"part_0_{n:04d}.{'parquet' if fmt == 'parquet' else _suffix(fmt)}"
        path = write_file(root / folder / name, shard, columns, fmt, lowercase=False)
        written.append(path)
        blobs.append({"blobName": f"{folder}/{name}", "byteCount": path.stat().st_size, "dataRowCount": len(shard)})
    if manifest:
        submitted = submitted or datetime(period.year, period.month, 2, 7, 36, 38, tzinfo=timezone.utc)
        doc = {
            "manifestVersion": "2024-04-01", "byteCount": sum(b["byteCount"] for b in blobs),
            "blobCount": len(blobs), "dataRowCount": len(rows),
            "exportConfig": {"exportName": export, "resourceId": f"/subscriptions/x/providers/"
                             f"Microsoft.CostManagement/exports/{export}", "dataVersion": version,
                             "apiVersion": "2023-07-01-preview", "type": "FocusCost", "timeFrame": "MonthToDate",
                             "granularity": "Daily"},
            "deliveryConfig": {"partitionData": True, "dataOverwriteBehavior": "CreateNewReport",
                               "fileFormat": "Parquet" if fmt == "parquet" else "Csv",
                               "compressionMode": "snappy" if fmt == "parquet" else "gzip"},
            "runInfo": {"executionType": "Scheduled",
                        "submittedTime": submitted.strftime("%Y-%m-%dT%H:%M:%S.") + "8424207Z",
                        "runId": run_id, "startDate": f"{period:%Y-%m-%d}T00:00:00",
                        "endDate": f"{last:%Y-%m-%d}T00:00:00"},
            "blobs": blobs,
        }
        path = root / folder / "manifest.json"
        path.write_text(json.dumps(doc, indent=2))
        written.append(path)
    return written


def write_gcp_export(folder: Path, rows: list[dict], *, version: str = "1.0", fmt: str = "csv",
                     files: int = 1, name: str = "focus_export", modified: datetime | None = None) -> list[Path]:
    """BigQuery FOCUS view extracted to Cloud Storage with a wildcard URI (focus_export_000000000000.csv ...)."""
    columns = columns_for("gcp", version)
    suffix = "parquet" if fmt == "parquet" else _suffix(fmt)
    return [write_file(folder / f"{name}_{n:012d}.{suffix}", shard, columns, fmt, modified=modified)
            for n, shard in enumerate(_shards(rows, files))]


def write_oci_report(root: Path, rows: list[dict], day: date, *, version: str = "1.0", sequence: int = 1,
                     modified: datetime | None = None) -> Path:
    """OCI FOCUS report: FOCUS Reports/YYYY/MM/DD/<tenancy-seq>.csv.gz, one file adding that day's rows."""
    for row in rows:
        row.setdefault("oci_ReferenceNumber", f"ref-{day:%Y%m%d}-{sequence}")
        row.setdefault("oci_CompartmentName", "ml")
    path = root / "FOCUS Reports" / f"{day:%Y}" / f"{day:%m}" / f"{day:%d}" / f"0001000001{sequence:06d}.csv.gz"
    return write_file(path, rows, columns_for("oci", version), "csv.gz", modified=modified)
