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
            "--server.headless", "true", "--browser.gatherUsageStats", "false",
            "--client.toolbarMode", "viewer"]


def run_dashboard(warehouse: str, config: str | None, port: int) -> int:
    if not Path(warehouse).exists():
        raise CostwardenError(f"warehouse {warehouse} does not exist; run `costwarden demo` or `costwarden ingest` "
                              "first.")
    env = dict(os.environ, COSTWARDEN_WAREHOUSE=str(Path(warehouse).resolve()))
    if config:
        env["COSTWARDEN_CONFIG"] = str(Path(config).resolve())
    print(f"dashboard: http://localhost:{port}  (Ctrl+C to stop)", flush=True)
    if config and Path(config).name == "costwarden.demo.toml":
        from dashboard.demo_users import DEMO_USERS

        print("demo sign-ins (demo only): " + ", ".join(f"{name} / {password} ({role})"
                                                        for name, password, role, *_ in DEMO_USERS), flush=True)
    try:
        return subprocess.call(dashboard_command(port), env=env)
    except KeyboardInterrupt:
        return 0


def hash_password_interactive(from_stdin: bool) -> int:
    """Print a login_hash for the config; the password never appears on the command line or in the output."""
    import getpass

    from dashboard.passwords import hash_password

    if from_stdin:
        password = sys.stdin.readline().rstrip("\n")
    else:
        password = getpass.getpass("password: ")
        if getpass.getpass("again: ") != password:
            raise CostwardenError("the two passwords differ; nothing was hashed.")
    if len(password) < 8:
        raise CostwardenError("the password is shorter than 8 characters; choose a longer one.")
    print(hash_password(password))
    return 0


def dashboard_action(action: str, warehouse: str, config: str | None, settings, *, port: int = 8501,
                     from_stdin: bool = False) -> int:
    """`costwarden dashboard [serve|hash-password|publish]`."""
    if action == "hash-password":
        return hash_password_interactive(from_stdin)
    if action == "publish":
        from dashboard import snapshot

        if not Path(warehouse).exists():
            raise CostwardenError(f"warehouse {warehouse} does not exist; run `costwarden demo` or `costwarden "
                                  "ingest` first.")
        path = snapshot.publish_from_warehouse(warehouse, snapshot.snapshot_dir(warehouse,
                                               settings.dashboard.snapshot_dir), settings.dashboard.keep_snapshots)
        print(f"published dashboard snapshot {path}")
        return 0
    return run_dashboard(warehouse, config, port)
