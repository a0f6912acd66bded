"""The model's tables: which actions a counter offers, and that the engine agrees with them."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from satupintu.config import Config
from satupintu.engine import Engine
from satupintu.errors import QueueError
from satupintu.model import Counter, CounterState, TicketStatus, counter_actions
from satupintu.store.sqlite import SQLiteStore
from tests.conftest import Clock

ALL = [
    "open",
    "pause",
    "close",
    "call-next",
    "call",
    "recall",
    "start",
    "complete",
    "no-show",
    "park",
    "transfer",
    "reprint",
]


def counter(state: CounterState, current: str = "") -> Counter:
    return Counter("1", "main", "Loket 1", state, (("ktp", 1),), current=current)


@pytest.mark.parametrize(
    "state, status, expected",
    [
        (CounterState.CLOSED, None, ["open"]),
        (CounterState.PAUSED, None, ["open", "close"]),
        (CounterState.OPEN, None, ["pause", "close", "call-next", "call"]),
        (
            CounterState.OPEN,
            TicketStatus.CALLED,
            ["pause", "recall", "start", "complete", "no-show", "park", "transfer", "reprint"],
        ),
        (
            CounterState.OPEN,
            TicketStatus.SERVING,
            ["pause", "complete", "park", "transfer", "reprint"],
        ),
        (
            CounterState.PAUSED,
            TicketStatus.SERVING,
            ["open", "complete", "park", "transfer", "reprint"],
        ),
    ],
)
def test_counter_actions(state, status, expected):
    assert counter_actions(counter(state, "t1" if status else ""), status) == expected


# -- the engine does what the list offers, and refuses the calls and ticket actions it does not


def scenario(engine: Engine, name: str) -> None:
    """Counter 1 in a state, with a ticket waiting for it (ktp) either way."""
    engine.issue("ktp")
    if name == "closed":
        return
    engine.open_counter("1", "siti")
    if name in ("called", "serving", "paused_serving"):
        engine.issue("ktp")
        engine.call_next("1")
    if name in ("serving", "paused_serving"):
        engine.start("1")
    if name in ("paused", "paused_serving"):
        engine.pause_counter("1")


def act(engine: Engine, action: str) -> None:
    waiting = engine.waiting_for("1")
    do: dict[str, Callable[[], object]] = {
        "open": lambda: engine.open_counter("1", "budi"),
        "pause": lambda: engine.pause_counter("1"),
        "close": lambda: engine.close_counter("1"),
        "call-next": lambda: engine.call_next("1"),
        "call": lambda: engine.call("1", waiting[0].id),
        "recall": lambda: engine.recall("1"),
        "start": lambda: engine.start("1"),
        "complete": lambda: engine.complete("1"),
        "no-show": lambda: engine.no_show("1"),
        "park": lambda: engine.park("1"),
        "transfer": lambda: engine.transfer("1", "kk"),
    }
    do[action]()


# Not offered, yet accepted by the API: re-opening hands an open desk to another clerk;
# a pause or close that changes nothing is no error.
LENIENT = {"open", "pause", "close"}


@pytest.mark.parametrize(
    "name", ["closed", "paused", "open", "called", "serving", "paused_serving"]
)
def test_the_engine_does_what_the_counter_offers(config: Config, tmp_path: Path, name: str):
    def fresh(i: int) -> Engine:
        engine = Engine(config, SQLiteStore(tmp_path / f"{i}.db"), clock=Clock())
        scenario(engine, name)
        return engine

    probe = fresh(0)
    c = probe.counter("1")
    current = probe.ticket(c.current).status if c.current else None
    offered = counter_actions(c, current)
    assert offered  # every state offers something
    for i, action in enumerate(ALL, 1):
        if action == "reprint":
            continue  # printing: tests/printer
        engine = fresh(i)
        if action in offered:
            act(engine, action)  # no refusal
        elif action not in LENIENT:
            with pytest.raises(QueueError):
                act(engine, action)
