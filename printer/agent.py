"""The print agent: runs on a kiosk PC whose printer is attached to it.

    satupintu printer agent --server https://antrean.example --kiosk K1 \
        --username k1 --password-stdin --printer usb:04b8:0e15

It connects to the server over Socket.IO, joins its kiosk (`printer_agent_join`,
whose answer carries every job still pending: what it missed while away),
prints each `print_job` (the server renders the ticket: the payload is
base64 ESC/POS for the kiosk's paper) and acknowledges it. A job id is written
to a small local file *before* the bytes go to the printer, so a job whose
acknowledgement was lost and that is delivered again is acknowledged again
without printing twice (at most once: a crash mid-print reports a failure).
Every `heartbeat` seconds it reports the printer's state.
"""

from __future__ import annotations

import base64
import json
import logging
import os
import queue
import socket
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import requests
import socketio

from satupintu import events
from satupintu.printer_settings import PrinterSettings
from satupintu.printjobs import PrinterState

from . import transports
from .status import PrintFailed

log = logging.getLogger("satupintu.printer.agent")

KEEP_IDS = 2000  # job ids remembered; older lines are dropped when the file is compacted


class AgentError(Exception):
    """The agent cannot go on (bad login, kiosk refused): the message says why."""


class PrintedLog:
    """Job ids this agent handled, with their outcome, in an append-only JSON-lines file."""

    def __init__(self, path: Path):
        self.path = path
        self.outcomes: dict[str, dict[str, Any]] = {}
        path.parent.mkdir(parents=True, exist_ok=True)
        if path.exists():
            for line in path.read_text(encoding="utf-8").splitlines():
                try:
                    entry = json.loads(line)
                    self.outcomes[str(entry["id"])] = entry
                except (ValueError, KeyError, TypeError):
                    continue  # a line cut short by a crash
        self._lines = len(self.outcomes)

    def get(self, job_id: str) -> dict[str, Any] | None:
        return self.outcomes.get(job_id)

    def write(self, job_id: str, state: str, printer: str = "", detail: str = "") -> None:
        """Record (durably, before returning) what happened to a job."""
        entry = {
            "id": job_id,
            "state": state,
            "printer": printer,
            "detail": detail,
            "at": time.time(),
        }
        self.outcomes[job_id] = entry
        with self.path.open("a", encoding="utf-8") as fh:
            fh.write(json.dumps(entry) + "\n")
            fh.flush()
            os.fsync(fh.fileno())
        self._lines += 1
        if self._lines > 2 * KEEP_IDS:
            self._compact()

    def _compact(self) -> None:
        keep = list(self.outcomes.values())[-KEEP_IDS:]
        self.outcomes = {e["id"]: e for e in keep}
        tmp = self.path.with_suffix(".tmp")
        tmp.write_text("".join(json.dumps(e) + "\n" for e in keep), encoding="utf-8")
        os.replace(tmp, self.path)
        self._lines = len(keep)


class PrintAgent:
    """One kiosk's print agent; `run()` blocks until `stop()`."""

    def __init__(
        self,
        server: str,
        kiosk: str,
        printer: PrinterSettings,
        state_file: Path,
        token: str = "",
        username: str = "",
        password: str = "",
        heartbeat: float = 10.0,
        send: Callable[[PrinterSettings, bytes], PrinterState] = transports.send,
    ):
        self.server = server.rstrip("/")
        self.kiosk = kiosk
        self.printer = printer
        self.token = token
        self.username = username
        self.password = password
        self.heartbeat = heartbeat
        self.send = send
        self.printed = PrintedLog(state_file)
        self.state = PrinterState.OK
        self.detail = ""
        self.joined = threading.Event()
        self.drop_acks = False  # tests: pretend acknowledgements get lost
        self._inbox: queue.Queue[tuple[str, Any]] = queue.Queue()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self.sio = socketio.Client(
            reconnection=True, reconnection_delay=0.5, reconnection_delay_max=5
        )
        self.sio.on("connect", lambda: self._inbox.put(("join", None)))
        self.sio.on("disconnect", self._disconnected)
        self.sio.on(events.PRINT_JOB, lambda job: self._inbox.put(("job", job)))

    # -- connection -------------------------------------------------------------------

    def login(self) -> None:
        """Get a bearer token with the username and password."""
        if not (self.username and self.password):
            raise AgentError("the token was refused; give --username and --password-stdin")
        try:
            r = requests.post(
                f"{self.server}/api/v1/auth/token",
                timeout=15,
                json={"username": self.username, "password": self.password},
            )
        except requests.RequestException as exc:
            raise ConnectionError(f"cannot reach {self.server}: {exc}") from exc
        if r.status_code != 200:
            raise AgentError(f"login as {self.username!r} refused: {r.text.strip()[:200]}")
        self.token = r.json()["token"]

    def connect(self) -> None:
        if not self.token:
            self.login()
        self.sio.connect(self.server, transports=["websocket"], wait_timeout=15)

    def _disconnected(self, *args: Any) -> None:
        self.joined.clear()
        self._drop_socket()
        if not self._stop.is_set():
            log.warning("disconnected from %s; reconnecting", self.server)

    def _join(self) -> None:
        for attempt in range(2):
            ack = self.sio.call(
                events.PRINTER_AGENT_JOIN,
                {
                    "kiosk": self.kiosk,
                    "token": self.token,
                    "state": self.state.value,
                    "detail": self.detail,
                },
                timeout=15,
            )
            if ack.get("ok"):
                break
            if ack.get("error") == "unauthorized" and attempt == 0 and self.password:
                self.login()  # the token expired: log in again
                continue
            raise AgentError(f"kiosk {self.kiosk} refused: {ack.get('message')}")
        log.info(
            "joined %s as kiosk %s; %d job(s) waiting", self.server, ack["kiosk"], len(ack["jobs"])
        )
        self.joined.set()
        for job in ack["jobs"]:
            self._handle(job)

    def _drop_socket(self) -> None:
        """Shut the websocket's TCP socket down, so its reader thread wakes up and ends.

        python-engineio leaves a dead websocket open after a transport error (it
        only drops it on reconnect), and on disconnect() it joins the reader
        thread, which sits in recv() until the server's ping timeout: closing
        the file descriptor does not wake a recv() blocked in another thread,
        shutdown() does (recv returns end-of-stream at once).
        """
        ws = getattr(self.sio.eio, "ws", None)
        sock = getattr(ws, "sock", None)
        if sock is not None:
            try:
                sock.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass  # already closed by the peer
        if ws is not None:
            ws.shutdown()

    # -- printing -------------------------------------------------------------------

    def _handle(self, job: dict[str, Any]) -> None:
        job_id = str(job["id"])
        done = self.printed.get(job_id)
        if done is not None:
            # Delivered again (our ack was lost): say what happened; never print twice.
            printed = done["state"] == "printed"
            detail = done["detail"] or ("" if printed else "agent stopped while printing")
            self._ack(job_id, printed, done["printer"] or self.state.value, detail)
            return
        self.printed.write(job_id, "printing")
        try:
            state = self.send(self.printer, base64.b64decode(job["payload"]))
        except PrintFailed as failed:
            self.state, self.detail = failed.state, failed.detail
            self.printed.write(job_id, "failed", failed.state.value, failed.detail)
            log.warning("job %s not printed: %s", job_id, failed.detail)  # no ticket ids in logs
            self._ack(job_id, False, failed.state.value, failed.detail)
            return
        self.state, self.detail = state, ""
        self.printed.write(job_id, "printed", state.value)
        log.info("printed job %s", job_id)
        self._ack(job_id, True, state.value, "")

    def _ack(self, job_id: str, ok: bool, state: str, detail: str) -> None:
        if self.drop_acks:
            return
        try:
            self.sio.call(
                events.PRINTER_AGENT_ACK,
                {"job": job_id, "ok": ok, "state": state, "detail": detail},
                timeout=10,
            )
        except (
            socketio.exceptions.TimeoutError,
            socketio.exceptions.BadNamespaceError,
            socketio.exceptions.ConnectionError,
        ) as exc:
            # The job stays pending on the server, comes back on reconnect, and is
            # acknowledged then from the printed log.
            log.warning("could not acknowledge job %s (%s); will on reconnect", job_id, exc)

    def _beat(self) -> None:
        if self.printer.type in transports.READS_STATUS and self.printer.status:
            self.state, detail = transports.probe(self.printer)
            self.detail = detail or self.detail
        try:
            self.sio.call(
                events.PRINTER_AGENT_STATUS,
                {"state": self.state.value, "detail": self.detail},
                timeout=10,
            )
        except socketio.exceptions.SocketIOError as exc:
            log.debug("heartbeat not sent: %s", exc)

    # -- the loop -----------------------------------------------------------------------

    def run(self) -> None:
        """Connect, then handle joins, jobs and heartbeats until stopped."""
        self.connect()
        try:
            self._loop()
        finally:
            self.sio.disconnect()

    def _loop(self) -> None:
        next_beat = time.monotonic() + self.heartbeat
        while not self._stop.is_set():
            try:
                kind, data = self._inbox.get(timeout=max(0.05, next_beat - time.monotonic()))
            except queue.Empty:
                if self.joined.is_set():
                    self._beat()
                next_beat = time.monotonic() + self.heartbeat
                continue
            if kind == "stop":
                break
            try:
                if kind == "join":
                    self._join()
                elif kind == "job" and self.joined.is_set():
                    self._handle(data)
            except socketio.exceptions.SocketIOError as exc:
                log.warning("lost the server while handling %s: %s", kind, exc)

    def start(self) -> threading.Thread:
        """Run in a background thread (tests, embedding)."""
        self._thread = threading.Thread(
            target=self.run, name=f"print-agent-{self.kiosk}", daemon=True
        )
        self._thread.start()
        return self._thread

    def stop(self, timeout: float = 15) -> None:
        """Stop the loop and disconnect (waits for a thread `start` made)."""
        self._stop.set()
        self._inbox.put(("stop", None))
        if self._thread is not None and self._thread is not threading.current_thread():
            self._thread.join(timeout)
