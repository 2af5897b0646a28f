"""A local S3 server for the demo (moto's, on 127.0.0.1 and a free port), so the demo ingests from s3:// URIs
through the same code path as a real bucket. Dummy credentials are set for the run and restored afterwards.
"""

from __future__ import annotations

import contextlib
import logging
import os
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Iterator

from costwarden.errors import CostwardenError

_DUMMY_ENV = {"AWS_ACCESS_KEY_ID": "costwarden-demo", "AWS_SECRET_ACCESS_KEY": "costwarden-demo",
              "AWS_DEFAULT_REGION": "us-east-1"}
# Real credentials or profiles must not leak into (or be used against) the throwaway server.
_CLEARED_ENV = ("AWS_SESSION_TOKEN", "AWS_PROFILE", "AWS_ENDPOINT_URL", "AWS_ENDPOINT_URL_S3")


@contextlib.contextmanager
def dummy_credentials() -> Iterator[None]:
    saved = {k: os.environ.get(k) for k in (*_DUMMY_ENV, *_CLEARED_ENV)}
    os.environ.update(_DUMMY_ENV)
    for key in _CLEARED_ENV:
        os.environ.pop(key, None)
    try:
        yield
    finally:
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value


@contextlib.contextmanager
def local_s3() -> Iterator[str]:
    """Start the server; yields its endpoint URL (http://127.0.0.1:PORT) and stops it on exit."""
    try:
        from moto.server import ThreadedMotoServer
    except ImportError:
        raise CostwardenError("the demo's local S3 server needs moto: pip install 'moto[server]', or run "
                              "`costwarden demo --local DIR` to use a folder instead.") from None
    # The server's HTTP access log (one line per request, thousands in a demo) is noise for the user.
    logging.getLogger("werkzeug").setLevel(logging.ERROR)
    with dummy_credentials():
        server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
        server.start()
        try:
            host, port = server.get_host_and_port()
            yield f"http://{host}:{port}"
        finally:
            server.stop()


class Uploader:
    """Uploads files of a folder to a bucket on a thread pool while they are still being generated: `put(path)`
    as each file is written, then `sync()` for whatever is left. Keys are paths relative to the folder."""

    def __init__(self, endpoint: str, bucket: str, folder: Path, workers: int = 4):
        import boto3

        self.client = boto3.client("s3", endpoint_url=endpoint, region_name="us-east-1")
        with contextlib.suppress(self.client.exceptions.BucketAlreadyOwnedByYou):
            self.client.create_bucket(Bucket=bucket)
        self.bucket, self.folder = bucket, folder
        self._pool = ThreadPoolExecutor(max_workers=workers)
        self._jobs: dict[Path, object] = {}

    def put(self, path: Path) -> None:
        self._jobs[path] = self._pool.submit(self._send, path)

    def put_bytes(self, key: str, data: bytes) -> None:
        self.client.put_object(Bucket=self.bucket, Key=key, Body=data)

    def _send(self, path: Path) -> None:
        self.put_bytes(path.relative_to(self.folder).as_posix(), path.read_bytes())

    def sync(self) -> int:
        """Upload the files not sent yet, wait for every upload (raising the first error). Returns files sent."""
        for path in sorted(p for p in self.folder.rglob("*") if p.is_file()):
            if path not in self._jobs:
                self.put(path)
        for job in self._jobs.values():
            job.result()
        return len(self._jobs)

    def close(self) -> None:
        self._pool.shutdown(wait=True, cancel_futures=True)
