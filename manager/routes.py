"""The manager's live board and today's figures (GET /api/v1/reports/today)."""

from __future__ import annotations

from typing import Any

from flask import current_app, render_template

from satupintu.auth import require
from satupintu.views import iso

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
    report = day_report(tickets, list(engine.services()), now, engine.tz, day)
    problem = engine.store.write_problem()
    # Reads still work on a full disk, so the board would look calm while every kiosk
    # gets 503: say so until a write succeeds again.
    report["store_problem"] = None if problem is None else {
        "since": iso(problem[0], engine.tz), "message": problem[1]}
    return report
