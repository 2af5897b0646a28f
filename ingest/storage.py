"""Where source objects live: a local file or folder, or an S3 (or S3-compatible) bucket prefix.

Lists objects with a stable identity (URI + ETag or content checksum) for the ledger, and gives ingestors a local
path to read. S3 goes through boto3's standard credential chain; `[s3] endpoint_url` points it at MinIO or moto.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import shutil
import tempfile
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Iterator

from costwarden.config import S3Settings
from costwarden.errors import SourceError

_CHUNK = 4 * 1024 * 1024


@dataclass(frozen=True)
class SourceObject:
    uri: str             # s3://bucket/key or an absolute local path
    relpath: str         # path below the source root, with '/' separators (what format detection looks at)
    size: int
    etag: str
    modified: datetime

    @property
    def name(self) -> str:
        return self.relpath.rsplit("/", 1)[-1]


def is_s3(uri: str) -> bool:
    return uri.startswith("s3://")


def split_s3(uri: str) -> tuple[str, str]:
    bucket, _, key = uri[len("s3://"):].partition("/")
    if not bucket:
        raise SourceError(f"{uri} is not an S3 URI; write it as s3://bucket/prefix.")
    return bucket, key


def s3_client(settings: S3Settings):
    import boto3  # boto3 is slow to import; only S3 users pay for it

    kwargs = {"region_name": settings.region or None}
    if settings.endpoint_url:
        kwargs["endpoint_url"] = settings.endpoint_url
    return boto3.client("s3", **kwargs)


def list_objects(uri: str, s3: S3Settings) -> list[SourceObject]:
    """Every object under the URI, sorted by path. Raises SourceError naming the URI when it cannot be listed."""
    if is_s3(uri):
        return _list_s3(uri, s3)
    return _list_local(Path(uri))


def _list_local(root: Path) -> list[SourceObject]:
    if not root.exists():
        raise SourceError(f"{root} does not exist. Pass a file, a folder or an s3://bucket/prefix.")
    root = root.resolve()
    files = [root] if root.is_file() else sorted(p for p in root.rglob("*") if p.is_file())
    base = root.parent if root.is_file() else root
    objects = []
    for path in files:
        stat = path.stat()
        objects.append(SourceObject(
            uri=str(path), relpath=path.relative_to(base).as_posix(), size=stat.st_size,
            etag=_checksum(path), modified=datetime.fromtimestamp(stat.st_mtime, tz=timezone.utc)))
    return objects


def _checksum(path: Path) -> str:
    digest = hashlib.blake2b(digest_size=16)
    with path.open("rb") as handle:
        while chunk := handle.read(_CHUNK):
            digest.update(chunk)
    return digest.hexdigest()


def _list_s3(uri: str, settings: S3Settings) -> list[SourceObject]:
    from botocore.exceptions import BotoCoreError, ClientError

    bucket, prefix = split_s3(uri)
    client = s3_client(settings)
    objects = []
    try:
        for page in client.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=prefix):
            for item in page.get("Contents", []):
                key = item["Key"]
                if key.endswith("/"):
                    continue
                rel = key[len(prefix):].lstrip("/") if prefix and key.startswith(prefix) else key
                rel = rel or key.rsplit("/", 1)[-1]
                objects.append(SourceObject(uri=f"s3://{bucket}/{key}", relpath=rel, size=item["Size"],
                                            etag=item["ETag"].strip('"'), modified=item["LastModified"]))
    except (BotoCoreError, ClientError) as exc:
        raise SourceError(f"cannot list {uri}: {exc}. Check the bucket name, AWS credentials "
                          "(AWS_PROFILE or AWS_ACCESS_KEY_ID) and [s3] endpoint_url.") from None
    return sorted(objects, key=lambda o: o.relpath)


class Fetcher:
    """Gives a local path for each object; S3 objects are downloaded into a private temp folder."""

    def __init__(self, s3: S3Settings):
        self._s3 = s3
        self._client = None
        self._tmp: str | None = None

    def __enter__(self) -> "Fetcher":
        return self

    def __exit__(self, *exc) -> None:
        if self._tmp:
            shutil.rmtree(self._tmp, ignore_errors=True)

    @contextlib.contextmanager
    def local_path(self, obj: SourceObject) -> Iterator[Path]:
        if not is_s3(obj.uri):
            yield Path(obj.uri)
            return
        from botocore.exceptions import BotoCoreError, ClientError

        if self._client is None:
            self._client = s3_client(self._s3)
        if self._tmp is None:
            self._tmp = tempfile.mkdtemp(prefix="costwarden-s3-")
        bucket, key = split_s3(obj.uri)
        target = Path(self._tmp) / key.replace("/", "__")
        try:
            self._client.download_file(bucket, key, str(target))
        except (BotoCoreError, ClientError) as exc:
            raise SourceError(f"cannot download {obj.uri}: {exc}") from None
        try:
            yield target
        finally:
            with contextlib.suppress(FileNotFoundError):
                os.remove(target)

    def read_bytes(self, obj: SourceObject) -> bytes:
        if not is_s3(obj.uri):
            return Path(obj.uri).read_bytes()
        from botocore.exceptions import BotoCoreError, ClientError

        if self._client is None:
            self._client = s3_client(self._s3)
        bucket, key = split_s3(obj.uri)
        try:
            # One GET into memory: no temp file, and about half the per-object overhead of download_file.
            return self._client.get_object(Bucket=bucket, Key=key)["Body"].read()
        except (BotoCoreError, ClientError) as exc:
            raise SourceError(f"cannot download {obj.uri}: {exc}") from None
