"""Generate a build-benchmark warehouse straight into raw.* with DuckDB SQL: fast, seeded, no files to ingest.

`days` days of `per_day` Bedrock requests (10 accounts, 5 models, 12 teams by IAM role, 40 agents, a provisioned-
throughput model in its own account) and `cost_lines` billing lines spread over the same days: hourly Bedrock token
lines per account / model / token type (the pots requests are matched to), the provisioned unit's resource-hours
(capacity, split by tokens with explicit idle), team-tagged lines (direct), support and data-processing overhead
(shared rules), untagged storage (__shared__) and a monthly tax line. One billing month per 31 days. Pseudo-random
values come from hash(row number, seed), so the same arguments always give the same warehouse.
"""

from __future__ import annotations

from datetime import date, timedelta
from pathlib import Path

import duckdb

from costwarden.warehouse import apply_schema

START = date(2026, 1, 1)
ACCOUNTS = 10
PROVISIONED_ACCOUNT = "111122223399"
PROVISIONED_ARN = f"arn:aws:bedrock:us-east-1:{PROVISIONED_ACCOUNT}:provisioned-model/bench-pt"
_MODELS = ("['anthropic.claude-3-haiku-20240307-v1:0', 'amazon.nova-lite-v1:0', 'amazon.nova-pro-v1:0', "
           "'meta.llama3-70b-instruct-v1:0', 'anthropic.claude-3-5-sonnet-20240620-v1:0']")
_USAGE_MODELS = "['Claude3Haiku', 'NovaLite', 'NovaPro', 'Llama3-70B-Instruct', 'Claude3.5Sonnet']"
_TOKEN_SUFFIXES = "['input-tokens', 'output-tokens', 'cache-read-input-token-count']"

CONFIG = f"""
# build benchmark: org rules, capacity and shared-cost rules for the generated warehouse
{''.join(f'''
[[org_rules]]
match = "iam_role"
pattern = "arn:aws:iam::*:role/team-{t}-app"
team = "team-{t}"
department = "dept-{t % 4}"

[[org_rules]]
match = "tag"
key = "user_team"
pattern = "team-{t}"
team = "team-{t}"
department = "dept-{t % 4}"
''' for t in range(12))}
[[org_rules]]
match = "metadata"
key = "app"
pattern = "app-1"
environment = "staging"

[[capacity]]
name = "bench-pt"
resource_id = "arn:aws:bedrock:*:provisioned-model/bench-pt"
serves_model = "arn:aws:bedrock:*:provisioned-model/bench-pt"
split_by = "tokens"
capacity_per_hour = 40000000
idle_policy = "central"

[[shared_costs]]
name = "aws-support"
match = "service_code"
pattern = "AWSSupport*"
method = "proportional"

[[shared_costs]]
name = "tax"
match = "charge_category"
pattern = "Tax"
method = "proportional"

[[shared_costs]]
name = "logs"
match = "usage_type"
pattern = "*DataProcessing*"
method = "even"
"""


def write_config(path: Path) -> Path:
    path.write_text(CONFIG, encoding="utf-8")
    return path


def generate(warehouse: Path, days: int, per_day: int, cost_lines: int, seed: int = 7) -> None:
    """A fresh warehouse with `days` days of requests and cost lines (first day START)."""
    con = duckdb.connect(str(warehouse))
    con.execute("SET TimeZone = 'UTC'")
    con.execute("SET preserve_insertion_order = false")
    apply_schema(con)
    lines_per_day = max(cost_lines // days, 1)
    for day in range(days):
        _add_day(con, day, per_day, lines_per_day, seed)
    _record_billing_periods(con)
    con.close()


def add_day(warehouse: Path, day: int, per_day: int, lines_per_day: int, seed: int = 7) -> None:
    """Append day number `day` (0-based from START) as a new load, like a daily ingest would."""
    con = duckdb.connect(str(warehouse))
    con.execute("SET TimeZone = 'UTC'")
    _add_day(con, day, per_day, lines_per_day, seed)
    _record_billing_periods(con)
    con.close()


def _add_day(con: duckdb.DuckDBPyConnection, day: int, per_day: int, lines_per_day: int, seed: int) -> None:
    params = {"day": START + timedelta(days=day), "n": per_day, "first": day * per_day, "seed": seed,
              "load": f"bench-day-{day:03d}", "pt_arn": PROVISIONED_ARN, "pt_account": PROVISIONED_ACCOUNT}
    con.execute(f"""
        insert into raw.inference_requests by name
        with rows as (
            select i, cast(hash(i, $seed) >> 2 as bigint) as h, i - $first as k from range($first, $first + $n) as t(i)
        )
        select
            'bedrock' as source_format,
            'req-' || i as request_id,
            cast($day as timestamp) + to_microseconds(cast(k * 86400000000 // $n as bigint)) as occurred_at,
            'run-' || (i // 5) as trace_id,
            'agent-' || (h % 40) as agent,
            'app-' || (h % 7) as application,
            'Converse' as operation,
            'arn:aws:iam::111122223333:role/team-' || ((h // 40) % 12) || '-app' as principal_role,
            case when h % 20 = 0 then $pt_account else '1111222233' || lpad(cast((h // 7) % {ACCOUNTS} as varchar), 2, '0')
                end as account_id,
            'us-east-1' as region,
            'aws.bedrock' as provider,
            case when h % 20 = 0 then $pt_arn else ({_MODELS})[1 + (h // 480) % 5] end as model_id,
            case when h % 20 = 0 then 'amazon.nova-lite-v1:0' else ({_MODELS})[1 + (h // 480) % 5] end as model,
            100 + (h // 2400) % 4000 as input_tokens,
            20 + (h // 9600000) % 900 as output_tokens,
            case when (h // 7) % 4 = 0 then 1024 else 0 end as cache_read_tokens,
            0 as cache_write_tokens,
            200.0 + (h // 13) % 5000 as latency_ms,
            50.0 + (h // 17) % 900 as ttft_ms,
            case when h % 50 = 1 then 'error' else 'success' end as status,
            case when h % 50 = 1 then 'ThrottlingException' end as error_class,
            'standard' as service_tier,
            map(['app'], ['app-' || (h % 7)]) as metadata,
            $load as _load_id,
            'bench/' || $load || '.json.gz' as _source_object,
            k as _source_line
        from rows""", params)
    # Line mix per day: 3,600 token lines (24 h x 10 accounts x 5 models x 3 token types), 24 provisioned
    # resource-hours, one support line, then tagged / data-processing / storage lines to fill the day's share.
    token_lines = 24 * ACCOUNTS * 5 * 3
    other = max(lines_per_day - token_lines - 25, 0)
    params = {"day": START + timedelta(days=day), "seed": seed, "load": f"bench-bill-{day:03d}",
              "pt_arn": PROVISIONED_ARN, "pt_account": PROVISIONED_ACCOUNT, "other": other, "month_day": day % 31}
    con.execute(f"""
        insert into raw.cost_lines by name
        with
        token_lines as (
            select
                i, cast(hash(i, $seed, $day) >> 2 as bigint) as h, cast($day as timestamp) + to_hours(i // 150) as start,
                '1111222233' || lpad(cast((i // 15) % {ACCOUNTS} as varchar), 2, '0') as account,
                'AmazonBedrock' as service_code, 'Usage' as charge_category,
                'USE1-' || ({_USAGE_MODELS})[1 + (i // 3) % 5] || '-' || ({_TOKEN_SUFFIXES})[1 + i % 3] as usage_type,
                '' as resource_id, map(['user_team'], ['']) as tags, 1 as hours
            from range({token_lines}) as t(i)
        ),
        capacity_lines as (
            select i + 100000, cast(hash(i, $seed, $day, 1) >> 2 as bigint), cast($day as timestamp) + to_hours(i), $pt_account,
                'AmazonBedrock', 'Usage', 'USE1-ProvisionedThroughput-NovaLite', $pt_arn, map(['user_team'], ['']), 1
            from range(24) as t(i)
        ),
        support_line as (
            select 200000, cast(hash($seed, $day, 2) >> 2 as bigint), cast($day as timestamp), '111122223300', 'AWSSupportBusiness',
                'Usage', 'Dollar', '', map(['user_team'], ['']), 24
        ),
        tax_line as (   -- the month's tax, charged for the whole month on its first day
            select 300000, cast(hash($seed, $day, 3) >> 2 as bigint), cast($day as timestamp), '111122223300', 'AWSTax', 'Tax', 'Tax',
                '', map(['user_team'], ['']), 24 * 31
            where $month_day = 0
        ),
        other_lines as (
            select i + 1000000, cast(hash(i, $seed, $day, 4) >> 2 as bigint) as h, cast($day as timestamp) + to_hours(i % 24),
                '1111222233' || lpad(cast(i % {ACCOUNTS} as varchar), 2, '0'),
                case when i % 3 = 2 then 'AmazonCloudWatch' else 'AmazonS3' end, 'Usage',
                case when i % 3 = 2 then 'USE1-DataProcessing-Bytes' else 'USE1-TimedStorage-ByteHrs' end,
                'arn:aws:s3:::bucket-' || (i % 500),
                map(['user_team'], [case when i % 3 = 0 then 'team-' || (i % 12) else '' end]), 1
            from range($other) as t(i)
        ),
        all_lines as (
            select * from token_lines
            union all select * from capacity_lines
            union all select * from support_line
            union all select * from tax_line
            union all select * from other_lines
        )
        select
            'cur2' as source_format, 'bench' as dataset, date_trunc('month', cast($day as date)) as billing_period,
            start as charge_period_start, start + to_hours(hours) as charge_period_end,
            'AWS' as provider_name, '999988887777' as billing_account_id, account as sub_account_id,
            charge_category, service_code, service_code as service_name, 'us-east-1' as region_id,
            resource_id, usage_type,
            cast(((h % 1000000) + 1) / 100000.0 as decimal(38, 10)) as billed_cost,
            cast(((h % 1000000) + 1) / 125000.0 as decimal(38, 10)) as effective_cost,
            'USD' as billing_currency, tags,
            $load as _load_id, 'bench/' || $load || '.parquet' as _source_object, i as _source_row
        from all_lines""", params)


def _record_billing_periods(con: duckdb.DuckDBPyConnection) -> None:
    """What ingest records per delivery, so the billing-period audit holds for the generated lines."""
    con.execute("""
        insert into meta.billing_periods
        select dataset, billing_period, 'cur2', 'bench-' || count(*), null, null, 'bench', count(*),
            sum(billed_cost), now()
        from raw.cost_lines group by dataset, billing_period""")
