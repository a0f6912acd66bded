"""Run the real `satupintu serve` as a child process on a free port.

The server runs in its own process group (gunicorn master + worker), so
`kill()` can SIGKILL all of it at once, the way a power cut or the OOM killer
would. Users are created through the CLI before start, like an operator would.
"""

from __future__ import annotations

import ctypes
import os
import re
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import requests
import socketio

from satupintu.config import load_config
from tests.redis_server import free_port

ROOT = Path(__file__).resolve().parent.parent
PASSWORD = "rahasia-uji-123"
START_ATTEMPTS = 5  # fresh ports to try when the one picked was taken meanwhile (xdist)

try:  # Linux: resolved here, in the parent, so the child only makes the call
    _PRCTL: Any = ctypes.CDLL(None, use_errno=True).prctl
except (OSError, AttributeError):
    _PRCTL = None
PR_SET_PDEATHSIG = 1


def _die_with_parent() -> None:
    """In the child before exec: SIGTERM it when the test process dies, even by SIGKILL.

    The server runs in its own session, so without this a test run killed by a
    timeout would leave servers behind.
    """
    if _PRCTL is not None:
        _PRCTL(PR_SET_PDEATHSIG, signal.SIGTERM)


def write_config(
    path: Path,
    redis_url: str | None = None,
    async_mode: str | None = None,
    threads: int = 50,
    issue_per_minute: int | None = None,
    **server_keys: int,
) -> Path:
    """Copy the repo's config.toml to `path` with the [store] and [server] sections replaced.

    `async_mode` None keeps the default; `server_keys` are more [server] keys
    (max_sockets, max_sockets_per_address).
    """
    text = (ROOT / "config.toml").read_text(encoding="utf-8")
    store = (
        f'[store]\nbackend = "redis"\nurl = "{redis_url}"\n\n'
        if redis_url
        else '[store]\nbackend = "sqlite"\npath = "satupintu.db"\n\n'
    )
    server = "[server]\n" + (f'async_mode = "{async_mode}"\n' if async_mode else "")
    server += f"threads = {threads}\n"
    server += "".join(f"{key} = {value}\n" for key, value in server_keys.items()) + "\n"
    for name, body in (("store", store), ("server", server)):
        text, count = re.subn(
            rf"^\[{name}\]\n.*?(?=^\[)", body, text, count=1, flags=re.MULTILINE | re.DOTALL
        )
        assert count == 1, f"config.toml has no [{name}] section"
    if issue_per_minute is not None:  # load tests issue faster than a real kiosk may
        text, count = re.subn(
            r"^issue_per_minute = \d+",
            f"issue_per_minute = {issue_per_minute}",
            text,
            count=1,
            flags=re.MULTILINE,
        )
        assert count == 1, "config.toml has no auth.issue_per_minute"
    path.write_text(text, encoding="utf-8")
    load_config(path)  # the copy must still be a valid config
    return path


def cli(
    *args: str, stdin: str | None = None, timeout: float = 30
) -> subprocess.CompletedProcess[str]:
    """Run `python -m satupintu ARGS` and capture its output."""
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    return subprocess.run(
        [sys.executable, "-m", "satupintu", *args],
        input=stdin,
        capture_output=True,
        text=True,
        timeout=timeout,
        cwd=ROOT,
        env=env,
    )


class ServerProcess:
    """One `satupintu serve` process group with its config, data dir and log."""

    def __init__(
        self,
        workdir: Path,
        redis_url: str | None = None,
        async_mode: str | None = None,
        data_dir: Path | None = None,
        config_path: Path | None = None,
        **config_options: Any,
    ):
        workdir.mkdir(parents=True, exist_ok=True)
        self.workdir = workdir
        self.data_dir = data_dir or workdir / "var"
        self.config_path = config_path or write_config(
            workdir / "config.toml", redis_url, async_mode, **config_options
        )
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
        done = self.cli(
            "users", "add", name, "--role", role, "--password-stdin", stdin=password + "\n"
        )
        assert done.returncode == 0, done.stderr

    def start(self, timeout: float = 60, port: int | None = None) -> ServerProcess:
        """Start serving (on `port`, else a fresh free port) and wait until the API answers."""
        if port is not None:  # the same address again, as after a restart
            if self._start_once(timeout, port):
                return self
            raise RuntimeError(f"port {port} is taken:\n{self.log()}")
        for _ in range(START_ATTEMPTS):
            if self._start_once(timeout):
                return self
        raise RuntimeError(f"server found no free port in {START_ATTEMPTS} tries:\n{self.log()}")

    def _start_once(self, timeout: float, port: int | None = None) -> bool:
        """True once this server answers; False if its port was taken meanwhile."""
        self.port = port or free_port()
        self.starts += 1
        log = self.log_path.open("ab")
        log.write(f"\n===== start {self.starts} on port {self.port} =====\n".encode())
        log.flush()
        begin = log.tell()
        self.proc = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "satupintu",
                "serve",
                *self.where(),
                "--host",
                "127.0.0.1",
                "--port",
                str(self.port),
            ],
            stdout=log,
            stderr=subprocess.STDOUT,
            cwd=ROOT,
            start_new_session=True,
            preexec_fn=_die_with_parent,  # noqa: PLW1509 - only an async-signal-safe prctl call
            env={**os.environ, "PYTHONUNBUFFERED": "1"},
        )
        log.close()
        deadline = time.monotonic() + timeout
        while True:
            started = self._log_since(begin)
            if "Connection in use" in started:  # another process took the port: try another
                self.kill()
                return False
            if self.proc.poll() is not None:
                raise RuntimeError(f"server exited with {self.proc.returncode}:\n{self.log()}")
            try:
                # "Listening at": gunicorn bound the port, so the answer is ours.
                if (
                    "Listening at:" in started
                    and requests.get(self.url + "/api/v1/services", timeout=5).status_code == 200
                ):
                    return True
            except requests.RequestException:
                pass  # not listening yet, or the worker is still booting
            if time.monotonic() > deadline:
                self.kill()
                raise RuntimeError(f"server did not answer in {timeout}s:\n{self.log()}")
            time.sleep(0.1)

    def _log_since(self, offset: int) -> str:
        with self.log_path.open("rb") as f:
            f.seek(offset)
            return f.read().decode("utf-8", "replace")

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
        r = requests.post(
            self.url + "/api/v1/auth/token",
            json={"username": username, "password": password},
            timeout=10,
        )
        assert r.status_code == 200, r.text
        return r.json()["token"]


class Api:
    """A user's HTTP client for one server: bearer token, JSON, close when done."""

    def __init__(self, server: ServerProcess, username: str, password: str = PASSWORD):
        self.server = server
        self.http = requests.Session()
        self.http.headers["Authorization"] = f"Bearer {server.token(username, password)}"

    def request(self, method: str, path: str, **kwargs: Any) -> requests.Response:
        kwargs.setdefault("timeout", 15)
        return self.http.request(method, self.server.url + "/api/v1" + path, **kwargs)

    def issue(self, service: str = "ktp", **body: Any) -> dict[str, Any]:
        r = self.request("POST", "/tickets", json={"service": service, **body})
        assert r.status_code == 201, r.text
        return r.json()

    def open(self, counter: str) -> None:
        r = self.request("POST", f"/counters/{counter}/open")
        assert r.status_code == 200, r.text

    def call_next(self, counter: str) -> dict[str, Any] | None:
        """The called ticket, or None when nobody waits."""
        r = self.request("POST", f"/counters/{counter}/call-next")
        if r.status_code == 204:
            return None
        assert r.status_code == 200, r.text
        return r.json()["ticket"]

    def complete(self, counter: str) -> None:
        r = self.request("POST", f"/counters/{counter}/complete")
        assert r.status_code == 200, r.text

    def close(self) -> None:
        self.http.close()


class Listener:
    """A real Socket.IO client on the websocket transport, joined to one room."""

    def __init__(
        self,
        url: str,
        room: str = "display",
        token: str | None = None,
        events: tuple[str, ...] = ("ticket_called",),
    ):
        self.received: list[tuple[str, dict[str, Any]]] = []
        self._cond = threading.Condition()
        self.sio = socketio.Client(reconnection=False)
        for name in events:
            self.sio.on(name, self._recorder(name))
        self.sio.on("changes", self._unpacker(set(events)))
        self.sio.connect(url, transports=["websocket"], wait_timeout=15)
        assert self.sio.transport() == "websocket"
        data = {"room": room} if token is None else {"room": room, "token": token}
        ack = self.sio.call("join", data, timeout=15)
        assert ack["ok"], ack
        self.seq = ack["seq"]

    def _recorder(self, name: str) -> Callable[[dict[str, Any]], None]:
        def record(payload: dict[str, Any]) -> None:
            with self._cond:
                self.received.append((name, payload))
                self._cond.notify_all()

        return record

    def _unpacker(self, names: set[str]) -> Callable[[dict[str, Any]], None]:
        """Records the events inside a `changes` frame (wire format 2) by their names."""

        def unpack(frame: dict[str, Any]) -> None:
            with self._cond:
                self.received.extend(
                    (e["event"], e) for e in frame["events"] if e["event"] in names
                )
                self._cond.notify_all()

        return unpack

    def wait_for(
        self, name: str, match: Callable[[dict[str, Any]], bool], timeout: float = 15
    ) -> dict[str, Any]:
        """The first `name` event whose payload satisfies `match` (waits for it)."""
        deadline = time.monotonic() + timeout
        with self._cond:
            while True:
                for got, payload in self.received:
                    if got == name and match(payload):
                        return payload
                left = deadline - time.monotonic()
                if left <= 0:
                    raise AssertionError(f"no matching {name} in {timeout}s: {self.received}")
                self._cond.wait(left)

    def close(self) -> None:
        self.sio.disconnect()
