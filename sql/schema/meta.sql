-- meta: the load ledger, per-run summaries, quarantined rows and billing-period versions.
-- These tables are the proof behind "nothing is lost, nothing doubles": every object read is in source_objects,
-- every run in loads with read = loaded + quarantined, every refused row in quarantine with its reason.
create schema if not exists meta;

create table if not exists meta.loads (
    load_id            varchar primary key,
    started_at         timestamp not null,
    finished_at        timestamp,
    source_name        varchar,
    source_uri         varchar not null,
    format             varchar not null,
    status             varchar not null,          -- ok | failed
    files_seen         bigint not null default 0,
    files_loaded       bigint not null default 0,
    files_skipped      bigint not null default 0,  -- already in the ledger, or superseded by a newer delivery
    files_failed       bigint not null default 0,  -- could not be read at all (named in meta.load_errors)
    rows_read          bigint not null default 0,
    rows_loaded        bigint not null default 0,
    rows_quarantined   bigint not null default 0,
    rows_skipped       bigint not null default 0,  -- duplicates of rows already loaded (not counted as read)
    rows_unpriced      bigint not null default 0,  -- loaded requests whose model has no price in the book
    message            varchar
);

create table if not exists meta.source_objects (
    object_uri         varchar not null,
    etag               varchar not null,          -- S3 ETag or a content checksum of a local file
    size_bytes         bigint,
    format             varchar not null,
    dataset            varchar,                   -- billing exports: the unit of replacement is (dataset, period)
    billing_period     date,
    version            varchar,                   -- billing exports: manifest / assembly / execution version
    load_id            varchar not null,
    rows_read          bigint,
    rows_loaded        bigint,
    rows_quarantined   bigint,
    status             varchar not null,          -- loaded | superseded
    recorded_at        timestamp not null
);

create table if not exists meta.billing_periods (
    dataset            varchar not null,
    billing_period     date not null,             -- first day of the month
    format             varchar not null,
    version            varchar not null,
    version_at         timestamp,                 -- when the delivery was written (manifest time)
    manifest_uri       varchar,
    load_id            varchar not null,
    rows_loaded        bigint not null,
    billed_cost        decimal(38, 10),
    replaced_at        timestamp not null
);

create table if not exists meta.quarantine (
    load_id            varchar not null,
    format             varchar not null,
    object_uri         varchar not null,
    line_no            bigint,                    -- 1-based line (JSON lines) or data row (CSV / Parquet)
    reason             varchar not null,
    field              varchar,
    value              varchar,                   -- only scalar values, never prompt or response text
    quarantined_at     timestamp not null
);

create table if not exists meta.load_errors (
    load_id            varchar not null,
    object_uri         varchar not null,
    message            varchar not null,
    recorded_at        timestamp not null
);
