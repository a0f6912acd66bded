"""Printing tickets in the background: one small worker per kiosk printer.

The issuing route hands the ticket it just issued to `print_issued` (with its
place in line and estimated wait, as the engine's Outcome has them). The
service looks up the kiosk that issued it (the ticket's kiosk is the kiosk
user's bound [[kiosks]] id, or its name for a user named after the kiosk id,
case-insensitively), queues the print and returns what
the kiosk is told now: issuing never waits on a printer. The kiosk's worker
renders the ticket from what it was handed (no store read), stores it as a
print job (Store.add_print_job), then either sends it to the printer itself
(network, usb, serial, file, cups; short timeout) or hands it to the kiosk's
print agent.

Outcomes go out through the Socket.IO adapter's notifier (satupintu/sockets.py),
outside the branch sequence: events.TICKET_PRINTED to the ticket's room (the
kiosk that issued it listens there), events.PRINT_FAILED to the ticket's room
and managers, events.PRINTER_STATUS to managers when a printer's state
changes, and events.PRINT_JOB to the kiosk's print agent.
"""

from __future__ import annotations

import base64
import logging
import queue
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any

from satupintu import events
from satupintu.config import Config, Service
from satupintu.current import Part
from satupintu.model import Ticket
from satupintu.printer_settings import PrinterSettings
from satupintu.printjobs import MESSAGES, JobState, PrinterState, PrinterStatus, PrintJob
from satupintu.sockets import MANAGER_ROOM, Notify, printer_agent_room, ticket_room

from . import transports
from .layout import PrintedTicket, render
from .status import PrintFailed

log = logging.getLogger(__name__)

AGENT_TIMEOUT_S = 30.0  # an agent not heard from for this long counts as offline
WORKER_IDLE_S = 30.0  # a worker thread with nothing to do for this long ends
STATUS_MAX_AGE_S = 30.0  # GET /printers asks a printer again when its status is older
FAILED_TEXT = (
    "Tiket tidak dapat dicetak. Catat nomor Anda atau pindai kode QR di layar.",
    "The ticket could not be printed. Note your number or scan the QR code on screen.",
)


@dataclass(frozen=True)
class Kiosk:
    id: str
    name: str
    printer: PrinterSettings


@dataclass(frozen=True)
class PrintRequest:
    """One print, with everything the worker needs: it reads nothing back."""

    kiosk: Kiosk
    ticket: PrintedTicket
    service: Service


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

    def __init__(
        self,
        config: Config,
        engine: Any,
        notify: Notify,
        public_url: str = "",
        clock: Callable[[], float] = time.time,
    ):
        self.config = config
        self.engine = engine
        self.store = engine.store
        self.branch = engine.branch
        self.notify = notify
        self.public_url = public_url
        self.clock = clock
        self.kiosks = {k.id: Kiosk(k.id, k.name, k.printer) for k in config.kiosks}
        self._workers: dict[str, Worker] = {}
        self._lock = threading.Lock()

    # -- which kiosk --------------------------------------------------------------

    def kiosk(self, name: str) -> Kiosk | None:
        """The [[kiosks]] entry for a kiosk id or kiosk user name (case-insensitive)."""
        wanted = (name or "").lower()
        return next((k for k in self.kiosks.values() if k.id.lower() == wanted), None)

    # -- submitting -----------------------------------------------------------------

    def printed_ticket(
        self,
        ticket: Ticket,
        people_ahead: int,
        wait: int | None,
        base_url: str = "",
        reprint: bool = False,
    ) -> PrintedTicket:
        """What `ticket` says on paper, from the ticket and its place in line in hand."""
        base = (self.public_url or base_url).rstrip("/")
        return PrintedTicket(
            id=ticket.id,
            number=ticket.number,
            priority=ticket.priority,
            issued_at=datetime.fromtimestamp(ticket.issued_at, self.engine.tz),
            people_ahead=people_ahead,
            estimated_wait_s=wait,
            url=f"{base}/t/{ticket.id}",
            reprint=reprint,
        )

    def print_issued(
        self, ticket: Ticket, people_ahead: int, wait: int | None, base_url: str = ""
    ) -> dict[str, Any] | None:
        """Queue the first print of a ticket just issued; what the kiosk is told about it
        (None when it was not issued at a kiosk in [[kiosks]]).
        """
        kiosk = self.kiosk(ticket.kiosk)
        if kiosk is None:
            return None
        try:
            return self.submit(
                ticket, kiosk, self.printed_ticket(ticket, people_ahead, wait, base_url)
            )
        except Exception:  # noqa: BLE001 - the ticket is issued; printing must not undo that
            # The number, not the id: a ticket id in a log would let a reader follow it.
            log.exception("could not queue the print of ticket %s", ticket.number)
            return self.info(ticket.id, kiosk, "failed", PrinterState.ERROR)

    def print_replayed(
        self, ticket: Ticket, people_ahead: int, wait: int | None, base_url: str = ""
    ) -> dict[str, Any] | None:
        """The print of a ticket issued again by its Idempotency-Key: its state, or queued
        now if the first request died before its print was (the kiosk never got the ticket).
        """
        kiosk = self.kiosk(ticket.kiosk)
        if kiosk is None:
            return None
        if kiosk.printer.type != "none" and not self.store.ticket_print_jobs(
            self.branch, ticket.id
        ):
            return self.print_issued(ticket, people_ahead, wait, base_url)
        return self.print_info(ticket)

    def reprint(self, ticket: Ticket, kiosk: Kiosk, base_url: str = "") -> dict[str, Any]:
        """Queue the ticket again on `kiosk`'s printer, with its place in line now."""
        ahead, wait = self.engine.position(ticket)
        return self.submit(
            ticket, kiosk, self.printed_ticket(ticket, ahead, wait, base_url, reprint=True)
        )

    def submit(self, ticket: Ticket, kiosk: Kiosk, face: PrintedTicket) -> dict[str, Any]:
        """Queue one print of `face` on `kiosk`'s printer; what the kiosk is told now."""
        if kiosk.printer.type == "none":
            return self.info(ticket.id, kiosk, "none")
        service = self.engine.service(ticket.service)
        self._worker(kiosk).put(PrintRequest(kiosk, face, service))
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

    def _handle(self, item: PrintRequest | Kiosk) -> None:
        if isinstance(item, Kiosk):
            self._probe(item)
        else:
            self._print(item)

    def refresh(self, max_age: float = STATUS_MAX_AGE_S) -> None:
        """Ask server-side printers whose status is older than `max_age` for it, in the
        background (their workers); changes reach managers as printer_status events.
        """
        now = self.clock()
        for kiosk in self.kiosks.values():
            if not (
                kiosk.printer.server_side
                and kiosk.printer.status
                and kiosk.printer.type in transports.READS_STATUS
            ):
                continue
            status = self.store.printer_status(self.branch, kiosk.id)
            if status is None or now - status.updated > max_age:
                self._worker(kiosk).put(kiosk)

    def _probe(self, kiosk: Kiosk) -> None:
        status = self.store.printer_status(self.branch, kiosk.id)
        if status is not None and self.clock() - status.updated < 1.0:
            return  # a print or another probe just told us
        state, detail = transports.probe(kiosk.printer)
        self.set_status(kiosk.id, state, detail)

    def _print(self, request: PrintRequest) -> None:
        kiosk, face = request.kiosk, request.ticket
        data = render(face, request.service, self.config.office, kiosk.printer.profile)
        # Stored with its first delivery counted: the worker sends it (or hands it on) now.
        job = PrintJob(
            PrintJob.new_id(),
            kiosk.id,
            face.id,
            base64.b64encode(data).decode("ascii"),
            self.clock(),
            attempts=1,
        )
        self.store.add_print_job(self.branch, job)
        if kiosk.printer.server_side:
            try:
                state = transports.send(kiosk.printer, data)
            except PrintFailed as failed:
                self.finish(job, False, failed.state, failed.detail)
            else:
                self.finish(job, True, state)
        elif self.agent_online(kiosk.id):
            self.notify(events.PRINT_JOB, job.message(), printer_agent_room(kiosk.id))
        else:
            self.set_status(kiosk.id, PrinterState.OFFLINE, "print agent not connected")
            self._notify_failed(job.ticket, kiosk, PrinterState.OFFLINE)

    # -- outcomes ---------------------------------------------------------------------

    def finish(self, job: PrintJob, printed: bool, state: PrinterState, detail: str = "") -> bool:
        """Record a job's outcome once and tell the kiosk and managers; False for a repeat."""
        if job.state is not JobState.PENDING:
            return False  # a repeat: it must not set the printer's state of back then again
        # The printer's state first: whoever sees the job finished sees why it failed too.
        self.set_status(job.kiosk, state, "" if printed else detail)
        done = JobState.PRINTED if printed else JobState.FAILED
        if not self.store.finish_print_job(self.branch, job.id, done, detail, self.clock()):
            return False  # another process finished it meanwhile (the same outcome)
        kiosk = self.kiosks.get(job.kiosk)
        if kiosk is None:
            return True
        if printed:
            payload = self.info(job.ticket, kiosk, "printed", state)
            self.notify(events.TICKET_PRINTED, payload, ticket_room(job.ticket))
        else:
            self._notify_failed(job.ticket, kiosk, state)
        return True

    def _notify_failed(self, ticket_id: str, kiosk: Kiosk, state: PrinterState) -> None:
        payload = self.info(ticket_id, kiosk, "failed", state)
        self.notify(events.PRINT_FAILED, payload, ticket_room(ticket_id), MANAGER_ROOM)

    def set_status(
        self, kiosk_id: str, state: PrinterState, detail: str = "", seen: float | None = None
    ) -> PrinterStatus:
        """Store a printer's state (detail: the error, kept as the last error); tell managers
        when the state changes.
        """
        now = self.clock()
        old = self.store.printer_status(self.branch, kiosk_id)
        kiosk = self.kiosks.get(kiosk_id)
        status = PrinterStatus(
            kiosk=kiosk_id,
            state=state,
            detail=detail or (old.detail if old else ""),
            since=old.since if old and old.state is state else now,
            updated=now,
            printer=kiosk.printer.describe() if kiosk else "",
            seen=seen if seen is not None else (old.seen if old else 0.0),
        )
        self.store.put_printer_status(self.branch, status)
        if old is None or old.state is not state:
            log.log(
                logging.INFO if state.prints else logging.WARNING,
                "printer of kiosk %s: %s %s",
                kiosk_id,
                state.value,
                detail,
            )
            self.notify(events.PRINTER_STATUS, self.status_view(kiosk_id, status), MANAGER_ROOM)
        return status

    def heard(self, kiosk_id: str) -> None:
        """The kiosk's print agent was just heard from (it stays online)."""
        status = self.store.printer_status(self.branch, kiosk_id)
        if status is not None:
            self.store.put_printer_status(self.branch, replace(status, seen=self.clock()))

    # -- views --------------------------------------------------------------------------

    def agent_online(self, kiosk_id: str) -> bool:
        """True if the kiosk's print agent was heard from lately."""
        status = self.store.printer_status(self.branch, kiosk_id)
        return status is not None and self.clock() - status.seen < AGENT_TIMEOUT_S

    def status_view(self, kiosk_id: str, status: PrinterStatus | None = None) -> dict[str, Any]:
        """A printer's status for managers (an agent not heard from lately shows offline)."""
        kiosk = self.kiosks[kiosk_id]
        status = (
            status
            or self.store.printer_status(self.branch, kiosk_id)
            or PrinterStatus(kiosk_id, since=0.0, updated=0.0, printer=kiosk.printer.describe())
        )
        if (
            kiosk.printer.type == "agent"
            and status.state.prints
            and not self.agent_online(kiosk_id)
        ):
            status = PrinterStatus(
                kiosk_id,
                PrinterState.OFFLINE,
                "print agent not connected",
                status.seen or status.since,
                status.updated,
                status.printer,
                status.seen,
            )
        return {
            **status.to_dict(),
            "name": kiosk.name,
            "type": kiosk.printer.type,
            "paper": kiosk.printer.paper,
        }

    def info(
        self, ticket_id: str, kiosk: Kiosk, state: str, printer: PrinterState | None = None
    ) -> dict[str, Any]:
        """What a kiosk is told about a ticket's print: queued, printed, failed or none."""
        data: dict[str, Any] = {
            "ticket": ticket_id,
            "kiosk": kiosk.id,
            "state": state,
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
        jobs = self.store.ticket_print_jobs(self.branch, ticket.id)
        kiosk = self.kiosks.get(jobs[-1].kiosk) if jobs else self.kiosk(ticket.kiosk)
        if kiosk is None:
            return None
        if not jobs:
            return self.info(ticket.id, kiosk, "none" if kiosk.printer.type == "none" else "queued")
        job = jobs[-1]
        status = self.store.printer_status(self.branch, kiosk.id)
        printer = status.state if status else None
        state = {
            JobState.PENDING: "queued",
            JobState.PRINTED: "printed",
            JobState.FAILED: "failed",
            JobState.EXPIRED: "failed",
        }[job.state]
        if state == "queued" and kiosk.printer.type == "agent" and not self.agent_online(kiosk.id):
            state, printer = "failed", PrinterState.OFFLINE
        return self.info(ticket.id, kiosk, state, printer)


printing: Part[PrintService] = Part("printing")  # the app's service; init_printing sets it
