"""Count the store calls each HTTP operation makes (docs/performance.md, "Store calls").

`measure()` builds an app on a fresh SQLite data folder whose store is wrapped
by `CountingStore`, walks one ticket through the clerk's operations over HTTP
(Flask's test client, the real app and engine) and returns, per operation,
the store methods it called in order. A store call is one round trip to
Redis or one statement group on SQLite, so the count is what an operation
costs the store whatever the backend. `atomic()` (the process's write lock)
is not a store round trip and is left out.

    .venv/bin/python -m tests.storecalls     # prints the table
"""

from __future__ import annotations

import tempfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from satupintu import app as app_module
from satupintu import catalogue, estimate
from satupintu.config import load_config
from satupintu.store.base import Store

ROOT = Path(__file__).resolve().parent.parent
NOT_COUNTED = {"atomic", "close", "keys", "users_changed"}  # users_changed: a file size


class CountingStore:
    """A store that records the name of every method called on it, then delegates."""

    def __init__(self, store: Store):
        self._store = store
        self.calls: list[str] = []

    def __getattr__(self, name: str) -> Any:
        value = getattr(self._store, name)
        if name.startswith("_") or name in NOT_COUNTED or not callable(value):
            return value

        def counted(*args: Any, **kwargs: Any) -> Any:
            self.calls.append(name)
            return value(*args, **kwargs)

        return counted


@contextmanager
def counting_app(data_dir: Path) -> Iterator[tuple[Any, CountingStore]]:
    """An app on config.toml and a fresh SQLite store that counts its calls."""
    made: list[CountingStore] = []
    real_make_store = app_module.make_store

    def make_store(config: Any, folder: Any) -> Any:
        made.append(CountingStore(real_make_store(config, folder)))
        return made[-1]

    app_module.make_store = make_store
    try:
        app = app_module.create_app(load_config(ROOT / "config.toml"), data_dir=data_dir)
    finally:
        app_module.make_store = real_make_store
    app.config["TESTING"] = True
    try:
        yield app, made[0]
    finally:
        made[0]._store.close()


@contextmanager
def steady_caches() -> Iterator[None]:
    """Keep the catalogue and service-time caches warm for the whole run.

    A running office reads the catalogue at most once a second and each
    service's recent times at most every few seconds; counting those would
    make the figures depend on timing, so they are counted once, apart.
    """
    saved = catalogue.CACHE_SECONDS, estimate.CACHE_SECONDS
    catalogue.CACHE_SECONDS = estimate.CACHE_SECONDS = 3600.0
    try:
        yield
    finally:
        catalogue.CACHE_SECONDS, estimate.CACHE_SECONDS = saved


def measure() -> dict[str, list[str]]:
    """Operation -> the store methods one HTTP request of it called, in order."""
    from tests.apihelpers import actor

    with (
        tempfile.TemporaryDirectory() as folder,
        steady_caches(),
        counting_app(Path(folder)) as (app, store),
    ):
        kiosk = actor(app, "kiosk1", "kiosk")
        clerk = actor(app, "clerk1", "clerk")
        manager = actor(app, "manager1", "manager")
        public = app.test_client()
        clerk.open("1")
        for service in ("ktp", "kk", "ktp", "ktp"):
            kiosk.take_ticket(service)
        manager.get("/services")  # warm the caches (see steady_caches)
        calls: dict[str, list[str]] = {}

        def count(name: str, request: Callable[[], Any]) -> Any:
            store.calls.clear()
            result = request()
            calls[name] = list(store.calls)
            return result

        issued = count("issue (POST /tickets)", lambda: kiosk.take_ticket("ktp"))
        count(
            "follow a ticket (GET /tickets/<id>)",
            lambda: public.get(f"/api/v1/tickets/{issued['id']}"),
        )
        count("call-next", lambda: clerk.call_next("1"))
        count("recall", lambda: clerk.act("1", "recall"))
        count("start", lambda: clerk.act("1", "start"))
        count("complete", lambda: clerk.act("1", "complete"))
        clerk.call_next("1")
        count("no-show", lambda: clerk.act("1", "no-show"))
        called = clerk.call_next("1")
        count("park", lambda: clerk.act("1", "park"))
        count("unpark", lambda: clerk.post(f"/tickets/{called['ticket']['id']}/unpark"))
        clerk.call_next("1")
        count("transfer", lambda: clerk.act("1", "transfer", json={"service": "kk"}))
        count("cancel", lambda: clerk.post(f"/tickets/{issued['id']}/cancel"))
        count("pause", lambda: clerk.act("1", "pause"))
        count("open", lambda: clerk.open("1"))
        count("snapshot (GET /snapshot)", lambda: public.get("/api/v1/snapshot"))
        count("counters (GET /counters)", lambda: public.get("/api/v1/counters"))
        count("services (GET /services)", lambda: public.get("/api/v1/services"))
        return calls


def table(calls: dict[str, list[str]]) -> str:
    """The counts as a Markdown table."""
    rows = ["| operation | store calls | which |", "| --- | ---: | --- |"]
    for name, names in calls.items():
        rows.append(f"| {name} | {len(names)} | {', '.join(names)} |")
    return "\n".join(rows)


if __name__ == "__main__":
    print(table(measure()))
