"""Print jobs and printer statuses: the records the store keeps for ticket printing.

A job is the rendered ticket for one kiosk's printer. It stays `pending` until
the printer (the server's worker, or the kiosk's print agent) reports it
`printed` or `failed`; pending jobs older than the printer's job_ttl are
`expired` rather than printed late (by then the kiosk has shown the ticket on
screen). A printer is in one state: ok, paper_near_end (a warning: it still
prints), paper_out, cover_open, offline or error. The last four mean a ticket
was not printed: the kiosk shows it on screen and managers get an alert.

The `printer` package renders, sends and reports; these plain records are all
the store (and the core) know of printing.
"""

from __future__ import annotations

import secrets
import time
from dataclasses import asdict, dataclass, field
from enum import StrEnum
from typing import TYPE_CHECKING, Any, Protocol

if TYPE_CHECKING:
    from .model import Ticket

JOB_TTL_S = 2 * 24 * 3600  # finished jobs are kept two days (reprints, support questions)


class JobState(StrEnum):
    PENDING = "pending"
    PRINTED = "printed"
    FAILED = "failed"
    EXPIRED = "expired"


@dataclass(frozen=True)
class PrintJob:
    """One ticket to print on one kiosk's printer; payload is base64 ESC/POS."""

    id: str
    kiosk: str
    ticket: str
    payload: str
    created: float
    attempts: int = 0
    state: JobState = JobState.PENDING
    acked: float = 0.0  # when it was reported printed, failed or expired
    detail: str = ""

    @staticmethod
    def new_id() -> str:
        """A fresh unguessable job id."""
        return secrets.token_urlsafe(9)

    def to_record(self) -> dict[str, str]:
        """The job as flat strings (a Redis hash, SQLite columns)."""
        return {k: str(v.value if isinstance(v, JobState) else v) for k, v in asdict(self).items()}

    @classmethod
    def from_record(cls, rec: dict[str, Any]) -> PrintJob:
        """The job from `to_record`'s fields (or a database row)."""
        return cls(
            id=rec["id"],
            kiosk=rec["kiosk"],
            ticket=rec["ticket"],
            payload=rec["payload"],
            created=float(rec["created"]),
            attempts=int(rec["attempts"]),
            state=JobState(rec["state"]),
            acked=float(rec["acked"] or 0),
            detail=rec["detail"] or "",
        )

    def message(self) -> dict[str, Any]:
        """What the print agent receives."""
        return {
            "id": self.id,
            "kiosk": self.kiosk,
            "ticket": self.ticket,
            "payload": self.payload,
            "created": self.created,
            "attempts": self.attempts,
        }


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


# A printer's state in words, Indonesian first: the one wording of the API's
# message/message_en, the CLI and the staff pages (pages.staff_strings).
MESSAGES = {
    PrinterState.OK: ("Siap", "Ready"),
    PrinterState.PAPER_NEAR_END: ("Kertas hampir habis", "Paper nearly out"),
    PrinterState.PAPER_OUT: ("Kertas habis", "Out of paper"),
    PrinterState.COVER_OPEN: ("Tutup printer terbuka", "Printer cover open"),
    PrinterState.OFFLINE: ("Tidak terhubung", "Unreachable"),
    PrinterState.ERROR: ("Bermasalah", "Error"),
}


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

    def to_record(self) -> dict[str, Any]:
        """The stored fields (state as its value)."""
        data = asdict(self)
        data["state"] = self.state.value
        return data

    def to_dict(self) -> dict[str, Any]:
        """The status as managers' pages show it: stored fields, alert, warning, message."""
        data = self.to_record()
        data["alert"] = self.alert
        data["warning"] = self.state is PrinterState.PAPER_NEAR_END
        data["message"], data["message_en"] = MESSAGES[self.state]
        return data

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> PrinterStatus:
        """The status from `to_record`'s fields (strings from Redis, a database row)."""
        return cls(
            kiosk=str(data["kiosk"]),
            state=PrinterState(data.get("state") or "ok"),
            detail=str(data.get("detail") or ""),
            since=float(data.get("since") or 0),
            updated=float(data.get("updated") or 0),
            printer=str(data.get("printer") or ""),
            seen=float(data.get("seen") or 0),
        )


class TicketPrinter(Protocol):
    """What the core asks of printing (printer.PrintService; create_app registers it)."""

    def print_issued(
        self, ticket: Ticket, people_ahead: int, wait: int | None, base_url: str = ""
    ) -> dict[str, Any] | None:
        """Queue the first print of a ticket just issued; what the kiosk is told (PrintOut),
        or None when no kiosk printer is involved. Never raises.
        """

    def print_replayed(
        self, ticket: Ticket, people_ahead: int, wait: int | None, base_url: str = ""
    ) -> dict[str, Any] | None:
        """The print of a ticket issued again by its Idempotency-Key: its state, or queued
        now if the first request died before its print was (the kiosk never got the ticket).
        """
