"""The store interface: a few atomic primitives every backend provides.

The engine reads with the plain getters, decides in Python (policy, transition
table), then writes everything an operation changes with one `commit`, which is
atomic and guarded by record versions: if any record changed since it was
read, nothing is written and `ChangedMeanwhile` is raised, and the engine
reads again and retries.
`issue` is the other atomic write: it allocates the day's next number;
`put_catalogue_edits` stores the managers' edits of the service catalogue.
All three allocate the branch sequence numbers of the events they cause.

Print jobs and printer statuses (satupintu/printjobs.py) live in the same
store, each write atomic on its own: printing never takes part in a queue
operation and allocates no sequence numbers.
"""

from __future__ import annotations

import sqlite3
from abc import ABC, abstractmethod
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

from ..model import Call, Counter, Ticket, TicketStatus
from ..printjobs import JobState, PrinterStatus, PrintJob


@dataclass(frozen=True)
class Step:
    """One upgrade, from `version - 1` to `version`, for both backends.

    `sqlite(db)` runs inside the step's BEGIN IMMEDIATE transaction.
    `redis(client, pipe, keys)` may read with `client` (the servers are
    stopped and the upgrade lock is held) and queues its writes on `pipe`,
    a MULTI transaction that also sets the new version.
    """

    version: int
    description: str
    sqlite: Callable[[sqlite3.Connection], None]
    redis: Callable[[Any, Any, Any], None]


class ChangedMeanwhile(Exception):
    """A record changed since it was read: nothing was written; read again and retry.

    The store's signal to the engine's retry loop (operation.attempt), not a
    refusal: it never reaches a client (errors.QueueBusy does, if retries run out).
    """


@dataclass
class Change:
    """Everything one operation writes, applied atomically by `Store.commit`.

    `tickets` and `counters` pair the record as it was read (None for a
    counter being created) with its new version; the write goes through only
    if every stored record still has the version that was read.
    """

    tickets: list[tuple[Ticket, Ticket]] = field(default_factory=list)
    counters: list[tuple[Counter | None, Counter]] = field(default_factory=list)
    calls: list[Call] = field(default_factory=list)
    seq_count: int = 0  # how many branch sequence numbers to allocate


@dataclass(frozen=True)
class IdempotencyKey:
    """A client's key for one issue request, and a fingerprint of what it asked for."""

    key: str  # unique per kiosk user and day (the engine puts the user in it)
    fingerprint: str  # the same key with another fingerprint is refused


@dataclass(frozen=True)
class Issued:
    """What `Store.issue` returns."""

    ticket: Ticket
    people_ahead: int
    waiting: int  # tickets now waiting for the service, this one included
    seqs: list[int]
    replayed: bool = False  # True: the key's earlier ticket, nothing was written


@dataclass(frozen=True)
class User:
    username: str
    role: str
    password_hash: str
    created_at: float
    kiosk: str = ""  # kiosk users: the [[kiosks]] id of the device ("" = named after it)


class Store(ABC):
    """Atomic primitives over tickets, counters, numbering, calls and users."""

    name = "base"

    # -- lifecycle ------------------------------------------------------------

    @abstractmethod
    def seed_counters(self, counters: list[Counter]) -> None:
        """Create each counter that does not exist yet; existing ones keep their state."""

    def close(self) -> None:
        """Release connections."""

    def write_problem(self) -> tuple[float, str] | None:
        """(since when, why) if writes are failing now (e.g. the disk is full), else None.

        Set by the last failed write and cleared by the next one that succeeds;
        backends that cannot tell return None.
        """
        return None

    # -- schema versions (migrations.py) ------------------------------------------

    @abstractmethod
    def schema_version(self) -> int:
        """The stored schema version (a store written before versions existed is 1)."""

    @abstractmethod
    def apply_step(self, step: Step) -> None:
        """Run one upgrade step and record its version, atomically (all or nothing)."""

    def location(self) -> str:
        """Where the data lives, for messages (a file path or a Redis URL)."""
        return self.name

    @contextmanager
    def atomic(self) -> Iterator[None]:
        """Hold a write lock across read-decide-commit where the backend can.

        Optional: backends without it rely on the version guards of `commit`.
        """
        yield

    # -- writes ---------------------------------------------------------------

    @abstractmethod
    def issue(
        self,
        draft: Ticket,
        prefix: str,
        quota: int,
        seq_count: int,
        key: IdempotencyKey | None = None,
    ) -> Issued:
        """Atomically number and enqueue a new waiting ticket.

        Allocates the next number for (branch, day, prefix), which is never
        handed out again that day; refuses with QuotaFull, writing nothing,
        when `quota` (> 0) tickets were already issued for the draft's service
        that day; sets sort_key to a fresh branch sequence number (the place
        in line) and allocates `seq_count` more sequence numbers.
        `draft.number` and `draft.sort_key` are ignored.

        With `key`: if (branch, draft.day, key.key) was recorded before, writes
        nothing and returns that ticket as it is now, with the people ahead and
        waiting counts of its issue and `replayed` set (before the quota check),
        or raises IdempotencyKeyReused if the fingerprint differs; otherwise
        records the key with the new ticket in the same atomic write.
        """

    @abstractmethod
    def commit(self, branch: str, change: Change) -> list[int]:
        """Atomically apply `change`, or raise ChangedMeanwhile and write nothing.

        Keeps the waiting lines in step with ticket statuses (a ticket is in
        its service's line exactly while it is waiting), appends the calls to
        the branch's call log and returns `change.seq_count` new, consecutive
        branch sequence numbers.
        """

    # -- reads ----------------------------------------------------------------

    @abstractmethod
    def ticket(self, branch: str, ticket_id: str) -> Ticket | None:
        """The ticket with this id, or None."""

    @abstractmethod
    def ticket_by_number(self, branch: str, day: str, number: str) -> Ticket | None:
        """The ticket numbered `number` on `day`, or None."""

    @abstractmethod
    def counter(self, branch: str, counter_id: str) -> Counter | None:
        """The counter with this id, or None."""

    @abstractmethod
    def counters(self, branch: str) -> list[Counter]:
        """All counters of the branch, ordered by id."""

    @abstractmethod
    def heads(
        self, branch: str, day: str, services: tuple[str, ...]
    ) -> dict[str, tuple[Ticket | None, Ticket | None]]:
        """For each service: the first waiting priority ticket and the first other one."""

    @abstractmethod
    def waiting(self, branch: str, day: str, service: str, limit: int = 50) -> list[Ticket]:
        """Waiting tickets of a service in call order (priority first, then place in line)."""

    @abstractmethod
    def waiting_counts(self, branch: str, day: str) -> dict[str, int]:
        """Number of waiting tickets per service (services with none may be absent)."""

    @abstractmethod
    def people_ahead(self, ticket: Ticket) -> int:
        """Waiting tickets of the same service that will be called before this one."""

    @abstractmethod
    def recent_calls(self, branch: str, limit: int = 10) -> list[Call]:
        """The latest calls and recalls, newest first."""

    @abstractmethod
    def seq(self, branch: str) -> int:
        """The branch's latest sequence number."""

    @abstractmethod
    def service_times(self, branch: str, day: str, service: str, limit: int = 20) -> list[float]:
        """Seconds spent at the counter by the latest completed tickets of a service."""

    @abstractmethod
    def day_tickets(self, branch: str, day: str) -> list[Ticket]:
        """Every ticket of the day (reports)."""

    @abstractmethod
    def open_tickets_before(self, branch: str, day: str, limit: int = 200) -> list[Ticket]:
        """Up to `limit` tickets of days before `day` still open (waiting, called, serving,
        parked), oldest day first: what closing the day ends. Redis looks back as far as
        it keeps days (DAY_TTL_S)."""

    # -- the managers' edits of the service catalogue -------------------------

    @abstractmethod
    def catalogue_edits(self, branch: str) -> tuple[int, dict[str, dict[str, Any]]]:
        """The branch's catalogue edits: (version, overrides by service id), read atomically.

        (0, {}) before the first `put_catalogue_edits`. Each override is a JSON-able
        dict (a service's fields that differ from config.toml, or a whole
        service added on the manager page); the order of the dict is kept.
        """

    @abstractmethod
    def put_catalogue_edits(
        self,
        branch: str,
        overrides: dict[str, dict[str, Any]],
        expected_version: int,
        seq_count: int,
    ) -> list[int]:
        """Atomically replace the catalogue edits, or raise ChangedMeanwhile and write nothing.

        Writes only if the stored version is still `expected_version`; the
        version becomes expected_version + 1. Returns `seq_count` new, consecutive
        branch sequence numbers, like `commit`.
        """

    # -- config.toml as last applied to the stored state ----------------------

    @abstractmethod
    def config_services(self, branch: str) -> list[str] | None:
        """The config.toml service ids the last start applied, or None before the first."""

    @abstractmethod
    def put_config_services(self, branch: str, services: list[str]) -> None:
        """Record the config.toml service ids just applied (replaces the last record)."""

    # -- users and secrets ----------------------------------------------------

    def users_changed(self) -> int | None:
        """A mark that changes after any process writes a user; None if it cannot be told
        cheaply (no store round trip), and then callers must not cache users."""
        return None

    @abstractmethod
    def put_user(self, user: User) -> None:
        """Create or replace a user."""

    @abstractmethod
    def user(self, username: str) -> User | None:
        """The user, or None."""

    @abstractmethod
    def users(self) -> list[User]:
        """All users, ordered by name."""

    @abstractmethod
    def delete_user(self, username: str) -> bool:
        """Remove a user; False if there was none."""

    @abstractmethod
    def secret(self, name: str, make: str) -> str:
        """The stored secret `name`; stores `make` first if there is none (atomic)."""

    # -- rate limits and ended sessions (shared by every process on the store) -

    @abstractmethod
    def hit(self, key: str, limit: int, window: float, now: float) -> float:
        """Count one hit of `key` unless it had `limit` hits in the `window` seconds to `now`.

        Atomic check-and-count: of any number of concurrent calls, from any
        number of processes, at most `limit` are counted in a window. Returns
        0.0 when this hit was counted, else the seconds until the oldest
        counted hit leaves the window (this hit is not counted). Hits are
        forgotten once out of their window.
        """

    @abstractmethod
    def clear_hits(self, key: str) -> None:
        """Forget every hit of `key`."""

    @abstractmethod
    def end_session(self, session_id: str, until: float) -> None:
        """Record that a login (session or token id) ended; kept until `until` (epoch s)."""

    @abstractmethod
    def session_ended(self, session_id: str, now: float) -> bool:
        """True if `end_session` was called for this id and `until` is still ahead of `now`."""

    # -- print jobs and printer statuses ---------------------------------------

    @abstractmethod
    def add_print_job(self, branch: str, job: PrintJob) -> None:
        """Store a new job (pending unless `job.state` says otherwise), atomically.

        Jobs are kept at least JOB_TTL_S (two days) after they were added.
        """

    @abstractmethod
    def print_job(self, branch: str, job_id: str) -> PrintJob | None:
        """The job, or None."""

    @abstractmethod
    def pending_print_jobs(self, branch: str, kiosk: str, now: float, ttl: float) -> list[PrintJob]:
        """The kiosk's pending jobs, oldest first (by created, then id).

        First moves the kiosk's pending jobs created before `now - ttl` to
        `expired` (acked = now), each exactly once, as `finish_print_job` would.
        """

    @abstractmethod
    def print_job_delivered(self, branch: str, job_id: str) -> None:
        """Count one more delivery attempt of a job (atomic increment); no-op if it is gone."""

    @abstractmethod
    def finish_print_job(
        self, branch: str, job_id: str, state: JobState, detail: str, now: float
    ) -> bool:
        """Atomically move a pending job to `state` (detail, acked = now).

        True for the one call that changed it; False if it was not pending (a
        repeated acknowledgement, an expired job) or does not exist. Racing
        calls from several processes: exactly one gets True.
        """

    @abstractmethod
    def ticket_print_jobs(self, branch: str, ticket_id: str) -> list[PrintJob]:
        """Every job of a ticket (first print and reprints), oldest first."""

    @abstractmethod
    def printer_status(self, branch: str, kiosk: str) -> PrinterStatus | None:
        """The kiosk printer's last stored status, or None."""

    @abstractmethod
    def printer_statuses(self, branch: str) -> list[PrinterStatus]:
        """Every stored printer status of the branch, ordered by kiosk."""

    @abstractmethod
    def put_printer_status(self, branch: str, status: PrinterStatus) -> None:
        """Create or replace the status of `status.kiosk`'s printer, atomically."""


def is_waiting(ticket: Ticket | None) -> bool:
    return ticket is not None and ticket.status is TicketStatus.WAITING
