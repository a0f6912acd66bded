"""The `satupintu` command: serve, check-config, users.

Exit codes: 0 done; 1 the store or server failed; 2 wrong config or input.
Messages are in English, like the config errors and rule texts they relay
(the operator's tool; the pages are Indonesian first). See the README.
Only the standard library is imported at module level: `serve` in gevent
mode must monkey-patch before anything else (sockets, threads, redis) loads.
"""

from __future__ import annotations

import argparse
import getpass
import os
import sys
import tomllib
from types import ModuleType
from typing import Any

from .command import Failure, load_config_or_fail, open_store_or_fail, store_failure

DEFAULT_CONFIG = "config.toml"
DEFAULT_DATA_DIR = "var"
ROLES = ("kiosk", "clerk", "manager")

PAGES = (
    ("Kiosk (take a number)", "/kiosk"),
    ("Hall display", "/display"),
    ("Counter (clerks)", "/counter"),
    ("Manager", "/manager"),
    ("Ticket (citizen's phone)", "/t/<id>"),
    ("API documentation", "/api/v1/docs"),
)
# Async modes and the library each needs (checked by check-config and before serving).
ASYNC_LIBRARIES = {"gevent": "gevent", "eventlet": "eventlet", "threading": None}


def role_commands() -> list[ModuleType]:
    """The role packages' command-line parts, registered here as create_app registers their
    blueprints: each has register(subparsers) and check_config(config).
    """
    import printer.cli  # `satupintu printer agent|test`; checks the kiosk printers

    return [printer.cli]


# --- arguments -----------------------------------------------------------------


def build_parser() -> argparse.ArgumentParser:
    """The argument parser of every sub-command."""
    parser = argparse.ArgumentParser(
        prog="satupintu",
        description="Queue and tickets for public service offices (antrean satu pintu).",
    )
    parser.add_argument("--version", action="version", version=f"satupintu {_version()}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)

    where = argparse.ArgumentParser(add_help=False)
    where.add_argument(
        "--config",
        default=DEFAULT_CONFIG,
        metavar="PATH",
        help=f"config file (default: {DEFAULT_CONFIG})",
    )
    where.add_argument(
        "--data-dir",
        default=DEFAULT_DATA_DIR,
        metavar="DIR",
        help=f"data folder for the SQLite file (default: {DEFAULT_DATA_DIR})",
    )

    serve = sub.add_parser("serve", parents=[where], help="run the server")
    serve.add_argument("--host", default="127.0.0.1", help="address to listen on")
    serve.add_argument("--port", type=int, default=8080, help="port to listen on")
    serve.set_defaults(func=cmd_serve)

    check = sub.add_parser("check-config", help="check a config file and summarise it")
    check.add_argument("path", nargs="?", default=None, metavar="PATH")
    check.add_argument("--config", default=DEFAULT_CONFIG, help=argparse.SUPPRESS)
    check.set_defaults(func=cmd_check_config)

    users = sub.add_parser("users", help="add, list or remove staff accounts")
    users_sub = users.add_subparsers(dest="users_command", metavar="ACTION", required=True)
    add = users_sub.add_parser("add", parents=[where], help="add a user")
    add.add_argument("name")
    add.add_argument("--role", required=True, choices=ROLES)
    add.add_argument(
        "--kiosk",
        metavar="ID",
        default="",
        help="with --role kiosk: the [[kiosks]] id of this device, so its "
        "printer prints the tickets it issues (e.g. K1)",
    )
    add.add_argument(
        "--replace", action="store_true", help="reset the role and password of an existing user"
    )
    add.add_argument(
        "--password-stdin",
        action="store_true",
        help="read the password from the first line of stdin",
    )
    add.set_defaults(func=cmd_users_add)
    lst = users_sub.add_parser("list", parents=[where], help="list users")
    lst.set_defaults(func=cmd_users_list)
    rm = users_sub.add_parser("remove", parents=[where], help="remove a user")
    rm.add_argument("name")
    rm.set_defaults(func=cmd_users_remove)
    from .opscli import register as register_ops  # migrate, backup, restore, install-service

    register_ops(sub, where)
    for commands in role_commands():
        commands.register(sub)
    return parser


def main(argv: list[str] | None = None) -> int:
    """Entry point of the `satupintu` command."""
    args = build_parser().parse_args(sys.argv[1:] if argv is None else argv)
    # Every file satupintu makes (data, lock, metrics, backups) is the service user's only.
    os.umask(0o077)
    try:
        if args.command == "serve":
            _patch_for_async_mode(args.config)
        return int(args.func(args) or 0)
    except Failure as exc:
        print(f"satupintu: {exc}", file=sys.stderr)
        return exc.code
    except KeyboardInterrupt:
        return 130


# --- helpers -------------------------------------------------------------------


def _raw_async_mode(config_path: str) -> str:
    """The async mode the config asks for, read without importing satupintu."""
    mode = os.environ.get("SATUPINTU_SERVER_ASYNC_MODE")
    if mode:
        return mode
    try:
        with open(config_path, "rb") as fh:
            raw = tomllib.load(fh)
    except (OSError, tomllib.TOMLDecodeError):
        return "gevent"  # the real load reports the problem
    server = raw.get("server")
    return str(server.get("async_mode", "gevent")) if isinstance(server, dict) else "gevent"


def _version() -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("satupintu")
    except PackageNotFoundError:
        return "unknown (not installed)"


def async_library_problem(mode: str) -> str:
    """Why the library of async mode `mode` cannot be used here, or "" if it can."""
    library = ASYNC_LIBRARIES.get(mode)
    if library is None:
        return ""
    try:
        __import__(library)
    except ImportError as exc:
        return (
            f"server.async_mode = {mode!r} needs the {library} package, which cannot be "
            f"imported ({exc}); install it (pip install {library}) or choose another "
            f"mode ({', '.join(ASYNC_LIBRARIES)})"
        )
    return ""


def _patch_for_async_mode(config_path: str) -> None:
    """Monkey-patch for gevent/eventlet before sockets, threads or redis are imported."""
    mode = _raw_async_mode(config_path)
    if mode not in ASYNC_LIBRARIES:
        return  # the config check names the key
    problem = async_library_problem(mode)
    if problem:
        raise Failure(problem, 2)
    if mode == "gevent":
        from gevent import monkey

        monkey.patch_all()
    elif mode == "eventlet":
        import eventlet

        eventlet.monkey_patch()


def _load(path: str) -> Any:
    return load_config_or_fail(path, [commands.check_config for commands in role_commands()])


def _base_url(host: str, port: int) -> str:
    shown = "127.0.0.1" if host in ("", "0.0.0.0") else "[::1]" if host == "::" else host
    if ":" in shown and not shown.startswith("["):
        shown = f"[{shown}]"
    return f"http://{shown}:{port}"


def _program() -> str:
    """How this command was started, so the hints can be pasted as they are."""
    if os.path.basename(sys.argv[0]) == "satupintu":
        return sys.argv[0]
    return f"{os.path.basename(sys.executable)} -m satupintu"


def _where_args(args: argparse.Namespace) -> str:
    parts = []
    if args.config != DEFAULT_CONFIG:
        parts.append(f"--config {args.config}")
    if args.data_dir != DEFAULT_DATA_DIR:
        parts.append(f"--data-dir {args.data_dir}")
    return (" " + " ".join(parts)) if parts else ""


# --- serve ---------------------------------------------------------------------


def cmd_serve(args: argparse.Namespace) -> int:
    """Check the config and store, print the pages' URLs, then serve."""
    from . import server

    config = _load(args.config)
    mode = config.server.async_mode
    if mode == "eventlet":
        print(
            "WARNING: async_mode eventlet is deprecated upstream; use gevent or threading.",
            file=sys.stderr,
            flush=True,
        )
    problem = async_library_problem(mode)
    if problem:
        raise Failure(problem, 2)
    check_port(args.host, args.port)  # before anything is printed as if it were serving
    os.makedirs(args.data_dir, mode=0o700, exist_ok=True)
    from .opscli import hold_data_dir, upgrade_schema

    # Held until this process exits (gunicorn's worker inherits it): one server per folder.
    lock = hold_data_dir(config, args.data_dir, f"satupintu serve on {args.host}:{args.port}")
    store = open_store_or_fail(config, args.data_dir)
    try:
        upgrade_schema(store)  # an older data folder or Redis is upgraded in place, logged
        managers = [u for u in store.users() if u.role == "manager"]
    except Failure:
        raise
    except Exception as exc:  # noqa: BLE001
        raise Failure(store_failure(config, exc), 1) from None
    finally:
        store.close()  # the serving process opens its own; nothing crosses a fork

    _print_banner(args, config, bool(managers))
    from .metrics_dir import use_metrics_dir

    use_metrics_dir(config, args.data_dir)  # before the app (and prometheus_client) loads
    options = server.ServeOptions(args.config, args.data_dir, args.host, args.port)
    try:
        if mode == "eventlet":
            return server.serve_eventlet(options)
        worker = "gevent" if mode == "gevent" else "gthread"
        return server.serve_gunicorn(
            options,
            worker,
            config.server.threads,
            config.server.max_sockets,
            config.server.trusted_proxies,
        )
    finally:
        if lock is not None:
            lock.release()


def _print_banner(args: argparse.Namespace, config: Any, has_manager: bool) -> None:
    base = _base_url(args.host, args.port)
    store = (
        config.store.url
        if config.store.backend == "redis"
        else os.path.join(args.data_dir, config.store.path)
    )
    server = {
        "threading": f"gunicorn gthread, {config.server.threads} threads",
        "gevent": f"gunicorn gevent, at most {config.server.max_sockets} websockets",
        "eventlet": "eventlet",
    }[config.server.async_mode]
    lines = [
        f"satupintu: {config.office.name} (branch {config.office.branch})",
        f"  store: {config.store.backend} {store}",
        f"  server: {config.server.async_mode} ({server}) on {args.host}:{args.port}",
        "",
    ]
    width = max(len(label) for label, _ in PAGES)
    lines += [f"  {label:<{width}}  {base}{path}" for label, path in PAGES]
    if not has_manager:
        lines += [
            "",
            "No manager user yet. Add one with:",
            f"  {_program()} users add admin --role manager{_where_args(args)}",
        ]
    print("\n".join(lines), flush=True)


def check_port(host: str, port: int) -> None:
    """Fail with a clear message if `host:port` cannot be listened on (in use, not allowed)."""
    import errno
    import socket

    try:
        infos = socket.getaddrinfo(
            host or None, port, type=socket.SOCK_STREAM, flags=socket.AI_PASSIVE
        )
    except socket.gaierror as exc:
        raise Failure(f"cannot listen on {host}:{port}: {exc.strerror}", 2) from None
    family, kind, proto, _, address = infos[0]
    with socket.socket(family, kind, proto) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # as gunicorn does
        try:
            probe.bind(address)
        except OSError as exc:
            reasons: dict[int | None, str] = {
                errno.EADDRINUSE: "the port is in use (another satupintu serve, or another "
                "program: `ss -ltnp` shows which)",
                errno.EACCES: "not allowed (ports below 1024 need root; use e.g. 8080 "
                "behind nginx)",
                errno.EADDRNOTAVAIL: "this machine has no such address",
            }
            why = reasons.get(exc.errno, exc.strerror or str(exc))
            raise Failure(f"cannot listen on {host}:{port}: {why}", 1) from None


# --- check-config ----------------------------------------------------------------


def cmd_check_config(args: argparse.Namespace) -> int:
    """Print OK and a summary of the config (or city), or the error naming the key."""
    from .city import is_city

    path = args.path or args.config
    if is_city(path):
        return _check_city(path)
    config = _load(path)
    store = config.store.url if config.store.backend == "redis" else config.store.path
    services = ", ".join(f"{s.prefix}={s.id}" for s in config.services)
    problem = async_library_problem(config.server.async_mode)
    if problem:
        raise Failure(f"{config.path}: {problem}", 2)
    print(f"OK: {config.path}")
    print(
        f"  office: {config.office.name} (branch {config.office.branch}, {config.office.timezone})"
    )
    print(f"  store: {config.store.backend} {store}")
    print(f"  server: {config.server.async_mode}, {config.server.threads} threads")
    print(f"  routing: {config.routing.policy}")
    print(f"  services ({len(config.services)}): {services}")
    print(f"  counters ({len(config.counters)}): {', '.join(c.id for c in config.counters)}")
    print(f"  kiosks ({len(config.kiosks)}): {', '.join(k.id for k in config.kiosks) or '-'}")
    return 0


def _check_city(path: str) -> int:
    """Print OK and a summary of a city folder or city file (offices, services)."""
    from .city import load_city
    from .config import ConfigError

    try:
        city = load_city(path)
    except ConfigError as exc:
        raise Failure(f"config error: {exc}", 2) from None
    levels = ", ".join(f"{n} {level}" for level, n in city.levels.items())
    print(f"OK: {city.path}")
    print(f"  city: {city.name} ({city.timezone})")
    print(f"  offices ({len(city.offices)}): {levels}")
    for office in city.offices[:20]:
        print(
            f"    {office.id}: {office.name} [{office.level}] offers {len(office.offers)}, "
            f"takes in {len(office.takes_in)}, counters {len(office.counters)}, "
            f"kiosks {len(office.kiosks)}"
        )
    if len(city.offices) > 20:
        print(f"    ... and {len(city.offices) - 20} more")
    print(f"  services ({len(city.services)}):")
    for service in city.services:
        taking = sum(service.id in o.takes_in for o in city.offices)
        print(
            f"    {service.service.prefix}={service.id}: decided by "
            f"{len(service.competent)} office(s), taken in by {taking}"
        )
    return 0


# --- users -------------------------------------------------------------------------


def _read_password(from_stdin: bool, username: str) -> str:
    """The new password, from stdin or asked twice; its rules checked before the repeat."""
    from .errors import QueueError
    from .users import check_password

    if from_stdin:
        line = sys.stdin.readline()
        return line[:-1] if line.endswith("\n") else line
    first = getpass.getpass("Password: ")
    try:
        check_password(first, username)  # say so now, not after typing it twice
    except QueueError as exc:
        raise Failure(exc.message, 2) from None
    second = getpass.getpass("Repeat the password: ")
    if first != second:
        raise Failure("the passwords do not match", 2)
    return first


def _users_call(
    args: argparse.Namespace,
    action: str,
    *extra: Any,
    reraise: tuple[type[Exception], ...] = (),
    with_kiosks: bool = False,
    **options: Any,
) -> Any:
    """Run users.<action>(store, *extra, **options) against the configured store."""
    from . import users
    from .errors import QueueError

    config = _load(args.config)
    if with_kiosks:  # a kiosk binding must name one of config.toml's kiosks
        options["kiosks"] = tuple(k.id for k in config.kiosks)
    store = open_store_or_fail(config, args.data_dir)
    try:
        return getattr(users, action)(store, *extra, **options)
    except reraise:
        raise
    except QueueError as exc:
        field = exc.details.get("field")
        raise Failure(f"{field}: {exc.message}" if field else exc.message, 2) from None
    except ValueError as exc:
        raise Failure(str(exc), 2) from None
    finally:
        store.close()


def cmd_users_add(args: argparse.Namespace) -> int:
    """Add (or replace) a staff account."""
    from .errors import UserExists

    password = _read_password(args.password_stdin, args.name)
    try:
        _users_call(
            args,
            "add_user",
            args.name,
            args.role,
            password,
            replace=args.replace,
            kiosk=args.kiosk,
            reraise=(UserExists,),
            with_kiosks=True,
        )
    except UserExists:
        raise Failure(
            f"user {args.name!r} already exists; add --replace to reset its role and password", 2
        ) from None
    bound = f", kiosk {args.kiosk}" if args.kiosk else ""
    print(f"User {args.name} ({args.role}{bound}) saved.")
    return 0


def cmd_users_list(args: argparse.Namespace) -> int:
    """List staff accounts: name, role, created."""
    from datetime import datetime

    found = _users_call(args, "list_users")
    if not found:
        print("No users yet.")
        return 0
    width = max(len(u.username) for u in found)
    for u in found:
        created = datetime.fromtimestamp(u.created_at).strftime("%Y-%m-%d %H:%M")
        bound = f"  kiosk {u.kiosk}" if u.kiosk else ""
        print(f"{u.username:<{width}}  {u.role:<7}  {created}{bound}")
    return 0


def cmd_users_remove(args: argparse.Namespace) -> int:
    """Remove a staff account."""
    _users_call(args, "remove_user", args.name)
    print(f"User {args.name} removed.")
    return 0
