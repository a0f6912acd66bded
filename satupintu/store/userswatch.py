"""Redis: a pub/sub listener that counts user changes, for the users cache (usercache.py).

`RedisStore.put_user` / `delete_user` publish on the users channel in the same
MULTI as the write; every process that checks tokens listens and bumps its
mark. While the listener is not subscribed (starting, Redis gone) the mark is
None and the cache asks the store every time; a (re)subscription bumps the
mark, since anything may have changed while nobody listened.
"""

from __future__ import annotations

import logging
import threading
from typing import Any

log = logging.getLogger(__name__)


class UsersWatch:
    """Counts messages on one channel in a daemon thread (a greenlet under gevent)."""

    def __init__(self, client: Any, channel: str):
        self.client = client
        self.channel = channel
        self.mark = 0
        self.subscribed = False
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._lock = threading.Lock()

    def current(self) -> int | None:
        """The mark, or None while not subscribed; starts the listener on first use."""
        if self._thread is None:
            with self._lock:
                if self._thread is None:
                    self._thread = threading.Thread(
                        target=self._run, name="users-watch", daemon=True
                    )
                    self._thread.start()
        return self.mark if self.subscribed else None

    def bump(self) -> None:
        """This process changed a user: drop its cache now, before the message comes back."""
        self.mark += 1

    def _run(self) -> None:
        delay = 0.5
        while not self._stop.is_set():
            pubsub = self.client.pubsub(ignore_subscribe_messages=False)
            try:
                pubsub.subscribe(self.channel)
                while not self._stop.is_set():
                    message = pubsub.get_message(timeout=1.0)
                    if message is None:
                        continue
                    if message["type"] == "subscribe":
                        self.mark += 1
                        self.subscribed = True
                        delay = 0.5
                    elif message["type"] == "message":
                        self.mark += 1
            except Exception as exc:  # noqa: BLE001 - Redis gone: ask the store until it is back
                if not self._stop.is_set():
                    log.warning("users cache off until Redis answers again: %s", exc)
            finally:
                self.subscribed = False
                try:
                    pubsub.close()
                except Exception:  # noqa: BLE001 - closing a broken connection
                    pass
            self._stop.wait(delay)
            delay = min(delay * 2, 10.0)

    def close(self) -> None:
        self._stop.set()
        self.subscribed = False
        if self._thread is not None:
            self._thread.join(timeout=3)


__all__ = ["UsersWatch"]
