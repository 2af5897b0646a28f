"""Legacy AWS Cost and Usage Report (CUR 1): gzip/zip CSV with slash-named columns (`lineItem/UnblendedCost`) under
`<prefix>/<report>/yyyymmdd-yyyymmdd/[<assemblyId>/]` with `<report>-Manifest.json`, or the Athena Parquet flavour
(snake_case columns) under `<prefix>/<report>/<report>/year=YYYY/month=M/` with no manifest.

Dataset = `cur_legacy:<URI of the folder holding the period folders>`. Version = the assemblyId (Athena: a digest of
the files' etags); its time = the assembly's own manifest modified time (else the top-level manifest's, else the
newest file's). The top-level manifest names the latest assembly and is trusted over timestamps. The column set
varies by month and by file, so each file is mapped from its own header (ingest.cur_common.FileColumns).
"""

from __future__ import annotations

import re
from datetime import date, datetime

from ingest.cur_deliveries import CurIngestor, Entry, ManifestInfo, PeriodObjects, manifest_json
from ingest.storage import SourceObject

_CSV_LAYOUT = re.compile(r"^(?P<root>.*)/(?P<start>\d{8})-(?P<end>\d{8})/(?P<rest>.+)$")
_ATHENA_LAYOUT = re.compile(r"^(?P<root>.*)/year=(?P<year>\d{4})/month=(?P<month>\d{1,2})/(?P<rest>.+)$",
                            re.IGNORECASE)
DATA_SUFFIXES = (".csv.gz", ".csv", ".zip")


class CurLegacy(CurIngestor):
    format = "cur_legacy"
    title = "AWS Cost and Usage Report (legacy CUR: CSV, or Athena Parquet)"
    period_folder = re.compile(r"(?:^|/)\d{8}-\d{8}/")

    @classmethod
    def detect(cls, objects: list[SourceObject], peek=None) -> int:
        csv = any(_CSV_LAYOUT.match(o.uri) and o.name.lower().endswith(DATA_SUFFIXES + ("-manifest.json",))
                  for o in objects)
        athena = any(_ATHENA_LAYOUT.match(o.uri) and o.name.lower().endswith(".parquet") for o in objects)
        if not (csv or athena):
            return 0
        head = peek() if peek else b""
        if b"BilledCost" in head or b'"FocusCost"' in head:    # FOCUS exports (Azure's) use date-range folders too
            return 0
        if b"lineItem/" in head or b'"assemblyId"' in head or (athena and b"line_item_" in head):
            return 95
        return 90 if csv else 50

    def group_objects(self, objects: list[SourceObject]) -> list[PeriodObjects]:
        groups: dict[tuple[str, date], PeriodObjects] = {}
        for obj in objects:
            lower = obj.name.lower()
            if (match := _CSV_LAYOUT.match(obj.uri)) and lower.endswith(DATA_SUFFIXES + ("-manifest.json",)):
                try:
                    period = datetime.strptime(match["start"], "%Y%m%d").date().replace(day=1)
                except ValueError:
                    continue
                kind = "manifest" if lower.endswith("-manifest.json") else "data"
            elif (match := _ATHENA_LAYOUT.match(obj.uri)) and lower.endswith(".parquet"):
                if not 1 <= int(match["month"]) <= 12:
                    continue
                period, kind = date(int(match["year"]), int(match["month"]), 1), "data"
            else:
                continue   # status tables, Redshift/QuickSight helper files, test objects
            group = groups.setdefault((match["root"], period), PeriodObjects(f"cur_legacy:{match['root']}", period))
            group.entries.append(Entry(obj, kind, match["rest"].rpartition("/")[0]))
        return [groups[key] for key in sorted(groups)]

    def read_manifest(self, raw: bytes, obj: SourceObject) -> ManifestInfo:
        doc = manifest_json(raw, obj)
        keys = doc.get("reportKeys")
        refs = [k for k in keys if isinstance(k, str)] if isinstance(keys, list) else None
        assembly = doc.get("assemblyId")
        return ManifestInfo(version=assembly if isinstance(assembly, str) and assembly else None, refs=refs)
