"""Bedrock model invocation logs in the real S3 layout (one gzip JSON-lines object per hour per account and region),
and the chunked file writer gateway.py shares.

Lines are built by DuckDB in one vectorised query per slice of hours; Python only cuts the resulting buffer into
files and gzips them on a thread pool. No real prompt text exists: the internal-tools account has text delivery
on, and its records carry a short synthetic body that ingest must drop.
"""

from __future__ import annotations

import gzip
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import duckdb
import numpy as np
import pyarrow as pa

from costwarden.demo.company import ACCOUNTS, TOOLS
from costwarden.demo.incidents import Window

BEDROCK_ROOT = "bedrock-logs"
SYNTHETIC_PROMPT = "[demo] synthetic prompt text"
SYNTHETIC_RESPONSE = "[demo] synthetic response text"
_CHUNK_HOURS = 24 * 10


def _gzip_to(path: Path, data: bytes, on_file) -> int:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(gzip.compress(data, compresslevel=3, mtime=0))   # mtime=0: same bytes every run; 3: fast, ~9:1
    if on_file is not None:
        on_file(path)
    return 1


def write_grouped(con: duckdb.DuckDBPyConnection, sql: str, params: dict, out: Path, pool, on_file=None) -> list:
    """Run `sql` (columns: relpath, line; ordered by relpath) and queue one gzip file per relpath on `pool`.

    Returns the futures, so the caller can build the next slice while these compress."""
    table = con.execute(sql, params).to_arrow_table()
    if table.num_rows == 0:
        return []
    paths = table.column("relpath").combine_chunks().dictionary_encode()
    lines = table.column("line").cast(pa.large_string()).combine_chunks()
    offsets = np.frombuffer(lines.buffers()[1], dtype=np.int64)[lines.offset: lines.offset + len(lines) + 1]
    data = lines.buffers()[2]
    codes = paths.indices.to_numpy()
    bounds = np.concatenate(([0], np.flatnonzero(codes[1:] != codes[:-1]) + 1, [len(codes)]))
    names = paths.dictionary.to_pylist()
    return [pool.submit(_gzip_to, out / names[codes[lo]], data[int(offsets[lo]): int(offsets[hi])].to_pybytes(),
                        on_file) for lo, hi in zip(bounds[:-1], bounds[1:])]


def write_chunked(con: duckdb.DuckDBPyConnection, sql: str, params: dict, out: Path, w: Window,
                  on_file=None) -> int:
    """Write the files of `sql` slice by slice of hours; one slice compresses while the next is built.
    `on_file(path)` is called for each file written (the S3 demo uploads it right away)."""
    written = 0
    pending: list = []
    with ThreadPoolExecutor(max_workers=2) as pool:
        for chunk in hour_chunks(w):
            queued = write_grouped(con, sql, {**params, **chunk}, out, pool, on_file)
            written += sum(job.result() for job in pending)
            pending = queued
        written += sum(job.result() for job in pending)
    return written


def hour_chunks(w: Window):
    """Bounds (in hours from the window start) of the slices written per query, to bound memory."""
    for lo in range(0, w.hours, _CHUNK_HOURS):
        yield {"lo": lo, "hi": min(w.hours, lo + _CHUNK_HOURS)}


_BEDROCK_SQL = """
select
    'AWSLogs/' || account_id || '/BedrockModelInvocationLogs/' || region || '/' || strftime(hour, '%Y/%m/%d/%H')
        || '/' || strftime(hour, '%Y%m%dT%H%M%S') || 'Z_' || substr(md5(account_id || region || hour::varchar
        || $salt), 1, 16) || '.json.gz' as relpath,
    '{"schemaType":"ModelInvocationLog","schemaVersion":"1.0","timestamp":"' || strftime(ts, '%Y-%m-%dT%H:%M:%SZ')
    || '","accountId":"' || account_id || '","identity":{"arn":"' || caller_arn || '"},"region":"' || region || '"'
    || case when cross_region and elsewhere then ',"inferenceRegion":"us-east-2"' else '' end
    || ',"requestId":"' || request_uuid || '","operation":"'
    || case when streaming then 'InvokeModelWithResponseStream' else 'Converse' end
    || '","modelId":"' || model_id || '","input":{"inputContentType":"application/json",'
    || case when account_id = $text_account then '"inputBodyJson":{"messages":[{"role":"user","content":[{"text":"'
            || $prompt || '"}]}]},' else '' end
    || '"inputTokenCount":' || input_tokens || ',"cacheReadInputTokenCount":' || cache_read_tokens
    || ',"cacheWriteInputTokenCount":' || cache_write_tokens
    || '},"output":{"outputContentType":"application/json","outputTokenCount":' || output_tokens
    || case
        when error_code is not null then ''
        when streaming then ',"outputBodyJson":{"stop_reason":"end_turn","amazon-bedrock-invocationMetrics":'
            || '{"inputTokenCount":' || input_tokens || ',"outputTokenCount":' || output_tokens
            || ',"invocationLatency":' || latency_ms::bigint || ',"firstByteLatency":' || ttft_ms::bigint || '}}'
        else ',"outputBodyJson":{' || case when account_id = $text_account then '"output":{"message":{"role":'
            || '"assistant","content":[{"text":"' || $response || '"}]}},' else '' end
            || '"stopReason":"end_turn","usage":{"inputTokens":' || input_tokens || ',"outputTokens":'
            || output_tokens || ',"totalTokens":' || (input_tokens + output_tokens + cache_read_tokens
            + cache_write_tokens) || '},"metrics":{"latencyMs":' || latency_ms::bigint || '}}'
       end
    || '}' || case when error_code is not null then ',"errorCode":"' || error_code || '"' else '' end
    || ',"requestMetadata":{' || case when metadata_team is not null then '"team":"' || metadata_team || '",'
       else '' end
    || '"agent":"' || agent_name || '","task_type":"' || task_type || '","trace_id":"' || trace_id
    || '","step":"' || step || '","environment":"prod"'
    || case when not interactive then ',"interactive":"false"' else '' end
    || case when quality is not null then ',"quality_score":"' || printf('%.2f', quality) || '"' else '' end
    || '}}' || chr(10) as line
from demo_requests
where provider = 'aws.bedrock' and at_ms >= $start_ms + $lo * 3600000::bigint and at_ms < $start_ms + $hi * 3600000::bigint
order by relpath, at_ms, req_hi
"""


def write_bedrock_logs(con: duckdb.DuckDBPyConnection, w: Window, out: Path, seed: int, on_file=None) -> int:
    """Returns the number of objects written (the permission-check object included)."""
    root = out / BEDROCK_ROOT
    params = {"start_ms": w.start_ms, "salt": str(seed), "text_account": TOOLS.id, "prompt": SYNTHETIC_PROMPT,
              "response": SYNTHETIC_RESPONSE}
    written = write_chunked(con, _BEDROCK_SQL, params, root, w, on_file)
    for account in ACCOUNTS:   # written by Bedrock when logging is set up; not a record, ingest skips it
        check = root / "AWSLogs" / account.id / "BedrockModelInvocationLogs" / "amazon-bedrock-logs-permission-check"
        check.parent.mkdir(parents=True, exist_ok=True)
        check.write_bytes(b"")
        written += 1
    return written
