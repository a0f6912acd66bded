"""How long `satupintu backup` and `restore` take for a day, and for the history kept.

    .venv/bin/python bench/bench_backup.py            # full run (a minute or two), writes the doc
    .venv/bin/python bench/bench_backup.py --quick    # seconds; smoke test, prints only

A busy office day is `--per-day` tickets (default 2,000), every one served
(issued, called, done: what a day leaves behind). Measured: the backup of one
day, and of `--days` days of history (default 40: what Redis keeps; SQLite
keeps everything, so its file grows by about one day's size a day), then the
restore of that backup into an empty folder / an empty Redis. The store is
filled through its own primitives (not timed); backup() and restore are the
functions the CLI calls.
"""

from __future__ import annotations

import itertools
import shutil
import tempfile
import time
from datetime import date, timedelta
from pathlib import Path

import benchlib
from benchlib import table

from satupintu import backup
from satupintu.model import Ticket, TicketStatus
from satupintu.store.base import Change, Store

_ids = itertools.count()


def fill_day(store: Store, config: object, day: str, n: int, now: float) -> None:
    """n served tickets on `day`, in batches of one transaction."""
    services = config.services  # type: ignore[attr-defined]
    made = 0
    while made < n:
        batch = min(500, n - made)
        with store.atomic():
            for i in range(batch):
                s = services[(made + i) % len(services)]
                draft = Ticket(
                    id=f"bk{next(_ids):010d}",
                    branch="main",
                    day=day,
                    number="",
                    service=s.id,
                    origin_service=s.id,
                    priority="",
                    status=TicketStatus.WAITING,
                    sort_key=0,
                    issued_at=now,
                )
                t = store.issue(draft, s.prefix, 0, seq_count=1).ticket
                done = t.evolve(
                    status=TicketStatus.DONE,
                    counter="1",
                    called_at=now + 60,
                    started_at=now + 70,
                    finished_at=now + 400,
                )
                store.commit("main", Change(tickets=[(t, done)], seq_count=1))
        made += batch


def open_store(kind: str, work: Path, url: str) -> Store:
    if kind == "sqlite":
        from satupintu.store.sqlite import SQLiteStore

        return SQLiteStore(work / "var" / "satupintu.db")
    from satupintu.store.redis import RedisStore

    benchlib.wipe_redis(url)
    return RedisStore(url)


def measure(kind: str, days: int, per_day: int, url: str, restore_url: str) -> dict[str, float]:
    work = Path(tempfile.mkdtemp(prefix="satupintu-bench-backup-"))
    try:
        store = open_store(kind, work, url)
        config = benchlib.bench_config()
        if kind == "redis":  # filling is not timed: skip the fsync per write meanwhile
            benchlib.set_fsync(url, "no")
        first = date(2025, 12, 2)
        for d in range(days):
            fill_day(
                store,
                config,
                (first - timedelta(days=d)).isoformat(),
                per_day,
                1_764_640_800.0 - d * 86400,
            )
        if kind == "redis":
            benchlib.set_fsync(url, "always")
        summary = backup.backup(store, f"{work}/backups/")
        [made] = list((work / "backups").iterdir())
        started = time.monotonic()
        if kind == "sqlite":
            backup.restore_sqlite(made, work / "restored" / "satupintu.db")
        else:
            benchlib.wipe_redis(restore_url)
            backup.restore_redis(made, restore_url, "main")
        restored = time.monotonic() - started
        store.close()
        busy = summary.detail.split("Redis busy ")[1].split(" ms")[0] if kind == "redis" else "-"
        return {
            "tickets": days * per_day,
            "size_mib": summary.size / 1024 / 1024,
            "busy": busy,
            "backup_s": summary.seconds,
            "restore_s": restored,
        }
    finally:
        shutil.rmtree(work, ignore_errors=True)


def main() -> None:
    p = benchlib.parser(__doc__.splitlines()[0])
    p.add_argument("--per-day", type=int, default=2000)
    p.add_argument("--days", type=int, default=40)
    args = p.parse_args()
    per_day, days = (100, 2) if args.quick else (args.per_day, args.days)
    rows = []
    with benchlib.redis_server() as server, benchlib.redis_server() as target:
        for kind in args.stores.split(","):
            for n_days in (1, days):
                r = measure(kind, n_days, per_day, server.url, target.url)
                rows.append(
                    [
                        kind,
                        n_days,
                        f"{r['tickets']:,}",
                        f"{r['size_mib']:.1f}",
                        f"{r['backup_s']:.3f}",
                        r["busy"],
                        f"{r['restore_s']:.3f}",
                    ]
                )
                print(rows[-1], flush=True)
    lines = [
        "## Backup and restore (`bench/bench_backup.py`)",
        "",
        f"A busy day is {per_day:,} served tickets. `satupintu backup` of a running office "
        "(SQLite online backup API / one atomic Redis DUMP script), then `satupintu restore` "
        "into an empty folder / Redis. The office keeps serving during a backup (tested in "
        "tests/satupintu/test_backup.py under load); on Redis, requests wait while the "
        'snapshot script runs ("Redis busy": other commands queue behind it).',
        "",
        *table(
            [
                "store",
                "days kept",
                "tickets",
                "backup size MiB",
                "backup s",
                "Redis busy ms",
                "restore s",
            ],
            rows,
        ),
        "",
        *benchlib.environment(),
    ]
    benchlib.report(args, "backup", lines)


if __name__ == "__main__":
    main()
