"""The dashboard renders on a loaded warehouse without exceptions (Streamlit AppTest, no browser)."""

from __future__ import annotations

from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from ingest import runner
from tests.factories import write_bedrock_logs

APP = str(Path(__file__).resolve().parents[2] / "dashboard" / "app.py")


@pytest.fixture
def loaded_warehouse(tmp_path, warehouse, settings, monkeypatch):
    write_bedrock_logs(tmp_path / "logs", hours=2, per_hour=5)
    runner.ingest(settings, warehouse, str(tmp_path / "logs"))
    monkeypatch.setenv("COSTWARDEN_WAREHOUSE", warehouse)
    return warehouse


@pytest.mark.parametrize("page", ["pages/overview.py", "pages/data_health.py"])
def test_page_renders_without_exception(loaded_warehouse, page):
    app = AppTest.from_file(APP, default_timeout=60)
    app.run()
    if page != "pages/overview.py":
        app.switch_page(page)
        app.run()
    assert not app.exception, app.exception
    assert app.title[0].value in ("Overview", "Data health")


def test_overview_shows_the_request_count_from_the_warehouse(loaded_warehouse):
    app = AppTest.from_file(APP, default_timeout=60)
    app.run()
    assert [m.value for m in app.metric if m.label == "Requests"] == ["10"]
