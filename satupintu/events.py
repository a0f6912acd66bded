"""Event names and the Event record the engine returns after every change."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

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

    def payload(self, staff: bool = False) -> dict[str, Any]:
        body = {"seq": self.seq, "branch": self.branch, **self.data}
        if staff:
            body.update(self.private)
        return body
