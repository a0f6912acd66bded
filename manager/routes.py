"""The manager's live board (its figures come from GET /api/v1/reports/today)."""

from __future__ import annotations

from flask import render_template

from satupintu import current

from . import bp


@bp.get("/manager")
def page() -> str:
    """The live board (manager login)."""
    return render_template(
        "manager/manager.html",
        kiosks=current.config().kiosks,
        policy=current.config().routing.policy,
    )
