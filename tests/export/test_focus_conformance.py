"""Both exports of the demo company checked by the FinOps Foundation's focus-validator (2.2.x, FOCUS 1.2 rules).

Runs in `make test` (and so in CI): the Makefile creates .venv-focus with Python 3.12+ first; without such a Python
this test is skipped and says why. Every failed rule must be one docs/attribution.md explains (EXPLAINED).
"""

from __future__ import annotations

import pytest

from costwarden.cli import main as cli_main
from tests.export.focus_validator_run import EXPLAINED, validate, validator_missing_reason

MONTH = "2026-09"


@pytest.mark.slow
@pytest.mark.parametrize("what", ["chargeback", "focus"])
def test_demo_export_passes_focus_validator(demo_company, tmp_path, what, capsys):
    missing = validator_missing_reason()
    if missing:
        pytest.skip(f"FOCUS conformance check could not run: {missing}")
    out = tmp_path / f"{what}-{MONTH}.parquet"
    assert cli_main(["--warehouse", demo_company.warehouse, "export", what, "--month", MONTH, "--out", str(out)]) == 0
    result = validate(out, tmp_path / "validator")
    with capsys.disabled():
        print(f"\nfocus-validator 2.2.1, {what} export of {MONTH}: {result.total_line}; failed rules: "
              f"{', '.join(result.failed_rules) or 'none'}")
    assert not result.unexplained, (
        f"rules failing that docs/attribution.md does not explain: {result.unexplained}\n{result.output[-4000:]}")
    assert set(result.failed_rules) <= set(EXPLAINED)
