"""Schema versions of the stores and the ordered steps that upgrade an older one.

Version 1 is the layout of main at commit 66d367a, the last release before
versions existed: a SQLite file or a Redis with data but no version is
version 1. A fresh store is created at CURRENT directly (each backend's
current schema), an older one is upgraded by running STEPS in order, each in
its own transaction together with the new version number, and logged.

Adding a change to the SQLite tables or the Redis keys: append a Step to
STEPS with `version = CURRENT + 1` and both backends' functions, bump CURRENT,
change the fresh schema (SQLITE SCHEMA / Redis writers) to match, and keep
tests/satupintu/test_schema.py green: it upgrades the committed v1 fixture and
compares the result with a fresh store.
"""

from __future__ import annotations

import logging
import sqlite3
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from .base import Step, Store

log = logging.getLogger(__name__)

BASELINE = 1  # what a store written before schema versions existed holds
CURRENT = 6  # the version this code writes and needs


def _sqlite_idempotency(db: sqlite3.Connection) -> None:
    db.execute(
        "CREATE TABLE idempotency (branch TEXT NOT NULL, day TEXT NOT NULL, key TEXT NOT NULL, "
        "fingerprint TEXT NOT NULL, ticket TEXT NOT NULL, people_ahead INTEGER NOT NULL, "
        "waiting INTEGER NOT NULL, PRIMARY KEY (branch, day, key))"
    )


def _sqlite_limits_and_logouts(db: sqlite3.Connection) -> None:
    db.execute("CREATE TABLE hits (key TEXT NOT NULL, at REAL NOT NULL, expires REAL NOT NULL)")
    db.execute("CREATE INDEX hits_key ON hits (key, at)")
    db.execute("CREATE INDEX hits_expires ON hits (expires)")
    db.execute("CREATE TABLE ended_sessions (id TEXT PRIMARY KEY, until REAL NOT NULL)")
    db.execute("CREATE INDEX ended_sessions_until ON ended_sessions (until)")


def _sqlite_config_services(db: sqlite3.Connection) -> None:
    db.execute("CREATE TABLE config_services (branch TEXT PRIMARY KEY, services TEXT NOT NULL)")


def _sqlite_user_kiosk(db: sqlite3.Connection) -> None:
    db.execute("ALTER TABLE users ADD COLUMN kiosk TEXT NOT NULL DEFAULT ''")


def _sqlite_print_tables(db: sqlite3.Connection) -> None:
    """The print tables, as printer/jobs.py made them on every app start until print jobs
    joined the Store contract: a file only the command line had opened has none yet."""
    db.execute(
        "CREATE TABLE IF NOT EXISTS print_jobs (id TEXT PRIMARY KEY, branch TEXT NOT NULL, "
        "kiosk TEXT NOT NULL, ticket TEXT NOT NULL, payload TEXT NOT NULL, "
        "created REAL NOT NULL, attempts INTEGER NOT NULL, state TEXT NOT NULL, "
        "acked REAL NOT NULL, detail TEXT NOT NULL)"
    )
    db.execute(
        "CREATE INDEX IF NOT EXISTS print_jobs_pending "
        "ON print_jobs (branch, kiosk, state, created)"
    )
    db.execute("CREATE INDEX IF NOT EXISTS print_jobs_ticket ON print_jobs (branch, ticket)")
    db.execute(
        "CREATE TABLE IF NOT EXISTS printer_status (branch TEXT NOT NULL, kiosk TEXT NOT NULL, "
        "state TEXT NOT NULL, detail TEXT NOT NULL, since REAL NOT NULL, "
        "updated REAL NOT NULL, printer TEXT NOT NULL, seen REAL NOT NULL, "
        "PRIMARY KEY (branch, kiosk))"
    )


def _redis_nothing(client: Any, pipe: Any, keys: Any) -> None:
    """Redis needs no change: a missing key is an empty one."""


STEPS: list[Step] = [  # in order: STEPS[i].version == BASELINE + 1 + i
    Step(
        2,
        "Idempotency-Key of POST /tickets: the idempotency table "
        "(Redis: sp:{branch}:idem:<day> hashes, made on first use)",
        _sqlite_idempotency,
        _redis_nothing,
    ),
    Step(
        3,
        "login and issuing limits shared by every process, logouts that end a login: "
        "the hits and ended_sessions tables (Redis: sp:hits:<key> and sp:ended:<id>, "
        "made on first use)",
        _sqlite_limits_and_logouts,
        _redis_nothing,
    ),
    Step(
        4,
        "config.toml's services as last applied, so a service added there reaches the "
        "counters that take all services: the config_services table (Redis: "
        "sp:{branch}:config_services, written on the next start)",
        _sqlite_config_services,
        _redis_nothing,
    ),
    Step(
        5,
        "kiosk users bound to a kiosk: users.kiosk (Redis: the user's JSON gets a "
        "kiosk field, absent = none)",
        _sqlite_user_kiosk,
        _redis_nothing,
    ),
    Step(
        6,
        "print jobs and printer statuses in the store's own schema: the print_jobs and "
        "printer_status tables if missing (Redis: the same sp:{branch}:print* keys)",
        _sqlite_print_tables,
        _redis_nothing,
    ),
]


class SchemaError(Exception):
    """The store's schema cannot be used by this code (newer, or not upgraded yet)."""


@dataclass(frozen=True)
class Plan:
    """Where a store stands and what an upgrade would do."""

    backend: str
    where: str
    version: int
    steps: tuple[Step, ...]

    @property
    def newer(self) -> bool:
        return self.version > CURRENT

    @property
    def current(self) -> bool:
        return self.version == CURRENT

    def describe(self) -> list[str]:
        """Lines for the operator: the version and each step an upgrade would run."""
        head = f"{self.backend} {self.where}: schema version {self.version}"
        if self.newer:
            return [f"{head}, newer than this satupintu knows ({CURRENT}): {too_new_hint()}"]
        if self.current:
            return [f"{head} (current): nothing to do"]
        return [f"{head}, this satupintu needs {CURRENT}; upgrade steps:"] + [
            f"  {s.version - 1} -> {s.version}: {s.description}" for s in self.steps
        ]


def too_new_hint() -> str:
    return (
        "it was written by a newer release; install that release (or newer) "
        "or restore a backup made by this one"
    )


def steps_from(version: int) -> tuple[Step, ...]:
    """The steps that take a store at `version` to CURRENT."""
    for i, step in enumerate(STEPS):  # the list must be complete and in order
        if step.version != BASELINE + 1 + i:
            raise AssertionError(f"migration steps out of order at {step.version}")
    return tuple(s for s in STEPS if s.version > version)


def plan(store: Store) -> Plan:
    """What `upgrade` would do to `store` (reads only)."""
    version = store.schema_version()
    return Plan(store.name, store.location(), version, steps_from(version))


def upgrade(store: Store, say: Callable[[str], None] | None = None) -> Plan:
    """Run every pending step, one transaction each; refuse a newer schema.

    Returns the plan that was carried out. Each step is logged (and passed
    to `say`, e.g. print, for the operator) before and after it runs.
    """
    todo = plan(store)
    if todo.newer:
        raise SchemaError(todo.describe()[0])
    for step in todo.steps:
        line = f"schema upgrade {step.version - 1} -> {step.version}: {step.description}"
        log.info("%s ...", line)
        if say:
            say(line + " ...")
        started = time.monotonic()
        store.apply_step(step)
        done = (
            f"schema upgrade {step.version - 1} -> {step.version} done in "
            f"{(time.monotonic() - started) * 1000:.0f} ms"
        )
        log.info("%s", done)
        if say:
            say(done)
    return todo


def require_current(store: Store) -> None:
    """Raise SchemaError unless the store is at CURRENT (the app refuses anything else)."""
    todo = plan(store)
    if todo.newer:
        raise SchemaError(todo.describe()[0])
    if not todo.current:
        raise SchemaError(
            f"{todo.backend} {todo.where}: schema version {todo.version}, this satupintu "
            f"needs {CURRENT}: run `satupintu migrate` (satupintu serve does it on start)"
        )
