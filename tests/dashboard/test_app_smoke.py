"""The dashboard on a warehouse that was only ingested (no build yet): it publishes its first snapshot itself,
renders, and says what fills the empty parts."""

from __future__ import annotations

from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from dashboard.access import Viewer
from ingest import runner
from tests.factories import write_bedrock_logs

APP = str(Path(__file__).resolve().parents[2] / "dashboard" / "app.py")


@pytest.fixture
def loaded_warehouse(tmp_path, warehouse, settings, monkeypatch):
    write_bedrock_logs(tmp_path / "logs", hours=2, per_hour=5)
    runner.ingest(settings, warehouse, str(tmp_path / "logs"))
    monkeypatch.setenv("COSTWARDEN_WAREHOUSE", warehouse)
    return warehouse


def _app() -> AppTest:
    at = AppTest.from_file(APP, default_timeout=60)
    at.session_state["viewer"] = Viewer("local", "admin")
    return at


@pytest.mark.parametrize("page", ["pages/overview.py", "pages/data_health.py", "pages/attribution.py"])
def test_page_renders_without_exception(loaded_warehouse, page):
    app = _app()
    app.run()
    if page != "pages/overview.py":
        app.switch_page(page)
        app.run()
    assert not app.exception, app.exception
    assert Path(loaded_warehouse + ".snapshots", "CURRENT").exists()


def test_overview_shows_the_request_count_and_says_to_build(loaded_warehouse):
    app = _app()
    app.run()
    assert [m.value for m in app.metric if m.label == "Requests"] == ["10"]
    assert any("costwarden build" in i.value for i in app.info)


def test_without_users_the_sign_in_page_says_how_to_add_them(loaded_warehouse):
    app = AppTest.from_file(APP, default_timeout=60)
    app.run()
    assert not app.exception
    assert "hash-password" in app.warning[0].value
