"""Event delivery: time from a clerk's call (HTTP call-next) to each connected Socket.IO
client in the `display` room receiving `ticket_called`; p50/p99/max per load, on each
store and in each async mode.

    .venv/bin/python bench/bench_events.py                      # the default scenarios
    .venv/bin/python bench/bench_events.py --scenario redis:gevent:4:10000
    .venv/bin/python bench/bench_events.py --quick              # smoke test, prints only

A scenario is STORE:MODE:PROCESSES:CLIENTS. The clients are python-socketio
AsyncClients (websocket transport) in asyncio, several hundred per client process,
spread over client processes ("spawn") and over the serve processes (with Redis,
several `satupintu serve` processes fan events out through the Redis message queue).
The clerk's calls all go to the first serve process. Each call waits until every
client has the event (or a timeout), then the clerk completes the ticket and pauses
`--gap` seconds so the complete's own events are out before the next call.
Times are CLOCK_MONOTONIC, which all processes on one machine share.
"""

from __future__ import annotations

import asyncio
import multiprocessing as mp
import queue
import resource
import shutil
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import benchlib
from benchlib import ms, pct, table

DEFAULT_SCENARIOS = [
    "sqlite:threading:1:100",
    "sqlite:threading:1:1000",
    "redis:threading:1:100",
    "redis:threading:1:1000",
    "sqlite:gevent:1:100",
    "sqlite:gevent:1:1000",
    "redis:gevent:1:1000",
    "redis:gevent:4:4000",
    "redis:gevent:4:10000",
]
CLIENTS_PER_PROCESS = 500


# -- client processes --------------------------------------------------------------


def client_process(
    urls: list[str],
    count: int,
    offset: int,
    index: int,
    ready: Any,
    done: Any,
    stop: Any,
    connect_parallel: int,
) -> None:
    """`count` display clients in one asyncio loop; client i uses urls[(offset+i) % len]."""
    try:
        asyncio.run(_clients(urls, count, offset, index, ready, done, stop, connect_parallel))
    except Exception as exc:  # tell the parent instead of leaving it waiting
        ready.put((index, 0, count, f"{type(exc).__name__}: {exc}"))


async def _clients(
    urls: list[str],
    count: int,
    offset: int,
    index: int,
    ready: Any,
    done: Any,
    stop: Any,
    connect_parallel: int,
) -> None:
    import socketio

    received: dict[str, list[float]] = {}
    gate = asyncio.Semaphore(connect_parallel)
    clients: list[Any] = []

    def on_called(payload: dict[str, Any]) -> None:
        at = time.monotonic()
        tid = payload["ticket"]["id"]
        got = received.setdefault(tid, [])
        got.append(at)
        if len(got) == len(clients):
            done.put((index, tid))

    async def connect(i: int) -> str | None:
        sio = socketio.AsyncClient(reconnection=False)
        sio.on(
            "changes",
            lambda frame: [on_called(e) for e in frame["events"] if e["event"] == "ticket_called"],
        )
        async with gate:
            try:
                await sio.connect(
                    urls[(offset + i) % len(urls)], transports=["websocket"], wait_timeout=60
                )
                ack = await sio.call("join", {"room": "display"}, timeout=60)
            except Exception as exc:
                await sio.disconnect()
                return f"{type(exc).__name__}: {exc}"
        if not ack.get("ok"):
            await sio.disconnect()
            return f"join refused: {ack}"
        clients.append(sio)
        return None

    errors = [e for e in await asyncio.gather(*(connect(i) for i in range(count))) if e]
    ready.put((index, len(clients), len(errors), errors[0] if errors else ""))
    while not stop.is_set():
        await asyncio.sleep(0.1)
    done.put((index, "result", received))
    await asyncio.gather(*(c.disconnect() for c in clients), return_exceptions=True)


# -- one scenario --------------------------------------------------------------------


def raise_fd_limit() -> None:
    """Servers and clients inherit it: each websocket is a file descriptor on both sides."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))


def run_scenario(
    spec: str, directory: Path, redis_url: str, calls: int, gap: float, timeout: float
) -> dict[str, Any]:
    import requests

    kind, mode, nproc, nclients = spec.split(":")
    processes, clients = int(nproc), int(nclients)
    if kind == "redis":
        benchlib.wipe_redis(redis_url)
    per_server = -(-clients // processes)
    # threading: one thread per websocket and the cap at 3/4 of the threads, plus HTTP
    threads = per_server * 4 // 3 + 50
    work = directory / spec.replace(":", "-")
    t_start = time.monotonic()
    servers = benchlib.start_servers(
        work,
        kind,
        redis_url,
        processes=processes,
        async_mode=mode,
        threads=threads,
        users={"kiosk": "kiosk", "clerk": "clerk"},
        # every client comes from 127.0.0.1: no per-address cap
        max_sockets=per_server + 100,
        max_sockets_per_address=per_server + 100,
    )
    ctx = mp.get_context("spawn")
    ready, done, stop = ctx.Queue(), ctx.Queue(), ctx.Event()
    nclient_procs = max(1, -(-clients // CLIENTS_PER_PROCESS))
    sizes = [
        clients // nclient_procs + (1 if i < clients % nclient_procs else 0)
        for i in range(nclient_procs)
    ]
    children, offset = [], 0
    row: dict[str, Any] = {
        "spec": spec,
        "store": kind,
        "mode": mode,
        "processes": processes,
        "clients": clients,
        "threads": threads if mode == "threading" else None,
        "client_procs": nclient_procs,
    }
    try:
        base = servers[0].url + "/api/v1"
        kiosk, clerk = requests.Session(), requests.Session()
        kiosk.headers["Authorization"] = f"Bearer {servers[0].token('kiosk')}"
        clerk.headers["Authorization"] = f"Bearer {servers[0].token('clerk')}"
        for i in range(calls):
            assert (
                kiosk.post(base + "/tickets", json={"service": "ktp"}, timeout=30).status_code
                == 201
            )
        assert clerk.post(base + "/counters/1/open", timeout=30).status_code == 200

        urls = [s.url for s in servers]
        parallel = 20 if mode == "threading" else 50
        for n in sizes:
            children.append(
                ctx.Process(
                    target=client_process,
                    args=(urls, n, offset, len(children), ready, done, stop, parallel),
                )
            )
            offset += n
        t_connect = time.monotonic()
        for c in children:
            c.start()
        connected, failed, first_error = 0, 0, ""
        for _ in children:
            _, ok, bad, err = ready.get(timeout=max(120, clients / 5))
            connected, failed = connected + ok, failed + bad
            first_error = first_error or err
        row.update(
            connected=connected,
            connect_failed=failed,
            connect_error=first_error,
            connect_s=time.monotonic() - t_connect,
        )
        why = f": {first_error}" if first_error else ""
        print(
            f"  {spec}: {connected} connected ({failed} failed{why}) in {row['connect_s']:.1f} s",
            flush=True,
        )

        sent: dict[str, float] = {}
        http_lat, incomplete = [], 0
        live = sum(1 for n in sizes if n)  # processes whose clients all connected report done
        for _ in range(calls):
            t0 = time.monotonic()
            r = clerk.post(base + "/counters/1/call-next", timeout=30)
            http_lat.append(time.monotonic() - t0)
            assert r.status_code == 200, r.text
            tid = r.json()["ticket"]["id"]
            sent[tid] = t0
            waiting_for = live
            deadline = time.monotonic() + timeout
            while waiting_for:
                try:
                    _, got = done.get(timeout=max(0.01, deadline - time.monotonic()))
                except queue.Empty:
                    incomplete += 1
                    break
                waiting_for -= got == tid
            assert clerk.post(base + "/counters/1/complete", timeout=30).status_code == 200
            time.sleep(gap)
        stop.set()
        latencies, delivered = [], 0
        results = 0
        deadline = time.monotonic() + 120
        while results < len(children) and time.monotonic() < deadline:
            try:
                _, tag, received = done.get(timeout=5)
            except queue.Empty:
                continue
            except ValueError:
                continue
            if tag != "result":
                continue
            results += 1
            for tid, times in received.items():
                if tid in sent:
                    delivered += len(times)
                    latencies += [t - sent[tid] for t in times]
        row.update(
            calls=calls,
            expected=connected * calls,
            delivered=delivered,
            incomplete_calls=incomplete,
            http_p50=pct(http_lat, 50),
            p50=pct(latencies, 50),
            p99=pct(latencies, 99),
            max=max(latencies, default=float("nan")),
        )
        print(
            f"  {spec}: delivered {delivered}/{connected * calls}, p50 {ms(row['p50'])} ms, "
            f"p99 {ms(row['p99'])} ms, max {ms(row['max'])} ms (HTTP call p50 "
            f"{ms(row['http_p50'])} ms)",
            flush=True,
        )
    finally:
        stop.set()
        for c in children:
            c.join(60)
            if c.is_alive():
                c.kill()
        for s in servers:
            s.stop()
        row["seconds"] = time.monotonic() - t_start
    return row


# -- main ----------------------------------------------------------------------------


def main() -> int:
    p = benchlib.parser(__doc__.splitlines()[0])
    p.add_argument(
        "--scenario",
        action="append",
        help="STORE:MODE:PROCESSES:CLIENTS (repeatable; default: the set in DEFAULT_SCENARIOS)",
    )
    p.add_argument("--calls", type=int, default=20, help="calls per scenario")
    p.add_argument("--gap", type=float, default=0.5, help="pause after each complete, s")
    p.add_argument("--timeout", type=float, default=30, help="max wait for one call's delivery")
    args = p.parse_args()
    scenarios = args.scenario or DEFAULT_SCENARIOS
    if args.quick:
        scenarios = args.scenario or [
            "sqlite:threading:1:20",
            "redis:threading:2:20",
            "sqlite:gevent:1:20",
        ]
        args.calls, args.gap = 3, 0.1
    raise_fd_limit()
    directory = Path(tempfile.mkdtemp(prefix="satupintu-bench-"))
    rows = []
    started = time.monotonic()
    try:
        with benchlib.redis_server() as server:
            for spec in scenarios:
                print(f"scenario {spec}", flush=True)
                try:
                    rows.append(
                        run_scenario(
                            spec, directory, server.url, args.calls, args.gap, args.timeout
                        )
                    )
                except Exception as exc:  # report what broke and carry on with the next
                    print(f"  {spec}: FAILED {type(exc).__name__}: {exc}", flush=True)
                    rows.append({"spec": spec, "failed": f"{type(exc).__name__}: {exc}"})
    finally:
        shutil.rmtree(directory, ignore_errors=True)
    lines = render(args, rows, time.monotonic() - started)
    benchlib.report(args, "events", lines)
    return 0 if all("failed" not in r for r in rows) else 1


def render(args, rows, seconds: float) -> list[str]:
    lines = [
        "## Event delivery: call -> display",
        "",
        *benchlib.environment(
            ("redis", "flask-socketio", "python-socketio", "gunicorn", "gevent", "aiohttp")
        ),
        "",
        "Time from the clerk sending `POST /counters/1/call-next` to each display "
        "client (Socket.IO AsyncClient, websocket, joined to `display`) receiving "
        f"`ticket_called`; {args.calls} calls per row, every client's receipt of every "
        "call counted. Clients run in separate processes "
        f"(up to {CLIENTS_PER_PROCESS} per process) on the same 2 cores as the server(s): "
        "at 1,000 and more clients the client side competes with the server for CPU. "
        f"Threading mode: `[server] threads` = clients per process + 50. "
        f"Whole run: {seconds:.0f} s.",
        "",
    ]
    out = []
    for r in rows:
        if "failed" in r:
            out.append([r["spec"], "", "", "", "", "", "", "", "", f"failed: {r['failed']}"])
            continue
        out.append(
            [
                r["store"],
                r["mode"] + (f" ({r['threads']} threads)" if r["threads"] else ""),
                r["processes"],
                f"{r['connected']:,}/{r['clients']:,}",
                r["client_procs"],
                f"{r['delivered']:,}/{r['expected']:,}",
                ms(r["p50"]),
                ms(r["p99"]),
                ms(r["max"]),
                f"connect {r['connect_s']:.0f} s; HTTP call p50 {ms(r['http_p50'])} ms"
                + (
                    f"; {r['connect_failed']} connects failed ({r['connect_error']})"
                    if r["connect_failed"]
                    else ""
                )
                + (f"; {r['incomplete_calls']} calls timed out" if r["incomplete_calls"] else ""),
            ]
        )
    lines += table(
        [
            "store",
            "async mode",
            "serve processes",
            "clients connected",
            "client processes",
            "delivered",
            "p50 ms",
            "p99 ms",
            "max ms",
            "notes",
        ],
        out,
    )
    return lines


if __name__ == "__main__":
    sys.exit(main())
