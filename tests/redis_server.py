"""Start a private redis-server (Debian's package) on a free loopback port.

Persistence is on (appendonly yes, appendfsync always) so crash tests can
restart it from its directory and find every acknowledged write.
"""

from __future__ import annotations

import shutil
import socket
import subprocess
import tempfile
import time
from pathlib import Path

import redis


def free_port() -> int:
    """A loopback port free right now (the kernel's pick among its ephemeral ports).

    Between this call and the child binding it, another process (an xdist worker,
    another test run) may take the port: the servers started here retry on a new port
    when that happens, and listeners in this process bind port 0 themselves.
    """
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


START_ATTEMPTS = 5  # new ports to try when the one picked was taken meanwhile


class RedisServer:
    """A redis-server child process with its own port and data directory."""

    def __init__(self, directory: str | Path | None = None):
        binary = shutil.which("redis-server")
        if binary is None:
            raise RuntimeError("redis-server not found: apt-get install redis-server")
        self.binary = binary
        self.dir = Path(directory or tempfile.mkdtemp(prefix="satupintu-redis-"))
        self.port = free_port()
        self.proc: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> RedisServer:
        """Start on the chosen port (a fresh one if it was taken meanwhile); wait for PING."""
        for attempt in range(START_ATTEMPTS):
            if attempt:
                self.port = free_port()
            if self._start_once():
                return self
        raise RuntimeError(f"redis-server found no free port in {START_ATTEMPTS} tries")

    def _start_once(self) -> bool:
        """True once our redis answers; False if its port was taken; raises on other failures."""
        log = self.dir / "redis.log"
        logged = log.stat().st_size if log.exists() else 0
        self.proc = subprocess.Popen(
            [
                self.binary,
                "--port",
                str(self.port),
                "--bind",
                "127.0.0.1",
                "--dir",
                str(self.dir),
                "--appendonly",
                "yes",
                "--appendfsync",
                "always",
                "--save",
                "",
                "--daemonize",
                "no",
                "--logfile",
                str(log),
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        client = redis.Redis.from_url(self.url, socket_timeout=2)
        deadline = time.monotonic() + 10
        try:
            while True:
                try:
                    # Ours, not another run's server that got the port first.
                    mine = client.info("server")["process_id"] == self.proc.pid
                    break
                except (redis.ConnectionError, redis.TimeoutError):
                    if self.proc.poll() is not None:
                        with log.open("rb") as f:
                            f.seek(logged)
                            if b"Address already in use" in f.read():
                                return False
                    if time.monotonic() > deadline or self.proc.poll() is not None:
                        raise RuntimeError(f"redis-server did not start; see {log}")
                    time.sleep(0.02)
        finally:
            client.close()
        if not mine:  # ours will fail to bind and exit
            self.proc.wait(10)
        return mine

    def stop(self, kill: bool = False) -> None:
        if self.proc and self.proc.poll() is None:
            if kill:
                self.proc.kill()
            else:
                self.proc.terminate()
            self.proc.wait(10)
        self.proc = None
