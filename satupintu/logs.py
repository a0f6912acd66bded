"""Logging: level and format from `[log]`, one access line per request, one line per change.

Access lines name the route template (`GET /api/v1/tickets/<ticket_id> 200
3.1 ms`), never the URL, so a citizen's ticket id (or anything typed into a
path) never reaches the log. State changes are logged by event name, seq,
ticket number (what the hall hears anyway), service, counter and status.
"""

from __future__ import annotations

import json
import logging
import sys
import time
from typing import Any

from . import events as ev

ACCESS = logging.getLogger("satupintu.access")
CHANGES = logging.getLogger("satupintu.events")

# Fields that access and change lines carry for the JSON format (`extra=`).
FIELDS = (
    "method",
    "route",
    "status",
    "ms",
    "event",
    "seq",
    "number",
    "service",
    "counter",
    "state",
)


class JsonFormatter(logging.Formatter):
    """One JSON object per line: ts, level, logger, message and the line's fields."""

    def format(self, record: logging.LogRecord) -> str:
        body: dict[str, Any] = {
            "ts": time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(record.created))
            + f".{int(record.msecs):03d}Z",
            "level": record.levelname.lower(),
            "logger": record.name,
            "message": record.getMessage(),
        }
        for name in FIELDS:
            if hasattr(record, name):
                body[name] = getattr(record, name)
        if record.exc_info:
            body["exception"] = self.formatException(record.exc_info)
        return json.dumps(body, ensure_ascii=False)


def _replaced(handler: logging.Handler) -> bool:
    """Ours from an earlier call, or the stderr handler of a bare `logging.basicConfig()`.

    python-escpos calls `logging.basicConfig()` when imported, which would print
    every line a second time as `INFO:name:message`.
    """
    if getattr(handler, "_satupintu", False):
        return True
    formatter = handler.formatter
    return (
        type(handler) is logging.StreamHandler
        and formatter is not None
        and formatter._fmt == logging.BASIC_FORMAT
    )


def configure(level: str, fmt: str) -> None:
    """Send every log line to stderr (journald under systemd) at `level`, text or JSON."""
    handler = logging.StreamHandler(sys.stderr)
    if fmt == "json":
        handler.setFormatter(JsonFormatter())
    else:
        handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    root = logging.getLogger()
    for old in [h for h in root.handlers if _replaced(h)]:
        root.removeHandler(old)
    handler._satupintu = True  # type: ignore[attr-defined]
    root.addHandler(handler)
    root.setLevel(level.upper())


def access(method: str, route: str, status: int, ms: float) -> None:
    """One line for one request (route template, never the URL)."""
    ACCESS.info(
        "%s %s %d %.1f ms",
        method,
        route,
        status,
        ms,
        extra={"method": method, "route": route, "status": status, "ms": round(ms, 1)},
    )


def on_events(events: list[ev.Event]) -> None:
    """Engine listener: one info line per state change (queue counts only at debug)."""
    for event in events:
        ticket = event.data.get("ticket")
        counter = event.data.get("counter")
        if isinstance(ticket, dict):
            fields = {
                "event": event.name,
                "seq": event.seq,
                "number": ticket.get("number"),
                "service": ticket.get("service"),
                "counter": ticket.get("counter") or "",
                "state": ticket.get("status"),
            }
            CHANGES.info(
                "%s seq=%d %s service=%s status=%s counter=%s%s",
                event.name,
                event.seq,
                fields["number"],
                fields["service"],
                fields["state"],
                fields["counter"] or "-",
                " (recall)" if event.data.get("recall") else "",
                extra=fields,
            )
        elif isinstance(counter, dict):
            fields = {
                "event": event.name,
                "seq": event.seq,
                "counter": counter.get("id"),
                "state": counter.get("state"),
            }
            CHANGES.info(
                "%s seq=%d counter=%s state=%s",
                event.name,
                event.seq,
                fields["counter"],
                fields["state"],
                extra=fields,
            )
        elif event.name == ev.CATALOGUE_UPDATED:
            CHANGES.info(
                "%s seq=%d service=%s",
                event.name,
                event.seq,
                event.data.get("service"),
                extra={"event": event.name, "seq": event.seq, "service": event.data.get("service")},
            )
        else:
            CHANGES.debug(
                "%s seq=%d", event.name, event.seq, extra={"event": event.name, "seq": event.seq}
            )
