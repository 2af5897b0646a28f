"""LiteLLM spend logs exported from the proxy: `select * from "LiteLLM_SpendLogs"` saved as CSV, JSON lines or a
JSON array (psql, DB tools), or the proxy's /spend/logs JSON. Column mapping and token semantics: litellm_common.

JSON goes through the shared JSON-lines driver (an array is rewritten as one record per line, so a quarantined
"line" is the record's position in the array); CSV and Parquet are staged by ingest/tabular.py. Both end in the
same SQL mapping, so a row loads the same whichever way it was exported.
"""

from __future__ import annotations

import json

from costwarden.errors import BadInputError, SourceError
from costwarden.faults import checkpoint
from ingest import tabular
from ingest.base import LoadContext
from ingest.jsonlines import JsonLinesIngestor
from ingest.litellm_common import SPEND_LOG_COLUMNS, includes_cache, request_select
from ingest.storage import SourceObject

_JSON_SUFFIXES = (".json", ".jsonl", ".ndjson", ".json.gz", ".jsonl.gz", ".ndjson.gz")
_SIGNATURE = (b"request_id", b"spend", b"startTime", b"call_type")


class LiteLLMSpendLogExport(JsonLinesIngestor):
    format = "litellm"
    title = "LiteLLM spend logs (JSON / JSON lines / CSV export of LiteLLM_SpendLogs)"

    @classmethod
    def detect(cls, objects: list[SourceObject], peek=None) -> int:
        if not objects or not peek:
            return 0
        head = peek()
        if all(marker in head for marker in _SIGNATURE):
            return 90
        return 0

    def accepts(self, obj: SourceObject) -> bool:
        return obj.name.lower().endswith(_JSON_SUFFIXES)

    def prepare(self, data: bytes, obj: SourceObject) -> bytes:
        """A JSON array (or the UI's {"data": [...]} page) becomes one record per line; JSON lines pass as is."""
        start = data.lstrip()[:1]
        if start not in (b"[", b"{") or (start == b"{" and b'"data"' not in data[:4096]):
            return data
        try:
            document = json.loads(data)
        except (ValueError, UnicodeDecodeError) as exc:
            if start == b"{":  # JSON lines whose first record merely mentions "data"
                return data
            raise BadInputError(f"{obj.uri} is not a valid JSON array ({exc}); re-export it, or export JSON lines "
                                "so one bad record does not fail the file.") from None
        if isinstance(document, dict):
            if not isinstance(document.get("data"), list):
                return data
            document = document["data"]
        if not isinstance(document, list):
            return data
        return "\n".join(json.dumps(record, separators=(",", ":")) for record in document).encode()

    def select_sql(self, lines: str) -> str:
        # One parse per line. json_extract_string gives an object's or array's JSON text, and the text of a string,
        # so `metadata` comes out as JSON text whether the export wrote it as an object or as a JSON string.
        paths = "[" + ", ".join(f"'$.\"{c}\"'" for c in SPEND_LOG_COLUMNS) + "]"
        columns = ", ".join(f'v[{i + 1}] as "{c}"' for i, c in enumerate(SPEND_LOG_COLUMNS))
        return request_select(f"select _source_object, _source_line, {columns} from (select _source_object, "
                              f"_source_line, json_extract_string(line, {paths}) as v from {lines})",
                              self._includes_cache)

    def run(self, objects: list[SourceObject], ctx: LoadContext) -> None:
        self._includes_cache = includes_cache(ctx)       # select_sql has no ctx; remembered for this run
        super().run(objects, ctx)                      # the JSON objects (accepts() picks them)
        for obj in objects:
            if tabular.file_kind(obj.name):
                self._load_table_file(obj, ctx)

    def _load_table_file(self, obj: SourceObject, ctx: LoadContext) -> None:
        ctx.counts.files_seen += 1
        if ctx.already_loaded(obj):
            ctx.skip_object(obj)
            return
        try:
            with ctx.fetcher.local_path(obj) as path:
                staged = tabular.stage_file(ctx, obj, path)
        except (BadInputError, SourceError) as exc:
            ctx.file_failed(obj, str(exc))
            return
        present = {c.lower(): c for c in staged.columns}
        # Identifiers below come from SPEND_LOG_COLUMNS and the file's own header, quoted; values never.
        columns = [f'"{present[c.lower()]}" as "{c}"' if c.lower() in present else f'null as "{c}"'
                   for c in SPEND_LOG_COLUMNS]
        source = f"select _source_object, _source_line, {', '.join(columns)} from {staged.table}"
        per_object = ctx.load_requests(request_select(source, self._includes_cache), {"salt": ctx.salt})
        rows = per_object.get(obj.uri)
        checkpoint("ingest:after-batch")
        tabular.drop(ctx, staged)
        ctx.object_loaded(obj, rows, staged.rejected)
