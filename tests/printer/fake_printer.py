"""A loopback TCP receipt printer (like an Epson TM on port 9100) for tests.

It listens on 127.0.0.1 on a random port, records every byte it receives (one
entry in `jobs` per connection), and answers the real-time status queries
DLE EOT 1/2/4 and GS r 1 the way an Epson TM does for its current `mode`:

    ok               online, paper adequate
    paper_near_end   online, near-end sensor on (prints)
    paper_out        offline, paper end
    cover_open       offline, cover open
    offline          not listening at all: connections are refused
    slow             answers and reads only after `delay` seconds
"""

from __future__ import annotations

import socket
import threading
import time

DLE, EOT, GS = 0x10, 0x04, 0x1D
FIXED = 0x12  # bits 1 and 4 are always set in DLE EOT answers
MODES = ("ok", "paper_near_end", "paper_out", "cover_open", "offline", "slow")


def status_byte(mode: str, n: int) -> int:
    """The answer to DLE EOT n (or GS r 1 when n is 'r1') in `mode`."""
    offline = mode in ("paper_out", "cover_open")
    if n == 1:  # printer status: bit 3 offline
        return 0x16 | (0x08 if offline else 0)
    if n == 2:  # offline cause: bit 2 cover open, bit 5 stopped by paper end
        return FIXED | (0x04 if mode == "cover_open" else 0) | (0x20 if mode == "paper_out" else 0)
    if n == 3:  # error cause: none
        return FIXED
    if n == 4:  # roll paper sensor: bits 2-3 near end, bits 5-6 paper end
        return (
            FIXED
            | (0x0C if mode in ("paper_near_end", "paper_out") else 0)
            | (0x60 if mode == "paper_out" else 0)
        )
    raise ValueError(n)


def gs_r1_byte(mode: str) -> int:
    """GS r 1 (paper sensor): bits 0-1 near end, bits 2-3 paper end."""
    return (0x03 if mode in ("paper_near_end", "paper_out") else 0) | (
        0x0C if mode == "paper_out" else 0
    )


class FakePrinter:
    """A printer in a thread; `set_mode` changes how it behaves from the next byte on."""

    def __init__(self, mode: str = "ok", delay: float = 2.0):
        self.mode = mode
        self.delay = delay
        self.jobs: list[bytes] = []
        self.queries: list[bytes] = []
        self.connections = 0
        self.port = 0
        self._listener: socket.socket | None = None
        self._lock = threading.Lock()
        self._changed = threading.Condition(self._lock)
        self._stopping = threading.Event()
        self._open: set[socket.socket] = set()

    # -- lifecycle ------------------------------------------------------------

    def start(self) -> FakePrinter:
        self._listen()
        return self

    def _listen(self) -> None:
        listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        listener.bind(("127.0.0.1", self.port))
        listener.listen(8)
        self.port = listener.getsockname()[1]
        self._listener = listener
        threading.Thread(target=self._accept, args=(listener,), daemon=True).start()

    def _unlisten(self) -> None:
        if self._listener is not None:
            try:
                self._listener.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
            self._listener.close()
            self._listener = None

    def stop(self) -> None:
        self._stopping.set()
        self._unlisten()
        with self._lock:
            open_conns, self._open = list(self._open), set()
        for conn in open_conns:
            try:
                conn.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass

    def set_mode(self, mode: str) -> None:
        """Change behaviour; 'offline' closes the port, leaving it reopens on the same port."""
        assert mode in MODES, mode
        was = self.mode
        self.mode = mode
        if mode == "offline" and was != "offline":
            self._unlisten()
        elif was == "offline" and mode != "offline":
            self._listen()

    @property
    def address(self) -> tuple[str, int]:
        return ("127.0.0.1", self.port)

    # -- serving --------------------------------------------------------------

    def _accept(self, listener: socket.socket) -> None:
        while not self._stopping.is_set():
            try:
                conn, _ = listener.accept()
            except OSError:
                return
            with self._lock:
                self.connections += 1
                self._open.add(conn)
            threading.Thread(target=self._serve, args=(conn,), daemon=True).start()

    def _serve(self, conn: socket.socket) -> None:
        received = bytearray()
        scanned = 0
        conn.settimeout(30)
        try:
            while True:
                if self.mode == "slow":
                    time.sleep(self.delay)
                try:
                    chunk = conn.recv(65536)
                except OSError:
                    break
                if not chunk:
                    break
                received += chunk
                scanned = self._answer(conn, received, scanned)
        finally:
            conn.close()
            with self._changed:
                self._open.discard(conn)
                if received:
                    self.jobs.append(bytes(received))
                self._changed.notify_all()

    def _answer(self, conn: socket.socket, data: bytearray, i: int) -> int:
        """Answer the status queries in data[i:]; return where a later scan resumes."""
        n = len(data)
        while i < n:
            b = data[i]
            if b == DLE:
                if i + 3 > n:
                    return i
                if data[i + 1] == EOT:
                    self._reply(conn, bytes(data[i : i + 3]), status_byte(self.mode, data[i + 2]))
                i += 3
            elif b == GS:
                if i + 3 > n:
                    return i
                cmd, arg = data[i + 1], data[i + 2]
                if cmd == ord("r"):
                    self._reply(conn, bytes(data[i : i + 3]), gs_r1_byte(self.mode))
                    i += 3
                elif cmd == ord("v") and arg == ord("0"):  # raster image: skip its data
                    if i + 8 > n:
                        return i
                    size = (data[i + 4] | data[i + 5] << 8) * (data[i + 6] | data[i + 7] << 8)
                    i += 8 + size
                elif cmd == ord("(") and arg in (ord("k"), ord("L")):  # 2D code / graphics
                    if i + 5 > n:
                        return i
                    i += 5 + (data[i + 3] | data[i + 4] << 8)
                else:
                    i += 1
            else:
                i += 1
        return i

    def _reply(self, conn: socket.socket, query: bytes, answer: int) -> None:
        with self._lock:
            self.queries.append(query)
        try:
            conn.sendall(bytes([answer]))
        except OSError:
            pass  # the client gave up waiting (slow mode) or hung up: like a real printer

    # -- for tests ------------------------------------------------------------

    def wait_for_jobs(self, count: int, timeout: float = 10.0) -> list[bytes]:
        """The first `count` jobs, waiting for them to arrive (and the connection to close)."""
        deadline = time.monotonic() + timeout
        with self._changed:
            while len(self.printed()) < count:
                left = deadline - time.monotonic()
                if left <= 0:
                    raise AssertionError(
                        f"printer got {len(self.printed())} jobs, expected {count}"
                    )
                self._changed.wait(left)
            return self.printed()[:count]

    def wait_closed(self, count: int, timeout: float = 10.0) -> None:
        """Wait until `count` connections have ended (each one's bytes are in `jobs` then)."""
        deadline = time.monotonic() + timeout
        with self._changed:
            while len(self.jobs) < count:
                left = deadline - time.monotonic()
                if left <= 0:
                    raise AssertionError(f"{len(self.jobs)} connections ended, expected {count}")
                self._changed.wait(left)

    def printed(self) -> list[bytes]:
        """Connections that sent more than status queries (the tickets)."""
        return [job for job in self.jobs if _strip_queries(job)]


def _strip_queries(job: bytes) -> bytes:
    out = bytearray()
    i = 0
    while i < len(job):
        if (
            job[i] in (DLE, GS)
            and i + 2 < len(job)
            and ((job[i] == DLE and job[i + 1] == EOT) or (job[i] == GS and job[i + 1] == ord("r")))
        ):
            i += 3
            continue
        out.append(job[i])
        i += 1
    return bytes(out)
