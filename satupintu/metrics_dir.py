"""Where this machine's serve processes keep prometheus_client's multiprocess files.

Kept apart from metrics.py because it must run before prometheus_client is
imported: the library picks its value class from the environment at import.
"""

from __future__ import annotations

import hashlib
import os
import tempfile
from pathlib import Path
from typing import Any


def default_dir(data_dir: str) -> Path:
    """The metrics files' folder for a data folder: in RAM (/dev/shm), never on the data disk.

    prometheus_client grows its files sparsely and writes them through mmap, so on a
    full filesystem the write faults and the worker dies of SIGBUS instead of the
    store answering 503; RAM is also where files rewritten on every request belong.
    One folder per data folder, so the serve processes of one office share it.
    """
    tag = hashlib.sha1(str(Path(data_dir).resolve()).encode()).hexdigest()[:12]
    shm = Path("/dev/shm")
    base = shm if shm.is_dir() and os.access(shm, os.W_OK) else Path(tempfile.gettempdir())
    return base / f"satupintu-metrics-{tag}"


def use_metrics_dir(config: Any, data_dir: str) -> Path:
    """Point PROMETHEUS_MULTIPROC_DIR at `[metrics] dir` (default `default_dir`); clean it."""
    path = Path(config.metrics.dir) if config.metrics.dir else default_dir(data_dir)
    path.mkdir(parents=True, exist_ok=True)
    # Files of processes that are gone: without this every restart would leave ~1 MiB
    # per metric kind behind for years, and every scrape would read them all. Their
    # counters drop out of the sum, which Prometheus' rate() reads as a counter reset.
    for stale in path.glob("*_*.db"):
        pid = stale.stem.rsplit("_", 1)[-1]
        if pid.isdigit() and not _alive(int(pid)):
            stale.unlink(missing_ok=True)
    os.environ["PROMETHEUS_MULTIPROC_DIR"] = str(path)
    return path


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True
