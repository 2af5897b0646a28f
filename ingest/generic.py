"""Request logs from any gateway as CSV(.gz), JSON lines(.gz) or Parquet, read through a column map.

`[[sources]] column_map = { request_id = "id", occurred_at = "ts", ... }` names the file's column for each request
field; unmapped fields are looked up by common aliases (see `ALIASES`). Only mapped fields are read: prompt or
response columns are never copied, identities and API keys are stored as salted hashes. Token semantics follow
OpenAI (input INCLUDES cached tokens) unless the source sets `input_includes_cache = false`.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field

from costwarden.errors import BadInputError, ConfigError, SourceError
from costwarden.faults import checkpoint
from ingest import tabular
from ingest.base import Ingestor, LoadContext
from ingest.identity import canonical_model_sql, hash_sql, model_version_sql, principal_role_sql
from ingest.lines import decompress, line_table
from ingest.otel import provider_sql
from ingest.storage import SourceObject

# Request fields a column map may name, each with the column names tried when the map does not name it
# (compared lower-case, ignoring '_', '-', '.' and spaces). `principal` and `api_key` are raw values, hashed here.
ALIASES: dict[str, tuple[str, ...]] = {
    "request_id": ("id", "requestid", "callid", "generationid", "responseid"),
    "occurred_at": ("timestamp", "ts", "time", "createdat", "starttime", "requesttime", "datetime", "created"),
    "trace_id": ("traceid", "runid", "sessionid"), "span_id": ("spanid",), "parent_span_id": ("parentspanid",),
    "agent": ("agentname", "agentid"), "application": ("app", "appname", "service", "servicename"),
    "operation": ("calltype", "endpoint"), "principal": ("user", "userid", "enduser", "enduserid", "username"),
    "principal_role": ("role", "iamrole"), "api_key": ("apikey", "key", "apikeyid", "hashedkey", "token"),
    "team": ("teamname", "teamid"), "department": ("dept", "costcenter"), "environment": ("env", "stage"),
    "region": ("awsregion",), "account_id": ("account", "accountid"),
    "provider": ("modelprovider", "llmprovider", "customllmprovider", "vendor"),
    "model_id": ("model", "modelname", "modelid"),
    "input_tokens": ("prompttokens", "tokensin", "inputtokencount"),
    "output_tokens": ("completiontokens", "tokensout", "outputtokencount"),
    "cache_read_tokens": ("cachedtokens", "cachereadinputtokens", "cachedinputtokens", "cachereadtokens"),
    "cache_write_tokens": ("cachecreationtokens", "cachecreationinputtokens", "cachewriteinputtokens"),
    "reasoning_tokens": ("reasoningtokens",), "latency_ms": ("durationms", "responsetimems", "latency"),
    "ttft_ms": ("timetofirsttokenms",), "status": ("statuscode", "httpstatus", "outcome"),
    "error_class": ("error", "errortype", "errorcode"), "finish_reason": ("stopreason",),
    "service_tier": ("tier",), "task_type": ("task", "usecase"), "quality_score": ("quality", "score"),
    "reported_cost": ("cost", "spend", "costusd", "responsecost"), "metadata": ("tags", "requesttags"),
}
# Map keys that are other spellings of a field above.
_KEY_SYNONYMS = {"model": "model_id", "principal_hash": "principal", "api_key_hash": "api_key"}
# Without these the file cannot be priced: a missing one fails the file with the fix.
REQUIRED = ("occurred_at", "model_id", "input_tokens", "output_tokens")
# Metadata keys that may hold text or secrets are dropped, and so are long values.
_TEXT_KEY = r"(prompt|message|response|completion|content|body|text|query|answer|instruction|input|output|" \
            r"email|password|secret|api_?key|authorization)"
_MAX_METADATA_VALUE = 256
# Staged files held before one validated insert; bounds open temp tables when a folder has many small files.
_MAX_FILES_PER_BATCH = 200


def _norm(name: str) -> str:
    return re.sub(r"[\s_.\-]", "", name.lower())


@dataclass
class ColumnMap:
    """The source's column map split into field -> column, metadata entries and options."""
    source_name: str | None
    fields: dict[str, str] = field(default_factory=dict)
    metadata: dict[str, str] = field(default_factory=dict)
    input_includes_cache: bool = True
    provider: str = ""

    @classmethod
    def from_context(cls, ctx: LoadContext) -> "ColumnMap":
        source = ctx.source
        result = cls(source.name if source is not None else None, provider=source.provider if source else "")
        if source is not None and source.input_includes_cache is not None:
            result.input_includes_cache = source.input_includes_cache
        for key, column in (source.column_map if source is not None else {}).items():
            if key.startswith("metadata."):
                result.metadata[key[len("metadata."):]] = column
            elif _KEY_SYNONYMS.get(key, key) in ALIASES:
                result.fields[_KEY_SYNONYMS.get(key, key)] = column
            else:
                raise ConfigError(f"[[sources]] name={result.source_name}: column_map key '{key}' is not a request "
                                  f"field. Use one of: {', '.join(ALIASES)}, metadata.<name>.")
        return result

    def fix_hint(self, field_name: str) -> str:
        if self.source_name:
            return f'set column_map.{field_name} in [[sources]] name="{self.source_name}"'
        return (f'add a [[sources]] entry with format = "generic" and column_map.{field_name} = "<column>" to the '
                "config")

    def resolve(self, uri: str, columns: list[str]) -> tuple[dict[str, str], dict[str, str]]:
        """field -> file column for every field found; raises BadInputError naming the file and the fix."""
        by_exact = set(columns)
        by_norm: dict[str, str] = {}
        for column in columns:
            by_norm.setdefault(_norm(column), column)
        resolved: dict[str, str] = {}
        for field_name, aliases in ALIASES.items():
            wanted = self.fields.get(field_name)
            if wanted == "":
                continue                         # declared absent: default value
            if wanted is not None:
                found = wanted if wanted in by_exact else by_norm.get(_norm(wanted))
                if found is None:
                    raise BadInputError(
                        f"{uri} has no column '{wanted}' (column_map.{field_name}); its columns are "
                        f"{', '.join(columns[:30])}. Fix it: {self.fix_hint(field_name)}.")
                resolved[field_name] = found
                continue
            for alias in (_norm(field_name), *aliases):
                if alias in by_norm:
                    resolved[field_name] = by_norm[alias]
                    break
        for field_name in REQUIRED:
            if field_name not in resolved and self.fields.get(field_name) != "":
                tried = ", ".join((field_name, *ALIASES[field_name]))
                raise BadInputError(f"{uri} has no column for {field_name} (looked for {tried}). Fix it: "
                                    f"{self.fix_hint(field_name)}.")
        metadata = {}
        for key, wanted in self.metadata.items():
            found = wanted if wanted in by_exact else by_norm.get(_norm(wanted))
            if found is None:
                raise BadInputError(f"{uri} has no column '{wanted}' (column_map.\"metadata.{key}\"). Fix it: "
                                    f"{self.fix_hint('metadata.' + key)}.")
            metadata[key] = found
        return resolved, metadata


class GenericRequestLogs(Ingestor):
    format = "generic"
    family = "requests"
    title = "Generic request logs (CSV, JSON lines, Parquet) with a column map"

    @classmethod
    def detect(cls, objects: list[SourceObject], peek=None) -> int:
        # Low on purpose: any specific format that recognises the files wins.
        return 10 if any(_kind(o.name) for o in objects) else 0

    def run(self, objects: list[SourceObject], ctx: LoadContext) -> None:
        column_map = ColumnMap.from_context(ctx)
        batch: list[tuple[SourceObject, tabular.StagedFile, str, dict]] = []
        batch_bytes = 0
        for obj in objects:
            kind = _kind(obj.name)
            if kind is None:
                continue
            ctx.counts.files_seen += 1
            if ctx.already_loaded(obj):
                ctx.skip_object(obj)
                continue
            staged = None
            try:
                with ctx.fetcher.local_path(obj) as path:
                    if kind == "jsonl":
                        staged = _stage_jsonl(ctx, obj, decompress(path.read_bytes(), obj.uri))
                    else:
                        staged = tabular.stage_file(ctx, obj, path, kind)
                if staged.rows == 0:        # nothing but malformed rows (already quarantined), or no rows at all
                    self._record(ctx, obj, staged, None)
                    continue
                fields, metadata = column_map.resolve(obj.uri, staged.columns)
            except (BadInputError, SourceError) as exc:
                if staged is not None:
                    _forget_rejected(ctx, obj, staged.rejected)
                    tabular.drop(ctx, staged)
                ctx.file_failed(obj, str(exc))
                continue
            sql, params = _mapping_sql(ctx, staged, kind, fields, metadata, column_map, f"f{len(batch)}_")
            batch.append((obj, staged, sql, params))
            batch_bytes += obj.size
            # Files are loaded in batches (one validation pass, duplicates removed across the batch's files).
            if batch_bytes >= ctx.settings.ingest.batch_bytes or len(batch) >= _MAX_FILES_PER_BATCH:
                self._flush(batch, ctx)
                batch, batch_bytes = [], 0
        if batch:
            self._flush(batch, ctx)

    def _flush(self, batch, ctx: LoadContext) -> None:
        params: dict = {}
        for _, _, _, file_params in batch:
            params.update(file_params)
        per_object = ctx.load_requests(" union all ".join(f"({sql})" for _, _, sql, _ in batch), params)
        checkpoint("ingest:after-batch")
        for obj, staged, _, _ in batch:
            self._record(ctx, obj, staged, per_object.get(obj.uri))

    @staticmethod
    def _record(ctx: LoadContext, obj: SourceObject, staged: tabular.StagedFile, rows) -> None:
        tabular.drop(ctx, staged)
        ctx.object_loaded(obj, rows, staged.rejected)


def _kind(name: str) -> str | None:
    lower = name.lower()
    if lower.endswith((".jsonl", ".jsonl.gz", ".ndjson", ".ndjson.gz", ".json", ".json.gz")):
        return "jsonl"
    return tabular.file_kind(name)


def _forget_rejected(ctx: LoadContext, obj: SourceObject, rejected: int) -> None:
    """A file that fails after staging is retried next run: undo the malformed rows it already quarantined."""
    if rejected:
        ctx.con.execute("delete from meta.quarantine where load_id = ? and object_uri = ?", [ctx.load_id, obj.uri])
        ctx.counts.rows_read -= rejected
        ctx.counts.rows_quarantined -= rejected


def _stage_jsonl(ctx: LoadContext, obj: SourceObject, data: bytes) -> tabular.StagedFile:
    """JSON lines as a temp table (_source_object, _source_line, line); columns are the top-level keys."""
    if data.lstrip()[:1] == b"[":
        data = _array_to_lines(obj, data)
    lines, not_utf8 = line_table(data)
    ctx.quarantine_lines(obj.uri, not_utf8)
    view, table = ctx.temp_name("lines"), ctx.temp_name("file")
    ctx.con.register(view, lines)
    try:
        ctx.con.execute(f"create temp table {table} as select cast($uri as varchar) as _source_object, "
                        f"line_no as _source_line, line, case when not json_valid(line) then 'line is not valid "
                        f"JSON' when json_type(line) <> 'OBJECT' then 'line is not a JSON object' end as _bad "
                        f"from {view}", {"uri": obj.uri})
    finally:
        ctx.con.unregister(view)
    bad = ctx.con.execute(
        f"insert into meta.quarantine select $load_id, $fmt, _source_object, _source_line, _bad, null, null, "
        f"now() from {table} where _bad is not null", {"load_id": ctx.load_id, "fmt": ctx.format}).fetchone()[0]
    ctx.counts.rows_read += bad
    ctx.counts.rows_quarantined += bad
    ctx.con.execute(f"delete from {table} where _bad is not null")
    keys = [k for (k,) in ctx.con.execute(
        f"select key from (select unnest(json_keys(line)) as key, _source_line from {table}) "
        f"group by key order by min(_source_line), key").fetchall()]
    rows = ctx.con.execute(f"select count(*) from {table}").fetchone()[0]
    return tabular.StagedFile(table, keys, rows, len(not_utf8) + bad)


def _array_to_lines(obj: SourceObject, data: bytes) -> bytes:
    """A JSON array export becomes one line per element (line number = element index, 1-based)."""
    try:
        records = json.loads(data)
    except (ValueError, UnicodeDecodeError) as exc:
        raise BadInputError(f"{obj.uri} starts like a JSON array but is not valid JSON ({exc}). Re-export it as "
                            "JSON lines (one object per line).") from None
    return b"\n".join(json.dumps(r).encode() for r in records) + b"\n"


def _mapping_sql(ctx: LoadContext, staged: tabular.StagedFile, kind: str, fields: dict[str, str],
                 metadata: dict[str, str], column_map: ColumnMap, prefix: str) -> tuple[str, dict]:
    """The SELECT giving canonical request columns from one staged file; parameter names start with `prefix`."""
    params: dict = {"salt": ctx.salt, f"{prefix}provider": column_map.provider or None}
    types = {} if kind == "jsonl" else dict(ctx.con.execute(
        f"select column_name, column_type from (describe {staged.table})").fetchall())

    def ref(column: str) -> str:
        if kind == "jsonl":
            name = f"{prefix}c{len(params)}"
            params[name] = "/" + column.replace("~", "~0").replace("/", "~1")   # JSON pointer to the key
            return f"json_extract_string(t.line, ${name})"
        return 't."' + column.replace('"', '""') + '"'

    def text(field_name: str, default: str = "null") -> str:
        column = fields.get(field_name)
        return f"nullif(trim(cast({ref(column)} as varchar)), '')" if column else default

    raw_in, cache_read, cache_write = text("input_tokens", "'0'"), text("cache_read_tokens"), text("cache_write_tokens")
    cached = (f"coalesce(try_cast({cache_read} as bigint), 0) + coalesce(try_cast({cache_write} as bigint), 0)"
              if column_map.input_includes_cache else "0")
    model = text("model_id")
    principal, error = text("principal"), text("error_class")
    request_id = text("request_id", "'line:' || md5(t._source_object || ':' || t._source_line)")
    sql = f"""
    select t._source_object, t._source_line,
        {request_id} as request_id,
        {_timestamp_sql(text('occurred_at'))} as occurred_at,
        {text('trace_id')} as trace_id, {text('span_id')} as span_id, {text('parent_span_id')} as parent_span_id,
        {text('agent')} as agent, {text('application')} as application, lower({text('operation')}) as operation,
        {hash_sql(principal)} as principal_hash,
        coalesce({principal_role_sql(text('principal_role'))}, {principal_role_sql(principal)}) as principal_role,
        {hash_sql(text('api_key'))} as api_key_hash,
        {text('team')} as team, {text('department')} as department, {text('environment')} as environment,
        {text('region')} as region, {text('account_id')} as account_id,
        {provider_sql(f"coalesce({text('provider')}, ${prefix}provider)")} as provider,
        {model} as model_id, {canonical_model_sql(model)} as model, {model_version_sql(model)} as model_version,
        case when try_cast({raw_in} as bigint) is null then {raw_in}
             else cast(try_cast({raw_in} as bigint) - ({cached}) as varchar) end as input_tokens,
        {text('output_tokens', "'0'")} as output_tokens,
        coalesce({cache_read}, '0') as cache_read_tokens, coalesce({cache_write}, '0') as cache_write_tokens,
        {text('reasoning_tokens')} as reasoning_tokens,
        {text('latency_ms')} as latency_ms, {text('ttft_ms')} as ttft_ms,
        {_status_sql(text('status'), error)} as status,
        {error} as error_class,
        {text('finish_reason')} as finish_reason,
        coalesce(lower({text('service_tier')}), 'standard') as service_tier,
        {text('task_type')} as task_type, {text('quality_score')} as quality_score,
        {text('reported_cost')} as reported_cost,
        {_metadata_sql(ref, fields.get('metadata'), types, metadata, params, prefix)} as metadata
    from {staged.table} t"""
    return sql, params


def _timestamp_sql(value: str) -> str:
    """ISO text (any offset, to UTC) or epoch seconds / ms / µs / ns; anything else passes through to be refused."""
    epoch = [(r"[0-9]{1,10}(\.[0-9]+)?", f"cast(cast({value} as double) * 1e6 as bigint)"),
             (r"[0-9]{13}", f"cast({value} as bigint) * 1000"), (r"[0-9]{16}", f"cast({value} as bigint)"),
             (r"[0-9]{19}", f"cast({value} as bigint) // 1000")]
    cases = " ".join(f"when regexp_full_match({value}, '{pattern}') then "
                     f"cast(make_timestamp({micros}) as varchar)" for pattern, micros in epoch)
    return (f"case {cases} else coalesce(cast(cast(try_cast({value} as timestamptz) as timestamp) as varchar), "
            f"{value}) end")


def _status_sql(status: str, error: str) -> str:
    return (f"case when {error} is not null then 'error' when {status} is null then 'success' "
            f"when lower({status}) in ('success', 'succeeded', 'ok', 'true', 'completed', 'complete', 'done') "
            f"or regexp_full_match({status}, '2[0-9][0-9]') then 'success' "
            f"when lower({status}) in ('error', 'failed', 'failure', 'fail', 'false', 'timeout', 'cancelled') "
            f"or regexp_full_match({status}, '[45][0-9][0-9]') then 'error' else {status} end")


def _metadata_sql(ref, column: str | None, types: dict[str, str], entries: dict[str, str], params: dict,
                  prefix: str) -> str:
    """Attribution tags: a JSON object / MAP / STRUCT column plus `metadata.<key>` columns, text keys dropped."""
    parts = []
    if column:
        source = ref(column)
        as_json = source if types.get(column, "VARCHAR") in ("VARCHAR", "JSON") else f"to_json({source})"
        parts.append(f"map_from_entries(list_filter(map_entries(try_cast(try_cast({as_json} as json) "
                     f"as map(varchar, varchar))), lambda e: not regexp_matches(lower(e.key), '{_TEXT_KEY}') "
                     f"and e.value is not null and length(e.value) <= {_MAX_METADATA_VALUE}))")
    if entries:
        items = []
        for key, entry_column in entries.items():
            name = f"{prefix}m{len(params)}"
            params[name] = key
            items.append(f"{{'key': ${name}, 'value': nullif(trim(cast({ref(entry_column)} as varchar)), '')}}")
        parts.append(f"map_from_entries(list_filter([{', '.join(items)}], lambda e: e.value is not null))")
    if not parts:
        return "null"
    return parts[0] if len(parts) == 1 else f"map_concat({', '.join(parts)})"
