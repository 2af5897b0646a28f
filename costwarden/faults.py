"""Named points where a test can kill this process for real (SIGKILL), to prove loads are atomic.

Set COSTWARDEN_KILL_AT=<point> (e.g. `ingest:after-batch`, `ingest:before-commit`) in a subprocess's environment;
when execution reaches that point the process dies at once, with no cleanup, exactly like `kill -9` or a lost
machine. Unset (always, outside tests) it does nothing.
"""

from __future__ import annotations

import os
import signal


def checkpoint(point: str) -> None:
    if os.environ.get("COSTWARDEN_KILL_AT") == point:
        os.kill(os.getpid(), signal.SIGKILL)
