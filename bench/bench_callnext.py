"""Eight counters racing `call next` over several services, on each store: per-call latency
p50/p99, and the check that no ticket was claimed twice.

    .venv/bin/python bench/bench_callnext.py           # engine level, both stores
    .venv/bin/python bench/bench_callnext.py --http    # also over HTTP (satupintu serve)
    .venv/bin/python bench/bench_callnext.py --quick   # smoke test, prints only

Each counter is its own process (multiprocessing "spawn"): the eight wait at a
barrier, then loop call-next (timed) and complete (untimed) until the lines are
empty. The tickets are issued before the race. Afterwards every claimed ticket id
must appear exactly once across all counters, every issued ticket must have
been claimed, and the store must show each one done at the counter that claimed it.

Counters 1-4 take every service; 5-6 take KTP-el and KK; 7-8 take PBG, NIB and PBB,
so the counters overlap on some lines and not on others.
Over HTTP: SQLite behind one `satupintu serve` process; Redis behind two, with the
counters split between them (the race crosses processes).
"""

from __future__ import annotations

import dataclasses
import multiprocessing as mp
import shutil
import sys
import tempfile
import time
from collections import Counter as Tally
from pathlib import Path
from typing import Any

import benchlib
from benchlib import ms, pct, table

from satupintu.config import Config, CounterConfig

COUNTERS = 8
ASSIGNMENT = {  # counter id -> services ("" = all)
    "1": "",
    "2": "",
    "3": "",
    "4": "",
    "5": "ktp,kk",
    "6": "ktp,kk",
    "7": "pbg,nib,pbb",
    "8": "pbg,nib,pbb",
}


def race_config() -> Config:
    """The demo office with eight counters over overlapping sets of services."""
    config = benchlib.bench_config()
    counters = tuple(
        CounterConfig(
            cid, f"Loket {cid}", tuple((s, 1) for s in services.split(",")) if services else ()
        )
        for cid, services in ASSIGNMENT.items()
    )
    return dataclasses.replace(config, counters=counters)


def counters_toml() -> str:
    """The same eight counters as config.toml text."""
    out = []
    for cid, services in ASSIGNMENT.items():
        out.append(f'[[counters]]\nid = "{cid}"\nname = "Loket {cid}"')
        if services:
            out[-1] += "\nservices = [" + ", ".join(f'"{s}"' for s in services.split(",")) + "]"
    return "\n\n".join(out) + "\n"


def open_store(kind: str, where: str):
    if kind == "sqlite":
        from satupintu.store.sqlite import SQLiteStore

        return SQLiteStore(where)
    from satupintu.store.redis import RedisStore

    return RedisStore(where)


# -- the racers (child processes) ---------------------------------------------------


def engine_racer(kind: str, where: str, counter: str, barrier: Any, out: Any) -> None:
    """One counter: call-next (timed) and complete until nobody waits for it."""
    import logging

    logging.disable(logging.WARNING)
    from satupintu.engine import Engine

    engine = Engine(race_config(), open_store(kind, where), benchlib.BenchClock())
    claimed, latencies = [], []
    barrier.wait()
    while True:
        t0 = time.perf_counter()
        outcome = engine.call_next(counter)
        latencies.append(time.perf_counter() - t0)
        if outcome.ticket is None:
            latencies.pop()  # the final empty call is not a call
            break
        claimed.append(outcome.ticket.id)
        engine.complete(counter)
    engine.store.close()
    out.put((counter, claimed, latencies))


def http_racer(url: str, token: str, counter: str, barrier: Any, out: Any) -> None:
    """One clerk over HTTP with a keep-alive session."""
    import requests

    http = requests.Session()
    http.headers["Authorization"] = f"Bearer {token}"
    base = f"{url}/api/v1/counters/{counter}"
    claimed, latencies, errors = [], [], Tally()
    barrier.wait()
    while True:
        t0 = time.perf_counter()
        r = http.post(base + "/call-next", timeout=30)
        elapsed = time.perf_counter() - t0
        if r.status_code == 204:
            break
        if r.status_code != 200:
            errors[r.status_code] += 1
            continue
        latencies.append(elapsed)
        claimed.append(r.json()["ticket"]["id"])
        done = http.post(base + "/complete", timeout=30)
        if done.status_code != 200:
            errors[f"complete {done.status_code}"] += 1
    http.close()
    out.put((counter, claimed, latencies, dict(errors)))


def race(target: Any, args_for: Any) -> list[tuple]:
    """Start one spawned process per counter, release them together, collect results."""
    ctx = mp.get_context("spawn")
    barrier, out = ctx.Barrier(COUNTERS), ctx.Queue()
    procs = [ctx.Process(target=target, args=(*args_for(c), barrier, out)) for c in ASSIGNMENT]
    for p in procs:
        p.start()
    results = [out.get(timeout=600) for _ in procs]
    for p in procs:
        p.join(30)
    return results


def check(results: list[tuple], issued: set[str]) -> tuple[int, int, int]:
    """(claimed, claimed twice, never claimed); the race must give (len(issued), 0, 0)."""
    counts = Tally(tid for r in results for tid in r[1])
    twice = sum(1 for n in counts.values() if n > 1)
    return sum(counts.values()), twice, len(issued - set(counts))


def verify_store(kind: str, where: str, results: list[tuple]) -> int:
    """Tickets whose stored state disagrees with who claimed them (must be 0)."""
    from satupintu.engine import Engine

    engine = Engine(race_config(), open_store(kind, where), benchlib.BenchClock())
    bad = 0
    for counter, claimed, *_ in results:
        for tid in claimed:
            t = engine.store.ticket(engine.branch, tid)
            bad += t is None or t.status.value != "done" or t.counter != counter
    engine.store.close()
    return bad


def issue_all(kind: str, where: str, n: int, real_clock: bool = False) -> set[str]:
    """Issue n tickets round-robin over the services through the engine; their ids.

    `real_clock`: for a server, which numbers the day by the real date.
    """
    from satupintu.engine import Engine

    clock = time.time if real_clock else benchlib.BenchClock()
    engine = Engine(race_config(), open_store(kind, where), clock)
    services = engine.config.service_ids
    ids = {engine.issue(services[i % len(services)]).ticket.id for i in range(n)}
    for cid in ASSIGNMENT:
        engine.open_counter(cid, clerk=f"clerk{cid}")
    engine.store.close()
    return ids


def summarize(
    label: str, results: list[tuple], issued: set[str], wall: float, bad_in_store: int
) -> dict[str, Any]:
    latencies = [x for r in results for x in r[2]]
    claimed, twice, missed = check(results, issued)
    errors: Tally = Tally()
    for r in results:
        if len(r) > 3:
            errors.update(r[3])
    row = {
        "label": label,
        "tickets": len(issued),
        "claimed": claimed,
        "twice": twice,
        "missed": missed,
        "bad": bad_in_store,
        "p50": pct(latencies, 50),
        "p99": pct(latencies, 99),
        "max": max(latencies, default=0.0),
        "rate": claimed / wall,
        "errors": dict(errors),
    }
    print(
        f"  {label}: {claimed}/{len(issued)} claimed, twice {twice}, missed {missed}, "
        f"store mismatches {bad_in_store}, p50 {ms(row['p50'])} ms, p99 {ms(row['p99'])} ms, "
        f"{row['rate']:.0f} calls/s, errors {row['errors'] or 'none'}",
        flush=True,
    )
    return row


# -- engine level ------------------------------------------------------------------


def engine_race(kind: str, directory: Path, redis_url: str, n: int) -> dict[str, Any]:
    if kind == "sqlite":
        where = str(directory / f"race-{time.monotonic_ns()}.db")
    else:
        benchlib.wipe_redis(redis_url)
        where = redis_url
    issued = issue_all(kind, where, n)
    wall = time.perf_counter()
    results = race(engine_racer, lambda c: (kind, where, c))
    wall = time.perf_counter() - wall
    return summarize(f"engine {kind}", results, issued, wall, verify_store(kind, where, results))


# -- over HTTP -----------------------------------------------------------------------


def http_race(kind: str, directory: Path, redis_url: str, n: int) -> dict[str, Any]:
    from tests.serverproc import ServerProcess

    if kind == "redis":
        benchlib.wipe_redis(redis_url)
    work = directory / f"http-{kind}"
    servers = benchlib.start_servers(
        work,
        kind,
        redis_url,
        processes=2 if kind == "redis" else 1,
        counters_toml=counters_toml(),
        users={"clerk": "clerk"},
    )
    try:
        first: ServerProcess = servers[0]
        where = redis_url if kind == "redis" else str(first.data_dir / "satupintu.db")
        issued = issue_all(kind, where, n, real_clock=True)
        tokens = [s.token("clerk") for s in servers]
        wall = time.perf_counter()
        results = race(
            http_racer,
            lambda c: (servers[int(c) % len(servers)].url, tokens[int(c) % len(servers)], c),
        )
        wall = time.perf_counter() - wall
        label = f"HTTP {kind} ({len(servers)} serve process{'es' if len(servers) > 1 else ''})"
        return summarize(label, results, issued, wall, verify_store(kind, where, results))
    finally:
        for s in servers:
            s.stop()


# -- main ----------------------------------------------------------------------------


def main() -> int:
    p = benchlib.parser(__doc__.splitlines()[0])
    p.add_argument("--tickets", type=int, default=2400, help="tickets issued before each race")
    p.add_argument("--http", action="store_true", help="also race over HTTP")
    args = p.parse_args()
    if args.quick:
        args.tickets = 80
    stores = [s for s in args.stores.split(",") if s]
    directory = Path(tempfile.mkdtemp(prefix="satupintu-bench-"))
    rows = []
    started = time.monotonic()
    try:
        with benchlib.redis_server() as server:
            for kind in stores:
                print(f"race: engine {kind}, {args.tickets} tickets", flush=True)
                rows.append(engine_race(kind, directory, server.url, args.tickets))
            if args.http:
                for kind in stores:
                    print(f"race: HTTP {kind}, {args.tickets} tickets", flush=True)
                    rows.append(http_race(kind, directory, server.url, args.tickets))
    finally:
        shutil.rmtree(directory, ignore_errors=True)
    lines = [
        "## Call next: 8 counters racing",
        "",
        *benchlib.environment(("redis", "flask", "gunicorn", "requests")),
        "",
        f"{args.tickets} tickets issued round-robin over the 7 services, then 8 counter "
        "processes (spawn) released together, each looping call-next (timed) + complete "
        "(untimed) until nobody waits for its services. Counters 1-4 take every service, "
        "5-6 KTP-el and KK, 7-8 PBG, NIB and PBB. 8 processes on 2 cores: the latency "
        "includes waiting for a CPU. Whole run: "
        f"{time.monotonic() - started:.0f} s.",
        "",
    ]
    lines += table(
        [
            "race",
            "claimed / issued",
            "claimed twice",
            "never claimed",
            "store disagrees",
            "p50 ms",
            "p99 ms",
            "max ms",
            "calls/s",
            "errors",
        ],
        [
            [
                r["label"],
                f"{r['claimed']}/{r['tickets']}",
                r["twice"],
                r["missed"],
                r["bad"],
                ms(r["p50"]),
                ms(r["p99"]),
                ms(r["max"]),
                f"{r['rate']:.0f}",
                r["errors"] or "none",
            ]
            for r in rows
        ],
    )
    ok = all(r["twice"] == 0 and r["missed"] == 0 and r["bad"] == 0 for r in rows)
    lines += [
        "",
        "No ticket was claimed twice and every ticket was claimed exactly once."
        if ok
        else "**FAILED: a ticket was claimed twice or never; see the table.**",
    ]
    benchlib.report(args, "callnext", lines)
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
