"""Event names, the Event record the engine returns after every change, and its builder."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any
from zoneinfo import ZoneInfo

from .model import Counter, Ticket
from .shapes import counter_json, ticket_json

TICKET_ISSUED = "ticket_issued"
TICKET_CALLED = "ticket_called"
TICKET_UPDATED = "ticket_updated"
COUNTER_UPDATED = "counter_updated"
QUEUE_UPDATED = "queue_updated"
CATALOGUE_UPDATED = "catalogue_updated"  # a manager edited the services: reload them

ALL = (TICKET_ISSUED, TICKET_CALLED, TICKET_UPDATED, COUNTER_UPDATED, QUEUE_UPDATED,
       CATALOGUE_UPDATED)


@dataclass(frozen=True)
class Event:
    """One change, numbered by the branch sequence; `data` is safe to show publicly."""

    name: str
    seq: int
    branch: str
    data: dict[str, Any]
    ticket: str = ""  # ticket id the event concerns, for the ticket:<id> room
    counter: str = ""  # counter id the event concerns, for the counter:<id> room
    private: dict[str, Any] = field(default_factory=dict)  # extra fields for staff rooms
    # The ticket as this change left it, for listeners in this process (printing):
    # they need not read back what was just written. Never sent to clients.
    record: Ticket | None = field(default=None, compare=False, repr=False)

    def payload(self, staff: bool = False) -> dict[str, Any]:
        body = {"seq": self.seq, "branch": self.branch, **self.data}
        if staff:
            body.update(self.private)
        return body


class EventBuilder:
    """Builds one branch's events from the records an operation wrote."""

    def __init__(self, branch: str, tz: ZoneInfo, counter_name: Callable[[str], str]):
        self.branch = branch
        self.tz = tz
        self.counter_name = counter_name  # Config.counter_name

    def ticket(self, name: str, seq: int, t: Ticket, **extra: Any) -> Event:
        """A ticket_* event: the ticket's public view plus `extra` fields."""
        view = ticket_json(t, self.tz, self.counter_name(t.counter))
        return Event(name, seq, self.branch, {"ticket": view, **extra}, ticket=t.id,
                     counter=t.counter, record=t)

    def counter(self, seq: int, c: Counter, current: Ticket | None) -> Event:
        """counter_updated: the public view, and the clerk's name for staff rooms."""
        return Event(
            COUNTER_UPDATED, seq, self.branch,
            {"counter": counter_json(c, current, self.tz, staff=False)}, counter=c.id,
            private={"counter": counter_json(c, current, self.tz, staff=True)},
        )

    def queue(self, seq: int, summary: dict[str, dict[str, Any]]) -> Event:
        """queue_updated: waiting counts and estimated waits of some services."""
        return Event(QUEUE_UPDATED, seq, self.branch, {"services": summary})

    def catalogue(self, seq: int, service_id: str, version: int) -> Event:
        """catalogue_updated: a manager edited a service; clients reload the services."""
        return Event(CATALOGUE_UPDATED, seq, self.branch,
                     {"service": service_id, "version": version})
