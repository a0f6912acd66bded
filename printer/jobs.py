"""Print jobs kept until acknowledged, and each printer's status, in the queue's own store.

A job is the rendered ticket for one kiosk's printer. It stays `pending` until
the printer (the server's worker, or the kiosk's print agent) reports it
`printed` or `failed`; `finish` changes a pending job exactly once, so a
repeated acknowledgement (the agent's ack was lost and it acks again) is a
no-op. Pending jobs older than the printer's job_ttl are `expired` rather than
printed late (by then the kiosk has shown the ticket on screen).

SQLite: tables print_jobs and printer_status in the store's database file.
Redis (keys beside the store's, in the branch's hash tag):

    sp:{main}:print:job:<id>          hash   job fields; expires JOB_TTL_S after creation
    sp:{main}:print:pending:<kiosk>   zset   pending job ids, score = created
    sp:{main}:print:ticket:<ticket>   set    the ticket's job ids; expires like the jobs
    sp:{main}:printer:<kiosk>         hash   PrinterStatus fields
    sp:{main}:printers                set    kiosks that have a status
"""

from __future__ import annotations

import secrets
import sqlite3
import threading
from abc import ABC, abstractmethod
from dataclasses import asdict, dataclass
from enum import StrEnum
from pathlib import Path
from typing import Any

from satupintu.store.sqlite import connect

from .status import PrinterStatus

JOB_TTL_S = 2 * 24 * 3600  # finished jobs are kept two days (reprints, support questions)


class JobState(StrEnum):
    PENDING = "pending"
    PRINTED = "printed"
    FAILED = "failed"
    EXPIRED = "expired"


@dataclass(frozen=True)
class Job:
    """One ticket to print on one kiosk's printer; payload is base64 ESC/POS."""

    id: str
    kiosk: str
    ticket: str
    payload: str
    created: float
    attempts: int = 0
    state: JobState = JobState.PENDING
    acked: float = 0.0  # when it was reported printed or failed
    detail: str = ""

    @staticmethod
    def new_id() -> str:
        return secrets.token_urlsafe(9)

    def to_record(self) -> dict[str, str]:
        return {k: str(v.value if isinstance(v, JobState) else v) for k, v in asdict(self).items()}

    @classmethod
    def from_record(cls, rec: dict[str, Any]) -> Job:
        return cls(id=rec["id"], kiosk=rec["kiosk"], ticket=rec["ticket"],
                   payload=rec["payload"], created=float(rec["created"]),
                   attempts=int(rec["attempts"]), state=JobState(rec["state"]),
                   acked=float(rec["acked"] or 0), detail=rec["detail"] or "")

    def message(self) -> dict[str, Any]:
        """What the print agent receives."""
        return {"id": self.id, "kiosk": self.kiosk, "ticket": self.ticket,
                "payload": self.payload, "created": self.created, "attempts": self.attempts}


class JobQueue(ABC):
    """Durable print jobs and printer statuses of one branch."""

    @abstractmethod
    def add(self, job: Job) -> None:
        """Store a new pending job."""

    @abstractmethod
    def get(self, job_id: str) -> Job | None:
        """The job, or None."""

    @abstractmethod
    def pending(self, kiosk: str, now: float, ttl: float) -> list[Job]:
        """The kiosk's pending jobs, oldest first; marks those older than `ttl` expired."""

    @abstractmethod
    def delivered(self, job_id: str) -> None:
        """Count one more delivery attempt."""

    @abstractmethod
    def finish(self, job_id: str, state: JobState, detail: str, now: float) -> bool:
        """Atomically move a pending job to `state`; False if it was not pending (a repeat)."""

    @abstractmethod
    def for_ticket(self, ticket: str) -> list[Job]:
        """The ticket's jobs, oldest first."""

    @abstractmethod
    def status(self, kiosk: str) -> PrinterStatus | None:
        """The kiosk printer's last known status."""

    @abstractmethod
    def statuses(self) -> list[PrinterStatus]:
        """Every known printer status, by kiosk."""

    @abstractmethod
    def set_status(self, status: PrinterStatus) -> None:
        """Store a printer's status."""

    def close(self) -> None:
        """Release connections."""


# -- SQLite ----------------------------------------------------------------------

SCHEMA = """
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
JOB_COLUMNS = ("id", "kiosk", "ticket", "payload", "created", "attempts", "state", "acked",
               "detail")
STATUS_COLUMNS = ("kiosk", "state", "detail", "since", "updated", "printer", "seen")


class SQLiteJobs(JobQueue):
    """Jobs in the SQLite store's file (own tables, own connections)."""

    def __init__(self, path: str | Path, branch: str):
        self.path = Path(path)
        self.branch = branch
        self._local = threading.local()
        self._db().executescript(SCHEMA)

    def _db(self) -> sqlite3.Connection:
        db = getattr(self._local, "db", None)
        if db is None:
            db = connect(self.path)
            self._local.db = db
        return db

    def close(self) -> None:
        db = getattr(self._local, "db", None)
        if db is not None:
            db.close()
            self._local.db = None

    def add(self, job: Job) -> None:
        rec = job.to_record()
        self._db().execute(
            f"INSERT INTO print_jobs (branch, {', '.join(JOB_COLUMNS)}) "
            f"VALUES (?, {', '.join('?' * len(JOB_COLUMNS))})",
            [self.branch, *(rec[c] for c in JOB_COLUMNS)])

    def get(self, job_id: str) -> Job | None:
        row = self._db().execute("SELECT * FROM print_jobs WHERE branch=? AND id=?",
                                 (self.branch, job_id)).fetchone()
        return Job.from_record(dict(row)) if row else None

    def pending(self, kiosk: str, now: float, ttl: float) -> list[Job]:
        db = self._db()
        db.execute("UPDATE print_jobs SET state='expired', acked=? WHERE branch=? AND kiosk=? "
                   "AND state='pending' AND created < ?", (now, self.branch, kiosk, now - ttl))
        rows = db.execute("SELECT * FROM print_jobs WHERE branch=? AND kiosk=? AND "
                          "state='pending' ORDER BY created, id", (self.branch, kiosk)).fetchall()
        return [Job.from_record(dict(r)) for r in rows]

    def delivered(self, job_id: str) -> None:
        self._db().execute("UPDATE print_jobs SET attempts = attempts + 1 WHERE branch=? AND "
                           "id=?", (self.branch, job_id))

    def finish(self, job_id: str, state: JobState, detail: str, now: float) -> bool:
        cur = self._db().execute(
            "UPDATE print_jobs SET state=?, detail=?, acked=? WHERE branch=? AND id=? AND "
            "state='pending'", (state.value, detail, now, self.branch, job_id))
        return cur.rowcount == 1

    def for_ticket(self, ticket: str) -> list[Job]:
        rows = self._db().execute("SELECT * FROM print_jobs WHERE branch=? AND ticket=? "
                                  "ORDER BY created, id", (self.branch, ticket)).fetchall()
        return [Job.from_record(dict(r)) for r in rows]

    def status(self, kiosk: str) -> PrinterStatus | None:
        row = self._db().execute("SELECT * FROM printer_status WHERE branch=? AND kiosk=?",
                                 (self.branch, kiosk)).fetchone()
        return PrinterStatus.from_dict(dict(row)) if row else None

    def statuses(self) -> list[PrinterStatus]:
        rows = self._db().execute("SELECT * FROM printer_status WHERE branch=? ORDER BY kiosk",
                                  (self.branch,)).fetchall()
        return [PrinterStatus.from_dict(dict(r)) for r in rows]

    def set_status(self, status: PrinterStatus) -> None:
        rec = _status_record(status)
        self._db().execute(
            f"INSERT OR REPLACE INTO printer_status (branch, {', '.join(STATUS_COLUMNS)}) "
            f"VALUES (?, {', '.join('?' * len(STATUS_COLUMNS))})",
            [self.branch, *(rec[c] for c in STATUS_COLUMNS)])


def _status_record(status: PrinterStatus) -> dict[str, Any]:
    data = asdict(status)
    data["state"] = status.state.value
    return data


# -- Redis -----------------------------------------------------------------------

# KEYS[1] the kiosk's pending zset, KEYS[2] the job hash
# ARGV[1] job id, ARGV[2] new state, ARGV[3] detail, ARGV[4] now
FINISH = """
if redis.call('ZREM', KEYS[1], ARGV[1]) == 1 then
  redis.call('HSET', KEYS[2], 'state', ARGV[2], 'detail', ARGV[3], 'acked', ARGV[4])
  return 1
end
return 0
"""


class RedisJobs(JobQueue):
    """Jobs beside the Redis store's keys, in the branch's hash tag."""

    def __init__(self, client: Any, base: str):
        self.redis = client  # decode_responses=True
        self.base = base
        self._finish = client.register_script(FINISH)

    def _job(self, job_id: str) -> str:
        return f"{self.base}:print:job:{job_id}"

    def _pending(self, kiosk: str) -> str:
        return f"{self.base}:print:pending:{kiosk}"

    def _by_ticket(self, ticket: str) -> str:
        return f"{self.base}:print:ticket:{ticket}"

    def _status(self, kiosk: str) -> str:
        return f"{self.base}:printer:{kiosk}"

    def add(self, job: Job) -> None:
        pipe = self.redis.pipeline(transaction=True)
        pipe.hset(self._job(job.id), mapping=job.to_record())
        pipe.expire(self._job(job.id), JOB_TTL_S)
        pipe.zadd(self._pending(job.kiosk), {job.id: job.created})
        pipe.sadd(self._by_ticket(job.ticket), job.id)
        pipe.expire(self._by_ticket(job.ticket), JOB_TTL_S)
        pipe.execute()

    def get(self, job_id: str) -> Job | None:
        rec = self.redis.hgetall(self._job(job_id))
        return Job.from_record(rec) if rec else None

    def pending(self, kiosk: str, now: float, ttl: float) -> list[Job]:
        for old in self.redis.zrangebyscore(self._pending(kiosk), "-inf", f"({now - ttl}"):
            self.finish(old, JobState.EXPIRED, "", now)
        ids = self.redis.zrange(self._pending(kiosk), 0, -1)
        pipe = self.redis.pipeline(transaction=False)
        for job_id in ids:
            pipe.hgetall(self._job(job_id))
        jobs = [Job.from_record(rec) for rec in pipe.execute() if rec]
        return sorted(jobs, key=lambda j: (j.created, j.id))

    def delivered(self, job_id: str) -> None:
        if self.redis.exists(self._job(job_id)):
            self.redis.hincrby(self._job(job_id), "attempts", 1)

    def finish(self, job_id: str, state: JobState, detail: str, now: float) -> bool:
        kiosk = self.redis.hget(self._job(job_id), "kiosk")
        if kiosk is None:
            return False
        return bool(self._finish(keys=[self._pending(kiosk), self._job(job_id)],
                                 args=[job_id, state.value, detail, now]))

    def for_ticket(self, ticket: str) -> list[Job]:
        ids = self.redis.smembers(self._by_ticket(ticket))
        found = (self.get(job_id) for job_id in ids)
        return sorted((j for j in found if j), key=lambda j: (j.created, j.id))

    def status(self, kiosk: str) -> PrinterStatus | None:
        rec = self.redis.hgetall(self._status(kiosk))
        return PrinterStatus.from_dict(rec) if rec else None

    def statuses(self) -> list[PrinterStatus]:
        kiosks = sorted(self.redis.smembers(f"{self.base}:printers"))
        found = (self.status(k) for k in kiosks)
        return [s for s in found if s is not None]

    def set_status(self, status: PrinterStatus) -> None:
        pipe = self.redis.pipeline(transaction=True)
        pipe.hset(self._status(status.kiosk),
                  mapping={k: str(v) for k, v in _status_record(status).items()})
        pipe.sadd(f"{self.base}:printers", status.kiosk)
        pipe.execute()


def make_jobs(store: Any, branch: str) -> JobQueue:
    """The job queue living in `store` (chosen by the store's name)."""
    if store.name == "sqlite":
        return SQLiteJobs(store.path, branch)
    if store.name == "redis":
        return RedisJobs(store.redis, store.keys(branch).base)
    raise ValueError(f"print jobs cannot be kept in a {store.name!r} store")
