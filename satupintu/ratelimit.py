"""Rate limits counted in the store, so every server process shares them.

A `Limiter` is a sliding window per key (a kiosk user, a client address, an
account) over the store's atomic `hit`: checking and counting are one step,
so requests racing in parallel, on any number of processes, cannot get past
the limit between the check and the count.
"""

from __future__ import annotations

import time
from collections.abc import Callable

from .store.base import Store


class Limiter:
    """At most `limit` hits per key in any `window` seconds, shared through the store."""

    def __init__(
        self,
        store: Store,
        name: str,
        limit: int,
        window: float = 60.0,
        clock: Callable[[], float] = time.time,
    ):
        self.store = store
        self.name = name
        self.limit = limit
        self.window = window
        self.clock = clock  # epoch seconds: every process must agree on it

    def hit(self, key: str) -> float:
        """Count a hit and return 0, or return seconds to wait (counting nothing)."""
        return self.store.hit(f"{self.name}:{key}", self.limit, self.window, self.clock())

    def reset(self, key: str) -> None:
        """Forget the hits of one key."""
        self.store.clear_hits(f"{self.name}:{key}")
