"""SQLite under gevent: store calls on the loop vs on the store's own thread.

Usage: .venv/bin/python bench/bench_sqlite_loop.py [direct|pool] ...

Issues 900 tickets through the engine in a gevent-patched process while a
greenlet ticks every millisecond; prints the issue latency and how late the
ticker woke (how long the event loop, i.e. every websocket, was held up).
`direct` runs SQLite on the loop, `pool` (what `serve` does) on its thread.
"""

from gevent import monkey

monkey.patch_all()

import dataclasses  # noqa: E402
import statistics  # noqa: E402
import sys  # noqa: E402
import tempfile  # noqa: E402
import time  # noqa: E402
from pathlib import Path  # noqa: E402

import gevent  # noqa: E402

from satupintu.config import load_config  # noqa: E402
from satupintu.engine import Engine  # noqa: E402
from satupintu.store.sqlite import SQLiteStore  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
ISSUES = 900


def run(mode: str) -> str:
    store = SQLiteStore(Path(tempfile.mkdtemp()) / "bench.db")
    if mode == "direct":
        store._pool = None  # SQLite on the event loop
    cfg = load_config(ROOT / "config.toml")
    cfg = dataclasses.replace(
        cfg, services=tuple(dataclasses.replace(s, daily_quota=0) for s in cfg.services)
    )
    engine = Engine(cfg, store)
    stalls: list[float] = []

    def ticker() -> None:
        while True:
            start = time.perf_counter()
            gevent.sleep(0.001)
            stalls.append(time.perf_counter() - start - 0.001)

    tick = gevent.spawn(ticker)
    services = [s.id for s in cfg.services]
    times = []
    began = time.perf_counter()
    for i in range(ISSUES):
        start = time.perf_counter()
        engine.issue(services[i % len(services)])
        times.append(time.perf_counter() - start)
        gevent.sleep(0.0005)  # a request's gap: let the loop run
    elapsed = time.perf_counter() - began
    tick.kill()
    store.close()

    def q(xs: list[float], p: int) -> float:
        return statistics.quantiles(xs, n=100)[p - 1] * 1000

    return (
        f"{mode}: issue p50 {q(times, 50):.2f} ms p99 {q(times, 99):.2f} ms, "
        f"{ISSUES / elapsed:.0f}/s; loop late p50 {q(stalls, 50):.2f} ms "
        f"p99 {q(stalls, 99):.2f} ms max {max(stalls) * 1000:.1f} ms"
    )


if __name__ == "__main__":
    for name in sys.argv[1:] or ["direct", "pool"]:
        print(run(name), flush=True)
