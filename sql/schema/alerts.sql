-- alerts: the outbox (one row per message to deliver, keyed by its idempotency key), the events each message
-- carried (what routing reads to never alert twice and to tell a page from an update), and every delivery attempt.
-- Payloads are the composed bodies exactly as sent; they never hold webhook URLs or passwords.
create schema if not exists alerts;

create table if not exists alerts.outbox (
    message_id         varchar primary key,       -- idempotency key: email Message-ID, Idempotency-Key header
    subscription       varchar not null,
    channel            varchar not null,          -- name from [[alerts.channels]]
    channel_kind       varchar not null,          -- slack | email | webhook | dingtalk | feishu | wecom
    recipient          varchar not null,          -- email address, or the channel name for webhooks
    mode               varchar not null,          -- page | update | digest
    group_key          varchar not null,
    payload            json not null,
    status             varchar not null,          -- pending | sending | sent | failed_permanent
    attempts           integer not null default 0,
    next_attempt_at    timestamp not null,        -- UTC; a pending message is not tried before this
    attempt_id         varchar,                   -- the attempt in flight (status sending) or the last one
    last_error         varchar,                   -- redacted: names hosts, never URLs with tokens or passwords
    created_at         timestamp not null,
    sent_at            timestamp
);

create table if not exists alerts.outbox_events (
    message_id         varchar not null,
    subscription       varchar not null,
    recipient          varchar not null,
    event_key          varchar not null,          -- unique per (subscription, recipient): an event goes out once
    event_type         varchar not null,
    thread_key         varchar not null,          -- the ongoing thing (one anomaly) across its updates
    group_key          varchar not null,          -- its root cause
    mode               varchar not null,
    detected_at        timestamp not null,
    created_at         timestamp not null
);

create table if not exists alerts.deliveries (
    message_id         varchar not null,
    attempt_id         varchar not null,
    attempt_no         integer not null,
    started_at         timestamp not null,
    finished_at        timestamp,
    outcome            varchar,                   -- sent | transient | permanent | interrupted (null while in flight)
    error              varchar,                   -- redacted
    retry_after_s      double                     -- the receiver's Retry-After, when it sent one
);

-- The state changes of each anomaly that alerts/sources.py turned into events, recorded once. Every run rebuilds
-- its anomaly events from here, so the same change always has the same event key (nothing is alerted twice) and a
-- crash between recording and sending loses nothing (the next run finds the event unsent and sends it).
create table if not exists alerts.anomaly_transitions (
    anomaly_id         varchar not null,
    occurrence         integer not null,          -- 0, then 1, 2, ... each time a resolved anomaly reopens
    kind               varchar not null,          -- opened | escalated | resolved
    severity           varchar not null,
    recorded_at        timestamp not null,        -- UTC; the event's detected_at
    primary key (anomaly_id, occurrence, kind, severity)
);
