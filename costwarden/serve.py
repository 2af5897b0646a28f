"""Starts the Streamlit dashboard (dashboard/app.py) as a subprocess against a warehouse."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from costwarden.errors import CostwardenError


def dashboard_app() -> Path:
    import dashboard

    return Path(dashboard.__file__).parent / "app.py"


def dashboard_command(port: int) -> list[str]:
    return [sys.executable, "-m", "streamlit", "run", str(dashboard_app()), "--server.port", str(port),
            "--server.headless", "true", "--browser.gatherUsageStats", "false"]


def run_dashboard(warehouse: str, config: str | None, port: int) -> int:
    if not Path(warehouse).exists():
        raise CostwardenError(f"warehouse {warehouse} does not exist; run `costwarden demo` or `costwarden ingest` "
                              "first.")
    env = dict(os.environ, COSTWARDEN_WAREHOUSE=str(Path(warehouse).resolve()))
    if config:
        env["COSTWARDEN_CONFIG"] = str(Path(config).resolve())
    print(f"dashboard: http://localhost:{port}  (Ctrl+C to stop)", flush=True)
    try:
        return subprocess.call(dashboard_command(port), env=env)
    except KeyboardInterrupt:
        return 0
