"""LiteLLM spend logs read straight from the proxy's PostgreSQL database (`"LiteLLM_SpendLogs"`), incrementally.

Each run reads rows with startTime >= watermark - OVERLAP (rows can commit after later ones), in chunks through a
server-side cursor, maps them with litellm_common and lets request-id dedup turn overlap rows into "skipped". The
watermark (meta.source_watermarks) moves inside the run's transaction. Only the needed columns are selected, and
`metadata` is pruned in PostgreSQL: `messages`, `response` and `proxy_server_request` never leave the database.

Lineage: each row's `_source_object` is `litellm_db://host:port/db/LiteLLM_SpendLogs#<request_id>`, so a
quarantined row names the database row to fix, and a row refused once is not refused again by the next run's
overlap. The ledger (meta.source_objects) gets one entry per chunk that brought something new, with the
chunk's startTime range as its URI and a checksum of its request ids as its etag.
"""

from __future__ import annotations

import hashlib
import re
from datetime import timedelta

import pyarrow as pa

from costwarden.config import secret_from_env
from costwarden.errors import ConfigError, SourceError
from costwarden.faults import checkpoint
from ingest.base import Ingestor, LoadContext, now, warn
from ingest.litellm_common import (ERROR_KEYS, METADATA_KEYS, SPEND_LOG_COLUMNS, includes_cache,
                                   request_select)
from ingest.storage import SourceObject

TABLE = "LiteLLM_SpendLogs"
# Rows are re-read this far behind the watermark: the proxy batches spend-log writes, so a row can commit after
# rows that started later. A row committing later than this behind the newest row is missed.
OVERLAP = timedelta(hours=1)
CHUNK_ROWS = 50_000


def resolve_url(uri: str):
    """The SQLAlchemy URL for `uri` (a URL, or env:VARIABLE naming one). Errors never echo the URL's text."""
    from sqlalchemy.engine import make_url
    from sqlalchemy.exc import ArgumentError

    text = uri
    if uri.startswith("env:"):
        text = secret_from_env(uri[len("env:"):], "the litellm_db source")
    try:
        url = make_url(text)
    except ArgumentError:
        where = f"the environment variable {uri[4:]}" if uri.startswith("env:") else "the source URI"
        raise ConfigError(f"{where} is not a SQLAlchemy URL; write it as postgresql+psycopg://user:password@host:"
                          "5432/litellm (put URLs with passwords in an environment variable: env:VARIABLE).") from None
    if url.get_backend_name() != "postgresql":
        raise ConfigError(f"format litellm_db reads the LiteLLM proxy's PostgreSQL database; "
                          f"{url.render_as_string(hide_password=True)} is not a PostgreSQL URL.")
    if url.password and not uri.startswith("env:"):
        warn("the litellm_db URL carries its password on the command line or in the config; put the URL in an "
             "environment variable and pass env:VARIABLE instead.")
    if url.drivername in ("postgresql", "postgres"):
        url = url.set(drivername="postgresql+psycopg")   # psycopg 3 is what we ship
    return url


def source_key(url) -> str:
    host = url.host or url.query.get("host") or "localhost"
    return f"litellm_db://{host}:{url.port or 5432}/{url.database or ''}"


class LiteLLMSpendLogDatabase(Ingestor):
    format = "litellm_db"
    family = "requests"
    title = "LiteLLM spend logs from the proxy's PostgreSQL database (incremental)"
    lists_objects = False

    def run(self, objects: list[SourceObject], ctx: LoadContext) -> None:
        from sqlalchemy import create_engine, text
        from sqlalchemy.exc import SQLAlchemyError

        url = resolve_url(ctx.source_uri)
        safe, key = url.render_as_string(hide_password=True), source_key(url)
        watermark = self._watermark(ctx, key)
        engine = create_engine(url, connect_args={"connect_timeout": 15, "application_name": "costwarden"})
        newest = watermark
        try:
            with engine.connect() as conn:
                # A consistent snapshot, read-only; ISO text for timestamps and floats that round-trip.
                for setting in ("set transaction isolation level repeatable read read only",
                                "set local timezone = 'UTC'", "set local datestyle = 'ISO'",
                                "set local extra_float_digits = 1"):
                    conn.execute(text(setting))
                select = self._select(conn, safe)
                params = {}
                if watermark is not None:
                    select += ' where "startTime" >= :since'
                    params["since"] = watermark - OVERLAP
                select += ' order by "startTime", "request_id"'
                # A server-side cursor: PostgreSQL sends CHUNK_ROWS rows at a time, memory stays flat.
                result = conn.execution_options(stream_results=True).execute(text(select), params)
                for rows in result.yield_per(CHUNK_ROWS).partitions():
                    chunk_newest = self._load_chunk(rows, ctx, key)
                    if chunk_newest is not None and (newest is None or chunk_newest > newest):
                        newest = chunk_newest
                    checkpoint("ingest:after-batch")
        except SQLAlchemyError as exc:
            raise SourceError(_one_line(exc, url, safe)) from None
        finally:
            engine.dispose()
        if newest is not None and newest != watermark:
            ctx.con.execute("delete from meta.source_watermarks where source_key = ?", [key])
            ctx.con.execute("insert into meta.source_watermarks values (?, ?, ?, ?, ?)",
                            [key, self.format, newest, ctx.load_id, now()])

    @staticmethod
    def _watermark(ctx: LoadContext, key: str):
        row = ctx.con.execute("select max(watermark) from meta.source_watermarks where source_key = ?",
                              [key]).fetchone()
        return row[0] if row else None

    @staticmethod
    def _select(conn, safe: str) -> str:
        """SELECT of SPEND_LOG_COLUMNS as text (NULL for columns this proxy version lacks), metadata pruned."""
        from sqlalchemy import text

        types = dict(conn.execute(text(
            "select a.attname, format_type(a.atttypid, a.atttypmod) from pg_attribute a "
            "where a.attrelid = to_regclass(:table) and a.attnum > 0 and not a.attisdropped"),
            {"table": f'"{TABLE}"'}).all())
        if "request_id" not in types or "startTime" not in types:
            raise SourceError(f'{safe} has no table "{TABLE}" with request_id and startTime in its search_path. '
                              "Point the URL at the LiteLLM proxy's database (the one in its DATABASE_URL).")
        # Identifiers come from SPEND_LOG_COLUMNS / METADATA_KEYS (our code), never from the database or the user.
        columns = []
        for name in SPEND_LOG_COLUMNS:
            kind = types.get(name)
            if kind is None:
                columns.append(f'null::text as "{name}"')
            elif name == "metadata" and kind in ("json", "jsonb"):
                meta = 'cast("metadata" as jsonb)'
                kept = [f"'{k}', {meta} -> '{k}'" for k in METADATA_KEYS]
                kept.append("'error_information', jsonb_build_object(" + ", ".join(
                    f"'{k}', {meta} #> '{{error_information,{k}}}'" for k in ERROR_KEYS) + ")")
                columns.append(f"cast(jsonb_strip_nulls(jsonb_build_object({', '.join(kept)})) as text) "
                               f'as "metadata"')
            elif kind.startswith("timestamp"):
                columns.append(f'cast(cast("{name}" as timestamp) as text) as "{name}"')
            else:
                columns.append(f'cast("{name}" as text) as "{name}"')
        return f'select {", ".join(columns)} from "{TABLE}"'

    def _load_chunk(self, rows, ctx: LoadContext, key: str):
        """Load one chunk; returns its greatest startTime."""
        chunk = pa.table({name: pa.array([row[i] for row in rows], pa.string())
                          for i, name in enumerate(SPEND_LOG_COLUMNS)})
        view = ctx.temp_name("spend_logs")
        ctx.con.register(view, chunk)
        try:
            prefix = f"{key}/{TABLE}#"
            # Rows refused by an earlier run come back in the overlap window; they stay refused, counted skipped.
            source = (f"select c.*, $prefix || c.request_id as _source_object, cast(null as bigint) as _source_line "
                      f"from {view} c where not exists (select 1 from meta.quarantine q where q.format = $fmt "
                      f"and q.object_uri = $prefix || c.request_id)")
            refused_before = ctx.con.execute(
                f"select count(*) from {view} c where exists (select 1 from meta.quarantine q where q.format = $fmt "
                f"and q.object_uri = $prefix || c.request_id)", {"fmt": self.format, "prefix": prefix}).fetchone()[0]
            newest, first, last = ctx.con.execute(
                f'select max(cast("startTime" as timestamp)), min("startTime"), max("startTime") from {view}'
            ).fetchone()
            per_row = ctx.load_requests(request_select(source, includes_cache(ctx)),
                                        {"salt": ctx.salt, "prefix": prefix, "fmt": self.format})
        finally:
            ctx.con.unregister(view)
        ctx.counts.rows_skipped += refused_before
        read = sum(r.read for r in per_row.values())
        loaded = sum(r.loaded for r in per_row.values())
        quarantined = sum(r.quarantined for r in per_row.values())
        digest = hashlib.blake2b("\n".join(str(row[0]) for row in rows).encode(), digest_size=16).hexdigest()
        obj = SourceObject(uri=f"{key}/{TABLE}?startTime={first}..{last}", relpath=TABLE, size=chunk.nbytes,
                           etag=digest, modified=now())
        ctx.counts.files_seen += 1
        if loaded or quarantined:
            ctx.record_object(obj, read=read, loaded=loaded, quarantined=quarantined)
            ctx.counts.files_loaded += 1
            ctx._advance(files=1)
        else:
            ctx.skip_object(obj)
        return newest


def _one_line(exc, url, safe: str) -> str:
    """The database's own reason, on one line, without the password."""
    reason = " ".join(str(getattr(exc, "orig", None) or exc).split())
    reason = re.sub(r"\(Background on this error at: \S+\)", "", reason).strip()
    if url.password:
        reason = reason.replace(str(url.password), "***")
    reason = reason.split(" [SQL: ")[0]
    return (f"cannot read LiteLLM spend logs from {safe}: {reason[:300]}. Check the host, port, database, user and "
            "password of the URL (and that this machine may connect to it).")
