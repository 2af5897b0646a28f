-- ref: reference data the build reads. Refreshed from the shipped price book and the config on every ingest/build.
create schema if not exists ref;

create table if not exists ref.price_book (
    provider           varchar not null,          -- gen_ai.provider.name style: aws.bedrock, openai, anthropic ...
    model              varchar not null,          -- canonical model id (see ingest/identity.py)
    region             varchar not null,          -- a region code, or '*' for any region
    token_type         varchar not null,          -- input | output | cache_read | cache_write | batch_input | batch_output
    usd_per_million    decimal(38, 10) not null,
    effective_from     date not null,
    effective_to       date,                      -- exclusive; null = still in force
    source             varchar not null           -- where the price came from (catalogue + licence, or config)
);

create table if not exists ref.org_rules (
    priority           integer not null,
    rule_order         integer not null,          -- position in the config, breaks priority ties
    match              varchar not null,
    key                varchar,
    pattern            varchar not null,
    like_pattern       varchar not null,          -- the glob translated to a SQL LIKE pattern
    pattern_hash       varchar,                   -- principal / api_key rules compare salted hashes
    team               varchar,
    department         varchar,
    environment        varchar
);
