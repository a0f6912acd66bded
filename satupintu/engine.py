"""The queue engine: every operation of the office, in plain Python (no Flask).

Each operation reads what it needs, decides with the transition table and the
routing policy, and writes everything with one atomic store operation; if a
concurrent change got there first (Conflict) it reads again and retries.
It returns the events it caused, numbered by the branch sequence, and hands
them to the listeners (the Socket.IO adapter) after the write is durable.
"""

from __future__ import annotations

import random
import secrets
import time
from collections.abc import Callable
from datetime import datetime
from typing import Any, TypeVar

from . import events as ev
from .announce import announcements
from .catalogue import Catalogue
from .config import Config, Service
from .errors import (
    BadRequest,
    Conflict,
    CounterBusy,
    CounterClosed,
    InvalidTransition,
    NoCurrentTicket,
    NoSuchCounter,
    NoSuchService,
    NoSuchTicket,
    ServiceClosed,
)
from .estimate import Estimator
from .management import ManagementOps, Outcome
from .model import (
    PRIORITY_GROUPS,
    Call,
    Counter,
    CounterState,
    Routing,
    Ticket,
    TicketStatus,
    check_transition,
)
from .policy import choose
from .store.base import Change, Store
from .views import counter_view, ticket_view

T = TypeVar("T")
MAX_ATTEMPTS = 200
ID_ALPHABET = "abcdefghijkmnpqrstuvwxyz23456789"


def new_ticket_id() -> str:
    return "".join(secrets.choice(ID_ALPHABET) for _ in range(12))


class Engine(ManagementOps):
    """Operations on one branch's queue, over any Store."""

    def __init__(self, config: Config, store: Store, clock: Callable[[], float] = time.time):
        self.config = config
        self.store = store
        self.clock = clock
        self.branch = config.office.branch
        self.tz = config.office.tz
        self.listeners: list[Callable[[list[ev.Event]], None]] = []
        self.estimator = Estimator(self)
        self.catalogue = Catalogue(config, store, self.branch)
        store.seed_counters([self._initial_counter(c.id) for c in config.counters])

    # -- helpers --------------------------------------------------------------

    def today(self, now: float | None = None) -> str:
        """The local date (office time zone) of `now`."""
        moment = self.clock() if now is None else now
        return datetime.fromtimestamp(moment, self.tz).date().isoformat()

    def _initial_counter(self, counter_id: str) -> Counter:
        cfg = self.config.counter(counter_id)
        assert cfg is not None
        services = cfg.services or tuple((s, 1) for s in self.config.service_ids)
        return Counter(cfg.id, self.branch, cfg.name, CounterState.CLOSED, services)

    def _retry(self, operation: Callable[[], T]) -> T:
        for attempt in range(MAX_ATTEMPTS):
            try:
                with self.store.atomic():
                    return operation()
            except Conflict:
                time.sleep(random.uniform(0, 0.0005 * min(attempt + 1, 20)))
        raise Conflict("the queue is too busy right now; try again")

    def _emit(self, events: list[ev.Event]) -> list[ev.Event]:
        for listener in self.listeners:
            listener(events)
        return events

    def service(self, service_id: str) -> Service:
        service = self.catalogue.current().service(service_id)
        if service is None:
            raise NoSuchService(f"unknown service {service_id!r}", field="service")
        return service

    def counter(self, counter_id: str) -> Counter:
        if self.config.counter(counter_id) is None:
            raise NoSuchCounter(f"unknown counter {counter_id!r}")
        counter = self.store.counter(self.branch, counter_id)
        if counter is None:
            raise NoSuchCounter(f"unknown counter {counter_id!r}")
        return counter

    def counters(self) -> list[Counter]:
        known = {c.id for c in self.config.counters}
        return [c for c in self.store.counters(self.branch) if c.id in known]

    def ticket(self, ref: str) -> Ticket:
        """A ticket by id, or by today's number ("A012")."""
        ticket = None
        if len(ref) <= 64:
            ticket = self.store.ticket(self.branch, ref)
            digits = ref[1:]
            if ticket is None and ref[:1].isalpha() and digits.isascii() and digits.isdigit():
                # A clerk may type "a12" for A012: same letter, same number.
                number = f"{ref[0].upper()}{int(digits):03d}"
                ticket = self.store.ticket_by_number(self.branch, self.today(), number)
        if ticket is None:
            raise NoSuchTicket(f"no ticket {ref[:64]!r}")
        return ticket

    def _current(self, counter: Counter) -> Ticket:
        if not counter.current:
            raise NoCurrentTicket(f"{counter.name} has no ticket at the counter")
        ticket = self.store.ticket(self.branch, counter.current)
        if ticket is None:
            raise NoCurrentTicket(f"{counter.name} has no ticket at the counter")
        return ticket

    def _counter_name(self, counter_id: str) -> str:
        cfg = self.config.counter(counter_id) if counter_id else None
        return cfg.name if cfg else ""

    # -- event builders -------------------------------------------------------

    def _ticket_event(self, name: str, seq: int, t: Ticket, **extra: Any) -> ev.Event:
        data = {"ticket": ticket_view(t, self.tz, self._counter_name(t.counter)), **extra}
        return ev.Event(name, seq, self.branch, data, ticket=t.id, counter=t.counter)

    def _counter_event(self, seq: int, c: Counter, current: Ticket | None) -> ev.Event:
        public = counter_view(c, current, self.tz, staff=False)
        return ev.Event(
            ev.COUNTER_UPDATED, seq, self.branch, {"counter": public}, counter=c.id,
            private={"counter": counter_view(c, current, self.tz, staff=True)},
        )

    def _queue_event(self, seq: int, services: set[str]) -> ev.Event:
        return ev.Event(ev.QUEUE_UPDATED, seq, self.branch,
                        {"services": self.estimator.queue_summary(sorted(services))})

    # -- citizens -------------------------------------------------------------

    def issue(self, service_id: str, priority: str = "", kiosk: str = "") -> Outcome:
        """Issue a new ticket for a service (the kiosk's 'Ambil nomor')."""
        service = self.service(service_id)
        if not service.enabled:
            raise ServiceClosed(f"{service.name.id} is not taking tickets now", service=service.id)
        if priority and priority not in PRIORITY_GROUPS:
            raise BadRequest(
                f"priority must be one of {', '.join(PRIORITY_GROUPS)}", field="priority"
            )
        now = self.clock()
        draft = Ticket(
            id=new_ticket_id(), branch=self.branch, day=self.today(now), number="",
            service=service.id, origin_service=service.id, priority=priority,
            status=TicketStatus.WAITING, sort_key=0, issued_at=now, kiosk=kiosk,
        )
        # The sort key is itself a fresh branch sequence number: it doubles as the
        # ticket_issued event's seq, so issuing leaves no gap clients would resync on.
        issued = self.store.issue(draft, service.prefix, service.daily_quota, events=1)
        t = issued.ticket
        counters = self.counters()  # read once for both estimates
        estimate = self.estimator.wait_for(service.id, issued.people_ahead, counters)
        summary = self.estimator.summary(service.id, issued.waiting, counters)
        events = [
            self._ticket_event(ev.TICKET_ISSUED, t.sort_key, t),
            ev.Event(ev.QUEUE_UPDATED, issued.seqs[0], self.branch,
                     {"services": {service.id: summary}}),
        ]
        return Outcome(t, None, self._emit(events), issued.people_ahead, estimate)

    def position(self, ticket: Ticket) -> tuple[int, int | None]:
        """People ahead and estimated wait (seconds) of a waiting ticket."""
        if ticket.status is not TicketStatus.WAITING:
            return 0, None
        ahead = self.store.people_ahead(ticket)
        return ahead, self.estimator.wait_for(ticket.service, ahead)

    def waiting_for(self, counter_id: str, limit: int = 50) -> list[Ticket]:
        """Waiting tickets a counter may call: priority first, then place in line (fifo order)."""
        counter = self.counter(counter_id)
        day = self.today()
        tickets = [t for s in counter.service_ids
                   for t in self.store.waiting(self.branch, day, s, limit)]
        tickets.sort(key=lambda t: (not t.is_priority, t.sort_key, t.id))
        return tickets[:limit]

    # -- calling --------------------------------------------------------------

    def call_next(self, counter_id: str) -> Outcome:
        """Call the next ticket for a counter by the branch policy; ticket None if nobody waits."""
        def op() -> Outcome:
            counter = self._ready_counter(counter_id)
            now = self.clock()
            heads = self.store.heads(self.branch, self.today(now), counter.service_ids)
            targets = {s.id: s.target_wait_min * 60.0 for s in self.services()}
            choice = choose(self.config.routing.policy, counter, heads, targets, now,
                            self.config.routing.max_consecutive_priority)
            if choice is None:
                return Outcome(None, counter, [])
            return self._commit_call(counter, choice.ticket, choice.routing, now)
        return self._finish(self._retry(op))

    def call(self, counter_id: str, ticket_ref: str) -> Outcome:
        """Call one particular ticket (waiting, parked, or a late no-show) to a counter."""
        def op() -> Outcome:
            counter = self._ready_counter(counter_id)
            ticket = self.ticket(ticket_ref)
            return self._commit_call(counter, ticket, counter.routing, self.clock())
        return self._finish(self._retry(op))

    def _ready_counter(self, counter_id: str) -> Counter:
        counter = self.counter(counter_id)
        if counter.state is not CounterState.OPEN:
            raise CounterClosed(f"{counter.name} is {counter.state.value}; open it first")
        if counter.current:
            raise CounterBusy(
                f"{counter.name} still has a ticket; complete, no-show, park or transfer it first"
            )
        return counter

    def _commit_call(self, counter: Counter, ticket: Ticket, routing: Routing,
                     now: float) -> Outcome:
        check_transition("call", ticket.status)
        if ticket.day != self.today(now):
            raise InvalidTransition(
                f"ticket {ticket.number} is from {ticket.day}; a ticket is valid on its own day",
                status=ticket.status.value, action="call")
        called = ticket.evolve(status=TicketStatus.CALLED, called_at=now, counter=counter.id,
                               started_at=0.0, finished_at=0.0)
        new_counter = counter.evolve(current=ticket.id, routing=routing)
        call = Call(ticket.id, ticket.number, ticket.service, counter.id, counter.name, now)
        seqs = self.store.commit(self.branch, Change(
            tickets=[(ticket, called)], counters=[(counter, new_counter)], calls=[call], events=3,
        ))
        events = [
            self._ticket_event(ev.TICKET_CALLED, seqs[0], called, recall=False,
                               announcement=announcements(called.number, counter.name)),
            self._counter_event(seqs[1], new_counter, called),
        ]
        return Outcome(called, new_counter, events, queue=(seqs[2], frozenset({ticket.service})))

    def _finish(self, outcome: Outcome) -> Outcome:
        """Build deferred queue events (outside the retry loop) and notify listeners."""
        events = list(outcome.events)
        if outcome.queue is not None:
            seq, services = outcome.queue
            events.append(self._queue_event(seq, set(services)))
        return Outcome(outcome.ticket, outcome.counter, self._emit(events))

    def recall(self, counter_id: str) -> Outcome:
        """Announce the counter's called ticket again."""
        def op() -> Outcome:
            counter = self.counter(counter_id)
            ticket = self._current(counter)
            check_transition("recall", ticket.status)
            now = self.clock()
            recalled = ticket.evolve(recalls=ticket.recalls + 1)
            call = Call(ticket.id, ticket.number, ticket.service, counter.id, counter.name, now,
                        recall=True)
            seqs = self.store.commit(self.branch, Change(
                tickets=[(ticket, recalled)], calls=[call], events=1))
            event = self._ticket_event(ev.TICKET_CALLED, seqs[0], recalled, recall=True,
                                       announcement=announcements(ticket.number, counter.name))
            return Outcome(recalled, counter, [event])
        return self._finish(self._retry(op))

    # -- serving --------------------------------------------------------------

    def _act_on_current(self, counter_id: str, action: str, **changes: Any) -> Outcome:
        """Apply `action` to the counter's current ticket; frees the counter if it leaves."""
        def op() -> Outcome:
            counter = self.counter(counter_id)
            ticket = self._current(counter)
            status = check_transition(action, ticket.status)
            return self._commit_update(ticket, status, counter, **changes)
        return self._finish(self._retry(op))

    def _commit_update(self, ticket: Ticket, status: TicketStatus, at_counter: Counter | None,
                       **changes: Any) -> Outcome:
        now = self.clock()
        stamp: dict[str, Any] = {}
        if status is TicketStatus.SERVING:
            stamp["started_at"] = now
        elif status in (TicketStatus.DONE, TicketStatus.NO_SHOW, TicketStatus.CANCELLED):
            stamp["finished_at"] = now
        updated = ticket.evolve(status=status, **{**stamp, **changes})
        pairs: list[tuple[Counter | None, Counter]] = []
        counter = at_counter
        leaves = counter is not None and status not in (TicketStatus.CALLED, TicketStatus.SERVING)
        new_counter = counter
        if counter is not None and leaves and counter.current == ticket.id:
            new_counter = counter.evolve(current="")
            pairs.append((counter, new_counter))
        seqs = self.store.commit(self.branch, Change(
            tickets=[(ticket, updated)], counters=pairs, events=2 + len(pairs)))
        events = [self._ticket_event(ev.TICKET_UPDATED, seqs[0], updated)]
        if pairs:
            assert new_counter is not None
            events.append(self._counter_event(seqs[1], new_counter, None))
        queue = (seqs[-1], frozenset({ticket.service, updated.service}))
        return Outcome(updated, new_counter, events, queue=queue)

    def start(self, counter_id: str) -> Outcome:
        return self._act_on_current(counter_id, "start")

    def complete(self, counter_id: str) -> Outcome:
        return self._act_on_current(counter_id, "complete")

    def no_show(self, counter_id: str) -> Outcome:
        return self._act_on_current(counter_id, "no_show")

    def park(self, counter_id: str) -> Outcome:
        return self._act_on_current(counter_id, "park")

    def transfer(self, counter_id: str, service_id: str, keep_place: bool = True) -> Outcome:
        """Send the counter's ticket back to wait for another service (no new queue number)."""
        target = self.service(service_id)

        def changes(ticket: Ticket) -> dict[str, Any]:
            if ticket.service == target.id:
                raise BadRequest(f"the ticket is already for {target.id}", field="service")
            sort_key = ticket.sort_key if keep_place else self.store.seq(self.branch) + 1
            return {"service": target.id, "transfers": ticket.transfers + 1,
                    "sort_key": sort_key, "counter": "", "called_at": 0.0, "started_at": 0.0}

        def op() -> Outcome:
            counter = self.counter(counter_id)
            ticket = self._current(counter)
            status = check_transition("transfer", ticket.status)
            return self._commit_update(ticket, status, counter, **changes(ticket))
        return self._finish(self._retry(op))

    def unpark(self, ticket_ref: str) -> Outcome:
        """Put a parked ticket back in its line, at its original place."""
        def op() -> Outcome:
            ticket = self.ticket(ticket_ref)
            status = check_transition("unpark", ticket.status)
            return self._commit_update(ticket, status, None, counter="")
        return self._finish(self._retry(op))

    def cancel(self, ticket_ref: str) -> Outcome:
        """Cancel a ticket (the citizen left); frees its counter if it was called."""
        def op() -> Outcome:
            ticket = self.ticket(ticket_ref)
            status = check_transition("cancel", ticket.status)
            counter = None
            if ticket.status in (TicketStatus.CALLED, TicketStatus.SERVING) and ticket.counter:
                counter = self.store.counter(self.branch, ticket.counter)
            return self._commit_update(ticket, status, counter)
        return self._finish(self._retry(op))

    # -- views ----------------------------------------------------------------

    def snapshot(self, staff: bool = False) -> dict[str, Any]:
        """Everything a display or board needs to (re)start: read seq first, then state."""
        seq = self.store.seq(self.branch)
        counters = []
        for c in self.counters():
            current = self.store.ticket(self.branch, c.current) if c.current else None
            counters.append(counter_view(c, current, self.tz, staff))
        return {
            "seq": seq,
            "branch": self.branch,
            "day": self.today(),
            "services": self.estimator.catalogue(),
            "counters": counters,
            "recent_calls": self.estimator.recent_calls(10),
        }
