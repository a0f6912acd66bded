"""The cost of one rate-limit hit (Store.hit), paid once per login and per issued ticket.

    .venv/bin/python bench/bench_limits.py [--quick] [--no-doc] [--stores sqlite,redis]

Each hit is one atomic write (a SQLite transaction with synchronous=FULL, or
one Redis script under appendfsync always), timed from the caller.
"""

from __future__ import annotations

import tempfile
import time

import benchlib
from benchlib import ms, pct, table

from satupintu.store.base import Store


def run(store: Store, n: int) -> list[float]:
    """Seconds of `n` hits over five keys (a limit never reached)."""
    times = []
    for i in range(n):
        started = time.perf_counter()
        store.hit(f"issue:kiosk{i % 5}", 10**9, 60, time.time())
        times.append(time.perf_counter() - started)
    return times


def main() -> None:
    args = benchlib.parser(__doc__.splitlines()[0]).parse_args()
    n = 50 if args.quick else 1000
    rows = []
    for name in args.stores.split(","):
        if name == "sqlite":
            from satupintu.store.sqlite import SQLiteStore

            store: Store = SQLiteStore(tempfile.mkdtemp(prefix="satupintu-bench-") + "/b.db")
            times = run(store, n)
            store.close()
        else:
            from satupintu.store.redis import RedisStore

            with benchlib.redis_server() as server:
                store = RedisStore(server.url)
                times = run(store, n)
                store.close()
        rows.append([name, f"{n:,}", ms(pct(times, 50)), ms(pct(times, 99))])
    lines = [
        "## Rate limits in the store (`bench/bench_limits.py`)",
        "",
        "One `Store.hit` (the atomic check-and-count of the login and issuing limits), as a "
        "login or an issued ticket pays it once on top of its own work.",
        "",
        *table(["store", "hits", "p50 ms", "p99 ms"], rows),
        "",
        *benchlib.environment(),
    ]
    benchlib.report(args, "limits", lines)


if __name__ == "__main__":
    main()
