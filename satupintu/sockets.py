"""The one adapter from engine events to Socket.IO rooms, and the `join` protocol.

Rooms (what each gets: fanout.py, and README "Live updates"):
- `display`          public: calls, queue counts, catalogue edits (halls, kiosks)
- `manager`          managers: every event, staff payload (clerk names)
- `counter:<id>`     clerks and managers: events about that counter, staff payload
- `ticket:<id>`      public: events about that ticket (the citizen's phone)
- `line:<service>`   public: tickets joining and leaving that service's line (the phone's
                     position), its queue count, its catalogue edits

Each operation reaches each room it concerns as one `changes` frame (wire
format version 2) carrying the operation's events for that room, each with
its `seq` (the branch sequence number). `display` and `manager` get a frame
for every change ("all": true), so a client there that connects, reconnects,
or sees a gap in `seq` fetches GET /api/v1/snapshot and then applies only
events whose seq is larger than the snapshot's.

A client joins with the event `join` {room, token?} (token: a bearer token
from POST /api/v1/auth/token; without it the page's session cookie counts)
and gets the ack {ok: true, room, seq} or {ok: false, error, message}.
`leave` {room} leaves a room. `ticket_called` carries `announcement`
{id, en}: the text to speak, in Indonesian and English.

Printing notices (events.NOTICES) and print jobs go out through `make_notifier`
to `ticket:<id>`, `manager` and `printer:<kiosk>` (the kiosk's print agent);
they carry no `seq`.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

from flask_socketio import SocketIO, join_room, leave_room

from . import current, fanout, socketcap
from .access import find_ticket
from .auth import Principal, session_principal, verify_token
from .errors import NoSuchService, NoSuchTicket
from .events import Event
from .socketcap import SocketCap

log = logging.getLogger(__name__)
MAX_ROOM = 80


def make_publisher(server: Any) -> Any:
    """An engine listener that sends an operation's events as one frame per room."""

    def publish(events: list[Event]) -> None:
        try:
            fanout.emit_frames(server, fanout.frames(events))
        except Exception:  # the change is committed; clients resync on the seq gap
            log.exception(
                "could not publish %s", ", ".join(f"{e.name} seq {e.seq}" for e in events)
            )

    return publish


MANAGER_ROOM = "manager"

Notify = Callable[..., None]  # notify(event name, payload, *rooms)


def ticket_room(ticket_id: str) -> str:
    """The room of one ticket: the citizen's phone, the kiosk that issued it."""
    return f"ticket:{ticket_id}"


def printer_agent_room(kiosk: str) -> str:
    """The room the print agent of a kiosk joins to receive its print jobs."""
    return f"printer:{kiosk}"


def make_notifier(server: Any) -> Notify:
    """A function that emits one notice outside the branch sequence to some rooms.

    A failed emit is logged, never raised: what the notice tells is stored
    already, and pages ask again (see events.NOTICES).
    """

    def notify(name: str, payload: dict[str, Any], *rooms: str) -> None:
        for room in rooms:
            try:
                server.emit(name, payload, to=room, namespace="/")
            except Exception:  # noqa: BLE001 - stored already; pages refetch
                log.exception("could not emit %s to %s", name, room)

    return notify


def refuse(error: str, message: str) -> dict[str, Any]:
    """The ack that refuses a Socket.IO request (this module's and the print agent's)."""
    return {"ok": False, "error": error, "message": message}


def socket_principal(data: dict[str, Any]) -> tuple[Principal | None, dict[str, Any] | None]:
    """Who sent `data`: its bearer token, else the page's session; or the refusal."""
    token = data.get("token")
    if token is None:
        return session_principal(), None
    principal = verify_token(token) if isinstance(token, str) else None
    if principal is None:
        return None, refuse("unauthorized", "the token is invalid or expired")
    return principal, None


def _check_room(room: str, data: dict[str, Any]) -> dict[str, Any] | None:
    """None if the caller may join `room`, else the refusal."""
    engine = current.engine()
    kind, _, ident = room.partition(":")
    if room == "display":
        return None
    if kind == "ticket" and ident:
        try:  # by id only, for staff too: events go to the room of the ticket's id
            find_ticket(engine, ident, staff=False)
        except NoSuchTicket as exc:
            return refuse(exc.code, exc.message)
        return None
    if kind == "line" and ident:
        try:
            engine.service(ident)
        except NoSuchService as exc:
            return refuse(exc.code, exc.message)
        return None
    if room != "manager" and not (kind == "counter" and ident):
        return refuse(
            "bad_request",
            "room must be display, manager, counter:<id>, ticket:<id> or line:<service>",
        )
    principal, refusal = socket_principal(data)
    if refusal:
        return refusal
    if principal is None:
        return refuse("unauthorized", f"log in to join {room}")
    if room == "manager":
        return (
            None
            if principal.role == "manager"
            else refuse("forbidden", "only managers may join the manager room")
        )
    if not principal.is_staff:
        return refuse("forbidden", "only clerks and managers may join a counter room")
    if engine.config.counter(ident) is None:
        return refuse("no_such_counter", f"unknown counter {ident!r}")
    return None


def on_join(data: Any = None) -> dict[str, Any]:
    """Join a room; the ack says whether it worked and the current seq."""
    if not isinstance(data, dict) or not isinstance(data.get("room"), str):
        return refuse("bad_request", "send {room: string, token?: string}")
    room = data["room"]
    if not room or len(room) > MAX_ROOM:
        return refuse("bad_request", f"room must be 1-{MAX_ROOM} characters")
    refusal = _check_room(room, data)
    if refusal:
        return refusal
    join_room(room)
    engine = current.engine()
    return {"ok": True, "room": room, "seq": engine.store.seq(engine.branch)}


def on_leave(data: Any = None) -> dict[str, Any]:
    """Leave a room."""
    if not isinstance(data, dict) or not isinstance(data.get("room"), str):
        return refuse("bad_request", "send {room: string}")
    leave_room(data["room"][:MAX_ROOM])
    return {"ok": True, "room": data["room"][:MAX_ROOM]}


def socket_cap(server_config: Any) -> SocketCap:
    """The websocket caps of `[server]`; in threading mode at most 3/4 of the threads,
    so the kiosks' and counters' HTTP always finds a free thread."""
    total = server_config.max_sockets
    if server_config.async_mode == "threading":
        total = min(total, max(1, server_config.threads * 3 // 4))
    return SocketCap(total, min(total, server_config.max_sockets_per_address))


def init_sockets(socketio: SocketIO, engine: Any) -> SocketCap:
    """Bind the handlers to the server `init_app` just made and publish the engine's events."""
    # Registered on the current server (not the decorator list), so each app
    # built by create_app gets them exactly once whatever the import order.
    socketio.on_event("join", on_join)
    socketio.on_event("leave", on_leave)
    engine.listeners.append(make_publisher(socketio.server))
    cap = socket_cap(engine.config.server)
    socketcap.install(socketio.server, cap)
    return cap
