"""Running the FinOps Foundation's focus-validator (2.2.x, FOCUS 1.2 rules) on an export, offline.

It lives in its own venv (.venv-focus, Python 3.12+, created by `make focus-venv`), because it needs Python 3.12
and pins pandas 2. It reads the ISO 4217 list from focus_validator/rules/currency_codes.csv relative to its working
folder, so each run gets a scratch folder holding the list shipped beside this file.
"""

from __future__ import annotations

import re
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
VALIDATOR = REPO / ".venv-focus" / "bin" / "focus-validator"
CURRENCY_CODES = Path(__file__).parent / "focus_check" / "currency_codes.csv"

# Failures we cannot fix without falsifying the data; each is explained in docs/attribution.md ("FOCUS
# conformance"). A failure not listed here fails the check.
EXPLAINED = {
    "BilledCost-C-005-C": "the validator takes ProviderName <> InvoiceIssuerName for 'paid to a third party' and "
                          "then wants BilledCost 0; AWS CUR names the provider 'AWS' and the invoicing entity "
                          "'Amazon Web Services, Inc.' (the same company)",
    "BilledCost-C-000-M": "parent of BilledCost-C-005-C",
    "EffectiveCost-C-005-C": "the validator wants EffectiveCost 0 on every Purchase; the support fee is a Purchase "
                             "that covers no future charges, so its effective cost is its cost",
    "InvoiceId-C-004-C": "the rule has no condition in the 1.2 model, so any InvoiceId fails it; the bill's "
                         "invoice ids are real",
}

_TOTAL = re.compile(r"^Total: \d+ \| Pass: \d+ \| Fail: (\d+) \| Skipped: \d+$", re.MULTILINE)
_FAILED = re.compile(r"^\S+ (\S+): FAIL ", re.MULTILINE)


@dataclass
class Validation:
    file: Path
    total_line: str
    failed_rules: list[str]
    output: str

    @property
    def unexplained(self) -> list[str]:
        return [rule for rule in self.failed_rules if rule not in EXPLAINED]


def validator_missing_reason() -> str | None:
    if VALIDATOR.exists():
        return None
    return (f"focus-validator is not installed in {VALIDATOR.parent.parent}: run `make focus-venv` (needs Python 3.12 "
            "or newer; `make test` does it when one is found)")


def validate(data_file: Path, workdir: Path, timeout: int = 900) -> Validation:
    rules = workdir / "focus_validator" / "rules"
    rules.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(CURRENCY_CODES, rules / "currency_codes.csv")
    done = subprocess.run([str(VALIDATOR), "--data-file", str(data_file), "--validate-version", "1.2",
                           "--block-download"], cwd=workdir, capture_output=True, text=True, timeout=timeout)
    found = _TOTAL.search(done.stdout)
    if not found:
        raise AssertionError(f"focus-validator printed no summary (exit {done.returncode}):\n"
                             f"{done.stdout[-3000:]}\n{done.stderr[-3000:]}")
    return Validation(data_file, found.group(0), sorted(set(_FAILED.findall(done.stdout))), done.stdout)
