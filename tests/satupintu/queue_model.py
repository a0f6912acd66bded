"""A plain in-memory model of one office's queue, written from the spec, not the engine.

Lists and dicts only: no store, no policy module, no transition table. The
model-based test drives it and the real Engine with the same operations and
demands the same answer from both. Each operation either returns its answer
or raises `Refused(<engine error class name>)` having changed nothing.

The spec it encodes (DESIGN.md, the README and the engine's docstrings):
- numbers count per service prefix from 001; a refused issue uses none up;
  the daily quota counts tickets issued for the service (0 = none);
- a counter's `call next` takes, among waiting tickets of the services it
  takes, the oldest priority ticket, unless it has called `max_streak`
  priority tickets in a row and an ordinary one waits; otherwise the ticket
  that has waited longest (fifo). A transfer keeps the ticket's place;
- people ahead of a waiting ticket, in its service's line: the priority
  tickets before it, plus (if it is ordinary) every priority ticket and the
  ordinary ones before it;
- allowed moves: call from waiting/parked/no-show; recall while called;
  start from called; complete from called or serving; no-show from called;
  park from called or serving; unpark from parked; transfer from the counter;
  cancel from waiting/called/parked. Leaving the counter frees it.
"""

from __future__ import annotations

from dataclasses import dataclass, field


class Refused(Exception):
    """The operation is refused; `name` is the engine's error class."""

    def __init__(self, name: str):
        super().__init__(name)
        self.name = name


@dataclass
class MTicket:
    number: str
    service: str
    priority: bool
    place: int  # order of issue; kept on transfer
    status: str = "waiting"
    counter: str = ""  # the counter it is at while called or serving
    recalls: int = 0


@dataclass
class MCounter:
    services: list[str]
    state: str = "closed"
    current: str = ""  # ticket number at the counter
    streak: int = 0  # priority calls in a row


@dataclass
class QueueModel:
    services: dict[str, tuple[str, int]]  # id -> (prefix, daily quota)
    counters: dict[str, MCounter]
    max_streak: int
    tickets: dict[str, MTicket] = field(default_factory=dict)  # by number
    issued: dict[str, int] = field(default_factory=dict)  # per service
    last_number: dict[str, int] = field(default_factory=dict)  # per prefix

    # -- lookups ----------------------------------------------------------------

    def _counter(self, cid: str) -> MCounter:
        if cid not in self.counters:
            raise Refused("NoSuchCounter")
        return self.counters[cid]

    def _ticket(self, number: str) -> MTicket:
        if number not in self.tickets:
            raise Refused("NoSuchTicket")
        return self.tickets[number]

    def _current(self, cid: str) -> MTicket:
        counter = self._counter(cid)
        if not counter.current:
            raise Refused("NoCurrentTicket")
        return self.tickets[counter.current]

    def _waiting(self, services: list[str]) -> list[MTicket]:
        return [t for t in self.tickets.values() if t.status == "waiting" and t.service in services]

    def _leave_counter(self, ticket: MTicket) -> None:
        if ticket.counter:
            self.counters[ticket.counter].current = ""
            ticket.counter = ""

    # -- citizens ---------------------------------------------------------------

    def issue(self, service: str, priority: bool) -> tuple[str, int]:
        """(number, people ahead)."""
        if service not in self.services:
            raise Refused("NoSuchService")
        prefix, quota = self.services[service]
        if quota and self.issued.get(service, 0) >= quota:
            raise Refused("QuotaFull")
        self.issued[service] = self.issued.get(service, 0) + 1
        self.last_number[prefix] = self.last_number.get(prefix, 0) + 1
        number = f"{prefix}{self.last_number[prefix]:03d}"
        ticket = MTicket(number, service, priority, place=len(self.tickets))
        self.tickets[number] = ticket
        return number, self.people_ahead(number)

    def people_ahead(self, number: str) -> int:
        me = self.tickets[number]
        ahead = 0
        for t in self._waiting([me.service]):
            if t is me:
                continue
            if t.priority and (not me.priority or t.place < me.place):
                ahead += 1
            elif not t.priority and not me.priority and t.place < me.place:
                ahead += 1
        return ahead

    # -- calling ----------------------------------------------------------------

    def _ready(self, cid: str) -> MCounter:
        counter = self._counter(cid)
        if counter.state != "open":
            raise Refused("CounterNotOpen")
        if counter.current:
            raise Refused("CounterBusy")
        return counter

    def _put_at(self, cid: str, ticket: MTicket) -> None:
        ticket.status, ticket.counter = "called", cid
        self.counters[cid].current = ticket.number

    def call_next(self, cid: str) -> str | None:
        counter = self._ready(cid)
        waiting = sorted(self._waiting(counter.services), key=lambda t: t.place)
        priority = [t for t in waiting if t.priority]
        ordinary = [t for t in waiting if not t.priority]
        if priority and (counter.streak < self.max_streak or not ordinary):
            chosen = priority[0]
            counter.streak += 1
        elif ordinary:
            chosen = ordinary[0]
            counter.streak = 0
        else:
            return None
        self._put_at(cid, chosen)
        return chosen.number

    def call(self, cid: str, number: str) -> str:
        self._ready(cid)
        ticket = self._ticket(number)
        if ticket.status not in ("waiting", "parked", "no_show"):
            raise Refused("InvalidTransition")
        self._put_at(cid, ticket)
        return number

    def recall(self, cid: str) -> tuple[str, int]:
        ticket = self._current(cid)
        if ticket.status != "called":
            raise Refused("InvalidTransition")
        ticket.recalls += 1
        return ticket.number, ticket.recalls

    # -- serving ----------------------------------------------------------------

    def act(self, cid: str, action: str) -> tuple[str, str]:
        """start / complete / no_show / park on the counter's ticket: (number, new status)."""
        moves = {
            "start": (("called",), "serving"),
            "complete": (("called", "serving"), "done"),
            "no_show": (("called",), "no_show"),
            "park": (("called", "serving"), "parked"),
        }
        sources, target = moves[action]
        ticket = self._current(cid)
        if ticket.status not in sources:
            raise Refused("InvalidTransition")
        ticket.status = target
        if target != "serving":
            self._leave_counter(ticket)
        return ticket.number, target

    def transfer(self, cid: str, service: str) -> tuple[str, str]:
        if service not in self.services:
            raise Refused("NoSuchService")
        ticket = self._current(cid)
        if ticket.service == service:
            raise Refused("BadRequest")
        ticket.service, ticket.status = service, "waiting"
        self._leave_counter(ticket)
        return ticket.number, service

    def unpark(self, number: str) -> str:
        ticket = self._ticket(number)
        if ticket.status != "parked":
            raise Refused("InvalidTransition")
        ticket.status = "waiting"
        return ticket.status

    def cancel(self, number: str) -> str:
        ticket = self._ticket(number)
        if ticket.status not in ("waiting", "called", "parked"):
            raise Refused("InvalidTransition")
        ticket.status = "cancelled"
        self._leave_counter(ticket)
        return ticket.status

    # -- counters ---------------------------------------------------------------

    def set_state(self, cid: str, state: str) -> str:
        counter = self._counter(cid)
        if state == "closed" and counter.current:
            raise Refused("CounterBusy")
        counter.state = state
        return state

    def set_services(self, cid: str, services: list[tuple[str, int]]) -> list[str]:
        if not services:
            raise Refused("BadRequest")
        ids: list[str] = []
        for service, weight in services:
            if service not in self.services:
                raise Refused("NoSuchService")
            if service in ids or not 1 <= weight <= 100:
                raise Refused("BadRequest")
            ids.append(service)
        self._counter(cid).services = ids
        return ids
