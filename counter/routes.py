"""The clerk's counter page."""

from __future__ import annotations

from flask import render_template

from . import bp


@bp.get("/counter")
def page() -> str:
    """The counter desk page (clerk or manager login; ?counter=<id> picks the counter)."""
    return render_template("counter/counter.html")
