"""OpenTelemetry GenAI spans exported as OTLP/JSON: one `ExportTraceServiceRequest` document per file, or the
Collector file exporter's JSON lines (one document per line), optionally gzip. Each LLM span is one request.

Token semantics: `gen_ai.usage.input_tokens` INCLUDES cache reads and writes (semconv v1.41 "SHOULD"), so the
uncached `input_tokens` we store is input - cache_read - cache_creation. Only the named attributes below are read;
message attributes (`gen_ai.input.messages`, `gen_ai.prompt`, ...) and span events are never copied.
"""

from __future__ import annotations

from costwarden.errors import BadInputError
from ingest.base import LoadContext
from ingest.identity import canonical_model_sql, hash_sql, model_version_sql
from ingest.jsonlines import JsonLinesIngestor
from ingest.storage import SourceObject

# The part of an OTLP/JSON document we read, for json_transform: one parse per line, unknown keys ignored, every
# scalar as text (OTLP/JSON writes int64 as strings; some exporters write numbers, both become text).
_VALUE = '{"stringValue":"VARCHAR","intValue":"VARCHAR","doubleValue":"VARCHAR","boolValue":"VARCHAR",' \
         '"arrayValue":{"values":[{"stringValue":"VARCHAR"}]}}'
_ATTRS = f'[{{"key":"VARCHAR","value":{_VALUE}}}]'
_SPAN = ('{"traceId":"VARCHAR","spanId":"VARCHAR","parentSpanId":"VARCHAR","name":"VARCHAR",'
         '"startTimeUnixNano":"VARCHAR","endTimeUnixNano":"VARCHAR","status":{"code":"VARCHAR"},'
         f'"attributes":{_ATTRS}}}')
_SHAPE = (f'{{"resourceSpans":[{{"resource":{{"attributes":{_ATTRS}}},'
          f'"scopeSpans":[{{"scope":{{"name":"VARCHAR"}},"spans":[{_SPAN}]}}]}}]}}')

# Operations that are model calls. Agent, tool, workflow and retrieval spans are not priced requests (their usage
# attributes, when present, are totals of the child calls and would double count), so they are not read at all:
# like a trace's HTTP or DB spans they are context, not rows, and read = loaded + quarantined counts LLM spans only.
# A span with gen_ai.usage.* and no (or an unknown) operation is taken as a model call.
LLM_OPERATIONS = ("chat", "text_completion", "generate_content", "embeddings")
NOT_REQUESTS = ("invoke_agent", "create_agent", "execute_tool", "invoke_workflow", "retrieval")
_MAX_AGENT_DEPTH = 64

# Old and new spellings of the provider, mapped onto gen_ai.provider.name values.
_PROVIDER_ALIASES = {
    "az.ai.openai": "azure.ai.openai", "azure_openai": "azure.ai.openai", "azure": "azure.ai.openai",
    "az.ai.inference": "azure.ai.inference", "bedrock": "aws.bedrock", "aws_bedrock": "aws.bedrock",
    "aws-bedrock": "aws.bedrock", "vertex_ai": "gcp.vertex_ai", "vertexai": "gcp.vertex_ai",
    "gemini": "gcp.gemini", "google_genai": "gcp.gen_ai", "mistralai": "mistral_ai", "watsonx": "ibm.watsonx.ai",
}


def provider_sql(expr: str) -> str:
    """Normalise a provider name to the OpenTelemetry `gen_ai.provider.name` vocabulary (lower case)."""
    cases = " ".join(f"when '{old}' then '{new}'" for old, new in _PROVIDER_ALIASES.items())
    return f"case lower(trim({expr})) {cases} else nullif(lower(trim({expr})), '') end"


def _hex_id(expr: str) -> str:
    """Ids are hex in OTLP/JSON; old exporters wrote protobuf-JSON base64. Both end up lower-case hex."""
    return (f"case when nullif({expr}, '') is null then null when regexp_full_match({expr}, '[0-9a-fA-F]+') "
            f"then lower({expr}) else coalesce(lower(to_hex(try(from_base64({expr})))), {expr}) end")


def _nanos_to_timestamp_text(expr: str) -> str:
    # Non-numeric text passes through so validation quarantines it as "value is not a timestamp" with the value.
    return (f"case when try_cast({expr} as bigint) is null then {expr} "
            f"else cast(make_timestamp(cast({expr} as bigint) // 1000) as varchar) end")


class OtelGenAiSpans(JsonLinesIngestor):
    format = "otel"
    title = "OpenTelemetry GenAI spans (OTLP/JSON)"

    _NEWLINES_TO_SPACES = bytes.maketrans(b"\r\n", b"  ")

    @classmethod
    def detect(cls, objects: list[SourceObject], peek=None) -> int:
        if peek:
            head = peek()
            if b'"resourceSpans"' in head:
                return 95 if b"gen_ai." in head else 85
        return 0

    def accepts(self, obj: SourceObject) -> bool:
        return obj.name.endswith((".json", ".jsonl", ".ndjson", ".json.gz", ".jsonl.gz", ".ndjson.gz", ".gz"))

    def run(self, objects: list[SourceObject], ctx: LoadContext) -> None:
        # Objects holding ONE document number their spans by index instead of by line; remembered per run here.
        self._ctx = ctx
        self._documents = ctx.temp_name("otel_documents")
        ctx.con.execute(f"create temp table {self._documents} (uri varchar)")
        declared = ctx.source.input_includes_cache if ctx.source is not None else None
        self._input_includes_cache = True if declared is None else declared
        super().run(objects, ctx)
        ctx.con.execute(f"drop table {self._documents}")

    def prepare(self, data: bytes, obj: SourceObject) -> bytes:
        """Collector JSON lines stay as they are; a (pretty-printed) single document becomes one line."""
        if not data.strip():
            return b""
        if b'"resourceSpans"' not in data:
            if b'"resourceMetrics"' in data or b'"resourceLogs"' in data:
                return b""   # metrics or logs written beside the traces: nothing to price
            raise BadInputError(f"{obj.uri} is not an OTLP/JSON trace export (no \"resourceSpans\"). Point the "
                                "source at the collector's trace files, or pass the right --format.")
        first, _, rest = data.lstrip().partition(b"\n")
        first, rest = first.strip(), rest.lstrip()
        if rest and first.startswith(b"{") and first.endswith(b"}") and rest.startswith(b"{"):
            return data
        self._ctx.con.execute(f"insert into {self._documents} values (?)", [obj.uri])
        # JSON strings cannot hold raw newlines, so every newline of a valid document is whitespace.
        return data.translate(self._NEWLINES_TO_SPACES) if rest else data

    def select_sql(self, lines: str) -> str:
        return _requests_sql(lines, self._documents, self._input_includes_cache)


def _value(a: str) -> str:
    v = f"{a}.value"
    return (f"coalesce({v}.stringValue, {v}.intValue, {v}.doubleValue, {v}.boolValue, "
            f"{v}.arrayValue.\"values\"[1].stringValue)")


def _span(*keys: str) -> str:
    return "coalesce(" + ", ".join(f"v[list_position(k, '{key}')]" for key in keys) + ")"


def _resource(*keys: str) -> str:
    return "coalesce(" + ", ".join(f"rv[list_position(rk, '{key}')]" for key in keys) + ")"


def _attribution(field: str) -> str:
    """team / department / task_type: `costwarden.<field>`, then `app.<field>`, on the span, then the resource."""
    return (f"coalesce({_span(f'costwarden.{field}', f'app.{field}')}, "
            f"{_resource(f'costwarden.{field}', f'app.{field}')})")


def _requests_sql(lines: str, documents: str, input_includes_cache: bool) -> str:
    usage_in = _span("gen_ai.usage.input_tokens", "gen_ai.usage.prompt_tokens")
    usage_out = _span("gen_ai.usage.output_tokens", "gen_ai.usage.completion_tokens")
    cache_read = _span("gen_ai.usage.cache_read.input_tokens", "gen_ai.usage.cache_read_input_tokens")
    cache_write = _span("gen_ai.usage.cache_creation.input_tokens", "gen_ai.usage.cache_creation_input_tokens")
    cached = ("coalesce(try_cast(cache_read as bigint), 0) + coalesce(try_cast(cache_write as bigint), 0)"
              if input_includes_cache else "0")
    llm_ops = ", ".join(f"'{op}'" for op in LLM_OPERATIONS)
    not_requests = ", ".join(f"'{op}'" for op in NOT_REQUESTS)
    model = "coalesce(nullif(response_model, ''), nullif(request_model, ''))"
    tier = _span("openai.response.service_tier", "gen_ai.openai.response.service_tier")
    return f"""
    with recursive docs as (
        select _source_object, _source_line, json_transform(line, '{_SHAPE}') as d,
               _source_object in (select uri from {documents}) as single_document
        from {lines}
    ), resources as (
        select _source_object, _source_line, single_document, generate_subscripts(d.resourceSpans, 1) as r_idx,
               unnest(d.resourceSpans) as rs
        from docs
    ), resource_spans as (
        select _source_object, _source_line, single_document, r_idx,
               list_transform(rs.resource.attributes, lambda a: a.key) as rk,
               list_transform(rs.resource.attributes, lambda a: {_value('a')}) as rv,
               flatten(list_transform(rs.scopeSpans, lambda ss: list_transform(ss.spans,
                   lambda sp: {{'span': sp, 'scope': ss.scope.name}}))) as spans
        from resources
    ), spans as (
        select _source_object, _source_line, single_document, r_idx, rk, rv,
               generate_subscripts(spans, 1) as s_idx, unnest(spans) as e
        from resource_spans
    ), fields as materialized (
        select _source_object,
               case when single_document then row_number() over (partition by _source_object, _source_line
                   order by r_idx, s_idx) else _source_line end as _source_line,
               {_hex_id('e.span.traceId')} as trace_id, {_hex_id('e.span.spanId')} as span_id,
               {_hex_id('e.span.parentSpanId')} as parent_span_id,
               e.span.name as span_name, e.scope as scope_name,
               e.span.startTimeUnixNano as start_ns, e.span.endTimeUnixNano as end_ns,
               e.span.status.code as status_code,
               list_transform(e.span.attributes, lambda a: a.key) as k,
               list_transform(e.span.attributes, lambda a: {_value('a')}) as v, rk, rv
        from spans
    ), classified as materialized (
        select *, lower({_span('gen_ai.operation.name')}) as op,
               coalesce({_span('gen_ai.agent.name', 'gen_ai.agent.id')},
                        nullif(regexp_extract(span_name, '^invoke_agent (.+)$', 1), '')) as own_agent,
               len(list_filter(k, lambda key: starts_with(key, 'gen_ai.usage.'))) > 0 as has_usage
        from fields
    ), agent_spans as (
        select trace_id, span_id, any_value(parent_span_id) as parent_span_id,
               any_value(case when op = 'invoke_agent' then own_agent end) as agent
        from classified where span_id is not null group by trace_id, span_id
    ), llm as (
        select * from classified
        where op in ({llm_ops}) or (coalesce(op, '') not in ({not_requests}) and has_usage)
    ), walk(trace_id, span_id, ancestor, depth, agent) as (
        -- LLM spans without their own agent take the nearest enclosing invoke_agent span's. Only spans read in the
        -- same batch (files up to [ingest] batch_bytes) are seen: an ancestor delivered later leaves agent null.
        select trace_id, span_id, parent_span_id, 1, cast(null as varchar)
        from llm where own_agent is null and parent_span_id is not null
        union all
        select w.trace_id, w.span_id, p.parent_span_id, w.depth + 1, p.agent
        from walk w join agent_spans p on p.trace_id = w.trace_id and p.span_id = w.ancestor
        where w.agent is null and w.depth < {_MAX_AGENT_DEPTH}
    ), inherited as (
        select trace_id, span_id, min_by(agent, depth) as agent
        from walk where agent is not null group by trace_id, span_id
    ), extracted as (
        select l.*, i.agent as inherited_agent,
               {usage_in} as usage_in, {usage_out} as usage_out,
               {cache_read} as cache_read, {cache_write} as cache_write,
               {_span('gen_ai.response.model')} as response_model, {_span('gen_ai.request.model')} as request_model,
               (l.status_code in ('2', 'STATUS_CODE_ERROR') or {_span('error.type')} is not null) as failed
        from llm l left join inherited i on i.trace_id = l.trace_id and i.span_id = l.span_id
    )
    select _source_object, _source_line,
        coalesce(nullif({_span('gen_ai.response.id')}, ''), trace_id || ':' || span_id) as request_id,
        {_nanos_to_timestamp_text('start_ns')} as occurred_at,
        trace_id, span_id, parent_span_id,
        coalesce(own_agent, inherited_agent) as agent,
        {_resource('service.name')} as application,
        op as operation,
        {hash_sql(_span('enduser.id', 'user.id'))} as principal_hash,
        null as principal_role, null as api_key_hash,
        {_attribution('team')} as team, {_attribution('department')} as department,
        {_resource('deployment.environment.name', 'deployment.environment')} as environment,
        {_resource('cloud.region')} as region,
        {_resource('cloud.account.id')} as account_id,
        {provider_sql(_span('gen_ai.provider.name', 'gen_ai.system'))} as provider,
        {model} as model_id,
        {canonical_model_sql(model)} as model,
        {model_version_sql(model)} as model_version,
        case when try_cast(usage_in as bigint) is null then coalesce(usage_in, case when failed then '0' end)
             else cast(try_cast(usage_in as bigint) - ({cached}) as varchar) end as input_tokens,
        coalesce(usage_out, case when failed or op = 'embeddings' then '0' end) as output_tokens,
        coalesce(cache_read, '0') as cache_read_tokens,
        coalesce(cache_write, '0') as cache_write_tokens,
        {_span('gen_ai.usage.reasoning.output_tokens', 'gen_ai.usage.reasoning_tokens')} as reasoning_tokens,
        (try_cast(end_ns as bigint) - try_cast(start_ns as bigint)) / 1e6 as latency_ms,
        try_cast({_span('gen_ai.server.time_to_first_token', 'gen_ai.response.time_to_first_chunk')} as double)
            * 1000 as ttft_ms,
        case when failed then 'error' else 'success' end as status,
        case when failed then {_span('error.type')} end as error_class,
        {_span('gen_ai.response.finish_reasons')} as finish_reason,
        coalesce(case lower({tier}) when 'default' then 'standard' when 'auto' then 'standard'
                 when 'scale' then 'reserved' else lower({tier}) end, 'standard')
            as service_tier,
        {_attribution('task_type')} as task_type,
        {_span('costwarden.quality_score')} as quality_score,
        null as reported_cost,
        map_from_entries(list_filter([
            {{'key': 'conversation_id', 'value': {_span('gen_ai.conversation.id')}}},
            {{'key': 'agent_id', 'value': {_span('gen_ai.agent.id')}}},
            {{'key': 'span_name', 'value': span_name}},
            {{'key': 'otel_scope', 'value': scope_name}},
            {{'key': 'service_version', 'value': {_resource('service.version')}}}],
            lambda entry: entry.value is not null)) as metadata
    from extracted"""
