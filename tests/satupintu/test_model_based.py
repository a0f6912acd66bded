"""Random sequences of operations on the real Engine agree with the plain model, per store.

Every answer is compared: numbers, statuses, call_next's pick, people ahead,
the error class (or none). After every step the stored tickets and counters
must match the model too.
"""

from __future__ import annotations

import shutil
import tempfile
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest
import redis
from hypothesis import settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    RuleBasedStateMachine,
    initialize,
    invariant,
    rule,
    run_state_machine_as_test,
)

from satupintu.config import Config, CounterConfig, RoutingConfig, load_config
from satupintu.engine import Engine
from satupintu.errors import QueueError
from satupintu.store.base import Store
from satupintu.store.sqlite import SQLiteStore
from tests.satupintu.queue_model import MCounter, QueueModel, Refused

ROOT = Path(__file__).resolve().parents[2]
START = 1_764_640_800.0  # 2025-12-02 09:00 Asia/Jakarta
MAX_STREAK = 2
SERVICES = ("ktp", "kk", "akta")  # prefixes A, B, C
QUOTAS = {"ktp": 5, "kk": 0, "akta": 0}
ASSIGNMENTS = {"1": ("ktp", "kk"), "2": ("kk", "akta"), "3": ()}  # 3: every service
SETTINGS = settings(max_examples=40, stateful_step_count=40, deadline=None)

COUNTER_IDS = ("1", "2", "3", "9")  # 9 does not exist
counters = st.sampled_from(COUNTER_IDS)
services = st.sampled_from([*SERVICES, *SERVICES, "paspor"])
assignments = st.one_of(
    st.lists(st.sampled_from(SERVICES), min_size=1, max_size=3, unique=True).map(
        lambda ids: [(s, 1) for s in ids]
    ),
    st.lists(st.tuples(services, st.sampled_from([1, 2, 0, 101])), max_size=3),  # often wrong
)
picks = st.integers(min_value=0, max_value=1_000)
arrivals = st.lists(st.tuples(services, st.booleans()), min_size=1, max_size=3)


def office_config() -> Config:
    """Three services, three counters with different assignments, a short priority cap."""
    base = load_config(ROOT / "config.toml")
    chosen = tuple(replace(s, daily_quota=QUOTAS[s.id]) for s in base.services if s.id in SERVICES)
    counter_cfgs = tuple(
        CounterConfig(cid, f"Loket {cid}", tuple((s, 1) for s in taken))
        for cid, taken in ASSIGNMENTS.items()
    )
    return replace(
        base, services=chosen, counters=counter_cfgs, routing=RoutingConfig("fifo", MAX_STREAK)
    )


def fresh_model(config: Config) -> QueueModel:
    return QueueModel(
        services={s.id: (s.prefix, s.daily_quota) for s in config.services},
        counters={cid: MCounter(list(taken or SERVICES)) for cid, taken in ASSIGNMENTS.items()},
        max_streak=MAX_STREAK,
    )


class QueueMachine(RuleBasedStateMachine):
    """Drives the Engine and the model side by side; subclasses provide the store."""

    def __init__(self) -> None:
        super().__init__()
        self.now = START
        self.store = self.make_store()
        config = office_config()
        self.engine = Engine(config, self.store, clock=lambda: self.now)
        self.model = fresh_model(config)
        self.ids: dict[str, str] = {}  # number -> engine ticket id

    def make_store(self) -> Store:
        raise NotImplementedError

    def teardown(self) -> None:
        self.store.close()

    # -- comparing ----------------------------------------------------------------

    def both(self, model_op: Callable[[], Any], engine_op: Callable[[], Any]) -> Any:
        """Run both sides; they must give the same answer or the same refusal."""
        try:
            expected = model_op()
        except Refused as refused:
            expected = ("refused", refused.name)
        try:
            got = engine_op()
        except QueueError as err:
            got = ("refused", type(err).__name__)
        assert got == expected, f"engine {got!r} != model {expected!r}"
        return got

    def ref(self, pick: int, by_id: bool, statuses: tuple[str, ...] = ()) -> str:
        """Mostly an issued ticket in one of `statuses` (any if none fits), by number or id;
        sometimes any ticket, or a number nobody has."""
        numbers = sorted(self.ids)
        if not numbers or pick % 10 == 0:
            return "A999"
        fitting = [n for n in numbers if self.model.tickets[n].status in statuses]
        if fitting and pick % 4:
            numbers = fitting
        number = numbers[pick % len(numbers)]
        return self.ids[number] if by_id else number

    def counter_for(self, pick: int, busy: bool) -> str:
        """Mostly a counter that can act (busy: has a ticket; else open and free);
        sometimes any counter, the unknown one included."""
        model = self.model
        fitting = [
            cid
            for cid, c in sorted(model.counters.items())
            if (bool(c.current) if busy else c.state == "open" and not c.current)
        ]
        if not busy:  # prefer a free counter that someone is waiting for
            fitting = [
                cid
                for cid in fitting
                if any(
                    t.status == "waiting" and t.service in model.counters[cid].services
                    for t in model.tickets.values()
                )
            ] or fitting
        if fitting and pick % 5:
            return fitting[pick % len(fitting)]
        return COUNTER_IDS[pick % len(COUNTER_IDS)]

    def number_of(self, ref: str) -> str:
        return next((n for n, i in self.ids.items() if i == ref), ref)

    # -- rules --------------------------------------------------------------------

    @initialize(
        opened=st.sets(st.sampled_from(["1", "2", "3"])),
        people=st.lists(st.tuples(services, st.booleans()), min_size=3, max_size=12),
    )
    def morning(self, opened: set[str], people: list[tuple[str, bool]]) -> None:
        """Start the day with some counters open and people already waiting."""
        for counter in sorted(opened):
            self.set_state(counter, "open")
        self.issue(people)

    @rule(people=arrivals)
    def issue(self, people: list[tuple[str, bool]]) -> None:
        for service, priority in people:

            def engine_op() -> tuple[str, int]:
                out = self.engine.issue(service, "lansia" if priority else "")
                self.ids[out.ticket.number] = out.ticket.id
                return out.ticket.number, out.people_ahead

            self.both(lambda: self.model.issue(service, priority), engine_op)

    @rule(pick=picks)
    def call_next(self, pick: int) -> None:
        self.compare_call_next(self.counter_for(pick, busy=False))

    def compare_call_next(self, counter: str) -> None:
        def engine_op() -> str | None:
            ticket = self.engine.call_next(counter).ticket
            return ticket.number if ticket else None

        self.both(lambda: self.model.call_next(counter), engine_op)

    @rule(pick=picks, finish=st.sampled_from(["complete", "complete", "no_show", "park"]))
    def next_citizen(self, pick: int, finish: str) -> None:
        """A clerk's usual rhythm at an open counter: finish the ticket there, call the next."""
        open_ids = sorted(cid for cid, c in self.model.counters.items() if c.state == "open")
        if not open_ids:
            return
        counter = open_ids[pick % len(open_ids)]
        if self.model.counters[counter].current:
            self.compare_act(counter, finish)
        self.compare_call_next(counter)

    @rule(at=picks, pick=picks, by_id=st.booleans())
    def call(self, at: int, pick: int, by_id: bool) -> None:
        counter = self.counter_for(at, busy=False)
        ref = self.ref(pick, by_id, ("waiting", "parked", "no_show"))
        self.both(
            lambda: self.model.call(counter, self.number_of(ref)),
            lambda: self.engine.call(counter, ref).ticket.number,
        )

    @rule(pick=picks)
    def recall(self, pick: int) -> None:
        counter = self.counter_for(pick, busy=True)

        def engine_op() -> tuple[str, int]:
            ticket = self.engine.recall(counter).ticket
            return ticket.number, ticket.recalls

        self.both(lambda: self.model.recall(counter), engine_op)

    @rule(pick=picks, action=st.sampled_from(["start", "complete", "no_show", "park", "park"]))
    def act(self, pick: int, action: str) -> None:
        self.compare_act(self.counter_for(pick, busy=True), action)

    def compare_act(self, counter: str, action: str) -> None:
        def engine_op() -> tuple[str, str]:
            ticket = getattr(self.engine, action)(counter).ticket
            return ticket.number, ticket.status.value

        self.both(lambda: self.model.act(counter, action), engine_op)

    @rule(pick=picks, service=services)
    def transfer(self, pick: int, service: str) -> None:
        counter = self.counter_for(pick, busy=True)

        def engine_op() -> tuple[str, str]:
            ticket = self.engine.transfer(counter, service).ticket
            assert ticket.status.value == "waiting"
            return ticket.number, ticket.service

        self.both(lambda: self.model.transfer(counter, service), engine_op)

    @rule(pick=picks, by_id=st.booleans())
    def unpark(self, pick: int, by_id: bool) -> None:
        ref = self.ref(pick, by_id, ("parked",))
        self.both(
            lambda: self.model.unpark(self.number_of(ref)),
            lambda: self.engine.unpark(ref).ticket.status.value,
        )

    @rule(pick=picks, by_id=st.booleans())
    def cancel(self, pick: int, by_id: bool) -> None:
        ref = self.ref(pick, by_id, ("waiting", "called", "parked"))
        self.both(
            lambda: self.model.cancel(self.number_of(ref)),
            lambda: self.engine.cancel(ref).ticket.status.value,
        )

    @rule(counter=counters, state=st.sampled_from(["open", "open", "open", "paused", "closed"]))
    def set_state(self, counter: str, state: str) -> None:
        operation = {
            "open": self.engine.open_counter,
            "paused": self.engine.pause_counter,
            "closed": self.engine.close_counter,
        }[state]
        self.both(
            lambda: self.model.set_state(counter, state),
            lambda: operation(counter).counter.state.value,
        )

    @rule(counter=counters, assignment=assignments)
    def set_services(self, counter: str, assignment: list[tuple[str, int]]) -> None:
        self.both(
            lambda: self.model.set_services(counter, assignment),
            lambda: list(self.engine.set_services(counter, assignment).counter.service_ids),
        )

    @rule(seconds=st.integers(min_value=1, max_value=90))
    def wait(self, seconds: int) -> None:
        self.now += seconds

    # -- after every step ---------------------------------------------------------

    @invariant()
    def stored_state_matches(self) -> None:
        engine, model = self.engine, self.model
        stored = {t.number: t for t in self.store.day_tickets(engine.branch, engine.today())}
        assert set(stored) == set(model.tickets)
        for number, expected in model.tickets.items():
            t = stored[number]
            assert (t.status.value, t.service, t.recalls) == (
                expected.status,
                expected.service,
                expected.recalls,
            ), number
            if expected.status in ("called", "serving"):
                assert t.counter == expected.counter, number
            if expected.status == "waiting":
                assert engine.position(t)[0] == model.people_ahead(number), number
        for counter in engine.counters():
            mc = model.counters[counter.id]
            current = stored[self.number_of(counter.current)].number if counter.current else ""
            assert (counter.state.value, current, list(counter.service_ids)) == (
                mc.state,
                mc.current,
                mc.services,
            ), counter.id
        seq = self.store.seq(engine.branch)
        assert seq >= len(stored)  # every issue took at least its own sequence number


class SQLiteQueueMachine(QueueMachine):
    """A fresh database file for every example."""

    def make_store(self) -> Store:
        self.tmp = tempfile.mkdtemp(prefix="satupintu-model-")
        store = SQLiteStore(Path(self.tmp) / "queue.db")
        # Same SQL, same transactions; only the fsync per commit is skipped (4x faster):
        # durability is not what this test is about, and shrinking runs many examples.
        store._db().execute("PRAGMA synchronous=OFF")
        return store

    def teardown(self) -> None:
        super().teardown()
        shutil.rmtree(self.tmp, ignore_errors=True)


class RedisQueueMachine(QueueMachine):
    """The session's private redis-server, wiped for every example."""

    url = ""  # set from the redis_server fixture before running

    def make_store(self) -> Store:
        from satupintu.store.redis import RedisStore

        client = redis.Redis.from_url(self.url)
        client.flushdb()
        client.close()
        return RedisStore(self.url)


def test_engine_on_sqlite_matches_the_model() -> None:
    run_state_machine_as_test(SQLiteQueueMachine, settings=SETTINGS)


@pytest.mark.redis
def test_engine_on_redis_matches_the_model(redis_server) -> None:
    RedisQueueMachine.url = redis_server.url
    run_state_machine_as_test(RedisQueueMachine, settings=SETTINGS)
