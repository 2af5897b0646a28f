"""The one mapping from LiteLLM's `LiteLLM_SpendLogs` columns to canonical request columns, shared by the database
reader (litellm_db) and the JSON/CSV export reader (litellm).

Token semantics: LiteLLM follows OpenAI, so `prompt_tokens` INCLUDES cached input. The cache counts live in
`metadata.usage_object` (`cache_read_input_tokens` or `prompt_tokens_details.cached_tokens`;
`cache_creation_input_tokens` or `prompt_tokens_details.cache_creation_tokens`; older proxies put them in
`metadata.additional_usage_values`). Uncached input is stored as `prompt_tokens - cache_read - cache_write`; a row
where that would be negative is refused ("negative token count input_tokens"), not clamped: its counts disagree.
Caveat: some mid-2025 LiteLLM releases added only cache reads (not writes) to Anthropic `prompt_tokens`; for those
rows uncached input is understated by the cache writes, or the row is refused when it would go negative. A source
with `input_includes_cache = false` in the config takes prompt_tokens as already uncached.

Bodies (`messages`, `response`, `proxy_server_request`) are never read; from `metadata` only usage counts, the error
class/code and scalar attribution keys are kept.
"""

from __future__ import annotations

from ingest.identity import canonical_model_sql, hash_sql, model_version_sql

# The LiteLLM_SpendLogs columns the mapping reads (as the proxy names them). Each source relation must have all of
# them (NULL where its table or export lacks one: older proxies have no session_id, status, agent_id ...).
SPEND_LOG_COLUMNS = (
    "request_id", "call_type", "api_key", "spend", "prompt_tokens", "completion_tokens", "startTime", "endTime",
    "request_duration_ms", "completionStartTime", "model", "model_id", "model_group", "custom_llm_provider",
    "api_base", "user", "metadata", "cache_hit", "request_tags", "team_id", "organization_id", "end_user",
    "session_id", "status", "agent_id",
)

# Top-level metadata keys worth reading (the database reader keeps only these, server side); everything else in
# metadata (guardrail text, error messages and tracebacks, proxy_server_request ...) is left in the source.
METADATA_KEYS = ("usage_object", "additional_usage_values", "user_api_key_alias", "user_api_key_team_alias",
                 "spend_logs_metadata", "requester_metadata", "status")
ERROR_KEYS = ("error_class", "error_code")

# custom_llm_provider -> OpenTelemetry gen_ai.provider.name (the price book's provider names).
PROVIDERS = {
    "bedrock": "aws.bedrock", "bedrock_converse": "aws.bedrock", "sagemaker": "aws.sagemaker",
    "openai": "openai", "text-completion-openai": "openai", "azure": "azure.ai.openai", "azure_text": "azure.ai.openai",
    "azure_ai": "azure.ai.inference", "anthropic": "anthropic", "vertex_ai": "gcp.vertex_ai",
    "vertex_ai_beta": "gcp.vertex_ai", "gemini": "gcp.gemini", "mistral": "mistral_ai", "cohere": "cohere",
    "cohere_chat": "cohere", "groq": "groq", "deepseek": "deepseek", "perplexity": "perplexity", "xai": "x_ai",
    "watsonx": "ibm.watsonx.ai",
}
# call_type -> gen_ai.operation.name; async variants (a-prefixed) map like their sync twin.
OPERATIONS = {
    "completion": "chat", "acompletion": "chat", "anthropic_messages": "chat", "responses": "chat",
    "aresponses": "chat", "embedding": "embeddings", "aembedding": "embeddings", "text_completion": "text_completion",
    "atext_completion": "text_completion", "image_generation": "image_generation",
    "aimage_generation": "image_generation", "rerank": "rerank", "arerank": "rerank",
}
# JSON paths read from the (pruned) metadata in one parse; names index the extracted list.
_META_PATHS = {
    "cached": "$.usage_object.prompt_tokens_details.cached_tokens",
    "cache_read": "$.usage_object.cache_read_input_tokens",
    "cache_read_old": "$.additional_usage_values.cache_read_input_tokens",
    "cache_created": "$.usage_object.prompt_tokens_details.cache_creation_tokens",
    "cache_write": "$.usage_object.cache_creation_input_tokens",
    "cache_write_old": "$.additional_usage_values.cache_creation_input_tokens",
    "reasoning": "$.usage_object.completion_tokens_details.reasoning_tokens",
    "key_alias": "$.user_api_key_alias",
    "team_alias": "$.user_api_key_team_alias",
    "error_class": "$.error_information.error_class",
    "error_code": "$.error_information.error_code",
    "status": "$.status",
}
# Caller-supplied attribution dicts; only scalar values up to this length are kept (no bodies smuggled as tags).
_CALLER_DICTS = ("$.spend_logs_metadata", "$.requester_metadata")
MAX_TAG_VALUE = 256


def _case_map(expr: str, mapping: dict[str, str]) -> str:
    whens = " ".join(f"when '{key}' then '{value}'" for key, value in mapping.items())
    return f"case {expr} {whens} else {expr} end"


def _scalar_map(json_expr: str) -> str:
    """SQL: the scalar entries of a JSON object as map(varchar, varchar); NULL when it is not an object."""
    entries = (f"map_entries(try_cast(json_extract({json_expr}, '$') as map(varchar, json)))")
    return (f"map_from_entries(list_transform(list_filter({entries}, e -> json_type(e.value) in "
            f"('VARCHAR', 'BIGINT', 'UBIGINT', 'DOUBLE', 'BOOLEAN') and "
            f"length(json_extract_string(e.value, '$')) <= {MAX_TAG_VALUE}), "
            f"e -> {{'key': e.key, 'value': json_extract_string(e.value, '$')}}))")


def _timestamp(column: str) -> str:
    # Through timestamptz so '...Z' / '+02:00' offsets are honoured (a plain timestamp cast drops them); the
    # session time zone is UTC, so naive values stay as they are.
    return f"cast(try_cast(cast(s.\"{column}\" as varchar) as timestamptz) as timestamp)"


def _text(column: str) -> str:
    return f"nullif(trim(cast(s.\"{column}\" as varchar)), '')"


def includes_cache(ctx) -> bool:
    """The source's `input_includes_cache` setting; LiteLLM's default is True (OpenAI semantics)."""
    declared = ctx.source.input_includes_cache if ctx.source is not None else None
    return True if declared is None else declared


def request_select(source: str, input_includes_cache: bool = True) -> str:
    """SELECT of canonical request columns over `source` (SPEND_LOG_COLUMNS as text or typed, plus _source_object
    and _source_line). Uses the parameter $salt. `input_includes_cache = false` in a source's config takes
    prompt_tokens as already uncached (for proxies whose providers report it that way)."""
    paths = "[" + ", ".join(f"'{p}'" for p in _META_PATHS.values()) + "]"
    v = {name: f"v[{i + 1}]" for i, name in enumerate(_META_PATHS)}
    caller = "map_concat(" + ", ".join(f"coalesce({_scalar_map(f'json_extract(_meta, {p!r})')}, map())"
                                        for p in _CALLER_DICTS) + ")"

    def count(*names: str) -> str:
        return "greatest(" + ", ".join(f"coalesce(try_cast({v[n]} as bigint), 0)" for n in names) + ")"

    def tag(*keys: str) -> str:
        return "coalesce(" + ", ".join(f"_caller['{k}']" for k in keys) + ")"

    model, api_base = _text("model"), _text("api_base")
    raw_provider = (f"lower(coalesce({_text('custom_llm_provider')}, "
                    f"case when {model} like '%/%' then split_part({model}, '/', 1) end))")
    failed = f"lower(coalesce({_text('status')}, {v['status']}, 'success')) not in ('success', 'succeeded', 'ok')"
    started, ended, first_token = _timestamp("startTime"), _timestamp("endTime"), _timestamp("completionStartTime")
    tags = "array_to_string(try_cast(_tags as varchar[]), ',')"
    fixed = ("map_from_entries(list_filter(["
             f"{{'key': 'user_api_key_alias', 'value': {v['key_alias']}}}, "
             f"{{'key': 'user_api_key_team_alias', 'value': {v['team_alias']}}}, "
             f"{{'key': 'organization_id', 'value': {_text('organization_id')}}}, "
             f"{{'key': 'model_group', 'value': {_text('model_group')}}}, "
             f"{{'key': 'deployment_id', 'value': {_text('model_id')}}}, "
             f"{{'key': 'call_type', 'value': {_text('call_type')}}}, "
             f"{{'key': 'cache_hit', 'value': case when lower({_text('cache_hit')}) = 'true' then 'true' end}}, "
             f"{{'key': 'tags', 'value': nullif({tags}, '')}}], e -> e.value is not null))")
    prompt = f"try_cast({_text('prompt_tokens')} as bigint)"
    cache_read = count("cached", "cache_read", "cache_read_old")
    cache_write = count("cache_created", "cache_write", "cache_write_old")
    uncache = f"{cache_read} + {cache_write}" if input_includes_cache else "0"
    return f"""
    with parsed as (
        select s.*,
            case when json_valid(cast(s."metadata" as varchar)) then json(cast(s."metadata" as varchar)) end as _meta,
            case when json_valid(cast(s."request_tags" as varchar)) then json(cast(s."request_tags" as varchar))
                 end as _tags
        from ({source}) s
    ), extracted as (
        select s.*, json_extract_string(_meta, {paths}) as v, {caller} as _caller from parsed s
    )
    select s._source_object, s._source_line,
        {_text('request_id')} as request_id,
        coalesce(cast({started} as varchar), {_text('startTime')}) as occurred_at,
        coalesce({_text('session_id')}, {tag('trace_id', 'session_id', 'run_id')}) as trace_id,
        {tag('span_id')} as span_id,
        {tag('parent_span_id')} as parent_span_id,
        coalesce({_text('agent_id')}, {tag('agent', 'agent_id', 'agent_name')}) as agent,
        {tag('application', 'app', 'feature')} as application,
        {_case_map(f"lower({_text('call_type')})", OPERATIONS)} as operation,
        {hash_sql(f"coalesce({_text('user')}, {_text('end_user')})")} as principal_hash,
        null as principal_role,
        {hash_sql(_text('api_key'))} as api_key_hash,
        coalesce({_text('team_id')}, {tag('team')}) as team,
        {tag('department', 'dept', 'cost_center')} as department,
        {tag('environment', 'env', 'stage')} as environment,
        coalesce(nullif(regexp_extract({api_base}, 'bedrock-runtime(-fips)?\\.([a-z0-9-]+)\\.amazonaws', 2), ''),
                 nullif(regexp_extract({api_base}, '//([a-z0-9-]+)-aiplatform\\.googleapis', 1), '')) as region,
        null as account_id,
        {_case_map(raw_provider, PROVIDERS)} as provider,
        {model} as model_id,
        {canonical_model_sql(model)} as model,
        {model_version_sql(model)} as model_version,
        case when {prompt} is null then {_text('prompt_tokens')}
             else cast({prompt} - ({uncache}) as varchar) end as input_tokens,
        {_text('completion_tokens')} as output_tokens,
        {cache_read} as cache_read_tokens,
        {cache_write} as cache_write_tokens,
        try_cast({v['reasoning']} as bigint) as reasoning_tokens,
        coalesce(try_cast({_text('request_duration_ms')} as double),
                 epoch_ms({ended}) - epoch_ms({started})) as latency_ms,
        case when epoch_ms({first_token}) >= epoch_ms({started})
             then epoch_ms({first_token}) - epoch_ms({started}) end as ttft_ms,
        case when {failed} then 'error' else 'success' end as status,
        case when {failed} then coalesce({v['error_class']}, {v['error_code']}, {_text('status')}) end as error_class,
        null as finish_reason,
        null as service_tier,
        {tag('task_type', 'task')} as task_type,
        {tag('quality_score')} as quality_score,
        {_text('spend')} as reported_cost,
        nullif(map_concat(_caller, {fixed}), map()) as metadata
    from extracted s"""
