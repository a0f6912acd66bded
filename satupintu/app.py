"""The app factory: builds the Flask app, the store and engine once, binds Socket.IO."""

from __future__ import annotations

import os
import secrets
from pathlib import Path
from typing import Any

from apiflask import APIFlask
from flask import current_app
from flask_socketio import SocketIO

from .config import Config, load_config
from .engine import Engine
from .store import make_store

socketio = SocketIO()


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
    engine = Engine(config, store)
    app.config["SECRET_KEY"] = config.server.secret_key or store.secret(
        "flask_secret_key", secrets.token_hex(32)
    )
    app.config["SATUPINTU_DATA_DIR"] = str(data_dir)
    app.config.update(overrides or {})
    app.extensions["satupintu.config"] = config
    app.extensions["satupintu.engine"] = engine
    app.extensions["satupintu.store"] = store

    message_queue = config.store.url if config.store.backend == "redis" else None
    socketio.init_app(
        app,
        async_mode=config.server.async_mode,
        message_queue=message_queue,
        cors_allowed_origins=app.config.get("SOCKETIO_CORS", None),
    )
    return app


def get_engine() -> Engine:
    """The engine of the app handling the current request."""
    return current_app.extensions["satupintu.engine"]


def get_config() -> Config:
    return current_app.extensions["satupintu.config"]
