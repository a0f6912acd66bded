"""Printer states, what the printer's status bytes mean, and what people are told.

A printer is in one state: ok, paper_near_end (a warning: it still prints),
paper_out, cover_open, offline or error. The last four mean a ticket was not
printed: the kiosk shows it on screen and managers get an alert.
"""

from __future__ import annotations

import time
from dataclasses import asdict, dataclass, field
from enum import StrEnum
from typing import Any


class PrinterState(StrEnum):
    OK = "ok"
    PAPER_NEAR_END = "paper_near_end"
    PAPER_OUT = "paper_out"
    COVER_OPEN = "cover_open"
    OFFLINE = "offline"
    ERROR = "error"

    @property
    def prints(self) -> bool:
        """True if a ticket gets printed in this state."""
        return self in (PrinterState.OK, PrinterState.PAPER_NEAR_END)


# What a manager (and the kiosk screen) is told, Indonesian first.
MESSAGES = {
    PrinterState.OK: ("Printer siap", "Printer ready"),
    PrinterState.PAPER_NEAR_END: ("Kertas printer hampir habis", "Printer paper nearly out"),
    PrinterState.PAPER_OUT: ("Kertas printer habis", "Printer out of paper"),
    PrinterState.COVER_OPEN: ("Tutup printer terbuka", "Printer cover open"),
    PrinterState.OFFLINE: ("Printer tidak terhubung", "Printer unreachable"),
    PrinterState.ERROR: ("Printer bermasalah", "Printer error"),
}

# DLE EOT answers (Epson ESC/POS; most clones follow it).
OFFLINE_BIT = 0x08  # DLE EOT 1: printer offline
COVER_OPEN_BIT = 0x04  # DLE EOT 2: cover open
PAPER_STOP_BIT = 0x20  # DLE EOT 2: printing stopped by paper end
ERROR_BIT = 0x40  # DLE EOT 2: error
NEAR_END_BITS = 0x0C  # DLE EOT 4: roll near-end sensor
PAPER_END_BITS = 0x60  # DLE EOT 4: roll end sensor


def state_from_status(printer: int, offline_cause: int | None, paper: int) -> PrinterState:
    """The state from the answers to DLE EOT 1, 2 (asked only when offline) and 4."""
    if paper & PAPER_END_BITS == PAPER_END_BITS:
        return PrinterState.PAPER_OUT
    if printer & OFFLINE_BIT:
        cause = offline_cause or 0
        if cause & COVER_OPEN_BIT:
            return PrinterState.COVER_OPEN
        if cause & PAPER_STOP_BIT:
            return PrinterState.PAPER_OUT
        return PrinterState.ERROR
    if paper & NEAR_END_BITS == NEAR_END_BITS:
        return PrinterState.PAPER_NEAR_END
    return PrinterState.OK


@dataclass
class PrinterStatus:
    """What managers see of one kiosk's printer."""

    kiosk: str
    state: PrinterState = PrinterState.OK
    detail: str = ""  # the last error, in words
    since: float = field(default_factory=time.time)  # when the state began
    updated: float = field(default_factory=time.time)
    printer: str = ""  # which printer (PrinterSettings.describe)
    seen: float = 0.0  # when the kiosk's print agent was last heard from (agent printers)

    @property
    def alert(self) -> bool:
        return not self.state.prints

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["state"] = self.state.value
        data["alert"] = self.alert
        data["warning"] = self.state is PrinterState.PAPER_NEAR_END
        data["message"], data["message_en"] = MESSAGES[self.state]
        return data

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> PrinterStatus:
        return cls(
            kiosk=str(data["kiosk"]),
            state=PrinterState(data.get("state") or "ok"),
            detail=str(data.get("detail") or ""),
            since=float(data.get("since") or 0),
            updated=float(data.get("updated") or 0),
            printer=str(data.get("printer") or ""),
            seen=float(data.get("seen") or 0),
        )


class PrintFailed(Exception):
    """The ticket was not printed; `state` says why."""

    def __init__(self, state: PrinterState, detail: str):
        super().__init__(f"{state.value}: {detail}")
        self.state = state
        self.detail = detail
