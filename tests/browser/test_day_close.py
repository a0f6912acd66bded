"""The citizen's phone after the office's day ended: the ticket says it expired, in
Indonesian and English, and stops offering to notify."""

from __future__ import annotations

import re
import sqlite3

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import wait_online
from tests.serverproc import Api

pytestmark = [pytest.mark.browser, pytest.mark.slow]


def test_yesterdays_ticket_shows_as_expired_on_the_phone(devices, server):
    kiosk = Api(server, "kiosk1")
    ticket = kiosk.issue("ktp")
    kiosk.close()
    phone = devices.open(f"/t/{ticket['id']}", viewport="phone")
    wait_online(phone)
    expect(phone.locator("#status")).to_have_text("Menunggu giliran")
    expect(phone.locator("#notify-button")).to_be_visible()  # control: offered while waiting

    # The office shuts with the ticket still waiting; the server starts again the next day
    # (here: the ticket is moved back a day in the data file while the server is down).
    server.stop()
    with sqlite3.connect(server.data_dir / "satupintu.db") as db:
        db.execute("UPDATE tickets SET day = date(day, '-1 day'), issued_at = issued_at - 86400")
    server.start()

    for lang, text in (
        ("id", "hari layanan tiket ini sudah berakhir"),
        ("en", "service day ended before you were served"),
    ):
        phone = devices.open(
            f"/t/{ticket['id']}?lang={lang}", viewport="phone", base_url=server.url
        )
        wait_online(phone)
        expect(phone.locator("#status")).to_contain_text(text)
        expect(phone.locator("#waiting-facts")).to_be_hidden()
        expect(phone.locator("#notify-button")).to_be_hidden()
    assert "closed the days before" in server.log()


def test_a_ticket_of_a_service_removed_from_config_says_so_in_words(devices, server):
    """config.toml loses a service overnight... or mid-day: the waiting citizen's page
    says the service is no longer offered (not a raw English 404), in both languages."""
    kiosk = Api(server, "kiosk1")
    ticket = kiosk.issue("info")
    kiosk.close()
    server.stop()
    text = server.config_path.read_text(encoding="utf-8")
    info = re.search(
        r'\[\[services\]\]\nid = "info".*?(?=\n# Counters|\n\[\[counters)', text, flags=re.DOTALL
    )
    assert info is not None
    server.config_path.write_text(text.replace(info.group(0), ""), encoding="utf-8")
    server.start()
    for lang, words in (
        ("id", "layanan ini tidak tersedia lagi di kantor ini"),
        ("en", "this service is no longer offered at this office"),
    ):
        phone = devices.open(
            f"/t/{ticket['id']}?lang={lang}", viewport="phone", base_url=server.url
        )
        wait_online(phone)
        expect(phone.locator("#ticket-number")).to_have_text(ticket["number"])
        expect(phone.locator("#status")).to_contain_text(words)
        expect(phone.locator("#notify-button")).to_be_hidden()
    assert "no such service any more" in server.log()
