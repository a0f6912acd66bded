"""A day's figures for the manager's board, computed from the day's tickets.

Pure functions of (tickets, services, now, time zone) so they are tested
without a server; `today_report(engine)` gathers their inputs, and
satupintu/api/reports.py serves it at GET /api/v1/reports/today.
"""

from __future__ import annotations

from collections import Counter as Tally
from collections import defaultdict
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from .config import Service
from .engine import Engine
from .model import Ticket, TicketStatus
from .shapes import iso


def _mean(values: list[float]) -> int | None:
    return round(sum(values) / len(values)) if values else None


def service_figures(service: Service, tickets: list[Ticket], now: float) -> dict[str, Any]:
    """One service's day: issued, waiting, served, waits (seconds) and whether it is over target."""
    issued = [t for t in tickets if t.origin_service == service.id]
    current = [t for t in tickets if t.service == service.id]
    waiting = [t for t in current if t.status is TicketStatus.WAITING]
    called = [t for t in current if t.called_at]
    done = [t for t in current if t.status is TicketStatus.DONE]
    oldest = min((t.issued_at for t in waiting), default=None)
    longest = round(now - oldest) if oldest is not None else 0
    target_s = service.target_wait_min * 60
    return {
        "id": service.id,
        "issued": len(issued),
        "waiting": len(waiting),
        "served": len(done),
        "no_show": sum(t.status is TicketStatus.NO_SHOW for t in current),
        "cancelled": sum(t.status is TicketStatus.CANCELLED for t in current),
        "expired": sum(t.status is TicketStatus.EXPIRED for t in current),
        "longest_wait_s": longest,
        "oldest_waiting_at": oldest,
        "target_wait_s": target_s,
        "over_target": longest > target_s,
        "mean_wait_s": _mean([t.called_at - t.issued_at for t in called]),
        "mean_service_s": _mean(
            [t.finished_at - t.started_at for t in done if t.started_at and t.finished_at]
        ),
    }


def hourly(
    tickets: list[Ticket], services: list[Service], now: float, tz: ZoneInfo
) -> dict[str, Any]:
    """Per local hour, from the first hour with a ticket to now: tickets issued per service,
    and the mean wait (issue -> call, seconds; None where nobody was called) of the tickets
    called in that hour, per service (where the ticket was called) and for all."""
    hour_of = {t.id: datetime.fromtimestamp(t.issued_at, tz).hour for t in tickets}
    if not tickets:
        return {
            "hours": [],
            "issued": {s.id: [] for s in services},
            "mean_wait_s": {s.id: [] for s in services},
            "mean_wait_all_s": [],
        }
    first = min(hour_of.values())
    last = max(max(hour_of.values()), datetime.fromtimestamp(now, tz).hour)
    hours = list(range(first, last + 1))
    counts = Tally((t.origin_service, hour_of[t.id]) for t in tickets)
    waits: dict[tuple[str, int], list[float]] = defaultdict(list)
    for t in tickets:
        if t.called_at:
            hour = datetime.fromtimestamp(t.called_at, tz).hour
            waits[(t.service, hour)].append(t.called_at - t.issued_at)
            waits[("", hour)].append(t.called_at - t.issued_at)
    return {
        "hours": [f"{h:02d}:00" for h in hours],
        "issued": {s.id: [counts[(s.id, h)] for h in hours] for s in services},
        "mean_wait_s": {s.id: [_mean(waits[(s.id, h)]) for h in hours] for s in services},
        "mean_wait_all_s": [_mean(waits[("", h)]) for h in hours],
    }


def day_report(
    tickets: list[Ticket], services: list[Service], now: float, tz: ZoneInfo, day: str
) -> dict[str, Any]:
    """Everything the board's figures and chart need for one day."""
    figures = [service_figures(s, tickets, now) for s in services]
    for f in figures:
        f["oldest_waiting_at"] = iso(f["oldest_waiting_at"] or 0, tz)
    served = sum(f["served"] for f in figures)
    waits = [t.called_at - t.issued_at for t in tickets if t.called_at]
    return {
        "day": day,
        "generated_at": iso(now, tz),
        "services": figures,
        "totals": {
            "issued": len(tickets),
            "waiting": sum(f["waiting"] for f in figures),
            "served": served,
            "no_show": sum(f["no_show"] for f in figures),
            "expired": sum(f["expired"] for f in figures),
            "mean_wait_s": _mean(waits),
        },
        "alerts": [
            {
                "service": f["id"],
                "longest_wait_s": f["longest_wait_s"],
                "target_wait_s": f["target_wait_s"],
            }
            for f in figures
            if f["over_target"]
        ],
        "hourly": hourly(tickets, services, now, tz),
    }


def today_report(engine: Engine) -> dict[str, Any]:
    """Today's report of the engine's branch, as of the engine's clock, and any store problem."""
    now = engine.clock()
    day = engine.today(now)
    tickets = engine.store.day_tickets(engine.branch, day)
    report = day_report(tickets, list(engine.services()), now, engine.tz, day)
    problem = engine.store.write_problem()
    # Reads still work on a full disk, so the board would look calm while every kiosk
    # gets 503: say so until a write succeeds again.
    report["store_problem"] = (
        None if problem is None else {"since": iso(problem[0], engine.tz), "message": problem[1]}
    )
    return report
