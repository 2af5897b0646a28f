-- ledger: what finance booked. `costwarden close YYYY-MM` freezes a month's chargeback here; the SQL build never
-- drops or rebuilds this schema, so a later restatement of the bill cannot change a closed month (it becomes an
-- adjustment in the next open month instead, see sql/marts/chargeback.sql). Only close / reopen write here.
create schema if not exists ledger;

-- One row per closed billing month.
create table if not exists ledger.closed_months (
    billing_period           date not null,       -- first day of the month
    closed_at                timestamp not null,  -- UTC
    closed_by                varchar not null,
    billed_cost              decimal(38, 10) not null,   -- sum of the frozen rows (per currency it is in the rows)
    effective_cost           decimal(38, 10) not null,
    row_count                bigint not null,
    note                     varchar
);

-- The admin log: every close and reopen, never deleted.
create table if not exists ledger.close_log (
    logged_at                timestamp not null,
    action                   varchar not null,    -- close | reopen
    billing_period           date not null,
    actor                    varchar not null,
    reason                   varchar,
    billed_cost              decimal(38, 10),     -- what was frozen (close) or released (reopen)
    row_count                bigint
);

-- The frozen chargeback rows of closed months: exactly the columns of marts.chargeback_live (FOCUS 1.2 names plus
-- the x_ allocation columns), as they were when the month was closed.
create table if not exists ledger.chargeback_snapshots (
    "BillingPeriodStart"         timestamp not null,
    "BillingPeriodEnd"           timestamp not null,
    "ChargePeriodStart"          timestamp not null,
    "ChargePeriodEnd"            timestamp not null,
    "BillingAccountId"           varchar,
    "BillingAccountName"         varchar,
    "SubAccountId"               varchar,
    "SubAccountName"             varchar,
    "ProviderName"               varchar,
    "PublisherName"              varchar,
    "InvoiceIssuerName"          varchar,
    "InvoiceId"                  varchar,
    "ChargeCategory"             varchar,
    "ChargeClass"                varchar,
    "ChargeFrequency"            varchar,
    "ChargeDescription"          varchar,
    "ServiceName"                varchar,
    "ServiceCategory"            varchar,
    "ServiceSubcategory"         varchar,
    "RegionId"                   varchar,
    "AvailabilityZone"           varchar,
    "ResourceId"                 varchar,
    "ResourceName"               varchar,
    "ResourceType"               varchar,
    "SkuId"                      varchar,
    "SkuPriceId"                 varchar,
    "SkuMeter"                   varchar,
    "PricingCategory"            varchar,
    "PricingUnit"                varchar,
    "PricingQuantity"            decimal(38, 10),
    "ConsumedQuantity"           decimal(38, 10),
    "ConsumedUnit"               varchar,
    "ListUnitPrice"              decimal(38, 18),
    "ContractedUnitPrice"        decimal(38, 18),
    "CommitmentDiscountId"       varchar,
    "BillingCurrency"            varchar not null,
    "BilledCost"                 decimal(38, 10) not null,
    "EffectiveCost"              decimal(38, 10) not null,
    "ListCost"                   decimal(38, 10) not null,
    "ContractedCost"             decimal(38, 10) not null,
    "Tags"                       varchar,
    "x_ServiceCode"              varchar,
    "x_UsageType"                varchar,
    "x_Operation"                varchar,
    "x_LineItemType"             varchar,
    "x_Department"               varchar not null,
    "x_Team"                     varchar not null,
    "x_Agent"                    varchar,
    "x_Model"                    varchar,
    "x_Environment"              varchar,
    "x_CostKind"                 varchar not null,
    "x_AllocationMethod"         varchar not null,
    "x_AllocationRule"           varchar,
    "x_AllocationReason"         varchar,
    "x_AdjustedBillingPeriod"    date,                -- adjustment rows: the restated closed month they correct
    "x_ClosedAt"                 timestamp            -- set on frozen rows: when their month was closed
);
