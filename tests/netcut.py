"""A TCP forwarder between a client (browser, print agent) and the server: a cable to pull.

Chromium's offline emulation leaves open websockets alone, so it cannot show
what a display does when the network drops. This forwarder can: `cut()` closes
every connection through it and refuses new ones (the browser sees connection
resets, like an unplugged switch), `restore()` lets traffic through again.
The server keeps running the whole time, so calls happen while the page is cut off.
"""

from __future__ import annotations

import socket
import threading


class NetCut:
    """Forward 127.0.0.1:<port> to the server's port until told to cut."""

    def __init__(self, target_port: int):
        self.target_port = target_port
        # Port 0: the kernel picks one nobody else can take between choosing and binding.
        self._listener = socket.create_server(("127.0.0.1", 0))
        self.port: int = self._listener.getsockname()[1]
        self._listener.settimeout(0.2)
        self._lock = threading.Lock()
        self._sockets: set[socket.socket] = set()
        self._cut = False
        self._stopped = False
        self._thread = threading.Thread(target=self._accept, name="netcut", daemon=True)
        self._thread.start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def _accept(self) -> None:
        while not self._stopped:
            try:
                client, _ = self._listener.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            if self._cut:
                _close(client)
                continue
            try:
                upstream = socket.create_connection(("127.0.0.1", self.target_port), timeout=5)
            except OSError:
                _close(client)
                continue
            upstream.settimeout(None)
            with self._lock:
                self._sockets.update((client, upstream))
            for src, dst in ((client, upstream), (upstream, client)):
                threading.Thread(target=self._pipe, args=(src, dst), daemon=True).start()

    def _pipe(self, src: socket.socket, dst: socket.socket) -> None:
        try:
            while True:
                data = src.recv(65536)
                if not data:
                    break
                dst.sendall(data)
        except OSError:
            pass
        finally:
            for s in (src, dst):
                _close(s)
            with self._lock:
                self._sockets.difference_update((src, dst))

    def cut(self) -> None:
        """Drop every connection and refuse new ones."""
        self._cut = True
        with self._lock:
            live = list(self._sockets)
            self._sockets.clear()
        for s in live:
            _close(s)

    def restore(self) -> None:
        """Let connections through again."""
        self._cut = False

    def close(self) -> None:
        self._stopped = True
        self.cut()
        _close(self._listener)
        self._thread.join(timeout=2)


def _close(s: socket.socket) -> None:
    try:
        s.shutdown(socket.SHUT_RDWR)
    except OSError:
        pass
    try:
        s.close()
    except OSError:
        pass
