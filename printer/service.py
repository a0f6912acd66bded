"""Printing tickets in the background: one small worker per kiosk printer.

The engine calls `on_events` after every commit. For `ticket_issued` the
service looks up the kiosk that issued it (the ticket's kiosk is the kiosk
user's bound [[kiosks]] id, or its name for a user named after the kiosk id,
case-insensitively) and queues a print: issuing never
waits on a printer. The kiosk's worker renders the ticket, stores it as a job,
then either sends it to the printer itself (network, usb, serial, file, cups;
short timeout) or hands it to the kiosk's print agent over Socket.IO.

Outcomes go out as Socket.IO events outside the branch sequence (no `seq`):
`ticket_printed` and `print_failed` to `ticket:<id>` (the kiosk that issued it
listens there) and `manager`, and `printer_status` to `manager` when a
printer's state changes. Print jobs for an agent go to `printer:<kiosk>`.
"""

from __future__ import annotations

import base64
import logging
import queue
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from satupintu.config import Config
from satupintu.events import TICKET_ISSUED, Event
from satupintu.model import Ticket
from satupintu.shapes import ticket_json

from . import transports
from .config import PrinterSettings, check_printer
from .jobs import Job, JobQueue, JobState, make_jobs
from .layout import render
from .status import MESSAGES, PrinterState, PrinterStatus, PrintFailed

log = logging.getLogger(__name__)

AGENT_TIMEOUT_S = 30.0  # an agent not heard from for this long counts as offline
WORKER_IDLE_S = 30.0  # a worker thread with nothing to do for this long ends
STATUS_MAX_AGE_S = 30.0  # GET /printers asks a printer again when its status is older
FAILED_TEXT = ("Tiket tidak dapat dicetak. Catat nomor Anda atau pindai kode QR di layar.",
               "The ticket could not be printed. Note your number or scan the QR code on screen.")


def agent_room(kiosk: str) -> str:
    return f"printer:{kiosk}"


@dataclass(frozen=True)
class Kiosk:
    id: str
    name: str
    printer: PrinterSettings


class Worker:
    """A queue and a thread that handles its items one by one; the thread ends when idle."""

    def __init__(self, name: str, handle: Callable[[Any], None]):
        self.name = name
        self.handle = handle
        self.queue: queue.Queue[Any] = queue.Queue()
        self._thread: threading.Thread | None = None
        self._lock = threading.Lock()

    def put(self, item: Any) -> None:
        with self._lock:
            self.queue.put(item)
            if self._thread is None:
                self._thread = threading.Thread(target=self._run, name=self.name, daemon=True)
                self._thread.start()

    def _run(self) -> None:
        while True:
            try:
                item = self.queue.get(timeout=WORKER_IDLE_S)
            except queue.Empty:
                with self._lock:
                    if self.queue.empty():
                        self._thread = None
                        return
                continue
            try:
                self.handle(item)
            except Exception:  # noqa: BLE001 - one bad ticket must not stop the printer
                log.exception("printing in %s failed", self.name)
            finally:
                self.queue.task_done()

    def join(self) -> None:
        self.queue.join()


class PrintService:
    """Prints issued tickets and keeps printer statuses; one per app."""

    def __init__(self, config: Config, engine: Any, server: Any, public_url: str = "",
                 clock: Callable[[], float] = time.time):
        self.config = config
        self.engine = engine
        self.server = server  # the python-socketio server, for emits
        self.public_url = public_url
        self.clock = clock
        self.jobs: JobQueue = make_jobs(engine.store, engine.branch)
        self.kiosks = {
            k.id: Kiosk(k.id, k.name, check_printer(k.printer.type, k.printer.options))
            for k in config.kiosks
        }
        self._workers: dict[str, Worker] = {}
        self._lock = threading.Lock()

    # -- which kiosk --------------------------------------------------------------

    def kiosk(self, name: str) -> Kiosk | None:
        """The [[kiosks]] entry for a kiosk id or kiosk user name (case-insensitive)."""
        wanted = (name or "").lower()
        return next((k for k in self.kiosks.values() if k.id.lower() == wanted), None)

    # -- submitting -----------------------------------------------------------------

    def on_events(self, events: list[Event]) -> None:
        """Engine listener: queue a print for every ticket issued at a kiosk with a printer."""
        for event in events:
            if event.name != TICKET_ISSUED or not event.ticket:
                continue
            try:
                # the ticket as the issue wrote it: no read back (one store round trip less)
                ticket = event.record or self.engine.store.ticket(self.engine.branch,
                                                                  event.ticket)
                kiosk = self.kiosk(ticket.kiosk) if ticket else None
                if ticket is None or kiosk is None:
                    continue
                info = self.submit(ticket, kiosk, _request_base_url())
                _remember_for_response(ticket.id, info)
            except Exception:  # noqa: BLE001 - the ticket is issued; printing must not undo that
                # The number, not the id: a ticket id in a log would let a reader follow it.
                number = event.data.get("ticket", {}).get("number", "?")
                log.exception("could not queue the print of ticket %s", number)

    def submit(self, ticket: Ticket, kiosk: Kiosk, base_url: str = "",
               reprint: bool = False) -> dict[str, Any]:
        """Queue one print of `ticket` on `kiosk`'s printer; what the kiosk is told now."""
        if kiosk.printer.type == "none":
            return self.info(ticket.id, kiosk, "none")
        self._worker(kiosk).put(("print", kiosk.id, ticket.id, self.public_url or base_url,
                                 reprint))
        if kiosk.printer.type == "agent" and not self.agent_online(kiosk.id):
            return self.info(ticket.id, kiosk, "failed", PrinterState.OFFLINE)
        return self.info(ticket.id, kiosk, "queued")

    def _worker(self, kiosk: Kiosk) -> Worker:
        with self._lock:
            worker = self._workers.get(kiosk.id)
            if worker is None:
                worker = self._workers[kiosk.id] = Worker(f"printer-{kiosk.id}", self._handle)
            return worker

    def wait_idle(self) -> None:
        """Block until every queued print was handled (tests, shutdown)."""
        for worker in list(self._workers.values()):
            worker.join()

    # -- the worker -------------------------------------------------------------------

    def ticket_data(self, ticket: Ticket, base_url: str, reprint: bool = False) -> dict[str, Any]:
        """The ticket as the layout reads it: public view, place in line, tracking URL."""
        ahead, wait = self.engine.position(ticket)
        url = f"{base_url.rstrip('/')}/t/{ticket.id}" if base_url else f"/t/{ticket.id}"
        return {**ticket_json(ticket, self.engine.tz), "people_ahead": ahead,
                "estimated_wait_s": wait, "url": url, "reprint": reprint}

    def render(self, ticket: Ticket, kiosk: Kiosk, base_url: str, reprint: bool = False) -> bytes:
        service = self.engine.service(ticket.service)
        return render(self.ticket_data(ticket, base_url, reprint), service, self.config.office,
                      kiosk.printer.profile)

    def _handle(self, item: tuple[Any, ...]) -> None:
        if item[0] == "probe":
            self._probe(self.kiosks[item[1]])
        else:
            self._print(*item[1:])

    def refresh(self, max_age: float = STATUS_MAX_AGE_S) -> None:
        """Ask server-side printers whose status is older than `max_age` for it, in the
        background (their workers); changes reach managers as printer_status events.
        """
        now = self.clock()
        for kiosk in self.kiosks.values():
            if not (kiosk.printer.server_side and kiosk.printer.status
                    and kiosk.printer.type in transports.READS_STATUS):
                continue
            status = self.jobs.status(kiosk.id)
            if status is None or now - status.updated > max_age:
                self._worker(kiosk).put(("probe", kiosk.id))

    def _probe(self, kiosk: Kiosk) -> None:
        status = self.jobs.status(kiosk.id)
        if status is not None and self.clock() - status.updated < 1.0:
            return  # a print or another probe just told us
        state, detail = transports.probe(kiosk.printer)
        self.set_status(kiosk.id, state, detail)

    def _print(self, kiosk_id: str, ticket_id: str, base_url: str, reprint: bool) -> None:
        kiosk = self.kiosks[kiosk_id]
        ticket = self.engine.store.ticket(self.engine.branch, ticket_id)
        if ticket is None:
            return
        data = self.render(ticket, kiosk, base_url, reprint)
        job = Job(Job.new_id(), kiosk.id, ticket.id, base64.b64encode(data).decode("ascii"),
                  self.clock())
        self.jobs.add(job)
        self.jobs.delivered(job.id)
        if kiosk.printer.server_side:
            try:
                state = transports.send(kiosk.printer, data)
            except PrintFailed as failed:
                self.finish(job.id, False, failed.state, failed.detail)
            else:
                self.finish(job.id, True, state)
        elif self.agent_online(kiosk.id):
            self.server.emit("print_job", job.message(), to=agent_room(kiosk.id), namespace="/")
        else:
            self.set_status(kiosk.id, PrinterState.OFFLINE, "print agent not connected")
            self._emit_failed(job.ticket, kiosk, PrinterState.OFFLINE)

    # -- outcomes ---------------------------------------------------------------------

    def finish(self, job_id: str, printed: bool, state: PrinterState,
               detail: str = "") -> bool:
        """Record a job's outcome once and tell the kiosk and managers; False for a repeat."""
        job = self.jobs.get(job_id)
        if job is None:
            return False
        done = JobState.PRINTED if printed else JobState.FAILED
        if not self.jobs.finish(job_id, done, detail, self.clock()):
            return False
        kiosk = self.kiosks.get(job.kiosk)
        self.set_status(job.kiosk, state, "" if printed else detail)
        if kiosk is None:
            return True
        if printed:
            payload = self.info(job.ticket, kiosk, "printed", state)
            self._emit("ticket_printed", payload, f"ticket:{job.ticket}")
        else:
            self._emit_failed(job.ticket, kiosk, state)
        return True

    def _emit_failed(self, ticket_id: str, kiosk: Kiosk, state: PrinterState) -> None:
        payload = self.info(ticket_id, kiosk, "failed", state)
        self._emit("print_failed", payload, f"ticket:{ticket_id}", "manager")

    def _emit(self, name: str, payload: dict[str, Any], *rooms: str) -> None:
        for room in rooms:
            try:
                self.server.emit(name, payload, to=room, namespace="/")
            except Exception:  # noqa: BLE001 - the job and status are stored; pages refetch
                log.exception("could not emit %s to %s", name, room)

    def set_status(self, kiosk_id: str, state: PrinterState, detail: str = "",
                   seen: float | None = None) -> PrinterStatus:
        """Store a printer's state (detail: the error, kept as the last error); tell managers
        when the state changes.
        """
        now = self.clock()
        old = self.jobs.status(kiosk_id)
        kiosk = self.kiosks.get(kiosk_id)
        status = PrinterStatus(
            kiosk=kiosk_id, state=state,
            detail=detail or (old.detail if old else ""),
            since=old.since if old and old.state is state else now,
            updated=now,
            printer=kiosk.printer.describe() if kiosk else "",
            seen=seen if seen is not None else (old.seen if old else 0.0),
        )
        self.jobs.set_status(status)
        if old is None or old.state is not state:
            log.log(logging.INFO if state.prints else logging.WARNING,
                    "printer of kiosk %s: %s %s", kiosk_id, state.value, detail)
            self._emit("printer_status", self.status_view(kiosk_id, status), "manager")
        return status

    # -- views --------------------------------------------------------------------------

    def agent_online(self, kiosk_id: str) -> bool:
        status = self.jobs.status(kiosk_id)
        return status is not None and self.clock() - status.seen < AGENT_TIMEOUT_S

    def status_view(self, kiosk_id: str, status: PrinterStatus | None = None) -> dict[str, Any]:
        """A printer's status for managers (an agent not heard from lately shows offline)."""
        kiosk = self.kiosks[kiosk_id]
        status = status or self.jobs.status(kiosk_id) or PrinterStatus(
            kiosk_id, since=0.0, updated=0.0, printer=kiosk.printer.describe())
        if (kiosk.printer.type == "agent" and status.state.prints
                and not self.agent_online(kiosk_id)):
            status = PrinterStatus(kiosk_id, PrinterState.OFFLINE, "print agent not connected",
                                   status.seen or status.since, status.updated, status.printer,
                                   status.seen)
        return {**status.to_dict(), "name": kiosk.name, "type": kiosk.printer.type,
                "paper": kiosk.printer.paper}

    def info(self, ticket_id: str, kiosk: Kiosk, state: str,
             printer: PrinterState | None = None) -> dict[str, Any]:
        """What a kiosk is told about a ticket's print: queued, printed, failed or none."""
        data: dict[str, Any] = {
            "ticket": ticket_id, "kiosk": kiosk.id, "state": state,
            "preview": f"/api/v1/tickets/{ticket_id}/preview.png?paper={kiosk.printer.paper}",
        }
        if printer is not None:
            data["printer"] = printer.value
            data["printer_message"] = MESSAGES[printer][0]
        if state in ("failed", "none"):
            data["message"], data["message_en"] = FAILED_TEXT
        return data

    def print_info(self, ticket: Ticket) -> dict[str, Any] | None:
        """The latest print of a ticket, as `info` gives it; None if it is not printed."""
        jobs = self.jobs.for_ticket(ticket.id)
        kiosk = self.kiosks.get(jobs[-1].kiosk) if jobs else self.kiosk(ticket.kiosk)
        if kiosk is None:
            return None
        if not jobs:
            return self.info(ticket.id, kiosk, "none" if kiosk.printer.type == "none"
                             else "queued")
        job = jobs[-1]
        status = self.jobs.status(kiosk.id)
        printer = status.state if status else None
        state = {JobState.PENDING: "queued", JobState.PRINTED: "printed",
                 JobState.FAILED: "failed", JobState.EXPIRED: "failed"}[job.state]
        if state == "queued" and kiosk.printer.type == "agent" and not self.agent_online(
                kiosk.id):
            state, printer = "failed", PrinterState.OFFLINE
        return self.info(ticket.id, kiosk, state, printer)


def _request_base_url() -> str:
    from flask import has_request_context, request

    return request.host_url if has_request_context() else ""


def _remember_for_response(ticket_id: str, info: dict[str, Any]) -> None:
    """Keep the print info for the issuing response (satupintu/api/tickets.py reads it)."""
    from flask import g, has_app_context

    if has_app_context():
        g.satupintu_print = {**getattr(g, "satupintu_print", {}), ticket_id: info}
