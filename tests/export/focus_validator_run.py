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

# Rules an honest export still fails, each explained in docs/attribution.md ("FOCUS conformance"): the
# validator's executable form of each drops a qualifier the requirement's text has. A failure not listed here, or
# a listed one that stops failing, fails the check (the docs must then change with it).
EXPLAINED = {
    "BilledCost-C-005-C": "BilledCost MUST be 0 where payments go to a third party; the validator tests "
                          "ProviderName <> InvoiceIssuerName, and AWS names itself 'AWS' as provider and its "
                          "invoicing legal entity ('Amazon Web Services, Inc.') as issuer: the same company",
    "BilledCost-C-000-M": "the BilledCost composite, failing only through BilledCost-C-005-C",
    "EffectiveCost-C-005-C": "EffectiveCost MUST be 0 for a Purchase covering future charges; the validator "
                             "checks every Purchase, and the monthly support fee covers none",
    "InvoiceId-C-004-C": "InvoiceId MUST be null when not invoiced; without its condition the validator wants "
                         "every InvoiceId null, so an invoiced month (ids present) fails it",
    "InvoiceId-C-005-C": "InvoiceId MUST NOT be null when invoiced; without its condition the validator wants "
                         "every InvoiceId present, so a month not invoiced yet (ids null) fails it",
}
# Failed by every export of the demo, whatever the month.
ALWAYS_FAILING = {"BilledCost-C-005-C", "BilledCost-C-000-M", "EffectiveCost-C-005-C"}


def expected_failures(invoiced: bool) -> set[str]:
    """The rules an export of the demo company fails: the three above, and one of the two InvoiceId rules, which one
    depending on whether AWS has invoiced the month (the demo's 2026-07..09 lines carry the invoice id, the running
    month 2026-10 has none yet)."""
    return ALWAYS_FAILING | {"InvoiceId-C-004-C" if invoiced else "InvoiceId-C-005-C"}


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
