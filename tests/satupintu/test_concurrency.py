"""Many OS processes racing on one store: no ticket claimed twice, no number shared.

Each process builds its own store and Engine from the config and the SQLite
path or Redis URL, the way several server processes would.
"""

from __future__ import annotations

import multiprocessing
from collections import Counter as Tally
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest
import redis

from satupintu.config import Config, CounterConfig
from satupintu.engine import Engine
from satupintu.errors import QuotaFull
from satupintu.model import TicketStatus
from satupintu.store.base import Store

pytestmark = pytest.mark.slow

SPAWN = multiprocessing.get_context("spawn")
PROCESSES = 8
TICKETS = 2_000
ISSUES_EACH = 250
RACE_SERVICES = ("ktp", "kk", "akta")  # never QUOTA_SERVICE
RESULT_TIMEOUT = 120.0
QUOTA_SERVICE, QUOTA = "info", 100
QUOTA_ATTEMPTS_EACH = 20


def race_config(config: Config) -> Config:
    """Eight counters taking every service; a daily quota only on QUOTA_SERVICE."""
    services = tuple(
        replace(s, daily_quota=QUOTA if s.id == QUOTA_SERVICE else 0) for s in config.services
    )
    counters = tuple(CounterConfig(str(i), f"Loket {i}", ()) for i in range(1, PROCESSES + 1))
    return replace(config, services=services, counters=counters)


def open_store(backend: str, where: str) -> Store:
    if backend == "sqlite":
        from satupintu.store.sqlite import SQLiteStore

        return SQLiteStore(where)
    from satupintu.store.redis import RedisStore

    return RedisStore(where)


def clerk(config: Config, backend: str, where: str, counter_id: str, go: Any, results: Any) -> None:
    """One counter: call next and complete until nobody waits; report what it claimed."""
    try:
        engine = Engine(config, open_store(backend, where))
        go.wait(60)
        claimed = []
        while (ticket := engine.call_next(counter_id).ticket) is not None:
            claimed.append(ticket.id)
            engine.complete(counter_id)
        results.put((counter_id, claimed, ""))
    except BaseException as exc:  # report it: a silent child would look like an empty line
        results.put((counter_id, [], repr(exc)))


def issuer(config: Config, backend: str, where: str, name: str, go: Any, results: Any) -> None:
    """One kiosk: issue ISSUES_EACH tickets alternating between two services."""
    try:
        engine = Engine(config, open_store(backend, where))
        go.wait(60)
        issued = []
        for i in range(ISSUES_EACH):
            ticket = engine.issue(RACE_SERVICES[i % 2], kiosk=name).ticket
            issued.append((ticket.id, ticket.number, ticket.service))
        results.put((name, issued, ""))
    except BaseException as exc:
        results.put((name, [], repr(exc)))


def quota_issuer(
    config: Config, backend: str, where: str, name: str, go: Any, results: Any
) -> None:
    """One kiosk pressing on a service with a small daily quota; refusals are expected."""
    try:
        engine = Engine(config, open_store(backend, where))
        go.wait(60)
        outcomes = []
        for _ in range(QUOTA_ATTEMPTS_EACH):
            try:
                outcomes.append(engine.issue(QUOTA_SERVICE, kiosk=name).ticket.number)
            except QuotaFull:
                outcomes.append("")
        results.put((name, outcomes, ""))
    except BaseException as exc:
        results.put((name, [], repr(exc)))


def race(target: Any, config: Config, backend: str, where: str, names: list[str]) -> dict:
    """Start one process per name, release them together, gather what each reports."""
    go = SPAWN.Event()
    results = SPAWN.Queue()
    procs = [
        SPAWN.Process(target=target, args=(config, backend, where, n, go, results)) for n in names
    ]
    for p in procs:
        p.start()
    go.set()
    gathered = {}
    try:
        for _ in procs:
            name, items, error = results.get(timeout=RESULT_TIMEOUT)
            assert not error, f"process {name} failed: {error}"
            gathered[name] = items
    finally:
        for p in procs:
            p.join(30)
            if p.is_alive():
                p.kill()
                p.join()
    assert all(p.exitcode == 0 for p in procs)
    return gathered


@pytest.fixture(params=["sqlite", pytest.param("redis", marks=pytest.mark.redis)])
def shared(request: pytest.FixtureRequest, tmp_path: Path, config: Config):
    """(backend, path or URL, the parent's engine) for a store several processes share."""
    cfg = race_config(config)
    if request.param == "sqlite":
        where = str(tmp_path / "race.db")
    else:
        where = request.getfixturevalue("redis_server").url
        redis.Redis.from_url(where).flushdb()
    store = open_store(request.param, where)
    yield request.param, where, Engine(cfg, store)
    store.close()


def test_racing_counters_claim_every_ticket_exactly_once(shared) -> None:
    backend, where, engine = shared
    with engine.store.atomic():  # one transaction on SQLite; plain writes elsewhere
        issued = [engine.issue(RACE_SERVICES[i % 3]).ticket.id for i in range(TICKETS)]
    counters = [c.id for c in engine.config.counters]
    for cid in counters:
        engine.open_counter(cid)

    claimed = race(clerk, engine.config, backend, where, counters)

    everything = [tid for ids in claimed.values() for tid in ids]
    duplicates = [tid for tid, n in Tally(everything).items() if n > 1]
    assert not duplicates, f"claimed twice: {duplicates[:5]}"
    assert sorted(everything) == sorted(issued)
    assert sum(1 for ids in claimed.values() if ids) >= 2  # it really was a race
    tickets = {t.id: t for t in engine.store.day_tickets(engine.branch, engine.today())}
    assert len(tickets) == TICKETS
    assert all(t.status is TicketStatus.DONE for t in tickets.values())
    for cid, ids in claimed.items():
        assert all(tickets[tid].counter == cid for tid in ids)
    assert engine.store.waiting_counts(engine.branch, engine.today()) in (
        {},
        {s: 0 for s in RACE_SERVICES},
    )
    assert all(c.current == "" for c in engine.counters())


def test_racing_issuers_never_share_a_number(shared) -> None:
    backend, where, engine = shared
    kiosks = [f"K{i}" for i in range(1, PROCESSES + 1)]

    issued = race(issuer, engine.config, backend, where, kiosks)

    rows = [row for items in issued.values() for row in items]
    assert len(rows) == PROCESSES * ISSUES_EACH
    numbers = [number for _, number, _ in rows]
    assert len(set(numbers)) == len(numbers), "a number was handed out twice"
    assert len({tid for tid, _, _ in rows}) == len(rows)
    for service, prefix in (("ktp", "A"), ("kk", "B")):
        mine = [n for _, n, s in rows if s == service]
        assert len(mine) == PROCESSES * ISSUES_EACH // 2
        assert set(mine) == {f"{prefix}{i:03d}" for i in range(1, len(mine) + 1)}  # no holes
    stored = engine.store.day_tickets(engine.branch, engine.today())
    assert sorted(t.number for t in stored) == sorted(numbers)
    assert len({t.sort_key for t in stored}) == len(stored)  # every place in line is distinct


def test_racing_issuers_never_exceed_the_daily_quota(shared) -> None:
    backend, where, engine = shared
    kiosks = [f"K{i}" for i in range(1, PROCESSES + 1)]

    outcomes = race(quota_issuer, engine.config, backend, where, kiosks)

    numbers = [n for items in outcomes.values() for n in items if n]
    refused = sum(1 for items in outcomes.values() for n in items if not n)
    assert len(numbers) == QUOTA and refused == PROCESSES * QUOTA_ATTEMPTS_EACH - QUOTA
    assert set(numbers) == {f"G{i:03d}" for i in range(1, QUOTA + 1)}
    stored = engine.store.day_tickets(engine.branch, engine.today())
    assert sorted(t.number for t in stored) == sorted(numbers)  # refusals wrote nothing
