"""Stores: chosen by name from config."""

from __future__ import annotations

from pathlib import Path

from ..config import Config, ConfigError
from .base import Change, Issued, Store, User


def _sqlite(config: Config, data_dir: Path) -> Store:
    from .sqlite import SQLiteStore

    path = Path(config.store.path)
    if not path.is_absolute():
        path = data_dir / path
    return SQLiteStore(path)


def _redis(config: Config, data_dir: Path) -> Store:
    from .redis import RedisStore

    return RedisStore(config.store.url, branch=config.office.branch)


BACKENDS = {"sqlite": _sqlite, "redis": _redis}


def make_store(config: Config, data_dir: str | Path = "var") -> Store:
    """Build the store named by config.store.backend."""
    try:
        factory = BACKENDS[config.store.backend]
    except KeyError:
        raise ConfigError(f"store.backend: unknown backend {config.store.backend!r}") from None
    return factory(config, Path(data_dir))


__all__ = ["Change", "Issued", "Store", "User", "make_store"]
