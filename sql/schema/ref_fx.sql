-- ref for currencies: [[fx_rates]] from the config, refreshed by models.attribution.fx.refresh_fx_rates on every
-- build, inside the build transaction. A rate applies from effective_from until the next rate of the same pair.
create schema if not exists ref;

create table if not exists ref.fx_rates (
    from_currency      varchar not null,          -- ISO 4217, the billing currency converted from
    to_currency        varchar not null,          -- ISO 4217, normally the reporting currency
    rate               decimal(38, 10) not null,  -- units of to_currency per unit of from_currency
    effective_from     date not null              -- first day the rate applies (inclusive)
);

create table if not exists ref.reporting_currency (
    currency           varchar not null           -- settings.reporting_currency; one row
);
