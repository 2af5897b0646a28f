"""Identity and model-name normalisation shared by every request-log ingestor.

User identities and API keys are stored only as salted SHA-256 hashes. The role part of an AWS caller ARN is kept
(it names a workload, not a person) so org-mapping rules can match it; the session name (often an e-mail) is not.
Model ids are canonicalised so the price book matches `us.anthropic.claude-...`, foundation-model ARNs and
`bedrock/...` gateway names alike.
"""

from __future__ import annotations

import hashlib
import os

# Used only when the environment gives no salt; `costwarden loads` warns that hashes are then guessable.
DEFAULT_SALT = "costwarden-default-salt-set-COSTWARDEN_HASH_SALT"

# Cross-region inference profile prefixes (system-defined profiles) that do not change the model or its price
# class for the purposes of the price book: us., eu., apac., global., jp., au., ca., us-gov.
_REGION_PREFIX = r"^(us|eu|apac|global|jp|au|ca|us-gov)\."


def hash_salt(variable: str = "COSTWARDEN_HASH_SALT") -> str:
    return os.environ.get(variable) or DEFAULT_SALT


def hash_identity(value: str | None, salt: str) -> str | None:
    """Python twin of `hash_sql`: both must give the same hex digest for the same value."""
    if value is None or value == "":
        return None
    return hashlib.sha256((salt + value).encode("utf-8")).hexdigest()


def hash_sql(expr: str) -> str:
    """SQL for the salted hash of `expr`; the salt is bound as the named parameter $salt."""
    return f"case when nullif({expr}, '') is null then null else sha256($salt || {expr}) end"


def principal_role_sql(arn_expr: str) -> str:
    """`arn:aws:sts::A:assumed-role/R/session` -> `arn:aws:iam::A:role/R`; other ARNs keep no personal part."""
    return (f"case when {arn_expr} like 'arn:aws:sts::%:assumed-role/%' then "
            f"regexp_replace({arn_expr}, '^arn:aws:sts::([0-9]*):assumed-role/([^/]+)/.*$', "
            f"'arn:aws:iam::\\1:role/\\2') "
            f"when {arn_expr} like 'arn:aws:iam::%:role/%' then {arn_expr} end")


def canonical_model_sql(model_expr: str) -> str:
    """Canonical model id for pricing: strip ARN wrappers, gateway provider prefixes and cross-region prefixes."""
    stripped_arn = (f"regexp_replace({model_expr}, "
                    "'^arn:aws[a-z-]*:bedrock:[^:]*:[0-9]*:(foundation-model|inference-profile)/', '')")
    no_gateway = (f"regexp_replace({stripped_arn}, "
                  "'^(bedrock|bedrock_converse|converse|openai|azure|anthropic|vertex_ai|gemini)/', '')")
    return f"lower(regexp_replace({no_gateway}, '{_REGION_PREFIX}', ''))"


def model_version_sql(model_expr: str) -> str:
    """The `-v1:0` style version suffix of Bedrock ids, or a trailing date (gpt-4o-2024-08-06)."""
    return (f"coalesce(nullif(regexp_extract({model_expr}, '-(v[0-9]+(:[0-9]+)?)$', 1), ''), "
            f"nullif(regexp_extract({model_expr}, '-([0-9]{{4}}-?[0-9]{{2}}-?[0-9]{{2}})(-v[0-9:]+)?$', 1), ''))")
