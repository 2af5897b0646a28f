"""Generate one CUR 2.0 billing month of N line items as Parquet in the AWS Data Exports layout (DuckDB COPY).

Hourly Bedrock token lines, SageMaker and EC2 GPU hours, S3 and CloudWatch, with real MAP columns (product,
resource_tags, tags, cost_category), rates as strings and costs as doubles, like AWS writes them.
"""

from __future__ import annotations

import json
from pathlib import Path

import duckdb

EXPORT = "bench-cur"


def generate(root: Path, lines: int, files: int = 4) -> list[Path]:
    data = root / EXPORT / "data" / "BILLING_PERIOD=2026-01"
    meta = root / EXPORT / "metadata" / "BILLING_PERIOD=2026-01"
    data.mkdir(parents=True, exist_ok=True)
    meta.mkdir(parents=True, exist_ok=True)
    con = duckdb.connect()
    paths = []
    per_file = -(-lines // files)
    for index in range(files):
        start, stop = index * per_file, min(lines, (index + 1) * per_file)
        path = data / f"{EXPORT}-{index + 1:05d}.snappy.parquet"
        quoted = str(path).replace("'", "''")  # COPY's file name cannot be a parameter; values are
        con.execute(f"""
            copy (
              select
                'Anniversary' as bill_bill_type, 'AWS' as bill_billing_entity,
                timestamp '2026-02-01' as bill_billing_period_end_date,
                timestamp '2026-01-01' as bill_billing_period_start_date,
                '' as bill_invoice_id, '999988887777' as bill_payer_account_id,
                'acme-payer' as bill_payer_account_name,
                md5(cast(i as varchar)) as identity_line_item_id,
                strftime(timestamp '2026-01-01' + interval (i % 744) hour, '%Y-%m-%dT%H:00:00Z') || '/' ||
                  strftime(timestamp '2026-01-01' + interval (i % 744 + 1) hour, '%Y-%m-%dT%H:00:00Z')
                  as identity_time_interval,
                'USD' as line_item_currency_code,
                'Usage' as line_item_line_item_type,
                timestamp '2026-01-01' + interval (i % 744) hour as line_item_usage_start_date,
                timestamp '2026-01-01' + interval (i % 744 + 1) hour as line_item_usage_end_date,
                ['AmazonBedrock', 'AmazonSageMaker', 'AmazonEC2', 'AmazonS3', 'AmazonCloudWatch'][1 + i % 5]
                  as line_item_product_code,
                ['USE1-Claude3Haiku-input-tokens', 'USE1-Host:ml.g5.2xlarge', 'BoxUsage:g5.12xlarge',
                 'USE1-TimedStorage-ByteHrs', 'USE1-DataProcessing-Bytes'][1 + i % 5] as line_item_usage_type,
                ['InvokeModel', 'RunInstance', 'RunInstances', 'StandardStorage', 'PutLogEvents'][1 + i % 5]
                  as line_item_operation,
                'arn:aws:bedrock:us-east-1:111122223333:resource/' || (i % 500) as line_item_resource_id,
                '11112222' || lpad(cast(i % 9 as varchar), 4, '0') as line_item_usage_account_id,
                'team-account-' || (i % 9) as line_item_usage_account_name,
                cast((i % 997) + 1 as double) as line_item_usage_amount,
                '0.00025' as line_item_unblended_rate,
                round(((i % 997) + 1) * 0.00025 + (i % 13) * 0.01, 6) as line_item_unblended_cost,
                round(((i % 997) + 1) * 0.00025 + (i % 13) * 0.01, 6) as line_item_net_unblended_cost,
                round(((i % 997) + 1) * 0.00025 + (i % 13) * 0.01, 6) as pricing_public_on_demand_cost,
                'usage line ' || (i % 5) as line_item_line_item_description,
                'arn:aws:iam::111122223333:role/team-' || (i % 12) as line_item_iam_principal,
                'Units' as pricing_unit, 'OnDemand' as pricing_term,
                'us-east-1' as product_region_code, 'SKU' || (i % 50) as product_sku,
                map(['product_name', 'region'], ['Amazon Bedrock', 'us-east-1']) as product,
                map(['user_team', 'user_env'], ['team-' || (i % 12), 'prod']) as resource_tags,
                map(['user_team'], ['team-' || (i % 12)]) as tags,
                map(['cost_center'], ['cc-' || (i % 4)]) as cost_category
              from range($start, $stop) t(i)
            ) to '{quoted}' (format parquet, compression snappy)""", {"start": start, "stop": stop})
        paths.append(path)
    manifest = {"exportName": EXPORT, "executionId": "bench-execution-1", "billingPeriod": "2026-01",
                "dataFiles": [str(p.relative_to(root)) for p in paths]}
    (meta / f"{EXPORT}-Manifest.json").write_text(json.dumps(manifest))
    con.close()
    return paths
