"""What a printer's status bytes mean, and the failure a transport raises.

The states themselves (PrinterState) and the stored status (PrinterStatus) are
records of the core: satupintu/printjobs.py.
"""

from __future__ import annotations

from satupintu.printjobs import PrinterState

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


class PrintFailed(Exception):
    """The ticket was not printed; `state` says why."""

    def __init__(self, state: PrinterState, detail: str):
        super().__init__(f"{state.value}: {detail}")
        self.state = state
        self.detail = detail
