"""What only the Redis store has: key layout, expiry, trimming, durability checks."""

from __future__ import annotations

import logging

import pytest
import redis
from redis.crc import key_slot

from satupintu.model import TicketStatus
from satupintu.store import redis as redis_store
from satupintu.store.base import Change
from satupintu.store.redis import DAY_TTL_S, RedisStore
from tests.redis_server import RedisServer
from tests.satupintu.test_store_contract import DAY, call_of, move, take

pytestmark = pytest.mark.redis


@pytest.fixture
def client(redis_server):
    c = redis.Redis.from_url(redis_server.url, decode_responses=True)
    c.flushdb()
    yield c
    c.flushdb()
    c.close()


@pytest.fixture
def rstore(redis_server, client):
    store = RedisStore(redis_server.url)
    yield store
    store.close()


def test_every_branch_key_carries_the_branch_hash_tag(rstore: RedisStore, client):
    t = take(rstore)
    move(rstore, t, status=TicketStatus.CALLED, called_at=1_100.0, seq_count=1)
    rstore.secret("s", "v")
    keys = set(client.keys("*"))
    assert f"sp:{{main}}:ticket:{t.id}" in keys
    assert f"sp:{{main}}:num:{DAY}:A" in keys
    assert {k for k in keys if not k.startswith("sp:{main}:")} == {"sp:secrets"}
    slots = {key_slot(k.encode()) for k in keys - {"sp:secrets"}}
    assert len(slots) == 1


def test_day_keys_expire_and_branch_state_does_not(rstore: RedisStore, client):
    t = take(rstore)
    rstore.commit("main", Change(calls=[call_of(t, 1_100.0)], seq_count=1))
    for key in client.keys("sp:{main}:*"):
        ttl = client.ttl(key)
        if key in ("sp:{main}:seq", "sp:{main}:calls", "sp:{main}:schema"):
            assert ttl == -1, key
        else:
            assert 0 < ttl <= DAY_TTL_S, key


def test_call_log_and_service_times_are_trimmed(rstore: RedisStore, client, monkeypatch):
    monkeypatch.setattr(redis_store, "CALLS_KEPT", 3)
    monkeypatch.setattr(redis_store, "TIMES_KEPT", 2)
    for i in range(4):
        t = move(rstore, take(rstore), status=TicketStatus.CALLED, called_at=1_000.0 + i)
        move(rstore, t, status=TicketStatus.DONE, finished_at=1_010.0 + 2 * i)
        rstore.commit("main", Change(calls=[call_of(t, 1_000.0 + i)]))
    assert client.llen("sp:{main}:calls") == 3
    assert [c.number for c in rstore.recent_calls("main", 10)] == ["A004", "A003", "A002"]
    assert rstore.service_times("main", DAY, "ktp") == [13.0, 12.0]


def test_prefixes_keep_stores_apart(redis_server, rstore: RedisStore):
    other = RedisStore(redis_server.url, prefix="test2")
    try:
        take(rstore)
        assert take(other).number == "A001"
        assert other.waiting_counts("main", DAY) == {"ktp": 1}
        assert rstore.seq("main") == other.seq("main") == 1
    finally:
        other.close()


def test_close_releases_connections(redis_server, client):
    # By connection id, not by count: other tests' apps may still be closing theirs.
    def ids() -> set[str]:
        return {c["id"] for c in client.client_list()}

    # The store's own connection, asked through it: in a full run other tests' apps
    # (still closing, or their background listeners) open connections meanwhile too.
    store = RedisStore(redis_server.url)
    take(store)
    mine = str(store.redis.client_id())
    assert mine in ids(), "the store should hold a connection while in use"
    store.close()
    assert mine not in ids()


def test_warns_when_redis_may_lose_writes(redis_server, client, caplog):
    caplog.set_level(logging.INFO, logger="satupintu.store.redis")
    RedisStore(redis_server.url).close()
    assert not [r for r in caplog.records if r.levelno >= logging.WARNING]
    client.config_set("appendfsync", "everysec")
    try:
        RedisStore(redis_server.url).close()
    finally:
        client.config_set("appendfsync", "always")
    warning = [r for r in caplog.records if r.levelno == logging.WARNING]
    assert len(warning) == 1 and "appendfsync=everysec" in warning[0].getMessage()


def test_tolerates_config_being_denied(redis_server, client, caplog):
    caplog.set_level(logging.INFO, logger="satupintu.store.redis")
    client.acl_setuser(
        "app", enabled=True, passwords=["+pw"], keys=["*"], commands=["+@all", "-config"]
    )
    try:
        url = redis_server.url.replace("redis://", "redis://app:pw@")
        store = RedisStore(url)  # no exception: a managed Redis may hide CONFIG
        try:
            assert take(store).number == "A001"
        finally:
            store.close()
    finally:
        client.acl_deluser("app")
    assert any("cannot check Redis persistence" in r.getMessage() for r in caplog.records)


def test_acknowledged_tickets_survive_a_killed_server(tmp_path):
    server = RedisServer(tmp_path).start()
    try:
        store = RedisStore(server.url)
        tickets = [take(store) for _ in range(3)]
        store.close()
        server.stop(kill=True)  # SIGKILL: no shutdown save, only the fsynced AOF
        server.start()
        store = RedisStore(server.url)
        try:
            assert [store.ticket("main", t.id) for t in tickets] == tickets
            assert take(store).number == "A004"
        finally:
            store.close()
    finally:
        server.stop()
