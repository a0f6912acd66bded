"""SIGKILL under load loses nothing a client was told about, and never reuses a number.

Kiosks issue and clerks call over real HTTP from several threads; the whole
server process group is SIGKILLed mid-load (a power cut, the OOM killer) and
restarted on the same data. On Redis, redis-server itself is SIGKILLed too
and restarted from its AOF directory (appendonly yes, appendfsync always).
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
import requests

from tests.redis_server import RedisServer
from tests.serverproc import Api, ServerProcess

pytestmark = pytest.mark.slow

SERVICES = ("ktp", "kk", "akta", "pbg", "nib", "pbb", "info")
KIOSKS = ("kiosk1", "kiosk2", "kiosk3")
CLERKS = {"clerk1": "1", "clerk2": "2"}
PER_KIOSK = 45  # 135 tickets at most: ~20 per service, far below every daily quota


@dataclass
class Ledger:
    """What clients were told (a 2xx answer); only that must survive a crash."""

    issued: dict[str, dict[str, Any]] = field(default_factory=dict)  # id -> ticket
    called: dict[str, str] = field(default_factory=dict)  # id -> counter
    completed: set[str] = field(default_factory=set)
    double_calls: list[str] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def max_number(self, prefix: str) -> int:
        numbers = [
            int(t["number"][1:]) for t in self.issued.values() if t["number"].startswith(prefix)
        ]
        return max(numbers, default=0)


def _guard(stop: threading.Event, step: Callable[[], bool]) -> None:
    """Run `step` until it returns False or `stop` is set; errors (the crash) are expected."""
    while not stop.is_set():
        try:
            if not step():
                return
        except (requests.RequestException, AssertionError):
            time.sleep(0.05)  # the server is down or refusing: an unknown outcome, not a lie


def run_load(
    server: ServerProcess, ledger: Ledger, stop: threading.Event, apis: list[Api]
) -> list[threading.Thread]:
    """Start kiosk and clerk threads that record every acknowledged issue, call and completion."""
    threads = []
    for k, kiosk in enumerate(KIOSKS):
        api = Api(server, kiosk)
        apis.append(api)
        count = iter(range(PER_KIOSK))

        def issue(api: Api = api, count: Any = count, k: int = k) -> bool:
            n = next(count, None)
            if n is None:
                return False
            service = SERVICES[(n + k) % len(SERVICES)]
            r = api.request("POST", "/tickets", json={"service": service})
            if r.status_code == 201:
                with ledger.lock:
                    ledger.issued[r.json()["id"]] = r.json()
            return True

        threads.append(threading.Thread(target=_guard, args=(stop, issue), daemon=True))

    for clerk, counter in CLERKS.items():
        api = Api(server, clerk)
        apis.append(api)
        api.request("POST", f"/counters/{counter}/open").raise_for_status()

        def call(api: Api = api, counter: str = counter) -> bool:
            r = api.request("POST", f"/counters/{counter}/call-next")
            if r.status_code == 409 and r.json()["error"] == "counter_busy":
                r = api.request("POST", f"/counters/{counter}/complete")  # left over by a crash
                return True
            if r.status_code == 204:
                time.sleep(0.01)
                return True
            if r.status_code != 200:
                return True
            ticket = r.json()["ticket"]
            with ledger.lock:
                if ticket["id"] in ledger.called:
                    ledger.double_calls.append(ticket["id"])
                ledger.called[ticket["id"]] = counter
            if api.request("POST", f"/counters/{counter}/complete").status_code == 200:
                with ledger.lock:
                    ledger.completed.add(ticket["id"])
            return True

        threads.append(threading.Thread(target=_guard, args=(stop, call), daemon=True))

    for t in threads:
        t.start()
    return threads


def until(ledger: Ledger, issued: int, called: int, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while len(ledger.issued) < issued or len(ledger.called) < called:
        assert time.monotonic() < deadline, f"load too slow: {len(ledger.issued)} issued"
        time.sleep(0.01)


def crash_during_load(
    server: ServerProcess, ledger: Ledger, crash: Callable[[], None], issued: int, called: int
) -> None:
    """Drive load, run `crash` once enough was acknowledged, then stop the clients."""
    stop, apis = threading.Event(), []
    threads = run_load(server, ledger, stop, apis)
    try:
        until(ledger, len(ledger.issued) + issued, len(ledger.called) + called)
        crash()
    finally:
        time.sleep(0.3)  # clients keep hammering the dead server for a moment
        stop.set()
        for t in threads:
            t.join(30)
        for api in apis:
            api.close()
    assert not ledger.double_calls, f"tickets called twice: {ledger.double_calls}"


def check_survivors(server: ServerProcess, ledger: Ledger) -> None:
    """Every acknowledged ticket exists unchanged; calls and completions stuck."""
    clerk = Api(server, "clerk1")
    try:
        for ticket_id, told in ledger.issued.items():
            r = clerk.request("GET", f"/tickets/{ticket_id}")
            assert r.status_code == 200, f"acknowledged ticket {told['number']} lost: {r.text}"
            now = r.json()
            assert (now["number"], now["origin_service"]) == (told["number"], told["service"])
            if ticket_id in ledger.completed:
                assert now["status"] == "done"
            elif ticket_id in ledger.called:
                assert now["status"] in ("called", "done"), now
                assert now["counter"] == ledger.called[ticket_id]
    finally:
        clerk.close()


def check_numbers_continue(server: ServerProcess, ledger: Ledger) -> None:
    """New tickets after the crash number strictly past everything acknowledged."""
    kiosk, clerk = Api(server, "kiosk1"), Api(server, "clerk1")
    try:
        for service in SERVICES:
            ticket = kiosk.issue(service)
            prefix, number = ticket["number"][0], int(ticket["number"][1:])
            assert number > ledger.max_number(prefix), (ticket["number"], service)
            same = clerk.request("GET", f"/tickets/{ticket['number']}")  # staff: by number
            assert same.json()["id"] == ticket["id"]  # the number is this ticket's alone
            ledger.issued[ticket["id"]] = ticket
    finally:
        kiosk.close()
        clerk.close()


def office(workdir: Path, redis_url: str | None = None) -> ServerProcess:
    server = ServerProcess(workdir, redis_url=redis_url, issue_per_minute=10_000)
    for kiosk in KIOSKS:
        server.add_user(kiosk, "kiosk")
    for clerk in CLERKS:
        server.add_user(clerk, "clerk")
    return server


def test_sqlite_server_killed_mid_load_keeps_every_acknowledged_ticket(tmp_path):
    server = office(tmp_path / "office").start()
    ledger = Ledger()
    try:
        for _ in range(2):  # twice: the second crash starts from recovered state
            crash_during_load(server, ledger, server.kill, issued=30, called=8)
            server.start()
            check_survivors(server, ledger)
            check_numbers_continue(server, ledger)
    finally:
        server.kill()
    assert len(ledger.issued) >= 60 + 2 * len(SERVICES)


@pytest.mark.redis
def test_redis_server_and_redis_killed_mid_load_keep_every_acknowledged_ticket(tmp_path):
    (tmp_path / "redis").mkdir()
    redis_server = RedisServer(tmp_path / "redis").start()  # own AOF dir: we kill it
    server = office(tmp_path / "office", redis_server.url).start()
    ledger = Ledger()
    try:
        # 1. the satupintu process group dies; Redis lives on
        crash_during_load(server, ledger, server.kill, issued=30, called=8)
        server.start()
        check_survivors(server, ledger)
        check_numbers_continue(server, ledger)

        # 2. redis-server dies mid-load and restarts from its AOF; the server lives on
        crash_during_load(server, ledger, lambda: redis_server.stop(kill=True), issued=30, called=8)
        redis_server.start()
        deadline = time.monotonic() + 30
        while requests.get(server.url + "/api/v1/services", timeout=10).status_code != 200:
            assert time.monotonic() < deadline, "server did not recover from the Redis restart"
            time.sleep(0.2)
        check_survivors(server, ledger)
        check_numbers_continue(server, ledger)

        # 3. both die at once (a power cut), both restart
        def power_cut() -> None:
            redis_server.stop(kill=True)
            server.kill()

        crash_during_load(server, ledger, power_cut, issued=20, called=5)
        redis_server.start()
        server.start()
        check_survivors(server, ledger)
        check_numbers_continue(server, ledger)
    finally:
        server.kill()
        redis_server.stop(kill=True)
