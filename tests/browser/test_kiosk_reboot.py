"""A kiosk PC is back in service after a reboot: its login outlives Chromium, staff's not."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import CHROMIUM, CHROMIUM_ARGS, VIEWPORTS, wait_online
from tests.serverproc import PASSWORD

pytestmark = [pytest.mark.browser, pytest.mark.slow]


def launch(browser: Any, profile: Path, base_url: str, errors: list[str]) -> Any:
    """Chromium on a profile folder kept on disk, as on the kiosk PC (a new process each time)."""
    context = browser.browser_type.launch_persistent_context(
        str(profile),
        executable_path=CHROMIUM,
        args=CHROMIUM_ARGS,
        headless=True,
        viewport=VIEWPORTS["kiosk"],
        base_url=base_url,
        locale="id-ID",
        timezone_id="Asia/Jakarta",
    )
    context.on("weberror", lambda error: errors.append(str(error.error)))
    return context


def log_in_on_page(page: Any, path: str, username: str) -> None:
    """Open `path` on a device that never logged in: the login page, then back to `path`."""
    page.goto(path)
    expect(page).to_have_url(re.compile(r"/login\?next="), timeout=15_000)  # must log in
    page.fill("#username", username)
    page.fill("#password", PASSWORD)
    with page.expect_navigation():
        page.click("button[type=submit]")
    expect(page).to_have_url(re.compile(re.escape(path) + "$"))


def test_a_kiosk_takes_tickets_after_chromium_restarts_without_logging_in_again(
    server, browser, tmp_path
):
    errors: list[str] = []
    profile = tmp_path / "kiosk-profile"
    first = launch(browser, profile, server.url, errors)
    page = first.pages[0] if first.pages else first.new_page()
    log_in_on_page(page, "/kiosk", "kiosk1")
    wait_online(page)
    first.close()  # the whole browser goes: a power cut, a reboot

    again = launch(browser, profile, server.url, errors)
    try:
        page = again.pages[0] if again.pages else again.new_page()
        page.goto("/kiosk")
        wait_online(page, timeout=15_000)
        assert page.url == f"{server.url}/kiosk"  # not sent to the login page
        page.locator("[data-service=ktp]").click()
        page.click("#take-button")
        expect(page.locator("#ticket-number")).to_have_text(re.compile(r"^A\d{3}$"))
    finally:
        again.close()

    # The control: a clerk's login on the same kind of profile is gone after a restart,
    # so the restart above really dropped what a browser drops (session-only cookies).
    profile = tmp_path / "desk-profile"
    first = launch(browser, profile, server.url, errors)
    page = first.pages[0] if first.pages else first.new_page()
    log_in_on_page(page, "/counter?counter=1", "clerk1")
    assert page.request.get("/api/v1/auth/me").status == 200
    first.close()
    again = launch(browser, profile, server.url, errors)
    try:
        page = again.pages[0] if again.pages else again.new_page()
        page.goto("/counter?counter=1")
        expect(page).to_have_url(re.compile(r"/login\?next="), timeout=15_000)
    finally:
        again.close()
    assert not errors, errors
