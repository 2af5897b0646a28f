"""The real thing: the Streamlit server, a headless system Chromium driven by Playwright, a sign-in, every page at
1280x800 and 1920x1080, a screenshot of each under build/screenshots/, and no error element anywhere.

Needs a Chromium executable (the system package; Playwright never downloads one here). Without it the test is
skipped with the reason, which `make test` prints; under CI (CI=true) a missing browser is a failure."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

from costwarden.serve import dashboard_command
from dashboard.demo_users import DEMO_USERS
from dashboard.i18n import EN

ROOT = Path(__file__).resolve().parents[2]
SHOTS = ROOT / "build" / "screenshots"
PAGES = ["overview", "attribution", "unit_economics", "models_latency", "anomalies", "budgets", "recommendations",
         "reports", "data_health", "audit_log"]
SIZES = [(1280, 800), (1920, 1080)]


def chromium_path() -> str | None:
    for candidate in (os.environ.get("COSTWARDEN_CHROMIUM"), "chromium", "chromium-browser", "google-chrome"):
        if candidate and (found := shutil.which(candidate)):
            return found
    return None


def _require_browser() -> str:
    path = chromium_path()
    if path is None:
        reason = ("browser test did not run: no Chromium executable (install the system package `chromium` as "
                  "root, e.g. `apt-get install -y chromium`, or set COSTWARDEN_CHROMIUM)")
        if os.environ.get("CI"):
            pytest.fail(reason)
        pytest.skip(reason)
    return path


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def server(dashboard_company, tmp_path):
    port = _free_port()
    env = dict(os.environ, COSTWARDEN_WAREHOUSE=dashboard_company.warehouse,
               COSTWARDEN_CONFIG=dashboard_company.config,
               COSTWARDEN_DASHBOARD__WRITEBACK_FILE=str(tmp_path / "writeback.duckdb"))
    command = dashboard_command(port) + ["--server.address", "127.0.0.1"]
    log = open(tmp_path / "streamlit.log", "wb")
    process = subprocess.Popen(command, env=env, stdout=log, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 90
        while True:
            try:
                if urllib.request.urlopen(f"{url}/_stcore/health", timeout=2).status == 200:
                    break
            except OSError:
                pass
            if process.poll() is not None or time.monotonic() > deadline:
                raise AssertionError((tmp_path / "streamlit.log").read_text(errors="replace")[-2000:])
            time.sleep(0.3)
        yield url, tmp_path / "writeback.duckdb"
    finally:
        process.terminate()
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()
        log.close()


def _settle(page) -> None:
    """Wait until Streamlit has finished running the script (the status widget leaves)."""
    page.wait_for_timeout(300)
    page.wait_for_function("() => !document.querySelector('[data-testid=\"stStatusWidget\"]')", timeout=60_000)
    page.wait_for_timeout(300)


def _sign_in(page, url: str, name: str) -> None:
    password = next(p for n, p, *_ in DEMO_USERS if n == name)
    page.goto(url)
    page.get_by_label(EN["signin.user"]).fill(name)
    page.get_by_role("textbox", name=EN["signin.password"]).fill(password)
    page.get_by_role("button", name=EN["signin.submit"]).click()
    page.get_by_role("heading", name=EN["page.overview"]).wait_for(timeout=60_000)
    _settle(page)


@pytest.mark.slow
def test_every_page_in_a_real_browser(server):
    executable = _require_browser()
    from playwright.sync_api import sync_playwright

    url, writeback_file = server
    problems = []
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=executable, headless=True,
                                     args=["--no-sandbox", "--disable-dev-shm-usage"])
        try:
            for width, height in SIZES:
                page = browser.new_page(viewport={"width": width, "height": height})
                _sign_in(page, url, "admin")
                for name in PAGES:          # overview first: the page signing in lands on
                    if name != "overview":
                        page.locator(f'[data-testid="stSidebarNav"] a[href$="/{name}"]').click()
                    page.get_by_role("heading", name=EN[f"page.{name}"]).first.wait_for(timeout=60_000)
                    _settle(page)
                    target = SHOTS / f"{width}x{height}" / f"{name}.png"
                    target.parent.mkdir(parents=True, exist_ok=True)
                    page.screenshot(path=str(target), full_page=True)
                    errors = page.locator('[data-testid="stException"]').count()
                    if errors:
                        problems.append(f"{name} at {width}x{height}: {errors} exception element(s)")
                page.close()
            # a team lead in the browser: their department only, and no audit log in the menu
            page = browser.new_page(viewport={"width": 1280, "height": 800})
            _sign_in(page, url, "product-lead")
            assert page.locator('[data-testid="stSidebarNav"] a[href$="/audit_log"]').count() == 0
            page.locator('[data-testid="stSidebarNav"] a[href$="/attribution"]').click()
            _settle(page)
            page.screenshot(path=str(SHOTS / "1280x800" / "attribution-product-lead.png"), full_page=True)
            assert page.locator('[data-testid="stException"]').count() == 0
        finally:
            browser.close()
    assert not problems, problems
    assert all((SHOTS / f"{w}x{h}" / f"{n}.png").stat().st_size > 10_000 for w, h in SIZES for n in PAGES)
    from dashboard import writeback

    views = writeback.read(writeback_file, "select distinct page from audit.dashboard_events where action = 'view'")
    assert set(PAGES) <= set(views["page"])      # every page view reached the audit log
