"""Writes CUR 2.0 deliveries in the AWS Data Exports layout, one Parquet file and one manifest per billing period:

    <root>/data/BILLING_PERIOD=YYYY-MM/<export>-00001.snappy.parquet
    <root>/metadata/BILLING_PERIOD=YYYY-MM/<export>-Manifest.json

A delivery is every usage line of the period up to a cut-off (the current month is restated in full on each
refresh), plus the AWS Support fee and one Tax line per account and service, both dated at the month start.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal
from pathlib import Path

import duckdb
import pyarrow as pa
import pyarrow.parquet as pq

from costwarden.demo.billing import ACCOUNT_NAMES
from costwarden.demo.company import PAYER_ACCOUNT, PROD, TEAM_DEPARTMENT
from costwarden.demo.cur_schema import arrow_schema, manifest_columns
from costwarden.demo.incidents import Window

EXPORT_NAME = "acme-cur2"
CUR_ROOT = f"billing/cur2/{EXPORT_NAME}"
TAX_RATE = Decimal("0.06")
_SUPPORT_TIERS = ((Decimal(10000), Decimal("0.10")), (Decimal(80000), Decimal("0.07")),
                  (Decimal(250000), Decimal("0.05")), (None, Decimal("0.03")))


@dataclass(frozen=True)
class Delivery:
    period: datetime          # month start
    rows: int
    billed: Decimal           # sum of line_item_unblended_cost, exact
    data_key: str
    manifest_key: str


def periods(w: Window) -> list[datetime]:
    month = w.start.replace(day=1)
    out = []
    while month < w.stop:
        out.append(month)
        month = (month + timedelta(days=32)).replace(day=1)
    return out


def support_fee(usage: Decimal) -> Decimal:
    """AWS Support (Business): tiered share of the month's usage, at least USD 100."""
    fee, floor = Decimal(0), Decimal(0)
    for ceiling, share in _SUPPORT_TIERS:
        top = usage if ceiling is None else min(usage, ceiling)
        if top > floor:
            fee += (top - floor) * share
        floor = ceiling or floor
    return max(Decimal(100), fee).quantize(Decimal("0.01"))


def _fees_and_tax(con: duckdb.DuckDBPyConnection, start: datetime, end: datetime) -> None:
    usage = con.execute("select coalesce(sum(cost), 0) from cur_delivery").fetchone()[0]
    fee = support_fee(usage)
    con.execute("insert into cur_delivery values (?, ?, ?, 'Fee', 'AWSSupportBusiness', 'Dollar', '', '', '', "
                "'us-east-1', ?, 1, ?, 'AWS Support (Business)', null, 'Dollar', '', 'AWS Support', null, null, "
                "null)", [start, end, PAYER_ACCOUNT[0], fee, fee])
    con.execute("""
        insert into cur_delivery
        select $start, $end, account_id, 'Tax', product_code, '', '', '', '', '', null, null,
               round(sum(cost) * $rate, 2), 'Tax for product code ' || product_code, null, '', '', '', null, null,
               null
        from cur_delivery group by account_id, product_code having round(sum(cost) * $rate, 2) <> 0""",
                {"start": start, "end": end, "rate": TAX_RATE})


_SELECT = """
select
    substr(sha256(concat_ws('|', usage_start, account_id, line_type, product_code, usage_type, operation,
                            resource_id, iam_principal)), 1, 52) as identity_line_item_id,
    strftime(usage_start, '%Y-%m-%dT%H:%M:%SZ') || '/' || strftime(usage_end, '%Y-%m-%dT%H:%M:%SZ')
        as identity_time_interval,
    $invoice as bill_invoice_id, 'Amazon Web Services, Inc.' as bill_invoicing_entity, 'AWS' as bill_billing_entity,
    'Anniversary' as bill_bill_type, $payer as bill_payer_account_id, $payer_name as bill_payer_account_name,
    $period_start as bill_billing_period_start_date, $period_end as bill_billing_period_end_date,
    account_id as line_item_usage_account_id, account_name as line_item_usage_account_name,
    line_type as line_item_line_item_type, usage_start as line_item_usage_start_date,
    usage_end as line_item_usage_end_date, product_code as line_item_product_code,
    usage_type as line_item_usage_type, operation as line_item_operation, az as line_item_availability_zone,
    resource_id as line_item_resource_id, cast(usage_amount as double) as line_item_usage_amount,
    'USD' as line_item_currency_code, 'USD' as pricing_currency,
    coalesce(rtrim(rtrim(cast(rate as varchar), '0'), '.'), '') as line_item_unblended_rate,
    cast(cost as double) as line_item_unblended_cost,
    coalesce(rtrim(rtrim(cast(rate as varchar), '0'), '.'), '') as line_item_blended_rate,
    cast(cost as double) as line_item_blended_cost,
    description as line_item_line_item_description,
    case when line_type = 'Tax' then 'USSalesTax' else '' end as line_item_tax_type,
    'Amazon Web Services, Inc.' as line_item_legal_entity, coalesce(iam_principal, '') as line_item_iam_principal,
    pricing_unit, case when line_type = 'Usage' then 'OnDemand' else '' end as pricing_term,
    case when line_type = 'Tax' then 0 else cast(cost as double) end as pricing_public_on_demand_cost,
    coalesce(rtrim(rtrim(cast(rate as varchar), '0'), '.'), '') as pricing_public_on_demand_rate,
    case when line_type = 'Usage' then sku || '.JRTCKXETXF.6YS6EN2CT7' else '' end as pricing_rate_code,
    case when line_type = 'Usage' then cast(cast('0x' || substr(md5(usage_type || operation), 1, 8) as ubigint)
         as varchar) else '' end as pricing_rate_id,
    map_from_entries(list_filter([
        {'key': 'product_name', 'value': service_name}, {'key': 'region', 'value': region},
        {'key': 'servicecode', 'value': product_code}, {'key': 'usagetype', 'value': usage_type},
        {'key': 'operation', 'value': operation}, {'key': 'model', 'value': model_name},
        {'key': 'instance_type_family', 'value': split_part(instance_type, '.', -2)}],
        e -> coalesce(e.value, '') <> '')) as product,
    product_code as product_servicecode, product_family as product_product_family, region as product_region_code,
    location as product_location, case when region = '' then '' else 'AWS Region' end as product_location_type,
    instance_type as product_instance_type, usage_type as product_usagetype, operation as product_operation,
    sku as product_sku, pricing_unit as product_pricing_unit,
    case when product_code = 'AWSDataTransfer' then location else '' end as product_from_location,
    case when product_code = 'AWSDataTransfer' then 'External' else '' end as product_to_location,
    map_from_entries(list_filter([{'key': 'user_team', 'value': resource_team},
        {'key': 'user_cost_center', 'value': resource_department}], e -> coalesce(e.value, '') <> ''))
        as resource_tags,
    map_from_entries(list_filter([{'key': 'user_team', 'value': resource_team},
        {'key': 'iamPrincipal/team', 'value': principal_team},
        {'key': 'accountTag/environment', 'value': case when account_id = $prod then 'prod' else 'internal' end}],
        e -> coalesce(e.value, '') <> '')) as tags,
    map_from_entries([{'key': 'environment', 'value': case when account_id = $prod then 'prod' else 'internal' end}])
        as cost_category
from (select *, upper(substr(md5(usage_type || operation || region), 1, 16)) as sku,
             case region when 'us-east-1' then 'US East (N. Virginia)' when 'us-west-2' then 'US West (Oregon)'
                  else '' end as location,
             case product_code when 'AmazonBedrock' then 'Amazon Bedrock' when 'AmazonSageMaker' then 'Amazon SageMaker'
                  when 'AmazonEC2' then 'Amazon Elastic Compute Cloud' when 'AmazonS3' then 'Amazon Simple Storage Service'
                  when 'AmazonCloudWatch' then 'AmazonCloudWatch' when 'AWSDataTransfer' then 'AWS Data Transfer'
                  else 'AWS Support (Business)' end as service_name
      from cur_delivery d
      left join demo_account_names using (account_id)
      left join (select team as resource_team, department as resource_department from demo_team_departments)
          using (resource_team))
order by line_item_usage_start_date, line_item_usage_account_id, line_item_product_code, line_item_usage_type,
         line_item_iam_principal, line_item_resource_id, line_item_line_item_type
"""


def write_delivery(con: duckdb.DuckDBPyConnection, w: Window, out: Path, period: datetime, *,
                   cutoff: datetime | None = None) -> Delivery:
    """Write one billing period as delivered at `cutoff` (None: the whole period). Needs `cur_core`."""
    period_end = (period + timedelta(days=32)).replace(day=1)
    until = min(period_end, cutoff or period_end)
    con.execute("create or replace temp table cur_delivery as select * from cur_core "
                "where usage_start >= ? and usage_start < ?", [period, until])
    _fees_and_tax(con, period, period_end)
    billed = con.execute("select coalesce(sum(cost), 0) from cur_delivery").fetchone()[0]
    closed = period_end < w.stop and cutoff is None
    params = {"invoice": f"{period:%Y%m}{int(PAYER_ACCOUNT[0]) % 1000000:06d}" if closed else "",
              "payer": PAYER_ACCOUNT[0], "payer_name": PAYER_ACCOUNT[1], "period_start": period,
              "period_end": period_end, "prod": PROD.id}
    con.register("demo_account_names", pa.table({"account_id": list(ACCOUNT_NAMES) + [PAYER_ACCOUNT[0]],
                                                 "account_name": list(ACCOUNT_NAMES.values()) + [PAYER_ACCOUNT[1]]}))
    con.register("demo_team_departments", pa.table({"team": list(TEAM_DEPARTMENT),
                                                    "department": list(TEAM_DEPARTMENT.values())}))
    table = con.execute(_SELECT, params).to_arrow_table()
    schema = arrow_schema()
    for name in schema.names:      # columns the demo never fills stay null, as in a real export
        if name not in table.column_names:
            table = table.append_column(name, pa.nulls(table.num_rows, schema.field(name).type))
    table = table.select(schema.names).cast(schema)
    partition = f"BILLING_PERIOD={period:%Y-%m}"
    data_key = f"{CUR_ROOT}/data/{partition}/{EXPORT_NAME}-00001.snappy.parquet"
    manifest_key = f"{CUR_ROOT}/metadata/{partition}/{EXPORT_NAME}-Manifest.json"
    (out / data_key).parent.mkdir(parents=True, exist_ok=True)
    pq.write_table(table, out / data_key, compression="snappy")
    delivered = (cutoff or period_end) + timedelta(hours=14)
    _write_manifest(out / manifest_key, period, period_end, delivered, data_key, table.num_rows)
    return Delivery(period, table.num_rows, billed, data_key, manifest_key)


def _write_manifest(path: Path, start: datetime, end: datetime, delivered: datetime, data_key: str,
                    rows: int) -> None:
    execution = hashlib.md5(f"{start:%Y-%m}/{delivered:%Y%m%dT%H%M%S}".encode()).hexdigest()
    manifest = {
        "version": "1.0",
        "exportArn": f"arn:aws:bcm-data-exports:us-east-1:{PAYER_ACCOUNT[0]}:export/{EXPORT_NAME}-"
                     f"{hashlib.md5(EXPORT_NAME.encode()).hexdigest()[:8]}",
        "exportName": EXPORT_NAME,
        "executionId": f"{delivered:%Y-%m-%dT%H:%M:%S}.000Z-{execution[:8]}-{execution[8:12]}-{execution[12:16]}-"
                       f"{execution[16:20]}-{execution[20:32]}",
        "deliveryTime": f"{delivered:%Y-%m-%dT%H:%M:%S}.000Z",
        "billingPeriod": {"start": f"{start:%Y-%m-%dT%H:%M:%S}.000Z", "end": f"{end:%Y-%m-%dT%H:%M:%S}.000Z"},
        "tableName": "COST_AND_USAGE_REPORT",
        "tableConfigurations": {"TIME_GRANULARITY": "HOURLY", "INCLUDE_RESOURCES": "TRUE",
                                "INCLUDE_IAM_PRINCIPAL_DATA": "TRUE", "INCLUDE_SPLIT_COST_ALLOCATION_DATA": "FALSE",
                                "INCLUDE_MANUAL_DISCOUNT_COMPATIBILITY": "FALSE"},
        "format": "PARQUET", "compression": "PARQUET",
        "columns": manifest_columns(),
        "reportKeys": [data_key],
        "dataFiles": [{"key": data_key, "rows": rows}],
    }
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(manifest, indent=2) + "\n", encoding="utf-8")
