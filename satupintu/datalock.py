"""One server per SQLite data folder: an advisory lock file held while serving.

SQLite is one server process (docs/decisions.md); `satupintu serve` holds an
exclusive flock on DATA/satupintu.lock for its whole life (gunicorn's worker
inherits it), so a second `serve`, a `migrate` or a `restore` on the same
folder is refused with the holder's pid instead of running beside it. The
kernel drops the lock when the process dies, even on SIGKILL or a power cut:
no stale lock to clean up.
"""

from __future__ import annotations

import fcntl
import os
from pathlib import Path
from typing import IO

LOCK_NAME = "satupintu.lock"


class FolderHeld(Exception):
    """Another process holds the data folder."""


class DataDirLock:
    """An exclusive, non-blocking lock on a data folder."""

    def __init__(self, data_dir: str | Path, purpose: str):
        self.path = Path(data_dir) / LOCK_NAME
        self.purpose = purpose
        self._fh: IO[str] | None = None

    def acquire(self) -> DataDirLock:
        """Take the lock or raise FolderHeld naming the holder."""
        self.path.parent.mkdir(parents=True, exist_ok=True)
        fh = open(self.path, "a+")  # noqa: SIM115 - kept open while held
        try:
            fcntl.flock(fh, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            fh.seek(0)
            holder = fh.read().strip() or "another process"
            fh.close()
            raise FolderHeld(f"{self.path.parent} is in use by {holder}") from None
        fh.seek(0)
        fh.truncate()
        fh.write(f"pid {os.getpid()} ({self.purpose})\n")
        fh.flush()
        self._fh = fh
        return self

    def release(self) -> None:
        """Give the lock up (also happens when the process exits)."""
        if self._fh is not None:
            fcntl.flock(self._fh, fcntl.LOCK_UN)
            self._fh.close()
            self._fh = None

    def __enter__(self) -> DataDirLock:
        return self.acquire()

    def __exit__(self, *exc: object) -> None:
        self.release()
