"""Backups of a running office and restores into an empty one.

SQLite: SQLite's online backup API copies the file in one step from a read
transaction, so the copy is one consistent moment while the server keeps
writing (WAL: readers never block the writer). The backup is itself a
SQLite file (PATH), usable with the sqlite3 tool.

Redis: one Lua script DUMPs every key of the branch (`sp:{branch}:*`) plus the
shared users and secrets hashes atomically (a consistent moment, like a
MULTI), and the backup file is gzip'd JSON lines: a header (format, backend,
branch, schema version, when, key count) and one line per key (name, TTL,
DUMP payload in base64). RESTORE needs the same or a newer Redis version.

A restore goes only into an empty data folder or an empty Redis; a file that
is not a satupintu backup, a backup of the other backend, or one with a newer
schema is refused with the reason (BackupError).
"""

from __future__ import annotations

import base64
import gzip
import json
import os
import sqlite3
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .store import migrations

FORMAT = "satupintu-backup"
SQLITE_MAGIC = b"SQLite format 3\x00"
IGNORED_IN_DATA_DIR = {"satupintu.lock", "metrics"}  # not data: a lock file, scrape files

# KEYS: none (the script scans; a backup is read-only). ARGV[1] the branch's key
# pattern, ARGV[2..] single keys shared by branches (users, secrets).
# Returns a flat list: key, pttl, dump, key, pttl, dump, ...
SNAPSHOT = """
local out = {}
local function take(key)
  local payload = redis.call('DUMP', key)
  if payload then
    out[#out + 1] = key
    out[#out + 1] = redis.call('PTTL', key)
    out[#out + 1] = payload
  end
end
local cursor = '0'
repeat
  local reply = redis.call('SCAN', cursor, 'MATCH', ARGV[1], 'COUNT', 1000)
  cursor = reply[1]
  for _, key in ipairs(reply[2]) do take(key) end
until cursor == '0'
for i = 2, #ARGV do take(ARGV[i]) end
return out
"""


class BackupError(Exception):
    """The backup or restore cannot be done; the message says why."""


class StoreUnreachable(BackupError):
    """The store to restore into cannot be reached (not the backup's fault)."""


@dataclass(frozen=True)
class Summary:
    """What a backup holds, for the operator."""

    backend: str
    schema: int
    size: int
    seconds: float
    detail: str

    def line(self) -> str:
        return (
            f"{self.backend} backup, schema version {self.schema}, {self.detail}, "
            f"{self.size / 1024:.0f} KiB in {self.seconds:.2f} s"
        )


# -- backup ----------------------------------------------------------------------


def backup(store: Any, path: str | Path) -> Summary:
    """Write a consistent backup of the running store to `path` (atomically renamed)."""
    target = Path(path)
    if str(path).endswith(os.sep):  # "backups/": a folder, made if missing
        target.mkdir(parents=True, exist_ok=True)
    if target.is_dir():
        target = target / time.strftime(f"satupintu-%Y%m%d-%H%M%S.{_suffix(store.name)}")
    target.parent.mkdir(parents=True, exist_ok=True)
    partial = target.with_name(target.name + ".partial")
    started = time.monotonic()
    try:
        if store.name == "sqlite":
            detail = _backup_sqlite(store, partial)
        elif store.name == "redis":
            detail = _backup_redis(store, partial)
        else:
            raise BackupError(f"cannot back up a {store.name!r} store")
        os.chmod(partial, 0o600)  # it holds password hashes and the signing secret
        os.replace(partial, target)
    finally:
        partial.unlink(missing_ok=True)
    return Summary(
        store.name,
        store.schema_version(),
        target.stat().st_size,
        time.monotonic() - started,
        f"{detail} -> {target}",
    )


def _suffix(backend: str) -> str:
    return "db" if backend == "sqlite" else "redis.jsonl.gz"


def _backup_sqlite(store: Any, partial: Path) -> str:
    source = sqlite3.connect(store.path, timeout=30)
    try:
        dest = sqlite3.connect(partial)
        try:
            source.backup(dest)  # one step: one read transaction, one consistent moment
            dest.execute("PRAGMA journal_mode=DELETE")  # one self-contained file
            tickets = dest.execute("SELECT count(*) FROM tickets").fetchone()[0]
        finally:
            dest.close()
    finally:
        source.close()
    return f"{tickets} tickets"


def _backup_redis(store: Any, partial: Path) -> str:
    import redis

    client = redis.Redis.from_url(store.url)  # bytes: DUMP payloads are binary
    try:
        base = store.keys(store.branch).base
        started = time.monotonic()
        flat = client.eval(
            SNAPSHOT,
            0,
            f"{_glob_escape(base)}:*",
            f"{store.prefix}:users",
            f"{store.prefix}:secrets",
        )
        blocked = time.monotonic() - started  # Redis runs nothing else while the script runs
    finally:
        client.close()
    count = len(flat) // 3
    header = {
        "format": FORMAT,
        "backend": "redis",
        "branch": store.branch,
        "prefix": store.prefix,
        "schema": store.schema_version(),
        "created": time.time(),
        "keys": count,
    }
    with gzip.open(partial, "wt", encoding="utf-8") as out:
        out.write(json.dumps(header) + "\n")
        for i in range(0, len(flat), 3):
            key, ttl, payload = flat[i : i + 3]
            out.write(
                json.dumps(
                    {"k": key.decode(), "ttl": int(ttl), "d": base64.b64encode(payload).decode()}
                )
                + "\n"
            )
    return f"{count} keys, Redis busy {blocked * 1000:.0f} ms"


def _glob_escape(text: str) -> str:
    return "".join(f"\\{c}" if c in "*?[]\\" else c for c in text)


# -- restore ---------------------------------------------------------------------


def inspect(path: str | Path) -> tuple[str, int]:
    """(backend, schema version) of a backup file; BackupError if it is not one."""
    p = Path(path)
    try:
        with open(p, "rb") as fh:
            head = fh.read(16)
    except OSError as exc:
        raise BackupError(f"{p}: cannot read it ({exc.strerror})") from None
    if head == SQLITE_MAGIC:
        return "sqlite", _sqlite_version(p)
    if head[:2] == b"\x1f\x8b":
        return "redis", int(_redis_header(p)["schema"])
    raise BackupError(f"{p}: not a satupintu backup (neither a SQLite file nor a Redis export)")


def _sqlite_version(p: Path) -> int:
    try:
        db = sqlite3.connect(f"file:{p}?mode=ro", uri=True)
        try:
            if db.execute("PRAGMA quick_check").fetchone()[0] != "ok":
                raise BackupError(f"{p}: the SQLite file is damaged (quick_check failed)")
            tables = {r[0] for r in db.execute("SELECT name FROM sqlite_master WHERE type='table'")}
            version = int(db.execute("PRAGMA user_version").fetchone()[0])
        finally:
            db.close()
    except sqlite3.DatabaseError as exc:
        raise BackupError(f"{p}: not a usable SQLite file ({exc})") from None
    if not {"tickets", "counters", "users"} <= tables:
        raise BackupError(
            f"{p}: a SQLite file, but not a satupintu backup (no tickets, "
            "counters and users tables)"
        )
    return version or migrations.BASELINE


def _redis_header(p: Path) -> dict[str, Any]:
    try:
        with gzip.open(p, "rt", encoding="utf-8") as fh:
            header = json.loads(fh.readline())
    except (OSError, EOFError, ValueError, UnicodeDecodeError):
        raise BackupError(f"{p}: not a satupintu backup (gzip, but not a Redis export)") from None
    if not isinstance(header, dict) or header.get("format") != FORMAT:
        raise BackupError(f"{p}: not a satupintu backup (no {FORMAT} header)")
    return header


def check_restorable(path: str | Path, backend: str) -> int:
    """The backup's schema version if this release can restore it into `backend`."""
    kind, version = inspect(path)
    if kind != backend:
        raise BackupError(f"{path}: a {kind} backup, but [store] backend is {backend!r}")
    if version > migrations.CURRENT:
        raise BackupError(
            f"{path}: schema version {version}, newer than this satupintu "
            f"knows ({migrations.CURRENT}): {migrations.too_new_hint()}"
        )
    return version


def data_dir_is_empty(data_dir: Path) -> bool:
    """True if the folder is missing or holds nothing but a lock file and metrics."""
    return not data_dir.exists() or not [
        p for p in data_dir.iterdir() if p.name not in IGNORED_IN_DATA_DIR
    ]


def restore_sqlite(path: str | Path, db_path: Path) -> str:
    """Copy a SQLite backup to `db_path` (which must not exist) through the backup API."""
    if db_path.exists():
        raise BackupError(f"{db_path} exists: restore only into an empty data folder")
    db_path.parent.mkdir(parents=True, exist_ok=True)
    partial = db_path.with_name(db_path.name + ".partial")
    source = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    try:
        dest = sqlite3.connect(partial)
        try:
            source.backup(dest)
            dest.execute("PRAGMA journal_mode=WAL")
            tickets = dest.execute("SELECT count(*) FROM tickets").fetchone()[0]
            users = dest.execute("SELECT count(*) FROM users").fetchone()[0]
        finally:
            dest.close()
    finally:
        source.close()
    os.chmod(partial, 0o600)
    os.replace(partial, db_path)
    return f"{tickets} tickets, {users} users"


def restore_redis(path: str | Path, url: str, branch: str, prefix: str = "sp") -> str:
    """RESTORE every key of a Redis backup into an empty Redis, in one transaction."""
    import redis

    header = _redis_header(Path(path))
    if header.get("branch") != branch or header.get("prefix", "sp") != prefix:
        raise BackupError(
            f"{path}: a backup of branch {header.get('branch')!r}, but "
            f"[office] branch is {branch!r}"
        )
    client = redis.Redis.from_url(url)
    try:
        base = f"{prefix}:{{{branch}}}"
        present = next(iter(client.scan_iter(match=f"{_glob_escape(base)}:*", count=1000)), None)
        if present is not None or client.exists(f"{prefix}:users", f"{prefix}:secrets"):
            raise BackupError(
                f"{_safe(url)}: Redis already holds data of branch {branch!r}: "
                "restore only into an empty Redis"
            )
        pipe = client.pipeline(transaction=True)
        count = 0
        with gzip.open(path, "rt", encoding="utf-8") as fh:
            fh.readline()
            for line in fh:
                item = json.loads(line)
                pipe.restore(item["k"], max(int(item["ttl"]), 0), base64.b64decode(item["d"]))
                count += 1
        if count != header.get("keys"):
            raise BackupError(f"{path}: truncated ({count} of {header.get('keys')} keys)")
        pipe.execute()
    except redis.ResponseError as exc:
        raise BackupError(
            f"{_safe(url)}: Redis refused the restore ({exc}); it needs the same or "
            "a newer Redis version than the backup's"
        ) from None
    except redis.RedisError as exc:
        raise StoreUnreachable(f"cannot reach Redis at {_safe(url)}: {exc}") from None
    finally:
        client.close()
    return f"{count} keys"


def _safe(url: str) -> str:
    """A Redis URL without its password, for messages."""
    import re

    return re.sub(r"//[^@/]*@", "//", url)
