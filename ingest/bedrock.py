"""Amazon Bedrock model invocation logs: the `.json.gz` objects under
`AWSLogs/<account>/BedrockModelInvocationLogs/<region>/YYYY/MM/DD/HH/`, one JSON record per line.

Token semantics: Bedrock's `input.inputTokenCount` already EXCLUDES cache reads and writes, which are separate
counters, so it maps straight onto our uncached `input_tokens`. Bodies (`inputBodyJson`, `outputBodyJson`) are
never copied: only numeric usage/metrics and the stop reason are read from them. Large-body objects under a
`data/` segment and the permission-check object are not records and are ignored.
"""

from __future__ import annotations

from ingest.identity import canonical_model_sql, hash_sql, model_version_sql, principal_role_sql
from ingest.jsonlines import JsonLinesIngestor
from ingest.storage import SourceObject

# JSON paths read from each record, in one parse per line (json_extract_string with a list of paths).
_PATHS = {
    "request_id": "$.requestId",
    "timestamp": "$.timestamp",
    "account_id": "$.accountId",
    "region": "$.region",
    "inference_region": "$.inferenceRegion",
    "operation": "$.operation",
    "model_id": "$.modelId",
    "arn": "$.identity.arn",
    "input_tokens": "$.input.inputTokenCount",
    "cache_read": "$.input.cacheReadInputTokenCount",
    "cache_write": "$.input.cacheWriteInputTokenCount",
    "output_tokens": "$.output.outputTokenCount",
    "error_code": "$.errorCode",
    "status": "$.status",
    "service_tier": "$.serviceTier",
    "latency_body": "$.output.outputBodyJson.metrics.latencyMs",
    "latency_stream": '$.output.outputBodyJson."amazon-bedrock-invocationMetrics".invocationLatency',
    "ttft_stream": '$.output.outputBodyJson."amazon-bedrock-invocationMetrics".firstByteLatency',
    "stop_reason": "$.output.outputBodyJson.stopReason",
    "stop_reason_invoke": "$.output.outputBodyJson.stop_reason",
    "request_metadata": "$.requestMetadata",
}
# requestMetadata keys we understand (Converse lets callers attach up to 16 string pairs).
_META = "m"


def _meta(*keys: str) -> str:
    return "coalesce(" + ", ".join(f"{_META}['{k}']" for k in keys) + ")"


class BedrockInvocationLogs(JsonLinesIngestor):
    format = "bedrock"
    title = "Amazon Bedrock model invocation logs"

    @classmethod
    def detect(cls, objects: list[SourceObject], peek=None) -> int:
        if any("BedrockModelInvocationLogs/" in o.relpath or "BedrockModelInvocationLogs/" in o.uri
               for o in objects):
            return 95
        if peek:
            head = peek()
            if b'"schemaType"' in head and b"ModelInvocationLog" in head:
                return 90
        return 0

    def accepts(self, obj: SourceObject) -> bool:
        name = obj.name
        if "permission-check" in name or "/data/" in f"/{obj.relpath}":
            return False
        return name.endswith((".json.gz", ".json", ".jsonl", ".jsonl.gz", ".gz"))

    def select_sql(self, lines: str) -> str:
        keys = list(_PATHS)
        path_list = "[" + ", ".join("'" + p.replace("'", "''") + "'" for p in _PATHS.values()) + "]"
        f = {k: f"v[{i + 1}]" for i, k in enumerate(keys)}
        model = f["model_id"]
        failed = f"({f['error_code']} is not null or lower(coalesce({f['status']}, 'success')) " \
                 f"not in ('success', 'succeeded', 'ok', '200'))"
        return f"""
        with extracted as (
            select _source_object, _source_line,
                   json_extract_string(line, {path_list}) as v
            from {lines}
        ), with_metadata as (
            -- requestMetadata comes back as JSON text; parse only that small object into a map
            select *, try_cast(cast(v[{keys.index("request_metadata") + 1}] as json) as map(varchar, varchar))
                as {_META}
            from extracted
        )
        select _source_object, _source_line,
            {f['request_id']} as request_id,
            {f['timestamp']} as occurred_at,
            {_meta('trace_id', 'run_id', 'agent_run_id', 'session_id')} as trace_id,
            {_meta('span_id')} as span_id,
            {_meta('parent_span_id', 'parent_id')} as parent_span_id,
            {_meta('agent', 'agent_id', 'agent_name')} as agent,
            {_meta('application', 'app', 'feature')} as application,
            lower({f['operation']}) as operation,
            {hash_sql(f['arn'])} as principal_hash,
            {principal_role_sql(f['arn'])} as principal_role,
            null as api_key_hash,
            {_meta('team')} as team,
            {_meta('department', 'dept', 'cost_center')} as department,
            {_meta('environment', 'env', 'stage')} as environment,
            {f['region']} as region,
            {f['account_id']} as account_id,
            'aws.bedrock' as provider,
            {model} as model_id,
            {canonical_model_sql(model)} as model,
            {model_version_sql(model)} as model_version,
            {f['input_tokens']} as input_tokens,
            {f['output_tokens']} as output_tokens,
            coalesce({f['cache_read']}, '0') as cache_read_tokens,
            coalesce({f['cache_write']}, '0') as cache_write_tokens,
            null as reasoning_tokens,
            coalesce({f['latency_body']}, {f['latency_stream']}) as latency_ms,
            {f['ttft_stream']} as ttft_ms,
            case when {failed} then 'error' else 'success' end as status,
            case when {failed} then coalesce({f['error_code']}, {f['status']}) end as error_class,
            coalesce({f['stop_reason']}, {f['stop_reason_invoke']}) as finish_reason,
            lower(coalesce({f['service_tier']}, 'standard')) as service_tier,
            {_meta('task_type', 'task')} as task_type,
            {_meta('quality_score')} as quality_score,
            null as reported_cost,
            {_META} as metadata
        from with_metadata"""
