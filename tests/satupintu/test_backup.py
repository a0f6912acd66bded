"""`satupintu backup` of a running office under load, `satupintu restore`, and refusals."""

from __future__ import annotations

import gzip
import sqlite3
import threading
import time
from pathlib import Path
from typing import Any

import pytest
import redis
import requests

from satupintu.config import load_config
from satupintu.store import make_store, migrations
from tests.redis_server import RedisServer
from tests.serverproc import PASSWORD, ServerProcess, cli, write_config


class Load:
    """A kiosk issuing tickets as fast as it can; remembers when each was acknowledged."""

    def __init__(self, server: ServerProcess):
        self.server = server
        self.acked: list[tuple[float, str, str]] = []  # (monotonic time, id, number)
        self.failures: list[str] = []
        self.stop = threading.Event()
        self.thread = threading.Thread(target=self.run, daemon=True)

    def run(self) -> None:
        http = requests.Session()
        http.headers["Authorization"] = f"Bearer {self.server.token('k1')}"
        services = ["ktp", "kk", "akta", "nib"]
        i = 0
        while not self.stop.is_set():
            r = http.post(
                self.server.url + "/api/v1/tickets",
                json={"service": services[i % len(services)]},
                timeout=15,
            )
            i += 1
            # A steady 50 a second: fast enough to overlap the backup, slow enough that a
            # quiet machine does not reach the services' daily quotas (429) meanwhile.
            self.stop.wait(0.02)
            if r.status_code == 201:
                self.acked.append((time.monotonic(), r.json()["id"], r.json()["number"]))
            else:
                self.failures.append(f"{r.status_code} {r.text[:200]}")

    def __enter__(self) -> Load:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop.set()
        self.thread.join(30)


def backup_under_load(server: ServerProcess, target: Path) -> tuple[Load, float, float]:
    server.add_user("k1", "kiosk")
    server.start()
    with Load(server) as load:
        time.sleep(1.5)
        started = time.monotonic()
        done = server.cli("backup", str(target))
        finished = time.monotonic()
        assert done.returncode == 0, done.stderr
        assert "backup, schema version" in done.stdout
        time.sleep(0.5)
    server.stop()
    assert load.failures == []  # no downtime: every issue during the backup was served
    before = [a for a in load.acked if a[0] < started]
    assert len(before) > 10 and len(load.acked) > len(before)  # load ran before and after
    return load, started, finished


def check_restored(store: Any, load: Load, started: float, finished: float) -> None:
    tickets = {t.id: t for t in store.day_tickets("main", _day(store, load))}
    for _, ticket_id, number in load.acked:
        if _ < started:  # acknowledged before the backup began: must be in it
            assert ticket_id in tickets, number
            assert tickets[ticket_id].number == number
    assert len(tickets) <= len([a for a in load.acked if a[0] < finished]) + 1
    numbers = [t.number for t in tickets.values()]
    assert len(numbers) == len(set(numbers))


def _day(store: Any, load: Load) -> str:
    from datetime import datetime
    from zoneinfo import ZoneInfo

    return datetime.now(ZoneInfo("Asia/Jakarta")).date().isoformat()


@pytest.mark.slow
def test_backup_of_a_running_sqlite_office_under_load_restores_every_acknowledged_ticket(tmp_path):
    server = ServerProcess(tmp_path / "office", issue_per_minute=100_000)
    target = tmp_path / "backups" / "office.db"
    load, started, finished = backup_under_load(server, target)
    assert oct(target.stat().st_mode & 0o777) == "0o600"

    fresh = tmp_path / "new-disk" / "var"
    done = cli(
        "restore", str(target), "--config", str(server.config_path), "--data-dir", str(fresh)
    )
    assert done.returncode == 0, done.stderr
    assert "restored" in done.stdout
    store = make_store(load_config(server.config_path), fresh)
    assert store.schema_version() == migrations.CURRENT
    check_restored(store, load, started, finished)
    assert store.user("k1") is not None
    store.close()


@pytest.mark.slow
@pytest.mark.redis
def test_backup_of_a_running_redis_office_under_load_restores_every_acknowledged_ticket(
    tmp_path, redis_server
):
    redis.Redis.from_url(redis_server.url).flushdb()
    server = ServerProcess(
        tmp_path / "office", redis_url=redis_server.url, issue_per_minute=100_000
    )
    target = tmp_path / "backups"
    target.mkdir()
    load, started, finished = backup_under_load(server, target)
    [backup_file] = list(target.glob("satupintu-*.redis.jsonl.gz"))

    (tmp_path / "redis2").mkdir()
    other = RedisServer(tmp_path / "redis2").start()  # a new, empty Redis after a disk failure
    try:
        config = write_config(tmp_path / "restored.toml", redis_url=other.url)
        done = cli(
            "restore",
            str(backup_file),
            "--config",
            str(config),
            "--data-dir",
            str(tmp_path / "unused"),
        )
        assert done.returncode == 0, done.stderr
        store = make_store(load_config(config), tmp_path / "unused")
        check_restored(store, load, started, finished)
        assert store.user("k1") is not None
        assert store.schema_version() == migrations.CURRENT
        store.close()
        again = cli(
            "restore",
            str(backup_file),
            "--config",
            str(config),
            "--data-dir",
            str(tmp_path / "unused"),
        )
        assert again.returncode == 2 and "already holds data" in again.stderr
    finally:
        other.stop()


@pytest.fixture
def sqlite_backup(tmp_path) -> tuple[Path, Path]:
    """A small office's backup and its config."""
    config = write_config(tmp_path / "config.toml")
    data = tmp_path / "var"
    assert (
        cli(
            "users",
            "add",
            "admin",
            "--role",
            "manager",
            "--password-stdin",
            "--config",
            str(config),
            "--data-dir",
            str(data),
            stdin=PASSWORD + "\n",
        ).returncode
        == 0
    )
    target = tmp_path / "office.db"
    done = cli("backup", str(target), "--config", str(config), "--data-dir", str(data))
    assert done.returncode == 0, done.stderr
    return target, config


def restore(config: Path, path: Path, data: Path) -> Any:
    return cli("restore", str(path), "--config", str(config), "--data-dir", str(data))


def test_restore_refuses_a_non_empty_data_folder(tmp_path, sqlite_backup):
    target, config = sqlite_backup
    busy = tmp_path / "busy"
    busy.mkdir()
    (busy / "notes.txt").write_text("somebody's file")
    done = restore(config, target, busy)
    assert done.returncode == 2 and "is not empty" in done.stderr
    assert sorted(p.name for p in busy.iterdir()) == ["notes.txt"]  # nothing written
    empty = tmp_path / "empty"
    done = restore(config, target, empty)  # positive control
    assert done.returncode == 0, done.stderr
    assert "1 users" in done.stdout


@pytest.mark.parametrize(
    ("content", "reason"),
    [
        (b"just some text\n", "not a satupintu backup"),
        (gzip.compress(b"not json\n", mtime=0), "not a satupintu backup"),
        (gzip.compress(b'{"format": "something-else"}\n', mtime=0), "no satupintu-backup header"),
        (b"SQLite format 3\x00" + b"\x00" * 200, "not a usable SQLite file"),
    ],
    ids=["text", "gzip-not-json", "gzip-other-format", "sqlite-header-only"],
)
def test_restore_refuses_a_file_that_is_not_a_backup(tmp_path, sqlite_backup, content, reason):
    _, config = sqlite_backup
    bogus = tmp_path / "bogus.bin"
    bogus.write_bytes(content)
    done = restore(config, bogus, tmp_path / "new")
    assert done.returncode == 2
    assert reason in done.stderr, done.stderr
    assert "Traceback" not in done.stderr
    assert not (tmp_path / "new" / "satupintu.db").exists()


def test_restore_refuses_other_sqlite_files_newer_schemas_and_the_other_backend(
    tmp_path, sqlite_backup
):
    target, config = sqlite_backup
    other = tmp_path / "other.db"
    sqlite3.connect(other).execute("CREATE TABLE notes (x)").connection.commit()
    done = restore(config, other, tmp_path / "a")
    assert done.returncode == 2 and "not a satupintu backup" in done.stderr

    newer = tmp_path / "newer.db"
    newer.write_bytes(target.read_bytes())
    db = sqlite3.connect(newer)
    db.execute(f"PRAGMA user_version = {migrations.CURRENT + 1}")
    db.close()
    done = restore(config, newer, tmp_path / "b")
    assert done.returncode == 2
    assert f"schema version {migrations.CURRENT + 1}, newer than this satupintu" in done.stderr

    redis_config = write_config(tmp_path / "redis.toml", redis_url="redis://127.0.0.1:1/0")
    done = restore(redis_config, target, tmp_path / "c")
    assert done.returncode == 2 and "a sqlite backup, but [store] backend is 'redis'" in done.stderr


def test_restore_refuses_a_redis_backup_of_a_newer_schema(tmp_path):
    import json

    header = {
        "format": "satupintu-backup",
        "backend": "redis",
        "branch": "main",
        "prefix": "sp",
        "schema": migrations.CURRENT + 1,
        "created": 0,
        "keys": 0,
    }
    newer = tmp_path / "newer.redis.jsonl.gz"
    newer.write_bytes(gzip.compress((json.dumps(header) + "\n").encode()))
    config = write_config(tmp_path / "redis.toml", redis_url="redis://127.0.0.1:1/0")
    done = restore(config, newer, tmp_path / "unused")
    assert done.returncode == 2
    assert f"schema version {migrations.CURRENT + 1}, newer than this satupintu" in done.stderr
    header["schema"] = migrations.CURRENT  # control: the same file at today's schema gets
    newer.write_bytes(gzip.compress((json.dumps(header) + "\n").encode()))  # past the check
    done = restore(config, newer, tmp_path / "unused")
    assert "newer than this satupintu" not in done.stderr
    assert done.returncode == 1  # ... to the Redis, which is not there: said without a trace
    assert "restore failed: cannot reach Redis at redis://127.0.0.1:1/0" in done.stderr
    assert "Traceback" not in done.stderr
