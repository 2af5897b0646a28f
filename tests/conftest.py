"""Shared fixtures: a fresh warehouse per test, a real S3-compatible server (moto) on 127.0.0.1, CLI runner."""

from __future__ import annotations

import os
import uuid
from pathlib import Path

import pytest

from costwarden.cli import main as cli_main
from costwarden.config import Settings, load_settings

# Credentials for the local S3 server only; boto3 insists on having some.
os.environ.setdefault("AWS_ACCESS_KEY_ID", "testing")
os.environ.setdefault("AWS_SECRET_ACCESS_KEY", "testing")
os.environ.setdefault("AWS_DEFAULT_REGION", "us-east-1")
os.environ.pop("COSTWARDEN_CONFIG", None)
os.environ.pop("COSTWARDEN_WAREHOUSE", None)


@pytest.fixture
def warehouse(tmp_path: Path) -> str:
    return str(tmp_path / "warehouse.duckdb")


@pytest.fixture
def settings() -> Settings:
    return load_settings(None, environ={})


@pytest.fixture(scope="session")
def s3_endpoint() -> str:
    """moto's S3 server over real HTTP on loopback (not a patched client)."""
    from moto.server import ThreadedMotoServer

    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    yield f"http://{host}:{port}"
    server.stop()


class S3Bucket:
    def __init__(self, endpoint: str):
        import boto3

        self.endpoint = endpoint
        self.name = f"test-{uuid.uuid4().hex[:12]}"
        self.client = boto3.client("s3", endpoint_url=endpoint, region_name="us-east-1")
        self.client.create_bucket(Bucket=self.name)

    def put(self, key: str, body: bytes) -> None:
        self.client.put_object(Bucket=self.name, Key=key, Body=body)

    def upload_tree(self, folder: Path, prefix: str = "") -> None:
        for path in sorted(Path(folder).rglob("*")):
            if path.is_file():
                key = "/".join(p for p in (prefix.strip("/"), path.relative_to(folder).as_posix()) if p)
                self.put(key, path.read_bytes())

    def delete(self, key: str) -> None:
        self.client.delete_object(Bucket=self.name, Key=key)

    def uri(self, prefix: str = "") -> str:
        return f"s3://{self.name}/{prefix}".rstrip("/") if prefix else f"s3://{self.name}"


@pytest.fixture
def s3_bucket(s3_endpoint: str) -> S3Bucket:
    return S3Bucket(s3_endpoint)


@pytest.fixture
def s3_settings(s3_endpoint: str) -> Settings:
    return load_settings(None, environ={"COSTWARDEN_S3__ENDPOINT_URL": s3_endpoint})


@pytest.fixture
def cli(capsys, warehouse):
    """Run the CLI in-process: cli("ingest", path) -> (exit_code, stdout, stderr)."""
    def run(*args: str, env: dict | None = None):
        old = {k: os.environ.get(k) for k in (env or {})}
        os.environ.update(env or {})
        try:
            code = cli_main(["--warehouse", warehouse, *args])
        finally:
            for k, v in old.items():
                if v is None:
                    os.environ.pop(k, None)
                else:
                    os.environ[k] = v
        out, err = capsys.readouterr()
        return code, out, err
    return run


# One demo company for every test that only reads it: 120 days at scale 0.1 (about 70k requests, ~30 s once per
# session). Tests that write must copy the warehouse first (demo_company.copy_to(tmp_path)).
DEMO_ARGS = ("--days", "120", "--scale", "0.1", "--seed", "42", "--no-dashboard", "--no-analysis")


class DemoCompany:
    def __init__(self, root: Path):
        self.root = root
        self.warehouse = str(root / "acme.duckdb")
        self.folder = root / "company"
        self.config = str(self.folder / "costwarden.demo.toml")

    def settings(self) -> Settings:
        return load_settings(self.config, environ={})

    def copy_to(self, target: Path) -> "DemoCompany":
        import shutil

        clone = DemoCompany(Path(target))
        Path(target).mkdir(parents=True, exist_ok=True)
        shutil.copyfile(self.warehouse, clone.warehouse)
        shutil.copytree(self.folder, clone.folder, dirs_exist_ok=True)
        return clone


@pytest.fixture(scope="session")
def demo_company(tmp_path_factory) -> DemoCompany:
    """The demo company built once per session through the real CLI (local folder, not S3). Read-only use."""
    import contextlib
    import io

    company = DemoCompany(tmp_path_factory.mktemp("demo-company"))
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        code = cli_main(["--warehouse", company.warehouse, "demo", "--local", str(company.folder), *DEMO_ARGS])
    assert code == 0, out.getvalue()
    return company
