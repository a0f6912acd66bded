"""Where this machine's serve processes keep prometheus_client's multiprocess files.

Kept apart from metrics.py because it must run before prometheus_client is
imported: the library picks its value class from the environment at import.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any


def use_metrics_dir(config: Any, data_dir: str) -> Path:
    """Point PROMETHEUS_MULTIPROC_DIR at `[metrics] dir` (default DATA/metrics); clean it."""
    path = Path(config.metrics.dir or os.path.join(data_dir, "metrics"))
    path.mkdir(parents=True, exist_ok=True)
    for stale in path.glob("gauge_live*_*.db"):  # live gauges of processes that are gone
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
