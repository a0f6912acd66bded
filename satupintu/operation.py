"""What every engine operation shares: the Outcome it returns and the loop it runs in.

An operation reads, decides and writes with one version-guarded store call.
`attempt` runs it under the store's write lock and, when a concurrent change
won the race (the store's `ChangedMeanwhile`), reads and decides again.
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import TypeVar

from . import events as ev
from .errors import QueueBusy
from .model import Counter, Ticket
from .store.base import ChangedMeanwhile, Store

T = TypeVar("T")
MAX_ATTEMPTS = 200


@dataclass(frozen=True)
class Outcome:
    """What an operation did: the ticket and/or counter it left, and its events.

    `current` is the ticket at `counter` after the operation (None if the
    counter is free), so callers show the counter without reading it back.
    """

    ticket: Ticket | None
    counter: Counter | None
    events: list[ev.Event]
    current: Ticket | None = None
    people_ahead: int = 0
    estimated_wait_s: int | None = None
    queue: PendingQueue | None = None
    replayed: bool = False  # issue: the Idempotency-Key's earlier ticket, nothing new


@dataclass(frozen=True)
class PendingQueue:
    """The queue_updated event an operation still owes.

    It reads the waiting counts, so the engine builds it after the write,
    outside the retry loop, for `services`, with the estimates over
    `counters`: the branch's counters as the operation read them, its own
    change included (not read back).
    """

    seq: int
    services: frozenset[str]
    counters: list[Counter]


def attempt(store: Store, operation: Callable[[], T]) -> T:
    """Run `operation` in `store.atomic()`, again while it loses a race (QueueBusy at last)."""
    for n in range(MAX_ATTEMPTS):
        try:
            with store.atomic():
                return operation()
        except ChangedMeanwhile:
            time.sleep(random.uniform(0, 0.0005 * min(n + 1, 20)))
    raise QueueBusy("the queue is too busy right now; try again")
