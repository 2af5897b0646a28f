"""FOCUS 1.0-1.2 columns: the allow-list, version detection, and the SELECT that maps one staged file onto
COST_COLUMNS (as text; ingest/base.py casts, validates and quarantines).

Column names match case-insensitively, so the spec's PascalCase (BilledCost) and the lowercase Glue/Athena names
of AWS's Parquet exports (billedcost) both work. Only names from the allow-list below reach SQL, always quoted.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from costwarden.errors import BadInputError

SPEC_1_0 = (
    "AvailabilityZone", "BilledCost", "BillingAccountId", "BillingAccountName", "BillingCurrency",
    "BillingPeriodEnd", "BillingPeriodStart", "ChargeCategory", "ChargeClass", "ChargeDescription",
    "ChargeFrequency", "ChargePeriodEnd", "ChargePeriodStart", "CommitmentDiscountCategory", "CommitmentDiscountId",
    "CommitmentDiscountName", "CommitmentDiscountStatus", "CommitmentDiscountType", "ConsumedQuantity",
    "ConsumedUnit", "ContractedCost", "ContractedUnitPrice", "EffectiveCost", "InvoiceIssuerName", "ListCost",
    "ListUnitPrice", "PricingCategory", "PricingQuantity", "PricingUnit", "ProviderName", "PublisherName",
    "RegionId", "RegionName", "ResourceId", "ResourceName", "ResourceType", "ServiceCategory", "ServiceName",
    "SkuId", "SkuPriceId", "SubAccountId", "SubAccountName", "Tags",
)
ADDED_1_1 = ("CapacityReservationId", "CapacityReservationStatus", "CommitmentDiscountQuantity",
             "CommitmentDiscountUnit", "ServiceSubcategory", "SkuMeter", "SkuPriceDetails")
ADDED_1_2 = ("BillingAccountType", "InvoiceId", "PricingCurrency", "PricingCurrencyContractedUnitPrice",
             "PricingCurrencyEffectiveCost", "PricingCurrencyListUnitPrice", "SubAccountType")
# Provider extension columns we read (every other x_ column is ignored on purpose).
EXTENSIONS = ("x_ServiceCode", "x_UsageType", "x_Operation")

KNOWN = {name.lower(): name for name in SPEC_1_0 + ADDED_1_1 + ADDED_1_2 + EXTENSIONS}

# Without these a file cannot be costed or placed in time: the file fails, by name.
MANDATORY = ("BilledCost", "EffectiveCost", "BillingCurrency", "ChargePeriodStart", "ChargeCategory")

# Allowed values (FOCUS 1.2), matched ignoring case, spaces, hyphens and underscores ('usage', 'USAGE',
# 'usage_based' -> the spec's spelling). Values we do not know are kept as given (ChargeCategory is then refused
# by the base with the list of allowed values).
ENUMS = {
    "ChargeCategory": ("Usage", "Purchase", "Tax", "Credit", "Adjustment"),
    "ChargeClass": ("Correction",),
    "ChargeFrequency": ("One-Time", "Recurring", "Usage-Based"),
    "PricingCategory": ("Standard", "Dynamic", "Committed", "Other"),
    "ServiceCategory": (
        "AI and Machine Learning", "Analytics", "Business Applications", "Compute", "Databases",
        "Developer Tools", "Multicloud", "Identity", "Integration", "Internet of Things",
        "Management and Governance", "Media", "Migration", "Mobile", "Networking", "Security", "Storage", "Web",
        "Other"),
}

# canonical column <- FOCUS column(s), first non-null wins; the kind says how the text is prepared.
MAPPING: list[tuple[str, tuple[str, ...], str]] = [
    ("billing_period_start", ("BillingPeriodStart",), "timestamp"),
    ("billing_period_end", ("BillingPeriodEnd",), "timestamp"),
    ("charge_period_start", ("ChargePeriodStart",), "timestamp"),
    ("charge_period_end", ("ChargePeriodEnd",), "timestamp"),
    ("provider_name", ("ProviderName",), "text"),
    ("publisher_name", ("PublisherName",), "text"),
    ("invoice_issuer_name", ("InvoiceIssuerName",), "text"),
    ("billing_account_id", ("BillingAccountId",), "text"),
    ("sub_account_id", ("SubAccountId",), "text"),
    ("sub_account_name", ("SubAccountName",), "text"),
    ("charge_category", ("ChargeCategory",), "enum"),
    ("charge_class", ("ChargeClass",), "enum"),
    ("charge_frequency", ("ChargeFrequency",), "enum"),
    ("charge_description", ("ChargeDescription",), "text"),
    ("line_item_type", (), "text"),
    ("service_name", ("ServiceName",), "text"),
    ("service_category", ("ServiceCategory",), "enum"),
    ("service_code", ("x_ServiceCode",), "text"),
    ("region_id", ("RegionId",), "text"),
    ("availability_zone", ("AvailabilityZone",), "text"),
    ("resource_id", ("ResourceId",), "text"),
    ("resource_name", ("ResourceName",), "text"),
    ("resource_type", ("ResourceType",), "text"),
    ("sku_id", ("SkuId",), "text"),
    ("usage_type", ("x_UsageType", "SkuMeter"), "text"),
    ("operation", ("x_Operation",), "text"),
    ("iam_principal", (), "text"),
    ("pricing_category", ("PricingCategory",), "enum"),
    ("pricing_unit", ("PricingUnit",), "text"),
    ("pricing_quantity", ("PricingQuantity",), "number"),
    ("consumed_quantity", ("ConsumedQuantity",), "number"),
    ("consumed_unit", ("ConsumedUnit",), "text"),
    ("commitment_discount_id", ("CommitmentDiscountId",), "text"),
    ("billed_cost", ("BilledCost",), "number"),
    ("effective_cost", ("EffectiveCost",), "number"),
    ("list_cost", ("ListCost",), "number"),
    ("contracted_cost", ("ContractedCost",), "number"),
    ("billing_currency", ("BillingCurrency",), "currency"),
    ("invoice_id", ("InvoiceId",), "text"),
    ("tags", ("Tags",), "tags"),
]

# Timestamps DuckDB's cast does not read on its own (OCI writes minutes without seconds).
_EXTRA_TIME_FORMATS = ("%Y-%m-%dT%H:%MZ", "%Y-%m-%dT%H:%M%z", "%Y-%m-%d %H:%M")


def detect_version(names: list[str]) -> str:
    """'1.2', '1.1' or '1.0', from the columns present (conditional columns may be absent, so any one marks it)."""
    lower = {n.lower() for n in names}
    if lower & {c.lower() for c in ADDED_1_2}:
        return "1.2"
    if lower & {c.lower() for c in ADDED_1_1}:
        return "1.1"
    return "1.0"


@dataclass(frozen=True)
class FileMapping:
    version: str
    select_sql: str          # _source_object, _source_line, COST_COLUMNS, _period, _tags_unreadable
    ignored: list[str]       # columns of the file that are neither FOCUS nor an extension we read


def map_file(table: str, column_types: list[tuple[str, str]], uri: str) -> FileMapping:
    """The SELECT over staged `table` (columns as named in the file, with DuckDB types). Raises BadInputError
    naming the file and the column when a mandatory column is missing."""
    present: dict[str, tuple[str, str]] = {}
    ignored = []
    for name, sql_type in column_types:
        key = name.lstrip("\ufeff").strip().lower()
        if key in KNOWN and key not in present:
            present[key] = (name, sql_type)
        elif key not in KNOWN and not key.startswith("x_"):
            ignored.append(name)
    for column in MANDATORY:
        if column.lower() not in present:
            raise BadInputError(
                f"{uri} has no {column} column, which FOCUS requires (found {len(column_types)} columns). "
                "Export the FOCUS dataset (not a provider-specific cost report), or fix the file header; the other "
                "files were loaded.")

    def source(name: str) -> tuple[str, str] | None:
        found = present.get(name.lower())
        return (_quote(found[0]), found[1]) if found else None

    exprs = ["s._source_object", "s._source_line"]
    for target, names, kind in MAPPING:
        sources = [s for s in (source(n) for n in names) if s]
        if not sources:
            exprs.append(f"cast(null as {'map(varchar, varchar)' if kind == 'tags' else 'varchar'}) as {target}")
        elif kind == "tags":
            exprs.append(f"{_tags(*sources[0])} as {target}")
        else:
            text = _text(sources[0][0]) if len(sources) == 1 else \
                "coalesce(" + ", ".join(_text(q) for q, _ in sources) + ")"
            exprs.append(f"{_prepare(kind, text, names[0])} as {target}")
    exprs.append(f"{_period(source('BillingPeriodStart'), source('ChargePeriodStart'))} as _period")
    tags = source("Tags")
    exprs.append(f"{_tags_unreadable(*tags) if tags else 'false'} as _tags_unreadable")
    version = detect_version([name for name, _ in column_types])
    return FileMapping(version, "select " + ",\n  ".join(exprs) + f"\nfrom {table} s", ignored)


def _quote(identifier: str) -> str:
    return '"' + identifier.replace('"', '""') + '"'


def _literal(value: str) -> str:
    return "'" + value.replace("'", "''") + "'"


def _text(column: str) -> str:
    """Trimmed text; empty strings and the word null (any case) are nulls, as several exporters write them."""
    value = f"trim(cast(s.{column} as varchar))"
    return f"(case when lower({value}) in ('', 'null') then null else {value} end)"


def _prepare(kind: str, text: str, focus_name: str) -> str:
    if kind == "timestamp":
        return _utc_text(text)
    if kind == "currency":
        return f"upper({text})"
    if kind == "enum":
        key = f"regexp_replace(lower({text}), '[^a-z]', '', 'g')"
        cases = " ".join(f"when {_literal(_enum_key(v))} then {_literal(v)}" for v in ENUMS[focus_name])
        return f"(case {key} {cases} else {text} end)"
    return text  # text, and numbers: the base casts text to decimal(38, 10) exactly (no float in between)


def _enum_key(value: str) -> str:
    return re.sub(r"[^a-z]", "", value.lower())


def _instant(text: str) -> str:
    """The instant as a UTC timestamp, or null. Offsets are honoured (a plain cast to timestamp drops them)."""
    formats = "[" + ", ".join(_literal(f) for f in _EXTRA_TIME_FORMATS) + "]"
    return (f"cast(coalesce(try_cast({text} as timestamptz), try_strptime({text}, {formats})) "
            f"as timestamp)")


def _utc_text(text: str) -> str:
    # Unreadable text is passed on unchanged so the base quarantines it with "value is not a timestamp".
    return f"coalesce(strftime({_instant(text)}, '%Y-%m-%d %H:%M:%S.%f'), {text})"


def _period(billing_start: tuple[str, str] | None, charge_start: tuple[str, str] | None) -> str:
    """First day of the billing month: from BillingPeriodStart, else from ChargePeriodStart."""
    parts = [f"{_instant(_text(src[0]))}" for src in (billing_start, charge_start) if src]
    return f"cast(date_trunc('month', coalesce({', '.join(parts)})) as date)" if len(parts) > 1 else \
        f"cast(date_trunc('month', {parts[0]}) as date)"


def _tags_json(text: str) -> str:
    # JSON object as written by FOCUS; some exporters omit the braces ("env": "prod", "team": "ml").
    return (f"(case when json_valid({text}) then {text} "
            f"when json_valid('{{' || {text} || '}}') then '{{' || {text} || '}}' end)")


def _tags(column: str, sql_type: str) -> str:
    if sql_type.upper().startswith("MAP"):
        return f"try_cast(s.{column} as map(varchar, varchar))"
    text = _text(column)
    return f"try_cast(cast({_tags_json(text)} as json) as map(varchar, varchar))"


def _tags_unreadable(column: str, sql_type: str) -> str:
    if sql_type.upper().startswith("MAP"):
        return "false"
    text = _text(column)
    return f"({text} is not null and {_tags(column, sql_type)} is null)"
