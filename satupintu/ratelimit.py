"""An in-process sliding-window rate limiter (per key, e.g. per kiosk user).

It counts within one server process only: with N processes behind a balancer a
user may get up to N times the limit, which is acceptable for its purpose (a
stuck or abused kiosk must not drain the day's numbers in seconds).
"""

from __future__ import annotations

import threading
import time
from collections import deque
from collections.abc import Callable


class SlidingWindow:
    """At most `limit` hits per key in any `window` seconds."""

    def __init__(self, limit: int, window: float = 60.0,
                 clock: Callable[[], float] = time.monotonic):
        self.limit = limit
        self.window = window
        self.clock = clock
        self._hits: dict[str, deque[float]] = {}
        self._lock = threading.Lock()

    def _prune(self, hits: deque[float], now: float) -> None:
        while hits and hits[0] <= now - self.window:
            hits.popleft()

    def hit(self, key: str) -> float:
        """Record a hit and return 0, or return seconds to wait (recording nothing)."""
        now = self.clock()
        with self._lock:
            hits = self._hits.setdefault(key, deque())
            self._prune(hits, now)
            if len(hits) >= self.limit:
                return max(0.001, hits[0] + self.window - now)
            hits.append(now)
            # Forget idle keys so the dict does not grow with every name ever seen.
            if len(self._hits) > 10_000:
                for k in [k for k, v in self._hits.items() if not v or v[-1] <= now - self.window]:
                    del self._hits[k]
            return 0.0

    def wait(self, key: str) -> float:
        """Seconds until `key` may hit again (0 if it may now); records nothing."""
        now = self.clock()
        with self._lock:
            hits = self._hits.get(key)
            if not hits:
                return 0.0
            self._prune(hits, now)
            if len(hits) < self.limit:
                return 0.0
            return max(0.001, hits[0] + self.window - now)

    def reset(self, key: str | None = None) -> None:
        """Forget the hits of one key (or of all)."""
        with self._lock:
            if key is None:
                self._hits.clear()
            else:
                self._hits.pop(key, None)
