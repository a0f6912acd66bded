"""One operation's events -> one `changes` frame per room, published in one go.

Wire format version 2 (README "Live updates"): every room that an operation
concerns gets one Socket.IO event `changes`:

    {"v": 2, "room": "display", "all": true, "branch": "main",
     "first": 41, "seq": 43,
     "events": [{"event": "ticket_called", "seq": 41, ...}, {"event": "queue_updated", ...}]}

`first`..`seq` is the operation's range of branch sequence numbers; `events`
holds only what that room's clients show, each with its own `seq`. `all` is
true for the rooms that get a frame for every change of the branch (`display`,
`manager`), so a client there resyncs when `first` is more than one past the
last seq it applied. Rooms and what they get:

- `display`: `ticket_called`, `queue_updated`, `catalogue_updated` (public), and
  `ticket_updated` when a ticket ends cancelled or expired (a called one leaves the screen)
- `manager`: every event, staff payload (clerk names)
- `counter:<id>`: the events about that counter, staff payload
- `ticket:<id>`: the events about that ticket (the citizen's phone)
- `line:<service>`: `line_changed` {service, moves, waiting, estimated_wait_s,
  counters_open} when tickets join or leave that service's waiting line, and
  `catalogue_updated` for that service. `moves` is a list of
  [priority 0 / normal 1, sort key, +1 joined / -1 left]: a phone whose ticket
  has place (p, k) adds the deltas of the moves with a smaller place to its
  people-ahead count, so it follows its position without asking the server.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Iterator
from typing import Any

from socketio import RedisManager
from socketio.manager import Manager

from . import events as ev
from .events import Event
from .model import TicketStatus

log = logging.getLogger(__name__)
VERSION = 2
NAME = "changes"
DISPLAY_EVENTS = frozenset({ev.TICKET_CALLED, ev.QUEUE_UPDATED, ev.CATALOGUE_UPDATED})
# A ticket that ends this way may be the display's current call: it must leave the screen.
DISPLAY_ENDINGS = frozenset({TicketStatus.CANCELLED, TicketStatus.EXPIRED})
LINE_CHANGED = "line_changed"
BATCH = "satupintu_batch"  # the message-queue method of emit_batch


def _for_display(event: Event) -> bool:
    """Whether the hall display shows this event (calls, counts, edits, ended tickets)."""
    if event.name in DISPLAY_EVENTS:
        return True
    return (
        event.name == ev.TICKET_UPDATED
        and event.record is not None
        and event.record.status in DISPLAY_ENDINGS
    )


def _body(event: Event, staff: bool) -> dict[str, Any]:
    return {"event": event.name, **event.payload(staff=staff)}


def _line_bodies(events: list[Event]) -> dict[str, list[dict[str, Any]]]:
    """line:<service> room -> its events: one line_changed per changed line, catalogue edits."""
    moves: dict[str, list[list[int]]] = {}
    for event in events:
        for service, (prio, key), delta in ev.line_moves(event):
            moves.setdefault(service, []).append([prio, key, delta])
    summaries: dict[str, tuple[int, dict[str, Any]]] = {}
    for event in events:
        if event.name == ev.QUEUE_UPDATED:
            for service, summary in event.data.get("services", {}).items():
                summaries[service] = (event.seq, summary)
    rooms: dict[str, list[dict[str, Any]]] = {}
    last = max(e.seq for e in events)
    for service, moved in moves.items():
        seq, summary = summaries.get(service, (last, {}))
        rooms[f"line:{service}"] = [
            {
                "event": LINE_CHANGED,
                "seq": seq,
                "branch": events[0].branch,
                "service": service,
                "moves": moved,
                **summary,
            }
        ]
    for event in events:
        if event.name == ev.CATALOGUE_UPDATED:
            rooms.setdefault(f"line:{event.data.get('service')}", []).append(_body(event, False))
    return rooms


def frames(events: list[Event]) -> list[tuple[str, dict[str, Any]]]:
    """(room, `changes` payload) for every room the operation's `events` concern."""
    if not events:
        return []
    branch, first, last = events[0].branch, min(e.seq for e in events), max(e.seq for e in events)
    rooms: dict[str, list[dict[str, Any]]] = {
        "display": [_body(e, False) for e in events if _for_display(e)],
        "manager": [_body(e, True) for e in events],
    }
    for event in events:
        if event.counter:
            rooms.setdefault(f"counter:{event.counter}", []).append(_body(event, True))
        if event.ticket:
            rooms.setdefault(f"ticket:{event.ticket}", []).append(_body(event, False))
    rooms.update(_line_bodies(events))
    return [
        (
            room,
            {
                "v": VERSION,
                "room": room,
                "all": room in ("display", "manager"),
                "branch": branch,
                "first": first,
                "seq": last,
                "events": bodies,
            },
        )
        for room, bodies in rooms.items()
    ]


def emit_frames(server: Any, items: list[tuple[str, dict[str, Any]]]) -> None:
    """Emit each (room, payload) as `changes`: one message-queue publish for all of them."""
    manager = server.manager
    if isinstance(manager, BatchRedisManager):
        manager.emit_batch([(NAME, payload, room) for room, payload in items], "/")
        return
    for room, payload in items:
        server.emit(NAME, payload, to=room, namespace="/")


class BatchRedisManager(RedisManager):  # type: ignore[misc]
    """Flask-SocketIO's Redis message queue, plus one PUBLISH carrying many room emits.

    Every server process gets the batch and emits each item to its own clients
    in the rooms; plain `emit`s (the print agent's, other writers') work as before.
    """

    def emit_batch(self, items: list[tuple[str, Any, str]], namespace: str) -> None:
        """Emit (event, data, room) items here and publish them as one message to the others."""
        self._emit_here(items, namespace)
        self._publish(
            {"method": BATCH, "items": items, "namespace": namespace, "host_id": self.host_id}
        )

    def _emit_here(self, items: Iterable[Any], namespace: str) -> None:
        for name, data, room in items:
            Manager.emit(self, name, data, namespace=namespace, room=room)

    def _listen(self) -> Iterator[Any]:
        """python-socketio's listener, with our batches delivered here and not passed on."""
        for message in super()._listen():
            data = None
            if isinstance(message, (bytes, str)) and BATCH.encode() in (
                message if isinstance(message, bytes) else message.encode()
            ):
                try:
                    data = self.json.loads(message)
                except ValueError:
                    data = None
            if isinstance(data, dict) and data.get("method") == BATCH:
                if data.get("host_id") != self.host_id:  # ours went out when we published
                    try:
                        self._emit_here(data.get("items", []), data.get("namespace", "/"))
                    except Exception:  # one bad batch must not stop the listener
                        log.exception("could not deliver a batch of emits")
                continue
            yield message
