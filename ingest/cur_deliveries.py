"""CUR deliveries: group objects into (export, billing period) deliveries, pick the newest, replace the period.

Shared by cur2 and cur_legacy: a delivery is one execution / assembly folder (or the files one manifest lists);
an older delivery never replaces a newer one, and one unreadable file keeps its whole period out of the run.
"""

from __future__ import annotations

import hashlib
import json
import re
import tempfile
import zipfile
from dataclasses import dataclass, field
from datetime import date, datetime, timezone
from pathlib import Path
from typing import ClassVar

from costwarden.errors import BadInputError, SourceError
from ingest.base import Ingestor, LoadContext
from ingest.cur_common import FileColumns, cost_select
from ingest.storage import SourceObject
from ingest.tabular import StagedFile, drop, file_kind, stage_file

# ---- deliveries and billing-period replacement ---------------------------------------------------------------------

@dataclass
class Entry:
    obj: SourceObject
    kind: str       # "data" | "manifest"
    sub: str        # folder between the billing-period folder and the file: execution / assembly id, or ""


@dataclass
class PeriodObjects:
    dataset: str    # the export's identity; (dataset, period) is replaced as a unit
    period: date
    entries: list[Entry] = field(default_factory=list)


@dataclass
class ManifestInfo:
    version: str | None          # execution / assembly id
    refs: list[str] | None       # data files it lists (keys or URIs); None when it lists none we recognise


@dataclass
class Delivery:
    """One refresh of one billing period: the files of one execution / assembly folder, and its manifests."""
    sub: str
    files: list[SourceObject] = field(default_factory=list)
    manifests: list[Entry] = field(default_factory=list)
    version: str | None = None
    version_at: datetime | None = None
    pointer: bool = False        # named by a manifest outside its folder ("the latest is ..."): AWS's own choice
    listed: list[SourceObject] | None = None
    problems: list[tuple[SourceObject, str]] = field(default_factory=list)

    def objects(self) -> list[SourceObject]:
        return [m.obj for m in self.manifests] + self.files


def manifest_json(raw: bytes, obj: SourceObject) -> dict:
    try:
        doc = json.loads(raw)
    except (ValueError, UnicodeDecodeError) as exc:
        raise BadInputError(f"CUR manifest {obj.uri} is not valid JSON ({exc}); it may still be uploading. Run "
                            "`costwarden ingest` again later; this billing period keeps its previous data.") from None
    if not isinstance(doc, dict):
        raise BadInputError(f"CUR manifest {obj.uri} is not a JSON object; re-deliver it or delete it.")
    return doc


def naive_utc(moment: datetime) -> datetime:
    return moment.astimezone(timezone.utc).replace(tzinfo=None) if moment.tzinfo else moment


class CurIngestor(Ingestor):
    """Loads the newest delivery of each (dataset, billing period), replacing what an older one loaded.

    A delivery is loaded when one of its objects is new to the ledger and it is not older than the version already
    loaded for the period; an older one is recorded as `superseded` and skipped. One bad file fails its period
    (the previous data stays), never the other periods.
    """

    family = "costs"
    period_folder: ClassVar[re.Pattern] = re.compile(r"$^")   # the billing-period segment inside a manifest key

    def group_objects(self, objects: list[SourceObject]) -> list[PeriodObjects]:
        raise NotImplementedError

    def read_manifest(self, raw: bytes, obj: SourceObject) -> ManifestInfo:
        raise NotImplementedError

    def folder_time(self, sub: str) -> datetime | None:
        return None

    def run(self, objects: list[SourceObject], ctx: LoadContext) -> None:
        for group in self.group_objects(objects):
            ctx.counts.files_seen += len(group.entries)
            self._load_period(group, ctx)

    def _load_period(self, group: PeriodObjects, ctx: LoadContext) -> None:
        deliveries, strays = self._plan(group, ctx)
        pointers = [d for d in deliveries if d.pointer]
        chosen = max(pointers or deliveries, key=lambda d: (d.version_at, d.version))
        for other in deliveries:
            if other is not chosen:
                self._set_aside(other.objects(), other.version, group, ctx)
        self._set_aside(strays, chosen.version, group, ctx)
        objects = chosen.objects()
        if all(ctx.already_loaded(o) for o in objects):
            for obj in objects:
                ctx.skip_object(obj)
            return
        if not chosen.files and not chosen.problems:
            chosen.problems.append((objects[0], f"{objects[0].uri} lists no data files for billing period "
                                                f"{group.period:%Y-%m}; nothing was replaced."))
        if chosen.problems:
            self._fail(chosen, chosen.problems, ctx)
            return
        current = ctx.current_period_version(group.dataset, group.period)
        if current and current[1] and chosen.version_at < current[1]:
            self._set_aside(objects, chosen.version, group, ctx)    # an older delivery never overwrites a newer
            return
        self._replace(group, chosen, ctx)

    # -- planning
    def _plan(self, group: PeriodObjects, ctx: LoadContext) -> tuple[list[Delivery], list[SourceObject]]:
        folders: dict[str, Delivery] = {}
        by_tail: dict[str, tuple[str, SourceObject]] = {}
        by_name: dict[str, list[tuple[str, SourceObject]]] = {}
        for e in group.entries:
            if e.kind == "data":
                folders.setdefault(e.sub, Delivery(e.sub)).files.append(e.obj)
                by_tail[f"{e.sub}/{e.obj.name}".lstrip("/")] = (e.sub, e.obj)
                by_name.setdefault(e.obj.name, []).append((e.sub, e.obj))
        for d in folders.values():
            d.version_at = self._version_at(d)
        for e in (e for e in group.entries if e.kind == "manifest"):
            self._attach_manifest(e, folders, by_tail, by_name, ctx)
        strays: list[SourceObject] = []
        for d in folders.values():
            if d.listed is not None:     # a manifest says which files are the delivery; the rest are leftovers
                strays += [f for f in d.files if f not in d.listed]
                d.files = d.listed
            d.version_at = self._version_at(d)
            d.version = d.version or d.sub or "sha256:" + hashlib.sha256(
                "|".join(sorted(f"{o.name}:{o.etag}" for o in d.objects())).encode()).hexdigest()[:16]
        return list(folders.values()), strays

    def _attach_manifest(self, e: Entry, folders, by_tail, by_name, ctx: LoadContext) -> None:
        try:
            info = self.read_manifest(ctx.fetcher.read_bytes(e.obj), e.obj)
        except (BadInputError, SourceError) as exc:
            target = folders.setdefault(e.sub, Delivery(e.sub))
            target.manifests.append(e)
            target.problems.append((e.obj, str(exc)))
            return
        if info.refs is None:        # no file list: the manifest's own folder, or the newest execution folder
            target = folders.get(e.sub)
            if target is None and e.sub == "" and folders:
                target = max(folders.values(), key=lambda d: (d.version_at, d.sub))
            target = target or folders.setdefault(e.sub, Delivery(e.sub))
        else:
            found, missing, subs = [], [], []
            for ref in info.refs:
                tail = self._tail(ref)
                hit = by_tail.get(tail) or (lambda c: c[0] if len(c) == 1 else None)(
                    by_name.get(tail.rsplit("/", 1)[-1], []))
                (found if hit else missing).append(hit or ref)
                subs.append(hit[0] if hit else (tail.rsplit("/", 1)[0] if "/" in tail else ""))
            sub = max(set(subs), key=subs.count) if subs else e.sub
            target = folders.setdefault(sub, Delivery(sub))
            target.listed = target.listed or []
            for other_sub, obj in found:
                if obj not in target.listed:
                    target.listed.append(obj)
                if other_sub != sub:
                    folders[other_sub].files.remove(obj)
            target.pointer = target.pointer or e.sub != sub
            if missing and not target.problems:      # one message per delivery, not one per manifest naming it
                target.problems.append((e.obj, (
                    f"CUR manifest {e.obj.uri} lists {len(info.refs)} data files but {len(missing)} do not exist "
                    f"(first: {missing[0]}). The export may still be being written: run `costwarden ingest` again "
                    "later; this billing period keeps its previous data, the others were loaded.")))
        target.manifests.append(e)
        target.version = info.version or target.version

    def _tail(self, ref: str) -> str:
        """The part of a listed key after the billing-period folder, to match it with the objects we listed."""
        match = None
        for match in self.period_folder.finditer(ref):
            pass
        return ref[match.end():] if match else ref.rsplit("/", 1)[-1]

    def _version_at(self, d: Delivery) -> datetime | None:
        own = [m.obj.modified for m in d.manifests if m.sub == d.sub]
        times = own or [m.obj.modified for m in d.manifests] or [f.modified for f in d.files]
        stamp = self.folder_time(d.sub) or (max(times) if times else None)
        return naive_utc(stamp) if stamp else datetime.min

    # -- outcomes
    def _set_aside(self, objects: list[SourceObject], version, group: PeriodObjects, ctx: LoadContext) -> None:
        for obj in objects:
            if not ctx.already_loaded(obj):
                ctx.record_object(obj, "superseded", dataset=group.dataset, billing_period=group.period,
                                  version=version)
            ctx.skip_object(obj)

    def _fail(self, chosen: Delivery, failures: list[tuple[SourceObject, str]], ctx: LoadContext) -> None:
        failed: dict[str, str] = {}
        for obj, message in failures:
            failed.setdefault(obj.uri, message)
        for obj in chosen.objects():
            if obj.uri in failed:
                ctx.file_failed(obj, failed.pop(obj.uri))
            else:
                ctx.skip_object(obj)     # waits for the rest of its delivery; not in the ledger, so retried

    def stage(self, ctx: LoadContext, obj: SourceObject, path: Path) -> StagedFile:
        if not obj.name.lower().endswith(".zip"):
            return stage_file(ctx, obj, path)
        try:
            with zipfile.ZipFile(path) as archive, tempfile.TemporaryDirectory(prefix="costwarden-") as tmp:
                member = next(n for n in archive.namelist() if not n.endswith("/"))
                return stage_file(ctx, obj, Path(archive.extract(member, tmp)), file_kind(member) or "csv")
        except (zipfile.BadZipFile, StopIteration, OSError) as exc:
            raise BadInputError(f"{obj.uri} is not a readable zip file ({exc or 'empty'}); re-deliver it.") from None

    def _replace(self, group: PeriodObjects, chosen: Delivery, ctx: LoadContext) -> None:
        params: dict = {}
        selects, staged, failures = [], [], []
        for obj in chosen.files:
            try:
                with ctx.fetcher.local_path(obj) as path:
                    staged.append(self.stage(ctx, obj, path))
                columns = FileColumns(ctx.con, staged[-1])
                columns.check_mandatory(obj.uri)
                selects.append(cost_select(columns, params))
            except (BadInputError, SourceError) as exc:
                failures.append((obj, f"{exc} Billing period {group.period:%Y-%m} of {group.dataset} keeps its "
                                      "previous data until every file of the delivery loads."))
        try:
            if failures:
                self._fail(chosen, failures, ctx)
                return
            own = [m.obj.uri for m in chosen.manifests if m.sub == chosen.sub] + [m.obj.uri for m in chosen.manifests]
            ctx.replace_billing_period(
                dataset=group.dataset, billing_period=group.period, version=chosen.version,
                version_at=chosen.version_at, manifest_uri=own[0] if own else None,
                source_sql="\nunion all\n".join(selects), params=params)
            loaded_by = dict(ctx.con.execute(
                "select _source_object, count(*) from raw.cost_lines where dataset = ? and billing_period = ? "
                "group by 1", [group.dataset, group.period]).fetchall())
            quarantined_by = dict(ctx.con.execute(
                "select object_uri, count(*) from meta.quarantine where load_id = ? group by 1",
                [ctx.load_id]).fetchall())
            for obj in chosen.objects():
                loaded, quarantined = loaded_by.get(obj.uri, 0), quarantined_by.get(obj.uri, 0)
                ctx.record_object(obj, read=loaded + quarantined, loaded=loaded, quarantined=quarantined,
                                  dataset=group.dataset, billing_period=group.period, version=chosen.version)
                ctx.counts.files_loaded += 1
                ctx._advance(files=1)
        finally:
            for table in staged:
                drop(ctx, table)
