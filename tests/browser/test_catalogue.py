"""The manager edits the catalogue on the board; an open kiosk shows it at once."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import wait_online
from tests.serverproc import Api

pytestmark = [pytest.mark.browser, pytest.mark.slow]


def test_manager_edits_fee_and_quota_and_the_open_kiosk_shows_them(devices, server):
    kiosk = devices.open("/kiosk", viewport="kiosk", user="kiosk1")
    wait_online(kiosk)
    kiosk.locator("#service-grid [data-service=kk]").click()
    expect(kiosk.locator("#standard-fee")).to_have_text("GRATIS")
    kiosk.click("#back-button")

    board = devices.open("/manager", viewport="desk", user="boss")
    wait_online(board)
    board.locator("#catalogue-list [data-service=kk]").click()
    form = board.locator("#service-form")
    expect(form.get_by_label("Nama (Indonesia)")).to_have_value("Kartu Keluarga")
    expect(board.locator("#service-reset")).to_be_hidden()  # nothing edited yet

    # A prefix another service has is refused, naming the field; nothing is saved.
    form.get_by_label("Huruf awalan nomor").fill("A")
    form.get_by_role("button", name="Simpan").click()
    expect(board.locator("#flash")).to_have_text(
        "Periksa isian „Huruf awalan nomor”: services.kk.prefix: duplicate prefix 'A' "
        "(also services.ktp)"
    )
    expect(form.get_by_label("Huruf awalan nomor")).to_have_attribute("aria-invalid", "true")

    form.get_by_label("Huruf awalan nomor").fill("B")
    form.get_by_label("Biaya / tarif (tulis „Gratis” bila tanpa biaya)").fill("Rp 15.000")
    form.get_by_label("Kuota harian (0 = tanpa kuota)").fill("1")
    form.get_by_label("Persyaratan (satu per baris)").fill("KK lama\n\nKTP-el kepala keluarga\n")
    with board.expect_response(lambda r: r.url.endswith("/services/kk")) as patch:
        form.get_by_role("button", name="Simpan").click()
    assert patch.value.status == 200
    expect(board.locator("#flash")).to_have_text(
        "Layanan Kartu Keluarga disimpan. Berlaku untuk tiket berikutnya."
    )
    expect(board.locator("#catalogue-list [data-service=kk] .badge")).to_have_text("diubah")
    expect(board.locator("#service-reset")).to_be_visible()

    # The kiosk, open since before the edit, hears catalogue_updated and shows the new fee.
    kiosk.locator("#service-grid [data-service=kk]").click()
    expect(kiosk.locator("#standard-fee")).to_have_text("Rp 15.000")
    expect(kiosk.locator("#standard-requirements li")).to_have_text(
        ["KK lama", "KTP-el kepala keluarga"]
    )
    kiosk.click("#take-button")
    expect(kiosk.locator("#ticket-number")).to_have_text("B001")
    kiosk.click("#done-button")
    kiosk.locator("#service-grid [data-service=kk]").click()
    kiosk.click("#take-button")  # the new quota of 1 is used
    expect(kiosk.locator("#flash")).to_have_text(
        "Kuota layanan ini untuk hari ini sudah habis. Silakan datang kembali besok."
    )
    kiosk.click("#back-button")

    # The waits chart gets KK's wait once the ticket is called.
    clerk = Api(server, "clerk1")
    try:
        clerk.open("2")
        assert clerk.call_next("2")["number"] == "B001"
    finally:
        clerk.close()
    board.wait_for_function(
        "() => { const c = Chart.getChart('waits-chart');"
        " return c && c.data.datasets.some(d => d.label.startsWith('B Kartu Keluarga')"
        " && d.data.some(v => v !== null)); }",
        timeout=20_000,
    )

    # Reset to config.toml: free again on the kiosk.
    board.once("dialog", lambda dialog: dialog.accept())
    board.click("#service-reset")
    expect(board.locator("#flash")).to_have_text(
        "Layanan Kartu Keluarga dikembalikan ke config.toml."
    )
    expect(board.locator("#catalogue-list [data-service=kk] .badge")).to_have_count(0)
    kiosk.locator("#service-grid [data-service=kk]").click()
    expect(kiosk.locator("#standard-fee")).to_have_text("GRATIS")
