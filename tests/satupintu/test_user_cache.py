"""The token check reads the user once, not per request, yet a change ends its logins at once."""

from __future__ import annotations

import time

import pytest
import requests

from satupintu import current, users
from tests.apihelpers import Actor, put_user, token_for
from tests.serverproc import ServerProcess


def count_reads(app):
    """Count the store's user() calls (the round trip the cache saves)."""
    store = current.store.get(app)
    reads = []
    real = store.user

    def user(name):
        reads.append(name)
        return real(name)

    store.user = user
    return reads


def test_a_token_is_checked_against_the_store_once_until_a_user_changes(app, make_app):
    user = put_user(app, "kiosk1", "kiosk")
    kiosk = Actor(app, token_for(app, user))
    deadline = time.monotonic() + 5
    while current.store.get(app).users_changed() is None:  # Redis: the listener subscribes
        assert time.monotonic() < deadline
        time.sleep(0.01)
    reads = count_reads(app)
    for _ in range(5):
        kiosk.get("/auth/me")
    assert reads == ["kiosk1"]  # once, not five times

    # Another process (its own store on the same file or Redis) resets another user:
    other = make_app()  # same data on Redis; on SQLite it opens its own file, so use ours
    writer = current.store.get(other) if current.store.get(app).name == "redis" else None
    if writer is None:
        from satupintu.store.sqlite import SQLiteStore

        writer = SQLiteStore(current.store.get(app).path)
    users.add_user(writer, "budi", "clerk", "rahasia-uji-456")
    deadline = time.monotonic() + 2
    while len(reads) == 1:  # the mark moved: the next check reads again (ms on Redis)
        kiosk.get("/auth/me")
        assert time.monotonic() < deadline
    # ... and removing the kiosk user ends its token at once
    users.remove_user(writer, "kiosk1")
    deadline = time.monotonic() + 2
    while kiosk.get("/auth/me", None).status_code != 401:
        assert time.monotonic() < deadline, "the removed user's token still works"
        time.sleep(0.01)


@pytest.mark.slow
def test_cli_removal_ends_a_token_on_a_running_server_at_once(tmp_path):
    server = ServerProcess(tmp_path / "office")
    server.add_user("kiosk1", "kiosk")
    server.start()
    try:
        token = server.token("kiosk1")
        me = {"Authorization": f"Bearer {token}"}
        for _ in range(3):
            assert (
                requests.get(server.url + "/api/v1/auth/me", headers=me, timeout=10).status_code
                == 200
            )
        done = server.cli("users", "remove", "kiosk1")
        assert done.returncode == 0, done.stderr
        # no waiting: the very next request after the command returned is refused
        r = requests.get(server.url + "/api/v1/auth/me", headers=me, timeout=10)
        assert r.status_code == 401 and r.json()["error"] == "unauthorized"
    finally:
        server.stop()
