"""The shipped price book, [[prices]] overrides, and how unpriced requests are flagged and counted."""

from __future__ import annotations

import csv
import gzip
import json
import re
from collections import defaultdict
from datetime import date, datetime, timedelta, timezone
from decimal import Decimal
from pathlib import Path

import duckdb
import pytest

from costwarden import reference
from costwarden.build import build_warehouse
from costwarden.config import load_settings
from costwarden.errors import ConfigError
from costwarden.warehouse import apply_schema
from ingest import runner
from ingest.identity import canonical_model_sql
from tests.factories import bedrock_key, bedrock_record

COLUMNS = ["provider", "model", "region", "token_type", "usd_per_million", "effective_from", "effective_to", "source"]
PROVIDERS = {"aws.bedrock", "openai", "azure.ai.openai", "anthropic", "gcp.vertex_ai", "gcp.gemini"}
TOKEN_TYPES = {"input", "output", "cache_read", "cache_write", "batch_input", "batch_output"}
HAIKU = "anthropic.claude-3-haiku-20240307-v1:0"


@pytest.fixture(scope="module")
def book_rows() -> list[dict]:
    path = reference.shipped_price_book()
    with path.open(newline="", encoding="utf-8") as handle:
        reader = csv.DictReader(handle)
        assert reader.fieldnames == COLUMNS
        return list(reader)


def _settings(tmp_path: Path, toml: str = ""):
    config = tmp_path / "costwarden.toml"
    config.write_text(toml, encoding="utf-8")
    return load_settings(config, environ={})


def _book(settings) -> duckdb.DuckDBPyConnection:
    con = duckdb.connect()
    apply_schema(con)
    reference.refresh_price_book(con, settings)
    return con


def _price(con, provider, model, token_type, day, region="us-east-1"):
    return reference.price_as_of(con, provider, model, region, token_type, day)


# ---- the shipped CSV ---------------------------------------------------------------------------------------------

def test_shipped_book_is_small_licensed_and_every_price_is_an_exact_positive_decimal(book_rows):
    path = reference.shipped_price_book()
    assert path.stat().st_size < 1_000_000
    for licence in ("LICENSE-litellm", "LICENSE-genai-prices"):
        assert "MIT License" in (path.parent / licence).read_text(encoding="utf-8")
    assert len(book_rows) > 1000
    for row in book_rows:
        assert re.fullmatch(r"[0-9]+(\.[0-9]{1,10})?", row["usd_per_million"]), row   # no 1E-7, no float noise
        assert Decimal(row["usd_per_million"]) > 0, row
        assert row["provider"] in PROVIDERS and row["token_type"] in TOKEN_TYPES, row
        start = date.fromisoformat(row["effective_from"])
        assert row["effective_to"] == "" or date.fromisoformat(row["effective_to"]) > start, row
        assert "(MIT)" in row["source"] and ("litellm" in row["source"] or "genai-prices" in row["source"]), row


def test_shipped_book_has_one_price_per_key_and_day(book_rows):
    periods = defaultdict(list)
    for row in book_rows:
        key = (row["provider"], row["model"], row["region"], row["token_type"])
        periods[key].append((row["effective_from"], row["effective_to"] or "9999-12-31"))
    for key, spans in periods.items():
        spans.sort()
        for (_, end), (next_start, _) in zip(spans, spans[1:]):
            assert end <= next_start, f"overlapping prices for {key}: {spans}"


def test_shipped_models_are_canonical_ids_that_ingestors_produce(book_rows):
    models = sorted({row["model"] for row in book_rows})
    con = duckdb.connect()
    con.execute("create table m (model varchar)")
    con.executemany("insert into m values (?)", [[m] for m in models])
    changed = con.execute(f"select model from m where {canonical_model_sql('model')} <> model").fetchall()
    assert changed == []
    assert not [m for m in models if re.match(r"^(us|eu|apac|global|jp|au|ca|us-gov)\.", m)]


@pytest.mark.parametrize("provider, model, region, token_type, expected", [
    # genai-prices (the LiteLLM catalogue has this model for GovCloud only): 0.25 / 1.25 per million
    ("aws.bedrock", HAIKU, "*", "input", "0.25"),
    ("aws.bedrock", HAIKU, "*", "output", "1.25"),
    # LiteLLM bedrock/us-gov-west-1/anthropic.claude-3-haiku-20240307-v1:0: 3e-07 per token
    ("aws.bedrock", HAIKU, "us-gov-west-1", "input", "0.3"),
    # LiteLLM us.anthropic.claude-sonnet-4-6 (the geographic / in-region price): 3.3e-06, cache read 3.3e-07
    ("aws.bedrock", "anthropic.claude-sonnet-4-6", "*", "input", "3.3"),
    ("aws.bedrock", "anthropic.claude-sonnet-4-6", "*", "cache_read", "0.33"),
    # LiteLLM amazon.nova-micro-v1:0 cache read 8.75e-09 per token, and the eu. price for EU regions
    ("aws.bedrock", "amazon.nova-micro-v1:0", "*", "cache_read", "0.00875"),
    ("aws.bedrock", "amazon.nova-lite-v1:0", "eu-central-1", "input", "0.078"),
    # LiteLLM bedrock/eu-west-1/meta.llama3-70b-instruct-v1:0: 2.86e-06
    ("aws.bedrock", "meta.llama3-70b-instruct-v1:0", "eu-west-1", "input", "2.86"),
    ("openai", "gpt-4o-mini", "*", "input", "0.15"),
    ("openai", "gpt-4o-mini", "*", "output", "0.6"),
    ("openai", "gpt-4o-mini", "*", "cache_read", "0.075"),
    ("openai", "gpt-4o-mini", "*", "batch_input", "0.075"),
    ("azure.ai.openai", "gpt-4o", "*", "input", "2.5"),
    ("anthropic", "claude-3-haiku-20240307", "*", "input", "0.25"),
    ("anthropic", "claude-sonnet-4-6", "*", "cache_write", "3.75"),
    ("gcp.gemini", "gemini-2.5-pro", "*", "input", "1.25"),
    ("gcp.vertex_ai", "claude-3-haiku@20240307", "*", "output", "1.25"),
])
def test_spot_prices_match_the_catalogues(book_rows, provider, model, region, token_type, expected):
    found = [r["usd_per_million"] for r in book_rows if (r["provider"], r["model"], r["region"], r["token_type"],
                                                        r["effective_to"]) == (provider, model, region, token_type, "")]
    assert found == [expected]


def test_dated_price_change_from_genai_prices_is_kept(tmp_path):
    con = _book(_settings(tmp_path))
    # genai-prices records OpenAI's o3 price cut on 2025-06-10: 10 -> 2 per million input tokens.
    assert _price(con, "openai", "o3", "input", date(2025, 6, 9)) == Decimal("10")
    assert _price(con, "openai", "o3", "input", date(2025, 6, 10)) == Decimal("2")


def test_region_price_beats_the_any_region_price(tmp_path):
    con = _book(_settings(tmp_path))
    day = date(2025, 6, 1)
    assert _price(con, "aws.bedrock", HAIKU, "input", day, region="us-gov-west-1") == Decimal("0.3")
    assert _price(con, "aws.bedrock", HAIKU, "input", day, region="us-east-1") == Decimal("0.25")


# ---- [[prices]] overrides ----------------------------------------------------------------------------------------

def test_override_from_a_date_ends_the_shipped_price_that_day(tmp_path):
    con = _book(_settings(tmp_path, f"""
[[prices]]
provider = "aws.bedrock"
model = "{HAIKU}"
token_type = "input"
usd_per_million_tokens = 0.2
effective_from = 2025-03-01
"""))
    assert _price(con, "aws.bedrock", HAIKU, "input", date(2025, 2, 28)) == Decimal("0.25")
    assert _price(con, "aws.bedrock", HAIKU, "input", date(2025, 3, 1)) == Decimal("0.2")
    assert _price(con, "aws.bedrock", HAIKU, "output", date(2025, 3, 1)) == Decimal("1.25")   # other keys untouched
    ended = con.execute("select effective_to, source from ref.price_book where model = ? and token_type = 'input' "
                        "and region = '*' order by effective_from", [HAIKU]).fetchall()
    assert ended == [(date(2025, 3, 1), "pydantic/genai-prices (MIT)"), (None, "config [[prices]]")]
    # an any-region contract price also ends the regional list price, which the lookup would otherwise prefer
    assert _price(con, "aws.bedrock", HAIKU, "input", date(2025, 3, 1), region="us-gov-west-1") == Decimal("0.2")


def test_overrides_apply_by_date_not_by_their_order_in_the_file(tmp_path):
    con = _book(_settings(tmp_path, """
[[prices]]
provider = "openai"
model = "gpt-4o-mini"
token_type = "output"
usd_per_million_tokens = 0.4
effective_from = 2025-09-01

[[prices]]
provider = "openai"
model = "gpt-4o-mini"
token_type = "output"
usd_per_million_tokens = 0.5
effective_from = 2025-05-01
"""))
    assert _price(con, "openai", "gpt-4o-mini", "output", date(2025, 4, 30)) == Decimal("0.6")
    assert _price(con, "openai", "gpt-4o-mini", "output", date(2025, 5, 1)) == Decimal("0.5")
    assert _price(con, "openai", "gpt-4o-mini", "output", date(2025, 9, 1)) == Decimal("0.4")


def test_discount_takes_a_percentage_off_every_later_shipped_price(tmp_path):
    con = _book(_settings(tmp_path, """
[[prices]]
provider = "openai"
model = "o3"
token_type = "input"
discount_pct = 12.5
effective_from = 2025-01-01
"""))
    assert _price(con, "openai", "o3", "input", date(2024, 12, 31)) == Decimal("10")
    assert _price(con, "openai", "o3", "input", date(2025, 1, 1)) == Decimal("8.75")
    assert _price(con, "openai", "o3", "input", date(2025, 6, 10)) == Decimal("1.75")   # after the list-price cut
    sources = {s for (s,) in con.execute("select source from ref.price_book where model = 'o3' "
                                         "and token_type = 'input' and effective_from >= '2025-01-01'").fetchall()}
    assert sources == {"config [[prices]] 12.5% off pydantic/genai-prices (MIT)"}


def test_discount_on_a_model_the_book_lacks_is_a_config_error(tmp_path):
    settings = _settings(tmp_path, """
[[prices]]
provider = "aws.bedrock"
model = "acme.unknown-model-v1:0"
token_type = "input"
discount_pct = 10
""")
    with pytest.raises(ConfigError, match="no price for it to discount"):
        _book(settings)


# ---- unknown models ----------------------------------------------------------------------------------------------

def _write_requests(root: Path, models: list[str], start: datetime) -> None:
    records = [bedrock_record(i, start + timedelta(hours=i), model=model) for i, model in enumerate(models)]
    path = root / bedrock_key("111122223333", "us-east-1", start, "0001")
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(gzip.compress(("\n".join(json.dumps(r) for r in records) + "\n").encode()))


def _staged_status(warehouse: str) -> set[tuple[str, str]]:
    con = duckdb.connect(warehouse, read_only=True)
    try:
        return set(con.execute("select model || '@' || cast(usage_date as varchar), price_status "
                               "from staging.stg_inference_requests").fetchall())
    finally:
        con.close()


def test_unknown_model_loads_flagged_unpriced_and_is_counted(tmp_path, warehouse):
    settings = _settings(tmp_path)
    _write_requests(tmp_path / "logs", ["us.acme.mystery-v1:0", "us.acme.mystery-v1:0", f"us.{HAIKU}"],
                    datetime(2025, 6, 1, tzinfo=timezone.utc))
    report = runner.ingest(settings, warehouse, str(tmp_path / "logs"))
    assert (report.counts.rows_loaded, report.counts.rows_unpriced) == (3, 2)
    assert "2 requests have no price" in report.line()
    build = build_warehouse(settings, warehouse)
    assert build.ok, build.summary()
    assert _staged_status(warehouse) == {("acme.mystery-v1:0@2025-06-01", "unpriced"),
                                         (f"{HAIKU}@2025-06-01", "priced")}
    con = duckdb.connect(warehouse, read_only=True)
    try:
        assert con.execute("select rows_unpriced from meta.loads").fetchall() == [(2,)]
    finally:
        con.close()


def test_price_status_follows_the_day_a_price_comes_into_force(tmp_path, warehouse):
    settings = _settings(tmp_path, """
[[prices]]
provider = "aws.bedrock"
model = "acme.mystery-v1:0"
token_type = "input"
usd_per_million_tokens = 1.5
effective_from = 2025-06-02
""")
    _write_requests(tmp_path / "logs", ["acme.mystery-v1:0"] * 48, datetime(2025, 6, 1, tzinfo=timezone.utc))
    runner.ingest(settings, warehouse, str(tmp_path / "logs"))
    build_warehouse(settings, warehouse)
    assert _staged_status(warehouse) == {("acme.mystery-v1:0@2025-06-01", "unpriced"),
                                         ("acme.mystery-v1:0@2025-06-02", "priced")}
