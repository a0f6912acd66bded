"""Today's figures for the manager's board (computed by satupintu/report.py)."""

from __future__ import annotations

from typing import Any

from ..auth import require
from ..report import today_report
from . import api_doc, bp, engine
from .schemas import ReportOut


@bp.get("/reports/today")
@require("manager")
@bp.output(ReportOut)
@api_doc("Today's figures", tag="Reports", auth=True)
def report_today() -> dict[str, Any]:
    """Per service: issued, waiting, served, waits against the target; totals, alerts for
    waits over target, and tickets and mean waits per hour."""
    return today_report(engine())
