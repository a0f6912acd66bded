"""Shared helpers of the benchmarks: machine facts, percentiles, stores, the doc writer.

Each benchmark prints its figures and (unless --quick or --no-doc) replaces its
own section of docs/performance.md, between `<!-- bench:NAME -->` and
`<!-- /bench:NAME -->`, so scripts never overwrite each other's sections.
"""

from __future__ import annotations

import argparse
import dataclasses
import math
import os
import platform
import shlex
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from importlib import metadata
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:  # run as `python bench/x.py`: make satupintu and tests importable
    sys.path.insert(0, str(ROOT))

DOC = ROOT / "docs" / "performance.md"
DOC_HEAD = """# Performance

Figures measured by the scripts in `bench/`; each section says the machine,
the versions, the date and the exact command that reproduces it. CI does not
run the benchmarks (`tests/bench/` runs a quick smoke mode of each so they
keep working).

The machine these were measured on is small (2 cores) and **shared** with
other work, so absolute figures are noisy: compare the ratios *within one run*
(SQLite vs Redis, HTTP vs engine, threading vs gevent), which the scripts
print side by side.
"""


# -- arguments and machine facts ---------------------------------------------


def parser(description: str) -> argparse.ArgumentParser:
    """An argument parser with the flags every benchmark takes."""
    p = argparse.ArgumentParser(description=description)
    p.add_argument(
        "--quick",
        action="store_true",
        help="tiny sizes, to check the script works (never writes the doc)",
    )
    p.add_argument("--no-doc", action="store_true", help="print only; leave the doc alone")
    p.add_argument("--stores", default="sqlite,redis", help="comma-separated: sqlite,redis")
    return p


def command() -> str:
    """The command line that reproduces this run, relative to the repository root."""
    script = os.path.relpath(Path(sys.argv[0]).resolve(), ROOT)
    return " ".join([".venv/bin/python", shlex.quote(script), *map(shlex.quote, sys.argv[1:])])


def cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def ram_gib() -> float:
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal:"):
                return int(line.split()[1]) / 1024 / 1024
    except OSError:
        pass
    return 0.0


def version(package: str) -> str:
    try:
        return metadata.version(package)
    except metadata.PackageNotFoundError:
        return "not installed"


def redis_server_version() -> str:
    try:
        out = subprocess.run(
            ["redis-server", "--version"], capture_output=True, text=True, check=True
        ).stdout
    except (OSError, subprocess.CalledProcessError):
        return "not installed"
    return next((w[2:] for w in out.split() if w.startswith("v=")), out.strip())


def environment(packages: tuple[str, ...] = ("redis",)) -> list[str]:
    """Markdown bullet lines: machine, versions, date, load."""
    pkgs = ", ".join(f"{p} {version(p)}" for p in ("satupintu", *packages))
    load = os.getloadavg()
    return [
        f"- machine: {os.cpu_count()} cores, {ram_gib():.0f} GiB RAM, {cpu_model()}, "
        f"{platform.system()} {platform.release()}",
        f"- Python {platform.python_version()}, redis-server {redis_server_version()}, {pkgs}",
        f"- date: {datetime.now(UTC).strftime('%Y-%m-%d %H:%M UTC')}; "
        f"load average at the end: {load[0]:.2f} {load[1]:.2f} {load[2]:.2f}",
        f"- command: `{command()}`",
    ]


# -- numbers -----------------------------------------------------------------


def pct(values: list[float], p: float) -> float:
    """The p-th percentile (nearest rank) of `values`."""
    if not values:
        return float("nan")
    ordered = sorted(values)
    rank = math.ceil(p / 100 * len(ordered))  # 1-based
    return ordered[max(0, min(len(ordered), rank) - 1)]


def ms(seconds: float) -> str:
    return f"{seconds * 1000:.2f}"


def summary(latencies: list[float]) -> dict[str, float]:
    """p50, p99, max and mean of latencies in seconds."""
    return {
        "p50": pct(latencies, 50),
        "p99": pct(latencies, 99),
        "max": max(latencies, default=float("nan")),
        "mean": statistics.fmean(latencies) if latencies else float("nan"),
        "n": len(latencies),
    }


def table(header: list[str], rows: list[list[Any]]) -> list[str]:
    """A markdown table."""
    lines = ["| " + " | ".join(header) + " |", "|" + "|".join(" --- " for _ in header) + "|"]
    lines += ["| " + " | ".join(str(c) for c in row) + " |" for row in rows]
    return lines


# -- stores and config --------------------------------------------------------


def bench_config(quota: int = 1_000_000):
    """The demo office's config.toml with a daily quota big enough for a very long day."""
    from satupintu.config import load_config

    config = load_config(ROOT / "config.toml")
    services = tuple(dataclasses.replace(s, daily_quota=quota) for s in config.services)
    return dataclasses.replace(config, services=services)


@contextmanager
def redis_server(fsync: str = "always") -> Iterator[Any]:
    """A private redis-server (AOF on, appendfsync `fsync`) in a temporary directory."""
    import redis

    from tests.redis_server import RedisServer

    server = RedisServer(tempfile.mkdtemp(prefix="satupintu-bench-redis-")).start()
    try:
        if fsync != "always":
            redis.Redis.from_url(server.url).config_set("appendfsync", fsync)
        yield server
    finally:
        server.stop()


def set_fsync(url: str, fsync: str) -> None:
    import redis

    client = redis.Redis.from_url(url)
    client.config_set("appendfsync", fsync)
    client.close()


def wipe_redis(url: str) -> None:
    import redis

    client = redis.Redis.from_url(url)
    client.flushdb()
    client.close()


class BenchClock:
    """Real elapsed time, anchored at 09:00 Asia/Jakarta of a fixed day (no midnight rollover)."""

    def __init__(self, start: float = 1_764_640_800.0):  # 2025-12-02 09:00 WIB
        self.start = start
        self.t0 = time.monotonic()

    def __call__(self) -> float:
        return self.start + (time.monotonic() - self.t0)


# -- servers (satupintu serve) ---------------------------------------------------


def write_server_config(
    path: Path,
    kind: str,
    redis_url: str | None,
    async_mode: str = "threading",
    threads: int = 50,
    counters_toml: str | None = None,
    **server_keys: int,
) -> Path:
    """config.toml for a benchmark server: the demo office, no issue rate limit,
    the largest daily quota the config allows, optionally other counters."""
    import re

    from satupintu.config import load_config
    from tests.serverproc import write_config

    write_config(
        path,
        redis_url if kind == "redis" else None,
        async_mode,
        threads,
        issue_per_minute=100_000,
        **server_keys,
    )
    text = path.read_text(encoding="utf-8")
    text = re.sub(r"^daily_quota = \d+", "daily_quota = 100000", text, flags=re.MULTILINE)
    if counters_toml:
        text = re.sub(
            r'^\[\[counters\]\]\nid = "[^"]*"\nname = "[^"]*"\n', "", text, flags=re.MULTILINE
        )
        text = text.rstrip("\n") + "\n\n" + counters_toml
    path.write_text(text, encoding="utf-8")
    load_config(path)
    return path


def start_servers(
    work: Path,
    kind: str,
    redis_url: str | None,
    processes: int = 1,
    async_mode: str = "threading",
    threads: int = 50,
    counters_toml: str | None = None,
    users: dict[str, str] | None = None,
    **server_keys: int,
) -> list[Any]:
    """Start `processes` serve processes on one store (SQLite: one only), users added first.

    `users` maps username -> role; every user's password is tests.serverproc.PASSWORD.
    """
    from tests.serverproc import ServerProcess

    if kind == "sqlite" and processes != 1:
        raise ValueError("SQLite is one server process")
    work.mkdir(parents=True, exist_ok=True)
    config = write_server_config(
        work / "config.toml", kind, redis_url, async_mode, threads, counters_toml, **server_keys
    )
    servers = [
        ServerProcess(work / f"p{i}", config_path=config, data_dir=work / "var")
        for i in range(processes)
    ]
    for name, role in (users or {}).items():  # shared store: adding once is enough
        servers[0].add_user(name, role)
    started = []
    try:
        for server in servers:
            started.append(server.start())
    except BaseException:
        for server in started:
            server.kill()
        raise
    return servers


# -- the doc -------------------------------------------------------------------


def write_section(name: str, lines: list[str], path: Path = DOC) -> None:
    """Replace (or append) this benchmark's section of docs/performance.md."""
    start, end = f"<!-- bench:{name} -->", f"<!-- /bench:{name} -->"
    body = "\n".join([start, *lines, end])
    text = path.read_text() if path.exists() else DOC_HEAD
    if start in text and end in text:
        before, rest = text.split(start, 1)
        after = rest.split(end, 1)[1]
        text = before + body + after
    else:
        text = text.rstrip("\n") + "\n\n" + body + "\n"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)


def report(args: argparse.Namespace, name: str, lines: list[str]) -> None:
    """Print the section; write it into the doc unless --quick or --no-doc."""
    print("\n".join(lines))
    if not (args.quick or args.no_doc):
        write_section(name, lines)
        print(f"\nwrote section {name!r} of {os.path.relpath(DOC, ROOT)}")
