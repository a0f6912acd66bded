"""The app factory: builds the Flask app, the store and engine once, binds Socket.IO."""

from __future__ import annotations

import os
import secrets
import time
from pathlib import Path
from typing import Any

from apiflask import APIFlask
from flask_socketio import SocketIO

from printer import init_printing

from . import current
from .api import init_api
from .config import Config, load_config
from .engine import Engine
from .fanout import BatchRedisManager
from .health import init_health
from .pages import init_pages
from .proxy import init_proxy
from .sockets import init_sockets
from .store import make_store, migrations
from .usercache import UserCache

socketio = SocketIO()


def socketio_mode(async_mode: str) -> str:
    """The Socket.IO async mode for this process: gevent only where `serve` patched for it.

    An app built without the patching (tests, a WSGI server of the operator's
    choosing) runs Socket.IO in threading mode, whose queues and background
    tasks work there; the config's mode is how `satupintu serve` serves.
    """
    if async_mode == "gevent":
        try:
            from gevent import monkey
        except ImportError:
            return "threading"
        return "gevent" if monkey.is_module_patched("threading") else "threading"
    return async_mode


def create_app(
    config: Config | None = None,
    data_dir: str | Path | None = None,
    overrides: dict[str, Any] | None = None,
) -> APIFlask:
    """Build the app for `config` (default: $SATUPINTU_CONFIG or ./config.toml)."""
    if config is None:
        config = load_config(os.environ.get("SATUPINTU_CONFIG", "config.toml"))
    data_dir = Path(data_dir or os.environ.get("SATUPINTU_DATA_DIR", "var"))
    app = APIFlask(
        __name__,
        title="satupintu",
        version="v1",
        spec_path="/api/v1/openapi.json",
        docs_path="/api/v1/docs",
    )
    store = make_store(config, data_dir)
    migrations.require_current(store)  # `satupintu serve` upgrades before it gets here
    # Tests move time by hand (closing the day, midnight): overrides={"SATUPINTU_CLOCK": fn}.
    engine = Engine(config, store, clock=(overrides or {}).get("SATUPINTU_CLOCK", time.time))
    app.config["SECRET_KEY"] = config.server.secret_key or store.secret(
        "flask_secret_key", secrets.token_hex(32)
    )
    app.config["SATUPINTU_DATA_DIR"] = str(data_dir)
    app.config["MAX_CONTENT_LENGTH"] = 64 * 1024  # no API body comes near this; 413 above
    app.config["SESSION_COOKIE_HTTPONLY"] = True
    app.config["SESSION_COOKIE_SAMESITE"] = "Lax"  # with the Origin check: no cross-site POSTs
    app.config.update(overrides or {})
    current.config.set(app, config)
    current.store.set(app, store)
    current.engine.set(app, engine)
    current.users.set(app, UserCache(store))

    init_api(app)
    init_pages(app)  # languages, the pages and the role blueprints

    # With Redis, events fan out to every server process through it; overridable (None)
    # for a single process, and for Flask-SocketIO's test client, which refuses queues.
    message_queue = app.config.get(
        "SATUPINTU_MESSAGE_QUEUE", config.store.url if config.store.backend == "redis" else None
    )
    # init_app keeps earlier options: drop a previous app's Redis manager (tests build many apps).
    socketio.server_options.pop("client_manager", None)
    socketio.server_options.pop("message_queue", None)
    queue: dict[str, Any] = {}
    if message_queue:
        # Flask-SocketIO's Redis queue on its usual channel, able to publish one
        # operation's frames for every room as one message (fanout.py).
        queue["client_manager"] = BatchRedisManager(message_queue, channel="flask-socketio")
    socketio.init_app(
        app,
        async_mode=socketio_mode(config.server.async_mode),
        cors_allowed_origins=app.config.get("SOCKETIO_CORS", None),
        **queue,
    )
    current.socket_cap.set(app, init_sockets(socketio, engine))
    init_printing(app, socketio, engine)  # print issued tickets; preview, reprint, agent
    init_health(app, engine, socketio)  # /healthz, /readyz, /metrics; access and change logs
    init_proxy(app)  # last: it wraps Socket.IO's WSGI app too
    return app
