"""The print agent's Socket.IO protocol (namespace "/").

    agent -> server  printer_agent_join   {kiosk, token?, state?, detail?}
                     ack {ok, room, jobs: [job...]}: every pending job, oldest first
    server -> agent  print_job            {id, kiosk, ticket, payload (base64 ESC/POS), ...}
    agent -> server  printer_agent_ack    {job, ok, state?, detail?}   ack {ok, duplicate}
    agent -> server  printer_agent_status {state, detail?}   (also the heartbeat, every 10 s)

Who may join: a kiosk user bound to the kiosk (`users add --kiosk`), or named after
it (kiosk id, any case), or a
manager, with a bearer token (or the page session), for a kiosk whose printer
type is "agent". Acknowledging a job twice changes nothing (`duplicate`).
"""

from __future__ import annotations

from typing import Any

from flask import session
from flask_socketio import SocketIO, join_room

from satupintu import events
from satupintu.printjobs import PrinterState
from satupintu.sockets import printer_agent_room, refuse, socket_principal

from .service import PrintService, printing

SESSION_KEY = "satupintu_printer_agent"


def _service() -> PrintService:
    return printing()


def _state(data: dict[str, Any]) -> tuple[PrinterState | None, str]:
    raw = data.get("state")
    detail = data.get("detail")
    if not isinstance(detail, str):
        detail = ""
    try:
        return (PrinterState(raw) if raw is not None else None), detail[:300]
    except ValueError:
        return None, detail[:300]


def on_join(data: Any = None) -> dict[str, Any]:
    """A print agent joins its kiosk's room and gets every pending job."""
    if not isinstance(data, dict) or not isinstance(data.get("kiosk"), str):
        return refuse("bad_request", "send {kiosk: string, token: string}")
    svc = _service()
    kiosk = svc.kiosk(data["kiosk"])
    if kiosk is None:
        return refuse("no_such_kiosk", f"unknown kiosk {data['kiosk'][:40]!r}")
    if kiosk.printer.type != "agent":
        return refuse(
            "not_an_agent_kiosk",
            f"kiosk {kiosk.id} has printer type {kiosk.printer.type!r}; set "
            'printer = { type = "agent" } in config.toml to use the print agent',
        )
    principal, refusal = socket_principal(data)
    if refusal:
        return refusal
    if principal is None:
        return refuse("unauthorized", "log in first (token)")
    if not (
        principal.role == "manager"
        or (principal.role == "kiosk" and principal.kiosk_id.lower() == kiosk.id.lower())
    ):
        return refuse(
            "forbidden",
            f"only a kiosk user bound to {kiosk.id!r} (or named "
            f"{kiosk.id.lower()!r}) or a manager may run this kiosk's "
            "print agent",
        )
    session[SESSION_KEY] = kiosk.id
    room = printer_agent_room(kiosk.id)
    join_room(room)
    state, detail = _state(data)
    now = svc.clock()
    old = svc.store.printer_status(svc.branch, kiosk.id)
    svc.set_status(
        kiosk.id, state or (old.state if old and old.seen else PrinterState.OK), detail, seen=now
    )
    jobs = svc.store.pending_print_jobs(svc.branch, kiosk.id, now, kiosk.printer.job_ttl)
    for job in jobs:
        svc.store.print_job_delivered(svc.branch, job.id)
    return {"ok": True, "room": room, "kiosk": kiosk.id, "jobs": [job.message() for job in jobs]}


def _agent_kiosk() -> str | None:
    return session.get(SESSION_KEY)


def on_ack(data: Any = None) -> dict[str, Any]:
    """The agent printed a job (ok) or could not (state, detail)."""
    kiosk_id = _agent_kiosk()
    if kiosk_id is None:
        return refuse("unauthorized", "join with printer_agent_join first")
    if not isinstance(data, dict) or not isinstance(data.get("job"), str):
        return refuse("bad_request", "send {job: string, ok: bool, state?, detail?}")
    svc = _service()
    job = svc.store.print_job(svc.branch, data["job"][:64])
    if job is None or job.kiosk != kiosk_id:
        return refuse("no_such_job", "no such print job for this kiosk")
    state, detail = _state(data)
    printed = data.get("ok") is True
    if printed:
        state = state if state and state.prints else PrinterState.OK
    else:
        state = state if state and not state.prints else PrinterState.ERROR
    first = svc.finish(job, printed, state, detail)
    svc.heard(kiosk_id)
    return {"ok": True, "job": job.id, "duplicate": not first}


def on_status(data: Any = None) -> dict[str, Any]:
    """The agent's heartbeat with its printer's state."""
    kiosk_id = _agent_kiosk()
    if kiosk_id is None:
        return refuse("unauthorized", "join with printer_agent_join first")
    svc = _service()
    state, detail = _state(data if isinstance(data, dict) else {})
    old = svc.store.printer_status(svc.branch, kiosk_id)
    svc.set_status(
        kiosk_id, state or (old.state if old else PrinterState.OK), detail, seen=svc.clock()
    )
    return {"ok": True}


def init_agent_sockets(socketio: SocketIO) -> None:
    """Bind the print agent's events on the server `init_app` just made."""
    socketio.on_event(events.PRINTER_AGENT_JOIN, on_join)
    socketio.on_event(events.PRINTER_AGENT_ACK, on_ack)
    socketio.on_event(events.PRINTER_AGENT_STATUS, on_status)
