"""SQLite store: one file, WAL mode, one transaction per operation."""

from __future__ import annotations

import json
import logging
import os
import sqlite3
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import replace
from functools import wraps
from pathlib import Path
from typing import Any, TypeVar, cast

from ..errors import IdempotencyKeyReused, QuotaFull
from ..model import OPEN, Call, Counter, Ticket, TicketStatus
from ..printjobs import JobState, PrinterStatus, PrintJob
from . import migrations
from .base import Change, ChangedMeanwhile, IdempotencyKey, Issued, Store, User

log = logging.getLogger(__name__)

SCHEMA = """
CREATE TABLE IF NOT EXISTS tickets (
    id TEXT PRIMARY KEY,
    branch TEXT NOT NULL,
    day TEXT NOT NULL,
    number TEXT NOT NULL,
    service TEXT NOT NULL,
    origin_service TEXT NOT NULL,
    priority TEXT NOT NULL,
    status TEXT NOT NULL,
    sort_key INTEGER NOT NULL,
    issued_at REAL NOT NULL,
    called_at REAL NOT NULL,
    started_at REAL NOT NULL,
    finished_at REAL NOT NULL,
    counter TEXT NOT NULL,
    recalls INTEGER NOT NULL,
    transfers INTEGER NOT NULL,
    kiosk TEXT NOT NULL,
    version INTEGER NOT NULL,
    UNIQUE (branch, day, number)
);
CREATE INDEX IF NOT EXISTS tickets_line
    ON tickets (branch, day, service, status, (priority = ''), sort_key);
CREATE INDEX IF NOT EXISTS tickets_done
    ON tickets (branch, day, service, finished_at) WHERE status = 'done';
CREATE TABLE IF NOT EXISTS counters (
    branch TEXT NOT NULL,
    id TEXT NOT NULL,
    name TEXT NOT NULL,
    state TEXT NOT NULL,
    services TEXT NOT NULL,
    current TEXT NOT NULL,
    clerk TEXT NOT NULL,
    routing TEXT NOT NULL,
    version INTEGER NOT NULL,
    PRIMARY KEY (branch, id)
);
CREATE TABLE IF NOT EXISTS numbers (
    branch TEXT NOT NULL, day TEXT NOT NULL, prefix TEXT NOT NULL, last INTEGER NOT NULL,
    PRIMARY KEY (branch, day, prefix)
);
CREATE TABLE IF NOT EXISTS issued (
    branch TEXT NOT NULL, day TEXT NOT NULL, service TEXT NOT NULL, count INTEGER NOT NULL,
    PRIMARY KEY (branch, day, service)
);
CREATE TABLE IF NOT EXISTS seqs (branch TEXT PRIMARY KEY, seq INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS calls (
    n INTEGER PRIMARY KEY AUTOINCREMENT,
    branch TEXT NOT NULL, ticket TEXT NOT NULL, number TEXT NOT NULL, service TEXT NOT NULL,
    counter TEXT NOT NULL, counter_name TEXT NOT NULL, at REAL NOT NULL, recall INTEGER NOT NULL
);
CREATE INDEX IF NOT EXISTS calls_branch ON calls (branch, n);
CREATE TABLE IF NOT EXISTS users (
    username TEXT PRIMARY KEY, role TEXT NOT NULL, password_hash TEXT NOT NULL,
    created_at REAL NOT NULL, kiosk TEXT NOT NULL DEFAULT ''
);
CREATE TABLE IF NOT EXISTS secrets (name TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS idempotency (
    branch TEXT NOT NULL, day TEXT NOT NULL, key TEXT NOT NULL, fingerprint TEXT NOT NULL,
    ticket TEXT NOT NULL, people_ahead INTEGER NOT NULL, waiting INTEGER NOT NULL,
    PRIMARY KEY (branch, day, key)
);
CREATE TABLE IF NOT EXISTS catalogue (
    branch TEXT PRIMARY KEY, version INTEGER NOT NULL, overrides TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS hits (key TEXT NOT NULL, at REAL NOT NULL, expires REAL NOT NULL);
CREATE INDEX IF NOT EXISTS hits_key ON hits (key, at);
CREATE INDEX IF NOT EXISTS hits_expires ON hits (expires);
CREATE TABLE IF NOT EXISTS ended_sessions (id TEXT PRIMARY KEY, until REAL NOT NULL);
CREATE TABLE IF NOT EXISTS config_services (branch TEXT PRIMARY KEY, services TEXT NOT NULL);
CREATE INDEX IF NOT EXISTS ended_sessions_until ON ended_sessions (until);
CREATE TABLE IF NOT EXISTS print_jobs (
    id TEXT PRIMARY KEY, branch TEXT NOT NULL, kiosk TEXT NOT NULL, ticket TEXT NOT NULL,
    payload TEXT NOT NULL, created REAL NOT NULL, attempts INTEGER NOT NULL,
    state TEXT NOT NULL, acked REAL NOT NULL, detail TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS print_jobs_pending ON print_jobs (branch, kiosk, state, created);
CREATE INDEX IF NOT EXISTS print_jobs_ticket ON print_jobs (branch, ticket);
CREATE TABLE IF NOT EXISTS printer_status (
    branch TEXT NOT NULL, kiosk TEXT NOT NULL, state TEXT NOT NULL, detail TEXT NOT NULL,
    since REAL NOT NULL, updated REAL NOT NULL, printer TEXT NOT NULL, seen REAL NOT NULL,
    PRIMARY KEY (branch, kiosk)
);
"""

TICKET_COLUMNS = tuple(Ticket.__dataclass_fields__)
COUNTER_COLUMNS = (
    "branch",
    "id",
    "name",
    "state",
    "services",
    "current",
    "clerk",
    "routing",
    "version",
)
_ORDER = "(priority = ''), sort_key, id"
JOB_COLUMNS = tuple(PrintJob.__dataclass_fields__)
STATUS_COLUMNS = tuple(PrinterStatus.__dataclass_fields__)


def connect(path: str | Path) -> sqlite3.Connection:
    """A connection in autocommit mode (transactions are explicit), WAL, synchronous FULL."""
    db = sqlite3.connect(path, timeout=30, isolation_level=None, check_same_thread=False)
    db.row_factory = sqlite3.Row
    db.execute("PRAGMA journal_mode=WAL")
    # FULL: a ticket the kiosk was told about survives a power cut too.
    db.execute("PRAGMA synchronous=FULL")
    db.execute("PRAGMA busy_timeout=30000")
    return db


def private_files(path: Path) -> None:
    """Make the data folder 0700 and the database (and its -wal, -shm) 0600, new or not.

    The file holds the password hashes and the signing secret: no other local
    user may read it. SQLite gives the -wal and -shm files the database's mode.
    """
    folder = path.parent
    folder.mkdir(mode=0o700, parents=True, exist_ok=True)
    _tighten(folder, 0o700)
    if not path.exists():
        os.close(os.open(path, os.O_CREAT | os.O_WRONLY, 0o600))
    for file in (path, path.with_name(path.name + "-wal"), path.with_name(path.name + "-shm")):
        _tighten(file, 0o600)


def _tighten(path: Path, mode: int) -> None:
    """chmod `path` to `mode` if it is ours and more open than that (others' files untouched)."""
    try:
        st = path.stat()
    except FileNotFoundError:
        return
    if st.st_uid == os.getuid() and st.st_mode & 0o777 & ~mode:
        os.chmod(path, mode)
        log.warning("%s was readable by others; now %o", path, mode)


F = TypeVar("F", bound=Callable[..., Any])
T = TypeVar("T")


def _in_gevent() -> bool:
    """True when `serve` monkey-patched threads for gevent (then store calls leave the loop)."""
    try:
        from gevent import monkey
    except ImportError:
        return False
    return bool(monkey.is_module_patched("threading"))


def on_one_thread(method: F) -> F:
    """Run a store method on the store's own connection, one caller at a time.

    Under gevent the method runs on the store's one real thread (a gevent
    ThreadPool of size 1), so SQLite's disk waits (fsync) never stall the event
    loop and the websockets keep flowing; elsewhere it runs in the caller's thread.
    """

    @wraps(method)
    def wrapper(self: SQLiteStore, *args: Any, **kwargs: Any) -> Any:
        with self._lock:
            return self._run(method, self, *args, **kwargs)

    return wrapper  # type: ignore[return-value]


def _is_write_failure(exc: sqlite3.OperationalError) -> bool:
    """A write that failed because the disk is full or failing (not a bug in a query)."""
    return any(words in str(exc) for words in ("full", "disk I/O"))


class SQLiteStore(Store):
    """Embedded store: one connection per process, shared by its threads (or greenlets).

    Callers take turns on the connection (an RLock held for a method, or for a
    whole `atomic()` block), so this process's writers queue in order instead of
    SQLite's busy handler, which polls with sleeps of up to 100 ms; other
    processes on the same file still meet the busy timeout.
    """

    name = "sqlite"

    def __init__(self, path: str | Path):
        self.path = Path(path)
        private_files(self.path)
        self._lock = threading.RLock()  # gevent-aware once threading is patched
        self._depth = 0  # nesting of write transactions (read and written under _lock)
        self._pool: Any = None
        if _in_gevent():
            from gevent.threadpool import ThreadPool

            self._pool = ThreadPool(1)
        self._conn: sqlite3.Connection | None = None
        self._users_mark = f"{self.path}-users"  # see users_changed
        # The last write that failed for want of room or I/O and has not been
        # followed by a successful one: (when, SQLite's message). Managers see it.
        self._write_problem: tuple[float, str] | None = None
        self._create_if_new()

    @on_one_thread
    def _create_if_new(self) -> None:
        """A new file gets the current schema and version in one transaction.

        A file with tables but user_version 0 was written before versions
        existed (version 1); older or newer files are left as they are for
        `migrations.upgrade` or the refusal in `migrations.require_current`.
        """
        with self._tx() as db:
            if db.execute("PRAGMA user_version").fetchone()[0]:
                return
            if db.execute(
                "SELECT 1 FROM sqlite_master WHERE type='table' AND name='tickets'"
            ).fetchone():
                db.execute(f"PRAGMA user_version = {migrations.BASELINE}")
                return
            for statement in SCHEMA.split(";"):
                if statement.strip():
                    db.execute(statement)
            db.execute(f"PRAGMA user_version = {migrations.CURRENT}")

    @on_one_thread
    def schema_version(self) -> int:
        return int(self._db().execute("PRAGMA user_version").fetchone()[0])

    @on_one_thread
    def apply_step(self, step: migrations.Step) -> None:
        with self._tx() as db:
            if self.schema_version() != step.version - 1:
                raise migrations.SchemaError(
                    f"{self.path}: expected schema version {step.version - 1} before step "
                    f"{step.version}, found {self.schema_version()}"
                )
            step.sqlite(db)
            db.execute(f"PRAGMA user_version = {int(step.version)}")

    def location(self) -> str:
        return str(self.path)

    # -- connections and transactions ----------------------------------------

    def _run(self, fn: Callable[..., T], *args: Any, **kwargs: Any) -> T:
        """Call `fn` on the store's thread (gevent) or here; the caller holds _lock."""
        if self._pool is None:
            return fn(*args, **kwargs)

        def call() -> tuple[bool, Any]:
            # Errors travel back as values: gevent's pool would print every one
            # (a ChangedMeanwhile retry, a full quota) as if it were a crash.
            try:
                return True, fn(*args, **kwargs)
            except BaseException as exc:  # noqa: BLE001 - re-raised in the caller below
                return False, exc

        ok, value = self._pool.apply(call)
        if not ok:
            raise value
        return cast(T, value)

    def _db(self) -> sqlite3.Connection:
        if self._conn is None:
            self._conn = connect(self.path)
        return self._conn

    def _failed(self, db: sqlite3.Connection, exc: BaseException) -> None:
        """Leave no transaction open after a failed one; note a full or failing disk."""
        # SQLite may already have rolled back (a full disk does: SQLITE_FULL); a
        # connection left inside a transaction would refuse every later BEGIN.
        if db.in_transaction:
            db.execute("ROLLBACK")
        if isinstance(exc, sqlite3.OperationalError) and _is_write_failure(exc):
            since = self._write_problem[0] if self._write_problem else time.time()
            self._write_problem = (since, str(exc))

    @contextmanager
    def _tx(self) -> Iterator[sqlite3.Connection]:
        """A write transaction (BEGIN IMMEDIATE); nests inside `atomic`. Caller holds _lock."""
        db = self._db()
        if self._depth:
            self._depth += 1
            try:
                yield db
            finally:
                self._depth -= 1
            return
        db.execute("BEGIN IMMEDIATE")
        self._depth = 1
        try:
            yield db
            db.execute("COMMIT")
        except BaseException as exc:
            self._failed(db, exc)
            raise
        else:
            self._write_problem = None
        finally:
            self._depth = 0

    @contextmanager
    def atomic(self) -> Iterator[None]:
        """One write transaction around several store calls; this caller keeps the connection."""
        with self._lock:
            if self._depth:
                self._depth += 1
                try:
                    yield
                finally:
                    self._depth -= 1
                return
            db = self._run(self._db)
            self._run(db.execute, "BEGIN IMMEDIATE")
            self._depth = 1
            try:
                yield
                self._run(db.execute, "COMMIT")
            except BaseException as exc:
                self._run(self._failed, db, exc)
                raise
            else:
                self._write_problem = None
            finally:
                self._depth = 0

    def write_problem(self) -> tuple[float, str] | None:
        return self._write_problem

    def close(self) -> None:
        with self._lock:
            if self._conn is not None:
                self._run(self._conn.close)
                self._conn = None

    # -- writes ---------------------------------------------------------------

    @on_one_thread
    def seed_counters(self, counters: list[Counter]) -> None:
        with self._tx() as db:
            for c in counters:
                rec = c.to_record()
                db.execute(
                    f"INSERT OR IGNORE INTO counters ({', '.join(COUNTER_COLUMNS)}) "
                    f"VALUES ({', '.join('?' * len(COUNTER_COLUMNS))})",
                    [rec[k] for k in COUNTER_COLUMNS],
                )

    def _next_seqs(self, db: sqlite3.Connection, branch: str, n: int) -> list[int]:
        if n <= 0:
            return []
        row = db.execute(
            "INSERT INTO seqs (branch, seq) VALUES (?, ?) "
            "ON CONFLICT (branch) DO UPDATE SET seq = seq + excluded.seq RETURNING seq",
            (branch, n),
        ).fetchone()
        last = int(row[0])
        return list(range(last - n + 1, last + 1))

    @on_one_thread
    def issue(
        self,
        draft: Ticket,
        prefix: str,
        quota: int,
        seq_count: int,
        key: IdempotencyKey | None = None,
    ) -> Issued:
        with self._tx() as db:
            if key is not None:
                replay = self._replay(db, draft, key)
                if replay is not None:
                    return replay
            issued = self._issue(db, draft, prefix, quota, seq_count)
            if key is not None:
                db.execute(
                    "INSERT INTO idempotency VALUES (?, ?, ?, ?, ?, ?, ?)",
                    (
                        draft.branch,
                        draft.day,
                        key.key,
                        key.fingerprint,
                        issued.ticket.id,
                        issued.people_ahead,
                        issued.waiting,
                    ),
                )
            return issued

    def _replay(self, db: sqlite3.Connection, draft: Ticket, key: IdempotencyKey) -> Issued | None:
        row = db.execute(
            "SELECT * FROM idempotency WHERE branch=? AND day=? AND key=?",
            (draft.branch, draft.day, key.key),
        ).fetchone()
        if row is None:
            return None
        if row["fingerprint"] != key.fingerprint:
            raise IdempotencyKeyReused(
                "this Idempotency-Key was used today for a different request; "
                "send a new key for a new ticket",
                field="Idempotency-Key",
            )
        ticket = self._one("SELECT * FROM tickets WHERE id=?", (row["ticket"],))
        assert ticket is not None  # written in the same transaction as the key
        return Issued(ticket, row["people_ahead"], row["waiting"], [], replayed=True)

    def _issue(
        self, db: sqlite3.Connection, draft: Ticket, prefix: str, quota: int, seq_count: int
    ) -> Issued:
        count_key = (draft.branch, draft.day, draft.origin_service)
        row = db.execute(
            "SELECT count FROM issued WHERE branch=? AND day=? AND service=?", count_key
        ).fetchone()
        if quota > 0 and row is not None and row[0] >= quota:
            raise QuotaFull(f"daily quota of {quota} tickets reached", service=draft.service)
        db.execute(
            "INSERT INTO issued VALUES (?, ?, ?, 1) ON CONFLICT DO UPDATE SET count = count + 1",
            count_key,
        )
        last = db.execute(
            "INSERT INTO numbers VALUES (?, ?, ?, 1) "
            "ON CONFLICT DO UPDATE SET last = last + 1 RETURNING last",
            (draft.branch, draft.day, prefix),
        ).fetchone()[0]
        seqs = self._next_seqs(db, draft.branch, 1 + seq_count)
        ticket = replace(draft, number=f"{prefix}{last:03d}", sort_key=seqs[0], version=1)
        self._insert_ticket(db, ticket)
        ahead = self._ahead(db, ticket)
        waiting = db.execute(
            "SELECT count(*) FROM tickets WHERE branch=? AND day=? AND service=? "
            "AND status='waiting'",
            (ticket.branch, ticket.day, ticket.service),
        ).fetchone()[0]
        return Issued(ticket, ahead, waiting, seqs[1:])

    def _insert_ticket(self, db: sqlite3.Connection, ticket: Ticket) -> None:
        rec = ticket.to_record()
        db.execute(
            f"INSERT INTO tickets ({', '.join(TICKET_COLUMNS)}) "
            f"VALUES ({', '.join('?' * len(TICKET_COLUMNS))})",
            [rec[k] for k in TICKET_COLUMNS],
        )

    @on_one_thread
    def commit(self, branch: str, change: Change) -> list[int]:
        with self._tx() as db:
            for old, new in change.tickets:
                rec = new.to_record()
                cols = [k for k in TICKET_COLUMNS if k != "id"]
                cur = db.execute(
                    f"UPDATE tickets SET {', '.join(f'{k}=?' for k in cols)} "
                    "WHERE id=? AND version=?",
                    [rec[k] for k in cols] + [old.id, old.version],
                )
                if cur.rowcount != 1:
                    raise ChangedMeanwhile(f"ticket {old.number} changed meanwhile; try again")
            for old_counter, counter in change.counters:
                rec = counter.to_record()
                cols = [k for k in COUNTER_COLUMNS if k not in ("branch", "id")]
                if old_counter is None:  # created: only if nobody created it meanwhile
                    cur = db.execute(
                        f"INSERT OR IGNORE INTO counters ({', '.join(COUNTER_COLUMNS)}) "
                        f"VALUES ({', '.join('?' * len(COUNTER_COLUMNS))})",
                        [rec[k] for k in COUNTER_COLUMNS],
                    )
                else:
                    cur = db.execute(
                        f"UPDATE counters SET {', '.join(f'{k}=?' for k in cols)} "
                        "WHERE branch=? AND id=? AND version=?",
                        [rec[k] for k in cols] + [counter.branch, counter.id, old_counter.version],
                    )
                if cur.rowcount != 1:
                    raise ChangedMeanwhile(f"counter {counter.id} changed meanwhile; try again")
            for call in change.calls:
                db.execute(
                    "INSERT INTO calls (branch, ticket, number, service, counter, counter_name, "
                    "at, recall) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                    (
                        branch,
                        call.ticket,
                        call.number,
                        call.service,
                        call.counter,
                        call.counter_name,
                        call.at,
                        int(call.recall),
                    ),
                )
            return self._next_seqs(db, branch, change.seq_count)

    # -- reads ----------------------------------------------------------------

    def _one(self, sql: str, args: tuple) -> Ticket | None:
        row = self._db().execute(sql, args).fetchone()
        return Ticket.from_record(dict(row)) if row else None

    @on_one_thread
    def ticket(self, branch: str, ticket_id: str) -> Ticket | None:
        return self._one("SELECT * FROM tickets WHERE branch=? AND id=?", (branch, ticket_id))

    @on_one_thread
    def ticket_by_number(self, branch: str, day: str, number: str) -> Ticket | None:
        return self._one(
            "SELECT * FROM tickets WHERE branch=? AND day=? AND number=?", (branch, day, number)
        )

    @on_one_thread
    def counter(self, branch: str, counter_id: str) -> Counter | None:
        row = (
            self._db()
            .execute("SELECT * FROM counters WHERE branch=? AND id=?", (branch, counter_id))
            .fetchone()
        )
        return Counter.from_record(dict(row)) if row else None

    @on_one_thread
    def counters(self, branch: str) -> list[Counter]:
        rows = (
            self._db()
            .execute("SELECT * FROM counters WHERE branch=? ORDER BY id", (branch,))
            .fetchall()
        )
        return [Counter.from_record(dict(r)) for r in rows]

    @on_one_thread
    def heads(self, branch, day, services):
        result = {}
        db = self._db()
        for service in services:
            pair = []
            for prio in (True, False):
                row = db.execute(
                    "SELECT * FROM tickets WHERE branch=? AND day=? AND service=? "
                    "AND status='waiting' AND (priority = '') = ? ORDER BY sort_key, id LIMIT 1",
                    (branch, day, service, not prio),
                ).fetchone()
                pair.append(Ticket.from_record(dict(row)) if row else None)
            result[service] = (pair[0], pair[1])
        return result

    @on_one_thread
    def waiting(self, branch: str, day: str, service: str, limit: int = 50) -> list[Ticket]:
        rows = (
            self._db()
            .execute(
                "SELECT * FROM tickets WHERE branch=? AND day=? AND service=? AND status='waiting' "
                f"ORDER BY {_ORDER} LIMIT ?",
                (branch, day, service, limit),
            )
            .fetchall()
        )
        return [Ticket.from_record(dict(r)) for r in rows]

    @on_one_thread
    def waiting_counts(self, branch: str, day: str) -> dict[str, int]:
        rows = (
            self._db()
            .execute(
                "SELECT service, count(*) FROM tickets"
                " WHERE branch=? AND day=? AND status='waiting' GROUP BY service",
                (branch, day),
            )
            .fetchall()
        )
        return {r[0]: r[1] for r in rows}

    def _ahead(self, db: sqlite3.Connection, t: Ticket) -> int:
        if t.is_priority:
            cond, args = "priority != '' AND sort_key < ?", (t.sort_key,)
        else:
            cond, args = "(priority != '' OR sort_key < ?)", (t.sort_key,)
        return db.execute(
            "SELECT count(*) FROM tickets WHERE branch=? AND day=? AND service=? "
            f"AND status='waiting' AND id != ? AND {cond}",
            (t.branch, t.day, t.service, t.id, *args),
        ).fetchone()[0]

    @on_one_thread
    def people_ahead(self, ticket: Ticket) -> int:
        return self._ahead(self._db(), ticket)

    @on_one_thread
    def recent_calls(self, branch: str, limit: int = 10) -> list[Call]:
        rows = (
            self._db()
            .execute("SELECT * FROM calls WHERE branch=? ORDER BY n DESC LIMIT ?", (branch, limit))
            .fetchall()
        )
        return [Call.from_dict({**dict(r), "recall": bool(r["recall"])}) for r in rows]

    @on_one_thread
    def seq(self, branch: str) -> int:
        row = self._db().execute("SELECT seq FROM seqs WHERE branch=?", (branch,)).fetchone()
        return int(row[0]) if row else 0

    @on_one_thread
    def service_times(self, branch: str, day: str, service: str, limit: int = 20) -> list[float]:
        rows = (
            self._db()
            .execute(
                "SELECT finished_at - CASE WHEN started_at > 0 THEN started_at ELSE called_at END "
                "FROM tickets WHERE branch=? AND day=? AND service=? AND status='done' "
                "ORDER BY finished_at DESC LIMIT ?",
                (branch, day, service, limit),
            )
            .fetchall()
        )
        return [float(r[0]) for r in rows]

    @on_one_thread
    def day_tickets(self, branch: str, day: str) -> list[Ticket]:
        rows = (
            self._db()
            .execute(
                "SELECT * FROM tickets WHERE branch=? AND day=? ORDER BY sort_key", (branch, day)
            )
            .fetchall()
        )
        return [Ticket.from_record(dict(r)) for r in rows]

    @on_one_thread
    def open_tickets_before(self, branch: str, day: str, limit: int = 200) -> list[Ticket]:
        statuses = sorted(s.value for s in OPEN)
        rows = (
            self._db()
            .execute(
                "SELECT * FROM tickets WHERE branch=? AND day<? "
                f"AND status IN ({', '.join('?' * len(statuses))}) ORDER BY day, sort_key LIMIT ?",
                (branch, day, *statuses, limit),
            )
            .fetchall()
        )
        return [Ticket.from_record(dict(r)) for r in rows]

    # -- the managers' edits of the service catalogue -------------------------

    @on_one_thread
    def catalogue_edits(self, branch: str) -> tuple[int, dict[str, dict[str, Any]]]:
        row = (
            self._db()
            .execute("SELECT version, overrides FROM catalogue WHERE branch=?", (branch,))
            .fetchone()
        )
        return (int(row[0]), json.loads(row[1])) if row else (0, {})

    @on_one_thread
    def put_catalogue_edits(
        self,
        branch: str,
        overrides: dict[str, dict[str, Any]],
        expected_version: int,
        seq_count: int,
    ) -> list[int]:
        data = json.dumps(overrides, ensure_ascii=False)
        with self._tx() as db:
            row = db.execute("SELECT version FROM catalogue WHERE branch=?", (branch,)).fetchone()
            if (int(row[0]) if row else 0) != expected_version:
                raise ChangedMeanwhile("the service catalogue changed meanwhile; try again")
            db.execute(
                "INSERT INTO catalogue VALUES (?, ?, ?) ON CONFLICT (branch) "
                "DO UPDATE SET version = excluded.version, overrides = excluded.overrides",
                (branch, expected_version + 1, data),
            )
            return self._next_seqs(db, branch, seq_count)

    # -- config.toml as last applied ------------------------------------------

    @on_one_thread
    def config_services(self, branch: str) -> list[str] | None:
        row = (
            self._db()
            .execute("SELECT services FROM config_services WHERE branch=?", (branch,))
            .fetchone()
        )
        return list(json.loads(row[0])) if row else None

    @on_one_thread
    def put_config_services(self, branch: str, services: list[str]) -> None:
        with self._tx() as db:
            db.execute(
                "INSERT INTO config_services VALUES (?, ?) ON CONFLICT (branch) "
                "DO UPDATE SET services = excluded.services",
                (branch, json.dumps(services)),
            )

    # -- users and secrets ----------------------------------------------------

    def users_changed(self) -> int:
        """The size of `<file>-users`, which grows by a byte after every user write."""
        try:
            return os.stat(self._users_mark).st_size
        except FileNotFoundError:
            return 0

    def _user_written(self) -> None:
        """After the commit: move the users mark (other processes' caches drop the user)."""
        with open(self._users_mark, "ab") as mark:
            mark.write(b".")

    @on_one_thread
    def put_user(self, user: User) -> None:
        with self._tx() as db:
            db.execute(
                "INSERT OR REPLACE INTO users (username, role, password_hash, created_at, "
                "kiosk) VALUES (?, ?, ?, ?, ?)",
                (user.username, user.role, user.password_hash, user.created_at, user.kiosk),
            )
        self._user_written()

    @on_one_thread
    def user(self, username: str) -> User | None:
        row = self._db().execute("SELECT * FROM users WHERE username=?", (username,)).fetchone()
        return User(**dict(row)) if row else None

    @on_one_thread
    def users(self) -> list[User]:
        rows = self._db().execute("SELECT * FROM users ORDER BY username").fetchall()
        return [User(**dict(r)) for r in rows]

    @on_one_thread
    def delete_user(self, username: str) -> bool:
        with self._tx() as db:
            deleted = db.execute("DELETE FROM users WHERE username=?", (username,)).rowcount
        self._user_written()
        return deleted == 1

    @on_one_thread
    def secret(self, name: str, make: str) -> str:
        with self._tx() as db:
            db.execute("INSERT OR IGNORE INTO secrets VALUES (?, ?)", (name, make))
            return db.execute("SELECT value FROM secrets WHERE name=?", (name,)).fetchone()[0]

    # -- rate limits and ended sessions ----------------------------------------

    @on_one_thread
    def hit(self, key: str, limit: int, window: float, now: float) -> float:
        with self._tx() as db:
            db.execute("DELETE FROM hits WHERE expires <= ?", (now,))  # everyone's old hits
            count, oldest = db.execute(
                "SELECT count(*), min(at) FROM hits WHERE key=? AND at > ?", (key, now - window)
            ).fetchone()
            if count >= limit:
                return max(0.001, oldest + window - now)
            db.execute("INSERT INTO hits VALUES (?, ?, ?)", (key, now, now + window))
            return 0.0

    @on_one_thread
    def clear_hits(self, key: str) -> None:
        with self._tx() as db:
            db.execute("DELETE FROM hits WHERE key=?", (key,))

    @on_one_thread
    def end_session(self, session_id: str, until: float) -> None:
        with self._tx() as db:
            db.execute("DELETE FROM ended_sessions WHERE until <= ?", (time.time(),))
            db.execute("INSERT OR REPLACE INTO ended_sessions VALUES (?, ?)", (session_id, until))
        self._user_written()  # cached checks of this session are stale now

    @on_one_thread
    def session_ended(self, session_id: str, now: float) -> bool:
        row = (
            self._db()
            .execute("SELECT 1 FROM ended_sessions WHERE id=? AND until > ?", (session_id, now))
            .fetchone()
        )
        return row is not None

    # -- print jobs and printer statuses ---------------------------------------

    @on_one_thread
    def add_print_job(self, branch: str, job: PrintJob) -> None:
        rec = job.to_record()
        with self._tx() as db:
            db.execute(
                f"INSERT INTO print_jobs (branch, {', '.join(JOB_COLUMNS)}) "
                f"VALUES (?, {', '.join('?' * len(JOB_COLUMNS))})",
                [branch, *(rec[c] for c in JOB_COLUMNS)],
            )

    @on_one_thread
    def print_job(self, branch: str, job_id: str) -> PrintJob | None:
        row = (
            self._db()
            .execute("SELECT * FROM print_jobs WHERE branch=? AND id=?", (branch, job_id))
            .fetchone()
        )
        return PrintJob.from_record(dict(row)) if row else None

    @on_one_thread
    def pending_print_jobs(self, branch: str, kiosk: str, now: float, ttl: float) -> list[PrintJob]:
        with self._tx() as db:
            db.execute(
                "UPDATE print_jobs SET state='expired', acked=? WHERE branch=? AND "
                "kiosk=? AND state='pending' AND created < ?",
                (now, branch, kiosk, now - ttl),
            )
            rows = db.execute(
                "SELECT * FROM print_jobs WHERE branch=? AND kiosk=? AND "
                "state='pending' ORDER BY created, id",
                (branch, kiosk),
            ).fetchall()
        return [PrintJob.from_record(dict(r)) for r in rows]

    @on_one_thread
    def print_job_delivered(self, branch: str, job_id: str) -> None:
        with self._tx() as db:
            db.execute(
                "UPDATE print_jobs SET attempts = attempts + 1 WHERE branch=? AND id=?",
                (branch, job_id),
            )

    @on_one_thread
    def finish_print_job(
        self, branch: str, job_id: str, state: JobState, detail: str, now: float
    ) -> bool:
        with self._tx() as db:
            cur = db.execute(
                "UPDATE print_jobs SET state=?, detail=?, acked=? WHERE branch=? AND id=? AND "
                "state='pending'",
                (state.value, detail, now, branch, job_id),
            )
            return cur.rowcount == 1

    @on_one_thread
    def ticket_print_jobs(self, branch: str, ticket_id: str) -> list[PrintJob]:
        rows = (
            self._db()
            .execute(
                "SELECT * FROM print_jobs WHERE branch=? AND ticket=? ORDER BY created, id",
                (branch, ticket_id),
            )
            .fetchall()
        )
        return [PrintJob.from_record(dict(r)) for r in rows]

    @on_one_thread
    def printer_status(self, branch: str, kiosk: str) -> PrinterStatus | None:
        row = (
            self._db()
            .execute("SELECT * FROM printer_status WHERE branch=? AND kiosk=?", (branch, kiosk))
            .fetchone()
        )
        return PrinterStatus.from_dict(dict(row)) if row else None

    @on_one_thread
    def printer_statuses(self, branch: str) -> list[PrinterStatus]:
        rows = (
            self._db()
            .execute("SELECT * FROM printer_status WHERE branch=? ORDER BY kiosk", (branch,))
            .fetchall()
        )
        return [PrinterStatus.from_dict(dict(r)) for r in rows]

    @on_one_thread
    def put_printer_status(self, branch: str, status: PrinterStatus) -> None:
        rec = status.to_record()
        with self._tx() as db:
            db.execute(
                f"INSERT OR REPLACE INTO printer_status (branch, {', '.join(STATUS_COLUMNS)}) "
                f"VALUES (?, {', '.join('?' * len(STATUS_COLUMNS))})",
                [branch, *(rec[c] for c in STATUS_COLUMNS)],
            )


__all__ = ["SQLiteStore", "TicketStatus"]
