"""Generate N Bedrock invocation-log records as gzip JSON lines in the real S3 layout, fast (DuckDB COPY).

Shape matches what AWS writes (schemaType, identity.arn, input/output token counts, requestMetadata), without
bodies, spread over hourly folders with `per_file` records per object.
"""

from __future__ import annotations

from pathlib import Path

import duckdb

_MODELS = "['us.anthropic.claude-3-5-sonnet-20240620-v1:0', 'anthropic.claude-3-haiku-20240307-v1:0', " \
          "'amazon.nova-pro-v1:0', 'amazon.nova-lite-v1:0', 'meta.llama3-70b-instruct-v1:0']"


def generate(root: Path, records: int, per_file: int = 100_000) -> list[Path]:
    con = duckdb.connect()
    con.execute("SET preserve_insertion_order = false")
    files = []
    for index, start in enumerate(range(0, records, per_file)):
        count = min(per_file, records - start)
        hour = index  # one object per hour
        folder = root / "AWSLogs" / "111122223333" / "BedrockModelInvocationLogs" / "us-east-1" / \
            f"2026/01/{1 + hour // 24:02d}/{hour % 24:02d}"
        folder.mkdir(parents=True, exist_ok=True)
        path = folder / f"bench-{index:05d}.json.gz"
        quoted = str(path).replace("'", "''")  # COPY's file name cannot be a parameter; values are
        con.execute(f"""
            copy (
              select 'ModelInvocationLog' as schemaType, '1.0' as schemaVersion,
                strftime(timestamp '2026-01-01' + interval (($hour * 3600) + (i % 3600)) second,
                         '%Y-%m-%dT%H:%M:%SZ') as timestamp,
                '111122223333' as accountId,
                {{'arn': 'arn:aws:sts::111122223333:assumed-role/team-' || (i % 12) || '-app/user' || (i % 997)}}
                  as identity,
                'us-east-1' as region,
                md5(cast(i as varchar)) as requestId,
                'Converse' as operation,
                ({_MODELS})[1 + (i % 5)] as modelId,
                {{'inputContentType': 'application/json', 'inputTokenCount': 100 + (i * 7919) % 4000,
                  'cacheReadInputTokenCount': case when i % 4 = 0 then 1024 else 0 end,
                  'cacheWriteInputTokenCount': 0}} as input,
                {{'outputContentType': 'application/json', 'outputTokenCount': 20 + (i * 104729) % 900}} as output,
                {{'team': 'team-' || (i % 12), 'agent': 'agent-' || (i % 20), 'task_type': 'qa',
                  'trace_id': 'run-' || (i // 5)}} as requestMetadata
              from range($start, $stop) t(i)
            ) to '{quoted}' (format json, compression gzip)""", {"hour": hour, "start": start, "stop": start + count})
        files.append(path)
    con.close()
    return files
