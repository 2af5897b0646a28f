"""The bill behind the traffic: hourly CUR usage lines (table `cur_core`) that match the simulated requests.

Bedrock on-demand tokens become one line per hour x account x region x model x IAM principal x token type, with
usage in tokens and cost = tokens x the price book's price for that day, rounded to 10 dp. Capacity (the
provisioned-throughput unit, a SageMaker endpoint, a GPU instance) bills by the hour whatever the traffic; S3,
CloudWatch Logs and data transfer add shared overhead. Fees and tax are added per delivery in curfile.py.
"""

from __future__ import annotations

from decimal import Decimal

import duckdb

from costwarden.demo.company import (GPU_INSTANCE, PROD, PROVISIONED_MODEL_ARN, PROVISIONED_RATE, SAGEMAKER_ENDPOINT,
                                     TOOLS)
from costwarden.demo.incidents import Window

ACCOUNT_NAMES = {PROD.id: PROD.name, TOOLS.id: TOOLS.name}
_TOKEN_SUFFIX = {"input": "input-tokens", "output": "output-tokens",
                 "cache_read": "cache-read-input-token-count", "cache_write": "cache-write-input-token-count"}
_PREFIX_SQL = "case {r} when 'us-east-1' then 'USE1' when 'us-west-2' then 'USW2' else 'UNK' end"

_CORE_COLUMNS = """
    usage_start timestamp, usage_end timestamp, account_id varchar, line_type varchar, product_code varchar,
    usage_type varchar, operation varchar, resource_id varchar, az varchar, region varchar,
    usage_amount decimal(38, 10), rate decimal(38, 16), cost decimal(38, 10), description varchar,
    iam_principal varchar, pricing_unit varchar, instance_type varchar, product_family varchar, model_name varchar,
    resource_team varchar, principal_team varchar"""

_BEDROCK_TOKENS = f"""
insert into cur_core
with tokens as (
    unpivot (
        select hour, account_id, region, provider, canonical, cur_name, caller_arn, team,
               input_tokens as input, output_tokens as output, cache_read_tokens as cache_read,
               cache_write_tokens as cache_write
        from demo_requests where provider = 'aws.bedrock' and not provisioned)
    on input, output, cache_read, cache_write into name token_type value tokens
),
summed as (
    select hour, account_id, region, provider, canonical, cur_name, caller_arn, team, token_type,
           sum(tokens) as tokens
    from tokens group by all having sum(tokens) > 0
)
select s.hour, s.hour + interval 1 hour, s.account_id, 'Usage', 'AmazonBedrock',
    {_PREFIX_SQL.format(r='s.region')} || '-' || s.cur_name || '-' || case s.token_type
        {' '.join(f"when '{k}' then '{v}'" for k, v in _TOKEN_SUFFIX.items())} end,
    'InvokeModelInference', 'arn:aws:bedrock:' || s.region || '::foundation-model/' || s.canonical, '', s.region,
    s.tokens, p.usd_per_million * cast(0.000001 as decimal(18, 6)),
    round(cast(s.tokens as decimal(38, 0)) * p.usd_per_million * cast(0.000001 as decimal(18, 6)), 10),
    'Amazon Bedrock ' || s.cur_name || ' ' || replace(s.token_type, '_', ' ') || ' tokens (USD '
        || cast(p.usd_per_million as varchar) || ' per million tokens)',
    s.caller_arn, 'tokens', '', 'Amazon Bedrock', s.canonical, null, s.team
from summed s
join demo_prices p on p.provider = s.provider and p.model = s.canonical and p.region = s.region
    and p.token_type = s.token_type and p.day = cast(s.hour as date)
"""

_HOURS = "(select range as hour from range(cast($start as timestamp), cast($stop as timestamp), interval 1 hour))"

_CAPACITY = f"""
insert into cur_core
select hour, hour + interval 1 hour, $account, 'Usage', $product, $usage_type, $operation, $resource, $az,
    'us-east-1', 1, $rate, round($rate, 10), $description, null, 'Hrs', $instance, $family, null, $team, null
from {_HOURS} h
where $always or (isodow(hour) <= 5 and hour(hour) between 13 and 22)
    or (hour >= cast($busy_from as timestamp) and hour < cast($busy_to as timestamp))
"""

_STORAGE = f"""
insert into cur_core
select hour, hour + interval 1 hour, $account, 'Usage', 'AmazonS3', 'TimedStorage-ByteHrs', 'StandardStorage',
    $bucket, '', 'us-east-1', gb_month, cast($rate as decimal(38, 16)), round(gb_month * $rate, 10),
    'USD 0.023 per GB-Month of storage used in Standard storage', null, 'GB-Mo', '', 'Storage', null, $team, null
from (select hour, round(cast(($base_gb + $gb_per_day * (epoch(hour) - epoch(cast($start as timestamp))) / 86400.0)
                         as decimal(38, 10)) / (24 * day(last_day(hour))), 10) as gb_month
      from {_HOURS} h)
"""

_PER_REQUEST_VOLUME = """
insert into cur_core
select hour, hour + interval 1 hour, account_id, 'Usage', $product,
    case region when 'us-east-1' then 'USE1' else 'USW2' end || $meter, $operation,
    case when $product = 'AmazonCloudWatch' then 'arn:aws:logs:' || region || ':' || account_id
        || ':log-group:/acme/genai/agents' else '' end,
    '', region, gb, cast($rate as decimal(38, 16)), round(gb * $rate, 10), $description, null, 'GB', '',
    $family, null, null, null
from (select hour, account_id, region,
             round(cast(count(*) filter (where provider = any($providers)) * $kb_per_request + $base_kb
                        as decimal(38, 10)) / 1000000, 10) as gb
      from demo_requests group by all)
"""


def build_core(con: duckdb.DuckDBPyConnection, w: Window) -> int:
    """Create and fill `cur_core` (needs `demo_requests` and `demo_prices`). Returns its row count."""
    con.execute(f"create or replace temp table cur_core ({_CORE_COLUMNS})")
    con.execute(_BEDROCK_TOKENS)
    span = {"start": w.start, "stop": w.stop}
    training = (w.at(0.2), w.at(0.2) + (w.stop - w.start) / 12)    # a fine-tuning run kept the GPU box busy
    sm_arn, sm_type, sm_rate, sm_team = SAGEMAKER_ENDPOINT
    gpu_id, gpu_type, gpu_rate, gpu_team = GPU_INSTANCE
    capacity = [
        dict(account=PROD.id, product="AmazonBedrock", usage_type="USE1-ProvisionedThroughput-NovaLite-NoCommit",
             operation="ProvisionedThroughput", resource=PROVISIONED_MODEL_ARN, az="", rate=PROVISIONED_RATE,
             description=f"USD {PROVISIONED_RATE} per model unit-hour of Nova Lite provisioned throughput",
             instance="", family="Amazon Bedrock", team="trust-and-safety", always=True),
        dict(account=PROD.id, product="AmazonSageMaker", usage_type=f"USE1-Host:{sm_type}", operation="RunInstance",
             resource=sm_arn, az="", rate=sm_rate, description=f"USD {sm_rate} per Hosting {sm_type} hour",
             instance=sm_type, family="ML Instance", team=sm_team, always=True),
        dict(account=PROD.id, product="AmazonEC2", usage_type=f"BoxUsage:{gpu_type}", operation="RunInstances",
             resource=gpu_id, az="us-east-1a", rate=gpu_rate,
             description=f"USD {gpu_rate} per On Demand Linux {gpu_type} Instance Hour", instance=gpu_type,
             family="Compute Instance", team=gpu_team, always=False),
    ]
    for line in capacity:
        con.execute(_CAPACITY, {**span, **line, "busy_from": training[0], "busy_to": training[1]})
    for bucket, base_gb, per_day, team in (("acme-bedrock-invocation-logs", 40, 0.6, "platform"),
                                           ("acme-data-lake", 12000, 15, "data-platform"),
                                           ("acme-billing-exports", 2, 0.01, "platform")):
        con.execute(_STORAGE, {**span, "account": PROD.id, "bucket": bucket, "base_gb": base_gb,
                               "gb_per_day": per_day, "rate": Decimal("0.023"), "team": team})
    con.execute(_PER_REQUEST_VOLUME, {
        "product": "AmazonCloudWatch", "meter": "-DataProcessing-Bytes", "operation": "PutLogEvents",
        "rate": Decimal("0.50"), "description": "USD 0.50 per GB custom log data ingested",
        "family": "Data Payload", "providers": ["aws.bedrock", "openai"], "kb_per_request": 2.5, "base_kb": 20000})
    con.execute(_PER_REQUEST_VOLUME, {
        "product": "AWSDataTransfer", "meter": "-DataTransfer-Out-Bytes", "operation": "",
        "rate": Decimal("0.09"), "description": "USD 0.09 per GB - first 10 TB / month data transfer out",
        "family": "Data Transfer", "providers": ["openai"], "kb_per_request": 24, "base_kb": 150000})
    return con.execute("select count(*) from cur_core").fetchone()[0]

