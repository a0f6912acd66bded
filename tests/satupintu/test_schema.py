"""Schema versions: the committed v1 fixture (written by 66d367a's code) upgrades and works.

The fixture (tests/fixtures/schema_v1, made by scripts/make_schema_fixture.py)
holds one office day on SQLite and on Redis: tickets in every state, open
counters, users with known passwords, catalogue overrides, print jobs and a
printer status. Each test copies it, opens it with today's code, and checks
every record is there and usable through the API and the engine.
"""

from __future__ import annotations

import json
import shutil
import sqlite3
from pathlib import Path
from typing import Any

import pytest
import redis
import requests

from satupintu import current
from satupintu.app import create_app
from satupintu.config import load_config
from satupintu.datalock import DataDirLock
from satupintu.engine import Engine
from satupintu.printjobs import PrintJob
from satupintu.store import make_store, migrations
from satupintu.store.sqlite import SQLiteStore
from tests.serverproc import cli

FIXTURE = Path(__file__).resolve().parent.parent / "fixtures" / "schema_v1"
EXPECTED = json.loads((FIXTURE / "expected.json").read_text(encoding="utf-8"))


def restore_redis(url: str) -> None:
    """Load redis.json (the old release's keys) into an empty Redis database."""
    client = redis.Redis.from_url(url, decode_responses=True)
    client.flushdb()
    for item in json.loads((FIXTURE / "redis.json").read_text(encoding="utf-8")):
        key, kind, value = item["key"], item["type"], item["value"]
        if kind == "string":
            client.set(key, value)
        elif kind == "hash":
            client.hset(key, mapping=value)
        elif kind == "list":
            client.rpush(key, *value)
        elif kind == "set":
            client.sadd(key, *value)
        elif kind == "zset":
            client.zadd(key, {member: score for member, score in value})
        if item["ttl_ms"] > 0:
            client.pexpire(key, item["ttl_ms"])
    client.close()


def office(tmp_path: Path, backend: str, request: pytest.FixtureRequest) -> tuple[Path, Path]:
    """A copy of the fixture's data as (config path, data folder) for `backend`."""
    data = tmp_path / "var"
    data.mkdir()
    text = (FIXTURE / "config.toml").read_text(encoding="utf-8")
    if backend == "sqlite":
        shutil.copy(FIXTURE / "satupintu.db", data / "satupintu.db")
    else:
        url = request.getfixturevalue("redis_server").url
        restore_redis(url)
        text = text.replace('backend = "sqlite"', 'backend = "redis"', 1)
        text = text.replace('url = "redis://127.0.0.1:6379/0"', f'url = "{url}"', 1)
        assert f'url = "{url}"' in text and 'backend = "redis"' in text
    config = tmp_path / "config.toml"
    config.write_text(text, encoding="utf-8")
    return config, data


BACKENDS = ["sqlite", pytest.param("redis", marks=pytest.mark.redis)]


@pytest.mark.parametrize("backend", BACKENDS)
def test_the_v1_fixture_upgrades_and_every_record_is_there_and_usable(tmp_path, request, backend):
    expected = EXPECTED[backend]
    config_path, data = office(tmp_path, backend, request)
    check = cli("migrate", "--check", "--config", str(config_path), "--data-dir", str(data))
    assert check.returncode == 0, check.stderr
    assert "schema version 1" in check.stdout
    done = cli("migrate", "--config", str(config_path), "--data-dir", str(data))
    assert done.returncode == 0, done.stderr
    assert f"schema version {migrations.CURRENT}" in done.stdout

    config = load_config(config_path)
    # On the fixture's day: a later one would close it first (expire its open tickets).
    app = create_app(
        config,
        data,
        overrides={  # refuses anything but the current schema
            "SATUPINTU_CLOCK": lambda: expected["now"] + 1800
        },
    )
    store = current.store.get(app)
    assert store.schema_version() == migrations.CURRENT
    branch, day = expected["branch"], expected["day"]

    tickets = {t.id: t for t in store.day_tickets(branch, day)}
    assert len(tickets) == len(expected["tickets"])
    for want in expected["tickets"]:
        got = tickets[want["id"]]
        assert (got.number, got.service, got.status.value, got.priority, got.counter) == (
            want["number"],
            want["service"],
            want["status"],
            want["priority"],
            want["counter"],
        )
    assert store.seq(branch) == expected["seq"]
    counters = {c.id: c for c in store.counters(branch)}
    for want in expected["counters"]:
        c = counters[want["id"]]
        assert (c.state.value, c.clerk, c.current) == (
            want["state"],
            want["clerk"],
            want["current"],
        )

    client = app.test_client()
    for name, user in expected["users"].items():  # every user still logs in, with its role
        r = client.post("/api/v1/auth/token", json={"username": name, "password": user["password"]})
        assert r.status_code == 200, r.get_json()
        me = client.get(
            "/api/v1/auth/me", headers={"Authorization": f"Bearer {r.get_json()['token']}"}
        )
        assert me.get_json()["role"] == user["role"]

    services = {s["id"]: s for s in client.get("/api/v1/services").get_json()["services"]}
    assert services["ktp"]["daily_quota"] == 250  # the edited service
    assert services["ktp"]["standard"]["fee"] == "Rp0 (gratis)"
    assert services["paspor"]["prefix"] == "P"  # the service added on the manager page
    assert store.catalogue_edits(branch) == (
        expected["catalogue"]["version"],
        expected["catalogue"]["overrides"],
    )

    for job in expected["print_jobs"]:  # the old printer/jobs.py rows, now the store's
        got = store.print_job(branch, job["id"])
        assert got is not None and got.state.value == job["state"] and got.ticket == job["ticket"]
    assert [(s.kiosk, s.state.value) for s in store.printer_statuses(branch)] == [
        (p["kiosk"], p["state"]) for p in expected["printers"]
    ]

    # Usable: on the fixture's day the queue carries on where the old release left it.
    clock_now = [expected["now"] + 3600]
    engine = Engine(config, store, clock=lambda: clock_now[0])
    serving = next(t for t in expected["tickets"] if t["status"] == "serving")
    assert engine.complete(serving["counter"]).ticket.status.value == "done"
    waiting = [t for t in expected["tickets"] if t["status"] == "waiting"]
    called = engine.call_next(serving["counter"]).ticket
    assert called.id in {t["id"] for t in waiting}
    new = engine.issue("ktp").ticket
    used = {t["number"] for t in expected["tickets"]}
    assert new.number.startswith("A") and new.number not in used  # numbers never reused
    assert int(new.number[1:]) == max(int(n[1:]) for n in used if n.startswith("A")) + 1
    parked = next(t for t in expected["tickets"] if t["status"] == "parked")
    assert engine.unpark(parked["id"]).ticket.status.value == "waiting"
    store.close()


def columns_and_indexes(path: Path) -> dict[str, Any]:
    """The structure of a SQLite file: columns per table and indexed columns per index."""
    db = sqlite3.connect(path)
    tables = [
        r[0]
        for r in db.execute(
            "SELECT name FROM sqlite_master WHERE type='table' AND name NOT LIKE 'sqlite_%'"
        )
    ]
    shape: dict[str, Any] = {}
    for table in sorted(tables):
        shape[table] = [tuple(r[1:]) for r in db.execute(f"PRAGMA table_info({table})")]
        for index in db.execute(f"PRAGMA index_list({table})").fetchall():
            shape[f"{table}.{index[1]}"] = (
                index[2],
                [tuple(r) for r in db.execute(f"PRAGMA index_xinfo({index[1]})")],
            )
    db.close()
    return shape


def test_an_upgraded_v1_file_has_the_same_tables_as_a_fresh_one(tmp_path, config):
    """A later schema change without its upgrade step fails here."""
    old = tmp_path / "old"
    old.mkdir()
    shutil.copy(FIXTURE / "satupintu.db", old / "satupintu.db")
    migrations.upgrade(SQLiteStore(old / "satupintu.db"))
    current.store.get(create_app(config, old)).close()
    fresh = tmp_path / "fresh"
    current.store.get(create_app(config, fresh)).close()
    assert columns_and_indexes(old / "satupintu.db") == columns_and_indexes(fresh / "satupintu.db")
    assert SQLiteStore(fresh / "satupintu.db").schema_version() == migrations.CURRENT


def test_a_file_the_command_line_made_gets_the_print_tables(tmp_path, config):
    """Until print jobs joined the Store contract the app made their tables on start; a
    file only `satupintu users add` (or migrate) had opened has none: a step adds them."""
    step = next(s for s in migrations.STEPS if s.sqlite is migrations._sqlite_print_tables)
    path = tmp_path / "old" / "satupintu.db"
    SQLiteStore(path).close()
    db = sqlite3.connect(path)  # as the code before that step left such a file
    db.executescript(
        "DROP TABLE print_jobs; DROP TABLE printer_status; "
        f"PRAGMA user_version = {step.version - 1};"
    )
    db.close()
    store = SQLiteStore(path)
    with pytest.raises(sqlite3.OperationalError, match="no such table: print_jobs"):
        store.print_job("main", "x")  # control: what printing met before the step
    assert [s.version for s in migrations.upgrade(store).steps][0] == step.version
    store.add_print_job("main", PrintJob("j1", "K1", "t1", "G0A=", 1000.0))
    assert store.print_job("main", "j1") is not None
    store.close()
    fresh = tmp_path / "fresh"
    current.store.get(create_app(config, fresh)).close()
    assert columns_and_indexes(path) == columns_and_indexes(fresh / "satupintu.db")


def add_column_step(version: int, fail: bool = False) -> migrations.Step:
    def sqlite_step(db: sqlite3.Connection) -> None:
        db.execute("ALTER TABLE tickets ADD COLUMN note TEXT NOT NULL DEFAULT ''")
        db.execute("UPDATE tickets SET note = 'upgraded'")
        if fail:
            raise RuntimeError("step failed half-way")

    def redis_step(client: Any, pipe: Any, keys: Any) -> None:
        for key in client.scan_iter(match=f"{keys.ticket_prefix}*"):
            pipe.hset(key, "note", "upgraded")
        if fail:
            raise RuntimeError("step failed half-way")

    return migrations.Step(version, "tickets get a note", sqlite_step, redis_step)


@pytest.mark.parametrize("backend", BACKENDS)
def test_a_step_runs_in_one_transaction_with_its_version_and_is_logged(
    tmp_path, request, backend, monkeypatch, caplog
):
    config_path, data = office(tmp_path, backend, request)
    config = load_config(config_path)
    monkeypatch.setattr(migrations, "CURRENT", 2)
    monkeypatch.setattr(migrations, "STEPS", [add_column_step(2, fail=True)])
    store = make_store(config, data)
    assert store.schema_version() == 1
    with pytest.raises(RuntimeError, match="half-way"):
        migrations.upgrade(store)
    assert store.schema_version() == 1  # nothing of the failed step was written
    any_ticket = EXPECTED[backend]["tickets"][0]["id"]
    if backend == "sqlite":
        cols = [
            r[1]
            for r in sqlite3.connect(data / "satupintu.db").execute("PRAGMA table_info(tickets)")
        ]
        assert "note" not in cols
    else:
        assert not store.redis.hexists(store.keys("main").ticket(any_ticket), "note")
    with pytest.raises(migrations.SchemaError, match="run `satupintu migrate`"):
        migrations.require_current(store)

    monkeypatch.setattr(migrations, "STEPS", [add_column_step(2)])
    caplog.set_level("INFO", logger="satupintu.store.migrations")
    done = migrations.upgrade(store)
    assert [s.version for s in done.steps] == [2]
    assert store.schema_version() == 2
    assert "schema upgrade 1 -> 2: tickets get a note" in caplog.text
    if backend == "sqlite":
        row = (
            sqlite3.connect(data / "satupintu.db")
            .execute("SELECT note FROM tickets WHERE id=?", (any_ticket,))
            .fetchone()
        )
        assert row == ("upgraded",)
    else:
        assert store.redis.hget(store.keys("main").ticket(any_ticket), "note") == "upgraded"
    assert migrations.upgrade(store).steps == ()  # a second run has nothing to do
    store.close()


@pytest.mark.parametrize("backend", BACKENDS)
def test_a_newer_schema_is_refused_with_a_clear_message(tmp_path, request, backend):
    config_path, data = office(tmp_path, backend, request)
    if backend == "sqlite":
        db = sqlite3.connect(data / "satupintu.db")
        db.execute(f"PRAGMA user_version = {migrations.CURRENT + 5}")
        db.close()
    else:
        client = redis.Redis.from_url(request.getfixturevalue("redis_server").url)
        client.set("sp:{main}:schema", migrations.CURRENT + 5)
        client.close()
    for command in (["migrate"], ["migrate", "--check"], ["serve", "--port", "1"]):
        done = cli(*command, "--config", str(config_path), "--data-dir", str(data))
        assert done.returncode == 1, (command, done.stdout, done.stderr)
        assert f"schema version {migrations.CURRENT + 5}, newer than this satupintu" in done.stderr
        assert "Traceback" not in done.stderr
        assert "Starting gunicorn" not in done.stdout + done.stderr
    with pytest.raises(migrations.SchemaError, match="newer"):
        create_app(load_config(config_path), data)


def test_migrate_is_refused_while_another_process_holds_the_folder(tmp_path, request):
    config_path, data = office(tmp_path, "sqlite", request)
    args = ("--config", str(config_path), "--data-dir", str(data))
    with DataDirLock(data, "satupintu serve on 127.0.0.1:8080"):
        done = cli("migrate", *args)
        assert done.returncode == 1
        assert "in use by pid" in done.stderr and "satupintu serve on" in done.stderr
        second = cli("serve", "--port", "1", *args)  # a second server on the folder too
        assert second.returncode == 1 and "in use by pid" in second.stderr
    done = cli("migrate", *args)  # positive control: free folder, migrate runs
    assert done.returncode == 0, done.stderr


@pytest.mark.redis
def test_migrate_on_redis_is_refused_while_a_server_is_connected(tmp_path, request):
    config_path, data = office(tmp_path, "redis", request)
    server = make_store(load_config(config_path), data)  # another satupintu process's store
    server.redis.ping()
    args = ("--config", str(config_path), "--data-dir", str(data))
    try:
        done = cli("migrate", *args)
        assert done.returncode == 1
        assert "other satupintu processes" in done.stderr
    finally:
        server.close()
    done = cli("migrate", *args)
    assert done.returncode == 0, done.stderr


def test_a_fresh_store_starts_at_the_current_version_and_check_creates_nothing(tmp_path, config):
    data = tmp_path / "var"
    done = cli("migrate", "--check", "--config", "config.toml", "--data-dir", str(data))
    assert done.returncode == 0, done.stderr
    assert "no data yet" in done.stdout
    assert not (data / "satupintu.db").exists()
    store = make_store(config, data)
    assert store.schema_version() == migrations.CURRENT
    store.close()


@pytest.mark.slow
def test_serve_upgrades_the_v1_folder_on_start_and_serves_its_tickets(tmp_path, request):
    from tests.serverproc import ServerProcess

    config_path, data = office(tmp_path, "sqlite", request)
    server = ServerProcess(tmp_path / "run", config_path=config_path, data_dir=data)
    server.start()
    try:
        log = server.log()
        for step in migrations.STEPS:  # every step, logged with its time
            assert f"schema upgrade {step.version - 1} -> {step.version}: {step.description}" in log
            assert f"schema upgrade {step.version - 1} -> {step.version} done in" in log
        for want in EXPECTED["sqlite"]["tickets"]:
            r = requests.get(f"{server.url}/api/v1/tickets/{want['id']}", timeout=10)
            assert r.status_code == 200, r.text
            got = r.json()
            assert got["number"] == want["number"]
            # The fixture's day is long over: what was still open then has expired since.
            assert got["status"] == want["status"] or (
                want["status"] in ("waiting", "called", "serving", "parked")
                and got["status"] == "expired"
            ), (want, got)
        ready = requests.get(f"{server.url}/readyz", timeout=10).json()
        assert ready["checks"]["schema"]["version"] == migrations.CURRENT
    finally:
        server.stop()
    db = sqlite3.connect(data / "satupintu.db")
    assert db.execute("PRAGMA user_version").fetchone()[0] == migrations.CURRENT
    db.close()


@pytest.mark.slow
def test_a_running_serve_holds_its_folder_against_a_second_serve_and_migrate(tmp_path):
    from tests.serverproc import ServerProcess

    server = ServerProcess(tmp_path / "office")
    server.start()
    try:
        second = server.cli("serve", "--port", "1")
        assert second.returncode == 1
        assert f"in use by pid {server.proc.pid}" in second.stderr  # type: ignore[union-attr]
        assert f"satupintu serve on 127.0.0.1:{server.port}" in second.stderr
        assert "Traceback" not in second.stderr
        assert server.cli("migrate").returncode == 1
        assert server.cli("migrate", "--check").returncode == 0  # reading is fine
        assert server.cli("backup", str(tmp_path / "b.db")).returncode == 0  # so is a backup
        assert requests.get(server.url + "/healthz", timeout=10).ok  # the first one serves on
    finally:
        server.stop()
    assert server.cli("migrate").returncode == 0  # positive control: the folder is free again


def test_a_failing_step_under_serve_says_where_the_data_stands(tmp_path, request, monkeypatch):
    from satupintu.cli import Failure
    from satupintu.opscli import upgrade_schema

    config_path, data = office(tmp_path, "sqlite", request)
    store = make_store(load_config(config_path), data)
    monkeypatch.setattr(migrations, "CURRENT", len(migrations.STEPS) + 2)
    monkeypatch.setattr(
        migrations,
        "STEPS",
        [*migrations.STEPS, add_column_step(len(migrations.STEPS) + 2, fail=True)],
    )
    with pytest.raises(Failure) as failed:
        upgrade_schema(store)
    assert failed.value.code == 1
    message = str(failed.value)
    assert "schema upgrade failed: RuntimeError: step failed half-way" in message
    assert f"schema version {migrations.CURRENT - 1}" in message  # the steps before it ran
    assert store.schema_version() == migrations.CURRENT - 1
    store.close()
