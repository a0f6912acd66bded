"""Managers' and clerks' operations on counters and the catalogue, mixed into Engine.

Opening, pausing and closing counters, the services each counter takes, and
the managers' edits of the service catalogue. They use the Engine's retry
loop, event builders and listeners (engine.py), so they obey the same rule:
one version-guarded write per operation, events after it is durable.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, TypeVar

from . import events as ev
from .catalogue import Edited, Overrides, added, edited, reset
from .config import Service
from .errors import BadRequest, CounterBusy, NoSuchService
from .model import Counter, CounterState, Routing, Ticket
from .store.base import Change

if TYPE_CHECKING:
    from .catalogue import Catalogue
    from .config import Config
    from .estimate import Estimator
    from .store.base import Store

T = TypeVar("T")


@dataclass(frozen=True)
class Outcome:
    """What an operation did: the ticket and/or counter it left, and its events."""

    ticket: Ticket | None
    counter: Counter | None
    events: list[ev.Event]
    people_ahead: int = 0
    estimated_wait_s: int | None = None
    # (seq, services) of the queue_updated event still to build: it reads the
    # waiting counts, so it is built after the write, outside the retry loop.
    queue: tuple[int, frozenset[str]] | None = None



class ManagementOps:
    """Counter and catalogue operations (see the module docstring)."""

    # What Engine (engine.py) provides, declared so these methods type-check.
    config: Config
    store: Store
    branch: str
    catalogue: Catalogue
    estimator: Estimator

    if TYPE_CHECKING:
        def counter(self, counter_id: str) -> Counter: ...
        def service(self, service_id: str) -> Service: ...
        def _retry(self, operation: Callable[[], T]) -> T: ...
        def _emit(self, events: list[ev.Event]) -> list[ev.Event]: ...
        def _counter_event(self, seq: int, c: Counter, current: Ticket | None) -> ev.Event: ...
        def _finish(self, outcome: Outcome) -> Outcome: ...

    # -- counters -------------------------------------------------------------

    def _update_counter(
        self, counter_id: str, change: Callable[[Counter], Counter]
    ) -> Outcome:
        def op() -> Outcome:
            counter = self.counter(counter_id)
            updated = change(counter)
            seqs = self.store.commit(self.branch, Change(counters=[(counter, updated)], events=2))
            current = self.store.ticket(self.branch, updated.current) if updated.current else None
            services = frozenset(updated.service_ids) | frozenset(counter.service_ids)
            return Outcome(None, updated, [self._counter_event(seqs[0], updated, current)],
                           queue=(seqs[1], services))
        return self._finish(self._retry(op))

    def open_counter(self, counter_id: str, clerk: str = "") -> Outcome:
        return self._update_counter(
            counter_id, lambda c: c.evolve(state=CounterState.OPEN, clerk=clerk or c.clerk))

    def pause_counter(self, counter_id: str) -> Outcome:
        return self._update_counter(counter_id, lambda c: c.evolve(state=CounterState.PAUSED))

    def close_counter(self, counter_id: str) -> Outcome:
        def close(c: Counter) -> Counter:
            if c.current:
                raise CounterBusy(f"{c.name} still has a ticket; finish it before closing")
            return c.evolve(state=CounterState.CLOSED, clerk="")
        return self._update_counter(counter_id, close)

    def set_services(self, counter_id: str, services: list[tuple[str, int]]) -> Outcome:
        """Change which services a counter takes (and their weights); the next call obeys."""
        if not services:
            raise BadRequest("a counter must take at least one service; pause or close it "
                             "instead", field="services")
        seen = set()
        catalogue = self.catalogue.current()
        for i, (service_id, weight) in enumerate(services):
            if catalogue.service(service_id) is None:
                raise NoSuchService(f"unknown service {service_id!r}",
                                    field=f"services[{i}].id")
            if service_id in seen:
                raise BadRequest(f"service {service_id!r} listed twice", field=f"services[{i}]")
            if not 1 <= weight <= 100:
                raise BadRequest("weight must be between 1 and 100",
                                 field=f"services[{i}].weight")
            seen.add(service_id)

        def change(c: Counter) -> Counter:
            credits = {s: v for s, v in c.routing.credits.items() if s in seen}
            return c.evolve(services=tuple(services),
                            routing=Routing(c.routing.priority_streak, credits))
        return self._update_counter(counter_id, change)

    # -- the service catalogue (catalogue.py) ------------------------------------

    def services(self) -> tuple[Service, ...]:
        """Every service: config.toml with the managers' edits (at most a second old)."""
        return self.catalogue.current().services

    def update_service(self, service_id: str, fields: dict[str, Any],
                       version: int | None = None) -> Edited:
        """Change some fields of a service (a manager's edit); the next ticket uses them."""
        return self._edit_catalogue(
            service_id, version, lambda o: edited(self.config.services, o, service_id, fields))

    def add_service(self, fields: dict[str, Any], version: int | None = None) -> Edited:
        """Add a service; it is on no counter until a manager assigns it."""
        return self._edit_catalogue(str(fields.get("id", "")), version,
                                    lambda o: added(self.config.services, o, fields))

    def reset_service(self, service_id: str, version: int | None = None) -> Edited:
        """Drop the managers' edits of a service: back to what config.toml says."""
        return self._edit_catalogue(
            service_id, version, lambda o: reset(self.config.services, o, service_id))

    def _edit_catalogue(self, service_id: str, version: int | None,
                        change: Callable[[Overrides], Overrides]) -> Edited:
        new_version, seqs = self._retry(lambda: self.catalogue.write(change, version))
        self.estimator.forget()
        events = [ev.Event(ev.CATALOGUE_UPDATED, seq, self.branch,
                           {"service": service_id, "version": new_version}) for seq in seqs]
        return Edited(self.service(service_id), new_version, self._emit(events))
