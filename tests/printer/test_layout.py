"""The printed ticket, read back from the ESC/POS bytes: 80 mm and 58 mm, text, QR, cut."""

from __future__ import annotations

import io
from dataclasses import replace
from datetime import datetime
from zoneinfo import ZoneInfo

import pytest
import zxingcpp
from escpos.printer import Dummy
from PIL import Image

from printer import layout, preview
from printer.layout import Paper, PrintedTicket, indonesian_datetime, render, sanitize, wait_text
from tests.printer.escpos_reader import read

BASE = "https://antrean.kebonjeruk.example"
TICKET = PrintedTicket(
    id="k7m2p9x4q8rt",
    number="A012",
    people_ahead=3,
    estimated_wait_s=1500,
    issued_at=datetime(2026, 11, 27, 9, 15, tzinfo=ZoneInfo("Asia/Jakarta")),
    url="/t/k7m2p9x4q8rt",
)
URL = f"{BASE}/t/k7m2p9x4q8rt"


def printed(config, profile="TM-T20II", ticket=None, service="ktp", office=None):
    data = render(
        ticket or TICKET, config.service(service), office or config.office, profile, base_url=BASE
    )
    return read(data, profile)


@pytest.mark.parametrize("profile, columns", [("TM-T20II", 48), ("POS-5890", 32)])
def test_ticket_says_everything_and_fits_the_paper(config, profile, columns):
    r = printed(config, profile)
    assert r.lines[0].text == "PTSP KECAMATAN KEBON JERUK" and r.lines[0].bold
    assert r.line("KTP-el").size == 2
    number = r.line("A012")
    assert number.text == "A012"
    assert number.size == max(line.size for line in r.lines) > 2, "number in the largest type"
    assert r.line("Jumat, 27 November 2026 09.15")
    assert r.line("Di depan Anda: 3 orang")
    assert r.line("sekitar 25 menit")
    assert "PRIORITAS" not in r.text
    assert r.line("Layanan ini GRATIS").bold
    assert r.line("Waktu penyelesaian: 15 menit")
    assert r.line("Halo Dukcapil 1500537")
    assert "Simpan tiket ini" in r.text  # footer from office.ticket_footer
    assert r.qr == [URL]
    assert "".join(t for t in r.texts if not t.startswith("-")).count("/t/k7m2p9x4q8rt") == 1
    for line in r.lines:
        assert len(line.text) * line.width <= columns, line
        assert line.align == "center"


def test_80mm_has_native_qr_and_cuts_last(config):
    r = printed(config, "TM-T20II")
    assert r.qr_native == [True]
    assert r.cuts == ["full"]
    assert r.order[-1] == "cut"
    assert r.order.index("qr") < r.order.index("text:Layanan ini GRATIS")
    assert r.inits == 1 and r.codepages == [0]  # one explicit code page, never switched


def test_58mm_prints_qr_as_image_and_feeds_without_cutter(config):
    paper = Paper.for_profile("POS-5890")
    assert not paper.native_qr and not paper.cutter
    r = printed(config, "POS-5890")
    assert r.qr_native == [False] and len(r.images) == 1
    assert r.images[0].width <= 384
    assert r.cuts == []  # no cutter: the paper is fed past the tear bar instead
    assert r.feeds >= 6
    assert r.codepages == [52]  # CP437's slot in this profile


def test_priority_mark_is_inverted(config):
    r = printed(config, ticket=replace(TICKET, priority="ibu_hamil"))
    mark = r.line("PRIORITAS")
    assert mark.text == "PRIORITAS: IBU HAMIL"
    assert mark.invert and mark.bold
    # inverse printing is switched off again for what follows
    assert not r.line("Jumat").invert


def test_fee_line_when_not_free(config):
    r = printed(config, service="pbg")
    assert "GRATIS" not in r.text
    assert r.line("Biaya: Retribusi PBG sesuai Perda DKI 1/2024").bold
    assert r.line("Waktu penyelesaian: Sesuai tahapan SIMBG")
    assert r.line("Pengaduan: Tanya PTSP 1500164")


def test_long_label_and_value_split_on_58mm(config):
    r = printed(config, "POS-5890", service="pbg")
    label = r.texts.index("Waktu penyelesaian:")
    assert r.texts[label + 1] == "Sesuai tahapan SIMBG"
    assert r.texts[r.texts.index("Biaya:") + 1] == "Retribusi PBG sesuai Perda DKI"


def test_nobody_ahead(config):
    r = printed(config, ticket=replace(TICKET, people_ahead=0, estimated_wait_s=0))
    assert r.line("Tidak ada antrean di depan Anda")
    assert "Perkiraan" not in r.text


def test_text_is_kept_to_the_code_page(config):
    office = replace(
        config.office,
        name="Kantor \u201cSatu\u201d \u2014 Łódź café \U0001f600",
        ticket_footer="Don\u2019t\u2026 lose\x1b@ it",
    )
    r = printed(config, office=office)
    assert r.lines[0].text == 'KANTOR "SATU" - LODZ CAFÉ ?'
    assert r.line("Don't... lose@ it")  # ESC removed: text can never become a command
    assert r.codepages == [0], "no code-page switch for stray characters"


def test_sanitize_rules():
    assert sanitize("a\u2013b\u2014c") == "a-b-c"
    assert sanitize("\u2018x\u2019 \u201cy\u201d") == "'x' \"y\""
    assert sanitize("Rp\u00a010.000") == "Rp 10.000"
    assert sanitize("é ñ ü") == "é ñ ü"  # in CP437
    assert sanitize("ő ł") == "o l"  # accented letters missing from the page -> base letter
    assert sanitize("\u263a \u20b9") == "? ?"  # anything else
    assert sanitize("日本") == "??"


def test_indonesian_names():
    jkt = ZoneInfo("Asia/Jakarta")
    assert (
        indonesian_datetime(datetime(2026, 11, 27, 9, 15, tzinfo=jkt))
        == "Jumat, 27 November 2026 09.15"
    )
    assert indonesian_datetime(datetime(2025, 12, 2, 14, 5)) == "Selasa, 2 Desember 2025 14.05"
    assert indonesian_datetime(datetime(2026, 8, 17, 7, 0)) == "Senin, 17 Agustus 2026 07.00"
    assert wait_text(20) == "kurang dari 1 menit"
    assert wait_text(1500) == "sekitar 25 menit"
    assert wait_text(3900) == "sekitar 1 jam 5 menit"
    assert wait_text(None) == ""


def test_writes_on_an_injected_printer(config):
    dummy = Dummy(profile="TM-T20II")
    paper = Paper.for_profile("TM-T20II")
    layout.write_escpos(
        dummy, layout.ticket_blocks(TICKET, config.service("kk"), config.office, paper, BASE), paper
    )
    r = read(dummy.output)
    assert r.line("Kartu Keluarga") and r.qr == [URL]


def test_unknown_profile_is_refused():
    with pytest.raises(ValueError, match="unknown printer profile 'TM-NOPE'"):
        Paper.for_profile("TM-NOPE")


@pytest.mark.parametrize("profile, width", [("TM-T20II", 576), ("POS-5890", 384)])
def test_preview_png_has_paper_width_and_a_readable_qr(config, profile, width):
    png = preview.png_bytes(
        replace(TICKET, priority="lansia"),
        config.service("ktp"),
        config.office,
        profile,
        base_url=BASE,
    )
    image = Image.open(io.BytesIO(png))
    assert image.format == "PNG" and image.width == width
    assert image.height > 600
    assert [r.text for r in zxingcpp.read_barcodes(image.convert("L"))] == [URL]
    # the preview draws the same lines as the printer: as many text rows
    blocks = layout.ticket_blocks(
        TICKET, config.service("ktp"), config.office, Paper.for_profile(profile), BASE
    )
    rules = sum(isinstance(b, layout.Rule) for b in blocks)
    assert sum(isinstance(b, layout.Line) for b in blocks) + rules == len(
        printed(config, profile).lines
    )
