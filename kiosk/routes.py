"""Kiosk pages: one page that walks the citizen from service to ticket."""

from __future__ import annotations

from flask import render_template

from satupintu.model import PRIORITY_GROUPS

from . import bp


@bp.get("/kiosk")
def page() -> str:
    """The touch-screen kiosk (needs a kiosk or manager login once on the device)."""
    return render_template("kiosk/kiosk.html", priority_groups=PRIORITY_GROUPS)
