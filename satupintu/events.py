"""Event names, the Event record the engine returns after every change, and its builder."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any
from zoneinfo import ZoneInfo

from .model import Counter, Ticket, TicketStatus
from .shapes import counter_json, ticket_json

TICKET_ISSUED = "ticket_issued"
TICKET_CALLED = "ticket_called"
TICKET_UPDATED = "ticket_updated"
COUNTER_UPDATED = "counter_updated"
QUEUE_UPDATED = "queue_updated"
CATALOGUE_UPDATED = "catalogue_updated"  # a manager edited the services: reload them

ALL = (
    TICKET_ISSUED,
    TICKET_CALLED,
    TICKET_UPDATED,
    COUNTER_UPDATED,
    QUEUE_UPDATED,
    CATALOGUE_UPDATED,
)

# Printing notices: outside the branch sequence (no `seq`, no resync on a gap; a
# page that missed one asks GET /api/v1/tickets/<id>/print or GET /api/v1/printers).
TICKET_PRINTED = "ticket_printed"  # to ticket:<id>: the kiosk that issued it
PRINT_FAILED = "print_failed"  # to ticket:<id> and manager: show the ticket on screen
PRINTER_STATUS = "printer_status"  # to manager: a kiosk printer's state changed
NOTICES = (TICKET_PRINTED, PRINT_FAILED, PRINTER_STATUS)

# The print agent's protocol (printer/sockets.py): a job to it, its answers to the server.
PRINT_JOB = "print_job"
PRINTER_AGENT_JOIN = "printer_agent_join"
PRINTER_AGENT_ACK = "printer_agent_ack"
PRINTER_AGENT_STATUS = "printer_agent_status"


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
    # The ticket as it was before this change (None: it is new), for the line moves.
    before: Ticket | None = field(default=None, compare=False, repr=False)

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

    def ticket(
        self, name: str, seq: int, t: Ticket, before: Ticket | None = None, **extra: Any
    ) -> Event:
        """A ticket_* event: the ticket's public view plus `extra` fields.

        `before`: the ticket as it was read (None for a new one), so the phones
        following its line learn whether it joined or left the line.
        """
        view = ticket_json(t, self.tz, self.counter_name(t.counter))
        return Event(
            name,
            seq,
            self.branch,
            {"ticket": view, **extra},
            ticket=t.id,
            counter=t.counter,
            record=t,
            before=before,
        )

    def counter(self, seq: int, c: Counter, current: Ticket | None) -> Event:
        """counter_updated: the public view, and the clerk's name for staff rooms."""
        return Event(
            COUNTER_UPDATED,
            seq,
            self.branch,
            {"counter": counter_json(c, current, self.tz, staff=False)},
            counter=c.id,
            private={"counter": counter_json(c, current, self.tz, staff=True)},
        )

    def queue(self, seq: int, summary: dict[str, dict[str, Any]]) -> Event:
        """queue_updated: waiting counts and estimated waits of some services."""
        return Event(QUEUE_UPDATED, seq, self.branch, {"services": summary})

    def catalogue(self, seq: int, service_id: str, version: int) -> Event:
        """catalogue_updated: a manager edited a service; clients reload the services."""
        return Event(
            CATALOGUE_UPDATED, seq, self.branch, {"service": service_id, "version": version}
        )


def place(t: Ticket) -> tuple[int, int]:
    """A waiting ticket's place in its service's line: priority first, then sort key.

    The people ahead of a waiting ticket are exactly the waiting tickets of its
    service with a smaller place (store.people_ahead counts the same way).
    """
    return (0 if t.is_priority else 1, t.sort_key)


def line_moves(event: Event) -> list[tuple[str, tuple[int, int], int]]:
    """(service, place, +1 joined / -1 left) for each waiting line this ticket event changed."""
    after, before = event.record, event.before
    if after is None:
        return []
    was = (before.service, place(before)) if before is not None and is_waiting(before) else None
    now = (after.service, place(after)) if is_waiting(after) else None
    if was == now:
        return []
    moves = []
    if was is not None:
        moves.append((was[0], was[1], -1))
    if now is not None:
        moves.append((now[0], now[1], 1))
    return moves


def is_waiting(t: Ticket) -> bool:
    return t.status is TicketStatus.WAITING
