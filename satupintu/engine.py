"""The queue engine: every operation of the office, in plain Python (no Flask).

Each operation reads what it needs, decides with the transition table and the
routing policy, and writes everything with one atomic store operation; if a
concurrent change got there first it reads again and retries (operation.py).
It returns the events it caused, numbered by the branch sequence, and hands
them to the listeners (the Socket.IO adapter) after the write is durable.
"""

from __future__ import annotations

import hashlib
import secrets
import time
from collections.abc import Callable
from typing import Any

from . import events as ev
from .announce import announcements
from .catalogue import Catalogue, Edited
from .config import Config, Service
from .config_apply import apply_config
from .counter_ops import CounterOps
from .day_close import DayCloser
from .errors import (
    BadRequest,
    CounterBusy,
    CounterNotOpen,
    NoCurrentTicket,
    NoSuchService,
    NoSuchTicket,
    ServiceClosed,
    TicketExpired,
)
from .estimate import Estimator
from .model import (
    PRIORITY_GROUPS,
    Call,
    Counter,
    CounterState,
    Routing,
    Ticket,
    TicketStatus,
    check_transition,
    local_day,
)
from .operation import Outcome, PendingQueue, attempt
from .policy import choose
from .shapes import call_json, counter_json
from .store.base import Change, IdempotencyKey, Store

ID_ALPHABET = "abcdefghijkmnpqrstuvwxyz23456789"


def new_ticket_id() -> str:
    """A random, unguessable ticket id: the public may look a ticket up by it (access.py)."""
    return "".join(secrets.choice(ID_ALPHABET) for _ in range(12))


class Engine:
    """Operations on one branch's queue, over any Store.

    The tickets' operations are here; the counters' (`counter_ops`), the
    catalogue's edits (`catalogue`) and the estimates (`estimator`) are
    collaborators that get the store, clock and catalogue, never the engine.
    The engine publishes every operation's events to `listeners`.
    """

    def __init__(self, config: Config, store: Store, clock: Callable[[], float] = time.time):
        self.config = config
        self.store = store
        self.clock = clock
        self.branch = config.office.branch
        self.tz = config.office.tz
        self.listeners: list[Callable[[list[ev.Event]], None]] = []
        self.events = ev.EventBuilder(self.branch, self.tz, config.counter_name)
        self.catalogue = Catalogue(config, store, self.events)
        self.estimator = Estimator(store, self.branch, self.tz, clock, self.catalogue)
        self.counter_ops = CounterOps(config, store, self.catalogue, self.events)
        self.counter_ops.seed()
        self.day_closer = DayCloser(store, self.branch, self.tz, clock, self.events, self._publish)
        self.close_days_if_due()
        # What a changed config.toml means for stored counters and tickets (logged).
        self.config_applied = apply_config(
            config,
            store,
            self.counter_ops,
            self.day_closer,
            {s.id for s in self.services()},
            clock(),
            self._publish,
        )

    def close_days_if_due(self) -> None:
        """Expire what earlier days left open, once per process per local day.

        Runs on start and first thing in every operation, so nothing reads or
        acts on a ticket of a closed day as if it were still open.
        """
        today = self.today()
        if self.day_closer.due(today):
            self.day_closer.close_days(today)

    # -- helpers --------------------------------------------------------------

    def today(self, now: float | None = None) -> str:
        """The local date (office time zone) of `now`."""
        return local_day(self.clock() if now is None else now, self.tz)

    def _publish(self, events: list[ev.Event]) -> list[ev.Event]:
        for listener in self.listeners:
            listener(events)
        return events

    def service(self, service_id: str) -> Service:
        """A service of the catalogue, or NoSuchService."""
        service = self.catalogue.current().service(service_id)
        if service is None:
            raise NoSuchService(f"unknown service {service_id!r}", field="service")
        return service

    def services(self) -> tuple[Service, ...]:
        """Every service: config.toml with the managers' edits (at most a second old)."""
        return self.catalogue.current().services

    def services_with_waits(
        self, services: tuple[Service, ...] | None = None
    ) -> list[dict[str, Any]]:
        """Every service (or `services`) with its waiting count and estimated wait."""
        return self.estimator.with_waits(
            self.services() if services is None else services, self.counters()
        )

    def counter(self, counter_id: str) -> Counter:
        """One counter, or NoSuchCounter."""
        return self.counter_ops.get(counter_id)

    def counters(self) -> list[Counter]:
        """The branch's counters, by id."""
        return self.counter_ops.all()

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

    # -- citizens -------------------------------------------------------------

    def issue(self, service_id: str, priority: str = "", kiosk: str = "", key: str = "") -> Outcome:
        """Issue a new ticket for a service (the kiosk's 'Ambil nomor').

        With a client's idempotency `key`, a retry of the same request on the same
        day returns the ticket the first one made (`replayed`), even across restarts.
        """
        self.close_days_if_due()
        service = self.service(service_id)
        if not service.enabled:
            raise ServiceClosed(f"{service.name.id} is not taking tickets now", service=service.id)
        if priority and priority not in PRIORITY_GROUPS:
            raise BadRequest(
                f"priority must be one of {', '.join(PRIORITY_GROUPS)}", field="priority"
            )
        now = self.clock()
        draft = Ticket(
            id=new_ticket_id(),
            branch=self.branch,
            day=self.today(now),
            number="",
            service=service.id,
            origin_service=service.id,
            priority=priority,
            status=TicketStatus.WAITING,
            sort_key=0,
            issued_at=now,
            kiosk=kiosk,
        )
        # The sort key is itself a fresh branch sequence number: it doubles as the
        # ticket_issued event's seq, so issuing leaves no gap clients would resync on.
        idempotency = None
        if key:
            # Per kiosk user, so two devices can never see each other's tickets by key.
            fingerprint = hashlib.sha256(f"{service.id}\n{priority}".encode()).hexdigest()
            idempotency = IdempotencyKey(f"{kiosk}\n{key}", fingerprint)
        issued = self.store.issue(
            draft, service.prefix, service.daily_quota, seq_count=1, key=idempotency
        )
        t = issued.ticket
        counters = self.counters()  # read once for both estimates
        estimate = self.estimator.wait_for(t.origin_service, issued.people_ahead, counters)
        if issued.replayed:
            return Outcome(
                t,
                None,
                [],
                people_ahead=issued.people_ahead,
                estimated_wait_s=estimate,
                replayed=True,
            )
        summary = self.estimator.summary(service.id, issued.waiting, counters)
        events = [
            self.events.ticket(
                ev.TICKET_ISSUED,
                t.sort_key,
                t,
                people_ahead=issued.people_ahead,
                estimated_wait_s=estimate,
            ),
            self.events.queue(issued.seqs[0], {service.id: summary}),
        ]
        return Outcome(
            t,
            None,
            self._publish(events),
            people_ahead=issued.people_ahead,
            estimated_wait_s=estimate,
        )

    def position(self, ticket: Ticket) -> tuple[int, int | None]:
        """People ahead and estimated wait (seconds) of a waiting ticket."""
        self.close_days_if_due()
        if ticket.status is not TicketStatus.WAITING:
            return 0, None
        ahead = self.store.people_ahead(ticket)
        return ahead, self.estimator.wait_for(ticket.service, ahead, self.counters())

    def waiting_for(self, counter_id: str, limit: int = 50) -> list[Ticket]:
        """Waiting tickets a counter may call: priority first, then place in line (fifo order)."""
        counter = self.counter(counter_id)
        day = self.today()
        tickets = [
            t for s in counter.service_ids for t in self.store.waiting(self.branch, day, s, limit)
        ]
        tickets.sort(key=lambda t: (not t.is_priority, t.sort_key, t.id))
        return tickets[:limit]

    # -- calling --------------------------------------------------------------

    def call_next(self, counter_id: str) -> Outcome:
        """Call the next ticket for a counter by the branch policy; ticket None if nobody waits."""
        self.close_days_if_due()

        def op() -> Outcome:
            counters = self.counters()
            counter = self._ready_counter(counters, counter_id)
            now = self.clock()
            heads = self.store.heads(self.branch, self.today(now), counter.service_ids)
            targets = {s.id: s.target_wait_min * 60.0 for s in self.services()}
            choice = choose(
                self.config.routing.policy,
                counter,
                heads,
                targets,
                now,
                self.config.routing.max_consecutive_priority,
            )
            if choice is None:
                return Outcome(None, counter, [])
            return self._commit_call(counters, counter, choice.ticket, choice.routing, now)

        return self._finish(attempt(self.store, op))

    def call(self, counter_id: str, ticket_ref: str) -> Outcome:
        """Call one particular ticket (waiting, parked, or a late no-show) to a counter."""
        self.close_days_if_due()

        def op() -> Outcome:
            counters = self.counters()
            counter = self._ready_counter(counters, counter_id)
            ticket = self.ticket(ticket_ref)
            return self._commit_call(counters, counter, ticket, counter.routing, self.clock())

        return self._finish(attempt(self.store, op))

    def _ready_counter(self, counters: list[Counter], counter_id: str) -> Counter:
        counter = self.counter_ops.pick(counters, counter_id)
        if counter.state is not CounterState.OPEN:
            raise CounterNotOpen(f"{counter.name} is {counter.state.value}; open it first")
        if counter.current:
            raise CounterBusy(
                f"{counter.name} still has a ticket; complete, no-show, park or transfer it first"
            )
        return counter

    def _commit_call(
        self,
        counters: list[Counter],
        counter: Counter,
        ticket: Ticket,
        routing: Routing,
        now: float,
    ) -> Outcome:
        check_transition("call", ticket.status, day=ticket.day)
        if ticket.day != self.today(now):
            raise TicketExpired(
                f"ticket {ticket.number} is from {ticket.day}; a ticket is valid on its own day",
                day=ticket.day,
            )
        called = ticket.evolve(
            status=TicketStatus.CALLED,
            called_at=now,
            counter=counter.id,
            started_at=0.0,
            finished_at=0.0,
        )
        new_counter = counter.evolve(current=ticket.id, routing=routing)
        call = Call(ticket.id, ticket.number, ticket.service, counter.id, counter.name, now)
        seqs = self.store.commit(
            self.branch,
            Change(
                tickets=[(ticket, called)],
                counters=[(counter, new_counter)],
                calls=[call],
                seq_count=3,
            ),
        )
        events = [
            self.events.ticket(
                ev.TICKET_CALLED,
                seqs[0],
                called,
                before=ticket,
                recall=False,
                announcement=announcements(called.number, counter.name),
            ),
            self.events.counter(seqs[1], new_counter, called),
        ]
        after = [new_counter if c.id == counter.id else c for c in counters]
        return Outcome(
            called,
            new_counter,
            events,
            current=called,
            queue=PendingQueue(seqs[2], frozenset({ticket.service}), after),
        )

    def _finish(self, outcome: Outcome) -> Outcome:
        """Build the deferred queue event (outside the retry loop) and publish the events."""
        events = list(outcome.events)
        pending = outcome.queue
        if pending is not None:
            summary = self.estimator.queue_summary(sorted(pending.services), pending.counters)
            events.append(self.events.queue(pending.seq, summary))
        return Outcome(
            outcome.ticket, outcome.counter, self._publish(events), current=outcome.current
        )

    def recall(self, counter_id: str) -> Outcome:
        """Announce the counter's called ticket again."""
        self.close_days_if_due()

        def op() -> Outcome:
            counter = self.counter(counter_id)
            ticket = self._current(counter)
            check_transition("recall", ticket.status, day=ticket.day)
            now = self.clock()
            recalled = ticket.evolve(recalls=ticket.recalls + 1)
            call = Call(
                ticket.id, ticket.number, ticket.service, counter.id, counter.name, now, recall=True
            )
            seqs = self.store.commit(
                self.branch, Change(tickets=[(ticket, recalled)], calls=[call], seq_count=1)
            )
            event = self.events.ticket(
                ev.TICKET_CALLED,
                seqs[0],
                recalled,
                recall=True,
                announcement=announcements(ticket.number, counter.name),
            )
            return Outcome(recalled, counter, [event], current=recalled)

        return self._finish(attempt(self.store, op))

    # -- serving --------------------------------------------------------------

    def _act_on_current(
        self,
        counter_id: str,
        action: str,
        changes: Callable[[Ticket], dict[str, Any]] | None = None,
    ) -> Outcome:
        """Apply `action` to the counter's current ticket; frees the counter if it leaves."""
        self.close_days_if_due()

        def op() -> Outcome:
            counters = self.counters()
            counter = self.counter_ops.pick(counters, counter_id)
            ticket = self._current(counter)
            status = check_transition(action, ticket.status, day=ticket.day)
            extra = changes(ticket) if changes else {}
            return self._commit_update(counters, ticket, status, counter, **extra)

        return self._finish(attempt(self.store, op))

    def _commit_update(
        self,
        counters: list[Counter],
        ticket: Ticket,
        status: TicketStatus,
        at_counter: Counter | None,
        **changes: Any,
    ) -> Outcome:
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
        seqs = self.store.commit(
            self.branch,
            Change(tickets=[(ticket, updated)], counters=pairs, seq_count=2 + len(pairs)),
        )
        events = [self.events.ticket(ev.TICKET_UPDATED, seqs[0], updated, before=ticket)]
        if pairs:
            assert new_counter is not None
            events.append(self.events.counter(seqs[1], new_counter, None))
        # The ticket stays at its counter while called or serving; else the counter is free.
        current = updated if new_counter is not None and new_counter.current == updated.id else None
        after = [new_counter if new_counter and c.id == new_counter.id else c for c in counters]
        queue = PendingQueue(seqs[-1], frozenset({ticket.service, updated.service}), after)
        return Outcome(updated, new_counter, events, current=current, queue=queue)

    def start(self, counter_id: str) -> Outcome:
        """The citizen arrived at the counter: serving starts."""
        return self._act_on_current(counter_id, "start")

    def complete(self, counter_id: str) -> Outcome:
        """The counter's ticket is done; the counter is free."""
        return self._act_on_current(counter_id, "complete")

    def no_show(self, counter_id: str) -> Outcome:
        """The called citizen did not come; the counter is free."""
        return self._act_on_current(counter_id, "no_show")

    def park(self, counter_id: str) -> Outcome:
        """Set the counter's ticket aside (unpark puts it back in line); the counter is free."""
        return self._act_on_current(counter_id, "park")

    def transfer(self, counter_id: str, service_id: str, keep_place: bool = True) -> Outcome:
        """Send the counter's ticket back to wait for another service (no new queue number)."""
        target = self.service(service_id)

        def changes(ticket: Ticket) -> dict[str, Any]:
            if ticket.service == target.id:
                raise BadRequest(f"the ticket is already for {target.id}", field="service")
            sort_key = ticket.sort_key if keep_place else self.store.seq(self.branch) + 1
            return {
                "service": target.id,
                "transfers": ticket.transfers + 1,
                "sort_key": sort_key,
                "counter": "",
                "called_at": 0.0,
                "started_at": 0.0,
            }

        return self._act_on_current(counter_id, "transfer", changes)

    def unpark(self, ticket_ref: str) -> Outcome:
        """Put a parked ticket back in its line, at its original place."""
        self.close_days_if_due()

        def op() -> Outcome:
            ticket = self.ticket(ticket_ref)
            status = check_transition("unpark", ticket.status, day=ticket.day)
            return self._commit_update(self.counters(), ticket, status, None, counter="")

        return self._finish(attempt(self.store, op))

    def cancel(self, ticket_ref: str) -> Outcome:
        """Cancel a ticket (the citizen left); frees its counter if it was called."""
        self.close_days_if_due()

        def op() -> Outcome:
            ticket = self.ticket(ticket_ref)
            status = check_transition("cancel", ticket.status, day=ticket.day)
            counters = self.counters()
            counter = None
            if ticket.status in (TicketStatus.CALLED, TicketStatus.SERVING) and ticket.counter:
                counter = next((c for c in counters if c.id == ticket.counter), None)
            return self._commit_update(counters, ticket, status, counter)

        return self._finish(attempt(self.store, op))

    # -- counters (counter_ops.py) and the catalogue (catalogue.py) -------------------

    def open_counter(self, counter_id: str, clerk: str = "") -> Outcome:
        """Open a counter (under the clerk's name)."""
        return self._finish(self.counter_ops.open(counter_id, clerk))

    def pause_counter(self, counter_id: str) -> Outcome:
        """Pause a counter: it calls nobody until opened again."""
        return self._finish(self.counter_ops.pause(counter_id))

    def close_counter(self, counter_id: str) -> Outcome:
        """Close a counter; refused while a ticket is at it."""
        return self._finish(self.counter_ops.close(counter_id))

    def set_services(self, counter_id: str, services: list[tuple[str, int]]) -> Outcome:
        """Change which services a counter takes (and their weights); the next call obeys."""
        return self._finish(self.counter_ops.set_services(counter_id, services))

    def update_service(
        self, service_id: str, fields: dict[str, Any], version: int | None = None
    ) -> Edited:
        """Change some fields of a service (a manager's edit); the next ticket uses them."""
        return self._published(self.catalogue.update(service_id, fields, version))

    def add_service(self, fields: dict[str, Any], version: int | None = None) -> Edited:
        """Add a service; it is on no counter until a manager assigns it."""
        return self._published(self.catalogue.add(fields, version))

    def reset_service(self, service_id: str, version: int | None = None) -> Edited:
        """Drop the managers' edits of a service: back to what config.toml says."""
        return self._published(self.catalogue.reset(service_id, version))

    def _published(self, edit: Edited) -> Edited:
        self._publish(edit.events)
        return edit

    # -- views ----------------------------------------------------------------

    def _recent_calls(self, today: str) -> list[dict[str, Any]]:
        """Today's latest calls (numbers restart each day), without tickets that were
        cancelled or expired since: nobody is to go to a counter for them."""
        calls = [
            c for c in self.store.recent_calls(self.branch, 10) if local_day(c.at, self.tz) == today
        ]
        tickets = [self.store.ticket(self.branch, i) for i in {c.ticket for c in calls}]
        ended = {
            t.id
            for t in tickets
            if t is not None and t.status in (TicketStatus.CANCELLED, TicketStatus.EXPIRED)
        }
        return [call_json(c, self.tz) for c in calls if c.ticket not in ended]

    def snapshot(self, staff: bool = False) -> dict[str, Any]:
        """Everything a display or board needs to (re)start: read seq first, then state."""
        self.close_days_if_due()
        today = self.today()
        seq = self.store.seq(self.branch)
        counters = self.counters()
        views = []
        for c in counters:
            current = self.store.ticket(self.branch, c.current) if c.current else None
            views.append(counter_json(c, current, self.tz, staff))
        return {
            "seq": seq,
            "branch": self.branch,
            "day": today,
            "services": self.estimator.with_waits(self.services(), counters),
            "counters": views,
            "recent_calls": self._recent_calls(today),
        }
