"""Run the real `satupintu serve` as a child process on a free port.

The server runs in its own process group (gunicorn master + worker), so
`kill()` can SIGKILL all of it at once, the way a power cut or the OOM killer
would. Users are created through the CLI before start, like an operator would.
"""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import requests

from satupintu.config import load_config
from tests.redis_server import free_port

ROOT = Path(__file__).resolve().parent.parent
PASSWORD = "rahasia-uji-123"


def write_config(path: Path, redis_url: str | None = None, async_mode: str = "threading",
                 threads: int = 50) -> Path:
    """Copy the repo's config.toml to `path` with the [store] and [server] sections replaced."""
    text = (ROOT / "config.toml").read_text(encoding="utf-8")
    store = (f'[store]\nbackend = "redis"\nurl = "{redis_url}"\n\n' if redis_url
             else '[store]\nbackend = "sqlite"\npath = "satupintu.db"\n\n')
    server = f'[server]\nasync_mode = "{async_mode}"\nthreads = {threads}\n\n'
    for name, body in (("store", store), ("server", server)):
        text, count = re.subn(rf"^\[{name}\]\n.*?(?=^\[)", body, text, count=1,
                              flags=re.MULTILINE | re.DOTALL)
        assert count == 1, f"config.toml has no [{name}] section"
    path.write_text(text, encoding="utf-8")
    load_config(path)  # the copy must still be a valid config
    return path


def cli(*args: str, stdin: str | None = None,
        timeout: float = 30) -> subprocess.CompletedProcess[str]:
    """Run `python -m satupintu ARGS` and capture its output."""
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    return subprocess.run([sys.executable, "-m", "satupintu", *args], input=stdin,
                          capture_output=True, text=True, timeout=timeout, cwd=ROOT, env=env)


class ServerProcess:
    """One `satupintu serve` process group with its config, data dir and log."""

    def __init__(self, workdir: Path, redis_url: str | None = None,
                 async_mode: str = "threading", data_dir: Path | None = None,
                 config_path: Path | None = None):
        workdir.mkdir(parents=True, exist_ok=True)
        self.workdir = workdir
        self.data_dir = data_dir or workdir / "var"
        self.config_path = config_path or write_config(
            workdir / "config.toml", redis_url, async_mode)
        self.port = 0
        self.proc: subprocess.Popen[bytes] | None = None
        self.log_path = workdir / "server.log"
        self.starts = 0

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def where(self) -> list[str]:
        return ["--config", str(self.config_path), "--data-dir", str(self.data_dir)]

    def cli(self, *args: str, stdin: str | None = None) -> subprocess.CompletedProcess[str]:
        """Run a CLI command against this server's config and data."""
        return cli(*args, *self.where(), stdin=stdin)

    def add_user(self, name: str, role: str, password: str = PASSWORD) -> None:
        done = self.cli("users", "add", name, "--role", role, "--password-stdin",
                        stdin=password + "\n")
        assert done.returncode == 0, done.stderr

    def start(self, timeout: float = 60) -> ServerProcess:
        """Start serving on a fresh free port and wait until the API answers."""
        self.port = free_port()
        self.starts += 1
        log = self.log_path.open("ab")
        log.write(f"\n===== start {self.starts} on port {self.port} =====\n".encode())
        log.flush()
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "satupintu", "serve", *self.where(),
             "--host", "127.0.0.1", "--port", str(self.port)],
            stdout=log, stderr=subprocess.STDOUT, cwd=ROOT, start_new_session=True,
            env={**os.environ, "PYTHONUNBUFFERED": "1"},
        )
        log.close()
        deadline = time.monotonic() + timeout
        while True:
            if self.proc.poll() is not None:
                raise RuntimeError(f"server exited with {self.proc.returncode}:\n{self.log()}")
            try:
                if requests.get(self.url + "/api/v1/services", timeout=2).status_code == 200:
                    return self
            except requests.ConnectionError:
                pass
            if time.monotonic() > deadline:
                self.kill()
                raise RuntimeError(f"server did not answer in {timeout}s:\n{self.log()}")
            time.sleep(0.1)

    def log(self) -> str:
        return self.log_path.read_text(encoding="utf-8", errors="replace")

    def kill(self, sig: int = signal.SIGKILL, timeout: float = 15) -> None:
        """Send `sig` to the whole process group and wait for the server to end."""
        if self.proc is None:
            return
        try:
            os.killpg(self.proc.pid, sig)
        except ProcessLookupError:
            pass
        try:
            self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            os.killpg(self.proc.pid, signal.SIGKILL)
            self.proc.wait(timeout)
        if sig != signal.SIGKILL:
            # the worker may outlive the master by a moment; never leave one behind
            try:
                os.killpg(self.proc.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
        self.proc = None

    def stop(self) -> None:
        """Stop gracefully (SIGTERM), like systemd would."""
        self.kill(signal.SIGTERM)

    # -- API helpers ---------------------------------------------------------

    def token(self, username: str, password: str = PASSWORD) -> str:
        r = requests.post(self.url + "/api/v1/auth/token",
                          json={"username": username, "password": password}, timeout=10)
        assert r.status_code == 200, r.text
        return r.json()["token"]

    def session(self, username: str, password: str = PASSWORD) -> requests.Session:
        """A requests session carrying a bearer token for `username`."""
        s = requests.Session()
        s.headers["Authorization"] = f"Bearer {self.token(username, password)}"
        return s

    def api(self, session: requests.Session, method: str, path: str,
            **kwargs: Any) -> requests.Response:
        kwargs.setdefault("timeout", 15)
        return session.request(method, self.url + "/api/v1" + path, **kwargs)
