"""The engine alone (no HTTP): issue and call-next operations per second on each store,
and issue latency as the day's tickets grow to 100,000.

    .venv/bin/python bench/bench_engine.py            # full run (a few minutes), writes the doc
    .venv/bin/python bench/bench_engine.py --quick    # seconds; smoke test, prints only

Redis runs as a private redis-server with AOF and appendfsync always (production
settings); the issue/call-next figures are repeated with appendfsync everysec as
a ratio. SQLite runs on a file in a temporary directory on the local disk, WAL,
synchronous=FULL (the store's settings).

Flatness: the day is pre-filled through the store directly (fast, not timed), then
engine.issue is timed at each fill level. Two shapes of day:
  served    every pre-filled ticket is done, so the waiting line stays short
            (a long, busy day: what an office or a central server really sees);
  unserved  every pre-filled ticket is still waiting (worst case: nobody calls).
"""

from __future__ import annotations

import itertools
import shutil
import sys
import tempfile
import time
from pathlib import Path

import benchlib
from benchlib import ms, pct, table

from satupintu.engine import Engine
from satupintu.model import Ticket, TicketStatus
from satupintu.store.base import Change, Store

PREFILL_BATCH = 1000
_prefilled = itertools.count()


def open_store(kind: str, directory: Path, url: str) -> Store:
    if kind == "sqlite":
        from satupintu.store.sqlite import SQLiteStore

        return SQLiteStore(directory / f"bench-{time.monotonic_ns()}.db")
    from satupintu.store.redis import RedisStore

    benchlib.wipe_redis(url)
    return RedisStore(url)


def new_engine(kind: str, directory: Path, url: str) -> Engine:
    return Engine(benchlib.bench_config(), open_store(kind, directory, url), benchlib.BenchClock())


# -- throughput ----------------------------------------------------------------


def time_issues(engine: Engine, n: int) -> tuple[list[float], float]:
    """Issue n tickets round-robin over the services; (latencies, wall seconds)."""
    services = engine.config.service_ids
    latencies = []
    wall = time.perf_counter()
    for i in range(n):
        t0 = time.perf_counter()
        engine.issue(services[i % len(services)])
        latencies.append(time.perf_counter() - t0)
    return latencies, time.perf_counter() - wall


def time_call_next(engine: Engine, n: int) -> tuple[list[float], list[float], float]:
    """Open every counter, then call-next and complete n times round the counters.

    Returns (call-next latencies, complete latencies, wall seconds of the whole loop).
    """
    counters = [c.id for c in engine.config.counters]
    for c in counters:
        engine.open_counter(c, clerk=f"clerk{c}")
    calls, completes = [], []
    wall = time.perf_counter()
    for i in range(n):
        counter = counters[i % len(counters)]
        t0 = time.perf_counter()
        out = engine.call_next(counter)
        t1 = time.perf_counter()
        if out.ticket is None:
            raise RuntimeError("nobody waiting: issue more tickets before calling")
        engine.complete(counter)
        calls.append(t1 - t0)
        completes.append(time.perf_counter() - t1)
    return calls, completes, time.perf_counter() - wall


def throughput(kind: str, directory: Path, url: str, n: int) -> dict[str, float]:
    engine = new_engine(kind, directory, url)
    try:
        issue_lat, issue_wall = time_issues(engine, n)
        call_lat, done_lat, _ = time_call_next(engine, n)
    finally:
        engine.store.close()
    return {
        "issue_ops": n / issue_wall,
        "issue_p50": pct(issue_lat, 50),
        "issue_p99": pct(issue_lat, 99),
        "call_ops": n / sum(call_lat),
        "call_p50": pct(call_lat, 50),
        "call_p99": pct(call_lat, 99),
        "complete_p50": pct(done_lat, 50),
    }


# -- flatness ------------------------------------------------------------------


def mark_done(store: Store, tickets: list[Ticket], now: float) -> None:
    """Move waiting tickets straight to done (pre-fill only; no engine rules needed)."""
    for t in tickets:
        done = t.evolve(
            status=TicketStatus.DONE,
            counter="1",
            called_at=now - 600,
            started_at=now - 590,
            finished_at=now,
        )
        store.commit(t.branch, Change(tickets=[(t, done)]))


def prefill(engine: Engine, n: int, served: bool) -> None:
    """Add n tickets to the day through the store (batched, untimed)."""
    store, services = engine.store, engine.config.services
    now = engine.clock()
    day = engine.today(now)
    made = 0
    while made < n:
        batch = min(PREFILL_BATCH, n - made)
        with store.atomic():  # SQLite: one transaction (one fsync) per batch
            issued = []
            for i in range(batch):
                s = services[(made + i) % len(services)]
                draft = Ticket(
                    id=f"pre{next(_prefilled):08d}",
                    branch=engine.branch,
                    day=day,
                    number="",
                    service=s.id,
                    origin_service=s.id,
                    priority="",
                    status=TicketStatus.WAITING,
                    sort_key=0,
                    issued_at=now,
                )
                issued.append(store.issue(draft, s.prefix, s.daily_quota, seq_count=1).ticket)
            if served:
                mark_done(store, issued, now)
        made += batch


def flatness(
    kind: str, directory: Path, url: str, served: bool, levels: list[int], samples: int
) -> list[dict[str, float]]:
    """engine.issue latency (p50, p99) at each fill level of the day."""
    engine = new_engine(kind, directory, url)
    services = engine.config.service_ids
    fill = 0
    rows = []
    try:
        for level in levels:
            if kind == "redis":  # pre-fill fast, measure with production durability
                benchlib.set_fsync(url, "no")
            prefill(engine, max(0, level - fill), served)
            if kind == "redis":
                benchlib.set_fsync(url, "always")
            fill = level
            latencies, measured = [], []
            for i in range(samples):
                t0 = time.perf_counter()
                out = engine.issue(services[i % len(services)])
                latencies.append(time.perf_counter() - t0)
                measured.append(out.ticket)
            fill += samples
            if served:  # keep the line short for the next level
                mark_done(engine.store, measured, engine.clock())
            rows.append({"level": level, "p50": pct(latencies, 50), "p99": pct(latencies, 99)})
            print(
                f"  {kind} {'served' if served else 'unserved'} {level:>7}: "
                f"p50 {ms(rows[-1]['p50'])} ms  p99 {ms(rows[-1]['p99'])} ms",
                flush=True,
            )
    finally:
        engine.store.close()
    return rows


# -- main ----------------------------------------------------------------------


def main() -> int:
    p = benchlib.parser(__doc__.splitlines()[0])
    p.add_argument("--ops", type=int, default=3000, help="issues and call-nexts per store")
    p.add_argument("--max-day", type=int, default=100_000, help="largest fill level (served)")
    p.add_argument("--step", type=int, default=10_000, help="fill level step (served)")
    p.add_argument(
        "--max-waiting", type=int, default=20_000, help="largest fill level (unserved: all waiting)"
    )
    p.add_argument("--waiting-step", type=int, default=5_000, help="fill level step (unserved)")
    p.add_argument("--samples", type=int, default=300, help="timed issues per fill level")
    args = p.parse_args()
    if args.quick:
        args.ops, args.max_day, args.step, args.samples = 60, 400, 200, 20
        args.max_waiting, args.waiting_step = 400, 200
    stores = [s for s in args.stores.split(",") if s]
    levels = {
        True: list(range(0, args.max_day + 1, args.step)),
        False: list(range(0, args.max_waiting + 1, args.waiting_step)),
    }
    directory = Path(tempfile.mkdtemp(prefix="satupintu-bench-"))
    results: dict[str, dict[str, float]] = {}
    flat: dict[tuple[str, bool], list[dict[str, float]]] = {}
    started = time.monotonic()
    try:
        with benchlib.redis_server() as server:
            for kind in stores:
                print(f"throughput: {kind} ({args.ops} ops)", flush=True)
                results[kind] = throughput(kind, directory, server.url, args.ops)
                if kind == "redis":
                    benchlib.set_fsync(server.url, "everysec")
                    print("throughput: redis, appendfsync everysec", flush=True)
                    results["redis-everysec"] = throughput(kind, directory, server.url, args.ops)
                    benchlib.set_fsync(server.url, "always")
            for served in (True, False):
                for kind in stores:
                    print(f"flatness: {kind} {'served' if served else 'unserved'}", flush=True)
                    flat[(kind, served)] = flatness(
                        kind, directory, server.url, served, levels[served], args.samples
                    )
    finally:
        shutil.rmtree(directory, ignore_errors=True)
    lines = render(args, results, flat, levels, time.monotonic() - started)
    benchlib.report(args, "engine", lines)
    return 0


def render(args, results, flat, levels, seconds: float) -> list[str]:
    lines = ["## Engine alone (no HTTP)", "", *benchlib.environment(), ""]
    lines += [
        f"One thread calling the engine directly, {args.ops} operations per store "
        "(issue round-robin over the 7 demo services; call-next round the 6 counters, "
        "each call followed by an untimed complete). Redis: private redis-server, "
        "AOF with appendfsync always unless noted; SQLite: WAL, synchronous=FULL, "
        f"file on the local ext4 disk. Whole run: {seconds:.0f} s.",
        "",
    ]
    rows = []
    for name, r in results.items():
        rows.append(
            [
                name,
                f"{r['issue_ops']:.0f}",
                ms(r["issue_p50"]),
                ms(r["issue_p99"]),
                f"{r['call_ops']:.0f}",
                ms(r["call_p50"]),
                ms(r["call_p99"]),
            ]
        )
    lines += table(
        [
            "store",
            "issue ops/s",
            "issue p50 ms",
            "issue p99 ms",
            "call-next ops/s",
            "call-next p50 ms",
            "call-next p99 ms",
        ],
        rows,
    )
    ratios = []
    if "sqlite" in results and "redis" in results:
        s, r = results["sqlite"], results["redis"]
        ratios.append(
            f"- Redis / SQLite (same run): issue {r['issue_ops'] / s['issue_ops']:.2f}x, "
            f"call-next {r['call_ops'] / s['call_ops']:.2f}x ops/s."
        )
    if "redis-everysec" in results and "redis" in results:
        a, e = results["redis"], results["redis-everysec"]
        ratios.append(
            f"- Redis appendfsync everysec / always: issue "
            f"{e['issue_ops'] / a['issue_ops']:.2f}x, call-next "
            f"{e['call_ops'] / a['call_ops']:.2f}x ops/s (fsync per write is the "
            "price of never losing an issued ticket)."
        )
    if ratios:
        lines += ["", *ratios]
    lines += [
        "",
        "### Issue latency as the day grows",
        "",
        f"engine.issue p50 (p99) in ms, {args.samples} timed issues at each fill level; "
        "the day is pre-filled through the store, untimed.",
        "",
    ]
    for served, title in (
        (
            True,
            "*Served*: the pre-filled tickets are done, so the waiting "
            "line stays short: the real shape of a long day (one busy "
            "office, or a central server).",
        ),
        (
            False,
            "*Unserved*: every pre-filled ticket is still waiting "
            "(worst case: nobody calls all day).",
        ),
    ):
        cols = [k for (k, s) in flat if s is served]
        if not cols:
            continue
        lines += [title, ""]
        lines += table(
            ["tickets today", *cols],
            [
                [
                    f"{lvl:,}",
                    *[
                        f"{ms(flat[(k, served)][i]['p50'])} ({ms(flat[(k, served)][i]['p99'])})"
                        for k in cols
                    ],
                ]
                for i, lvl in enumerate(levels[served])
            ],
        )
        growth = ", ".join(
            f"{k} {flat[(k, served)][-1]['p50'] / flat[(k, served)][0]['p50']:.2f}x" for k in cols
        )
        lines += ["", f"p50 at {levels[served][-1]:,} / p50 at 0: {growth}.", ""]
    return lines


if __name__ == "__main__":
    sys.exit(main())
