"""Both exports of the demo company checked by the FinOps Foundation's focus-validator (2.2.x, FOCUS 1.2 rules).

Runs in `make test` (and so in CI): the Makefile creates .venv-focus with Python 3.12+ first; without such a Python
this test is skipped and says why. The exports must fail exactly the rules docs/attribution.md explains (EXPLAINED,
expected_failures): a new failure fails the check, and so does an explained rule that stops failing.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from costwarden.cli import main as cli_main
from tests.export.focus_validator_run import EXPLAINED, expected_failures, validate, validator_missing_reason

DOCS = Path(__file__).resolve().parents[2] / "docs" / "attribution.md"


@pytest.mark.slow
@pytest.mark.parametrize("what, month, invoiced", [
    ("chargeback", "2026-09", True),
    ("focus", "2026-09", True),
    ("focus", "2026-10", False),        # the running month: AWS has not invoiced it, InvoiceId is null
])
def test_demo_export_fails_only_the_explained_rules(demo_company, tmp_path, what, month, invoiced, capsys):
    missing = validator_missing_reason()
    if missing:
        pytest.skip(f"FOCUS conformance check could not run: {missing}")
    out = tmp_path / f"{what}-{month}.parquet"
    assert cli_main(["--warehouse", demo_company.warehouse, "export", what, "--month", month, "--out", str(out)]) == 0
    result = validate(out, tmp_path / "validator")
    with capsys.disabled():
        print(f"\nfocus-validator 2.2.1, {what} export of {month}: {result.total_line}; failed rules: "
              f"{', '.join(result.failed_rules) or 'none'}")
    assert not result.unexplained, (
        f"rules failing that docs/attribution.md does not explain: {result.unexplained}\n{result.output[-4000:]}")
    assert set(result.failed_rules) == expected_failures(invoiced), (
        f"an explained rule no longer fails: update docs/attribution.md and EXPLAINED\n{result.output[-4000:]}")


def test_every_explained_failure_is_in_the_docs():
    text = DOCS.read_text()
    section = text[text.index("## FOCUS conformance"):]
    section = section.split("\n## ", 1)[0]
    assert [rule for rule in EXPLAINED if f"`{rule}`" not in section] == []
