"""Managers' and clerks' operations on the counters themselves.

Reading the branch's counters, opening, pausing and closing them, and the
services each one takes. Each operation is one version-guarded write (see
operation.py); the engine publishes its events and the queue summary it owes.
"""

from __future__ import annotations

from collections.abc import Callable

from .catalogue import Catalogue
from .config import Config
from .errors import BadRequest, CounterBusy, NoSuchCounter, NoSuchService
from .events import EventBuilder
from .model import Counter, CounterState, Routing
from .operation import Outcome, PendingQueue, attempt
from .store.base import Change, Store


class CounterOps:
    """The counters of one branch, as config.toml names them."""

    def __init__(self, config: Config, store: Store, catalogue: Catalogue, events: EventBuilder):
        self.config = config
        self.store = store
        self.branch = config.office.branch
        self.catalogue = catalogue
        self.events = events

    def seed(self) -> None:
        """Create config.toml's counters that the store does not have yet (closed)."""
        self.store.seed_counters([self._initial(c.id) for c in self.config.counters])

    def _initial(self, counter_id: str) -> Counter:
        cfg = self.config.counter(counter_id)
        assert cfg is not None
        services = cfg.services or tuple((s, 1) for s in self.config.service_ids)
        return Counter(cfg.id, self.branch, cfg.name, CounterState.CLOSED, services)

    # -- reading ----------------------------------------------------------------

    def get(self, counter_id: str) -> Counter:
        """One counter, or NoSuchCounter."""
        if self.config.counter(counter_id) is None:
            raise NoSuchCounter(f"unknown counter {counter_id!r}")
        counter = self.store.counter(self.branch, counter_id)
        if counter is None:
            raise NoSuchCounter(f"unknown counter {counter_id!r}")
        return counter

    def all(self) -> list[Counter]:
        """The branch's counters that config.toml still names, by id."""
        known = {c.id for c in self.config.counters}
        return [c for c in self.store.counters(self.branch) if c.id in known]

    def pick(self, counters: list[Counter], counter_id: str) -> Counter:
        """The counter `counter_id` among `counters` (read with `all`), or NoSuchCounter."""
        found = next((c for c in counters if c.id == counter_id), None)
        if found is None:
            raise NoSuchCounter(f"unknown counter {counter_id!r}")
        return found

    # -- changing -----------------------------------------------------------------

    def _update(self, counter_id: str, change: Callable[[Counter], Counter]) -> Outcome:
        def op() -> Outcome:
            counters = self.all()
            counter = self.pick(counters, counter_id)
            updated = change(counter)
            seqs = self.store.commit(
                self.branch, Change(counters=[(counter, updated)], seq_count=2)
            )
            current = self.store.ticket(self.branch, updated.current) if updated.current else None
            services = frozenset(updated.service_ids) | frozenset(counter.service_ids)
            after = [updated if c.id == counter.id else c for c in counters]
            return Outcome(
                None,
                updated,
                [self.events.counter(seqs[0], updated, current)],
                current=current,
                queue=PendingQueue(seqs[1], services, after),
            )

        return attempt(self.store, op)

    def open(self, counter_id: str, clerk: str = "") -> Outcome:
        """Open a counter (under the clerk's name); it calls from now on."""
        return self._update(
            counter_id, lambda c: c.evolve(state=CounterState.OPEN, clerk=clerk or c.clerk)
        )

    def pause(self, counter_id: str) -> Outcome:
        """Pause a counter (a break): it calls nobody until opened again."""
        return self._update(counter_id, lambda c: c.evolve(state=CounterState.PAUSED))

    def close(self, counter_id: str) -> Outcome:
        """Close a counter; refused while a ticket is at it."""

        def close(c: Counter) -> Counter:
            if c.current:
                raise CounterBusy(f"{c.name} still has a ticket; finish it before closing")
            return c.evolve(state=CounterState.CLOSED, clerk="")

        return self._update(counter_id, close)

    def set_services(self, counter_id: str, services: list[tuple[str, int]]) -> Outcome:
        """Change which services a counter takes (and their weights); the next call obeys."""
        if not services:
            raise BadRequest(
                "a counter must take at least one service; pause or close it instead",
                field="services",
            )
        seen = set()
        listing = self.catalogue.current()
        for i, (service_id, weight) in enumerate(services):
            if listing.service(service_id) is None:
                raise NoSuchService(f"unknown service {service_id!r}", field=f"services[{i}].id")
            if service_id in seen:
                raise BadRequest(f"service {service_id!r} listed twice", field=f"services[{i}]")
            if not 1 <= weight <= 100:
                raise BadRequest("weight must be between 1 and 100", field=f"services[{i}].weight")
            seen.add(service_id)

        def change(c: Counter) -> Counter:
            credits = {s: v for s, v in c.routing.credits.items() if s in seen}
            return c.evolve(
                services=tuple(services), routing=Routing(c.routing.priority_streak, credits)
            )

        return self._update(counter_id, change)
