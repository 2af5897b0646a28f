"""What CUR 2.0 and legacy CUR share: the line-item-type -> FOCUS vocabulary, service categories, CID amortisation,
and one mapping from a staged file's columns (whatever naming and subset it has) to the canonical cost columns.
Deliveries and billing-period replacement live in ingest/cur_deliveries.py.
"""

from __future__ import annotations

import re

from costwarden.errors import BadInputError
from ingest.tabular import StagedFile

# ---- vocabulary (also usable by other cost ingestors) -----------------------------------------------------------

USAGE_TYPES = ("Usage", "DiscountedUsage", "SavingsPlanCoveredUsage", "FlatRateSubscription")
# SavingsPlanNegation is Usage too: it cancels the on-demand cost of SP-covered usage within the same category, so
# Usage sums to what SP-covered usage really cost on the bill (the SP fee itself is a Purchase).
USAGE_CATEGORY_TYPES = USAGE_TYPES + ("SavingsPlanNegation",)
PURCHASE_TYPES = ("RIFee", "Fee", "SavingsPlanRecurringFee", "SavingsPlanUpfrontFee")
RECURRING_TYPES = ("RIFee", "SavingsPlanRecurringFee", "FlatRateSubscription", "Tax")
ONE_TIME_TYPES = ("Fee", "SavingsPlanUpfrontFee", "Credit", "Refund")

SERVICE_CATEGORIES: dict[str, tuple[str, ...]] = {
    "AI and Machine Learning": (
        "AmazonSageMaker", "MachineLearningSavingsPlans", "AmazonRekognition", "AmazonComprehend",
        "comprehendmedical", "AmazonTextract", "AmazonPolly", "transcribe", "translate", "AmazonKendra", "AmazonLex",
        "AmazonPersonalize", "AmazonForecast", "AmazonQ"),
    "Compute": ("AmazonEC2", "AWSLambda", "AmazonECS", "AmazonEKS", "AmazonLightsail", "AWSBatch",
                "ComputeSavingsPlans", "AWSOutposts", "AmazonECR"),
    "Storage": ("AmazonS3", "AmazonEFS", "AmazonFSx", "AWSBackup", "AmazonGlacier", "AmazonS3GlacierDeepArchive",
                "AWSStorageGateway"),
    "Databases": ("AmazonRDS", "AmazonDynamoDB", "AmazonElastiCache", "AmazonDocDB", "AmazonNeptune",
                  "AmazonMemoryDB", "AmazonTimestream", "AmazonKeyspaces", "AmazonRedshift"),
    "Analytics": ("AmazonAthena", "AWSGlue", "AmazonKinesis", "AmazonKinesisFirehose", "ElasticMapReduce",
                  "AmazonQuickSight", "AmazonES", "AmazonOpenSearchService", "AmazonMSK"),
    "Networking": ("AmazonVPC", "AmazonCloudFront", "AWSDataTransfer", "AmazonRoute53", "AWSELB", "AWSDirectConnect",
                   "AWSGlobalAccelerator", "AmazonApiGateway"),
    "Management and Governance": ("AmazonCloudWatch", "AWSCloudTrail", "AWSConfig", "AWSSystemsManager",
                                  "AWSCostExplorer", "AWSCloudFormation"),
    "Security": ("AWSSecretsManager", "awskms", "awswaf", "AmazonGuardDuty", "AWSSecurityHub", "AmazonInspector",
                 "AWSShield"),
    "Identity": ("AmazonCognito", "AWSDirectoryService"),
    "Integration": ("AWSQueueService", "AmazonSNS", "AWSEvents", "AmazonMQ", "AmazonStates", "AWSStepFunctions"),
    "Developer Tools": ("AWSCodeBuild", "AWSCodeCommit", "AWSCodePipeline", "AWSCodeArtifact", "AWSCodeDeploy"),
}


def _in(expr: str, values: tuple[str, ...]) -> str:
    # Only our own constants above are inlined (no quotes in them); data never reaches this.
    return f"{expr} in ({', '.join(repr(v) for v in values)})"


def charge_category_sql(t: str) -> str:
    """FOCUS ChargeCategory from a line item type expression `t`; null type -> null (quarantined as missing)."""
    return (f"case when {t} is null then null when {_in(t, USAGE_CATEGORY_TYPES)} then 'Usage' "
            f"when {t} = 'Tax' then 'Tax' "
            f"when {t} in ('Credit', 'Refund') or {t} like '%Discount' then 'Credit' "
            f"when {_in(t, PURCHASE_TYPES)} or {t} ilike '%upfront%' then 'Purchase' else 'Adjustment' end")


def charge_class_sql(t: str) -> str:
    return f"case when {t} = 'Refund' then 'Correction' end"


def charge_frequency_sql(t: str) -> str:
    return (f"case when {_in(t, RECURRING_TYPES)} then 'Recurring' "
            f"when {_in(t, ONE_TIME_TYPES)} or {t} ilike '%upfront%' then 'One-Time' "
            f"when {t} is not null then 'Usage-Based' end")


def pricing_category_sql(t: str, usage_type: str) -> str:
    return (f"case when {t} in ('SavingsPlanCoveredUsage', 'SavingsPlanNegation', 'DiscountedUsage') then 'Committed' "
            f"when {t} = 'Usage' and {usage_type} like '%Spot%' then 'Dynamic' "
            f"when {t} = 'Usage' then 'Standard' end")


def service_category_sql(product_code: str, service_name: str) -> str:
    whens = " ".join(f"when {_in(product_code, codes)} then '{category}'"
                     for category, codes in SERVICE_CATEGORIES.items())
    return (f"case when {product_code} like 'AmazonBedrock%' or {service_name} ilike '%bedrock%' "
            f"or {service_name} ilike '%sagemaker%' then 'AI and Machine Learning' {whens} "
            f"when {product_code} is null then null else 'Other' end")


def effective_cost_sql(t: str, m: dict[str, str], product_code: str, ri_arn: str) -> str:
    """Amortised cost, the formula of AWS's CID summary_view (FORMATS.md §1.3), on DECIMAL inputs `m`."""
    z = lambda name: f"coalesce({m[name]}, 0)"  # noqa: E731 - a missing amortisation input counts as zero
    return (f"cast(case {t} "
            f"when 'SavingsPlanCoveredUsage' then {z('sp_effective')} "
            f"when 'SavingsPlanRecurringFee' then {z('sp_total_commitment')} - {z('sp_used_commitment')} "
            f"when 'SavingsPlanNegation' then 0 when 'SavingsPlanUpfrontFee' then 0 "
            f"when 'DiscountedUsage' then {z('ri_effective')} "
            f"when 'RIFee' then {z('ri_unused_amortized')} + {z('ri_unused_recurring')} "
            f"else case when ({t} = 'Fee' and coalesce({ri_arn}, '') <> '') "
            f"or ({t} = 'Refund' and {product_code} = 'ComputeSavingsPlans') then 0 else {m['unblended']} end "
            f"end as decimal(38, 10))")


# ---- names -------------------------------------------------------------------------------------------------------

def snake(name: str) -> str:
    """Athena-style name: `lineItem` -> `line_item`, `ReservationARN` -> `reservation_a_r_n`,
    `user:CostCenter` -> `user_cost_center`. Already snake-cased names are unchanged. Same rule as tag_key_sql."""
    return re.sub(r"_+", "_", re.sub(r"[^a-z0-9]+", "_", re.sub(r"([A-Z])", r"_\1", name).lower())).strip("_")


def tag_key_sql(expr: str) -> str:
    """`snake` in SQL, for keys of CUR 2.0 map columns (AWS already normalises resource_tags keys; idempotent)."""
    return (f"trim(regexp_replace(regexp_replace(lower(regexp_replace({expr}, '([A-Z])', '_\\1', 'g')), "
            f"'[^a-z0-9]+', '_', 'g'), '_+', '_', 'g'), '_')")


def quote_ident(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


# ---- one staged file -> canonical cost columns --------------------------------------------------------------------

MANDATORY = (("line_item_unblended_cost", "lineItem/UnblendedCost"),
             ("line_item_currency_code", "lineItem/CurrencyCode"),
             ("line_item_line_item_type", "lineItem/LineItemType"))


class FileColumns:
    """The columns one staged file has, by canonical CUR 2.0 name, whatever the file called them.

    Legacy `lineItem/UnblendedCost` and Athena `line_item_unblended_cost` both become `line_item_unblended_cost`.
    Tag and cost-category columns (legacy: one column per key) are matched by prefix and become map entries.
    Anything not present reads as NULL, so month-to-month column changes never break a load.
    """

    def __init__(self, con, staged: StagedFile):
        self.staged = staged
        self.cols: dict[str, tuple[str, str]] = {}       # canonical name -> (quoted identifier, DuckDB type)
        self.tag_columns: list[tuple[str, str]] = []     # (map key, quoted identifier)
        for name, dtype in con.execute(f"select column_name, column_type from (describe {staged.table})").fetchall():
            if name in ("_source_object", "_source_line"):
                continue
            ident = quote_ident(name)
            category, slash, attr = name.partition("/")
            canon = f"{snake(category)}_{snake(attr)}" if slash else name.lower()
            if slash and snake(category) == "resource_tags":
                self.tag_columns.append((snake(attr), ident))
            elif slash and snake(category) == "cost_category":
                self.tag_columns.append((f"costCategory/{attr}", ident))
            elif not slash and canon.startswith("resource_tags_"):
                self.tag_columns.append((canon[len("resource_tags_"):], ident))
            elif not slash and canon.startswith("cost_category_"):
                self.tag_columns.append((f"costCategory/{canon[len('cost_category_'):]}", ident))
            else:
                self.cols.setdefault(canon, (ident, dtype.upper()))

    def check_mandatory(self, uri: str) -> None:
        for canon, legacy in MANDATORY:
            if canon not in self.cols:
                raise BadInputError(f"{uri} has no {canon} ({legacy}) column, which every CUR line needs; the file "
                                    "was not loaded. Re-export the report with that column.")
        if not ({"line_item_usage_start_date", "identity_time_interval"} & set(self.cols)):
            raise BadInputError(f"{uri} has neither line_item_usage_start_date nor identity_time_interval "
                                "(lineItem/UsageStartDate); the file was not loaded. Re-export it with them.")

    def text(self, canon: str) -> str:
        if canon not in self.cols:
            return "cast(null as varchar)"
        ident, dtype = self.cols[canon]
        if dtype.startswith("TIMESTAMP WITH TIME ZONE"):
            return f"cast(cast({ident} as timestamp) as varchar)"
        if dtype in ("DOUBLE", "FLOAT", "REAL") or dtype.startswith("DECIMAL"):
            return f"cast(try_cast({ident} as decimal(38, 10)) as varchar)"
        return f"nullif(trim(cast({ident} as varchar)), '')"

    def money(self, canon: str) -> str:
        return f"try_cast({self.text(canon)} as decimal(38, 10))"

    def as_map(self, canon: str) -> str:
        """A CUR 2.0 map column as MAP(VARCHAR, VARCHAR): a real MAP (Parquet) or text `{"k":"v"}` / `{k=v}` (CSV)."""
        if canon not in self.cols:
            return "cast(null as map(varchar, varchar))"
        ident, dtype = self.cols[canon]
        if dtype.startswith("MAP"):
            return f"cast({ident} as map(varchar, varchar))"
        return (f"case when ltrim({ident}) like '{{\"%' then try_cast(try_cast({ident} as json) as "
                f"map(varchar, varchar)) else try_cast({ident} as map(varchar, varchar)) end")

    def map_entries(self, canon: str) -> str:
        return f"coalesce(map_entries({self.as_map(canon)}), [])" if canon in self.cols else "[]"

    def product(self, attr: str) -> str:
        """A product attribute: a promoted column (`product_region_code`) or a key of the `product` map, which
        cost_select parses once per row into `_cw_product`."""
        from_map = f"nullif(_cw_product['{attr}'], '')" if "product" in self.cols else "cast(null as varchar)"
        return f"coalesce({self.text('product_' + attr)}, {from_map})"

    def tag_entries(self, params: dict) -> str:
        """All tags as one list of {key, value}: `tags` as is, `resource_tags` keys snake-cased like legacy tag
        columns, cost categories as `costCategory/<name>`. Keys from column names go in as parameters."""
        parts = [self.map_entries("tags"),
                 f"list_transform({self.map_entries('resource_tags')}, "
                 f"lambda e: {{'key': {tag_key_sql('e.key')}, 'value': e.value}})",
                 f"list_transform({self.map_entries('cost_category')}, "
                 f"lambda e: {{'key': 'costCategory/' || e.key, 'value': e.value}})"]
        if self.tag_columns:
            entries = []
            for key, ident in self.tag_columns:
                param = f"tag_{len(params)}"
                params[param] = key
                entries.append(f"{{'key': ${param}, 'value': nullif(trim(cast({ident} as varchar)), '')}}")
            parts.append(f"[{', '.join(entries)}]")
        return f"list_concat({', '.join(parts)})"


def cost_select(cols: FileColumns, params: dict) -> str:
    """SELECT over the staged file giving `_source_object`, `_source_line` and every COST_COLUMNS name as text
    (tags as a map); ingest.base casts, validates and quarantines."""
    t, x = cols.text("line_item_line_item_type"), cols.text
    code, entity = x("line_item_product_code"), x("bill_billing_entity")
    product_name = cols.product("product_name")
    marketplace = f"coalesce({entity}, '') ilike '%marketplace%'"
    service_name = (f"case when {marketplace} then coalesce({product_name}, {code}) "
                    f"else coalesce({product_name}, {cols.product('servicecode')}, {code}) end")
    money = {"unblended": cols.money("line_item_unblended_cost"),
             "sp_effective": cols.money("savings_plan_savings_plan_effective_cost"),
             "sp_total_commitment": cols.money("savings_plan_total_commitment_to_date"),
             "sp_used_commitment": cols.money("savings_plan_used_commitment"),
             "ri_effective": cols.money("reservation_effective_cost"),
             "ri_unused_amortized": cols.money("reservation_unused_amortized_upfront_fee_for_billing_period"),
             "ri_unused_recurring": cols.money("reservation_unused_recurring_fee")}
    ri_arn, sp_arn = x("reservation_reservation_a_r_n"), x("savings_plan_savings_plan_a_r_n")
    usage = f"{t} in ('Usage', 'DiscountedUsage', 'SavingsPlanCoveredUsage')"
    interval = x("identity_time_interval")
    fields = {
        "billing_period_start": x("bill_billing_period_start_date"),
        "billing_period_end": x("bill_billing_period_end_date"),
        "charge_period_start": f"coalesce({x('line_item_usage_start_date')}, "
                               f"nullif(split_part({interval}, '/', 1), ''))",
        "charge_period_end": f"coalesce({x('line_item_usage_end_date')}, nullif(split_part({interval}, '/', 2), ''))",
        "provider_name": "'AWS'",
        "publisher_name": f"case when {marketplace} then coalesce({x('line_item_legal_entity')}, {product_name}, "
                          f"{entity}) else 'Amazon Web Services' end",
        "invoice_issuer_name": f"coalesce({x('bill_invoicing_entity')}, 'Amazon Web Services')",
        "billing_account_id": x("bill_payer_account_id"),
        "sub_account_id": x("line_item_usage_account_id"),
        "sub_account_name": x("line_item_usage_account_name"),
        "charge_category": charge_category_sql(t),
        "charge_class": charge_class_sql(t),
        "charge_frequency": charge_frequency_sql(t),
        "charge_description": x("line_item_line_item_description"),
        "line_item_type": t,
        "service_name": service_name,
        "service_category": service_category_sql(code, service_name),
        "service_code": code,
        "region_id": f"coalesce({cols.product('region_code')}, {cols.product('region')})",
        "availability_zone": x("line_item_availability_zone"),
        "resource_id": x("line_item_resource_id"),
        "resource_name": "null",
        "resource_type": "null",
        "sku_id": cols.product("sku"),
        "usage_type": x("line_item_usage_type"),
        "operation": x("line_item_operation"),
        "iam_principal": x("line_item_iam_principal"),
        "pricing_category": pricing_category_sql(t, x("line_item_usage_type")),
        "pricing_unit": x("pricing_unit"),
        "pricing_quantity": x("line_item_usage_amount"),
        "consumed_quantity": f"case when {usage} then {x('line_item_usage_amount')} end",
        "consumed_unit": f"case when {usage} then {x('pricing_unit')} end",
        "commitment_discount_id": f"coalesce(nullif({sp_arn}, ''), nullif({ri_arn}, ''))",
        # Text as written: a non-numeric cost is quarantined by the base with its value ("value is not ...").
        "billed_cost": x("line_item_unblended_cost"),
        "effective_cost": f"cast({effective_cost_sql(t, money, code, ri_arn)} as varchar)",
        # CID's public cost leaves negation rows out: they would cancel the list price of SP-covered usage.
        "list_cost": f"case when {t} = 'SavingsPlanNegation' then '0' "
                     f"else {x('pricing_public_on_demand_cost')} end",
        "contracted_cost": f"coalesce({x('line_item_net_unblended_cost')}, {x('line_item_unblended_cost')})",
        "billing_currency": f"upper({x('line_item_currency_code')})",
        "invoice_id": x("bill_invoice_id"),
    }
    body = ",\n  ".join(f"{expr} as {name}" for name, expr in fields.items())
    dedup = ("case when len(_cw_tags) = 0 then null else map_from_entries(list_filter(_cw_tags, "
             "lambda e, i: list_position(list_transform(_cw_tags, lambda k: k.key), e.key) = i)) end")
    inner = (f"select f.*, list_filter({cols.tag_entries(params)}, "
             f"lambda e: e.key is not null and e.value is not null and e.value <> '') as _cw_tags, "
             f"{cols.as_map('product')} as _cw_product from {cols.staged.table} f")
    return f"select _source_object, _source_line,\n  {body},\n  {dedup} as tags\nfrom ({inner}) s"
