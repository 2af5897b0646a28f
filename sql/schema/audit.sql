-- audit: what people did in the dashboard (page views and exports), append-only. The dashboard writes these rows
-- to its write-back file (<warehouse>.dashboard.duckdb) while it serves; each build imports the new ones here, so
-- the warehouse keeps the full history next to the data it describes.
create schema if not exists audit;

create table if not exists audit.dashboard_events (
    event_id           varchar primary key,       -- uuid, so an import never duplicates a row
    occurred_at        timestamp not null,        -- UTC
    user_name          varchar not null,
    role               varchar not null,
    signed_in_via      varchar not null,          -- password | header | open
    action             varchar not null,          -- view | export | feedback | decision | sign_in | sign_in_failed
    page               varchar not null,
    scope              varchar not null,          -- 'all' or department=x;team=y
    filters            json,                      -- the page's filters (dates, environment, region, scope)
    export_format      varchar,                   -- csv | xlsx | focus (exports only)
    export_rows        bigint,
    export_bytes       bigint,
    snapshot           varchar                    -- which published snapshot the page read
);
