"""Who may find a ticket how: the one home of the lookup rule the API, pages and rooms share.

Ticket ids are random (docs/decisions.md), numbers are guessable: the public
may look a ticket up only by its id; staff also by today's number ("A012").
"""

from __future__ import annotations

from .engine import Engine
from .errors import NoSuchTicket
from .model import Ticket

MAX_REF = 64  # longer refs are no ticket's id or number


def find_ticket(engine: Engine, ref: str, *, staff: bool) -> Ticket:
    """The ticket `ref` names for this caller: staff by id or number, the public by id only."""
    if staff:
        return engine.ticket(ref)
    ticket = engine.store.ticket(engine.branch, ref) if len(ref) <= MAX_REF else None
    if ticket is None:
        raise NoSuchTicket(f"no ticket {ref[:MAX_REF]!r}")
    return ticket
