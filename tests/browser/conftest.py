"""Browser fixtures: Debian's Chromium driven by Playwright against a real `satupintu serve`.

Never `playwright install`: the browser is /usr/bin/chromium from apt.
Each test gets its own server (fresh SQLite data, users made with the CLI)
and one browser context per device (kiosk, display, counter desk, phone).
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.serverproc import PASSWORD, ServerProcess, write_config

pytestmark = pytest.mark.browser

CHROMIUM = os.environ.get("SATUPINTU_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
    "--disable-sync",
]
ROOT = Path(__file__).resolve().parents[2]
VENDOR = ROOT / "satupintu" / "static" / "vendor"

USERS = {"kiosk1": "kiosk", "clerk1": "clerk", "clerk2": "clerk", "boss": "manager"}
VIEWPORTS = {
    "kiosk": {"width": 1080, "height": 1920},
    "kiosk_landscape": {"width": 1920, "height": 1080},
    "display": {"width": 1920, "height": 1080},
    "display_portrait": {"width": 1080, "height": 1920},
    "desk": {"width": 1440, "height": 900},
    "laptop": {"width": 1366, "height": 768},  # the most common office PC screen
    "phone": {"width": 390, "height": 844},
}


def _require_browser() -> None:
    if not Path(CHROMIUM).exists():
        pytest.fail(f"{CHROMIUM} not found: apt-get install chromium (make test does)")
    missing = [
        n
        for n in ("socket.io.min.js", "qrcode.js", "chart.umd.min.js")
        if not (VENDOR / n).exists()
    ]
    if missing:
        pytest.fail(f"satupintu/static/vendor/ lacks {missing}: run `npm ci && npm run build`")


@pytest.fixture(scope="session")
def browser() -> Iterator[Any]:
    """One headless Chromium for the session."""
    _require_browser()
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        chromium = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
        yield chromium
        chromium.close()


@pytest.fixture
def make_server(tmp_path: Path) -> Iterator[Callable[..., ServerProcess]]:
    """Start a fresh `satupintu serve` (SQLite) with a kiosk, two clerks and a manager;
    `edit(text) -> text` may change the config.toml it runs with, `users` adds users."""
    servers: list[ServerProcess] = []

    def start(
        edit: Callable[[str], str] | None = None, users: dict[str, str] | None = None
    ) -> ServerProcess:
        workdir = tmp_path / f"server{len(servers)}"
        workdir.mkdir()
        config = write_config(workdir / "config.toml")
        if edit is not None:
            config.write_text(edit(config.read_text(encoding="utf-8")), encoding="utf-8")
        srv = ServerProcess(workdir, config_path=config)
        servers.append(srv)
        for name, role in {**USERS, **(users or {})}.items():
            srv.add_user(name, role)
        return srv.start()

    yield start
    for srv in servers:
        srv.stop()


@pytest.fixture
def server(make_server: Callable[..., ServerProcess]) -> ServerProcess:
    """A fresh server with the demo office's config."""
    return make_server()


class Devices:
    """Opens pages the way each device would: own context, own viewport, own login."""

    def __init__(self, browser: Any, base_url: str):
        self.browser = browser
        self.base_url = base_url
        self.contexts: list[Any] = []
        self.errors: list[str] = []

    def open(
        self,
        path: str,
        viewport: str = "desk",
        user: str | None = None,
        locale: str = "id-ID",
        base_url: str | None = None,
    ) -> Any:
        """A new page in its own context, logged in as `user` (session cookie) if given."""
        base = base_url or self.base_url
        context = self.browser.new_context(
            viewport=VIEWPORTS[viewport], locale=locale, base_url=base, timezone_id="Asia/Jakarta"
        )
        self.contexts.append(context)
        if user is not None:
            login(context, base, user)
        page = context.new_page()
        page.on("pageerror", lambda exc: self.errors.append(f"{path}: {exc}"))
        page.goto(path)
        return page

    def close(self) -> None:
        for context in self.contexts:
            context.close()


def login(context: Any, base_url: str, username: str) -> None:
    """Log the context in through the API the login page uses (session cookie)."""
    response = context.request.post(
        f"{base_url}/api/v1/auth/session", data={"username": username, "password": PASSWORD}
    )
    assert response.status == 200, response.text()


@pytest.fixture
def devices(browser: Any, server: ServerProcess) -> Iterator[Devices]:
    """Factory for device pages on the test's server; fails the test on a page script error."""
    opened = Devices(browser, server.url)
    yield opened
    opened.close()
    assert not opened.errors, "JavaScript errors in the pages:\n" + "\n".join(opened.errors)


def wait_online(page: Any, timeout: float = 10_000) -> None:
    """Until the page's live connection is up and its snapshot applied."""
    page.wait_for_selector("body[data-synced]:not(.is-offline)", state="attached", timeout=timeout)


Factory = Callable[..., Any]
