"""Production servers for `satupintu serve`: gunicorn (gevent or gthread), eventlet.

The app is always built inside the serving process (never before a fork), so
no SQLite connection or Redis pool is shared between processes.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

# Seconds a stopping server gives open requests; websockets reconnect anyway.
GRACEFUL_TIMEOUT = 3
# Connections the gevent worker keeps for HTTP beyond the websocket cap.
HTTP_HEADROOM = 1_000


@dataclass(frozen=True)
class ServeOptions:
    """Where and how to serve."""

    config_path: str
    data_dir: str
    host: str
    port: int


def build_app(options: ServeOptions) -> Any:
    """Load the config and build the WSGI app (called in the serving process)."""
    from . import logs
    from .config import load_config

    config = load_config(options.config_path)
    logs.configure(config.log.level, config.log.format)
    from .app import create_app

    return create_app(config, Path(options.data_dir))


def bind_address(host: str, port: int) -> str:
    """gunicorn's bind string; IPv6 literals need brackets."""
    if ":" in host and not host.startswith("["):
        host = f"[{host}]"
    return f"{host}:{port}"


def serve_gunicorn(
    options: ServeOptions,
    worker_class: str,
    threads: int,
    max_sockets: int = 10_000,
    trusted_proxies: tuple[str, ...] = ("127.0.0.1", "::1"),
) -> int:
    """Serve with gunicorn, one worker, the app built inside it (no preload).

    `gevent` (default): a greenlet per connection, so idle websockets cost no
    thread; the caller has already monkey-patched (cli.main). `gthread`:
    `threads` threads, one per open websocket.
    """
    from gunicorn.app.base import BaseApplication

    settings: dict[str, Any] = {
        "bind": bind_address(options.host, options.port),
        "workers": 1,  # Socket.IO keeps per-client state in the process: one worker
        "worker_class": worker_class,
        "threads": threads,
        # gevent: the most open connections; above the websocket cap (refused
        # by sockets.SocketLimits) with room for the kiosks' and counters' HTTP.
        "worker_connections": max_sockets + HTTP_HEADROOM,
        "preload_app": False,
        "graceful_timeout": GRACEFUL_TIMEOUT,
        "timeout": 30,
        "keepalive": 5,
        "accesslog": None,
        "errorlog": "-",
        "loglevel": "info",
        "proc_name": f"satupintu:{options.port}",
        # The control socket defaults to one path per user: two servers would collide.
        "control_socket_disable": True,
        # gunicorn believes X-Forwarded-Proto from the same proxies the app does
        # ([server] trusted_proxies, proxy.TrustedProxy), and from nobody else.
        "forwarded_allow_ips": ",".join(trusted_proxies),
        "child_exit": _worker_exited,
    }

    class Application(BaseApplication):  # type: ignore[misc]
        def load_config(self) -> None:
            for key, value in settings.items():
                self.cfg.set(key, value)

        def load(self) -> Callable[..., Any]:
            return build_app(options)

    Application().run()
    return 0


def _worker_exited(server: Any, worker: Any) -> None:
    """Drop a dead worker's live gauges (its socket counts) from the shared metrics files."""
    import os

    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        from prometheus_client import multiprocess

        multiprocess.mark_process_dead(worker.pid)


def serve_eventlet(options: ServeOptions) -> int:
    """Serve with eventlet through Flask-SocketIO (opt-in; eventlet is deprecated upstream)."""
    from .app import socketio

    app = build_app(options)
    socketio.run(app, host=options.host, port=options.port, log_output=False)
    return 0
