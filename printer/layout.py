"""The ticket layout: one list of blocks, written as ESC/POS (here) or drawn as a PNG (preview).

`PrintedTicket` is what a ticket says on paper (built once from the ticket in
hand); `ticket_blocks` lays it out; `write_escpos` puts the blocks on
any python-escpos printer (tests pass `Dummy`); `render` does both and returns
the bytes a printer receives. Every text goes through `sanitize` first, so
what is printed (and previewed) is exactly what the code page can print: the
code page is selected once at the start and python-escpos never switches it.
"""

from __future__ import annotations

import textwrap
import unicodedata
from dataclasses import dataclass
from datetime import datetime
from urllib.parse import urljoin

from escpos.capabilities import CAPABILITIES, get_profile
from escpos.constants import QR_ECLEVEL_M
from escpos.escpos import Escpos
from escpos.printer import Dummy

from satupintu.config import Office, Service
from satupintu.printer_settings import PAPERS

CODEPAGE = "CP437"  # slot 0 after ESC @ on nearly every printer; has the Latin letters we need
FONT_A_DOTS = (12, 24)  # width, height of one Font A character in dots
QR_MODULE_DOTS = 6
NUMBER_MAX_SIZE = 6

DAYS = ("Senin", "Selasa", "Rabu", "Kamis", "Jumat", "Sabtu", "Minggu")
MONTHS = (
    "Januari",
    "Februari",
    "Maret",
    "April",
    "Mei",
    "Juni",
    "Juli",
    "Agustus",
    "September",
    "Oktober",
    "November",
    "Desember",
)
PRIORITY_LABELS = {
    "lansia": "Lansia",
    "disabilitas": "Penyandang Disabilitas",
    "ibu_hamil": "Ibu Hamil",
    "anak": "Membawa Anak",
}

# Typographic characters that would make python-escpos switch code pages (or
# print "?"): replaced by what a receipt printer has.
REPLACEMENTS = {
    "\u2010": "-",
    "\u2011": "-",
    "\u2012": "-",
    "\u2013": "-",
    "\u2014": "-",
    "\u2015": "-",
    "\u2212": "-",
    "\u2018": "'",
    "\u2019": "'",
    "\u201a": "'",
    "\u201b": "'",
    "\u2032": "'",
    "\u201c": '"',
    "\u201d": '"',
    "\u201e": '"',
    "\u201f": '"',
    "\u2033": '"',
    "\u2026": "...",
    "\u2022": "*",
    "\u00a0": " ",
    "\u2007": " ",
    "\u2009": " ",
    "\u202f": " ",
    "\u200b": "",
    "\ufeff": "",
    "\u20ac": "EUR",
    "\u2122": "TM",
    "\u00a9": "(C)",
    "\u00ae": "(R)",
    "\t": " ",
    "\n": " ",
    "\r": "",
    # Latin letters without a decomposition (NFKD keeps them whole)
    "\u0141": "L",
    "\u0142": "l",
    "\u0110": "D",
    "\u0111": "d",
    "\u00d8": "O",
    "\u00f8": "o",
    "\u0152": "OE",
    "\u0153": "oe",
}


@dataclass(frozen=True)
class PrintedTicket:
    """What one ticket says on paper; `issued_at` in the office's time zone."""

    id: str
    number: str
    issued_at: datetime
    priority: str = ""
    people_ahead: int = 0
    estimated_wait_s: int | None = None
    url: str = ""  # the citizen's page; relative ones are joined to the base URL
    reprint: bool = False


@dataclass(frozen=True)
class Paper:
    """What the layout needs to know about a printer model (from its python-escpos profile)."""

    profile: str
    columns: int  # Font A characters per line
    dots: int  # printable width in dots
    native_qr: bool
    cutter: bool
    codepage: str = CODEPAGE

    @classmethod
    def for_profile(cls, name: str) -> Paper:
        """The paper of a python-escpos profile name; ValueError if unknown."""
        if name not in CAPABILITIES["profiles"]:
            raise ValueError(f"unknown printer profile {name!r}")
        profile = get_profile(name)
        columns = int(profile.get_columns(0))
        pixels = profile.profile_data.get("media", {}).get("width", {}).get("pixels")
        dots = pixels if isinstance(pixels, int) else columns * FONT_A_DOTS[0]
        codepages = profile.get_code_pages()
        if CODEPAGE not in codepages:
            raise ValueError(f"printer profile {name!r} has no {CODEPAGE} code page")
        return cls(
            profile=name,
            columns=columns,
            dots=min(dots, columns * FONT_A_DOTS[0]),
            native_qr=bool(profile.supports("qrCode")),
            cutter=bool(profile.supports("paperFullCut") or profile.supports("paperPartCut")),
        )


@dataclass(frozen=True)
class Line:
    """One printed line of text; `size` multiplies width and height (1-8)."""

    text: str
    size: int = 1
    bold: bool = False
    invert: bool = False


@dataclass(frozen=True)
class QR:
    data: str
    module: int = QR_MODULE_DOTS


@dataclass(frozen=True)
class Rule:
    """A full-width dashed line."""


Block = Line | QR | Rule


# -- text -----------------------------------------------------------------------


def sanitize(text: str, codec: str = CODEPAGE.lower()) -> str:
    """`text` reduced to what the code page prints: dashes, quotes -> ASCII, accents dropped
    when missing, anything else "?", control characters removed (they are printer commands).
    """
    out = []
    for ch in text:
        if ch in REPLACEMENTS:
            out.append(REPLACEMENTS[ch])
        elif ord(ch) < 0x20 or ord(ch) == 0x7F:
            continue
        elif _encodable(ch, codec):
            out.append(ch)
        else:
            base = "".join(
                c for c in unicodedata.normalize("NFKD", ch) if not unicodedata.combining(c)
            )
            out.append(
                base if base and all(_encodable(c, codec) and ord(c) >= 0x20 for c in base) else "?"
            )
    return "".join(out)


def _encodable(ch: str, codec: str) -> bool:
    try:
        ch.encode(codec)
    except UnicodeEncodeError:
        return False
    return True


def indonesian_datetime(when: datetime) -> str:
    """'Jumat, 27 November 2026 09.15' (Indonesian names and time style, no locale needed)."""
    return (
        f"{DAYS[when.weekday()]}, {when.day} {MONTHS[when.month - 1]} {when.year} "
        f"{when.hour:02d}.{when.minute:02d}"
    )


def wait_text(seconds: int | float | None) -> str:
    """An estimated wait in words: 'sekitar 25 menit', '1 jam 5 menit', ..."""
    if seconds is None:
        return ""
    minutes = round(seconds / 60)
    if minutes < 1:
        return "kurang dari 1 menit"
    hours, minutes = divmod(minutes, 60)
    parts = ([f"{hours} jam"] if hours else []) + ([f"{minutes} menit"] if minutes else [])
    return "sekitar " + " ".join(parts)


def ticket_url(ticket: PrintedTicket, base_url: str = "") -> str:
    """The citizen's page of the ticket, absolute when a base URL is known."""
    url = ticket.url or f"/t/{ticket.id}"
    if base_url and not url.startswith(("http://", "https://")):
        url = urljoin(base_url.rstrip("/") + "/", url.lstrip("/"))
    return url


# -- layout ---------------------------------------------------------------------


def ticket_blocks(
    ticket: PrintedTicket, service: Service, office: Office, paper: Paper, base_url: str = ""
) -> list[Block]:
    """What the ticket says, top to bottom, already wrapped and sanitised for `paper`."""
    cols = paper.columns
    blocks: list[Block] = []

    def text(value: str, size: int = 1, bold: bool = False, invert: bool = False) -> None:
        clean = sanitize(value, paper.codepage.lower()).strip()
        width = max(1, cols // size)
        for part in textwrap.wrap(clean, width, break_long_words=True) or [""]:
            blocks.append(Line(part, size, bold, invert))

    def pair(label: str, value: str, bold: bool = False) -> None:
        # "Label: value" on one line where it fits, else the value on its own line(s)
        if len(sanitize(f"{label}: {value}", paper.codepage.lower())) <= cols:
            text(f"{label}: {value}", bold=bold)
        else:
            text(f"{label}:", bold=bold)
            text(value, bold=bold)

    text(office.name.upper(), bold=True)
    if office.address:
        text(office.address)
    blocks.append(Rule())
    text(service.name.id, size=2, bold=True)
    text("Nomor antrean Anda")
    number = ticket.number
    text(number, size=max(1, min(NUMBER_MAX_SIZE, cols // max(4, len(number)))), bold=True)
    if ticket.priority:
        label = PRIORITY_LABELS.get(ticket.priority, ticket.priority)
        text(f" PRIORITAS: {label.upper()} ", bold=True, invert=True)
    text(indonesian_datetime(ticket.issued_at))
    if ticket.reprint:
        text("(cetak ulang)")
    blocks.append(Rule())
    ahead = ticket.people_ahead
    text(f"Di depan Anda: {ahead} orang" if ahead else "Tidak ada antrean di depan Anda")
    wait = wait_text(ticket.estimated_wait_s)
    if wait and ahead:
        pair("Perkiraan menunggu", wait)
    url = ticket_url(ticket, base_url)
    blocks.append(QR(url))
    text("Pindai untuk pantau antrean:")
    text(url)
    blocks.append(Rule())
    standard = service.standard
    if standard.is_free:
        text("Layanan ini GRATIS", bold=True)
    else:
        pair("Biaya", standard.fee, bold=True)
    if standard.processing_time:
        pair("Waktu penyelesaian", standard.processing_time)
    if standard.complaint:
        pair("Pengaduan", standard.complaint)
    if office.ticket_footer:
        blocks.append(Rule())
        text(office.ticket_footer)
    return blocks


def write_escpos(printer: Escpos, blocks: list[Block], paper: Paper) -> None:
    """Write the blocks on a python-escpos printer, then feed and cut (where it can)."""
    printer.hw("INIT")
    # One explicit code page for the whole ticket; force_encoding also stops
    # python-escpos from switching code pages on its own.
    printer.charcode(paper.codepage)
    printer.set(align="center")
    for block in blocks:
        if isinstance(block, Line):
            if block.size > 1:
                printer.set(
                    custom_size=True,
                    width=block.size,
                    height=block.size,
                    bold=block.bold,
                    invert=block.invert,
                )
            else:
                printer.set(normal_textsize=True, bold=block.bold, invert=block.invert)
            printer.textln(block.text)
        elif isinstance(block, Rule):
            printer.set(normal_textsize=True, bold=False, invert=False)
            printer.textln("-" * paper.columns)
        elif isinstance(block, QR):
            if paper.native_qr:
                printer.qr(block.data, ec=QR_ECLEVEL_M, size=block.module, native=True)
                printer.ln()
            else:
                printer.qr(
                    block.data, ec=QR_ECLEVEL_M, size=block.module, native=False, center=True
                )
    printer.set(normal_textsize=True, bold=False, invert=False, align="left")
    printer.cut()  # feeds past the tear bar; no cut command on profiles without a cutter


def paper_for(profile: str | Paper) -> Paper:
    return profile if isinstance(profile, Paper) else Paper.for_profile(profile)


def render(
    ticket: PrintedTicket,
    service: Service,
    office: Office,
    profile: str | Paper = PAPERS["80"],
    base_url: str = "",
) -> bytes:
    """The ESC/POS bytes of one ticket for a printer profile (e.g. 'TM-T20II', 'POS-5890')."""
    paper = paper_for(profile)
    printer = Dummy(profile=paper.profile)
    write_escpos(printer, ticket_blocks(ticket, service, office, paper, base_url), paper)
    return printer.output
