"""The app's parts (config, store, engine, ...) for the request at hand, one typed accessor each.

`create_app` sets each part once (`engine.set(app, value)`); code serving a
request reads it with `engine()`, tests with `engine.get(app)`. A package
that adds a part of its own (the printer's service) makes its own `Part`,
so no code anywhere looks parts up by a string key.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Generic, TypeVar, cast

from flask import Flask, current_app

if TYPE_CHECKING:
    from .config import Config
    from .engine import Engine
    from .printjobs import TicketPrinter
    from .socketcap import SocketCap
    from .store.base import Store
    from .usercache import UserCache

T = TypeVar("T")


class Part(Generic[T]):
    """One part of the app, kept in `app.extensions` under `satupintu.<name>`."""

    def __init__(self, name: str):
        self.key = f"satupintu.{name}"

    def set(self, app: Flask, value: T) -> None:
        """Make `value` this part of `app` (once, while building it)."""
        app.extensions[self.key] = value

    def get(self, app: Flask | None = None) -> T:
        """This part of `app`, default the app handling the current request."""
        found = self.find(app)
        if found is None:
            raise RuntimeError(f"{self.key} is not set on this app (create_app sets it)")
        return found

    def find(self, app: Flask | None = None) -> T | None:
        """This part of `app`, or None before it is set."""
        target: Any = app if app is not None else current_app
        return cast("T | None", target.extensions.get(self.key))

    def __call__(self) -> T:
        """This part of the app handling the current request."""
        return self.get()

    def __repr__(self) -> str:
        return f"<Part {self.key}>"


config: Part[Config] = Part("config")
store: Part[Store] = Part("store")
engine: Part[Engine] = Part("engine")
socket_cap: Part[SocketCap] = Part("socket_cap")  # the websocket limits (for inspection)
users: Part[UserCache] = Part("users")  # the token and session check's users
printing: Part[TicketPrinter] = Part("printing")  # the printer package's (init_printing)
