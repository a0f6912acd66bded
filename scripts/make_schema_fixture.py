"""Build the committed schema-v1 fixture: a data folder and a Redis made by release code.

Run ONCE with the code of the release whose layout is "schema version 1"
(main at commit 66d367a, before schema versions existed):

    git worktree add /tmp/old 66d367a
    cd /tmp/old && python scripts/make_schema_fixture.py --out /path/to/tests/fixtures/schema_v1

It writes, on both stores, with a clock fixed at 2025-12-02 09:00 Asia/Jakarta:
tickets in every state (waiting, priority, called, serving, done, no-show,
parked, transferred, cancelled), open counters, users with known passwords,
catalogue overrides (an edited and an added service), print jobs and printer
statuses; then

    satupintu.db    the SQLite data file (checkpointed, no WAL beside it)
    redis.json      every Redis key: type, value and TTL (portable across Redis versions)
    config.toml     the config the data was made with
    expected.json   what tests/satupintu/test_schema.py checks after upgrading

Never rerun it with newer code: the point is that the fixture is what the old
release wrote.
"""

from __future__ import annotations

import argparse
import json
import shutil
import sqlite3
import sys
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

# printer/jobs.py is the old release's (gone since print jobs joined the Store contract):
# this script only runs in a checkout of that release, see above.
from printer.jobs import Job, JobState, make_jobs  # noqa: E402, I001
from printer.status import PrinterState, PrinterStatus  # noqa: E402
from satupintu.config import load_config  # noqa: E402
from satupintu.engine import Engine  # noqa: E402
from satupintu.users import add_user  # noqa: E402

NOW = 1_764_640_800.0  # 2025-12-02 09:00 Asia/Jakarta
PASSWORDS = {"admin": "fixture-manager-1", "loket1": "fixture-clerk-1", "k1": "fixture-kiosk-1"}
ROLES = {"admin": "manager", "loket1": "clerk", "k1": "kiosk"}


class Clock:
    def __init__(self) -> None:
        self.now = NOW

    def __call__(self) -> float:
        self.now += 7.0  # every operation a few seconds after the last
        return self.now


def fill(store: Any, config: Any) -> dict[str, Any]:
    """Write the same office day into `store`; return what must survive."""
    engine = Engine(config, store, clock=Clock())
    for name, password in PASSWORDS.items():
        add_user(store, name, ROLES[name], password)
    store.secret("flask_secret_key", "fixture-secret-" + "0" * 48)
    engine.update_service("ktp", {"daily_quota": 250, "standard": {"fee": "Rp0 (gratis)"}})
    engine.add_service(
        {
            "id": "paspor",
            "prefix": "P",
            "name": {"id": "Paspor", "en": "Passport"},
            "colour": "#1565C0",
            "target_wait_min": 20,
            "service_time_min": 12,
        }
    )

    issued = [
        engine.issue(s, priority=p, kiosk="K1").ticket
        for s, p in [
            ("ktp", ""),
            ("ktp", ""),
            ("kk", ""),
            ("ktp", "lansia"),
            ("akta", ""),
            ("kk", ""),
            ("ktp", ""),
            ("nib", ""),
            ("pbb", "disabilitas"),
            ("info", ""),
            ("ktp", ""),
            ("kk", ""),
            ("akta", ""),
            ("ktp", ""),
            ("kk", ""),
        ]
    ]
    for counter, clerk in (("1", "loket1"), ("2", "loket1"), ("3", "admin"), ("4", "admin")):
        engine.open_counter(counter, clerk)
    engine.call_next("1")
    engine.start("1")
    engine.complete("1")  # noqa: E702
    engine.call_next("1")
    engine.no_show("1")  # noqa: E702
    engine.call_next("2")
    engine.park("2")  # noqa: E702
    engine.call_next("2")
    engine.start("2")
    engine.transfer("2", "kk")  # noqa: E702
    engine.call_next("3")
    engine.start("3")  # noqa: E702  # serving at counter 3
    engine.call_next("4")  # called at counter 4
    engine.cancel(issued[-1].id)

    jobs = make_jobs(store, config.office.branch)
    made_jobs = []
    for i, (ticket, state) in enumerate(
        zip(
            issued[:4],
            [JobState.PRINTED, JobState.FAILED, JobState.PENDING, JobState.PENDING],
            strict=True,
        )
    ):
        job = Job(
            id=f"fixturejob{i}", kiosk="K1", ticket=ticket.id, payload="G0AbIQA=", created=NOW + i
        )
        jobs.add(job)
        if state is not JobState.PENDING:
            jobs.finish(job.id, state, "paper out" if state is JobState.FAILED else "", NOW + 60)
        made_jobs.append({"id": job.id, "ticket": ticket.id, "state": state.value})
    jobs.set_status(
        PrinterStatus(
            kiosk="K1",
            state=PrinterState.PAPER_NEAR_END,
            detail="near end",
            since=NOW,
            updated=NOW + 30,
            printer="network:10.0.0.9:9100",
            seen=NOW + 30,
        )
    )

    jobs.close()
    tickets = store.day_tickets(config.office.branch, engine.today(NOW))
    version, overrides = store.catalogue_edits(config.office.branch)
    return {
        "branch": config.office.branch,
        "day": engine.today(NOW),
        "now": NOW,
        "seq": store.seq(config.office.branch),
        "tickets": [
            {
                "id": t.id,
                "number": t.number,
                "service": t.service,
                "status": t.status.value,
                "priority": t.priority,
                "counter": t.counter,
            }
            for t in tickets
        ],
        "counters": [
            {"id": c.id, "state": c.state.value, "clerk": c.clerk, "current": c.current}
            for c in store.counters(config.office.branch)
        ],
        "users": {name: {"role": ROLES[name], "password": pw} for name, pw in PASSWORDS.items()},
        "catalogue": {"version": version, "overrides": overrides},
        "print_jobs": made_jobs,
        "printers": [{"kiosk": "K1", "state": "paper_near_end"}],
    }


def dump_redis(client: Any) -> list[dict[str, Any]]:
    """Every key as {key, type, ttl_ms, value}: a portable dump (no RDB version coupling)."""
    out = []
    for key in sorted(client.scan_iter(count=1000)):
        kind = client.type(key)
        value: Any
        if kind == "string":
            value = client.get(key)
        elif kind == "hash":
            value = client.hgetall(key)
        elif kind == "list":
            value = client.lrange(key, 0, -1)
        elif kind == "set":
            value = sorted(client.smembers(key))
        elif kind == "zset":
            value = client.zrange(key, 0, -1, withscores=True)
        else:
            raise SystemExit(f"unexpected Redis type {kind} of {key}")
        out.append({"key": key, "type": kind, "ttl_ms": client.pttl(key), "value": value})
    return out


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", required=True, type=Path)
    args = parser.parse_args()
    out: Path = args.out
    out.mkdir(parents=True, exist_ok=True)
    shutil.copy(ROOT / "config.toml", out / "config.toml")
    config = load_config(out / "config.toml")

    from satupintu.store.sqlite import SQLiteStore

    db_path = out / "satupintu.db"
    for stale in out.glob("satupintu.db*"):
        stale.unlink()
    sqlite_store = SQLiteStore(db_path)
    expected_sqlite = fill(sqlite_store, config)
    sqlite_store.close()
    with sqlite3.connect(db_path) as db:  # fold the WAL into the file: one file to commit
        db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        db.execute("PRAGMA journal_mode=DELETE")

    import redis

    from satupintu.store.redis import RedisStore
    from tests.redis_server import RedisServer

    server = RedisServer().start()
    try:
        redis_store = RedisStore(server.url)
        expected_redis = fill(redis_store, config)
        client = redis.Redis.from_url(server.url, decode_responses=True)
        (out / "redis.json").write_text(json.dumps(dump_redis(client), indent=1) + "\n")
        redis_store.close()
        client.close()
    finally:
        server.stop()
    expected = {"sqlite": expected_sqlite, "redis": expected_redis}
    (out / "expected.json").write_text(json.dumps(expected, indent=1, ensure_ascii=False) + "\n")
    print(f"wrote {out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
