"""Operations sub-commands of `satupintu`: migrate (and the shared start-up checks of serve).

Imported lazily by cli.py; like cli.py, only the standard library at module
level.
"""

from __future__ import annotations

import argparse
import sys
from typing import Any


def register(sub: Any, where: argparse.ArgumentParser) -> None:
    """Add the operations sub-commands to the `satupintu` parser."""
    migrate = sub.add_parser(
        "migrate", parents=[where],
        help="upgrade the data folder or Redis to this release's schema")
    migrate.add_argument("--check", action="store_true",
                         help="only say what would be done; change nothing")
    migrate.set_defaults(func=cmd_migrate)


def hold_data_dir(config: Any, data_dir: str, purpose: str) -> Any:
    """Lock a SQLite data folder for this process (None on Redis); Failure if held."""
    from .cli import Failure
    from .datalock import DataDirLock, FolderHeld

    if config.store.backend != "sqlite":
        return None
    try:
        return DataDirLock(data_dir, purpose).acquire()
    except FolderHeld as exc:
        raise Failure(f"{exc}: SQLite is served by one process; stop it first "
                      "(or use another --data-dir)", 1) from None


def refuse_other_redis_clients(store: Any) -> None:
    """Failure if other satupintu processes are connected to the Redis store."""
    from .cli import Failure

    if store.name != "redis":
        return
    try:
        others = store.other_clients()
    except Exception as exc:  # noqa: BLE001 - CLIENT LIST disabled on some managed Redis
        print(f"satupintu: cannot list Redis clients ({exc}); make sure every "
              "satupintu serve is stopped", file=sys.stderr)
        return
    if others:
        raise Failure(f"{store.location()} is in use by {', '.join(others)} (other satupintu "
                      "processes): stop every satupintu serve first", 1)


def upgrade_schema(store: Any, check: bool = False) -> int:
    """Print the schema plan; upgrade unless `check`. Failure on a newer schema."""
    from .cli import Failure
    from .store import migrations

    plan = migrations.plan(store)
    for line in plan.describe():
        print(line, flush=True)
    if plan.newer:
        raise Failure(f"refusing to use it: {plan.describe()[0]}", 1)
    if check or plan.current:
        return 0
    try:
        migrations.upgrade(store, say=lambda line: print(line, flush=True))
    except migrations.SchemaError as exc:
        raise Failure(str(exc), 1) from None
    print(f"schema version {migrations.CURRENT}: up to date", flush=True)
    return 0


def _sqlite_file(config: Any, args: argparse.Namespace) -> Any:
    from pathlib import Path

    path = Path(config.store.path)
    return path if path.is_absolute() else Path(args.data_dir) / path


def cmd_migrate(args: argparse.Namespace) -> int:
    """Upgrade the store's schema in place (or, with --check, say what would happen)."""
    from .cli import _load, _open_store

    config = _load(args.config)
    if args.check and config.store.backend == "sqlite" and not _sqlite_file(config, args).exists():
        from .store import migrations

        print(f"sqlite {_sqlite_file(config, args)}: no data yet; satupintu serve will create "
              f"it at schema version {migrations.CURRENT}")
        return 0
    lock = None if args.check else hold_data_dir(config, args.data_dir, "satupintu migrate")
    store = _open_store(config, args.data_dir)
    try:
        if not args.check:
            refuse_other_redis_clients(store)
        return upgrade_schema(store, check=args.check)
    finally:
        store.close()
        if lock is not None:
            lock.release()
