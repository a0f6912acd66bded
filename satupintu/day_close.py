"""Closing the day: tickets still open when their local day ends become `expired`.

Numbers are per local day, so a ticket left waiting, parked or at a counter at
the office's midnight can never be called again; left alone it would show
"waiting, 1 ahead" on the citizen's phone forever and hold its counter. The
engine closes the days lazily: on start and before its first operation of
each new local day (otherwise it is one date comparison). Each batch is one
version-guarded commit (the tickets expired, the counters they held freed),
so running it twice, or in several server processes at once, ends each
ticket exactly once. The same `expire` ends the open tickets of a service
removed from config.toml (see config_apply.py).
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from . import events as ev
from .model import OPEN, Counter, Ticket, check_transition
from .operation import attempt
from .store.base import Change, Store

log = logging.getLogger(__name__)

BATCH = 200  # tickets per commit: one commit stays small however long the office was shut


def end_of_day(day: str, tz: ZoneInfo) -> float:
    """Epoch seconds of the local midnight that ends `day` (YYYY-MM-DD)."""
    after = date.fromisoformat(day) + timedelta(days=1)
    return datetime.combine(after, time(0), tz).timestamp()


class DayCloser:
    """Ends the tickets earlier days left open, once per process per day."""

    def __init__(
        self,
        store: Store,
        branch: str,
        tz: ZoneInfo,
        clock: Callable[[], float],
        events: ev.EventBuilder,
        publish: Callable[[list[ev.Event]], object],
    ):
        self.store = store
        self.branch = branch
        self.tz = tz
        self.clock = clock
        self.events = events
        self.publish = publish
        self._closed_before = ""  # every open ticket of a day before this one has ended
        self._lock = threading.Lock()

    def due(self, today: str) -> bool:
        """True until `close_days(today)` has run in this process."""
        return self._closed_before != today

    def close_days(self, today: str) -> int:
        """Expire every ticket of a day before `today` that is still open; how many ended."""
        ended = 0
        with self._lock:  # one sweep per process at a time; the others wait for it
            if not self.due(today):
                return 0
            while stale := self.store.open_tickets_before(self.branch, today, BATCH):
                # A ticket that changed meanwhile is read again by the next round.
                ended += self.expire(stale, lambda t: end_of_day(t.day, self.tz))
            self._closed_before = today
        if ended:
            log.info("closed the days before %s: %d open tickets expired", today, ended)
        return ended

    def expire(self, tickets: list[Ticket], ended_at: Callable[[Ticket], float]) -> int:
        """Expire those of `tickets` still open (one commit), free their counters, publish."""

        def op() -> tuple[list[ev.Event], int]:
            fresh = [self.store.ticket(self.branch, t.id) for t in tickets]
            still = [t for t in fresh if t is not None and t.status in OPEN]
            if not still:
                return [], 0
            counters = {c.id: c for c in self.store.counters(self.branch)}
            changes = [
                (t, t.evolve(status=check_transition("expire", t.status), finished_at=ended_at(t)))
                for t in still
            ]
            freed: list[tuple[Counter | None, Counter]] = []
            for t in still:
                held = counters.get(t.counter)
                if held is not None and held.current == t.id:
                    freed.append((held, held.evolve(current="")))
            seqs = self.store.commit(
                self.branch,
                Change(tickets=changes, counters=freed, seq_count=len(changes) + len(freed)),
            )
            events = [
                self.events.ticket(ev.TICKET_UPDATED, seq, new)
                for seq, (_, new) in zip(seqs, changes, strict=False)
            ]
            events += [
                self.events.counter(seq, new, None)
                for seq, (_, new) in zip(seqs[len(changes) :], freed, strict=True)
            ]
            return events, len(changes)

        events, count = attempt(self.store, op)
        self.publish(events)
        return count
