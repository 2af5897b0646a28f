-- ref for attribution: Bedrock usage-type parsing tables and the [[capacity]] / [[shared_costs]] rules.
-- Refreshed by costwarden.reference.refresh_attribution on every build, inside the build transaction.
create schema if not exists ref;

create table if not exists ref.bedrock_usage_types (
    usage_model        varchar not null,          -- the model token of a Bedrock usage type, e.g. Claude3Haiku
    provider           varchar not null,
    model              varchar not null           -- canonical model id, as in ref.price_book and requests.model
);

create table if not exists ref.aws_region_prefixes (
    prefix             varchar not null,          -- usage-type region prefix, e.g. USE1
    region             varchar not null           -- region code, e.g. us-east-1
);

create table if not exists ref.capacity (
    rule_order         integer not null,          -- position in the config; the first matching rule wins
    name               varchar not null,
    resource_like      varchar not null,          -- resource_id glob as a LIKE pattern (escape '\')
    serves_like        varchar not null,          -- requests' model_id glob as a LIKE pattern (escape '\')
    split_by           varchar not null,          -- tokens | busy_time
    capacity_per_hour  decimal(38, 10) not null,  -- tokens per hour, or busy seconds per hour
    idle_policy        varchar not null,          -- central | proportional | owner
    owner_team         varchar,
    owner_department   varchar
);

create table if not exists ref.shared_costs (
    rule_order         integer not null,
    name               varchar not null,
    match              varchar not null,          -- service_code | charge_category | usage_type
    like_pattern       varchar not null,
    method             varchar not null           -- proportional | even | fixed
);

create table if not exists ref.shared_cost_shares (
    name               varchar not null,          -- the [[shared_costs]] rule
    team               varchar not null,
    department         varchar,                   -- null: learnt from the team's requests
    percent            decimal(38, 10) not null
);
