"""JSON shapes of tickets, counters and calls as the API and events send them (no personal data)."""

from __future__ import annotations

from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from .model import Call, Counter, Ticket, counter_actions


def iso(ts: float, tz: ZoneInfo) -> str | None:
    """Epoch seconds as local ISO 8601 with offset; None for 0 (never happened)."""
    if not ts:
        return None
    return datetime.fromtimestamp(ts, tz).isoformat(timespec="seconds")


def ticket_json(t: Ticket, tz: ZoneInfo, counter_name: str = "") -> dict[str, Any]:
    """A ticket as clients see it; times local ISO 8601."""
    return {
        "id": t.id,
        "number": t.number,
        "service": t.service,
        "origin_service": t.origin_service,
        "priority": t.priority or None,
        "status": t.status.value,
        "counter": t.counter or None,
        "counter_name": counter_name or None,
        "recalls": t.recalls,
        "issued_at": iso(t.issued_at, tz),
        "called_at": iso(t.called_at, tz),
        "started_at": iso(t.started_at, tz),
        "finished_at": iso(t.finished_at, tz),
        "day": t.day,
        # Its place in its service's line (priority first, then sort key): a phone
        # follows its people-ahead count from the line_changed moves (fanout.py).
        "place": [0 if t.is_priority else 1, t.sort_key],
    }


def counter_json(c: Counter, current: Ticket | None, tz: ZoneInfo, staff: bool) -> dict[str, Any]:
    """A counter with its current ticket and what may be done there; `staff` adds the clerk."""
    view: dict[str, Any] = {
        "id": c.id,
        "name": c.name,
        "state": c.state.value,
        "services": [{"id": s, "weight": w} for s, w in c.services],
        "current": ticket_json(current, tz, c.name) if current else None,
        "actions": counter_actions(c, current.status if current else None),
    }
    if staff:
        view["clerk"] = c.clerk or None
    return view


def call_json(call: Call, tz: ZoneInfo) -> dict[str, Any]:
    """One call or recall, for the displays' recent calls."""
    return {
        "ticket": call.ticket,
        "number": call.number,
        "service": call.service,
        "counter": call.counter,
        "counter_name": call.counter_name,
        "recall": call.recall,
        "at": iso(call.at, tz),
    }
