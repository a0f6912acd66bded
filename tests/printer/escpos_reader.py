"""A small ESC/POS reader for tests: bytes back into what a printer would put on paper.

It understands the commands python-escpos sends for a ticket (and the status
queries), and refuses anything else, so a test notices unexpected bytes.
Text lines keep the style they were printed in (size, bold, inverse, align);
QR codes are read from the native store command (GS ( k) or, when sent as a
raster image (GS v 0), decoded from the image with zxing-cpp.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import zxingcpp
from escpos.capabilities import get_profile
from PIL import Image, ImageOps

ESC, GS, DLE, LF, CR = 0x1B, 0x1D, 0x10, 0x0A, 0x0D
ALIGN = {0: "left", 1: "center", 2: "right", 48: "left", 49: "center", 50: "right"}
PYTHON_CODECS = {"CP437": "cp437", "CP850": "cp850", "CP858": "cp858", "CP1252": "cp1252"}


@dataclass(frozen=True)
class Printed:
    """One line of text as printed."""

    text: str
    width: int = 1
    height: int = 1
    bold: bool = False
    invert: bool = False
    align: str = "left"

    @property
    def size(self) -> int:
        return max(self.width, self.height)


@dataclass
class Receipt:
    lines: list[Printed] = field(default_factory=list)
    qr: list[str] = field(default_factory=list)  # payloads, in print order
    qr_native: list[bool] = field(default_factory=list)
    images: list[Image.Image] = field(default_factory=list)
    cuts: list[str] = field(default_factory=list)  # "full" / "partial"
    codepages: list[int] = field(default_factory=list)  # ESC t arguments, in order
    status_queries: list[bytes] = field(default_factory=list)
    inits: int = 0
    feeds: int = 0  # blank lines fed (ESC d n, empty LF)
    order: list[str] = field(default_factory=list)  # "text:<..>", "qr", "cut", ...

    @property
    def texts(self) -> list[str]:
        return [line.text for line in self.lines]

    @property
    def text(self) -> str:
        return "\n".join(self.texts)

    def line(self, contains: str) -> Printed:
        """The first printed line containing `contains`."""
        for line in self.lines:
            if contains in line.text:
                return line
        raise AssertionError(f"no printed line contains {contains!r}; printed:\n{self.text}")


class _State:
    def __init__(self) -> None:
        self.reset()

    def reset(self) -> None:
        self.width = self.height = 1
        self.bold = self.invert = False
        self.align = "left"


def read(data: bytes, profile: str = "TM-T20II") -> Receipt:
    """Parse ESC/POS `data` as printed by a printer with python-escpos profile `profile`."""
    codepage_names = get_profile(profile).codePages  # slot -> name
    receipt = Receipt()
    state = _State()
    codec = "cp437"
    buf = bytearray()
    line_style: tuple | None = None
    i = 0
    n = len(data)

    def need(count: int) -> bytes:
        if i + count > n:
            raise ValueError(f"truncated command at byte {i}: {data[i : i + 8]!r}")
        return data[i : i + count]

    def flush(newline: bool) -> None:
        nonlocal buf, line_style
        if buf:
            w, h, bold, inv, align = line_style or _style(state)
            text = bytes(buf).decode(codec)
            receipt.lines.append(Printed(text, w, h, bold, inv, align))
            receipt.order.append(f"text:{text}")
        elif newline:
            receipt.feeds += 1
        buf = bytearray()
        line_style = None

    while i < n:
        b = data[i]
        if b == LF:
            flush(True)
            i += 1
        elif b == CR:
            i += 1
        elif b == ESC:
            cmd = need(2)[1]
            if cmd == ord("@"):
                flush(False)
                state.reset()
                receipt.inits += 1
                i += 2
            elif cmd == ord("t"):
                slot = need(3)[2]
                receipt.codepages.append(slot)
                name = codepage_names.get(str(slot)) or codepage_names.get(slot)
                if name not in PYTHON_CODECS:
                    raise ValueError(f"code page slot {slot} ({name}) not understood")
                codec = PYTHON_CODECS[name]
                i += 3
            elif cmd == ord("!"):
                mode = need(3)[2]
                state.width = 2 if mode & 0x20 else 1
                state.height = 2 if mode & 0x10 else 1
                state.bold = bool(mode & 0x08)
                i += 3
            elif cmd == ord("E"):
                state.bold = bool(need(3)[2] & 1)
                i += 3
            elif cmd == ord("a"):
                state.align = ALIGN[need(3)[2]]
                i += 3
            elif cmd in (ord("-"), ord("M"), ord("{"), ord("3"), ord("J")):
                i += 3
            elif cmd == ord("2"):
                i += 2
            elif cmd == ord("d"):
                flush(False)
                receipt.feeds += need(3)[2]
                i += 3
            else:
                raise ValueError(f"unknown ESC command {data[i : i + 3]!r} at byte {i}")
        elif b == GS:
            cmd = need(2)[1]
            if cmd == ord("!"):
                size = need(3)[2]
                state.width = (size >> 4) + 1
                state.height = (size & 0x0F) + 1
                i += 3
            elif cmd == ord("B"):
                state.invert = bool(need(3)[2] & 1)
                i += 3
            elif cmd == ord("b"):
                i += 3
            elif cmd == ord("V"):
                flush(False)
                mode = need(3)[2]
                receipt.cuts.append("full" if mode in (0, 48, 65, 97) else "partial")
                receipt.order.append("cut")
                i += 4 if mode >= 65 else 3
            elif cmd == ord("(") and need(3)[2] == ord("k"):
                head = need(5)
                length = head[3] | head[4] << 8
                body = need(5 + length)[5:]
                cn, fn = body[0], body[1]
                if cn == ord("1") and fn == ord("P"):
                    flush(False)
                    receipt.qr.append(body[3:].decode("utf-8"))
                    receipt.qr_native.append(True)
                    receipt.order.append("qr")
                i += 5 + length
            elif cmd == ord("v") and need(3)[2] == ord("0"):
                flush(False)
                head = need(8)
                width_bytes = head[4] | head[5] << 8
                height = head[6] | head[7] << 8
                raster = need(8 + width_bytes * height)[8:]
                image = _raster_image(raster, width_bytes, height)
                receipt.images.append(image)
                payloads = _decode_qr(image)
                receipt.qr.extend(payloads)
                receipt.qr_native.extend(False for _ in payloads)
                receipt.order.append("qr" if payloads else "image")
                i += 8 + width_bytes * height
            elif cmd == ord("r"):
                receipt.status_queries.append(need(3))
                i += 3
            else:
                raise ValueError(f"unknown GS command {data[i : i + 3]!r} at byte {i}")
        elif b == DLE:
            query = need(3)
            if query[1] != 0x04:
                raise ValueError(f"unknown DLE command {query!r} at byte {i}")
            receipt.status_queries.append(query)
            i += 3
        elif b < 0x20:
            raise ValueError(f"unexpected control byte {b:#04x} at byte {i}")
        else:
            if not buf:
                line_style = _style(state)
            buf.append(b)
            i += 1
    flush(False)
    return receipt


def _style(state: _State) -> tuple:
    return (state.width, state.height, state.bold, state.invert, state.align)


def _raster_image(raster: bytes, width_bytes: int, height: int) -> Image.Image:
    """A GS v 0 bitmap (1 = black dot) as a greyscale image, black on white."""
    image = Image.frombytes("1", (width_bytes * 8, height), bytes(raster))
    return ImageOps.invert(image.convert("L"))


def _decode_qr(image: Image.Image) -> list[str]:
    # python-escpos draws the code with a one-module border: add a quiet zone.
    padded = ImageOps.expand(image, border=40, fill=255)
    return [r.text for r in zxingcpp.read_barcodes(padded)]
