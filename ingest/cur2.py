"""AWS CUR 2.0 (Data Exports, table COST_AND_USAGE_REPORT): Parquet or gzip CSV under
`<prefix>/<export>/data/BILLING_PERIOD=YYYY-MM/[<execution folder>/]`, manifests under
`.../metadata/BILLING_PERIOD=YYYY-MM/`.

Dataset = `cur2:<URI of the export folder>` (the folder holding data/ and metadata/), whichever folder above it the
source names. Version = the manifest's execution id, else the execution folder, else a digest of the files' etags;
its time = the execution folder's timestamp (CREATE_NEW_REPORT), else the manifest's modified time (OVERWRITE_REPORT).
"""

from __future__ import annotations

import re
from datetime import date, datetime, timezone

from ingest.cur_deliveries import CurIngestor, Entry, ManifestInfo, PeriodObjects, manifest_json
from ingest.storage import SourceObject

_LAYOUT = re.compile(r"^(?P<root>.*)/(?P<kind>data|metadata)/billing_period=(?P<year>\d{4})-(?P<month>\d{2})/"
                     r"(?P<rest>.+)$", re.IGNORECASE)
DATA_SUFFIXES = (".parquet", ".csv", ".csv.gz", ".zip")
# Execution folder names seen in real buckets: `2024-05-18T20:16:37.306Z-<uuid>` and `20250307T053621Z-<exec>`.
_EXECUTION_TIMES = ((re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?Z"), None),
                    (re.compile(r"^\d{8}T\d{6}Z"), "%Y%m%dT%H%M%SZ"))
_FILE_LIST_KEYS = ("datafiles", "reportkeys", "datafilekeys", "files", "keys")
_ID_KEYS = ("executionid", "assemblyid", "exportexecutionid")


class Cur2(CurIngestor):
    format = "cur2"
    title = "AWS CUR 2.0 (Data Exports)"
    period_folder = re.compile(r"billing_period=\d{4}-\d{2}/", re.IGNORECASE)

    @classmethod
    def detect(cls, objects: list[SourceObject], peek=None) -> int:
        if not any(_LAYOUT.match(o.uri) for o in objects):
            return 0
        head = peek() if peek else b""
        if b"BilledCost" in head or b"ChargeCategory" in head:     # a FOCUS export shares the layout
            return 0
        return 95 if b"line_item_" in head or b"COST_AND_USAGE_REPORT" in head else 60

    def group_objects(self, objects: list[SourceObject]) -> list[PeriodObjects]:
        groups: dict[tuple[str, date], PeriodObjects] = {}
        for obj in objects:
            match = _LAYOUT.match(obj.uri)
            if not match:
                continue
            sub, _, name = match["rest"].rpartition("/")
            if match["kind"].lower() == "metadata":
                if not name.lower().endswith("manifest.json"):
                    continue
                kind = "manifest"
            elif name.lower().endswith(DATA_SUFFIXES):
                kind = "data"
            else:
                continue
            period = date(int(match["year"]), int(match["month"]), 1)
            group = groups.setdefault((match["root"], period), PeriodObjects(f"cur2:{match['root']}", period))
            group.entries.append(Entry(obj, kind, sub))
        return [groups[key] for key in sorted(groups)]

    def read_manifest(self, raw: bytes, obj: SourceObject) -> ManifestInfo:
        doc = manifest_json(raw, obj)
        return ManifestInfo(version=_find_id(doc), refs=_data_refs(doc))

    def folder_time(self, sub: str) -> datetime | None:
        head = sub.split("/", 1)[0]
        for pattern, fmt in _EXECUTION_TIMES:
            match = pattern.match(head)
            if match:
                text = match.group(0)
                try:
                    parsed = datetime.strptime(text, fmt) if fmt else datetime.fromisoformat(text)
                except ValueError:
                    return None
                return parsed.replace(tzinfo=parsed.tzinfo or timezone.utc)
        return None


def _data_refs(doc: dict) -> list[str] | None:
    """The data files a manifest lists. The exact keys are unconfirmed, so: a known list key, else every string
    anywhere in the document that names a data file (outside `additionalOutputFiles`); None when there is none."""
    for key, value in doc.items():
        if key.lower() in _FILE_LIST_KEYS and isinstance(value, list):
            return [ref for ref in (_ref(item) for item in value) if ref]
    found: list[str] = []

    def walk(node) -> None:
        if isinstance(node, dict):
            for key, value in node.items():
                if "additional" not in key.lower():
                    walk(value)
        elif isinstance(node, list):
            for value in node:
                walk(value)
        elif isinstance(node, str) and node.lower().endswith(DATA_SUFFIXES):
            found.append(node)

    walk(doc)
    return found or None


def _ref(item) -> str | None:
    if isinstance(item, str):
        return item
    if isinstance(item, dict):
        for key in ("key", "path", "uri", "s3Uri", "s3Path", "url", "name"):
            if isinstance(item.get(key), str):
                return item[key]
    return None


def _find_id(node) -> str | None:
    if isinstance(node, dict):
        for key, value in node.items():
            if key.lower() in _ID_KEYS and isinstance(value, str) and value:
                return value
        for value in node.values():
            if isinstance(value, (dict, list)) and (found := _find_id(value)):
                return found
    elif isinstance(node, list):
        for value in node:
            if found := _find_id(value):
                return found
    return None
