"""Take the README's screenshots of every page from a real server with a busy morning.

    .venv/bin/python scripts/screenshots.py [--out docs/screenshots]

Needs what the browser tests need (the test extras, /usr/bin/chromium, the
vendored static files from `npm ci && npm run build`). Starts its own
`satupintu serve` on a free port with a throw-away data folder.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tests.browser.conftest import CHROMIUM, CHROMIUM_ARGS, USERS, VIEWPORTS, login  # noqa: E402
from tests.serverproc import Api, ServerProcess  # noqa: E402


def busy_morning(server: ServerProcess) -> dict[str, Any]:
    """Tickets for several services, four counters open, calls made; returns one waiting ticket."""
    kiosk, clerk, boss = Api(server, "kiosk1"), Api(server, "clerk1"), Api(server, "boss")
    try:
        for service in (
            "ktp",
            "kk",
            "ktp",
            "akta",
            "info",
            "ktp",
            "nib",
            "kk",
            "pbb",
            "info",
            "ktp",
            "kk",
            "pbg",
            "akta",
        ):
            kiosk.issue(service)
        for counter in ("1", "2", "3", "4"):
            clerk.open(counter)
            clerk.call_next(counter)
        clerk.complete("1")
        clerk.call_next("1")
        clerk.request("POST", "/counters/2/start")
        clerk.request("POST", "/counters/5/open")
        clerk.request("POST", "/counters/5/pause")
        boss.request("PUT", "/counters/4/services", json={"services": [{"id": "info"}]})
        return kiosk.issue("ktp", priority="lansia")
    finally:
        for api in (kiosk, clerk, boss):
            api.close()


def shoot(
    browser: Any,
    base: str,
    out: Path,
    name: str,
    path: str,
    viewport: str,
    user: str | None = None,
    full_page: bool = False,
    before: Any = None,
) -> None:
    context = browser.new_context(
        viewport=VIEWPORTS[viewport], base_url=base, locale="id-ID", timezone_id="Asia/Jakarta"
    )
    try:
        if user:
            login(context, base, user)
        page = context.new_page()
        page.goto(path)
        page.wait_for_selector("body[data-synced]", state="attached", timeout=15_000)
        page.wait_for_timeout(600)  # charts and QR codes draw after the snapshot
        if before:
            before(page)
        page.screenshot(path=str(out / f"{name}.png"), full_page=full_page)
        print(f"  {out / name}.png")
    finally:
        context.close()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", default=str(ROOT / "docs" / "screenshots"))
    args = parser.parse_args()
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    from playwright.sync_api import sync_playwright

    with tempfile.TemporaryDirectory() as tmp:
        server = ServerProcess(Path(tmp))
        for name, role in USERS.items():
            server.add_user(name, role)
        server.start()
        try:
            waiting = busy_morning(server)
            base = server.url
            with sync_playwright() as pw:
                browser = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)

                def tap_sound(page: Any) -> None:
                    if page.locator("#sound-overlay").is_visible():
                        page.click("#sound-button")
                    page.wait_for_timeout(300)

                def standard(page: Any) -> None:
                    page.click("[data-service=ktp]")

                def ticket(page: Any) -> None:
                    page.click("[data-service=kk]")
                    page.click("#take-button")
                    page.wait_for_selector("#ticket-qr svg")

                shots = [
                    ("kiosk", "/kiosk", "kiosk", "kiosk1", False, None),
                    ("kiosk-landscape", "/kiosk", "kiosk_landscape", "kiosk1", False, None),
                    ("kiosk-standard", "/kiosk", "kiosk", "kiosk1", False, standard),
                    ("kiosk-ticket", "/kiosk", "kiosk", "kiosk1", False, ticket),
                    ("display", "/display", "display", None, False, tap_sound),
                    ("display-portrait", "/display", "display_portrait", None, False, tap_sound),
                    ("counter", "/counter?counter=2", "desk", "clerk2", False, None),
                    ("manager", "/manager", "desk", "boss", True, None),
                    ("ticket-phone", f"/t/{waiting['id']}", "phone", None, True, None),
                    (
                        "kiosk-english",
                        "/kiosk?lang=en",
                        "kiosk_landscape",
                        "kiosk1",
                        False,
                        standard,
                    ),
                ]
                for name, path, viewport, user, full, before in shots:
                    shoot(browser, base, out, name, path, viewport, user, full, before)
                browser.close()
        finally:
            server.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
