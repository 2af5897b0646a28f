-- meta.source_watermarks: how far each incremental source (a database table, not an object store) has been read.
-- A run reads rows from (watermark - overlap) on, so rows that commit late still load; request-id dedup makes the
-- overlap harmless. One row per source, replaced inside the run's transaction (a killed run leaves it unchanged).
create schema if not exists meta;

create table if not exists meta.source_watermarks (
    source_key         varchar not null,          -- e.g. litellm_db://db.internal:5432/litellm (never credentials)
    format             varchar not null,
    watermark          timestamp not null,        -- greatest source timestamp read so far (UTC)
    load_id            varchar not null,          -- the run that moved it
    updated_at         timestamp not null
);
