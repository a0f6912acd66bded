"""Users (and ended logins) for the token and session check, cached until any process
changes a user or ends a login.

Every request with a token or session checks its user (removing a user or
changing its password or role ends its logins at once). Reading the user from
the store each time was a store round trip per request; this cache keeps each
user while the store's `users_changed()` mark stays the same. The mark is cheap
(a file's size next to the SQLite file; a counter bumped by a Redis pub/sub
listener) and changes after every write of a user by any process, including
`satupintu users` run beside the server. A store that cannot tell (mark None)
is asked every time, and no entry lives longer than TTL_S regardless.
"""

from __future__ import annotations

import threading
import time
from typing import Any

from .store.base import User

TTL_S = 60.0


class UserCache:
    """username -> User as of a users_changed() mark."""

    def __init__(self, store: Any, ttl: float = TTL_S):
        self.store = store
        self.ttl = ttl
        self._entries: dict[str, tuple[User | None, int, float]] = {}
        self._ended: dict[str, tuple[bool, int, float]] = {}  # login id -> ended?
        self._lock = threading.Lock()

    def get(self, username: str) -> User | None:
        """The stored user (None if there is none), from the cache when still current."""
        mark = self.store.users_changed()  # read before the store: a change after it
        if mark is None:  # moves the mark and drops what we read
            return self.store.user(username)
        now = time.monotonic()
        with self._lock:
            entry = self._entries.get(username)
        if entry is not None and entry[1] == mark and now - entry[2] < self.ttl:
            return entry[0]
        user = self.store.user(username)
        with self._lock:
            if len(self._entries) > 10_000:  # usernames from forged-but-signed claims cannot
                self._entries.clear()  # exist, but keep the memory bounded anyway
            self._entries[username] = (user, mark, now)
        return user

    def session_ended(self, session_id: str, now: float) -> bool:
        """Whether this login was ended (logout), from the cache while the mark stands."""
        mark = self.store.users_changed()  # end_session moves it too
        if mark is None:
            return bool(self.store.session_ended(session_id, now))
        at = time.monotonic()
        with self._lock:
            entry = self._ended.get(session_id)
        if entry is not None and entry[1] == mark and at - entry[2] < self.ttl:
            return entry[0]
        ended = bool(self.store.session_ended(session_id, now))
        with self._lock:
            if len(self._ended) > 10_000:
                self._ended.clear()
            self._ended[session_id] = (ended, mark, at)
        return ended
