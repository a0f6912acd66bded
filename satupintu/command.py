"""What every `satupintu` sub-command shares: the Failure it ends with, opening config and store.

The modules that add sub-commands (satupintu/opscli.py, printer/cli.py) use
these, so the command line's imports run one way: satupintu/cli.py registers
them, they import this.
Only the standard library is imported at module level (see satupintu/cli.py).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any


class Failure(Exception):
    """A message for the operator and the exit code to leave with."""

    def __init__(self, message: str, code: int = 2):
        super().__init__(message)
        self.code = code


def load_config_or_fail(path: str, checks: Iterable[Callable[[Any], None]] = ()) -> Any:
    """The checked Config at `path`, or Failure (exit code 2) with the error naming the key.

    `checks` are the role packages' own config checks (each raises ConfigError).
    """
    from .config import ConfigError, load_config

    try:
        config = load_config(path)
        for check in checks:
            check(config)
    except ConfigError as exc:
        raise Failure(f"config error: {exc}", 2) from None
    return config


def open_store_or_fail(config: Any, data_dir: str) -> Any:
    """The configured store, or Failure (exit code 1) saying which store and why."""
    from .store import make_store

    try:
        return make_store(config, data_dir)
    except Exception as exc:  # noqa: BLE001 - any backend failure is reported the same way
        raise Failure(store_failure(config, exc), 1) from None


def store_failure(config: Any, exc: Exception) -> str:
    """The operator's message for a store that cannot be opened or used."""
    where = config.store.url if config.store.backend == "redis" else config.store.path
    return f"cannot open the {config.store.backend} store ({where}): {exc}"
