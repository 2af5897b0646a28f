"""Every label exists in English and Simplified Chinese, and every key the code uses is in the tables."""

from __future__ import annotations

import re
from pathlib import Path

from dashboard.i18n import EN, ZH, translate

DASHBOARD = Path(__file__).resolve().parents[2] / "dashboard"


def test_both_languages_have_every_key_and_no_blank():
    assert set(EN) == set(ZH)
    assert all(EN[k].strip() and ZH[k].strip() for k in EN)


def test_placeholders_agree():
    for key in EN:
        assert set(re.findall(r"{(\w+)}", EN[key])) == set(re.findall(r"{(\w+)}", ZH[key])), key


def test_every_literal_key_in_the_code_is_translated():
    used = set()
    for path in [*DASHBOARD.glob("*.py"), *DASHBOARD.glob("pages/*.py")]:
        used |= set(re.findall(r"(?<![\w.])t\(\"([a-z_][a-z0-9_.]*)\"", path.read_text(encoding="utf-8")))
        used |= set(re.findall(r"ctx\.t\(\"([a-z_][a-z0-9_.]*)\"", path.read_text(encoding="utf-8")))
        used |= set(re.findall(r"\"(what\.[a-z_]+)\"", path.read_text(encoding="utf-8")))
    assert len(used) > 100
    assert used <= set(EN), sorted(used - set(EN))


def test_dynamic_keys_are_translated():
    from dashboard.data import RESERVED

    keys = [f"role.{r}" for r in ("admin", "finance", "team_lead", "viewer")]
    keys += [f"attribution.explain.{b.strip('_')}" for b in RESERVED]
    keys += [f"anomalies.verdict.{v}" for v in ("expected", "not_anomaly", "planned")]
    keys += ["recs.approved", "recs.rejected"] + [f"reports.download.{k}" for k in ("csv", "xlsx", "focus")]
    keys += [f"page.{p.stem}" for p in DASHBOARD.glob("pages/*.py")]
    missing = [k for k in keys if k not in EN]
    assert not missing, missing


def test_translate_falls_back_and_formats():
    assert translate("zh", "signin.submit") == "登录"
    assert translate("fr", "signin.submit") == "Sign in"
    assert translate("zh", "col.unknown_column", default="unknown_column") == "unknown_column"
    assert "USD" in translate("zh", "axis.money", currency="USD")
