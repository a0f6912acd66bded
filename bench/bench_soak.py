"""Soak: minutes of steady office traffic with displays and phones connected.

    .venv/bin/python bench/bench_soak.py                         # 5 min per store, office scale
    .venv/bin/python bench/bench_soak.py --minutes 1.5 --rate 15 --displays 200 --phones 100
    .venv/bin/python bench/bench_soak.py --quick                 # smoke test, prints only

A kiosk issues `--rate` tickets a second (round-robin over the services);
`--counters` clerks loop call-next + complete as fast as tickets wait. `--displays`
Socket.IO clients join `display`; `--phones` clients each follow one ticket the
way the phone page does (`ticket:<id>` + `line:<service>`), and when their ticket
is called take the next one issued. All clients are python-socketio
AsyncClients (websocket) in client processes on the same cores as the server.

Reported per store: call -> display and call -> phone latency percentiles
(from the clerk sending call-next to each client's receipt of the
`ticket_called` in its `changes` frame; the clerks keep about 2 s of tickets
waiting, so a phone has joined before its ticket is called), missed calls (a call some connected
display, or the phone following it, never heard), client reconnects, HTTP
latency of issue / call-next / complete without sockets (a warm-up phase
before the clients connect) and with them, the serve worker's RSS every 10 s
and its CPU per delivered frame. Times are CLOCK_MONOTONIC, shared by all
processes on one machine.
"""

from __future__ import annotations

import asyncio
import multiprocessing as mp
import os
import queue
import resource
import shutil
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

import benchlib
from benchlib import ms, pct, table

CLIENTS_PER_PROCESS = 100  # one asyncio process reads ~5k frames/s at most: spread them
RSS_EVERY_S = 10.0
HEARD_TIMEOUT_S = 10.0  # a call not heard this long after the run ended is missed


# -- client processes --------------------------------------------------------------


def client_process(
    url: str,
    displays: int,
    phones: int,
    index: int,
    tickets: Any,
    ready: Any,
    results: Any,
    stop: Any,
) -> None:
    """`displays` display clients and `phones` phone clients in one asyncio loop."""
    try:
        asyncio.run(_clients(url, displays, phones, index, tickets, ready, results, stop))
    except Exception as exc:  # tell the parent instead of leaving it waiting
        ready.put((index, 0, f"{type(exc).__name__}: {exc}"))


async def _clients(
    url: str,
    displays: int,
    phones: int,
    index: int,
    tickets: Any,
    ready: Any,
    results: Any,
    stop: Any,
) -> None:
    import socketio

    heard: dict[str, list[float]] = {}  # ticket id -> display receipt times
    phone_heard: dict[str, float] = {}  # ticket id -> its phone's receipt time
    joined: dict[str, float] = {}  # ticket id -> when its phone had joined its rooms
    counts = {"frames": 0, "connects": 0, "disconnects": 0}
    gate = asyncio.Semaphore(50)
    clients: list[Any] = []

    def on_display(frame: dict[str, Any]) -> None:
        at = time.monotonic()
        counts["frames"] += 1
        for event in frame["events"]:
            if event["event"] == "ticket_called" and not event.get("recall"):
                heard.setdefault(event["ticket"]["id"], []).append(at)

    async def make(rooms: list[str]) -> Any:
        sio = socketio.AsyncClient(reconnection=True, reconnection_delay=0.5)

        @sio.event
        async def connect() -> None:
            counts["connects"] += 1

        @sio.event
        async def disconnect(*_: Any) -> None:
            counts["disconnects"] += 1

        async with gate:
            await sio.connect(url, transports=["websocket"], wait_timeout=60)
            for room in rooms:
                ack = await sio.call("join", {"room": room}, timeout=60)
                if not ack.get("ok"):
                    raise RuntimeError(f"join {room} refused: {ack}")
        clients.append(sio)
        return sio

    async def phone() -> None:
        """Follow one ticket until it is called, then the next one issued."""
        state: dict[str, Any] = {"ticket": None, "called": asyncio.Event()}

        def on_frame(frame: dict[str, Any]) -> None:
            at = time.monotonic()
            counts["frames"] += 1
            for event in frame["events"]:
                if (
                    event["event"] == "ticket_called"
                    and not event.get("recall")
                    and event["ticket"]["id"] == state["ticket"]
                ):
                    phone_heard[state["ticket"]] = at
                    state["called"].set()

        sio = await make([])
        sio.on("changes", on_frame)
        while not stop.is_set():
            try:
                ticket_id, service = tickets.get_nowait()
            except queue.Empty:
                await asyncio.sleep(0.05)
                continue
            old = state["ticket"]
            state["ticket"], state["called"] = ticket_id, asyncio.Event()
            for room in [f"ticket:{ticket_id}", f"line:{service}"]:
                await sio.call("join", {"room": room}, timeout=30)
            joined[ticket_id] = time.monotonic()
            if old is not None:
                await sio.emit("leave", {"room": f"ticket:{old}"})
            while not stop.is_set() and not state["called"].is_set():
                await asyncio.sleep(0.05)

    try:
        for _ in range(displays):
            sio = await make(["display"])
            sio.on("changes", on_display)
        workers = [asyncio.ensure_future(phone()) for _ in range(phones)]
    except Exception as exc:
        ready.put((index, len(clients), f"{type(exc).__name__}: {exc}"))
        await asyncio.gather(*(c.disconnect() for c in clients), return_exceptions=True)
        return
    deadline = time.monotonic() + 300
    while len(clients) < displays + phones and time.monotonic() < deadline:
        await asyncio.sleep(0.1)  # the phones connect in their own tasks
    ready.put(
        (
            index,
            len(clients),
            ""
            if len(clients) == displays + phones
            else f"only {len(clients)} of {displays + phones} connected",
        )
    )
    while not stop.is_set():
        await asyncio.sleep(0.1)
    await asyncio.sleep(HEARD_TIMEOUT_S if not os.environ.get("SOAK_QUICK") else 2.0)
    for worker in workers:
        worker.cancel()
    # A copy: the queue pickles later, after the disconnects below have been counted.
    results.put((index, heard, phone_heard, {**counts, "joined": dict(joined)}, displays))
    await asyncio.gather(*(c.disconnect() for c in clients), return_exceptions=True)


# -- the office's traffic ------------------------------------------------------------


class Traffic:
    """A kiosk issuing at a rate and clerks calling and completing, over HTTP."""

    def __init__(self, url: str, services: list[str], counters: list[str], rate: float):
        import requests

        from tests.serverproc import PASSWORD

        self.url, self.services, self.counters, self.rate = url, services, counters, rate
        self.backlog = max(5, int(rate * 2))  # about 2 s of waiting per ticket
        self.calls_made = 0
        self.stop = threading.Event()
        self.times: dict[str, list[float]] = {"issue": [], "call-next": [], "complete": []}
        self.called: dict[str, float] = {}  # ticket id -> when the call-next answered
        self.issued: list[tuple[str, str]] = []
        self.errors: list[str] = []
        self.on_issue: Any = None

        def session(user: str) -> Any:
            s = requests.Session()
            r = s.post(
                url + "/api/v1/auth/token",
                json={"username": user, "password": PASSWORD},
                timeout=30,
            )
            r.raise_for_status()
            s.headers["Authorization"] = "Bearer " + r.json()["token"]
            return s

        self.kiosk = session("kiosk")
        self.clerks = [session(f"clerk{c}") for c in counters]
        for clerk, counter in zip(self.clerks, counters, strict=True):
            clerk.post(f"{url}/api/v1/counters/{counter}/open", timeout=30).raise_for_status()

    def _timed(self, name: str, session: Any, path: str, **kw: Any) -> Any:
        start = time.monotonic()
        try:
            r = session.post(self.url + "/api/v1" + path, timeout=30, **kw)
        except Exception as exc:  # noqa: BLE001 - counted, the soak goes on
            self.errors.append(f"{name}: {exc}")
            return None
        if self.recording:
            self.times[name].append(time.monotonic() - start)
        if r.status_code >= 400:
            self.errors.append(f"{name}: {r.status_code} {r.text[:120]}")
            return None
        return r

    def issuer(self) -> None:
        n, start = 0, time.monotonic()
        while not self.stop.is_set():
            service = self.services[n % len(self.services)]
            r = self._timed("issue", self.kiosk, "/tickets", json={"service": service})
            if r is not None:
                ticket = r.json()
                self.issued.append((ticket["id"], service))
                if self.on_issue:
                    self.on_issue(ticket["id"], service)
            n += 1
            wait = start + n / self.rate - time.monotonic()
            if wait > 0:
                time.sleep(wait)

    def clerk(self, i: int) -> None:
        session, counter = self.clerks[i], self.counters[i]
        while not self.stop.is_set():
            # Like an office where tickets wait: call only while `backlog` are waiting, so
            # a phone has joined its ticket's rooms before the call (as a citizen would).
            if len(self.issued) - self.calls_made <= self.backlog:
                time.sleep(0.02)
                continue
            sent = time.monotonic()
            r = self._timed("call-next", session, f"/counters/{counter}/call-next")
            if r is None or r.status_code == 204:
                time.sleep(0.1)
                continue
            self.called[r.json()["ticket"]["id"]] = sent
            self.calls_made += 1
            self._timed("complete", session, f"/counters/{counter}/complete")

    def run(self, seconds: float, recording: bool = True) -> None:
        self.recording = recording
        self.stop.clear()
        threads = [threading.Thread(target=self.issuer)]
        threads += [
            threading.Thread(target=self.clerk, args=(i,)) for i in range(len(self.counters))
        ]
        for t in threads:
            t.start()
        self.stop.wait(seconds)
        self.stop.set()
        for t in threads:
            t.join()


# -- the serve worker ------------------------------------------------------------------


def worker_pid(master: int) -> int:
    """gunicorn's worker: the child of the master process."""
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                with open(f"/proc/{entry}/stat") as fh:
                    fields = fh.read().rsplit(")", 1)[1].split()
            except OSError:
                continue
            if int(fields[1]) == master:
                return int(entry)
    raise RuntimeError(f"no worker under {master}")


def rss_mib(pid: int) -> float:
    with open(f"/proc/{pid}/status") as fh:
        for line in fh:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return float("nan")


def cpu_s(pid: int) -> float:
    with open(f"/proc/{pid}/stat") as fh:
        fields = fh.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


# -- one store -------------------------------------------------------------------------


def run_store(kind: str, directory: Path, redis_url: str | None, args: Any) -> dict[str, Any]:
    counters = [str(c) for c in range(1, args.counters + 1)]
    if kind == "redis":
        benchlib.wipe_redis(redis_url)
    users = {"kiosk": "kiosk", **{f"clerk{c}": "clerk" for c in counters}}
    clients = args.displays + args.phones
    [server] = benchlib.start_servers(
        directory / kind,
        kind,
        redis_url,
        async_mode="gevent",
        users=users,
        max_sockets=max(clients + 100, 1000),
        max_sockets_per_address=max(clients + 100, 1000),
    )
    result: dict[str, Any] = {"kind": kind}
    ctx = mp.get_context("spawn")
    tickets, ready, results, stop = ctx.Queue(), ctx.Queue(), ctx.Queue(), ctx.Event()
    procs: list[Any] = []
    try:
        from satupintu.config import load_config

        services = [s.id for s in load_config(server.config_path).services]
        traffic = Traffic(server.url, services, counters, args.rate)
        worker = worker_pid(server.proc.pid)
        traffic.run(args.warmup, recording=True)  # HTTP alone: no sockets connected yet
        result["http_alone"] = {k: list(v) for k, v in traffic.times.items()}
        for v in traffic.times.values():
            v.clear()
        traffic.called.clear()  # nobody listened yet

        per = CLIENTS_PER_PROCESS
        nproc = max(1, -(-clients // per))
        shares = [
            (
                args.displays * (i + 1) // nproc - args.displays * i // nproc,
                args.phones * (i + 1) // nproc - args.phones * i // nproc,
            )
            for i in range(nproc)
        ]
        env_quick = {"SOAK_QUICK": "1"} if args.quick else {}
        os.environ.update(env_quick)
        for i, (d, p) in enumerate(shares):
            proc = ctx.Process(
                target=client_process, args=(server.url, d, p, i, tickets, ready, results, stop)
            )
            proc.start()
            procs.append(proc)
        connected, errors = 0, []
        for _ in procs:
            _, n, error = ready.get(timeout=600)
            connected += n
            if error:
                errors.append(error)
        if errors:
            raise RuntimeError(f"clients failed: {errors[0]}")
        result["connected"] = connected
        if args.phones:
            traffic.on_issue = lambda tid, service: tickets.put((tid, service))
        # Tickets no phone took stay in the queue: exiting must not wait to flush them.
        tickets.cancel_join_thread()

        rss: list[tuple[float, float]] = []
        cpu0, t0 = cpu_s(worker), time.monotonic()
        sampler_stop = threading.Event()

        def sample() -> None:
            while True:
                rss.append((time.monotonic() - t0, rss_mib(worker)))
                if sampler_stop.wait(RSS_EVERY_S):
                    return

        sampler = threading.Thread(target=sample)
        sampler.start()
        traffic.run(args.minutes * 60, recording=True)
        elapsed = time.monotonic() - t0
        cpu = cpu_s(worker) - cpu0
        sampler_stop.set()
        sampler.join()
        stop.set()
        gathered = [results.get(timeout=120) for _ in procs]
        result.update(
            rss=rss,
            cpu=cpu,
            elapsed=elapsed,
            http=traffic.times,
            called=dict(traffic.called),
            errors=traffic.errors,
            gathered=gathered,
            issued=len(traffic.issued),
        )
    finally:
        stop.set()
        for proc in procs:
            proc.join(timeout=30)
            if proc.is_alive():
                proc.kill()
        server.stop()
    return result


def analyse(r: dict[str, Any]) -> dict[str, Any]:
    """Latencies, missed calls, reconnects and the RSS trend of one store's run."""
    called: dict[str, float] = r["called"]
    display_lat, phone_lat = [], []
    missed_display, followed = 0, 0
    frames = connects = disconnects = displays = 0
    display_heard: dict[str, list[float]] = {}
    phone_heard: dict[str, float] = {}
    joined: dict[str, float] = {}
    for _, heard, phones, counts, n in r["gathered"]:
        joined.update(counts["joined"])
        displays += n
        frames += counts["frames"]
        connects += counts["connects"]
        disconnects += counts["disconnects"]
        for tid, times in heard.items():
            display_heard.setdefault(tid, []).extend(times)
        phone_heard.update(phones)
    for tid, at in called.items():
        times = display_heard.get(tid, [])
        if len(times) < displays:
            missed_display += 1
        display_lat += [max(0.0, t - at) for t in times]
        if tid in joined and joined[tid] < at:  # a phone followed it before the call
            followed += 1
            if tid in phone_heard:
                phone_lat.append(max(0.0, phone_heard[tid] - at))
    clients = r["connected"]
    rss = [m for _, m in r["rss"]]
    warm = rss[len(rss) // 3 :] or rss  # after the first third: warmed up
    growth = (warm[-1] - warm[0]) / warm[0] if warm and warm[0] else float("nan")
    return {
        "calls": len(called),
        "display": display_lat,
        "phone": phone_lat,
        "missed_display": missed_display,
        "phone_calls": followed,
        # a phone joined its ticket's rooms before the call and never heard it
        "missed_phone": followed - len(phone_lat),
        "reconnects": max(0, connects - clients),
        "disconnects": disconnects,
        "frames": frames,
        "rss": rss,
        "rss_growth": growth,
        "cpu_us_per_frame": r["cpu"] / frames * 1e6 if frames else float("nan"),
    }


def client_processes(args: Any) -> int:
    return max(1, -(-(args.displays + args.phones) // CLIENTS_PER_PROCESS))


def render(args: Any, runs: list[dict[str, Any]], seconds: float) -> list[str]:
    lines = [
        "## Soak: steady traffic with displays and phones",
        "",
        *benchlib.environment(("flask-socketio", "python-socketio", "gunicorn", "gevent", "redis")),
        "",
        f"{args.minutes:g} min per store of {args.rate:g} issues/s (round-robin over "
        f"the services) with {args.counters} counters calling next and completing as "
        f"fast as tickets wait, {args.displays} display clients and {args.phones} "
        "phone clients (each following one ticket, `ticket:<id>` + `line:<service>`, "
        "then the next one issued), one `satupintu serve` (default config: gevent) "
        f"per store; the clients in {client_processes(args)} process(es) and the HTTP "
        "traffic in this one, all on the same 2 cores. "
        f"HTTP alone: a {args.warmup:g} s warm-up of the same traffic before any "
        f"socket connects. Whole run: {seconds:.0f} s.",
        "",
    ]
    rows = []
    for r in runs:
        a = analyse(r)
        rows.append(
            [
                r["kind"],
                f"{r['connected']:,}",
                f"{a['calls']:,}",
                f"{ms(pct(a['display'], 50))} / {ms(pct(a['display'], 99))} / "
                f"{ms(max(a['display'], default=float('nan')))}",
                f"{ms(pct(a['phone'], 50))} / {ms(pct(a['phone'], 99))} ({a['phone_calls']:,})",
                f"{a['missed_display']} / {a['missed_phone']}",
                str(a["reconnects"]),
                " / ".join(
                    f"{ms(pct(r['http_alone'][k], 50))}-{ms(pct(r['http_alone'][k], 99))}"
                    for k in ("issue", "call-next", "complete")
                ),
                " / ".join(
                    f"{ms(pct(r['http'][k], 50))}-{ms(pct(r['http'][k], 99))}"
                    for k in ("issue", "call-next", "complete")
                ),
                " ".join(f"{m:.0f}" for m in a["rss"]),
                f"{a['rss_growth'] * 100:+.1f}%",
                f"{a['cpu_us_per_frame']:.1f}",
                f"{a['frames']:,}",
                f"{len(r['errors'])}" + (f" ({r['errors'][0][:60]})" if r["errors"] else ""),
            ]
        )
    lines += table(
        [
            "store",
            "clients",
            "calls",
            "call -> display ms p50 / p99 / max",
            "call -> phone ms p50 / p99 (calls followed)",
            "missed calls display / phone",
            "reconnects",
            "HTTP alone ms p50-p99 issue / call-next / complete",
            "HTTP with sockets ms p50-p99 issue / call-next / complete",
            "worker RSS MiB every 10 s",
            "RSS growth after warm-up",
            "worker CPU us per frame",
            "frames delivered",
            "HTTP errors",
        ],
        rows,
    )
    lines += [
        "",
        "A missed call is one that some connected display never heard within "
        f"{HEARD_TIMEOUT_S:g} s of the end; RSS growth compares the last sample with "
        "the first after a third of the run.",
    ]
    return lines


def main() -> int:
    p = benchlib.parser(__doc__.split("\n\n")[0])
    p.add_argument("--minutes", type=float, default=5.0)
    p.add_argument("--rate", type=float, default=20.0, help="issues per second")
    p.add_argument("--counters", type=int, default=6)
    p.add_argument("--displays", type=int, default=200)
    p.add_argument("--phones", type=int, default=100)
    p.add_argument("--warmup", type=float, default=15.0, help="seconds of HTTP alone")
    args = p.parse_args()
    if args.quick:
        args.minutes, args.rate, args.displays, args.phones, args.warmup = 0.25, 5, 10, 5, 3
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    started = time.monotonic()
    directory = Path(tempfile.mkdtemp(prefix="bench-soak-"))
    runs = []
    try:
        stores = args.stores.split(",")
        with benchlib.redis_server() as redis:
            for kind in stores:
                runs.append(
                    run_store(kind, directory, redis.url if kind == "redis" else None, args)
                )
    finally:
        shutil.rmtree(directory, ignore_errors=True)
    benchlib.report(args, "soak", render(args, runs, time.monotonic() - started))
    return 0


if __name__ == "__main__":
    sys.exit(main())
