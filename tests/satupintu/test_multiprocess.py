"""Several `serve` processes on one Redis act as one office."""

from __future__ import annotations

from collections import Counter
from concurrent.futures import ThreadPoolExecutor

import pytest
import redis
import requests

from tests.serverproc import Api, Listener, ServerProcess

pytestmark = [pytest.mark.redis, pytest.mark.slow]


def test_a_call_on_process_a_reaches_a_display_on_process_b(tmp_path, redis_server):
    redis.Redis.from_url(redis_server.url).flushdb()
    a = ServerProcess(tmp_path / "a", redis_url=redis_server.url)
    a.add_user("kiosk1", "kiosk")  # users live in Redis: both processes know them
    a.add_user("clerk1", "clerk")
    b = ServerProcess(tmp_path / "b", config_path=a.config_path)
    a.start()
    try:
        b.start()
        try:
            display_b = Listener(b.url, "display")
            kiosk_b, clerk_a = Api(b, "kiosk1"), Api(a, "clerk1")
            try:
                ticket = kiosk_b.issue("kk")  # issued through B ...
                clerk_a.open("2")
                called = clerk_a.call_next("2")  # ... called through A
                assert called is not None and called["id"] == ticket["id"]

                # A's event went out through Flask-SocketIO's Redis message queue.
                event = display_b.wait_for(
                    "ticket_called", lambda p: p["ticket"]["id"] == ticket["id"]
                )
                assert event["ticket"]["number"] == ticket["number"]
                assert event["ticket"]["counter"] == "2"
                assert event["seq"] > display_b.seq
            finally:
                display_b.close()
                kiosk_b.close()
                clerk_a.close()
        finally:
            b.stop()
    finally:
        a.stop()


def test_150_parallel_wrong_passwords_over_two_processes_get_at_most_the_limit(
    tmp_path, redis_server
):
    """The login limit is counted in Redis: two processes do not allow twice the limit."""
    redis.Redis.from_url(redis_server.url).flushdb()
    a = ServerProcess(tmp_path / "a", redis_url=redis_server.url)
    a.add_user("boss", "manager")
    b = ServerProcess(tmp_path / "b", config_path=a.config_path)
    a.start()
    try:
        b.start()
        try:

            def guess(i: int) -> int:
                server = a if i % 2 else b
                return requests.post(
                    f"{server.url}/api/v1/auth/token",
                    timeout=60,
                    json={"username": "boss", "password": f"tebakan-{i:04d}"},
                ).status_code

            with ThreadPoolExecutor(max_workers=40) as pool:
                statuses = Counter(pool.map(guess, range(150)))
        finally:
            b.stop()
    finally:
        a.stop()
    assert set(statuses) <= {401, 429}, statuses
    assert 1 <= statuses[401] <= 10, statuses  # [auth] failed_logins_per_minute
    assert statuses[429] == 150 - statuses[401]
