-- Each model call with its agent run and the flags that make it waste.
-- grain: request_key
-- materialized: table

-- A run is every call of one trace (trace_id); a call without a trace is a run of its own. Flags, from what every
-- source carries (status is normalised to success | error by the ingestors; error_class and finish_reason are the
-- source's own words):
--   failed     status is not 'success'
--   timed_out  the error class or finish reason names a timeout (ModelTimeoutException, APITimeoutError,
--              ReadTimeout, HTTP 408 / 504, finish_reason 'timeout')
--   retried    the next call of the same run by the same agent to the same model redoes this one: this call
--              failed or was cut off (finish_reason length / max_tokens), or the next call re-sends a prompt of
--              exactly the same size before this one finished (a client that gave up waiting and retried while
--              the server went on and billed the first call)
--   waste      failed or timed_out or retried: its cost bought nothing the run used
-- A run succeeded when its last call (by start time) succeeded and was not cut off.
with

calls as (
    select
        source_format || '|' || request_id as request_key,
        coalesce(nullif(trace_id, ''), source_format || '|' || request_id) as run_id,
        occurred_at,
        -- DuckDB-only: to_milliseconds builds an interval from a number of milliseconds
        occurred_at + to_milliseconds(cast(round(coalesce(latency_ms, 0)) as bigint)) as ended_at,
        usage_date,
        department, team, agent, provider, model, model_version, environment, region,
        status, error_class, finish_reason, latency_ms, ttft_ms,
        input_tokens + cache_read_tokens + cache_write_tokens as prompt_tokens,
        estimated_cost,
        status <> 'success' as is_failed,
        coalesce(
            lower(error_class) like '%timeout%' or lower(error_class) like '%timed%out%'
            or error_class in ('408', '504') or lower(finish_reason) like '%timeout%',
            false) as is_timed_out,
        coalesce(lower(finish_reason) like '%length%' or lower(finish_reason) like '%max_tokens%', false)
            as is_cut_off
    from intermediate.int_requests_priced
),

ordered as (
    select
        *,
        lead(request_key) over same_target as next_request_key,
        lead(prompt_tokens) over same_target as next_prompt_tokens,
        lead(occurred_at) over same_target as next_occurred_at,
        row_number() over (partition by run_id order by occurred_at desc, request_key desc) as from_last
    from calls
    window same_target as (partition by run_id, agent, model order by occurred_at, request_key)
),

flagged as (
    select
        *,
        next_request_key is not null
            and (is_failed or is_cut_off
                 or (prompt_tokens > 0 and next_prompt_tokens = prompt_tokens and next_occurred_at < ended_at))
            as is_retried
    from ordered
),

final as (
    select
        request_key, run_id, occurred_at, ended_at, usage_date,
        department, team, agent, provider, model, model_version, environment, region,
        status, error_class, finish_reason, latency_ms, ttft_ms, estimated_cost,
        is_failed, is_timed_out, is_retried,
        is_failed or is_timed_out or is_retried as is_waste,
        -- the run's last call decides whether the run succeeded; every call of the run carries the answer
        bool_or(from_last = 1 and not is_failed and not is_cut_off) over (partition by run_id) as run_succeeded
    from flagged
)

select * from final
