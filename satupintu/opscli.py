"""Operations sub-commands of `satupintu`: migrate, backup, restore; serve's start-up checks.

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
        "migrate", parents=[where], help="upgrade the data folder or Redis to this release's schema"
    )
    migrate.add_argument(
        "--check", action="store_true", help="only say what would be done; change nothing"
    )
    migrate.set_defaults(func=cmd_migrate)

    backup = sub.add_parser(
        "backup",
        parents=[where],
        help="copy the running office's data to PATH (a file, or a folder for a dated file)",
    )
    backup.add_argument("path", metavar="PATH")
    backup.set_defaults(func=cmd_backup)

    restore = sub.add_parser(
        "restore",
        parents=[where],
        help="restore a backup into an empty data folder (SQLite) or an empty Redis",
    )
    restore.add_argument("path", metavar="PATH")
    restore.set_defaults(func=cmd_restore)

    from .service import ServiceOptions

    d = ServiceOptions()
    install = sub.add_parser(
        "install-service",
        help="write the systemd units (server, Redis template, daily backup timer)",
    )
    install.add_argument(
        "--output",
        default="/etc/systemd/system",
        metavar="DIR",
        help="where to write the units (default: /etc/systemd/system)",
    )
    install.add_argument(
        "--user",
        default=d.user,
        help=f"the unprivileged account the server runs as (default: {d.user})",
    )
    install.add_argument(
        "--create-user",
        action="store_true",
        help="create that account (a system user without login) if missing",
    )
    install.add_argument(
        "--exec",
        dest="exec_path",
        default=None,
        metavar="PATH",
        help="the satupintu command (default: the one running now)",
    )
    install.add_argument("--config", default=d.config, metavar="PATH")
    install.add_argument("--data-dir", default=d.data_dir, metavar="DIR")
    install.add_argument("--host", default=d.host)
    install.add_argument("--port", type=int, default=d.port)
    install.add_argument("--backup-dir", default=d.backup_dir, metavar="DIR")
    install.set_defaults(func=cmd_install_service)


def hold_data_dir(config: Any, data_dir: str, purpose: str) -> Any:
    """Lock a SQLite data folder for this process (None on Redis); Failure if held."""
    from .command import Failure
    from .datalock import DataDirLock, FolderHeld

    if config.store.backend != "sqlite":
        return None
    try:
        return DataDirLock(data_dir, purpose).acquire()
    except FolderHeld as exc:
        raise Failure(
            f"{exc}: SQLite is served by one process; stop it first (or use another --data-dir)", 1
        ) from None


def refuse_other_redis_clients(store: Any) -> None:
    """Failure if other satupintu processes are connected to the Redis store."""
    from .command import Failure

    if store.name != "redis":
        return
    try:
        others = store.other_clients()
    except Exception as exc:  # noqa: BLE001 - CLIENT LIST disabled on some managed Redis
        print(
            f"satupintu: cannot list Redis clients ({exc}); make sure every "
            "satupintu serve is stopped",
            file=sys.stderr,
        )
        return
    if others:
        raise Failure(
            f"{store.location()} is in use by {', '.join(others)} (other satupintu "
            "processes): stop every satupintu serve first",
            1,
        )


def upgrade_schema(store: Any, check: bool = False) -> int:
    """Print the schema plan; upgrade unless `check`. Failure on a newer schema."""
    from .command import Failure
    from .store import migrations

    plan = migrations.plan(store)
    for line in plan.describe():
        print(line, flush=True)
    if plan.newer:
        raise Failure(f"refusing to use it: {plan.describe()[0]}", 1)
    if check or plan.current:
        return 0
    refuse_other_redis_clients(store)  # never upgrade under a running (older) server
    try:
        migrations.upgrade(store, say=lambda line: print(line, flush=True))
    except migrations.SchemaError as exc:
        raise Failure(str(exc), 1) from None
    except Exception as exc:  # noqa: BLE001 - a failed step: say where the data stands
        raise Failure(
            f"schema upgrade failed: {type(exc).__name__}: {exc}; the failed step "
            f"wrote nothing and the data is at schema version "
            f"{store.schema_version()} (restore a backup or report the bug)",
            1,
        ) from None
    print(f"schema version {migrations.CURRENT}: up to date", flush=True)
    return 0


def _sqlite_file(config: Any, args: argparse.Namespace) -> Any:
    from pathlib import Path

    path = Path(config.store.path)
    return path if path.is_absolute() else Path(args.data_dir) / path


def cmd_migrate(args: argparse.Namespace) -> int:
    """Upgrade the store's schema in place (or, with --check, say what would happen)."""
    from .command import load_config_or_fail, open_store_or_fail

    config = load_config_or_fail(args.config)
    if args.check and config.store.backend == "sqlite" and not _sqlite_file(config, args).exists():
        from .store import migrations

        print(
            f"sqlite {_sqlite_file(config, args)}: no data yet; satupintu serve will create "
            f"it at schema version {migrations.CURRENT}"
        )
        return 0
    lock = None if args.check else hold_data_dir(config, args.data_dir, "satupintu migrate")
    store = open_store_or_fail(config, args.data_dir)
    try:
        if not args.check:
            refuse_other_redis_clients(store)
        return upgrade_schema(store, check=args.check)
    finally:
        store.close()
        if lock is not None:
            lock.release()


def cmd_backup(args: argparse.Namespace) -> int:
    """Back up the office while it runs (no downtime)."""
    from .backup import BackupError, backup
    from .command import Failure, load_config_or_fail, open_store_or_fail

    config = load_config_or_fail(args.config)
    if config.store.backend == "sqlite" and not _sqlite_file(config, args).exists():
        raise Failure(f"{_sqlite_file(config, args)}: no data to back up (wrong --data-dir?)", 2)
    store = open_store_or_fail(config, args.data_dir)
    try:
        summary = backup(store, args.path)
    except (BackupError, OSError) as exc:
        raise Failure(f"backup failed: {exc}", 1) from None
    finally:
        store.close()
    print(summary.line())
    return 0


def cmd_restore(args: argparse.Namespace) -> int:
    """Restore a backup into an empty data folder or an empty Redis; refuse anything else."""
    from pathlib import Path

    from . import backup
    from .command import Failure, load_config_or_fail
    from .store import migrations

    config = load_config_or_fail(args.config)
    try:
        version = backup.check_restorable(args.path, config.store.backend)
        if config.store.backend == "sqlite":
            data = Path(args.data_dir)
            if not backup.data_dir_is_empty(data):
                raise backup.BackupError(
                    f"{data} is not empty: restore only into an empty data folder "
                    "(move the old one aside first)"
                )
            lock = hold_data_dir(config, args.data_dir, "satupintu restore")
            try:
                detail = backup.restore_sqlite(args.path, _sqlite_file(config, args))
            finally:
                lock.release()
        else:
            detail = backup.restore_redis(args.path, config.store.url, config.office.branch)
    except backup.StoreUnreachable as exc:
        raise Failure(f"restore failed: {exc}", 1) from None
    except backup.BackupError as exc:
        raise Failure(f"restore refused: {exc}", 2) from None
    print(f"restored {detail} (schema version {version})")
    if version < migrations.CURRENT:
        print(f"satupintu serve will upgrade it to schema version {migrations.CURRENT} on start")
    return 0


def _this_command() -> str:
    import os
    import shutil

    here = os.path.join(os.path.dirname(sys.executable), "satupintu")
    return here if os.path.exists(here) else (shutil.which("satupintu") or here)


def cmd_install_service(args: argparse.Namespace) -> int:
    """Write the systemd units for this machine and say what to run next."""
    import os
    import pwd
    import subprocess
    from pathlib import Path

    from .command import Failure
    from .service import ServiceOptions, units

    exec_path = os.path.abspath(args.exec_path or _this_command())
    if not os.access(exec_path, os.X_OK):
        raise Failure(f"--exec {exec_path}: not an executable satupintu command", 2)
    for name, value in (
        ("--config", args.config),
        ("--data-dir", args.data_dir),
        ("--backup-dir", args.backup_dir),
    ):
        if not os.path.isabs(value):
            raise Failure(
                f"{name} {value}: must be an absolute path (a service has no "
                "working folder of yours)",
                2,
            )
    if args.user == "root":
        raise Failure("--user root: the server must run as its own unprivileged user", 2)
    try:
        account = pwd.getpwnam(args.user)
    except KeyError:
        account = None
    if account is None and args.create_user:
        done = subprocess.run(
            [
                "useradd",
                "--system",
                "--home-dir",
                args.data_dir,
                "--no-create-home",
                "--shell",
                "/usr/sbin/nologin",
                args.user,
            ],
            capture_output=True,
            text=True,
        )
        if done.returncode != 0:
            raise Failure(f"useradd {args.user} failed: {done.stderr.strip()}", 1)
        account = pwd.getpwnam(args.user)
    if account is not None and account.pw_uid == 0:
        raise Failure(f"--user {args.user}: has uid 0; use an unprivileged account", 2)
    options = ServiceOptions(
        exec_path=exec_path,
        user=args.user,
        config=args.config,
        data_dir=args.data_dir,
        host=args.host,
        port=args.port,
        backup_dir=args.backup_dir,
    )
    out = Path(args.output)
    try:
        out.mkdir(parents=True, exist_ok=True)
        for name, text in units(options).items():
            (out / name).write_text(text, encoding="utf-8")
            print(f"wrote {out / name}")
    except OSError as exc:
        raise Failure(f"cannot write the units to {out}: {exc}", 1) from None
    if account is None:
        print(
            f"\nthe account {args.user!r} does not exist yet: rerun with --create-user, or "
            f"useradd --system --shell /usr/sbin/nologin {args.user}"
        )
    print(f"""
next (as root):
  systemctl daemon-reload
  systemctl enable --now satupintu.service satupintu-backup.timer       # SQLite office
  # or, Redis behind nginx: systemctl enable --now satupintu@8081 satupintu@8082
  journalctl -u satupintu -f                                            # its log
config: {args.config} (readable by {args.user}); data: {args.data_dir} (made 0700 by systemd)""")
    return 0
