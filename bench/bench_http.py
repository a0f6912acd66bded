"""Issue a ticket over HTTP (`POST /api/v1/tickets` on `satupintu serve`), on each store:
latency p50/p99 and throughput at 1, 8 and 32 concurrent clients; latency as the
day grows to 100,000 tickets; and 1 vs 2 vs 4 serve processes on Redis.

    .venv/bin/python bench/bench_http.py            # full run (a few minutes), writes the doc
    .venv/bin/python bench/bench_http.py --quick    # smoke test, prints only

Clients: keep-alive `requests.Session`s with a kiosk user's bearer token, in
threads spread over several client processes ("spawn"), each client issuing
back-to-back for a fixed time. The server is the real `satupintu serve`
(gunicorn gthread, one worker per process), issue rate limit lifted.
"""

from __future__ import annotations

import multiprocessing as mp
import shutil
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

import benchlib
from benchlib import ms, pct, table

SERVICES = ("ktp", "kk", "akta", "pbg", "nib", "pbb", "info")


# -- clients (child processes) ----------------------------------------------------


def client_process(
    urls: list[str], token: str, threads: int, first: int, seconds: float, barrier: Any, out: Any
) -> None:
    """`threads` clients; client i talks to urls[i % len(urls)]; issue until time is up."""
    import requests

    results: list[tuple[list[float], int]] = []
    lock = threading.Lock()
    start = threading.Event()
    deadline: list[float] = []

    def client(i: int) -> None:
        http = requests.Session()
        http.headers["Authorization"] = f"Bearer {token}"
        url = urls[i % len(urls)] + "/api/v1/tickets"
        latencies, errors = [], 0
        http.post(url, json={"service": SERVICES[i % 7]}, timeout=30)  # warm the connection
        start.wait()
        n = i
        while time.perf_counter() < deadline[0]:
            t0 = time.perf_counter()
            r = http.post(url, json={"service": SERVICES[n % 7]}, timeout=30)
            elapsed = time.perf_counter() - t0
            n += 1
            if r.status_code == 201:
                latencies.append(elapsed)
            else:
                errors += 1
        http.close()
        with lock:
            results.append((latencies, errors))

    workers = [threading.Thread(target=client, args=(first + i,)) for i in range(threads)]
    for w in workers:
        w.start()
    barrier.wait()
    deadline.append(time.perf_counter() + seconds)
    start.set()
    for w in workers:
        w.join()
    out.put(([x for lat, _ in results for x in lat], sum(e for _, e in results)))


def load(
    urls: list[str], token: str, clients: int, seconds: float, max_procs: int = 4
) -> dict[str, Any]:
    """`clients` concurrent clients spread over up to `max_procs` processes for `seconds`."""
    procs = min(clients, max_procs)
    per = [clients // procs + (1 if i < clients % procs else 0) for i in range(procs)]
    ctx = mp.get_context("spawn")
    barrier, out = ctx.Barrier(procs + 1), ctx.Queue()
    children, first = [], 0
    for n in per:
        children.append(
            ctx.Process(target=client_process, args=(urls, token, n, first, seconds, barrier, out))
        )
        first += n
    for c in children:
        c.start()
    barrier.wait()
    wall = time.perf_counter()
    got = [out.get(timeout=seconds + 120) for _ in children]
    wall = time.perf_counter() - wall
    for c in children:
        c.join(30)
    latencies = [x for lat, _ in got for x in lat]
    return {
        "clients": clients,
        "procs": procs,
        "n": len(latencies),
        "errors": sum(e for _, e in got),
        "p50": pct(latencies, 50),
        "p99": pct(latencies, 99),
        "rate": len(latencies) / wall,
    }


# -- scenarios ---------------------------------------------------------------------


def concurrency(
    kind: str,
    work: Path,
    redis_url: str,
    levels: list[int],
    seconds: float,
    async_mode: str = "threading",
) -> list[dict[str, Any]]:
    if kind == "redis":
        benchlib.wipe_redis(redis_url)
    servers = benchlib.start_servers(
        work, kind, redis_url, async_mode=async_mode, threads=64, users={"kiosk": "kiosk"}
    )
    rows = []
    try:
        token = servers[0].token("kiosk")
        for clients in levels:
            row = load([servers[0].url], token, clients, seconds)
            rows.append(row)
            print(
                f"  {kind} {clients:>2} clients: p50 {ms(row['p50'])} ms  p99 "
                f"{ms(row['p99'])} ms  {row['rate']:.0f} tickets/s  errors {row['errors']}",
                flush=True,
            )
    finally:
        for s in servers:
            s.stop()
    return rows


def flatness(
    kind: str, work: Path, redis_url: str, levels: list[int], samples: int
) -> list[dict[str, Any]]:
    """One client's HTTP issue latency at each fill level (pre-filled through the store)."""
    import requests
    from bench_engine import mark_done, prefill

    from satupintu.engine import Engine
    from satupintu.store.redis import RedisStore
    from satupintu.store.sqlite import SQLiteStore

    if kind == "redis":
        benchlib.wipe_redis(redis_url)
    servers = benchlib.start_servers(work, kind, redis_url, users={"kiosk": "kiosk"})
    server = servers[0]
    store = (
        RedisStore(redis_url) if kind == "redis" else SQLiteStore(server.data_dir / "satupintu.db")
    )
    engine = Engine(benchlib.bench_config(), store, time.time)  # the server's day: real time
    rows, fill = [], 0
    try:
        http = requests.Session()
        http.headers["Authorization"] = f"Bearer {server.token('kiosk')}"
        url = server.url + "/api/v1/tickets"
        for level in levels:
            if kind == "redis":
                benchlib.set_fsync(redis_url, "no")
            prefill(engine, max(0, level - fill), served=True)
            if kind == "redis":
                benchlib.set_fsync(redis_url, "always")
            fill = level
            latencies, ids = [], []
            for i in range(samples):
                t0 = time.perf_counter()
                r = http.post(url, json={"service": SERVICES[i % 7]}, timeout=30)
                latencies.append(time.perf_counter() - t0)
                assert r.status_code == 201, r.text
                ids.append(r.json()["id"])
            fill += samples
            mark_done(store, [store.ticket(engine.branch, i) for i in ids], time.time())
            rows.append({"level": level, "p50": pct(latencies, 50), "p99": pct(latencies, 99)})
            print(
                f"  {kind} HTTP issue at {level:>7} tickets today: p50 {ms(rows[-1]['p50'])} "
                f"ms  p99 {ms(rows[-1]['p99'])} ms",
                flush=True,
            )
        http.close()
    finally:
        store.close()
        for s in servers:
            s.stop()
    return rows


def scaling(
    work: Path, redis_url: str, processes: list[int], clients: int, seconds: float
) -> list[dict[str, Any]]:
    """Throughput of `clients` clients spread over 1, 2, 4 serve processes on one Redis."""
    rows = []
    for n in processes:
        benchlib.wipe_redis(redis_url)
        servers = benchlib.start_servers(
            work / f"scale{n}",
            "redis",
            redis_url,
            processes=n,
            threads=64,
            users={"kiosk": "kiosk"},
        )
        try:
            row = load([s.url for s in servers], servers[0].token("kiosk"), clients, seconds)
            row["servers"] = n
            rows.append(row)
            print(
                f"  redis, {n} serve processes, {clients} clients: {row['rate']:.0f} tickets/s"
                f"  p50 {ms(row['p50'])} ms  p99 {ms(row['p99'])} ms",
                flush=True,
            )
        finally:
            for s in servers:
                s.stop()
    return rows


# -- main --------------------------------------------------------------------------


def main() -> int:
    p = benchlib.parser(__doc__.splitlines()[0])
    p.add_argument("--seconds", type=float, default=8.0, help="load time per concurrency level")
    p.add_argument("--max-day", type=int, default=100_000)
    p.add_argument("--step", type=int, default=25_000)
    p.add_argument("--samples", type=int, default=300, help="timed issues per fill level")
    p.add_argument("--no-scaling", action="store_true", help="skip 1 vs 2 vs 4 processes")
    p.add_argument(
        "--async-mode",
        choices=("threading", "gevent"),
        default="threading",
        help="server model of the concurrency runs (gevent is the shipped default)",
    )
    args = p.parse_args()
    levels = [1, 8, 32]
    if args.quick:
        args.seconds, args.max_day, args.step, args.samples = 0.5, 100, 100, 10
        levels = [1, 4]
    stores = [s for s in args.stores.split(",") if s]
    fills = list(range(0, args.max_day + 1, args.step))
    directory = Path(tempfile.mkdtemp(prefix="satupintu-bench-"))
    conc, flat, scale = {}, {}, []
    started = time.monotonic()
    try:
        with benchlib.redis_server() as server:
            for kind in stores:
                print(f"concurrency: {kind}", flush=True)
                conc[kind] = concurrency(
                    kind,
                    directory / f"conc-{kind}",
                    server.url,
                    levels,
                    args.seconds,
                    args.async_mode,
                )
            for kind in stores:
                print(f"flatness: {kind}", flush=True)
                flat[kind] = flatness(
                    kind, directory / f"flat-{kind}", server.url, fills, args.samples
                )
            if "redis" in stores and not args.no_scaling:
                print("scaling: redis", flush=True)
                scale = scaling(
                    directory,
                    server.url,
                    [1, 2] if args.quick else [1, 2, 4],
                    4 if args.quick else 32,
                    args.seconds,
                )
    finally:
        shutil.rmtree(directory, ignore_errors=True)
    lines = render(args, conc, flat, scale, fills, time.monotonic() - started)
    benchlib.report(args, "http", lines)
    return 0


def render(args, conc, flat, scale, fills, seconds: float) -> list[str]:
    lines = [
        "## Issue over HTTP",
        "",
        *benchlib.environment(("redis", "flask", "apiflask", "gunicorn", "requests")),
        "",
        "`POST /api/v1/tickets` with a kiosk bearer token on `satupintu serve` ("
        + (
            "gunicorn gthread, one worker, 64 threads"
            if args.async_mode == "threading"
            else "gevent, one worker"
        )
        + "). Clients are keep-alive `requests.Session`s in "
        f"threads over up to 4 client processes, each issuing back-to-back for "
        f"{args.seconds:g} s. Clients and server share the 2 cores, so at 8 and 32 clients "
        "the client side takes CPU from the server: the throughput is a floor. "
        f"Whole run: {seconds:.0f} s.",
        "",
    ]
    rows = [
        [
            kind,
            r["clients"],
            r["procs"],
            ms(r["p50"]),
            ms(r["p99"]),
            f"{r['rate']:.0f}",
            r["errors"],
        ]
        for kind, rs in conc.items()
        for r in rs
    ]
    lines += table(
        ["store", "clients", "client processes", "p50 ms", "p99 ms", "tickets/s", "errors"], rows
    )
    if "sqlite" in conc and "redis" in conc:
        ratios = [
            f"{r['clients']} clients {r['rate'] / s['rate']:.2f}x"
            for s, r in zip(conc["sqlite"], conc["redis"], strict=True)
        ]
        lines += ["", "Redis / SQLite throughput (same run): " + ", ".join(ratios) + "."]
    if flat:
        lines += [
            "",
            "### HTTP issue latency as the day grows",
            "",
            f"One client, {args.samples} issues at each fill level; the day is pre-filled "
            "through the store (untimed) with tickets that are done, so the waiting line "
            "stays short, the real shape of a long day. p50 (p99) in ms.",
            "",
        ]
        kinds = list(flat)
        lines += table(
            ["tickets today", *kinds],
            [
                [f"{lvl:,}", *[f"{ms(flat[k][i]['p50'])} ({ms(flat[k][i]['p99'])})" for k in kinds]]
                for i, lvl in enumerate(fills)
            ],
        )
        growth = ", ".join(f"{k} {flat[k][-1]['p50'] / flat[k][0]['p50']:.2f}x" for k in kinds)
        lines += ["", f"p50 at {fills[-1]:,} / p50 at 0: {growth}."]
    if scale:
        base = scale[0]["rate"]
        lines += [
            "",
            "### Scaling out on Redis",
            "",
            f"{scale[0]['clients']} clients spread evenly over N serve processes on one "
            "Redis (appendfsync always).",
            "",
        ]
        lines += table(
            ["serve processes", "tickets/s", "vs 1 process", "p50 ms", "p99 ms", "errors"],
            [
                [
                    r["servers"],
                    f"{r['rate']:.0f}",
                    f"{r['rate'] / base:.2f}x",
                    ms(r["p50"]),
                    ms(r["p99"]),
                    r["errors"],
                ]
                for r in scale
            ],
        )
    return lines


if __name__ == "__main__":
    sys.exit(main())
