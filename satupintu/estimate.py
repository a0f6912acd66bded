"""Waiting counts and estimated waits.

Estimated wait for a ticket with N people ahead in its service's line:

    N x (mean of the service's latest 20 service times today, or the
         configured service_time_min before there are any)
      / (open counters taking the service; if none is open yet, every counter
         assigned to it; at least 1)

The recent times are cached for a few seconds so issuing stays cheap; the
configured time comes from the catalogue, so a manager's edit applies at once.
The caller passes the branch's counters it read (one read per operation).
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from typing import Any
from zoneinfo import ZoneInfo

from .catalogue import Catalogue
from .config import Service
from .model import Counter, CounterState, local_day
from .store.base import Store

CACHE_SECONDS = 5.0


class Estimator:
    """Estimates over the store's counts and times and the catalogue's service times."""

    def __init__(
        self,
        store: Store,
        branch: str,
        tz: ZoneInfo,
        clock: Callable[[], float],
        catalogue: Catalogue,
    ):
        self.store = store
        self.branch = branch
        self.tz = tz
        self.clock = clock
        self.catalogue = catalogue
        # (day, service) -> (mean of the recent times or None if none yet, when read)
        self._means: dict[tuple[str, str], tuple[float | None, float]] = {}
        self._lock = threading.Lock()

    def mean_service_s(self, service_id: str) -> float:
        """Recent mean seconds at the counter for a service (cached briefly)."""
        key = (local_day(self.clock(), self.tz), service_id)
        now = time.monotonic()
        with self._lock:
            cached = self._means.get(key)
        if cached and now - cached[1] < CACHE_SECONDS:
            mean = cached[0]
        else:
            times = self.store.service_times(self.branch, key[0], service_id)
            mean = sum(times) / len(times) if times else None
            with self._lock:
                self._means[key] = (mean, now)
        if mean is not None:
            return mean
        service = self.catalogue.current().service(service_id)
        return service.service_time_min * 60.0 if service else 0.0

    @staticmethod
    def counters_taking(service_id: str, counters: list[Counter]) -> tuple[int, int]:
        """(open counters taking the service, all counters assigned to it)."""
        taking = [c for c in counters if service_id in c.service_ids]
        return sum(c.state is CounterState.OPEN for c in taking), len(taking)

    def wait_for(self, service_id: str, ahead: int, counters: list[Counter]) -> int | None:
        """Estimated seconds until a ticket with `ahead` people before it is called."""
        open_n, assigned = self.counters_taking(service_id, counters)
        if assigned == 0:
            return None  # no counter takes this service at all
        return round(ahead * self.mean_service_s(service_id) / max(1, open_n or assigned))

    def summary(self, service_id: str, waiting: int, counters: list[Counter]) -> dict[str, Any]:
        """A service's waiting count, estimated wait, open and assigned counters."""
        open_n, assigned = self.counters_taking(service_id, counters)
        return {
            "waiting": waiting,
            "estimated_wait_s": self.wait_for(service_id, waiting, counters),
            "counters_open": open_n,
            "counters_assigned": assigned,
            "counters_total": len(counters),
        }

    def queue_summary(
        self, service_ids: list[str], counters: list[Counter]
    ) -> dict[str, dict[str, Any]]:
        """`summary` of each service, from the waiting counts read now."""
        counts = self.store.waiting_counts(self.branch, local_day(self.clock(), self.tz))
        return {s: self.summary(s, counts.get(s, 0), counters) for s in service_ids}

    def with_waits(
        self, services: tuple[Service, ...], counters: list[Counter]
    ) -> list[dict[str, Any]]:
        """Each service's fields with its waiting count, estimated wait and open counters."""
        summaries = self.queue_summary([s.id for s in services], counters)
        return [{**s.to_dict(), **summaries[s.id]} for s in services]
