"""`costwarden demo`: generate the demo company, put it where a real company keeps it (a local S3 server, or a
folder with --local), ingest it through the configured sources, add the ground truth, build, report, and open the
dashboard.
"""

from __future__ import annotations

import shutil
import tempfile
from pathlib import Path

from costwarden import db
from costwarden.build import build_warehouse
from costwarden.config import Settings, load_settings
from costwarden.demo import s3server
from costwarden.demo.company import AGENTS, DEPARTMENTS, END_DATE, MODELS, TEAMS
from costwarden.demo.configfile import CONFIG_NAME, SOURCE_PREFIX, write_config
from costwarden.demo.curfile import CUR_ROOT
from costwarden.demo.gateway import GATEWAY_ROOT
from costwarden.demo.generate import INCIDENTS_FILE, Generated, generate
from costwarden.demo.incidents import Window
from costwarden.demo.groundtruth import store_findings
from costwarden.demo.logs import BEDROCK_ROOT
from costwarden.demo.report import print_summary
from costwarden.errors import UsageError
from ingest import registry, runner

BUCKET = "costwarden-demo"
_OWN_FOLDERS = ("bedrock-logs", "gateway-logs", "billing")


def _sources(base: str) -> list[dict]:
    return [{"name": f"{SOURCE_PREFIX}bedrock-logs", "uri": f"{base}/{BEDROCK_ROOT}", "format": "bedrock"},
            {"name": f"{SOURCE_PREFIX}gateway-litellm", "uri": f"{base}/{GATEWAY_ROOT}", "format": "litellm"},
            {"name": f"{SOURCE_PREFIX}cur2", "uri": f"{base}/{CUR_ROOT}", "format": "cur2"}]


def _check_args(args, warehouse: str) -> None:
    if Path(warehouse).stem.lower() == "demo":
        # DuckDB names the catalog after the file, so `demo.incidents` would be ambiguous in every query.
        raise UsageError(f"a warehouse file named {Path(warehouse).name} makes `demo.incidents` ambiguous in SQL; "
                         "use another name, e.g. --warehouse costwarden-demo.duckdb")
    if args.days < 7:
        raise UsageError("--days must be at least 7 (the demo plants a week of seasonality and its incidents).")
    if not args.scale > 0:
        raise UsageError("--scale must be a positive number (1.0 is the default demo size).")


def _fresh_warehouse(warehouse: str) -> None:
    """Start from an empty warehouse, but never discard one holding anything but an earlier demo."""
    path = Path(warehouse)
    if not path.exists():
        return
    con = db.connect(path, read_only=True)
    try:
        foreign = con.execute("select count(*) from meta.loads where coalesce(source_name, '') not like ?",
                              [SOURCE_PREFIX + "%"]).fetchone()[0]
    finally:
        con.close()
    if foreign:
        raise UsageError(f"warehouse {path} already holds data that is not from `costwarden demo`; run the demo "
                         "with its own warehouse: costwarden --warehouse costwarden-demo.duckdb demo")
    print(f"replacing the earlier demo warehouse {path}")
    for leftover in (path, path.with_name(path.name + ".wal")):
        leftover.unlink(missing_ok=True)
    shutil.rmtree(path.with_suffix(path.suffix + ".tmp"), ignore_errors=True)


def _prepare_folder(folder: Path) -> None:
    if folder.exists() and any(folder.iterdir()):
        if not (folder / INCIDENTS_FILE).exists():
            raise UsageError(f"{folder} is not empty and was not written by `costwarden demo`; pass an empty or "
                             "new folder to --local.")
        for name in _OWN_FOLDERS:
            shutil.rmtree(folder / name, ignore_errors=True)
    folder.mkdir(parents=True, exist_ok=True)


def _ingest(settings: Settings, warehouse: str, only: str | None = None) -> list[runner.RunReport]:
    """Load the configured sources whose format this build has (all of them once every ingestor exists)."""
    known = registry.ingestors()
    sources = [s for s in settings.sources if s.format in known and (only is None or s.name == only)]
    for missing in (s for s in settings.sources if s.format not in known):
        print(f"skipped {missing.name}: this build has no '{missing.format}' ingestor")
    if not sources:
        return []
    return runner.ingest_configured(settings.model_copy(update={"sources": sources}), warehouse)


def _load(gen: Generated, config: Path, warehouse: str, put_file, endpoint: str = "") -> list[runner.RunReport]:
    """Ingest with the last month's CUR as an earlier partial delivery, then overwrite it with the complete one
    and ingest the CUR again: the current month restated in full, as AWS delivers it."""
    settings = load_settings(config)
    if endpoint:   # an S3 endpoint from the caller's environment must not send the demo elsewhere
        settings = settings.model_copy(update={"s3": settings.s3.model_copy(update={"endpoint_url": endpoint})})
    finals = {key: (gen.root / key).read_bytes() for key in gen.partial_files}
    for key, data in gen.partial_files.items():
        put_file(key, data)
    reports = _ingest(settings, warehouse)
    for key, data in finals.items():
        put_file(key, data)
    return reports + _ingest(settings, warehouse, only=f"{SOURCE_PREFIX}cur2")


def _config(path: Path, args, settings: Settings, warehouse: str, base: str, gen: Generated,
            endpoint: str = "") -> Path:
    """The demo's own config; the caller's hashing salt variable carries over, so hashes match their setup."""
    return write_config(path, warehouse=str(Path(warehouse).resolve()), sources=_sources(base),
                        prices=gen.price_entries, endpoint_url=endpoint, hash_salt_env=settings.hash_salt_env,
                        scale=args.scale,
                        window=Window(args.days),
                        header=f"written by `costwarden demo` (seed {args.seed}, scale {args.scale}, {args.days} "
                               f"days to {END_DATE.isoformat()})")


def _run_local(args, settings: Settings, warehouse: str) -> tuple[Generated, Path, list]:
    folder = Path(args.local).resolve()
    _prepare_folder(folder)
    gen = generate(folder, days=args.days, scale=args.scale, seed=args.seed)
    config = _config(folder / CONFIG_NAME, args, settings, warehouse, folder.as_posix(), gen)
    return gen, config, _load(gen, config, warehouse, lambda key, data: (folder / key).write_bytes(data))


def _run_s3(args, settings: Settings, warehouse: str) -> tuple[Generated, Path, list]:
    keep = Path(warehouse).resolve().parent / "costwarden-demo"   # config and ground truth outlive the server
    keep.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="costwarden-demo-") as tmp, s3server.local_s3() as endpoint:
        staging = Path(tmp)
        print(f"local S3 server {endpoint}: writing the demo to s3://{BUCKET}/", flush=True)
        uploader = s3server.Uploader(endpoint, BUCKET, staging)
        try:
            gen = generate(staging, days=args.days, scale=args.scale, seed=args.seed, on_file=uploader.put)
            config = _config(staging / CONFIG_NAME, args, settings, warehouse, f"s3://{BUCKET}", gen, endpoint)
            uploader.sync()
            reports = _load(gen, config, warehouse, uploader.put_bytes, endpoint)
        finally:
            uploader.close()
        for name in (CONFIG_NAME, INCIDENTS_FILE):
            shutil.copy2(staging / name, keep / name)
        gen.root = keep
    return gen, keep / CONFIG_NAME, reports


def run_demo(args, settings: Settings, warehouse: str) -> int:
    _check_args(args, warehouse)
    _fresh_warehouse(warehouse)
    print(f"costwarden demo: {len(AGENTS)} agents in {len(TEAMS)} teams ({len(DEPARTMENTS)} departments), "
          f"{len(MODELS)} models, {args.days} days to {END_DATE.isoformat()}, seed {args.seed}, scale {args.scale}",
          flush=True)
    run = _run_local if args.local else _run_s3
    gen, config, reports = run(args, settings, warehouse)
    store_findings(warehouse, gen.window)
    analyse = not getattr(args, "no_analysis", False)
    build = build_warehouse(load_settings(config), warehouse, publish_snapshot=not analyse)   # _analyse publishes
    failed = print_summary(gen, config, reports, build, warehouse, args.port)
    if analyse:
        failed = _analyse(config, warehouse) or failed
    if args.no_dashboard:
        return 1 if failed else 0
    from costwarden.serve import dashboard_app, run_dashboard

    if not dashboard_app().exists():
        print("the dashboard is not part of this build yet; query the warehouse with `costwarden query`.")
        return 1 if failed else 0
    return run_dashboard(warehouse, str(config), args.port)


def _analyse(config: Path, warehouse: str) -> bool:
    """Run what `costwarden run` runs after the build (detect, forecast, recommend) so every dashboard page has the
    demo's anomalies, budgets and recommendations; alerts are left out (the demo's channels point at nothing).
    Returns True when a step failed."""
    from costwarden.jobs import run_pipeline

    print("analysing: detect, forecast, recommend (what `costwarden run` does after the build) ...", flush=True)
    report = run_pipeline(load_settings(config), warehouse, steps=["detect", "forecast", "recommend"])
    print(report.summary(), flush=True)
    return not report.ok
