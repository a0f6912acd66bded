"""The manager's live board and today's figures (GET /api/v1/reports/today)."""

from __future__ import annotations

from typing import Any

from flask import current_app, render_template

from satupintu.auth import require

from . import bp
from .report import day_report


@bp.get("/manager")
def page() -> str:
    """The live board (manager login)."""
    return render_template("manager/manager.html")


@bp.get("/api/v1/reports/today")
@require("manager")
def report_today() -> dict[str, Any]:
    """Today's figures per service, alerts for waits over target, tickets per hour (manager)."""
    engine = current_app.extensions["satupintu.engine"]
    now = engine.clock()
    day = engine.today(now)
    tickets = engine.store.day_tickets(engine.branch, day)
    return day_report(tickets, list(engine.services()), now, engine.tz, day)
