"""Printing through the real pages: the kiosk's on-screen fallback, the manager's printer panel
and alerts, and reprints from the counter and manager pages, against a loopback TCP printer.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import wait_online
from tests.printer.escpos_reader import read
from tests.printer.fake_printer import FakePrinter
from tests.serverproc import Api

pytestmark = [pytest.mark.browser, pytest.mark.slow]


@pytest.fixture
def printer() -> Iterator[FakePrinter]:
    fake = FakePrinter().start()
    yield fake
    fake.stop()


@pytest.fixture
def office(make_server: Any, printer: FakePrinter) -> Any:
    """A server whose kiosk K1 prints to the loopback printer; its kiosk user is k1."""

    def k1_prints(text: str) -> str:
        text, count = re.subn(
            r'(\[\[kiosks\]\]\nid = "K1"\nname = "Kiosk lobi")',
            rf'\1\nprinter = {{ type = "network", host = "127.0.0.1", port = {printer.port}, '
            r"timeout = 1 }",
            text,
        )
        assert count == 1, "config.toml has no kiosk K1"
        return text

    return make_server(k1_prints, users={"k1": "kiosk"})


def open_board(devices: Any, office: Any) -> Any:
    board = devices.open("/manager", viewport="desk", user="boss", base_url=office.url)
    wait_online(board)
    expect(board.locator("#printer-rows tr[data-kiosk=K1]")).to_be_visible()
    return board


def test_printer_out_of_paper_kiosk_shows_the_ticket_and_managers_are_alerted(
    devices, office, printer
):
    printer.set_mode("paper_out")
    board = open_board(devices, office)
    kiosk = devices.open("/kiosk", viewport="kiosk", user="k1", base_url=office.url)
    wait_online(kiosk)

    kiosk.locator("[data-service=kk]").click()
    kiosk.click("#take-button")
    expect(kiosk.locator("#ticket-number")).to_have_text("B001")
    failed = kiosk.locator("#print-failed")
    expect(failed).to_be_visible(timeout=10_000)
    expect(failed).to_contain_text("Tiket tidak dapat dicetak")
    qr = kiosk.locator("#ticket-qr")
    expect(qr.locator("svg")).to_be_visible()
    assert re.fullmatch(rf"{re.escape(office.url)}/t/\w+", qr.get_attribute("data-url"))
    seconds = int(re.search(r"\d+", kiosk.locator("#ticket-countdown").inner_text()).group())
    assert seconds > 40  # up for a minute, not 15 s
    assert printer.printed() == []  # nothing was sent to a printer without paper

    # The manager's board: the printer's state in the panel and an alert naming the ticket.
    row = board.locator("#printer-rows tr[data-kiosk=K1]")
    expect(row).to_have_attribute("data-state", "paper_out")
    expect(row.locator(".printer-state")).to_have_text("Kertas habis")
    alert = board.locator("#alerts li.alert", has_text="Printer Kiosk lobi")
    expect(alert).to_have_text("Printer Kiosk lobi: Kertas habis Tidak tercetak: B001.")
    expect(row.locator(".reprint-failed")).to_have_text("Cetak ulang B001")

    # Paper nearly out is a warning, not an error: the next ticket prints.
    printer.set_mode("paper_near_end")
    Api(office, "k1").issue("kk")
    printer.wait_for_jobs(1)
    expect(row).to_have_attribute("data-state", "paper_near_end")
    expect(row.locator(".printer-state")).to_have_text("Kertas hampir habis")
    expect(board.locator("#alerts li.warning")).to_have_text(
        "Printer Kiosk lobi: Kertas hampir habis"
    )
    expect(board.locator("#alerts li.alert", has_text="Printer Kiosk lobi")).to_have_count(0)


def test_clerk_reprints_the_ticket_at_the_counter(devices, office, printer):
    k1 = Api(office, "k1")
    clerk = Api(office, "clerk1")
    try:
        ticket = k1.issue("ktp")
        [first] = printer.wait_for_jobs(1)
        assert read(first).line(ticket["number"])
        clerk.open("3")
        assert clerk.call_next("3")["number"] == ticket["number"]
    finally:
        k1.close()
        clerk.close()

    desk = devices.open("/counter?counter=3", viewport="desk", user="clerk1", base_url=office.url)
    wait_online(desk)
    expect(desk.locator("#current-number")).to_have_text(ticket["number"])
    button = desk.locator("#reprint-button")
    expect(button).to_be_enabled()
    expect(button).to_have_attribute("aria-keyshortcuts", "U")
    desk.keyboard.press("u")
    expect(desk.locator("#flash")).to_have_text(
        f"Tiket {ticket['number']} sudah dicetak ulang di Kiosk lobi.", timeout=10_000
    )

    jobs = printer.wait_for_jobs(2)
    numbers = [
        line for job in jobs for line in read(job).lines if line.text.strip() == ticket["number"]
    ]
    assert len(numbers) == 2  # the ticket number appears twice: the ticket and its copy
    assert read(jobs[1]).line("(cetak ulang)") and "(cetak ulang)" not in read(jobs[0]).text

    # The manager reprints by today's number; a number that does not exist is said so.
    board = open_board(devices, office)
    board.fill("#reprint-number", ticket["number"].lower())
    board.click("#reprint-button")
    expect(board.locator("#flash")).to_have_text(
        f"Tiket {ticket['number']} dikirim ke printer Kiosk lobi untuk dicetak ulang."
    )
    third = printer.wait_for_jobs(3)[2]
    assert read(third).line(ticket["number"]) and read(third).line("(cetak ulang)")
    board.fill("#reprint-number", "Z999")
    board.click("#reprint-button")
    expect(board.locator("#flash")).to_have_text("Tiket tidak ditemukan.")

    # A ticket a manager issued came from no kiosk: the counter uses a ready kiosk printer.
    boss = Api(office, "boss")
    try:
        desk.click("[data-action=complete]")
        own = boss.issue("ktp")
    finally:
        boss.close()
    assert own["print"] is None  # not printed when issued
    expect(desk.locator("#current-number")).to_have_text("–")  # A001 completed
    expect(desk.locator("[data-action=call-next]")).to_be_enabled()
    desk.keyboard.press("n")
    expect(desk.locator("#current-number")).to_have_text(own["number"])
    desk.keyboard.press("u")
    expect(desk.locator("#flash")).to_have_text(
        f"Tiket {own['number']} sudah dicetak ulang di Kiosk lobi.", timeout=10_000
    )
    fourth = read(printer.wait_for_jobs(4)[3])
    assert fourth.line(own["number"]) and fourth.line("(cetak ulang)")

    # On the manager's panel, "the kiosk that issued it" has no answer for that ticket
    # (409 kiosk_required): the board asks for a kiosk printer instead of printing.
    expect(board.locator("#reprint-kiosk")).to_have_value("")
    board.fill("#reprint-number", own["number"])
    board.click("#reprint-button")
    expect(board.locator("#flash")).to_have_text(
        "Tiket ini tidak diambil di kios berprinter: pilih printer kios."
    )
    assert len(printer.wait_for_jobs(4)) == 4  # nothing more printed
