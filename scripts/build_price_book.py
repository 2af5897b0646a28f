"""Maintainer tool: derive costwarden/data/price_book.csv from the LiteLLM and pydantic/genai-prices catalogues.

Run it when a new catalogue release is taken in; the product only ever reads the committed CSV. See
docs/warehouse.md ("Price book") for the rules this script applies.

    python scripts/build_price_book.py /path/to/prices [--out costwarden/data/price_book.csv]

The folder must hold model_prices_and_context_window.json + LICENSE-litellm (LiteLLM) and genai-prices-data.json +
LICENSE-genai-prices (pydantic/genai-prices). Both licences are copied next to the CSV.
"""

from __future__ import annotations

import argparse
import csv
import json
import re
import shutil
from decimal import Decimal
from pathlib import Path

LITELLM_VERSION = "1.110.2"
DEFAULT_FROM = "2024-01-01"   # neither catalogue has dates: a price is taken as in force from here
MILLION = Decimal(1_000_000)
TEXT_MODES = {"chat", "completion", "responses", "embedding"}
TOKEN_TYPES = ("input", "output", "cache_read", "cache_write", "batch_input", "batch_output")

# LiteLLM per-token field -> our token type. Tiers (above_200k...), flex/priority and audio/image are not carried.
LITELLM_FIELDS = {
    "input_cost_per_token": "input", "output_cost_per_token": "output",
    "cache_read_input_token_cost": "cache_read", "cache_creation_input_token_cost": "cache_write",
    "input_cost_per_token_batches": "batch_input", "output_cost_per_token_batches": "batch_output",
}
GENAI_FIELDS = {"input_mtok": "input", "output_mtok": "output", "cache_read_mtok": "cache_read",
                "cache_write_mtok": "cache_write"}

# litellm_provider -> OpenTelemetry gen_ai.provider.name, and the gateway prefix canonical_model_sql strips.
LITELLM_PROVIDERS = {
    "bedrock": "aws.bedrock", "bedrock_converse": "aws.bedrock", "openai": "openai",
    "text-completion-openai": "openai", "azure": "azure.ai.openai", "anthropic": "anthropic",
    "gemini": "gcp.gemini",
}
VERTEX_PREFIX = "vertex_ai"   # vertex_ai, vertex_ai-language-models, vertex_ai-anthropic_models, ... -> gcp.vertex_ai

# Bedrock cross-region (geographic) profile prefixes. canonical_model_sql strips them, so one canonical model gets
# one '*' price: the first prefix in this order that the catalogue prices (`us.` = the in-region/geographic price).
# Geographies priced differently from '*' get rows for their source regions instead (a specific geo beats apac).
BEDROCK_STAR_ORDER = ("us", "", "global", "eu", "apac", "jp", "au", "ca", "in")
BEDROCK_GEO_REGIONS = {
    "eu": ("eu-central-1", "eu-central-2", "eu-north-1", "eu-south-1", "eu-south-2", "eu-west-1", "eu-west-2",
           "eu-west-3"),
    "apac": ("ap-northeast-1", "ap-northeast-2", "ap-northeast-3", "ap-south-1", "ap-south-2", "ap-southeast-1",
             "ap-southeast-2", "ap-southeast-3", "ap-southeast-4", "ap-southeast-5", "ap-southeast-7"),
    "jp": ("ap-northeast-1", "ap-northeast-3"), "au": ("ap-southeast-2", "ap-southeast-4"),
    "in": ("ap-south-1", "ap-south-2"), "ca": ("ca-central-1", "ca-west-1"),
    "us-gov": ("us-gov-east-1", "us-gov-west-1"),
}
_GEO_PREFIX = re.compile(r"^(us-gov|us|eu|apac|global|jp|au|ca|in)\.(.+)$")
_AWS_REGION = re.compile(r"^[a-z]{2}(-gov)?-[a-z]+-[0-9]$")
# Azure deployment-type folders in LiteLLM keys; the plain key is preferred (data-zone premiums are not modelled).
AZURE_STAR_ORDER = ("", "global-standard", "global", "us", "eu")

# Our provider -> genai-prices provider ids to try in order (the provider, then its fallback_model_providers).
GENAI_PROVIDERS = {
    "aws.bedrock": ("aws",), "openai": ("openai",), "anthropic": ("anthropic",),
    "azure.ai.openai": ("azure", "openai"), "gcp.vertex_ai": ("google", "anthropic"), "gcp.gemini": ("google",),
}


def per_million(per_token: Decimal) -> Decimal:
    return per_token * MILLION


def decimal_text(value: Decimal) -> str:
    return format(value.normalize(), "f")   # 0.25, never 2.5E-1 or 0.25000000000000001


# ---- LiteLLM -----------------------------------------------------------------------------------------------------

def litellm_prices(entry: dict) -> dict[str, Decimal]:
    prices = {}
    for field, token_type in LITELLM_FIELDS.items():
        value = entry.get(field)
        if isinstance(value, Decimal) and value > 0:   # zero means "unknown" in practice, not "free"
            prices[token_type] = per_million(value)
    return prices


def split_litellm_key(key: str, provider: str) -> tuple[str, str, str] | None:
    """(model, region-or-'*', variant) for a catalogue key, or None when the key is not a per-token text model."""
    parts = key.split("/")
    if provider == "aws.bedrock":
        region = "*"
        if parts[0] == "bedrock":
            parts = parts[1:]
            if len(parts) == 2 and _AWS_REGION.match(parts[0]):
                region, parts = parts[0], parts[1:]
            elif len(parts) == 2 and parts[0] == "invoke":
                parts = parts[1:]
        if len(parts) != 1:
            return None    # provisioned-throughput commitments, claude_platform/... and other non-token keys
        found = _GEO_PREFIX.match(parts[0].lower())
        variant, model = (found.group(1), found.group(2)) if found else ("", parts[0].lower())
        return model, region, variant
    if provider == "azure.ai.openai":
        parts = parts[1:] if parts[0] == "azure" else parts
        if len(parts) == 2 and parts[0] in AZURE_STAR_ORDER:
            return parts[1].lower(), "*", parts[0]
        return (parts[0].lower(), "*", "") if len(parts) == 1 else None
    strip = {"gcp.gemini": "gemini", "gcp.vertex_ai": "vertex_ai", "openai": "openai"}.get(provider)
    if strip and parts[0] == strip:
        parts = parts[1:]
    if len(parts) != 1 or parts[0].startswith("ft:"):
        return None    # image sizes, fine-tuned placeholders, nested gateways
    return parts[0].lower(), "*", ""


def load_litellm(catalogue: dict) -> dict[tuple[str, str], dict[str, dict[str, dict[str, Decimal]]]]:
    """{(provider, model): {region: {variant: {token_type: usd_per_million}}}} for text models."""
    book: dict = {}
    for key, entry in catalogue.items():
        if not isinstance(entry, dict) or entry.get("mode") not in TEXT_MODES:
            continue
        litellm_provider = entry.get("litellm_provider") or ""
        provider = LITELLM_PROVIDERS.get(litellm_provider)
        if provider is None and litellm_provider.startswith(VERTEX_PREFIX):
            provider = "gcp.vertex_ai"
        if provider is None:
            continue
        split = split_litellm_key(key, provider)
        prices = litellm_prices(entry)
        if split is None or not prices:
            continue
        model, region, variant = split
        book.setdefault((provider, model), {}).setdefault(region, {}).setdefault(variant, prices)
    return book


def resolve_litellm(provider: str, regions: dict) -> dict[str, dict[str, Decimal]]:
    """Collapse variants into {region: {token_type: price}} following the preference orders above."""
    out: dict[str, dict[str, Decimal]] = {}
    variants = regions.get("*", {})
    order = BEDROCK_STAR_ORDER if provider == "aws.bedrock" else AZURE_STAR_ORDER if provider == \
        "azure.ai.openai" else ("",)
    star: dict[str, Decimal] = {}
    for variant in order:
        for token_type, price in variants.get(variant, {}).items():
            star.setdefault(token_type, price)
    if star:
        out["*"] = star
    if provider == "aws.bedrock":
        # Broad geographies first so a specific one (jp, au, in) overwrites apac for its regions.
        for geo in ("apac", "eu", "ca", "jp", "au", "in", "us-gov"):
            for token_type, price in variants.get(geo, {}).items():
                if star.get(token_type) == price:
                    continue
                for region in BEDROCK_GEO_REGIONS[geo]:
                    out.setdefault(region, {})[token_type] = price
        for region, by_variant in regions.items():
            if region != "*":   # explicit bedrock/<region>/<model> keys win over geography rows
                for variant in ("", "us", "global"):
                    out.setdefault(region, {}).update(by_variant.get(variant, {}))
    return {region: prices for region, prices in out.items() if prices}


# ---- genai-prices ------------------------------------------------------------------------------------------------

def clause_matches(clause: dict, name: str) -> bool:
    name = name.lower()
    if "or" in clause:
        return any(clause_matches(c, name) for c in clause["or"])
    if "and" in clause:
        return all(clause_matches(c, name) for c in clause["and"])
    if "equals" in clause:
        return name == clause["equals"].lower()
    if "starts_with" in clause:
        return name.startswith(clause["starts_with"].lower())
    if "ends_with" in clause:
        return name.endswith(clause["ends_with"].lower())
    if "contains" in clause:
        return clause["contains"].lower() in name
    if "regex" in clause:
        return re.search(clause["regex"], name) is not None
    return False


def equals_values(clause: dict) -> list[str]:
    if "or" in clause:
        return [v for c in clause["or"] for v in equals_values(c)]
    return [clause["equals"].lower()] if "equals" in clause else []


def genai_schedule(model: dict) -> list[tuple[str, dict[str, Decimal]]]:
    """[(effective_from, {token_type: usd_per_million})] from a model's prices, oldest first."""
    raw = model["prices"]
    entries = raw if isinstance(raw, list) else [{"prices": raw}]
    by_start: dict[str, dict[str, Decimal]] = {}
    for entry in entries:
        constraint = entry.get("constraint") or {}
        if set(constraint) - {"start_date"}:
            continue    # time-of-day discounts are not modelled
        prices = {}
        for field, token_type in GENAI_FIELDS.items():
            value = entry["prices"].get(field)
            value = value.get("base") if isinstance(value, dict) else value   # long-context tiers: base price
            if value is not None and Decimal(value) > 0:
                prices[token_type] = Decimal(value)
        if prices:   # entries are chronological: one that starts before DEFAULT_FROM replaces the base price
            by_start[max(constraint.get("start_date", DEFAULT_FROM), DEFAULT_FROM)] = prices
    return sorted(by_start.items())


def genai_candidates(provider: str, genai: dict, litellm_models: set[str], every_model: set[str]) -> set[str]:
    """Concrete model ids to price from genai-prices' match rules (it prices by pattern, the book by exact id)."""
    names = set(litellm_models)
    for gid in GENAI_PROVIDERS[provider]:
        for model in genai.get(gid, {}).get("models", []):
            ident = model["id"].lower()
            if provider == "aws.bedrock":
                ident = re.sub(r"^(regional|global)\.", "", ident)
            names.add(ident)
            names.update(equals_values(model["match"]))
    if provider == "anthropic":
        # Anthropic API ids from Bedrock (anthropic.X-YYYYMMDD-v1:0) and Vertex (X@YYYYMMDD) ids of the same model.
        for name in sorted(every_model):
            for pattern in (r"^anthropic\.(claude-[a-z0-9-]+-\d{8})-v\d+:\d+$", r"^(claude-[a-z0-9-]+)@(\d{8})$"):
                found = re.match(pattern, name)
                if found:
                    names.add("-".join(found.groups()))
    if provider == "gcp.gemini":
        names = {n for n in names if n.startswith(("gemini", "gemma", "learnlm"))}
    if provider == "openai":
        names = {n for n in names if not n.startswith(("claude", "gemini"))}
    return {n for n in names if "/" not in n and ":free" not in n}


def genai_price(provider: str, genai: dict, name: str) -> list[tuple[str, dict[str, Decimal]]] | None:
    for gid in GENAI_PROVIDERS[provider]:
        for model in genai.get(gid, {}).get("models", []):
            if clause_matches(model["match"], name):
                return genai_schedule(model) or None
    return None


# ---- merge and write ---------------------------------------------------------------------------------------------

def build_rows(litellm: dict, genai: dict, litellm_source: str, genai_source: str) -> list[dict]:
    by_model = load_litellm(litellm)
    every_model = {m for (_, m) in by_model}
    rows = []
    for provider in GENAI_PROVIDERS:
        models = {m for (p, m) in by_model if p == provider}
        for model in sorted(genai_candidates(provider, genai, models, every_model)):
            resolved = resolve_litellm(provider, by_model.get((provider, model), {}))
            schedule = genai_price(provider, genai, _genai_lookup_name(provider, model, by_model)) or []
            star = resolved.pop("*", {})
            for token_type in TOKEN_TYPES:
                # genai-prices wins where it knows a price change (LiteLLM only has today's price); else LiteLLM;
                # else genai-prices fills the gap.
                periods = _changes_only([(start, p[token_type]) for start, p in schedule if token_type in p])
                source = genai_source
                if token_type in star and len(periods) <= 1:
                    periods, source = [(DEFAULT_FROM, star[token_type])], litellm_source
                for i, (start, price) in enumerate(periods):
                    end = periods[i + 1][0] if i + 1 < len(periods) else ""
                    rows.append(_row(provider, model, "*", token_type, price, start, end, source))
            for region, prices in sorted(resolved.items()):
                for token_type, price in prices.items():
                    rows.append(_row(provider, model, region, token_type, price, DEFAULT_FROM, "", litellm_source))
    rows.sort(key=lambda r: (r["provider"], r["model"], r["region"], TOKEN_TYPES.index(r["token_type"]),
                             r["effective_from"]))
    return rows


def _changes_only(periods: list[tuple[str, Decimal]]) -> list[tuple[str, Decimal]]:
    """Drop periods that repeat the previous price (genai-prices dates some changes that touch other fields)."""
    kept: list[tuple[str, Decimal]] = []
    for start, price in periods:
        if not kept or kept[-1][1] != price:
            kept.append((start, price))
    return kept


def _genai_lookup_name(provider: str, model: str, by_model: dict) -> str:
    """The name genai-prices should match: for Bedrock, the geographic id that gave the '*' price."""
    if provider != "aws.bedrock":
        return model
    variants = by_model.get((provider, model), {}).get("*", {})
    for variant in BEDROCK_STAR_ORDER:
        if variant in variants:
            return f"{variant}.{model}" if variant else model
    return model


def _row(provider, model, region, token_type, price, start, end, source) -> dict:
    return {"provider": provider, "model": model, "region": region, "token_type": token_type,
            "usd_per_million": decimal_text(price), "effective_from": start, "effective_to": end, "source": source}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("prices_dir", type=Path)
    parser.add_argument("--out", type=Path,
                        default=Path(__file__).resolve().parent.parent / "costwarden" / "data" / "price_book.csv")
    parser.add_argument("--litellm-version", default=LITELLM_VERSION)
    args = parser.parse_args(argv)
    # parse_float=Decimal: per-token prices like 8.75e-09 stay exact; no binary float ever touches a price.
    litellm = json.loads((args.prices_dir / "model_prices_and_context_window.json").read_text(), parse_float=Decimal)
    genai_list = json.loads((args.prices_dir / "genai-prices-data.json").read_text(), parse_float=Decimal)
    genai = {p["id"]: p for p in genai_list}
    rows = build_rows(litellm, genai, f"litellm model_prices_and_context_window.json {args.litellm_version} (MIT)",
                      "pydantic/genai-prices (MIT)")
    args.out.parent.mkdir(parents=True, exist_ok=True)
    with args.out.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.DictWriter(handle, fieldnames=list(rows[0]), lineterminator="\n")
        writer.writeheader()
        writer.writerows(rows)
    for licence in ("LICENSE-litellm", "LICENSE-genai-prices"):
        shutil.copyfile(args.prices_dir / licence, args.out.parent / licence)
    print(f"wrote {len(rows)} prices to {args.out} ({args.out.stat().st_size // 1024} KiB)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
