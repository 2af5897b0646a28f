-- analytics: what the Python models write (anomalies, forecasts, budget states, recommendations) and what people
-- decide about them (feedback, approvals). The SQL build never drops these tables; `costwarden detect`,
-- `costwarden forecast` and `costwarden recommend` replace their own rows; feedback and decisions are append-only.
-- Scope columns (department, team, agent, model) are always filled where the row belongs to one, so the dashboard's
-- data-access layer can restrict a team lead to their own rows. Money is DECIMAL in the row's currency.
create schema if not exists analytics;

-- One row per anomaly (an interval on one series). anomaly_id is stable across runs (series_key + start), so a
-- re-run updates the row instead of adding one, and an anomaly that reopens keeps its id.
create table if not exists analytics.anomalies (
    anomaly_id         varchar primary key,
    series_key         varchar not null,          -- e.g. 'spend|day|team=growth' (metric|grain|scope)
    metric             varchar not null,          -- spend, requests, tokens, cost_per_request, cost_per_1k_tokens,
                                                  -- cost_per_run, output_input_ratio, cache_hit_rate, error_rate,
                                                  -- p95_latency_ms, jitter
    grain              varchar not null,          -- hour | day
    scope_kind         varchar not null,          -- all | department | team | agent | model | account
    scope_value        varchar not null,          -- '' for all
    department         varchar,
    team               varchar,
    agent              varchar,
    model              varchar,
    currency           varchar,                   -- of impact_cost (null for series that are not money)
    start_at           timestamp not null,        -- first flagged point (UTC)
    end_at             timestamp,                 -- last flagged point; null while ongoing
    status             varchar not null,          -- open | resolved
    first_alert_at     timestamp,                 -- earliest time a causal run could have raised it
    last_point_at      timestamp not null,        -- newest point judged
    expected           double,                    -- over the interval (sum for additive metrics, mean for rates)
    actual             double,
    lower_band         double,
    upper_band         double,
    impact             double,                    -- actual - expected, in the metric's unit
    impact_cost        decimal(38, 6),            -- $ impact (in currency) where the metric is money or priced
    impact_pct         double,
    score              double,
    severity           varchar not null,          -- info | warning | critical
    alertable          boolean not null,          -- passed the alert gates (below them: visible, never paged)
    suppressed_by      varchar,                   -- planned:<name> | feedback:<verdict> | null
    root_cause         varchar,                   -- one line: 'volume: agent=campaign-writer' ...
    drivers            json,                      -- [{"name": "agent=x", "effect": "volume", "impact_cost": 12.3}]
    detected_at        timestamp not null,        -- the run that last wrote this row
    history_status     varchar                    -- 'ok' or why the series was not judged (short history)
);

-- The judged points with their expected band, for charts (one row per series point of the last run).
create table if not exists analytics.anomaly_points (
    series_key         varchar not null,
    ts                 timestamp not null,
    actual             double,
    expected           double,
    lower_band         double,
    upper_band         double,
    flagged            boolean not null,
    anomaly_id         varchar
);

-- People's verdicts on anomalies; append-only, the newest per anomaly counts, later runs respect it.
create table if not exists analytics.anomaly_feedback (
    anomaly_id         varchar not null,
    verdict            varchar not null,          -- expected | not_anomaly | planned
    user_name          varchar not null,
    decided_at         timestamp not null,
    note               varchar
);

-- Month-end (or quarter-end) forecasts per scope, one row per (scope, period, as_of).
create table if not exists analytics.forecasts (
    scope_kind         varchar not null,          -- all | department | team | agent
    scope_value        varchar not null,
    department         varchar,
    team               varchar,
    agent              varchar,
    period_start       date not null,
    period_end         date not null,             -- inclusive last day
    as_of              date not null,             -- last day of data the forecast used
    currency           varchar not null,
    actual_to_date     decimal(38, 6) not null,
    forecast           decimal(38, 6) not null,   -- period total (actual to date + predicted rest)
    lower_80           decimal(38, 6) not null,
    upper_80           decimal(38, 6) not null,
    method             varchar not null,
    created_at         timestamp not null
);

-- Budget state per budget and period as of the last run.
create table if not exists analytics.budget_status (
    budget_name        varchar not null,
    scope_kind         varchar not null,          -- all | department | team | agent
    scope_value        varchar not null,
    department         varchar,
    team               varchar,
    agent              varchar,
    period_kind        varchar not null,          -- monthly | quarterly
    period_start       date not null,
    period_end         date not null,
    currency           varchar not null,
    amount             decimal(38, 6) not null,
    actual             decimal(38, 6) not null,
    forecast           decimal(38, 6),
    forecast_lower_80  decimal(38, 6),
    forecast_upper_80  decimal(38, 6),
    pct_actual         double not null,
    pct_forecast       double,
    runway_date        date,                      -- day the budget runs out at the current pace (null: it does not)
    as_of              date not null,
    created_at         timestamp not null
);

-- Each threshold crossing, recorded once (a threshold fires once per budget, period and basis).
create table if not exists analytics.budget_crossings (
    budget_name        varchar not null,
    period_start       date not null,
    threshold_pct      double not null,
    basis              varchar not null,          -- actual | forecast
    department         varchar,
    team               varchar,
    agent              varchar,
    currency           varchar not null,
    amount             decimal(38, 6) not null,
    value_at_crossing  decimal(38, 6) not null,
    crossed_on         date not null,             -- data day on which it crossed
    detected_at        timestamp not null
);

-- Recommendations (replaced by each `costwarden recommend` run, except their ids stay stable per
-- kind + scope + proposal, so decisions keep pointing at them).
create table if not exists analytics.recommendations (
    rec_id             varchar primary key,
    kind               varchar not null,          -- routing | batch | caching | capacity | evaluate
    scope_kind         varchar not null,          -- agent | task_type | team | resource
    scope_value        varchar not null,
    department         varchar,
    team               varchar,
    agent              varchar,
    current_setting    varchar not null,
    proposed_setting   varchar not null,
    traffic_share      double,
    currency           varchar not null,
    monthly_saving     decimal(38, 6),
    saving_low_80      decimal(38, 6),
    saving_high_80     decimal(38, 6),
    quality_change     double,
    quality_low_80     double,
    quality_high_80    double,
    evidence_count     bigint,
    p95_latency_change_ms double,
    risk               varchar not null,          -- low | medium | high
    change             varchar not null,          -- the exact change (e.g. a LiteLLM router snippet)
    rationale          varchar not null,
    detail             json,
    created_at         timestamp not null
);

-- The lifecycle of a recommendation; append-only (proposed is implicit; the newest row is the state).
create table if not exists analytics.recommendation_decisions (
    rec_id             varchar not null,
    action             varchar not null,          -- approved | rejected | applied | verified
    user_name          varchar not null,
    decided_at         timestamp not null,
    reason             varchar,
    applied_on         date,
    realised           json                       -- verification: realised saving / quality vs the estimate
);
