"""A cap on open websockets, total and per client address, checked at the Engine.IO handshake.

Anyone in the hall can open sockets without logging in (displays and phones
need none), so the server refuses connections above `[server] max_sockets`
(total) or `max_sockets_per_address` (one address) before Engine.IO makes a
session: the client gets HTTP 401 with the JSON body
`{"error": "too_many_sockets", "message": ...}` (Engine.IO's only refusal
status) and the page's Socket.IO client retries with its back-off. The check
is a dict lookup under a lock: reaching the cap never slows the HTTP API.
"""

from __future__ import annotations

import logging
import threading
from collections import Counter
from typing import Any

log = logging.getLogger(__name__)
REFUSED_LOG_EVERY = 100  # log the first refusal and then one in this many


class SocketCap:
    """Counts open Engine.IO sessions by client address and admits up to the caps."""

    def __init__(self, total: int, per_address: int):
        self.total = total
        self.per_address = per_address
        self._lock = threading.Lock()
        self._address: dict[str, str] = {}  # eio sid -> client address
        self._by_address: Counter[str] = Counter()
        self.refused = 0

    @property
    def open(self) -> int:
        return len(self._address)

    def admit(self, sid: str, address: str) -> dict[str, str] | None:
        """Count the session and return None, or the refusal if a cap is reached."""
        with self._lock:
            if len(self._address) >= self.total:
                why = f"the server has its maximum of {self.total} live connections"
            elif self._by_address[address] >= self.per_address:
                why = f"{address} has its maximum of {self.per_address} live connections"
            else:
                self._address[sid] = address
                self._by_address[address] += 1
                return None
            self.refused += 1
            refused = self.refused
        if refused % REFUSED_LOG_EVERY == 1:
            log.warning("websocket refused (%s refused so far): %s", refused, why)
        return {"error": "too_many_sockets", "message": f"{why}; try again later"}

    def release(self, sid: str) -> None:
        """Forget a session that ended (unknown sids are ignored)."""
        with self._lock:
            address = self._address.pop(sid, None)
            if address is not None:
                self._by_address[address] -= 1
                if self._by_address[address] <= 0:
                    del self._by_address[address]


def client_address(environ: dict[str, Any]) -> str:
    """The client's address; behind a trusted proxy, the one it saw (proxy.TrustedProxy,
    outermost around Socket.IO, has already put it in REMOTE_ADDR)."""
    return str(environ.get("REMOTE_ADDR") or "?")


def install(server: Any, cap: SocketCap) -> None:
    """Check `cap` at every Engine.IO handshake of the python-socketio `server`."""
    connect = server._handle_eio_connect
    disconnect = server._handle_eio_disconnect

    def on_connect(sid: str, environ: dict[str, Any]) -> Any:
        refusal = cap.admit(sid, client_address(environ))
        if refusal is not None:
            return refusal  # Engine.IO drops the session and answers 401 with this body
        try:
            result = connect(sid, environ)
        except BaseException:
            cap.release(sid)
            raise
        if result is not None and result is not True:
            cap.release(sid)
        return result

    def on_disconnect(sid: str, *args: Any) -> Any:
        cap.release(sid)
        return disconnect(sid, *args)

    # python-socketio registered its own handlers on the Engine.IO server; these wrap them.
    server.eio.on("connect", on_connect)
    server.eio.on("disconnect", on_disconnect)
