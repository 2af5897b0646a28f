"""The demo company: accounts, departments, teams, agents and the models they call, with list prices.

Pure data. Traffic shapes (how much, when, how big) live on each Agent; `traffic.py` turns them into requests and
`incidents.py` bends them. Prices here are public list prices per million tokens; the CUR is costed from the
price book the warehouse will hold (see pricing.py), these only fill models the shipped book lacks.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal

END_DATE = date(2026, 10, 31)          # last day of the default 120-day window (fixed: output is deterministic)
PAYER_ACCOUNT = ("999900001111", "acme-management")


@dataclass(frozen=True)
class Account:
    id: str
    name: str
    region: str


PROD = Account("111122223333", "acme-ai-prod", "us-east-1")
TOOLS = Account("444455556666", "acme-internal-tools", "us-west-2")
ACCOUNTS = (PROD, TOOLS)
REGION_PREFIX = {"us-east-1": "USE1", "us-west-2": "USW2"}


@dataclass(frozen=True)
class Model:
    key: str
    provider: str            # gen_ai.provider.name: aws.bedrock | openai
    model_id: str            # as the caller logs it (may carry a cross-region prefix)
    canonical: str           # the price-book model id (ingest/identity.py canonical_model_sql of model_id)
    cur_name: str            # the model token of the CUR usage type, e.g. USE1-<cur_name>-input-tokens
    prices: dict             # token_type -> USD per million tokens (list price)
    ttft_ms: float           # median time to first token for a ~2k-token prompt
    ms_per_token: float      # median decode time per output token
    error_rate: float
    caching: bool = False


def _p(**prices: str) -> dict:
    return {k: Decimal(v) for k, v in prices.items()}


MODELS = {m.key: m for m in (
    Model("claude-3-5-sonnet", "aws.bedrock", "anthropic.claude-3-5-sonnet-20241022-v2:0",
          "anthropic.claude-3-5-sonnet-20241022-v2:0", "Claude3.5SonnetV2",
          _p(input="3", output="15", cache_read="0.3", cache_write="3.75"), 700, 15, 0.008),
    Model("claude-3-7-sonnet", "aws.bedrock", "us.anthropic.claude-3-7-sonnet-20250219-v1:0",
          "anthropic.claude-3-7-sonnet-20250219-v1:0", "Claude3.7Sonnet",
          _p(input="3", output="15", cache_read="0.3", cache_write="3.75"), 950, 18, 0.010, caching=True),
    Model("claude-3-haiku", "aws.bedrock", "anthropic.claude-3-haiku-20240307-v1:0",
          "anthropic.claude-3-haiku-20240307-v1:0", "Claude3Haiku",
          _p(input="0.25", output="1.25"), 380, 7, 0.006),
    Model("nova-pro", "aws.bedrock", "amazon.nova-pro-v1:0", "amazon.nova-pro-v1:0", "NovaPro",
          _p(input="0.8", output="3.2", cache_read="0.2"), 450, 10, 0.005),
    Model("nova-lite", "aws.bedrock", "amazon.nova-lite-v1:0", "amazon.nova-lite-v1:0", "NovaLite",
          _p(input="0.06", output="0.24", cache_read="0.015"), 260, 5, 0.004),
    Model("nova-micro", "aws.bedrock", "amazon.nova-micro-v1:0", "amazon.nova-micro-v1:0", "NovaMicro",
          _p(input="0.035", output="0.14", cache_read="0.00875"), 200, 3.5, 0.004),
    Model("llama3-70b", "aws.bedrock", "meta.llama3-70b-instruct-v1:0", "meta.llama3-70b-instruct-v1:0",
          "Llama3-70B-Instruct", _p(input="2.65", output="3.5"), 520, 12, 0.012),
    Model("gpt-4o", "openai", "gpt-4o", "gpt-4o", "", _p(input="2.5", output="10", cache_read="1.25"),
          520, 12, 0.009, caching=True),
    Model("gpt-4o-mini", "openai", "gpt-4o-mini", "gpt-4o-mini", "",
          _p(input="0.15", output="0.6", cache_read="0.075"), 320, 6, 0.007, caching=True),
)}
MODEL_KEYS = list(MODELS)

TASK_TYPES = ("qa", "summarisation", "extraction", "coding", "classification", "generation")

# Mean evaluator score (0-1) by model and task type. Planted opportunity: Nova Micro matches Claude 3.5 Sonnet on
# classification but is far worse on extraction (see incidents.py, "cheaper_model").
QUALITY = {
    "claude-3-5-sonnet": dict(qa=0.90, summarisation=0.89, extraction=0.92, coding=0.88, classification=0.93,
                              generation=0.90),
    "claude-3-7-sonnet": dict(qa=0.93, summarisation=0.91, extraction=0.93, coding=0.92, classification=0.94,
                              generation=0.92),
    "claude-3-haiku": dict(qa=0.80, summarisation=0.84, extraction=0.83, coding=0.72, classification=0.89,
                           generation=0.79),
    "nova-pro": dict(qa=0.86, summarisation=0.86, extraction=0.87, coding=0.80, classification=0.91,
                     generation=0.85),
    "nova-lite": dict(qa=0.79, summarisation=0.82, extraction=0.74, coding=0.68, classification=0.90,
                      generation=0.78),
    "nova-micro": dict(qa=0.70, summarisation=0.74, extraction=0.58, coding=0.55, classification=0.92,
                       generation=0.70),
    "llama3-70b": dict(qa=0.84, summarisation=0.83, extraction=0.85, coding=0.79, classification=0.88,
                       generation=0.84),
    "gpt-4o": dict(qa=0.91, summarisation=0.89, extraction=0.91, coding=0.90, classification=0.93, generation=0.91),
    "gpt-4o-mini": dict(qa=0.84, summarisation=0.84, extraction=0.82, coding=0.78, classification=0.90,
                        generation=0.83),
}

DEPARTMENTS = {
    "product": ("search", "recommendations", "growth"),
    "customer-operations": ("support-automation", "contact-center", "trust-and-safety"),
    "finance": ("risk-models", "accounts-payable", "fp-and-a"),
    "engineering": ("platform", "devtools", "data-platform"),
    "research": ("applied-research",),
    "legal": ("legal-ops",),
}
TEAM_DEPARTMENT = {team: dept for dept, teams in DEPARTMENTS.items() for team in teams}
TEAMS = tuple(TEAM_DEPARTMENT)


def team_owner(team: str) -> str:
    return f"{team}-lead@acme.example"


def team_role(team: str) -> str:
    """The IAM role a team's workloads assume to call Bedrock (org rules map it back to the team)."""
    return f"acme-{team}-genai"


@dataclass(frozen=True)
class Agent:
    name: str
    team: str
    model: str                     # key of MODELS (the model before any rollout incident)
    tasks: dict                    # task type -> share of requests
    rate: float                    # mean requests per hour over the window at scale 1 (before growth)
    profile: str                   # consumer | business | pipeline | night_batch
    input_median: int              # uncached input tokens of a first step
    output_median: int
    steps: float = 1.0             # mean model calls per agent run (trace)
    account: Account = PROD
    cache_prefix: int = 0          # tokens of a cached system prompt (models with caching only)
    cache_hit: float = 0.0
    quality_sampled: float = 0.1   # share of requests an evaluator scored
    growth: float = 0.05           # traffic growth per 30 days
    streaming: bool = False
    sessions: int = 1              # distinct caller sessions (developers for IDE tools)
    metadata_team: str | None = "" # team sent in requestMetadata: "" = the real team, None = not sent
    model_mix: dict = field(default_factory=dict)   # per-run model choice overriding `model` (evaluations)
    provisioned: bool = False      # served by a provisioned-throughput unit instead of on-demand tokens
    launch: float = 0.0            # fraction of the window before the agent goes live
    end_users: int = 0             # distinct customers behind a gateway agent (hashed at ingest)


A = Agent
AGENTS = (
    A("answer-bot", "search", "claude-3-7-sonnet", {"qa": 1}, 18, "consumer", 8000, 380, steps=2,
      cache_prefix=4096, cache_hit=0.8, streaming=True),
    A("query-rewriter", "search", "nova-micro", {"classification": 0.6, "extraction": 0.4}, 28, "consumer", 280, 40),
    A("product-describer", "recommendations", "nova-lite", {"generation": 1}, 8, "pipeline", 900, 220),
    A("review-summariser", "recommendations", "claude-3-haiku", {"summarisation": 1}, 8, "consumer", 3000, 180),
    A("campaign-writer", "growth", "claude-3-5-sonnet", {"generation": 1}, 4, "business", 3000, 1200, steps=2),
    A("sales-email-writer", "growth", "gpt-4o-mini", {"generation": 1}, 10, "business", 800, 350,
      launch=0.25, end_users=400, cache_prefix=1100, cache_hit=0.5),
    A("support-triage", "support-automation", "claude-3-5-sonnet", {"classification": 0.85, "extraction": 0.15},
      20, "consumer", 1800, 30, metadata_team="cust-support"),
    A("kb-answerer", "support-automation", "claude-3-7-sonnet", {"qa": 1}, 16, "consumer", 9000, 450, steps=3,
      cache_prefix=6144, cache_hit=0.85, streaming=True),
    # Summaries on the flagship model (as many support teams run them), so a bigger prompt costs real money.
    A("ticket-summariser", "support-automation", "claude-3-5-sonnet", {"summarisation": 1}, 10, "consumer", 2500,
      220, metadata_team="cust-support"),
    A("call-summariser", "contact-center", "nova-pro", {"summarisation": 0.8, "extraction": 0.2}, 10, "business",
      6000, 500),
    A("agent-assist", "contact-center", "gpt-4o", {"qa": 1}, 12, "business", 3000, 260, steps=2,
      cache_prefix=1400, cache_hit=0.6, end_users=2500, streaming=True),
    A("content-moderator", "trust-and-safety", "nova-lite", {"classification": 1}, 10, "consumer", 600, 12,
      provisioned=True, quality_sampled=0.05),
    A("fraud-explainer", "risk-models", "nova-pro", {"extraction": 0.5, "qa": 0.5}, 6, "pipeline", 4000, 400,
      steps=2),
    A("kyc-extractor", "risk-models", "claude-3-haiku", {"extraction": 1}, 6, "business", 4000, 300),
    A("invoice-extractor", "accounts-payable", "llama3-70b", {"extraction": 1}, 6, "business", 5000, 600),
    A("nightly-report-summariser", "fp-and-a", "claude-3-5-sonnet", {"summarisation": 1}, 16, "night_batch",
      20000, 900, quality_sampled=0.02, growth=0.02),
    A("eval-harness", "platform", "nova-micro", {"classification": 0.5, "extraction": 0.5}, 4, "night_batch",
      900, 120, quality_sampled=1.0, growth=0.0,
      model_mix={"nova-micro": 0.4, "claude-3-5-sonnet": 0.3, "claude-3-haiku": 0.3}),
    A("code-review-bot", "devtools", "claude-3-7-sonnet", {"coding": 1}, 8, "business", 15000, 700, steps=4,
      account=TOOLS, cache_prefix=4096, cache_hit=0.7),
    A("coding-assistant", "devtools", "claude-3-5-sonnet", {"coding": 0.8, "qa": 0.2}, 24, "business", 12000, 500,
      account=TOOLS, sessions=40, streaming=True, growth=0.12),
    A("commit-message-writer", "devtools", "nova-micro", {"summarisation": 1}, 6, "business", 700, 60,
      account=TOOLS),
    A("sql-generator", "data-platform", "gpt-4o", {"coding": 1}, 6, "business", 2500, 300, steps=2, end_users=120),
    A("schema-classifier", "data-platform", "nova-lite", {"classification": 1}, 4, "pipeline", 500, 20),
    A("research-assistant", "applied-research", "llama3-70b", {"qa": 0.5, "summarisation": 0.5}, 4, "business",
      8000, 700, steps=2, account=TOOLS, metadata_team=None, sessions=12),
    A("contract-reviewer", "legal-ops", "claude-3-5-sonnet", {"extraction": 0.6, "summarisation": 0.4}, 3,
      "business", 30000, 1200, steps=3),
)
AGENT_INDEX = {a.name: i for i, a in enumerate(AGENTS)}

# Capacity billed by the hour (not per token): the Bedrock provisioned-throughput unit serving content-moderator,
# a SageMaker real-time endpoint and a GPU EC2 instance. Rates in USD per hour.
PROVISIONED_MODEL_ARN = f"arn:aws:bedrock:us-east-1:{PROD.id}:provisioned-model/k7q2m9x4p1ab"
PROVISIONED_RATE = Decimal("3.50")
SAGEMAKER_ENDPOINT = ("arn:aws:sagemaker:us-east-1:" + PROD.id + ":endpoint/ticket-router-prod", "ml.g5.2xlarge",
                      Decimal("1.515"), "support-automation")
GPU_INSTANCE = ("i-0a1b2c3d4e5f60718", "g5.12xlarge", Decimal("5.672"), "applied-research")


def model_for(agent: Agent) -> Model:
    return MODELS[agent.model]


def provisioned_model_id(agent: Agent) -> str:
    return PROVISIONED_MODEL_ARN if agent.provisioned else MODELS[agent.model].model_id
