-- raw: the two normalised families every ingestor writes. Names follow FOCUS where FOCUS has one.
-- Money is decimal(38, 10) in the billing currency; token counts are bigint; times are UTC timestamps.
create schema if not exists raw;

create table if not exists raw.cost_lines (
    source_format            varchar not null,    -- cur2 | cur_legacy | focus
    dataset                  varchar not null,    -- export identity; (dataset, billing_period) is replaced as a unit
    billing_period           date not null,       -- first day of the billing month
    billing_period_start     timestamp,
    billing_period_end       timestamp,
    charge_period_start      timestamp,
    charge_period_end        timestamp,
    provider_name            varchar,             -- AWS | Microsoft | Google Cloud | Oracle | ...
    publisher_name           varchar,
    invoice_issuer_name      varchar,
    billing_account_id       varchar,
    sub_account_id           varchar,
    sub_account_name         varchar,
    charge_category          varchar,             -- Usage | Purchase | Tax | Credit | Adjustment
    charge_class             varchar,
    charge_frequency         varchar,
    charge_description       varchar,
    line_item_type           varchar,             -- AWS line item type, when the source has one
    service_name             varchar,
    service_category         varchar,
    service_code             varchar,             -- AWS product code / x_ServiceCode
    region_id                varchar,
    availability_zone        varchar,
    resource_id              varchar,
    resource_name            varchar,
    resource_type            varchar,
    sku_id                   varchar,
    usage_type               varchar,             -- AWS usage type / FOCUS SkuMeter
    operation                varchar,
    iam_principal            varchar,             -- Bedrock IAM principal attribution (CUR 2.0), when present
    pricing_category         varchar,
    pricing_unit             varchar,
    pricing_quantity         decimal(38, 10),
    consumed_quantity        decimal(38, 10),
    consumed_unit            varchar,
    commitment_discount_id   varchar,
    billed_cost              decimal(38, 10) not null,
    effective_cost           decimal(38, 10) not null,
    list_cost                decimal(38, 10),
    contracted_cost          decimal(38, 10),
    billing_currency         varchar not null,
    invoice_id               varchar,
    tags                     map(varchar, varchar),
    _load_id                 varchar not null,
    _source_object           varchar not null,
    _source_row              bigint
);

create table if not exists raw.inference_requests (
    source_format            varchar not null,    -- bedrock | litellm | otel | generic
    request_id               varchar not null,    -- unique per source_format; re-loads deduplicate on it
    occurred_at              timestamp not null,  -- UTC start of the request
    trace_id                 varchar,             -- agent run / workflow: all calls of one run share it
    span_id                  varchar,
    parent_span_id           varchar,
    agent                    varchar,
    application              varchar,
    operation                varchar,             -- chat | converse | embeddings | invoke_agent | execute_tool ...
    principal_hash           varchar,             -- salted hash of the caller identity; never the identity
    principal_role           varchar,             -- IAM role / user ARN with the session name removed
    api_key_hash             varchar,
    team                     varchar,             -- as stated by the source; the org mapping can override
    department               varchar,
    environment              varchar,
    region                   varchar,
    account_id               varchar,
    provider                 varchar,             -- OpenTelemetry gen_ai.provider.name values: aws.bedrock, openai ...
    model_id                 varchar not null,    -- as logged (may be an inference profile id or ARN)
    model                    varchar not null,    -- canonical model id used for pricing (region prefix removed)
    model_version            varchar,
    input_tokens             bigint not null,     -- UNCACHED input tokens (Bedrock semantics; see docs/warehouse.md)
    output_tokens            bigint not null,     -- includes reasoning tokens
    cache_read_tokens        bigint not null,
    cache_write_tokens       bigint not null,
    reasoning_tokens         bigint,
    latency_ms               double,
    ttft_ms                  double,
    status                   varchar not null,    -- success | error
    error_class              varchar,
    finish_reason            varchar,
    service_tier             varchar,             -- standard | batch | flex | priority | reserved
    task_type                varchar,
    quality_score            double,
    reported_cost            decimal(38, 10),     -- the source's own estimate (e.g. LiteLLM spend), not billing truth
    metadata                 map(varchar, varchar), -- caller-supplied attribution tags (no bodies)
    _load_id                 varchar not null,
    _source_object           varchar not null,
    _source_line             bigint
);
