"""Waiting counts and estimated waits.

Estimated wait for a ticket with N people ahead in its service's line:

    N x (mean of the service's latest 20 service times today, or the
         configured service_time_min before there are any)
      / (open counters taking the service; if none is open yet, every counter
         assigned to it; at least 1)

The mean is cached for a few seconds so issuing stays cheap.
"""

from __future__ import annotations

import threading
import time
from typing import TYPE_CHECKING, Any

from .config import Service
from .model import Counter, CounterState
from .views import call_view

if TYPE_CHECKING:
    from .engine import Engine

CACHE_SECONDS = 5.0


class Estimator:
    def __init__(self, engine: Engine):
        self.engine = engine
        self._means: dict[tuple[str, str], tuple[float, float]] = {}
        self._lock = threading.Lock()

    def mean_service_s(self, service_id: str) -> float:
        """Recent mean seconds at the counter for a service (cached briefly)."""
        engine = self.engine
        day = engine.today()
        key = (day, service_id)
        now = time.monotonic()
        with self._lock:
            cached = self._means.get(key)
        if cached and now - cached[1] < CACHE_SECONDS:
            return cached[0]
        times = engine.store.service_times(engine.branch, day, service_id)
        if times:
            mean = sum(times) / len(times)
        else:
            mean = engine.service(service_id).service_time_min * 60.0
        with self._lock:
            self._means[key] = (mean, now)
        return mean

    def forget(self) -> None:
        """Drop the cached means (a manager changed a service's time)."""
        with self._lock:
            self._means.clear()

    def counters_taking(self, service_id: str,
                        counters: list[Counter] | None = None) -> tuple[int, int]:
        """(open counters taking the service, all counters assigned to it).

        `counters`: the branch's counters if the caller already read them (one
        store read per operation instead of one per estimate).
        """
        if counters is None:
            counters = self.engine.counters()
        taking = [c for c in counters if service_id in c.service_ids]
        return sum(c.state is CounterState.OPEN for c in taking), len(taking)

    def wait_for(self, service_id: str, ahead: int,
                 counters: list[Counter] | None = None) -> int | None:
        """Estimated seconds until a ticket with `ahead` people before it is called."""
        open_n, assigned = self.counters_taking(service_id, counters)
        if assigned == 0:
            return None  # no counter takes this service at all
        return round(ahead * self.mean_service_s(service_id) / max(1, open_n or assigned))

    def summary(self, service_id: str, waiting: int,
                counters: list[Counter] | None = None) -> dict[str, Any]:
        if counters is None:
            counters = self.engine.counters()
        open_n, _ = self.counters_taking(service_id, counters)
        return {
            "waiting": waiting,
            "estimated_wait_s": self.wait_for(service_id, waiting, counters),
            "counters_open": open_n,
        }

    def queue_summary(self, service_ids: list[str]) -> dict[str, dict[str, Any]]:
        engine = self.engine
        counts = engine.store.waiting_counts(engine.branch, engine.today())
        counters = engine.counters()
        return {s: self.summary(s, counts.get(s, 0), counters) for s in service_ids}

    def catalogue(self, services: tuple[Service, ...] | None = None) -> list[dict[str, Any]]:
        """Every service (default: the engine's) with its standard, waiting count and wait."""
        engine = self.engine
        counts = engine.store.waiting_counts(engine.branch, engine.today())
        counters = engine.counters()
        return [
            {**s.to_dict(), **self.summary(s.id, counts.get(s.id, 0), counters)}
            for s in (engine.services() if services is None else services)
        ]

    def recent_calls(self, limit: int) -> list[dict[str, Any]]:
        engine = self.engine
        return [call_view(c, engine.tz) for c in engine.store.recent_calls(engine.branch, limit)]
