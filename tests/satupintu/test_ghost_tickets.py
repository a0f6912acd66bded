"""Ghost tickets: a kiosk that never heard the answer retries with its Idempotency-Key and
gets the ticket the first request made, never a second one, on real processes.

Redis: a tap between the server and redis-server passes the issuing script through and
then drops its answer, so the ticket is written while the kiosk gets a 503 (what a Redis
stalled past the socket timeout does, without waiting for the timeout). SQLite: the whole
server is SIGKILLed while kiosks issue, restarted, and every unanswered key is retried.
"""

from __future__ import annotations

import hashlib
import socket
import threading
import time
import uuid
from typing import Any

import pytest
import requests

from satupintu.store import scripts
from tests.redis_server import RedisServer, free_port
from tests.serverproc import Api, ServerProcess

pytestmark = pytest.mark.slow


class AnswerDropper:
    """A TCP relay to redis-server that, once armed, lets the next command containing
    `marker` through, reads Redis's answer and closes the connection instead of passing
    it on: the server's write happened, its client never hears about it."""

    def __init__(self, target_port: int, marker: bytes):
        self.target_port = target_port
        self.marker = marker
        self.port = free_port()
        self.armed = threading.Event()
        self.dropped = threading.Event()
        self._listener = socket.create_server(("127.0.0.1", self.port))
        self._listener.settimeout(0.2)
        self._stopped = False
        self._swallow: socket.socket | None = None
        threading.Thread(target=self._accept, daemon=True).start()

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def _accept(self) -> None:
        while not self._stopped:
            try:
                client, _ = self._listener.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            upstream = socket.create_connection(("127.0.0.1", self.target_port))
            threading.Thread(target=self._up, args=(client, upstream), daemon=True).start()
            threading.Thread(target=self._down, args=(upstream, client), daemon=True).start()

    def _up(self, client: socket.socket, upstream: socket.socket) -> None:
        try:
            while data := client.recv(65536):
                if self.armed.is_set() and self.marker in data:
                    self.armed.clear()
                    self._swallow = upstream  # its answer goes nowhere (see _down)
                    upstream.sendall(data)
                    return
                upstream.sendall(data)
        except OSError:
            pass
        _close(client, upstream)

    def _down(self, upstream: socket.socket, client: socket.socket) -> None:
        try:
            while data := upstream.recv(65536):
                if self._swallow is upstream:
                    self._swallow = None
                    self.dropped.set()
                    break  # Redis answered (so it ran the command); the server never hears it
                client.sendall(data)
        except OSError:
            pass
        _close(client, upstream)

    def close(self) -> None:
        self._stopped = True
        _close(self._listener)


def _close(*sockets: socket.socket) -> None:
    for s in sockets:
        try:
            s.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass
        s.close()


def issued_today(manager: Api) -> int:
    return manager.request("GET", "/reports/today").json()["totals"]["issued"]


@pytest.mark.redis
def test_an_answer_lost_on_the_way_from_redis_is_not_a_second_ticket(tmp_path):
    (tmp_path / "redis-data").mkdir()
    redis_server = RedisServer(tmp_path / "redis-data").start()
    sha = hashlib.sha1(scripts.ISSUE.encode()).hexdigest().encode()
    tap = AnswerDropper(redis_server.port, sha)
    server = ServerProcess(tmp_path / "office", redis_url=tap.url)
    server.add_user("kiosk1", "kiosk")
    server.add_user("boss", "manager")
    server.start()
    kiosk, boss = Api(server, "kiosk1"), Api(server, "boss")
    try:
        kiosk.issue("ktp")  # loads the script into Redis: later issues are one EVALSHA

        # Control: without a key the lost answer leaves a ghost, and the retry a second one.
        tap.armed.set()
        lost = kiosk.request("POST", "/tickets", json={"service": "ktp"})
        assert tap.dropped.wait(10)
        assert lost.status_code == 503, lost.text
        assert lost.json()["error"] == "store_unavailable"
        assert issued_today(boss) == 2  # the kiosk was told nothing, yet A002 exists
        assert kiosk.issue("ktp")["number"] == "A003"

        # With a key: the retry gets the very ticket the lost answer carried.
        tap.dropped.clear()
        tap.armed.set()
        key = {"Idempotency-Key": str(uuid.uuid4())}
        lost = kiosk.request("POST", "/tickets", json={"service": "ktp"}, headers=key)
        assert tap.dropped.wait(10)
        assert lost.status_code == 503, lost.text
        retry = kiosk.request("POST", "/tickets", json={"service": "ktp"}, headers=key)
        assert retry.status_code == 201, retry.text
        assert retry.headers["Idempotent-Replayed"] == "true"
        assert retry.json()["number"] == "A004"
        assert issued_today(boss) == 4  # exactly one ticket for the key
        again = kiosk.request("POST", "/tickets", json={"service": "ktp"}, headers=key)
        assert again.json() == retry.json()
        assert kiosk.issue("ktp")["number"] == "A005"  # and numbering goes on past it
    finally:
        kiosk.close()
        boss.close()
        server.kill()
        tap.close()
        redis_server.stop()


def test_a_server_killed_mid_request_leaves_one_ticket_per_key(tmp_path):
    server = ServerProcess(tmp_path / "office", issue_per_minute=10_000)
    for name in ("kiosk1", "kiosk2", "kiosk3"):
        server.add_user(name, "kiosk")
    server.add_user("boss", "manager")
    server.start()
    answers: dict[str, dict[str, Any]] = {}  # key -> ticket the kiosk was told about
    unanswered: dict[str, tuple[str, str]] = {}  # key -> (kiosk, service) still unknown
    lock = threading.Lock()
    stop = threading.Event()

    def press(api: Api, kiosk: str) -> None:
        n = 0
        while not stop.is_set():
            key, service = str(uuid.uuid4()), ("ktp", "kk", "akta")[n % 3]
            n += 1
            with lock:
                unanswered[key] = (kiosk, service)
            try:
                r = api.request(
                    "POST",
                    "/tickets",
                    json={"service": service},
                    headers={"Idempotency-Key": key},
                    timeout=10,
                )
            except requests.RequestException:
                return  # the server died under this request: its outcome is unknown
            if r.status_code == 201:
                with lock:
                    answers[key] = r.json()
                    del unanswered[key]

    apis = {name: Api(server, name) for name in ("kiosk1", "kiosk2", "kiosk3")}
    threads = [
        threading.Thread(target=press, args=(api, name), daemon=True) for name, api in apis.items()
    ]
    try:
        for t in threads:
            t.start()
        deadline = time.monotonic() + 60
        while len(answers) < 40:
            assert time.monotonic() < deadline, "load too slow"
            time.sleep(0.005)
        server.kill()  # mid-request for some of the three kiosks
        stop.set()
        for t in threads:
            t.join(30)
        for api in apis.values():
            api.close()
        server.start()
        apis = {name: Api(server, name) for name in apis}
        replayed = 0
        for key, (kiosk, service) in list(unanswered.items()):
            r = apis[kiosk].request(
                "POST", "/tickets", json={"service": service}, headers={"Idempotency-Key": key}
            )
            assert r.status_code == 201, r.text
            replayed += r.headers.get("Idempotent-Replayed") == "true"
            answers[key] = r.json()
        boss = Api(server, "boss")
        report = boss.request("GET", "/reports/today").json()
        boss.close()
        # Exactly one ticket per key: every ticket of the day is some key's answer.
        assert report["totals"]["issued"] == len(answers)
        assert len({t["id"] for t in answers.values()}) == len(answers)
        print(
            f"{len(answers)} keys, {len(unanswered)} unanswered at the kill, "
            f"{replayed} of them had been written before it"
        )
    finally:
        stop.set()
        for api in apis.values():
            api.close()
        server.kill()
