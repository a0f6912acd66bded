"""Shared fixtures: config, stores on both backends, a controllable clock, engine."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
import redis

from satupintu.config import Config, load_config
from satupintu.engine import Engine
from satupintu.store.base import Store
from tests.redis_server import RedisServer

ROOT = Path(__file__).resolve().parent.parent
pytest_plugins = ["tests.apihelpers"]  # app, client, kiosk/clerk/manager actors, socket_client
BACKENDS = ["sqlite", pytest.param("redis", marks=pytest.mark.redis)]


@pytest.fixture(scope="session")
def redis_server():
    """One private redis-server for the session (tests wipe their own database)."""
    server = RedisServer().start()
    yield server
    server.stop()


@pytest.fixture
def config() -> Config:
    return load_config(ROOT / "config.toml")


def make_backend(name: str, request: pytest.FixtureRequest, tmp_path: Path) -> Store:
    if name == "sqlite":
        from satupintu.store.sqlite import SQLiteStore

        return SQLiteStore(tmp_path / "test.db")
    from satupintu.store.redis import RedisStore

    server = request.getfixturevalue("redis_server")
    redis.Redis.from_url(server.url).flushdb()
    return RedisStore(server.url)


@pytest.fixture(params=BACKENDS)
def store(request: pytest.FixtureRequest, tmp_path: Path):
    """The same tests on every backend."""
    backend = make_backend(request.param, request, tmp_path)
    yield backend
    backend.close()


class Clock:
    """A clock the tests move by hand (epoch seconds)."""

    def __init__(self, now: float = 1_764_640_800.0):  # 2025-12-02 09:00 Asia/Jakarta
        self.now = now

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def engine(config: Config, store: Store, clock: Clock) -> Engine:
    return Engine(config, store, clock=clock)


# CI sets SATUPINTU_REQUIRE_ALL=1 (.ci/run): there, a skipped test fails instead,
# so the Redis and browser tests can never silently stop running.
REQUIRE_ALL = os.environ.get("SATUPINTU_REQUIRE_ALL") == "1"


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]):
    outcome = yield
    report = outcome.get_result()
    if REQUIRE_ALL and report.skipped and not hasattr(report, "wasxfail"):
        report.outcome = "failed"
        report.longrepr = f"skipped, but SATUPINTU_REQUIRE_ALL=1 forbids skips: {report.longrepr}"
