"""Groups listed objects into FOCUS deliveries: which files belong together, the dataset (unit of replacement)
they restate, and which delivery of a dataset is the newest. Reads only manifests, never data.

A dataset is one stream of restatements, so a newer delivery may only replace rows of older deliveries of the
same stream: AWS Data Exports -> the export's BILLING_PERIOD partition; Azure Cost Management -> the export's
date-range folder (newest run folder wins); OCI -> each daily file (OCI files add rows, a re-delivered file
replaces only its own rows); anything else (Google Cloud's BigQuery exports) -> the folder the files sit in.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Callable

from ingest.storage import SourceObject
from ingest.tabular import file_kind

_AWS = re.compile(r"^(?P<root>.+)/(?P<kind>data|metadata)/(?P<part>billing_period=(?P<period>\d{4}-\d{2}))/"
                  r"(?P<rest>.+)$", re.IGNORECASE)
_AZURE = re.compile(r"^(?P<root>.+)/(?P<range>\d{8}-\d{8})/(?P<run>[^/]+)/(?P<name>[^/]+)$")
_OCI = re.compile(r"(^|/)FOCUS[ _]Reports/\d{4}/\d{2}/\d{2}/[^/]+$", re.IGNORECASE)
# Execution folders of CREATE_NEW_REPORT deliveries start with their time: 2024-05-18T20:16:37.306Z-<uuid> or
# 20250307T053621Z-<id>.
_EXEC_TIME = re.compile(r"^(\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(?:\.\d+)?Z|\d{8}T\d{6}Z)")
# Manifest keys we look for, in order (the AWS Data Exports manifest keys are not documented; parse defensively).
_ID_KEYS = ("executionid", "runid", "assemblyid", "exportexecutionid")
_TIME_KEYS = ("submittedtime", "deliverytime", "deliveredat", "createdat", "creationtime", "lastmodified",
              "lastupdated", "exporttime", "executiontime")


@dataclass
class Delivery:
    flavour: str                      # aws | azure | oci | folder
    dataset: str
    files: list[SourceObject]
    version_id: str
    version_at: datetime              # naive UTC
    manifest: SourceObject | None = None
    problem: str | None = None        # why it cannot be loaded as a whole (named in the run's failures)
    # True when the delivery states its whole dataset, so periods it lacks are emptied. A plain folder (Google
    # Cloud) is not: a period missing from it was more likely moved or rotated out than refunded to zero.
    restates_dataset: bool = True


@dataclass
class Plan:
    newest: list[Delivery] = field(default_factory=list)       # one per dataset: the candidate to load
    older: list[Delivery] = field(default_factory=list)        # superseded within this listing


def is_manifest(obj: SourceObject) -> bool:
    return obj.name.lower().endswith("manifest.json")


def plan(objects: list[SourceObject], read_json: Callable[[SourceObject], object]) -> Plan:
    aws_data, aws_manifests = defaultdict(list), defaultdict(list)
    azure_data, azure_manifests = defaultdict(list), defaultdict(list)
    oci, folders = [], defaultdict(list)
    for obj in objects:
        data = file_kind(obj.name) is not None
        if not data and not is_manifest(obj):
            continue                  # status files, *.csv.metadata, the permission-test object...
        aws, azure = _AWS.match(obj.uri), _AZURE.match(obj.uri)
        if aws:
            key = (aws["root"], aws["part"])
            if aws["kind"].lower() == "data" and data:
                aws_data[key].append(obj)
            elif aws["kind"].lower() == "metadata" and is_manifest(obj):
                aws_manifests[key].append(obj)
        elif _OCI.search(obj.uri) and data:
            oci.append(obj)
        elif azure:
            key = (azure["root"], azure["range"])
            (azure_data if data else azure_manifests)[key].append(obj)
        elif data:
            folders[obj.uri.rsplit("/", 1)[0]].append(obj)
    result = Plan()
    for key in sorted(set(aws_data) | set(aws_manifests)):
        _choose(result, _aws_deliveries(key, aws_data[key], aws_manifests[key], read_json))
    for key in sorted(set(azure_data) | set(azure_manifests)):
        _choose(result, _azure_deliveries(key, azure_data[key], azure_manifests[key], read_json))
    for obj in oci:
        result.newest.append(Delivery("oci", f"oci:{obj.uri}", [obj], obj.etag, _naive(obj.modified)))
    for folder, files in sorted(folders.items()):
        delivery = _listed("folder", f"folder:{folder}", files)
        delivery.restates_dataset = False
        result.newest.append(delivery)
    return result


def _choose(result: Plan, deliveries: list[Delivery]) -> None:
    """The newest complete delivery is the candidate; newer incomplete ones are reported (still being written),
    older ones are superseded."""
    ordered = sorted(deliveries, key=lambda d: (d.version_at, d.version_id))
    complete = [i for i, d in enumerate(ordered) if d.problem is None]
    cut = complete[-1] if complete else 0
    result.newest.extend(ordered[cut:])
    result.older.extend(d for d in ordered[:cut] if d.files)


def _subfolder(rest: str) -> str:
    return rest.rsplit("/", 1)[0] if "/" in rest else ""


def _aws_deliveries(key, data: list[SourceObject], manifests: list[SourceObject], read_json) -> list[Delivery]:
    root, part = key
    dataset = f"aws:{root}/data/{part}"
    by_folder = defaultdict(list)
    for obj in data:
        by_folder[_subfolder(_AWS.match(obj.uri)["rest"])].append(obj)
    if not manifests:
        # No manifest (e.g. only data/ was copied): each execution folder is a delivery, as listed.
        return [_listed("aws", dataset, files, folder) for folder, files in by_folder.items()]
    deliveries = []
    for manifest in manifests:
        doc = read_json(manifest)
        folder = _subfolder(_AWS.match(manifest.uri)["rest"])
        listed = _listed_paths(doc)
        if listed:
            # The manifest is the truth: exactly its files, matched by their path below data/.
            by_suffix = {_after(o.uri, "/data/").lower(): o for o in data}
            files = [by_suffix[s.lower()] for s in listed if s.lower() in by_suffix]
            missing = [s for s in listed if s.lower() not in by_suffix]
        else:
            files = by_folder.get(folder) or by_folder.get("", [])
            missing = []
        delivery = _from_manifest("aws", dataset, files, manifest, doc, folder)
        if missing:
            delivery.problem = (f"{manifest.uri} lists {len(listed)} data files but {len(files)} exist (missing "
                                f"{missing[0]}). The export is still being written; run `costwarden ingest` again "
                                "later.")
        elif not files:
            delivery.problem = f"{manifest.uri} lists no data file that exists under {root}/data/{part}/."
        deliveries.append(delivery)
    return deliveries


def _azure_deliveries(key, data: list[SourceObject], manifests: list[SourceObject], read_json) -> list[Delivery]:
    root, date_range = key
    dataset = f"azure:{root}/{date_range}"
    runs = defaultdict(list)
    for obj in data:
        runs[_AZURE.match(obj.uri)["run"]].append(obj)
    if not manifests:
        return [_listed("azure", dataset, files, run) for run, files in runs.items()]
    deliveries = []
    for manifest in manifests:     # a run folder without its manifest is still being written: not a candidate
        doc = read_json(manifest)
        run = _AZURE.match(manifest.uri)["run"]
        files = runs.get(run, [])
        listed = _listed_paths(doc)
        names = {o.name for o in files}
        missing = [p for p in listed if p.rsplit("/", 1)[-1] not in names]
        delivery = _from_manifest("azure", dataset, files, manifest, doc, run)
        if missing:
            delivery.problem = (f"{manifest.uri} lists {len(listed)} blobs but {len(listed) - len(missing)} exist "
                                f"(missing {missing[0]}). The export is still being written; run `costwarden "
                                "ingest` again later.")
        elif not files:
            delivery.problem = f"{manifest.uri} has no data files beside it."
        deliveries.append(delivery)
    return deliveries


def _listed(flavour: str, dataset: str, files: list[SourceObject], folder: str = "") -> Delivery:
    """A delivery without a manifest: its version is its files (names + etags), its time the newest file."""
    files = sorted(files, key=lambda o: o.uri)
    digest = hashlib.sha256("\n".join(f"{o.uri}\t{o.etag}" for o in files).encode()).hexdigest()[:16]
    newest = max(_naive(o.modified) for o in files)
    return Delivery(flavour, dataset, files, f"files:{digest}", _folder_time(folder) or newest)


def _from_manifest(flavour, dataset, files, manifest: SourceObject, doc, folder: str) -> Delivery:
    found_id = _find_key(doc, _ID_KEYS)
    found_at = _parse_time(_find_key(doc, _TIME_KEYS))
    version_id = f"manifest:{found_id}" if found_id else f"manifest:{manifest.etag}"
    version_at = found_at or _folder_time(folder) or _naive(manifest.modified)
    return Delivery(flavour, dataset, sorted(files, key=lambda o: o.uri), version_id, version_at, manifest)


def _listed_paths(doc) -> list[str]:
    """Data file paths a manifest names, wherever it keeps them (AWS: keys or s3:// URIs; Azure: blobs[].blobName)."""
    found: list[str] = []

    def walk(node) -> None:
        if isinstance(node, dict):
            for value in node.values():
                walk(value)
        elif isinstance(node, list):
            for value in node:
                walk(value)
        elif isinstance(node, str) and "/" in node and file_kind(node) is not None:
            found.append(node)
    walk(doc)
    seen, unique = set(), []
    for path in found:
        suffix = _after(path, "/data/") if "/data/" in path else path
        if suffix not in seen:
            seen.add(suffix)
            unique.append(suffix)
    return unique


def _after(path: str, marker: str) -> str:
    return path.rsplit(marker, 1)[-1] if marker in path else path


def _find_key(doc, keys: tuple[str, ...]) -> str | None:
    """The first scalar value under any of `keys` (compared without case), searching nested objects breadth-first."""
    for wanted in keys:
        queue = [doc]
        while queue:
            node = queue.pop(0)
            if isinstance(node, dict):
                for key, value in node.items():
                    if key.lower() == wanted and isinstance(value, (str, int)) and str(value):
                        return str(value)
                    if isinstance(value, (dict, list)):
                        queue.append(value)
            elif isinstance(node, list):
                queue.extend(v for v in node if isinstance(v, (dict, list)))
    return None


def _parse_time(text: str | None) -> datetime | None:
    if not text:
        return None
    cleaned = text.strip().replace("Z", "+00:00")
    cleaned = re.sub(r"(\.\d{6})\d+", r"\1", cleaned)      # .NET writes 7 fractional digits
    try:
        return _naive(datetime.fromisoformat(cleaned))
    except ValueError:
        return None


def _folder_time(folder: str) -> datetime | None:
    found = _EXEC_TIME.match(folder.rsplit("/", 1)[-1]) if folder else None
    if not found:
        return None
    text = found.group(1)
    if "-" not in text:
        return _naive(datetime.strptime(text, "%Y%m%dT%H%M%SZ").replace(tzinfo=timezone.utc))
    return _parse_time(text)


def _naive(moment: datetime) -> datetime:
    if moment.tzinfo is not None:
        moment = moment.astimezone(timezone.utc).replace(tzinfo=None)
    return moment


def read_manifest(data: bytes) -> object:
    """Parsed JSON, or None when the manifest is not JSON (we then fall back to listing)."""
    try:
        return json.loads(data.decode("utf-8-sig"))
    except (UnicodeDecodeError, json.JSONDecodeError):
        return None
