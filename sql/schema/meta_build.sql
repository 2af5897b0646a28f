-- meta.build_*: what each `costwarden build` covered, so the next one can recompute only the days whose inputs
-- changed (docs/warehouse.md, "Incremental build"). Written in the build's own transaction.
create schema if not exists meta;

-- The days the running build recomputes. Day-partitioned models read it (`where day in (select day from
-- meta.build_scope)`); a full build fills it with every day that has data.
create table if not exists meta.build_scope (
    day                date not null
);

-- One row per successful build.
create table if not exists meta.build_runs (
    build_id                 varchar not null,
    started_at               timestamp not null,
    finished_at              timestamp not null,
    mode                     varchar not null,    -- full | incremental
    reason                   varchar not null,    -- why full, or what made the days dirty
    days_rebuilt             bigint not null,
    first_day                date,
    last_day                 date,
    seconds                  double not null,
    code_fingerprint         varchar not null,    -- md5 of the sql/ model files: a change forces a full build
    attribution_fingerprint  varchar not null,    -- md5 of ref capacity / shared-cost / usage-type tables
    org_rules_fingerprint    varchar not null     -- md5 of ref.org_rules: a change re-maps and diffs by day
);

-- The inputs of each day as of the last successful build: per day, which loads delivered how many rows.
create table if not exists meta.build_days (
    day                      date not null,
    requests_fingerprint     varchar,            -- md5 of the (load id, rows) list of raw.inference_requests
    cost_lines_fingerprint   varchar             -- md5 of the (dataset, period, load id, rows) list of raw.cost_lines
);

-- The price book the last successful build priced with (diffed against ref.price_book to find repriced days).
create table if not exists meta.build_price_book (
    provider           varchar not null,
    model              varchar not null,
    region             varchar not null,
    token_type         varchar not null,
    usd_per_million    decimal(38, 10) not null,
    effective_from     date not null,
    effective_to       date,
    source             varchar not null
);
